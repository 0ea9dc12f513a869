/**
 * RAM budget: peak JsVars in use on a Puck.js (goal ≤ 50 % of the board's
 * JsVars), estimated by the Espruino emulation's memory model
 * (host-tools/src/sim/espruino/memory.ts: what it counts, what it ignores,
 * its expected error). Samples after every callback (or every n-th) while
 *
 *  (a) the care home runs with every resident's token on the real firmware;
 *  (b) one token at a "station" hears 200 phones, each with its own RPI,
 *      every scan window for an hour.
 *
 *  (c) the real Espruino interpreter of every board (the truth; the two cases
 *      above are the emulation's estimate): the token scenario of the
 *      real-interpreter specs, JsVars sampled inside the firmware's calls;
 *  (d) on the Puck.js's real interpreter, a kiosk's full sync session
 *      (real-espruino/sync-scenario.ts, as test/espruino/sync-on-interpreter.spec.ts
 *      runs it): peak JsVars during the log dump and during the whole session.
 *
 * Last line: one JSON object with all cases; `peakJsVars` and `withinGoal`
 * are the real interpreter's where it is present, the dump included.
 *
 *   npx ts-node bench/memory.ts [--days 1] [--seed 1] [--every 1] [--phones 200] [--hours 1]
 */
import type { BoardConfig } from "../host-tools/src/build/boards";
import { loadBoard } from "../host-tools/src/build/boards";
import { EspruinoToken, createEmulatedToken } from "../host-tools/src/sim/espruino";
import type { MemoryPeak } from "../host-tools/src/sim/espruino";
import { runStation } from "../host-tools/src/sim/stress/station-stress";
import { careHome } from "../host-tools/src/sim/world/care-home";
import { startUnix } from "../host-tools/src/sim/world/scenario-load";
import { firmwareBundle, simulate } from "../host-tools/src/sim/world/simulate";
import { listBoards } from "../host-tools/src/build/boards";
import { interpreterFor, espruinoDir } from "../host-tools/src/real-espruino/interpreter";
import { runTokenScenario } from "../host-tools/src/real-espruino/token-scenario";
import { RealFigures, realFigures } from "../host-tools/src/real-espruino/figures";
import { phasePeak, runSyncScenario } from "../host-tools/src/real-espruino/sync-scenario";
import { hostToNrf52Ms, measureCpuFactor } from "../host-tools/src/real-espruino/nrf52-speed";
import { WINDOW_PACKETS } from "../firmware/src/wire/scan-limits";
import { bundleBoard, compileFirmware } from "../host-tools/src/build/bundle";
import * as os from "node:os";
import * as fs from "node:fs";
import * as path from "node:path";

const BOARD = "puckjs";
const GOAL_PERCENT = 50;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

interface CaseResult {
  scenario: string;
  peakJsVars: number;
  peakPercent: number;
  withinGoal: boolean;
  /** Where the peak's JsVars went (see JsVarBreakdown). */
  breakdown: MemoryPeak["by"] | null;
  samples: number;
  wallSeconds: number;
  [k: string]: unknown;
}

const pct = (n: number, total: number): number => Number(((100 * n) / total).toFixed(1));

async function careHomeCase(board: BoardConfig, days: number, seed: number, every: number): Promise<CaseResult> {
  const scenario = careHome({ seed });
  const tokens: EspruinoToken[] = [];
  const t0 = Date.now();
  const r = await simulate({
    scenario,
    days,
    seed,
    board: board.id,
    firmware: "real",
    makeToken: (a) => {
      const t = createEmulatedToken({ ...a, memory: { sampleEvery: every } });
      tokens.push(t);
      return t;
    }
  });
  let peak: MemoryPeak | null = null;
  let peakToken = "";
  let samples = 0;
  const perToken: number[] = [];
  for (const t of tokens) {
    samples += t.memorySamples;
    const p = t.memoryPeak;
    if (!p) continue;
    perToken.push(p.jsVars);
    if (!peak || p.jsVars > peak.jsVars) {
      peak = p;
      peakToken = t.id;
    }
  }
  perToken.sort((a, b) => a - b);
  const peakJsVars = peak ? peak.jsVars : 0;
  return {
    scenario: `care-home ${days} day(s), seed ${seed}, ${tokens.length} tokens`,
    peakJsVars,
    peakPercent: pct(peakJsVars, board.jsVars.count),
    withinGoal: pct(peakJsVars, board.jsVars.count) <= GOAL_PERCENT,
    peakToken,
    medianTokenPeak: perToken.length ? perToken[Math.floor(perToken.length / 2)] : 0,
    breakdown: peak ? peak.by : null,
    samples,
    uncaught: tokens.reduce((n, t) => n + t.uncaught.length, 0),
    firmware: r.firmware,
    startUnix: startUnix(scenario),
    wallSeconds: Number(((Date.now() - t0) / 1000).toFixed(1))
  };
}

function stationCase(
  board: BoardConfig,
  bundle: string,
  phones: number,
  hours: number,
  seed: number,
  every: number,
  start: number
): CaseResult {
  const t0 = Date.now();
  const r = runStation({ board, bundle, phones, seconds: hours * 3600, startUnix: start, seed, sampleEvery: every });
  const peakJsVars = r.peak ? r.peak.jsVars : 0;
  return {
    scenario: `station: ${phones} phones with distinct RPIs heard every scan, ${hours} h`,
    peakJsVars,
    peakPercent: pct(peakJsVars, board.jsVars.count),
    withinGoal: pct(peakJsVars, board.jsVars.count) <= GOAL_PERCENT,
    breakdown: r.peak ? r.peak.by : null,
    samples: r.samples,
    packetsDelivered: r.packetsDelivered,
    scanWindows: r.scanWindows,
    uncaught: r.uncaught.length,
    wallSeconds: Number(((Date.now() - t0) / 1000).toFixed(1))
  };
}

/** A kiosk's sync session with BOARD on its real interpreter: JsVars the firmware holds (stand-ins subtracted). */
interface SyncFigures {
  board: string;
  /** Peak during the log dump (every LOG_READ and its LOG_CHUNK). */
  dumpPeakJsVars: number;
  dumpPercent: number;
  /** Peak over the whole session: handshake, INFO, TIME_SET, the dump, LOG_ACK, RISK_SET. */
  sessionPeakJsVars: number;
  sessionPercent: number;
  chunks: number;
  logBytes: number;
  /** Real milliseconds on this host (the crypto is the interpreter's, the link's latency the console's). */
  sessionMs: number;
  dumpMs: number;
}

/**
 * Every board's firmware (build time 2025-01-01, as the specs use) through the
 * real-interpreter token scenario, and BOARD's through a sync session.
 */
async function realCases(): Promise<{ figures: RealFigures[]; sync: SyncFigures | null }> {
  const out: RealFigures[] = [];
  let sync: SyncFigures | null = null;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pt-bench-memory-"));
  const es5 = compileFirmware({ outDir: path.join(dir, "es5") });
  for (const id of listBoards()) {
    const interpreter = interpreterFor(id);
    if (!interpreter) continue;
    const bundle = await bundleBoard(loadBoard(id), { es5Dir: es5, outDir: path.join(dir, id), buildTime: 1735689600 });
    const f = realFigures(await runTokenScenario(id, interpreter, bundle.bootCode));
    console.log(
      `${id} on its real interpreter: peak ${f.jsVars.peak} of ${f.jsVarsTotal} JsVars (${f.peakPercent} %), ${JSON.stringify(f.jsVars)}; host ms ${JSON.stringify(f.hostMs)}`
    );
    out.push(f);
    if (id !== BOARD) continue;
    const r = await runSyncScenario(id, interpreter, bundle.bootCode);
    fs.rmSync(r.dir, { recursive: true, force: true });
    const dump = phasePeak(r, "dump");
    const session = Math.max(dump, phasePeak(r, "sync"));
    sync = {
      board: id,
      dumpPeakJsVars: dump,
      dumpPercent: pct(dump, r.total),
      sessionPeakJsVars: session,
      sessionPercent: pct(session, r.total),
      chunks: r.result.log.chunks,
      logBytes: r.result.log.bytesReceived,
      sessionMs: r.ms.session,
      dumpMs: r.ms.dump
    };
    console.log(`${id} sync session on its real interpreter: ${JSON.stringify(sync)}`);
  }
  return { figures: out, sync };
}

async function main(): Promise<void> {
  const days = Number(arg("days", "1"));
  const seed = Number(arg("seed", "1"));
  const every = Number(arg("every", "1"));
  const phones = Number(arg("phones", "200"));
  const hours = Number(arg("hours", "1"));
  const board = loadBoard(BOARD);
  const bundle = await firmwareBundle(BOARD);

  const home = await careHomeCase(board, days, seed, every);
  console.log(
    `care home: peak ${home.peakJsVars} JsVars (${home.peakPercent} % of ${board.jsVars.count}) on ${String(home.peakToken)}, ${home.samples} samples, ${home.wallSeconds} s`
  );
  // The station starts where the care home does: after the bundle's build time.
  const station = stationCase(board, bundle, phones, hours, seed, every, Number(home.startUnix));
  console.log(
    `station: peak ${station.peakJsVars} JsVars (${station.peakPercent} %), ${station.packetsDelivered} packets in ${String(station.scanWindows)} scan windows, ${station.wallSeconds} s`
  );

  const estimate = Math.max(home.peakJsVars, station.peakJsVars);
  const { figures: real, sync } = await realCases();
  const puck = real.find((r) => r.board === BOARD);
  if (!puck) console.log(`!!! no real interpreter in ${espruinoDir()}: figures below are the emulation's estimate only`);
  // A dump is one of the token's loads: its peak counts like a scan's or a rotation's.
  const peak = puck ? Math.max(puck.jsVars.peak, sync ? sync.sessionPeakJsVars : 0) : estimate;
  // The host's times, converted to a Puck.js with a factor measured now, on
  // this host, from a published nRF52 timing (nrf52-speed.ts): CPU time with
  // the CPU factor where the host can tell, else the clock with the wall factor.
  let nrf52: Record<string, unknown> | null = null;
  const puckInterpreter = interpreterFor(BOARD);
  if (puck && puckInterpreter) {
    const cf = await measureCpuFactor(puckInterpreter);
    const onCpu = puck.hostCpuMs.perPacket !== null && puck.hostCpuMs.windowEnd200 !== null;
    const factor = onCpu ? cf.factor : cf.wallFactor;
    const perPacketMs = hostToNrf52Ms(onCpu ? puck.hostCpuMs.perPacket! : puck.hostMs.perPacket, factor);
    const windowEndMs = hostToNrf52Ms(onCpu ? puck.hostCpuMs.windowEnd200! : puck.hostMs.windowEnd200, factor);
    nrf52 = {
      from: onCpu ? "host CPU time" : "host clock",
      factor: Number(factor.toFixed(1)),
      perPacketMs: Number(perPacketMs.toFixed(2)),
      windowEndMs: Number(windowEndMs.toFixed(0)),
      // A window that reaches the firmware's packet limit: the most CPU one scan can cost.
      fullWindowMs: Number((perPacketMs * WINDOW_PACKETS + windowEndMs).toFixed(0)),
      windowPackets: WINDOW_PACKETS,
      scanWindowMs: board.schedule.scanWindowMs
    };
    console.log(`Puck.js estimate: ${JSON.stringify(nrf52)}`);
  }
  console.log(
    JSON.stringify({
      bench: "memory",
      board: BOARD,
      jsVarsTotal: board.jsVars.count,
      blockBytes: board.jsVars.bytesPerVar,
      measuredOn: puck ? "real interpreter" : "emulation",
      peakJsVars: peak,
      peakPercent: pct(peak, board.jsVars.count),
      goalPercent: GOAL_PERCENT,
      withinGoal: pct(peak, board.jsVars.count) <= GOAL_PERCENT,
      emulationEstimate: {
        peakJsVars: estimate,
        peakPercent: pct(estimate, board.jsVars.count),
        differenceJsVars: puck ? estimate - puck.jsVars.peak : null
      },
      real,
      sync,
      nrf52,
      scenario: { careHome: home, station }
    })
  );
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
