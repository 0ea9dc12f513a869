import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { Browser, Page, chromium } from "playwright-core";

/**
 * Browser specs drive Debian's Chromium (never a downloaded browser) with
 * playwright-core: `.ci/run` installs it with apt-get when it is missing.
 */
export const CHROMIUM = "/usr/bin/chromium";

/** Screenshots and other artifacts of the browser specs (ignored by git). */
export const ARTIFACTS_DIR = path.join(__dirname, "..", "..", "test-artifacts");

/** Fails (does not skip): CI installs Chromium, so a missing one is a broken machine, not an optional spec. */
export function requireChromium(): void {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `the browser specs need Debian's Chromium at ${CHROMIUM}, which is missing: run \`apt-get install chromium\` as root (.ci/run does it)`
    );
  }
}

export async function launchBrowser(): Promise<Browser> {
  requireChromium();
  const root = typeof process.getuid === "function" && process.getuid() === 0;
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Chromium's sandbox refuses to run as root; everyone else keeps it.
    args: root ? ["--no-sandbox"] : []
  });
}

export interface Viewport {
  width: number;
  height: number;
}

export const KIOSK_SCREEN: Viewport = { width: 1024, height: 600 };
export const PHONE_SCREEN: Viewport = { width: 390, height: 844 };

export interface OpenOptions {
  /** Abort every request that is not a file: URL (the page must not need the network). Default true. */
  offline?: boolean;
  /** Run the page's scripts (default true). */
  javaScript?: boolean;
}

export interface OpenedPage {
  page: Page;
  /** URLs the page asked for and was refused (with `offline`). */
  blocked: string[];
  /** Uncaught errors in the page and console errors. */
  errors: string[];
  close(): Promise<void>;
}

/** A fresh context (no shared state between pages) at a viewport, the page loaded. */
export async function openPage(browser: Browser, url: string, viewport: Viewport, o: OpenOptions = {}): Promise<OpenedPage> {
  const context = await browser.newContext({ viewport, javaScriptEnabled: o.javaScript ?? true });
  const blocked: string[] = [];
  const errors: string[] = [];
  if (o.offline ?? true) {
    await context.route(
      (u) => u.protocol !== "file:",
      (route) => {
        blocked.push(route.request().url());
        return route.abort();
      }
    );
  }
  const page = await context.newPage();
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  await page.goto(url, { waitUntil: "load" });
  return { page, blocked, errors, close: () => context.close() };
}

interface AxeNode {
  target: unknown[];
  failureSummary?: string;
}
interface AxeViolation {
  id: string;
  impact?: string | null;
  help: string;
  helpUrl: string;
  nodes: AxeNode[];
}

/** axe-core's own bundle, injected into the page as it is (no network). */
function axeSource(): string {
  return fs.readFileSync(path.join(path.dirname(require.resolve("axe-core")), "axe.min.js"), "utf8");
}

/** Runs axe-core on the page; fails listing every violation of impact serious or critical. Returns the others. */
export async function assertAccessible(page: Page, where: string): Promise<AxeViolation[]> {
  await page.addScriptTag({ content: axeSource() });
  const violations = (await page.evaluate("axe.run(document).then((r) => r.violations)")) as AxeViolation[];
  const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const lines = bad.map(
    (v) =>
      `- ${v.impact} ${v.id}: ${v.help} (${v.helpUrl})\n` +
      v.nodes
        .slice(0, 5)
        .map((n) => `    at ${JSON.stringify(n.target)}${n.failureSummary ? ": " + n.failureSummary.replace(/\s+/g, " ") : ""}`)
        .join("\n")
  );
  assert.equal(
    bad.length,
    0,
    `${where}: axe-core found ${bad.length} serious or critical accessibility violation(s):\n${lines.join("\n")}`
  );
  return violations.filter((v) => !bad.includes(v));
}

export interface DecodedPng {
  width: number;
  height: number;
  /** Bytes per pixel (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA); 8 bits a channel. */
  channels: number;
  /** Unfiltered rows, width × channels bytes each. */
  data: Uint8Array;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** A non-interlaced 8-bit PNG (what Chromium writes), decoded with node:zlib. */
export function decodePng(png: Buffer): DecodedPng {
  assert.ok(png.subarray(0, 8).equals(PNG_SIGNATURE), "not a PNG file");
  let off = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (off + 8 <= png.length) {
    const len = png.readUInt32BE(off);
    const type = png.toString("latin1", off + 4, off + 8);
    const body = png.subarray(off + 8, off + 8 + len);
    if (type === "IHDR") {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const depth = body[8];
      channels = CHANNELS[body[9]] ?? 0;
      assert.ok(
        depth === 8 && channels > 0 && body[12] === 0,
        `unsupported PNG (bit depth ${depth}, colour type ${body[9]}, interlace ${body[12]})`
      );
    } else if (type === "IDAT") idat.push(body);
    else if (type === "IEND") break;
    off += 12 + len;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const data = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? data[row + x - channels] : 0;
      const b = y > 0 ? data[row - stride + x] : 0;
      const c = x >= channels && y > 0 ? data[row - stride + x - channels] : 0;
      const v = raw[src + x];
      let out: number;
      if (filter === 0) out = v;
      else if (filter === 1) out = v + a;
      else if (filter === 2) out = v + b;
      else if (filter === 3) out = v + ((a + b) >> 1);
      else if (filter === 4) out = v + paeth(a, b, c);
      else throw new Error(`PNG row ${y}: unknown filter ${filter}`);
      data[row + x] = out & 0xff;
    }
  }
  return { width, height, channels, data };
}

export interface PixelStats {
  width: number;
  height: number;
  /** Share of pixels that are not the most common colour. */
  notBackground: number;
  /** Standard deviation of the luminance, 0–255. */
  lumaStdDev: number;
  distinctColours: number;
}

export function pixelStats(img: DecodedPng): PixelStats {
  const n = img.width * img.height;
  const counts = new Map<number, number>();
  let sum = 0;
  let sum2 = 0;
  for (let i = 0; i < n; i++) {
    const o = i * img.channels;
    const grey = img.channels < 3;
    const r = img.data[o];
    const g = grey ? r : img.data[o + 1];
    const b = grey ? r : img.data[o + 2];
    const key = (r << 16) | (g << 8) | b;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    const l = 0.299 * r + 0.587 * g + 0.114 * b;
    sum += l;
    sum2 += l * l;
  }
  const mean = sum / n;
  const top = Math.max(...counts.values());
  return {
    width: img.width,
    height: img.height,
    notBackground: 1 - top / n,
    lumaStdDev: Math.sqrt(Math.max(0, sum2 / n - mean * mean)),
    distinctColours: counts.size
  };
}

/** A picture with something on it: a few per cent of its pixels off the background, in more than a handful of colours. */
export function assertNotBlank(s: PixelStats, what: string): void {
  assert.ok(
    s.notBackground > 0.02 && s.distinctColours > 8 && s.lumaStdDev > 4,
    `${what} looks blank: ${(100 * s.notBackground).toFixed(2)} % of pixels off the background, ${s.distinctColours} colours, luminance σ ${s.lumaStdDev.toFixed(1)}`
  );
}

/** A screenshot into test-artifacts/NAME.png, checked not blank. Returns its file and pixel figures. */
export async function screenshot(page: Page, name: string, o: { fullPage?: boolean } = {}): Promise<{ file: string; stats: PixelStats }> {
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const file = path.join(ARTIFACTS_DIR, `${name}.png`);
  const png = await page.screenshot({ path: file, fullPage: o.fullPage ?? false });
  const stats = pixelStats(decodePng(png));
  assertNotBlank(stats, `screenshot ${name}`);
  return { file, stats };
}
