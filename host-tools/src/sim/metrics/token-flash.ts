/**
 * What a token left in its flash, read the way a kiosk would read it at sync:
 * the encounter log, its own TEKs and the persisted fault count, all through
 * tokenlog/ (the host's one reader of a token), plus the flash the files take.
 */
import { SEGMENT_FOOTPRINT } from "../../../../firmware/src/wire/log-record";
import { fileFootprint } from "../../../../firmware/src/wire/storage";
import { readFaultCount } from "../../tokenlog/health";
import { readOwnTeks } from "../../tokenlog/own-keys";
import { LoggedRecord, logSegmentSeq, readTokenLog } from "../../tokenlog/read-log";
import { StorageListing, tokenFilesFromStorage } from "../../tokenlog/token-files";

/** The part of Espruino's Storage a reader needs (EspruinoStorage has it). */
export type StorageView = StorageListing;

/** An emulated token's Storage, when the token has one a reader can use (EspruinoToken does; scripted tokens do not). */
export function storageOf(token: unknown): StorageView | undefined {
  const s = (token as { storage?: Partial<StorageView> } | undefined)?.storage;
  return s && typeof s.read === "function" && typeof s.list === "function" ? (s as StorageView) : undefined;
}

export interface TokenFlash {
  /** Records placed in UTC time; those of never-anchored uptime segments are left out. */
  encounters: LoggedRecord[];
  /** Records in flash, including uptime records that cannot be placed in time. */
  records: number;
  /** Records that could not be placed in time (uptime segment never anchored). */
  unplaced: number;
  /** Written slots that fail their check (power cut mid-write). */
  torn: number;
  segments: number;
  /** Flash the log occupies: every segment file with Espruino's header. */
  logBytes: number;
  /** Encounters the log says it dropped (full table, full flash), from its newest header. */
  dropped: number;
  teks: Array<{ rollingStart: number; tek: Uint8Array }>;
  /** Footprint of every file that is neither the log nor the boot code (TEKs, settings, fault counters). */
  otherFileBytes: number;
  /** Faults counted by the firmware's guards, as last persisted (at most hourly). */
  faults: number;
}

export function readTokenFlash(storage: StorageView): TokenFlash {
  const files = tokenFilesFromStorage(storage, "emulated token");
  // The figures take whatever is readable; damage is the log's own business here.
  const log = readTokenLog(files, { partial: true });
  let otherFileBytes = 0;
  for (const [n, b] of files.files) if (logSegmentSeq(n) === null && n !== ".bootcde") otherFileBytes += fileFootprint(b.length);
  return {
    encounters: log.records,
    records: log.segments.reduce((n, s) => n + s.records, 0),
    unplaced: log.skipped.unplaced,
    torn: log.skipped.torn,
    segments: log.segments.length,
    logBytes: log.segments.length * SEGMENT_FOOTPRINT,
    dropped: log.dropped,
    teks: readOwnTeks(files),
    otherFileBytes,
    faults: readFaultCount(files)
  };
}
