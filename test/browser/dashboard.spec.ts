import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import type { FastifyInstance } from "fastify";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { buildDashboard } from "../../host-tools/src/kiosk/dashboard";
import { EventHub, KioskEvent } from "../../host-tools/src/kiosk/events";
import { KioskDir, initKioskDir } from "../../host-tools/src/kiosk/kiosk-dir";
import { RadioJobQueue, diagnoseRunner } from "../../host-tools/src/kiosk/radio-jobs";
import { ServiceEvent, runKioskService } from "../../host-tools/src/kiosk/service";
import { hashPassword } from "../../host-tools/src/kiosk/staff";
import { KioskSecret, generateKioskKey } from "../../host-tools/src/keys/kiosk-identity";
import { parseUpload, uploadSignatureValid } from "../../host-tools/src/keys/upload";
import { SimTokens, openSimTokens } from "../../host-tools/src/sync/sim-tokens";
import { ARTIFACTS_DIR, KIOSK_SCREEN, PHONE_SCREEN, Viewport, assertAccessible, launchBrowser, screenshot } from "../helpers/browser";
import { testBundle } from "../helpers/firmware";
import { CHEAP } from "../host/kiosk/dashboard-helpers";
import { KEYS, TOKEN_ID, publishedBatch, writeEnrolmentStore, writeExposedImage } from "../host/kiosk/exposed-token";
import { kioskRadio } from "../helpers/sim-radio";

/**
 * The staff dashboard in Debian's Chromium (playwright-core), as a care
 * worker uses it: one dashboard listening on 127.0.0.1 over a fresh kiosk
 * directory, the kiosk service syncing an emulated token over the simulated
 * radio, and the health authority's published keys in a directory.
 *
 * The cases are one visit, in order: log in, enrol the care home's token,
 * watch it sync live and its warning appear, report a diagnosis with the
 * wearer pressing the emulated token's button, let the wearer take part in
 * the statistics and export them, look at every page (axe, screenshots at a
 * kiosk's screen and a phone's, no sideways scrolling, every control reached
 * by keyboard with a visible focus, the weight of each page), then the
 * refusals (CSRF), logging out and an expired session. Each case needs the
 * ones before it.
 */

const PASSWORD = "long enough password";
const PASSPHRASE = "correct horse battery staple";
const CODE = "ABCD-EFGH-JKMN-PQRS";
const IDLE_S = 30 * 60;

/** Every line the home page's live line showed, and whether a card said "Syncing now" meanwhile. */
const WATCH_LIVE_LINE = `(function () {
  var now = document.getElementById("now");
  window.__seen = [];
  window.__syncingShown = false;
  window.__samePage = true;
  new MutationObserver(function () {
    window.__seen.push(now.textContent);
    if (document.querySelector("#rows .syncing:not([hidden])")) window.__syncingShown = true;
  }).observe(now, { childList: true, characterData: true, subtree: true });
})()`;

/** Every text a diagnosis's page showed. */
const WATCH_JOB = `(function () {
  var text = document.querySelector("#job .job-text");
  window.__job = [text.textContent];
  window.__samePage = true;
  new MutationObserver(function () {
    window.__job.push(text.textContent);
  }).observe(text, { childList: true, characterData: true, subtree: true });
})()`;

/** What the browser fetched for the page (the document and what it loaded), in bytes over the wire, headers included. */
const TRANSFERRED = `(function () {
  var nav = performance.getEntriesByType("navigation")[0];
  var total = nav ? nav.transferSize : 0;
  performance.getEntriesByType("resource").forEach(function (r) { total += r.transferSize; });
  return total;
})()`;

/** Whether the page scrolls sideways, and the elements that reach past the right edge if it does. */
const SIDEWAYS = `(function () {
  var w = document.documentElement.clientWidth, over = [];
  if (document.documentElement.scrollWidth > w)
    document.querySelectorAll("body *").forEach(function (e) {
      var r = e.getBoundingClientRect();
      if (r.width > 0 && r.right > w + 1) over.push(e.tagName.toLowerCase() + (typeof e.className === "string" && e.className ? "." + e.className.trim().split(/\\s+/).join(".") : "") + " (right " + Math.round(r.right) + ")");
    });
  return { scrollWidth: document.documentElement.scrollWidth, width: w, over: over.slice(0, 8) };
})()`;

/** Marks every control a person could use (visible, enabled), and describes each. */
const MARK_CONTROLS = `(function () {
  var sel = 'a[href], button, input:not([type="hidden"]), select, textarea, [tabindex]:not([tabindex="-1"])';
  var els = Array.prototype.filter.call(document.querySelectorAll(sel), function (e) {
    return !e.disabled && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden";
  });
  return els.map(function (e, i) {
    e.setAttribute("data-kb", String(i));
    return e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + ' "' + (e.textContent || e.getAttribute("aria-label") || e.name || "").trim().replace(/\\s+/g, " ").slice(0, 40) + '"';
  });
})()`;

/**
 * The focused control: its mark, and whether its focus shows (an outline of
 * at least 2 px whose colour stands 3:1 against the background around it).
 */
const FOCUSED = `(function () {
  var e = document.activeElement;
  if (!e || e === document.body || !e.hasAttribute("data-kb")) return null;
  function rgba(c) { var m = c.match(/[\\d.]+/g) || []; return m.map(Number); }
  function lum(c) {
    var a = [c[0], c[1], c[2]].map(function (v) { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * a[0] + 0.7152 * a[1] + 0.0722 * a[2];
  }
  var bg = [255, 255, 255];
  for (var p = e.parentElement; p; p = p.parentElement) {
    var c = rgba(getComputedStyle(p).backgroundColor);
    if (c.length === 3 || c[3] > 0) { bg = c; break; }
  }
  var s = getComputedStyle(e);
  var l1 = lum(rgba(s.outlineColor)), l2 = lum(bg);
  return {
    kb: Number(e.getAttribute("data-kb")),
    outline: s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2,
    contrast: Math.round(((Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05)) * 100) / 100
  };
})()`;

interface Focused {
  kb: number;
  outline: boolean;
  contrast: number;
}

/** Tabs through the page: every control is reached, and each shows its focus plainly. */
async function assertKeyboardUsable(page: Page, where: string): Promise<number> {
  const controls = (await page.evaluate(MARK_CONTROLS)) as string[];
  const reached = new Set<number>();
  const weak: string[] = [];
  for (let i = 0; i < 2 * controls.length + 4 && reached.size < controls.length; i++) {
    await page.keyboard.press("Tab");
    const f = (await page.evaluate(FOCUSED)) as Focused | null;
    if (!f || reached.has(f.kb)) continue;
    reached.add(f.kb);
    if (!f.outline || f.contrast < 3) weak.push(`${controls[f.kb]} (outline ${f.outline ? "shown" : "none"}, contrast ${f.contrast}:1)`);
  }
  const missed = controls.filter((_, i) => !reached.has(i));
  assert.deepEqual(missed, [], `${where}: controls the keyboard cannot reach`);
  assert.deepEqual(weak, [], `${where}: controls whose focus does not show plainly`);
  return controls.length;
}

/** Tabs from wherever the focus is until `selector` has it; fails if it is not reached. */
async function tabTo(page: Page, selector: string, where: string): Promise<number> {
  for (let n = 1; n <= 25; n++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate(`document.activeElement && document.activeElement.matches(${JSON.stringify(selector)})`)) return n;
  }
  throw new Error(`${where}: ${selector} is not reached with the Tab key`);
}

const text = (page: Page, selector: string): Promise<string> => page.locator(selector).first().innerText();

describe("the staff dashboard in Chromium (playwright-core, Debian's /usr/bin/chromium): a care worker's visit", function () {
  this.timeout(120_000);
  let root: string;
  let kiosk: KioskDir;
  let sim: SimTokens;
  let hub: EventHub<KioskEvent>;
  let jobs: RadioJobQueue;
  let app: FastifyInstance;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let kioskKey: KioskSecret;
  let keysDir: string;
  let uploads: string;
  /** The dashboard's clock is the simulated kiosk's, moved on by this many seconds (the session expiry case). */
  let skew = 0;
  /** Found along the way: a token's page, a diagnosis's page. */
  let tokenPath = "";
  let jobPath = "";
  const pageErrors: string[] = [];
  /** KB each page took over the wire, as the browser measured it at its first load (test-artifacts/dashboard-page-weights.json). */
  const weights: Record<string, number> = {};

  before(async function () {
    this.timeout(120_000);
    await testBundle("puckjs");
    root = fs.mkdtempSync(path.join(os.tmpdir(), "pt-dash-browser-"));
    kiosk = initKioskDir(path.join(root, "kiosk"));
    kiosk.store.addStaff("Ann", await hashPassword(PASSWORD, CHEAP));
    const image = path.join(root, "room12.bin");
    await writeExposedImage(image);
    sim = await openSimTokens({ images: [image], requireSecrets: true });
    keysDir = path.join(root, "published");
    fs.mkdirSync(keysDir);
    fs.writeFileSync(path.join(keysDir, "batch1.zip"), await publishedBatch());
    uploads = path.join(root, "uploads");
    fs.mkdirSync(uploads);
    kioskKey = generateKioskKey("common-room");
    hub = new EventHub<KioskEvent>();
    jobs = new RadioJobQueue(
      diagnoseRunner({
        kiosk,
        ...kioskRadio(sim),
        kioskKey,
        uploadTo: uploads,
        // Long enough (in simulated time) for the page to say "press now" before the wearer presses.
        consentWaitMs: 120_000
      }),
      (e) => hub.publish(e),
      sim.now
    );
    app = await buildDashboard({ kiosk, events: hub, jobs, idleSeconds: IDLE_S, now: () => sim.now() + skew });
    await app.listen({ host: "127.0.0.1", port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: KIOSK_SCREEN });
    page = await context.newPage();
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    page.on("console", (m) => {
      // A refused form (401, 403) is logged as a failed load: that is the point of those cases, not a script error.
      if (m.type() === "error" && !/^Failed to load resource/.test(m.text())) pageErrors.push(m.text());
    });
  });

  after(async () => {
    if (Object.keys(weights).length)
      fs.writeFileSync(path.join(ARTIFACTS_DIR, "dashboard-page-weights.json"), JSON.stringify(weights, null, 2) + "\n");
    await context?.close();
    await browser?.close();
    await app?.close();
    await sim?.transport.close();
    kiosk?.store.close();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it("logs in with the keyboard alone; a wrong password is refused in words", async () => {
    await page.goto(`${base}/`);
    assert.match(page.url(), /\/login\?expired=1$/, "a page asks for a login first");
    assert.equal(await page.evaluate("document.activeElement.id"), "name", "the name field has the focus");
    await page.keyboard.type("Ann");
    await page.keyboard.press("Tab");
    await page.keyboard.type("not the password");
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate("document.activeElement.textContent.trim()"), "Log in", "Tab reaches the button");
    await Promise.all([page.waitForURL(`${base}/login`), page.keyboard.press("Enter")]);
    assert.equal((await text(page, "[role=alert]")).replace(/^✖\s*/, ""), "That name and password do not match. Check them and try again.");
    assert.equal(await page.inputValue("#name"), "Ann", "the name is kept");

    await page.focus("#password");
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate("document.activeElement.textContent.trim()"), "Log in");
    await Promise.all([page.waitForURL(`${base}/`), page.keyboard.press("Enter")]);
    assert.equal(await text(page, "h1"), "Residents");
    assert.match(await text(page, ".logout button"), /Log out\s*\(Ann\)/);
    assert.match(await text(page, "#rows"), /No tokens are enrolled yet/);
  });

  it("enrols the care home's token from its enrolment store, and the home page lists it", async () => {
    const file = path.join(root, "home.ptstore");
    writeEnrolmentStore(file, PASSPHRASE);
    await page.click("nav >> text=Enrol tokens");
    assert.equal(await text(page, "h1"), "Enrol tokens");
    await page.setInputFiles("#store", file);
    await page.fill("#passphrase", PASSPHRASE);
    await Promise.all([page.waitForURL(`${base}/enrol`), page.click("form.stack button[type=submit]")]);
    assert.match(await text(page, "[role=status]"), /1 token\(s\) enrolled, 0 already enrolled/);
    assert.ok(kiosk.store.token(TOKEN_ID), "in the store");
    // The wearer just enrolled may take part in the statistics: asked here, off unless ticked (ticked later, on the token's page).
    const box = page.getByLabel("Room 12 takes part");
    assert.equal(await box.isChecked(), false);

    await page.click("nav >> text=Residents");
    const card = page.locator("#rows .token");
    assert.equal(await card.count(), 1);
    assert.equal(await card.locator("h2").innerText(), "Room 12");
    assert.match(await card.locator(".level").innerText(), /\?\s*Not checked yet/, "the level in a symbol and words");
    assert.match(await card.innerText(), /Never synced — hold its button for 2 seconds near the kiosk/);
    assert.ok(!(await page.content()).includes(TOKEN_ID), "no token id on the page");
    tokenPath = String(await card.locator("h2 a").getAttribute("href"));
    assert.match(tokenPath, /^\/tokens\/[\w-]+$/);
  });

  it("follows a simulated sync live without a reload: the radio's progress, then the token's warning and what to do", async () => {
    await page.goto(`${base}/`);
    await page.evaluate(WATCH_LIVE_LINE);
    // The live stream is open once the page shows what the radio says at the start of each pass.
    for (let i = 0; !((await page.evaluate("window.__seen.length")) as number); i++) {
      assert.ok(i < 100, "the home page's live stream opens");
      hub.publish({ kind: "sync", event: { kind: "scanning", ms: 5000 } });
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(await text(page, "#now"), "Listening for tokens with their sync window open…");
    let navigations = 0;
    const onNavigate = (): void => void navigations++;
    page.on("framenavigated", onNavigate);

    sim.openWindows();
    const stop = new AbortController();
    const events: ServiceEvent[] = [];
    const service = runKioskService({
      kiosk,
      transport: sim.transport,
      keys: { spec: keysDir },
      scanMs: 5000,
      pauseMs: 60_000,
      connectTimeoutMs: 15_000,
      passes: 4,
      signal: stop.signal,
      now: sim.now,
      sleep: sim.sleep,
      timerOf: sim.timerOf,
      passSteps: true,
      between: jobs.between,
      onEvent: (e) => {
        events.push(e);
        hub.publish(e);
        if (e.kind === "pass" && e.report.rounds.length) stop.abort();
      }
    });
    await page.waitForSelector("#rows .token.level-high, #rows .token.level-low", { timeout: 60_000 });
    await service;
    page.off("framenavigated", onNavigate);

    const rounds = events.flatMap((e) => (e.kind === "pass" ? e.report.rounds.map((r) => r.result) : []));
    assert.equal(rounds.length, 1, rounds.map((r) => r.detail).join(" | "));
    assert.equal(rounds[0].outcome, "ok", rounds[0].detail);
    const written = rounds[0].written;
    assert.ok(written && written.level >= 1, "the token was warned");

    assert.equal(navigations, 0, "the page was not reloaded");
    assert.equal(await page.evaluate("window.__samePage"), true);
    const seen = (await page.evaluate("window.__seen")) as string[];
    const at = (re: RegExp): number => seen.findIndex((s) => re.test(s));
    assert.ok(at(/^Syncing Room 12…$/) >= 0, `the live line named the token being synced: ${seen.join(" | ")}`);
    assert.ok(at(/checking it against the published keys/) > at(/^Syncing Room 12…$/), `then its progress: ${seen.join(" | ")}`);
    assert.ok(at(/^Room 12 synced\.$/) > at(/checking it against the published keys/), `then its end: ${seen.join(" | ")}`);
    assert.equal(await page.evaluate("window.__syncingShown"), true, "the card said it was syncing");
    assert.equal(await text(page, "#now"), "Room 12 synced.");

    const card = page.locator("#rows .token");
    const cardText = await card.innerText();
    if (written.level === 2) {
      assert.match(await card.locator(".level").innerText(), /▲\s*High — ask staff/);
      assert.match(
        cardText,
        /Ask Room 12 to take a test today: Room 12 was near someone who tested positive on \w+day \d+ \w+ for about \d+ minutes \(warning given just now\)/
      );
      assert.match(await text(page, "#rows .summary"), /1 to ask about a test today/);
    } else {
      assert.match(await card.locator(".level").innerText(), /◆\s*Low/);
      assert.match(cardText, /No test needed now\. Room 12 was near someone who tested positive/);
    }
    assert.match(cardText, /Last sync\s*just now/);
    assert.match(cardText, /Battery\s*\d+%/);
    assert.equal(await card.locator(".syncing").isHidden(), true, "no longer syncing");

    // Right after the sync, the token's page draws the day-by-day exposure it worked out (kept in memory only, for minutes).
    await page.goto(`${base}${tokenPath}`);
    assert.ok((await page.locator("figure.timeline svg rect").count()) >= 1, "the day's bar is drawn");
    assert.match(await text(page, "#timeline ~ table.history tbody"), /\w+day \d+ \w+\s+\d+ min very close/);
    await page.goto(`${base}/`);
  });

  it("reports a diagnosis end to end on the emulated token: the code, 'press the button now', the press, the upload delivered", async () => {
    await page.click("nav >> text=Report a diagnosis");
    assert.equal(await text(page, "h1"), "Report a diagnosis");
    // By keyboard: from the top of the page to the token's list, the code, and Start.
    await tabTo(page, "#token", "diagnose");
    await page.keyboard.press("ArrowDown");
    assert.equal(await page.evaluate("document.getElementById('token').selectedOptions[0].textContent"), "Room 12");
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate("document.activeElement.id"), "code");
    await page.keyboard.type(CODE.toLowerCase());
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate("document.activeElement.textContent.trim()"), "Start", "Tab reaches Start");
    await Promise.all([page.waitForURL(/\/diagnose\/[\w-]+$/), page.keyboard.press("Enter")]);
    jobPath = new URL(page.url()).pathname;
    assert.equal(await text(page, "h1"), "Report a diagnosis: Room 12");
    assert.equal(await text(page, "#job .job-text"), "Waiting for the radio…");
    await page.evaluate(WATCH_JOB);

    // The wearer presses once the page says so: the kiosk runs the job between two passes, as the service does.
    let pressed: Promise<void> | null = null;
    const unsubscribe = hub.subscribe((e) => {
      if (e.kind !== "radio-job" || e.job.status.state !== "press-now" || pressed) return;
      // A locator, not waitForFunction: a string predicate that is not true at
      // once is polled with eval in the page, which the dashboard's CSP refuses.
      pressed = page
        .locator("#job .job-text", { hasText: /^Press the button on the token now/ })
        .waitFor({ timeout: 20_000 })
        .then(() => sim.tokens[0].token.pressButton(200));
    });
    try {
      sim.openWindows();
      await jobs.between({ keys: KEYS });
    } finally {
      unsubscribe();
    }
    assert.ok(pressed, "the job asked for the press");
    await pressed;
    await page.waitForSelector("#job.state-done-sent", { timeout: 10_000 });

    const shown = (await page.evaluate("window.__job")) as string[];
    const at = (re: RegExp): number => shown.findIndex((s) => re.test(s));
    assert.ok(at(/^Looking for the token/) > 0, shown.join(" | "));
    assert.ok(at(/^Press the button on the token now/) > at(/^Looking for the token/), shown.join(" | "));
    assert.ok(at(/signed with the code and delivered/) > at(/^Press the button on the token now/), shown.join(" | "));
    assert.match(await text(page, "#job"), /^Done: \d+ day\(s\) of the wearer's keys were signed with the code and delivered/);
    assert.equal(await page.evaluate("window.__samePage"), true, "followed live, not reloaded");
    await page.reload();
    assert.match(await text(page, "main"), /No uploads are waiting to be delivered/);

    const files = fs.readdirSync(uploads);
    assert.equal(files.length, 1, "one upload delivered");
    const upload = parseUpload(fs.readFileSync(path.join(uploads, files[0]), "utf8"), files[0]);
    assert.ok(uploadSignatureValid(upload, kioskKey.publicKey), "signed by the kiosk");
    assert.equal(upload.authorisationCode, CODE, "with the code as the health authority wrote it");

    // The home page says nothing of who was diagnosed.
    await page.goto(`${base}/`);
    assert.equal(await text(page, "h1"), "Residents");
    assert.doesNotMatch(await text(page, "main"), /diagnos/i);
  });

  it("a wearer takes part in the statistics from the token's page; the statistics page exports weekly counts, no row per person", async () => {
    await page.goto(`${base}${tokenPath}`);
    const choice = page.locator(`form[action="${tokenPath}/statistics"] button`);
    assert.match(await choice.innerText(), /^Take part/, "nobody takes part unless asked");
    await Promise.all([page.waitForURL(`${base}${tokenPath}#statistics`), choice.click()]);
    assert.match(await text(page, "#statistics + p"), /Taking part in the care home's anonymous weekly statistics since/);

    await page.click("nav >> text=Statistics");
    assert.equal(await text(page, "h1"), "Statistics");
    assert.match(await text(page, "main"), /1 of 1 wearer\(s\)/);
    const [download] = await Promise.all([page.waitForEvent("download"), page.click('form[action="/statistics/export"] button')]);
    const csv = fs.readFileSync(String(await download.path()), "utf8");
    const lines = csv.trim().split(/\r?\n/);
    assert.match(lines[0], /^week_start,/, csv);
    assert.ok(lines.length > 1, "weeks exported");
    for (const l of lines.slice(1)) assert.match(l, /^\d{4}-\d{2}-\d{2},\d+,\d+,\d+,\d+,/, "a week's counts per row");
    assert.ok(!csv.includes("Room 12") && !csv.toLowerCase().includes(TOKEN_ID), "no label, no token id");
  });

  const pages = (): Array<{ name: string; path: string; loggedOut?: boolean; ready?: string }> => [
    { name: "login", path: "/login", loggedOut: true },
    { name: "home", path: "/" },
    { name: "token", path: tokenPath, ready: "#chart-battery .uplot canvas" },
    { name: "retire", path: `${tokenPath}/retire` },
    { name: "enrol", path: "/enrol" },
    { name: "diagnose", path: "/diagnose" },
    { name: "diagnosis", path: jobPath },
    { name: "keys", path: "/keys" },
    { name: "statistics", path: "/statistics" }
  ];

  for (const [label, viewport] of [
    ["1024x600", KIOSK_SCREEN],
    ["390x844", PHONE_SCREEN]
  ] as Array<[string, Viewport]>) {
    it(`every page at ${label}: axe finds nothing serious, no sideways scrolling, screenshots not blank${label === "1024x600" ? ", every control reached by keyboard with its focus shown, page weights" : ""}`, async () => {
      assert.ok(tokenPath && jobPath, "the cases before found a token's page and a diagnosis's page");
      const state = await context.storageState();
      for (const p of pages()) {
        // A context of its own for each page, so its weight is a first visit's (nothing cached); logged in but for the login page.
        // axe is injected as a script of its own: the pages' Content-Security-Policy would refuse it.
        const tabContext = await browser.newContext({ viewport, bypassCSP: true, ...(p.loggedOut ? {} : { storageState: state }) });
        try {
          const tab = await tabContext.newPage();
          const errors: string[] = [];
          tab.on("pageerror", (e) => errors.push(String(e)));
          const res = await tab.goto(`${base}${p.path}`, { waitUntil: "load" });
          assert.equal(res?.status(), 200, `${p.name}: ${p.path}`);
          assert.equal(new URL(tab.url()).pathname, p.path, `${p.name}: not sent elsewhere`);
          if (p.ready) await tab.waitForSelector(p.ready, { timeout: 10_000 });
          if (label === "1024x600") weights[p.name] = Math.round(((await tab.evaluate(TRANSFERRED)) as number) / 102.4) / 10;
          await assertAccessible(tab, `${p.name} at ${label}`);
          const sideways = (await tab.evaluate(SIDEWAYS)) as { scrollWidth: number; width: number; over: string[] };
          assert.ok(
            sideways.scrollWidth <= sideways.width,
            `${p.name} at ${label} scrolls sideways (${sideways.scrollWidth} px wide): ${sideways.over.join(", ")}`
          );
          await screenshot(tab, `dashboard-${p.name}-${label}`);
          if (label === "1024x600") await assertKeyboardUsable(tab, `${p.name} at ${label}`);
          assert.deepEqual(errors, [], `${p.name}: no script error`);
        } finally {
          await tabContext.close();
        }
      }
      if (label === "1024x600") for (const [name, kb] of Object.entries(weights)) assert.ok(kb > 0 && kb < 200, `${name} weighs ${kb} KB`);
    });
  }

  it("refuses a change whose form has a forged or no CSRF token, and changes nothing", async () => {
    await page.goto(`${base}${tokenPath}/retire`);
    await page.evaluate(`document.querySelector('form.stack input[name="_csrf"]').value = "forged"`);
    let [res] = await Promise.all([page.waitForResponse((r) => r.request().method() === "POST"), page.click("button.danger")]);
    assert.equal(res.status(), 403);
    assert.equal(await text(page, "h1"), "This form had expired");
    assert.match(await text(page, "main"), /Nothing was changed/);

    await page.goto(`${base}${tokenPath}/retire`);
    await page.evaluate(`document.querySelector('form.stack input[name="_csrf"]').remove()`);
    [res] = await Promise.all([page.waitForResponse((r) => r.request().method() === "POST"), page.click("button.danger")]);
    assert.equal(res.status(), 403);
    assert.equal(await text(page, "h1"), "This form had expired");
    assert.ok(kiosk.store.token(TOKEN_ID), "the token is still enrolled");
    await page.goto(`${base}/`);
    assert.equal(await page.locator("#rows .token h2").innerText(), "Room 12");
  });

  it("logs out; the pages then ask for a login", async () => {
    await page.goto(`${base}/`);
    await Promise.all([page.waitForURL(`${base}/login?out=1`), page.click(".logout button")]);
    assert.equal(await text(page, "[role=status]"), "You are logged out.");
    await page.goto(`${base}/diagnose`);
    assert.match(page.url(), /\/login\?expired=1$/);
  });

  it("a session unused for longer than the idle limit sends the next page to the login", async () => {
    await page.fill("#name", "Ann");
    await page.fill("#password", PASSWORD);
    await Promise.all([page.waitForURL(`${base}/`), page.click("form.stack button[type=submit]")]);
    assert.equal(await text(page, "h1"), "Residents");
    skew += IDLE_S + 60;
    await page.goto(`${base}${tokenPath}`);
    assert.match(page.url(), /\/login\?expired=1$/);
    assert.equal(await text(page, "[role=status]"), "Please log in (sessions end after a while without use).");
    assert.deepEqual(pageErrors, [], "no script error on the way, with the pages' Content-Security-Policy in force");
  });
});
