import * as crypto from "node:crypto";
import type { ArchiveSegment, StatusUpdate, SyncOutcome } from "../../../host-tools/src/kiosk/store";

/**
 * What run N of the kill-9 worker (store-kill-worker.ts) records, derived from
 * N alone, so the spec can tell from a database exactly what each run it finds
 * must have written, and that no run was half applied.
 */

export const KILL_TOKENS = ["a0".repeat(16), "b1".repeat(16)];
export const KILL_BASE_TIME = 1_780_000_000;
/** Run N owns segment numbers N*4 … N*4+3, so every stored segment names the run that wrote it. */
export const SEGS_PER_RUN = 4;

export interface RunPlan {
  readonly run: number;
  readonly tokenId: string;
  readonly outcome: SyncOutcome;
  readonly detail: string;
  readonly segments: readonly ArchiveSegment[];
  readonly bytesRead: number;
  readonly status: StatusUpdate | undefined;
}

/** Bytes no other (run, segment) has, a few SQLite pages long so that a run's commit spans many pages. */
function segmentBytes(run: number, seg: number): Buffer {
  const length = 1500 + ((run * 7 + seg) % 5) * 1000;
  const digest = crypto.createHash("sha256").update(`${run}/${seg}`).digest();
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i += digest.length) digest.copy(out, i);
  return out;
}

export function planRun(run: number): RunPlan {
  const tokenId = KILL_TOKENS[run % KILL_TOKENS.length];
  const outcome: SyncOutcome = run % 5 === 4 ? "link-lost" : "ok";
  const count = run % SEGS_PER_RUN;
  const segments = Array.from({ length: count }, (_, i) => {
    const seg = run * SEGS_PER_RUN + i;
    return { seg, day: 20_000 + run, sealed: segmentBytes(run, seg) };
  });
  const status: StatusUpdate | undefined =
    outcome === "ok"
      ? {
          lastSyncAt: KILL_BASE_TIME + run,
          battery: run % 101,
          clockDriftS: (run % 7) - 3,
          faults: run % 3,
          boots: run,
          ackedTo: run * SEGS_PER_RUN + count,
          ...(run % 3 === 0 ? { riskLevel: Math.floor(run / 3) % 3, riskReason: run % 256, riskAt: KILL_BASE_TIME + run } : {})
        }
      : undefined;
  return {
    run,
    tokenId,
    outcome,
    detail: `run ${run}`,
    segments,
    bytesRead: segments.reduce((n, s) => n + s.sealed.length, 0),
    status
  };
}
