import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readStorageImage } from "../tokenlog/storage-image";
import { firstFreeSlot, HEADER_BYTES, RECORD_BYTES, LOG_PREFIX } from "../../../firmware/src/wire/log-record";
import { SETTINGS_FILE } from "../../../firmware/src/wire/settings";
import { Burst, RealToken, TokenEvent } from "./token-session";
import { quickWallFactor } from "./nrf52-speed";

/**
 * The day of a token on its board's real interpreter that the specs check and
 * the benchmarks measure: boot, advertise, three scan windows (30 devices, 200
 * devices with memory sampled, 150 devices timed), the wearer's button (status,
 * sync window opened and closed), then a power cut that tears a log record
 * being written, a reboot on the same flash and one more scan, which fills the
 * first log segment and starts the next.
 */

/** 2026-01-01 02:00 UTC, an interval boundary inside a UTC day. */
export const SCENARIO_START = 1767232800;
/** Token clock seconds per real second at most: a 10-minute scan period passes in 6 s. */
export const MAX_SCENARIO_TIME_SCALE = 100;
/**
 * How many times longer the token's own CPU work may look in token time than
 * on an nRF52. At time scale S a host that runs the interpreter `factor` times
 * faster than a Puck.js stretches CPU work S / factor times; the specs were
 * written where that was ~8 (factor ~12, S = 100). Under an emulator or a busy
 * host the factor falls and work that takes a token seconds would fill whole
 * intervals, so the scale follows the host instead.
 */
export const CPU_STRETCH = 8;
/** Below this a scenario's hours of token time would outlast the specs' hook timeouts. */
const MIN_TIME_SCALE = 30;

/** The token boots this long before SCENARIO_START, so its first interval boundary is SCENARIO_START. */
export const BOOT_LEAD = 120;

let scale: Promise<number> | undefined;

/**
 * The time scale the scenarios run at on this host: measured once per process,
 * on the first interpreter asked for (the boards' builds differ in memory and
 * libraries, not in interpreter speed).
 */
export function scenarioTimeScale(interpreter: string): Promise<number> {
  scale ??= quickWallFactor(interpreter).then(
    (f) => Math.max(MIN_TIME_SCALE, Math.min(MAX_SCENARIO_TIME_SCALE, Math.floor(CPU_STRETCH * f))),
    (e: unknown) => {
      // A probe killed on a busy host is tried again by the next scenario, not reused as a failure.
      scale = undefined;
      throw e;
    }
  );
  return scale;
}

/**
 * The 200-device crowd with memory sampled runs into the firmware's packet
 * limit per window (540 packets at or above the floor); the timed one (135)
 * stays under it, so that its time is per packet processed.
 */
export const FIRST_BOOT_BURSTS: Burst[] = [
  [1, 30, 3, 1],
  [2, 200, 3, 1],
  [3, 150, 1, 0]
];
export const REBOOT_BURSTS: Burst[] = [[4, 30, 3, 1]];
/** The risk level written before the status press: high (a pattern every board shows). */
export const STATUS_RISK = 2;

export interface SessionResult {
  events: TokenEvent[];
  errors: string[];
  /** JsVars in use after the stand-ins, before the firmware ran. */
  base: number;
  /** After the bundle's top level ran (boot done). */
  booted: number;
  /** Idle, between callbacks, at the end (garbage collected). */
  idle: number;
  /** Peak JsVars in use per "phase:call" where the stand-ins sampled. */
  peaks: Record<string, number>;
  total: number;
  watchdogKicks: number;
  /** Token clock at the end. */
  endTime: number;
  /** Real milliseconds from starting the interpreter to the end of the bundle's top level. */
  bootMs: number;
  flash: Uint8Array;
}

export interface ScenarioResult {
  board: string;
  dir: string;
  /** Token clock seconds per real second this run used (scenarioTimeScale). */
  timeScale: number;
  first: SessionResult;
  /** Slot of the torn record in the segment it was torn in. */
  torn: { segment: string; slot: number };
  reboot: SessionResult;
}

/** Real ms to wait for a token's next event: 3,000 token seconds (five scan periods) at its time scale, at least 30 s. */
export function tokenWaitMs(t: RealToken): number {
  return Math.max(30000, (3000 * 1000) / (t.opts.timeScale ?? MAX_SCENARIO_TIME_SCALE));
}

function after(t: RealToken, type: string, pred: (v: Record<string, unknown>) => boolean = () => true, from = 0): Promise<TokenEvent> {
  return t.waitFor((e) => e.type === type && pred(e.value as Record<string, unknown>), tokenWaitMs(t), from);
}

async function finish(t: RealToken, bootMs: number): Promise<SessionResult> {
  const s = await t.eval<{ base: number; peaks: Record<string, number>; m: { usage: number; total: number }; kicks: number; now: number }>(
    "{base: __h.base, peaks: __h.peak, kicks: __h.kicks, now: getTime(), m: process.memory()}"
  );
  const booted = t.ofType("booted")[0]?.value as number;
  await t.quit();
  return {
    events: t.events,
    errors: t.errors(),
    base: s.base,
    booted,
    idle: s.m.usage,
    peaks: s.peaks,
    total: s.m.total,
    watchdogKicks: s.kicks,
    endTime: s.now,
    bootMs,
    flash: t.flash()
  };
}

/** Wait for the scan window that carried burst `seed` to end (its records written). */
export async function scanDone(t: RealToken, seed: number): Promise<void> {
  const b = await after(t, "burst", (v) => v.seed === seed);
  await after(t, "scanEnd", () => true, b.index);
}

/**
 * A power cut in the middle of a record write, as flash keeps it: the first
 * bytes of the next free slot of the newest segment programmed, the rest
 * still erased.
 */
function tearNextRecord(flashFile: string): { segment: string; slot: number } {
  const img = new Uint8Array(fs.readFileSync(flashFile));
  const { files, dataOffsets } = readStorageImage(img);
  const segs = [...files.keys()]
    .filter((n) => n.startsWith(LOG_PREFIX))
    .sort((a, b) => Number(a.slice(LOG_PREFIX.length)) - Number(b.slice(LOG_PREFIX.length)));
  const segment = segs[segs.length - 1];
  const slot = firstFreeSlot(files.get(segment)!);
  const at = dataOffsets.get(segment)! + HEADER_BYTES + slot * RECORD_BYTES;
  img.set([0x5a, 0x17, 0x00, 0x42, 0x99], at);
  fs.writeFileSync(flashFile, img);
  return { segment, slot };
}

export async function runTokenScenario(board: string, interpreter: string, bundle: string): Promise<ScenarioResult> {
  const timeScale = await scenarioTimeScale(interpreter);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pt-real-${board}-`));
  const t0 = Date.now();
  const t = await RealToken.boot({
    interpreter,
    dir,
    bundle,
    time: SCENARIO_START - BOOT_LEAD,
    timeScale,
    bursts: FIRST_BOOT_BURSTS
  });
  const bootMs = Date.now() - t0;
  try {
    await after(t, "adv");
    for (const b of FIRST_BOOT_BURSTS) await scanDone(t, b[0]);
    // The wearer's short press shows the risk level the kiosk wrote.
    await t.eval(`require("Storage").write("${SETTINGS_FILE}", new Uint8Array([${STATUS_RISK}]))`);
    let mark = t.events.length;
    t.send("__h.phase='press'; __h.press(300)");
    await t.waitFor((e) => e.index >= mark && (e.type === "led" || e.type === "screen"), tokenWaitMs(t), mark);
    // Long enough for the whole pattern (≤ 12 s of token time) to play out.
    await new Promise((r) => setTimeout(r, (15000 / timeScale) * 10));
    // Long presses open and close the sync window.
    mark = t.events.length;
    t.send("__h.phase='sync'; __h.press(2500)");
    await after(t, "adv", (v) => (v.o as { connectable: boolean }).connectable === true, mark);
    mark = t.events.length;
    t.send("__h.press(2500)");
    await after(t, "adv", (v) => (v.o as { connectable: boolean }).connectable === false, mark);
    t.send("__h.phase='idle'");
  } catch (e) {
    await t.kill();
    throw e;
  }
  const first = await finish(t, bootMs);
  const torn = tearNextRecord(path.join(dir, "espruino.flash"));
  const t1 = Date.now();
  const r = await RealToken.boot({
    interpreter,
    dir,
    time: Math.ceil(first.endTime) + 60,
    timeScale,
    bursts: REBOOT_BURSTS
  });
  const rebootMs = Date.now() - t1;
  try {
    for (const b of REBOOT_BURSTS) await scanDone(r, b[0]);
    await after(r, "adv");
  } catch (e) {
    await r.kill();
    throw e;
  }
  const reboot = await finish(r, rebootMs);
  return { board, dir, timeScale, first, torn, reboot };
}
