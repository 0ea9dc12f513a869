import type { RiskConfig } from "../match/risk-config";
import { ConnectFailedError } from "../ble/errors";
import type { FoundToken, SyncLink, Transport } from "../ble/transport";
import type { ExposureKey } from "../keys/types";
import type { RpiIndex } from "../match/rpi-index";
import type { SyncProgress } from "../sync/client";
import type { SyncTimer } from "../sync/wire";
import { SyncRoundResult, SyncRoundStore, syncRound } from "./sync-round";

/**
 * One pass of the kiosk's radio: listen for tokens with their sync window
 * open, and give each a sync round (sync-round.ts), strongest first. A scan
 * cannot tell a token's window from a phone (both advertise 0xFD6F), so a
 * device that takes no connection is passed over; only the handshake says
 * which enrolled token answered. Tokens are served one after another: the
 * kiosk has one radio.
 */

export interface KioskPassOptions {
  transport: Transport;
  store: SyncRoundStore;
  keys: readonly ExposureKey[];
  index?: RpiIndex;
  workDir: string;
  scanMs: number;
  connectTimeoutMs: number;
  now?: () => number;
  /** The client's timer for a link (a simulated link brings its own). */
  timerOf?: (link: SyncLink) => SyncTimer | undefined;
  /** Addresses to leave alone this pass (a token synced moments ago keeps its window, and its address, open a while). */
  skip?: (address: string) => boolean;
  /** A diagnosis (diagnose.ts): ask this token for the wearer's keys, and wait this long for the press. */
  releaseTeksOf?: string;
  consentWaitMs?: number;
  /** How matches are graded (the kiosk directory's risk config). */
  riskConfig?: RiskConfig;
  /** The kiosk directory's own board configs, for crediting a token's scans (KioskDir.boardDir). */
  boardDir?: string;
  onEvent?: (e: KioskPassEvent) => void;
}

export type KioskPassEvent =
  | { kind: "scanning"; ms: number }
  | { kind: "found"; found: FoundToken[] }
  | { kind: "connecting"; address: string }
  | { kind: "passed-over"; address: string; reason: string }
  | { kind: "progress"; address: string; progress: SyncProgress }
  | { kind: "done"; address: string; result: SyncRoundResult };

export interface KioskPassReport {
  found: FoundToken[];
  /** One per device that took a connection: synced or not, each says why. */
  rounds: Array<{ address: string; result: SyncRoundResult }>;
  passedOver: Array<{ address: string; reason: string }>;
}

export async function kioskPass(o: KioskPassOptions): Promise<KioskPassReport> {
  const emit = o.onEvent ?? (() => undefined);
  emit({ kind: "scanning", ms: o.scanMs });
  const found = await o.transport.scan(o.scanMs);
  emit({ kind: "found", found });
  const report: KioskPassReport = { found, rounds: [], passedOver: [] };
  for (const { address } of found) {
    if (o.skip?.(address)) continue;
    emit({ kind: "connecting", address });
    let link: SyncLink;
    try {
      link = await o.transport.connect(address, o.connectTimeoutMs);
    } catch (e) {
      if (!(e instanceof ConnectFailedError)) throw e;
      report.passedOver.push({ address, reason: e.message });
      emit({ kind: "passed-over", address, reason: e.message });
      continue;
    }
    // Per-token failures come back as the round's outcome (and are recorded); what escapes would stop every token.
    const result = await syncRound(link, {
      store: o.store,
      keys: o.keys,
      index: o.index,
      workDir: o.workDir,
      now: o.now,
      timer: o.timerOf?.(link),
      releaseTeksOf: o.releaseTeksOf,
      consentWaitMs: o.consentWaitMs,
      riskConfig: o.riskConfig,
      boardDir: o.boardDir,
      onProgress: (progress) => emit({ kind: "progress", address, progress })
    });
    report.rounds.push({ address, result });
    emit({ kind: "done", address, result });
  }
  return report;
}
