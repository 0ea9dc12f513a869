/**
 * What a token left in its flash, read the way a kiosk would read it at sync:
 * the encounter log (segment files `pt.log<n>`), its own TEKs (`pt.tek<start>`)
 * and the persisted fault count (`pt.err`). Decoding reuses the firmware's own
 * wire and key-store code, so the host can never disagree with the token about
 * the format.
 */
import { LOG_PREFIX, SEGMENT_FOOTPRINT } from "../../../../firmware/src/log/store";
import { decodeSegment, utcBase } from "../../../../firmware/src/wire/log-record";
import { readTeks } from "../../../../firmware/src/gaen/tek-store";
import { FAULT_COUNT_FILE, savedFaults } from "../../../../firmware/src/faults";
import { readOnlyStorage } from "../../tokenlog/read-only-storage";

/** The part of Espruino's Storage a reader needs (EspruinoStorage has it). */
export interface StorageView {
  read(name: string): Uint8Array | undefined;
  list(): string[];
}

/** Espruino's per-file header, and its word alignment of file data. */
const FILE_HEADER_BYTES = 32;
export function fileFootprint(dataBytes: number): number {
  return FILE_HEADER_BYTES + ((dataBytes + 3) & ~3);
}

export interface LoggedEncounter {
  /** UTC seconds of the scan (segment base + minute); records of never-anchored uptime segments are left out. */
  time: number;
  rpiPrefix: Uint8Array;
  /** AEM byte 1 as heard: the sender's transmit power, still encrypted. */
  aem1: number;
  /** dBm as the firmware stored them, i.e. already corrected by the board's rssiCalibrationDb. */
  meanRssi: number;
  maxRssi: number;
  count: number;
}

export interface TokenFlash {
  encounters: LoggedEncounter[];
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

function logSeq(name: string): number {
  return name.startsWith(LOG_PREFIX) ? parseInt(name.slice(LOG_PREFIX.length), 10) : NaN;
}

export function readTokenFlash(storage: StorageView): TokenFlash {
  const names = storage.list();
  const logs = names.filter((n) => Number.isInteger(logSeq(n)) && logSeq(n) > 0).sort((a, b) => logSeq(a) - logSeq(b));
  const out: TokenFlash = { encounters: [], records: 0, unplaced: 0, torn: 0, segments: 0, logBytes: 0, dropped: 0, teks: [], otherFileBytes: 0, faults: 0 };
  for (const n of logs) {
    const b = storage.read(n);
    // A name torn by a cut inside Espruino's own file header lists but does not read.
    if (!b) continue;
    out.segments++;
    out.logBytes += SEGMENT_FOOTPRINT;
    const seg = decodeSegment(b);
    if (!seg) continue;
    out.dropped = Math.max(out.dropped, seg.header.dropped);
    out.torn += seg.torn;
    out.records += seg.records.length;
    const base = utcBase(seg.header);
    if (base === null) {
      out.unplaced += seg.records.length;
      continue;
    }
    for (const r of seg.records) {
      out.encounters.push({ time: base + r.minute * 60, rpiPrefix: r.rpiPrefix, aem1: r.aem1, meanRssi: r.meanRssi, maxRssi: r.maxRssi, count: r.count });
    }
  }
  for (const n of names) {
    if (logs.includes(n) || n === ".bootcde") continue;
    const b = storage.read(n);
    if (b) out.otherFileBytes += fileFootprint(b.length);
  }
  out.teks = readTeks(readOnlyStorage((n) => storage.read(n), () => storage.list())).map((t) => ({ rollingStart: t.rollingStart, tek: t.tek }));
  out.faults = savedFaults(storage.read(FAULT_COUNT_FILE))[0];
  return out;
}
