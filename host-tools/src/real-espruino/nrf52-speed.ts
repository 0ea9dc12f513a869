import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { repoRoot } from "../paths";
import { runScript } from "./interpreter";

/**
 * Converts CPU time measured on the Linux build of the real Espruino
 * interpreter (x86, 32-bit) into the time the same JavaScript takes on an
 * nRF52832 (Puck.js: Cortex-M4F, 64 MHz). There is no nRF52 here, so the
 * factor comes from a published timing of a JavaScript snippet on real
 * nRF52 hardware, divided by the time the same snippet takes on the host's
 * interpreter (bench/cpu-factor.js). Re-derive it on every machine: it is a
 * property of the host CPU (and of its load), not a constant.
 *
 * What the factor is and is not (measured while writing this file):
 * - It is established for interpreted JavaScript only. The Linux build's x86
 *   code looks unoptimised (every value goes through the stack, as with -O0)
 *   while nRF52 firmware is optimised, so native work (crypto, Storage
 *   writes, GC) may scale differently; nothing here measures that.
 * - The only usable nRF52 figure is a Mandelbrot loop (64-bit floats, done in
 *   software on the M4F's single-precision FPU). Its cost is dominated by the
 *   interpreter itself (about 1.5 ms per loop iteration on the Bangle.js 1,
 *   against roughly a thousand cycles, ~16 µs, of float maths), so it should
 *   carry over to integer code within the accuracy of the figure.
 * - Code run from Storage on the Linux build is read from espruino.flash by
 *   file I/O, three to six times slower than from RAM; on a Puck.js Storage
 *   is memory-mapped internal flash. Use `factor` (host time in Storage mode)
 *   for host figures from a token booted from Storage (token-scenario), and
 *   `ramFactor` for code the interpreter holds in RAM.
 * - Host CPU time moves with other processes on the machine even when it is
 *   thread CPU time (shared cores and caches): measure the factor in the same
 *   session as the figures it converts. Figures taken with getTime() are wall
 *   clock and also include time the process waited for a core; `wallFactor`
 *   is the same conversion from wall-clock host time.
 */

/** The snippets bench/cpu-factor.js times (keys of its `snippets` output). */
export type SnippetId =
  "mandelbrot32-ram" | "mandelbrot32-ram-pretokenised" | "mandelbrot32-storage" | "mandelbrot32-storage-pretokenised" | "leibniz";

export const SNIPPET_IDS: readonly SnippetId[] = [
  "mandelbrot32-ram",
  "mandelbrot32-ram-pretokenised",
  "mandelbrot32-storage",
  "mandelbrot32-storage-pretokenised",
  "leibniz"
];

/** A run time of a snippet on real hardware, as published. */
export interface PublishedTiming {
  id: string;
  /** The bench snippet that runs the same code on the host. */
  snippet: SnippetId;
  board: string;
  chip: string;
  clockMHz: number;
  /** Espruino version, as far as the source says. */
  firmware: string;
  date: string;
  /** Published time for one run of the snippet as published, in ms. */
  ms: number;
  /** Iterations in the published run, where the bench runs fewer (host time is scaled up linearly). */
  publishedIterations?: number;
  /** The exact published words the figure comes from. */
  quote: string;
  source: string;
  /** True when the figure is from an nRF52 at 64 MHz under conditions the token shares. */
  usedForFactor: boolean;
  note: string;
}

const BANGLEAPPS_264 = "https://github.com/espruino/BangleApps/issues/264";
const BANGLE1_NOTE =
  "Bangle.js 1 = nRF52832 at 64 MHz, the Puck.js chip. Firmware not stated; the issue is dated 2020-04-09 " +
  "(Espruino 2v05 or a 2v05 cutting-edge build). Assumes 2v05 and 2v29 run this snippet equally fast on the chip.";

/**
 * Every published figure considered. Only the Bangle.js 1 RAM figures are
 * used for the factor: the Bangle.js 1 "Flash" figures are for its external
 * SPI flash (a Puck.js runs Storage code from memory-mapped internal flash),
 * and the Pico figure is another chip (STM32F401, 84 MHz) from a secondary
 * copy of a forum post, kept as an order-of-magnitude cross-check.
 */
export const PUBLISHED_TIMINGS: readonly PublishedTiming[] = [
  {
    id: "bangle1-mandelbrot32-ram",
    snippet: "mandelbrot32-ram",
    board: "Bangle.js 1",
    chip: "nRF52832 (Cortex-M4F)",
    clockMHz: 64,
    firmware: "2v05 era (not stated)",
    date: "2020-04-09",
    ms: 7703.21655273,
    quote: "// not pretokenised\nRAM:\n7.70321655273",
    source: BANGLEAPPS_264,
    usedForFactor: true,
    note: `mandelbrot(32,32) defined in RAM, not pretokenised (as the token's minified bundle). ${BANGLE1_NOTE}`
  },
  {
    id: "bangle1-mandelbrot32-ram-pretokenised",
    snippet: "mandelbrot32-ram-pretokenised",
    board: "Bangle.js 1",
    chip: "nRF52832 (Cortex-M4F)",
    clockMHz: 64,
    firmware: "2v05 era (not stated)",
    date: "2020-04-09",
    ms: 7446.19750976,
    quote: "// Pretokenised\nRAM:\n7.44619750976 // ------ what you get uploading from IDE",
    source: BANGLEAPPS_264,
    usedForFactor: true,
    note: `Same run, function pretokenised in RAM. ${BANGLE1_NOTE}`
  },
  {
    id: "bangle1-mandelbrot32-spiflash",
    snippet: "mandelbrot32-storage",
    board: "Bangle.js 1",
    chip: "nRF52832 (Cortex-M4F)",
    clockMHz: 64,
    firmware: "2v05 era (not stated)",
    date: "2020-04-09",
    ms: 9458.06884765,
    quote: "// not pretokenised\n...\nFlash:\n9.45806884765 // ------ this is where we are now",
    source: BANGLEAPPS_264,
    usedForFactor: false,
    note: "Read from Bangle.js 1 external SPI flash; a Puck.js has no SPI flash, so not used."
  },
  {
    id: "bangle1-mandelbrot32-spiflash-pretokenised",
    snippet: "mandelbrot32-storage-pretokenised",
    board: "Bangle.js 1",
    chip: "nRF52832 (Cortex-M4F)",
    clockMHz: 64,
    firmware: "2v05 era (not stated)",
    date: "2020-04-09",
    ms: 8584.83886718,
    quote: "// Pretokenised\n...\nFlash:\n8.58483886718",
    source: BANGLEAPPS_264,
    usedForFactor: false,
    note: "Read from Bangle.js 1 external SPI flash; not used (see above)."
  },
  {
    id: "pico-leibniz-1e6",
    snippet: "leibniz",
    board: "Espruino Pico",
    chip: "STM32F401CD (Cortex-M4F)",
    clockMHz: 84,
    firmware: "not stated (December 2017, so 1v9x)",
    date: "2017-12-23",
    ms: 458000,
    publishedIterations: 1000000,
    quote: "On the PyBoard, the code took 26 seconds to execute, while the Pico took 458 seconds.",
    source:
      'Espruino forum post "Float Speed: Espruino Pico vs Pyboard" (23 Dec 2017), as stored in ' +
      "https://huggingface.co/datasets/nvidia/Nemotron-CC-Math-v1 (a reworded copy; original forum URL not recovered)",
    usedForFactor: false,
    note:
      "Not an nRF52, and the text is a secondary, reworded copy. To compare with 64 MHz, multiply its factor by " +
      "84/64 (assumes equal cycles per operation, which flash wait states make uncertain)."
  }
];

/** nRF52 milliseconds for a host measurement, given a factor from measureCpuFactor. */
export function hostToNrf52Ms(hostMs: number, factor: number): number {
  if (!Number.isFinite(hostMs) || hostMs < 0) throw new RangeError(`hostMs must be a finite, non-negative number, not ${hostMs}`);
  if (!Number.isFinite(factor) || factor <= 0) throw new RangeError(`factor must be a finite, positive number, not ${factor}`);
  return hostMs * factor;
}

/** Host timings of one snippet, in ms per run of the snippet as published. */
export interface HostSnippetTiming {
  snippet: SnippetId;
  /** Thread CPU time per run (from /proc/self/schedstat): insensitive to other processes' load. */
  cpuMs: number[];
  /** Wall-clock time per run (getTime()). */
  wallMs: number[];
  cpuMedianMs: number;
  wallMedianMs: number;
}

/** A published figure beside the host's time for the same snippet. */
export interface SnippetFactor {
  published: PublishedTiming;
  host: HostSnippetTiming;
  /** published.ms / host CPU median. */
  factor: number;
  /** The same from the fastest and slowest host run: the run-to-run spread. */
  factorRange: [number, number];
  /** published.ms / host wall-clock median (inflated when the host is busy). */
  wallFactor: number;
}

export interface CpuFactorResult {
  interpreter: string;
  /** Espruino version and board the bench reported. */
  version: string;
  board: string;
  /**
   * For host times of code run from Storage (a token booted from .bootcde,
   * as token-scenario runs it): nRF52 RAM figure / host Storage-mode time.
   * Assumes a Puck.js runs Storage code (memory-mapped internal flash) at
   * its RAM speed.
   */
  factor: number;
  /** As `factor`, from the host's wall-clock time (for getTime() figures from the same, equally busy, host). */
  wallFactor: number;
  /** For host times of code held in RAM: nRF52 RAM figure / host RAM time. */
  ramFactor: number;
  /** Range of the factors from the usable (nRF52, RAM) figures, over the pretokenised and plain conditions. */
  ramFactorSpread: [number, number];
  /** Every published figure beside the host's time, including the unused ones. */
  perSnippet: SnippetFactor[];
  /** The Pico cross-check scaled to 64 MHz (84/64), for comparison with ramFactor only. */
  picoCrossCheckAt64MHz: number | undefined;
}

export const BENCH_FILE = path.join(repoRoot, "bench", "cpu-factor.js");

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The JSON line bench/cpu-factor.js prints, checked. */
export interface BenchOutput {
  version: string;
  board: string;
  leibnizIterations: number;
  snippets: Record<SnippetId, { wallMs: number[]; cpuMs: (number | null)[] }>;
}

function isNumberArray(x: unknown): x is number[] {
  return Array.isArray(x) && x.every((v) => typeof v === "number" && Number.isFinite(v));
}

/** Checks the bench's JSON line field by field, so a changed bench fails loudly. */
export function parseBenchLine(line: string): BenchOutput {
  const o: unknown = JSON.parse(line);
  if (typeof o !== "object" || o === null) throw new Error("cpu-factor bench: output is not an object");
  const r = o as Record<string, unknown>;
  if (typeof r.version !== "string" || typeof r.board !== "string" || typeof r.leibnizIterations !== "number")
    throw new Error("cpu-factor bench: version, board or leibnizIterations missing");
  const sn = r.snippets;
  if (typeof sn !== "object" || sn === null) throw new Error("cpu-factor bench: snippets missing");
  const snippets = {} as BenchOutput["snippets"];
  for (const id of SNIPPET_IDS) {
    const s = (sn as Record<string, unknown>)[id];
    if (typeof s !== "object" || s === null) throw new Error(`cpu-factor bench: snippet ${id} missing`);
    const { wallMs, cpuMs } = s as Record<string, unknown>;
    if (!isNumberArray(wallMs) || wallMs.length === 0) throw new Error(`cpu-factor bench: ${id}.wallMs is not a list of numbers`);
    if (
      !Array.isArray(cpuMs) ||
      cpuMs.length !== wallMs.length ||
      !cpuMs.every((v) => v === null || (typeof v === "number" && Number.isFinite(v)))
    )
      throw new Error(`cpu-factor bench: ${id}.cpuMs does not match wallMs`);
    snippets[id] = { wallMs, cpuMs: cpuMs as (number | null)[] };
  }
  return { version: r.version, board: r.board, leibnizIterations: r.leibnizIterations, snippets };
}

function hostTiming(out: BenchOutput, id: SnippetId, scale: number): HostSnippetTiming {
  const raw = out.snippets[id];
  const wallMs = raw.wallMs.map((v) => v * scale);
  // Without /proc/self/schedstat the bench records no CPU time: fall back to wall clock.
  const cpuMs = raw.cpuMs.every((v): v is number => v !== null) ? raw.cpuMs.map((v) => v * scale) : wallMs;
  return { snippet: id, cpuMs, wallMs, cpuMedianMs: median(cpuMs), wallMedianMs: median(wallMs) };
}

export interface MeasureOptions {
  /** Kill the interpreter after this many ms (default 10 minutes: a loaded 2-core host needs a few). */
  timeoutMs?: number;
  /** Keep the temporary working directory (it holds espruino.flash and the raw output). */
  keepDir?: boolean;
}

/**
 * Runs bench/cpu-factor.js on `interpreter` (a Linux Espruino build) in a
 * fresh temporary directory, and derives the factors from its timings and
 * PUBLISHED_TIMINGS.
 */
export async function measureCpuFactor(interpreter: string, o: MeasureOptions = {}): Promise<CpuFactorResult> {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "pt-cpu-factor-"));
  try {
    const r = await runScript(interpreter, BENCH_FILE, { cwd, timeoutMs: o.timeoutMs ?? 600000 });
    const line = r.stdout.split(/\r?\n/).find((l) => l.startsWith('{"bench":"cpu-factor"'));
    if (!line)
      throw new Error(
        `cpu-factor bench printed no result (${r.exited ? "exited" : "killed at the time limit"}):\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`
      );
    if (o.keepDir) fs.writeFileSync(path.join(cwd, "cpu-factor.json"), line + "\n");
    return deriveFactors(interpreter, parseBenchLine(line));
  } finally {
    if (!o.keepDir) fs.rmSync(cwd, { recursive: true, force: true });
  }
}

/** The factors from one bench output (exported so a saved output can be re-used). */
export function deriveFactors(interpreter: string, out: BenchOutput): CpuFactorResult {
  const perSnippet: SnippetFactor[] = PUBLISHED_TIMINGS.map((p) => {
    const scale = p.publishedIterations ? p.publishedIterations / out.leibnizIterations : 1;
    const host = hostTiming(out, p.snippet, scale);
    const lo = Math.min(...host.cpuMs);
    const hi = Math.max(...host.cpuMs);
    return {
      published: p,
      host,
      factor: p.ms / host.cpuMedianMs,
      factorRange: [p.ms / hi, p.ms / lo],
      wallFactor: p.ms / host.wallMedianMs
    };
  });
  const byId = (id: string): SnippetFactor => {
    const f = perSnippet.find((s) => s.published.id === id);
    if (!f) throw new Error(`no published timing ${id}`);
    return f;
  };
  const ramPlain = byId("bangle1-mandelbrot32-ram");
  const usable = perSnippet.filter((s) => s.published.usedForFactor).map((s) => s.factor);
  // The token's bundle is minified but not pretokenised, and runs from Storage:
  // the plain nRF52 RAM figure over the host's plain Storage-mode time.
  const storageHost = hostTiming(out, "mandelbrot32-storage", 1);
  const pico = perSnippet.find((s) => s.published.id === "pico-leibniz-1e6");
  return {
    interpreter,
    version: out.version,
    board: out.board,
    factor: ramPlain.published.ms / storageHost.cpuMedianMs,
    wallFactor: ramPlain.published.ms / storageHost.wallMedianMs,
    ramFactor: ramPlain.factor,
    ramFactorSpread: [Math.min(...usable), Math.max(...usable)],
    perSnippet,
    picoCrossCheckAt64MHz: pico ? pico.factor * (pico.published.clockMHz / 64) : undefined
  };
}

/**
 * A quick `wallFactor` (about a second of interpreter time): the Storage-mode
 * Mandelbrot alone, three runs, wall clock. Wall clock on purpose: a scenario's
 * token clock is the host's wall clock sped up, so a host that is busy, or
 * that runs the interpreter under an emulator, stretches the token's CPU work
 * in token time just as a slower CPU would.
 */
export async function quickWallFactor(interpreter: string): Promise<number> {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "pt-cpu-quick-"));
  try {
    const script = path.join(cwd, "cpu-factor-quick.js");
    fs.writeFileSync(script, "var CPU_FACTOR_QUICK = true;\n" + fs.readFileSync(BENCH_FILE, "latin1"), "latin1");
    const r = await runScript(interpreter, script, { cwd, timeoutMs: 120000 });
    const line = r.stdout.split(/\r?\n/).find((l) => l.startsWith('{"bench":"cpu-factor-quick"'));
    const wallMs: unknown = line
      ? (JSON.parse(line) as { snippets: Record<string, { wallMs: unknown }> }).snippets["mandelbrot32-storage"]?.wallMs
      : undefined;
    if (!isNumberArray(wallMs) || !wallMs.length)
      throw new Error(
        `quick cpu-factor bench printed no timing (${r.exited ? "exited" : "killed at the time limit"}):\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`
      );
    const published = PUBLISHED_TIMINGS.find((p) => p.id === "bangle1-mandelbrot32-ram");
    if (!published) throw new Error("no published timing bangle1-mandelbrot32-ram");
    return published.ms / median(wallMs);
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true });
  }
}
