import { openLog, EncounterLog } from "../../../firmware/src/log/store";
import { LOG_PREFIX, RECORD_BYTES } from "../../../firmware/src/wire/log-record";
import { Rng } from "../../../host-tools/src/sim/prng";
import { StorageListing } from "../../../host-tools/src/tokenlog/token-files";
import { useBoard } from "../../helpers/board";
import { FakeStorage, PowerCut } from "../../helpers/fake-platform";

/**
 * Logs as real tokens leave them, for the host's record check: the token's
 * own log writer (firmware/src/log/store.ts) fed the way its scanner feeds it
 * (firmware/src/scanner.ts: one record per RPI a window, every packet at or
 * above the logging floor, mean = sum / packets, peak = the strongest, all a
 * window's records stamped with its start, only RPIs heard more than once
 * while a flood is declared), through everything a token lives through:
 * power cuts at any byte (with the clock lost or kept), a clock set by a
 * kiosk (from uptime, and small corrections either way), floods, full flash
 * (eviction, flood segments first), acknowledgements, and writes that fail
 * without writing (the writer then moves past the slot).
 */

export const BUILD = 1735689600; // 2025-01-01 00:00 UTC

export interface RealLogOptions {
  seed: number;
  /** Scan windows to run. */
  windows: number;
  /** A power cut in about 1 window in `cutEvery` (0: none). */
  cutEvery?: number;
  /** Share of cuts that lose the clock (a battery change: the log goes on against uptime until a kiosk sets it). */
  clockLoss?: number;
  /** Hours of flood (a transmitter of fresh RPIs) in about 1 hour in `floodEvery` (0: none). */
  floodEvery?: number;
  /** A record write that fails without writing in about 1 write in `holeEvery` (0: none). */
  holeEvery?: number;
  /** Storage bytes (default: a Puck.js's share after its bundle, so the log fills and evicts). */
  capacity?: number;
  /** Called after every window (a spec's checkpoint). */
  onWindow?: (run: RealLogRun, window: number) => void;
}

export interface RealLogRun {
  st: FakeStorage;
  /** Ids of records the writer reported stored and no cut interrupted. */
  committed: Set<number>;
  /** Ids whose write a power cut or a failed write interrupted (may be torn, may be absent). */
  inFlight: Set<number>;
  /** Segment numbers erased at boot because a cut came while they were created (nothing in them). */
  tornCreations: Set<number>;
  /** Record ids are the first 4 bytes of the RPI prefix. */
  files(): StorageListing;
  cuts: number;
}

/** A Storage whose in-place record writes sometimes fail before writing anything (a busy flash controller). */
class FlakyStorage extends FakeStorage {
  constructor(
    capacity: number,
    private readonly fail: () => boolean
  ) {
    super(capacity);
  }
  override write(name: string, data: Uint8Array, offset?: number, size?: number): void {
    if (offset && data.length === RECORD_BYTES && this.fail()) throw new Error("flash write failed");
    super.write(name, data, offset, size);
  }
}

function keyOf(id: number, aem: number): Uint8Array {
  return Uint8Array.of(id & 255, (id >>> 8) & 255, (id >>> 16) & 255, (id >>> 24) & 255, 0x5a, aem);
}

export function idOf(prefix: Uint8Array): number {
  return (prefix[0] | (prefix[1] << 8) | (prefix[2] << 16) | (prefix[3] << 24)) >>> 0;
}

export function runRealLog(o: RealLogOptions): RealLogRun {
  const board = useBoard("puckjs", BUILD);
  const floor = board.schedule.logMinRssiDbm;
  const rng = new Rng(o.seed);
  const holeEvery = o.holeEvery ?? 0;
  const st = new FlakyStorage(o.capacity ?? 28672, () => holeEvery > 0 && rng.int(holeEvery) === 0);
  const run: RealLogRun = {
    st,
    committed: new Set(),
    inFlight: new Set(),
    tornCreations: new Set(),
    files: () => ({ list: () => st.list(""), read: (n) => st.read(n) }),
    cuts: 0
  };
  let log: EncounterLog = openLog(st);
  let utc = BUILD + 30 * 86400;
  // The token's clock: UTC, or uptime (from a few seconds) after a cut that lost it.
  let local = utc;
  let clockValid = true;
  let id = 1;
  let floodUntil = 0;
  const segs = (): string[] => st.list(LOG_PREFIX);
  /** One RPI as the scanner aggregates it: packets at or above the floor. */
  const sighting = (minPackets: number): { mean: number; peak: number; count: number } => {
    const count = Math.max(minPackets, rng.next() < 0.05 ? 1 + rng.int(160) : 1 + rng.int(10));
    let sum = 0;
    let peak = -999;
    for (let i = 0; i < count; i++) {
      // Many packets right at the floor: the edge the check must accept.
      const r = rng.next() < 0.2 ? floor : floor + rng.int(50);
      sum += r;
      if (r > peak) peak = r;
    }
    return { mean: sum / count, peak, count };
  };
  for (let w = 0; w < o.windows; w++) {
    const step = board.schedule.scanPeriodSec - rng.int(board.schedule.scanJitterSec + 1);
    utc += step;
    local += step;
    const hour = Math.floor(utc / 3600);
    if (o.floodEvery && hour >= floodUntil && rng.int(o.floodEvery * 7) === 0) floodUntil = hour + 1 + rng.int(8);
    const flooding = hour < floodUntil;
    if (o.cutEvery && rng.int(o.cutEvery) === 0) st.cutAfter(rng.int(400));
    try {
      const rows = flooding ? 32 : rng.next() < 0.1 ? 20 + rng.int(13) : rng.int(6);
      const keep = log.window(local, rows, flooding ? 150 : 0);
      if (st.isDead) throw new PowerCut();
      for (let j = 0; j < keep; j++) {
        const s = sighting(keep < rows ? 2 : 1);
        const me = id++;
        run.inFlight.add(me);
        const ok = log.add(keyOf(me, rng.int(256)), 0, local, s.mean, s.peak, s.count);
        // The writer catches its own write errors, a cut among them: the flash being dead is what says so.
        if (st.isDead) throw new PowerCut();
        run.inFlight.delete(me);
        if (ok) run.committed.add(me);
      }
      // A kiosk now and then: sets the clock (from uptime, or a correction of a few seconds either way) and acknowledges.
      if (!clockValid ? rng.int(30) === 0 : rng.int(400) === 0) {
        const old = local;
        local = utc + (clockValid ? rng.int(61) - 30 : 0);
        clockValid = true;
        log.anchor(old, local);
        const kept = segs().map((n) => Number(n.slice(LOG_PREFIX.length)));
        if (kept.length && rng.next() < 0.5) log.ack(Math.max(...kept));
        if (st.isDead) throw new PowerCut();
      }
    } catch (e) {
      if (!(e instanceof PowerCut)) throw e;
      run.cuts++;
      st.revive();
      const before = new Set(segs());
      if (rng.next() < (o.clockLoss ?? 0.5)) {
        local = 5 + rng.int(60);
        clockValid = false;
      }
      log = openLog(st);
      for (const n of before) if (!st.read(n)) run.tornCreations.add(Number(n.slice(LOG_PREFIX.length)));
    }
    o.onWindow?.(run, w);
  }
  return run;
}
