import {
  FLAG_UTC,
  HEADER_BYTES,
  LOG_PREFIX,
  VERSION,
  RECORD_BYTES,
  SEGMENT_BYTES,
  SEGMENT_RECORDS,
  decodeSegment,
  isErased,
  utcBase
} from "../../../firmware/src/wire/log-record";
import { DamagedFlashError, FlashDamage } from "./errors";
import { TokenFiles } from "./token-files";

/**
 * The encounter log out of a token's files (docs/encounter-log.md), decoded
 * with the firmware's own wire code so host and token cannot disagree. Every
 * record is either placed in UTC time or counted with the reason it was not:
 * nothing is guessed.
 */

export interface LoggedRecord {
  /** UTC seconds of the scan: the segment's UTC base (or anchor) + minute × 60. */
  time: number;
  rpiPrefix: Uint8Array;
  /** Byte 1 of the AEM as heard: the sender's transmit power, still encrypted. */
  aem1: number;
  /** dBm as stored (already corrected by the board's rssiCalibrationDb). */
  meanRssi: number;
  maxRssi: number;
  count: number;
  segment: string;
}

export type SegmentStatus = "ok" | "unplaced" | "unreadable";

export interface SegmentInfo {
  name: string;
  seq: number;
  status: SegmentStatus;
  /** The base's clock: UTC, or the uptime of a boot whose clock was lost; null when the header is unreadable. */
  clock: "utc" | "uptime" | null;
  /** Base seconds as stored (UTC or uptime). */
  base: number | null;
  /** UTC seconds at the base for an uptime segment the kiosk anchored later. */
  anchor: number | null;
  records: number;
  /** Written slots failing their check byte (a power cut mid-write). */
  tornRecords: number;
  /** Written slots the end of a cut-short file leaves incomplete. */
  cutOffSlots: number;
  /** Cumulative dropped count in this header. */
  dropped: number | null;
  /** UTC span of this segment's records, when placed. */
  first: number | null;
  last: number | null;
  /** Why the segment is unreadable, unplaced or cut short. */
  note?: string;
}

export interface SkippedRecords {
  /** Failed their check byte: torn by a power cut while being written. */
  torn: number;
  /** In uptime segments of a boot whose clock was lost and never set: no UTC time to give them. */
  unplaced: number;
  /** Written slots of segments whose header is torn or of another format version. */
  unreadableSegment: number;
  /** Slots cut by the end of a damaged image or a short file. */
  cutOff: number;
}

export interface TokenLog {
  source: string;
  kind: TokenFiles["kind"];
  segments: SegmentInfo[];
  /** Placed records, in log order (segment sequence, then slot). */
  records: LoggedRecord[];
  skipped: SkippedRecords;
  /** Sightings the token itself counted as lost (full scan table, evicted segments), from its newest readable header. */
  dropped: number;
  /** UTC span of the placed records. */
  span: { first: number; last: number } | null;
  damage: FlashDamage[];
}

export interface ReadLogOptions {
  /** Accept damaged input and keep what is readable (the damage is still reported). */
  partial?: boolean;
}

const SEGMENT_NAME = new RegExp(`^${LOG_PREFIX.replace(".", "\\.")}([1-9][0-9]*)$`);

/** The sequence number of a log segment file, or null if `name` is not one. */
export function logSegmentSeq(name: string): number | null {
  const m = SEGMENT_NAME.exec(name);
  return m ? Number(m[1]) : null;
}

function writtenSlots(b: Uint8Array, slots: number): number {
  let n = 0;
  for (let s = 0; s < slots; s++) if (!isErased(b, HEADER_BYTES + s * RECORD_BYTES, RECORD_BYTES)) n++;
  return n;
}

/** What one segment file holds. */
export interface LogSegment {
  info: SegmentInfo;
  /** Its records placed in time, in slot order (none unless info.status is "ok"). */
  records: LoggedRecord[];
  /** Its records that were skipped, by reason. */
  skipped: SkippedRecords;
  /** Why the file cannot be read whole, if it cannot. */
  damage: FlashDamage[];
}

function noneSkipped(): SkippedRecords {
  return { torn: 0, unplaced: 0, unreadableSegment: 0, cutOff: 0 };
}

/**
 * One segment file (`name` must be one: see logSegmentSeq), on its own: what
 * the simulator reads as the log grows. A short file is decoded over its
 * whole slots only; the slot it cuts is counted, not decoded.
 */
export function readLogSegment(name: string, raw: Uint8Array): LogSegment {
  const seq = logSegmentSeq(name);
  if (seq === null) throw new RangeError(`${name} is not a log segment file (${LOG_PREFIX}<n>)`);
  const info: SegmentInfo = {
    name,
    seq,
    status: "unreadable",
    clock: null,
    base: null,
    anchor: null,
    records: 0,
    tornRecords: 0,
    cutOffSlots: 0,
    dropped: null,
    first: null,
    last: null
  };
  const out: LogSegment = { info, records: [], skipped: noneSkipped(), damage: [] };
  const { skipped, damage } = out;
  if (raw.length > SEGMENT_BYTES) {
    info.note = `${raw.length} bytes; a segment of this format is ${SEGMENT_BYTES}`;
    damage.push({ kind: "corrupt", offset: SEGMENT_BYTES, file: name, message: info.note });
    return out;
  }
  let b = raw;
  if (raw.length < SEGMENT_BYTES) {
    const whole = Math.max(0, Math.min(SEGMENT_RECORDS, Math.floor((raw.length - HEADER_BYTES) / RECORD_BYTES)));
    const keep = HEADER_BYTES + whole * RECORD_BYTES;
    b = new Uint8Array(SEGMENT_BYTES).fill(0xff);
    b.set(raw.subarray(0, Math.min(keep, raw.length)));
    if (raw.length > keep && !isErased(raw, keep, raw.length)) info.cutOffSlots = 1;
    info.note = `cut short: ${raw.length} of ${SEGMENT_BYTES} bytes`;
    damage.push({ kind: "truncated", offset: raw.length, file: name, message: info.note });
    skipped.cutOff += info.cutOffSlots;
    if (raw.length < HEADER_BYTES) return out;
  }
  const seg = decodeSegment(b);
  if (!seg) {
    // The writer puts the header down before any record, so a torn header over
    // erased slots is a cut while creating the segment: nothing lost. Records
    // under an unreadable header are another format or damage, never a cut.
    const n = writtenSlots(b, SEGMENT_RECORDS);
    skipped.unreadableSegment += n;
    const otherVersion = b[0] !== VERSION && b[0] !== 0xff;
    info.note = otherVersion
      ? `format version ${b[0]}, which these tools do not read (this is version ${VERSION})`
      : "header torn (a power cut while the segment was created)";
    if (n) {
      info.note += `; ${n} written slot(s) skipped`;
      damage.push({
        kind: "corrupt",
        offset: 0,
        file: name,
        message: otherVersion ? `${info.note}: update the host tools` : `${n} written slot(s) under a header that fails its check`
      });
    }
    return out;
  }
  const h = seg.header;
  info.clock = h.flags & FLAG_UTC ? "utc" : "uptime";
  info.base = h.base;
  info.anchor = h.anchor;
  info.dropped = h.dropped;
  info.records = seg.records.length;
  info.tornRecords = seg.torn;
  skipped.torn += seg.torn;
  const base = utcBase(h);
  if (base === null) {
    info.status = "unplaced";
    info.note =
      (info.note ? info.note + "; " : "") + "uptime of a boot whose clock was lost, never anchored: its records cannot be placed in time";
    skipped.unplaced += seg.records.length;
    return out;
  }
  info.status = "ok";
  for (const r of seg.records) {
    const time = base + r.minute * 60;
    out.records.push({
      time,
      rpiPrefix: r.rpiPrefix,
      aem1: r.aem1,
      meanRssi: r.meanRssi,
      maxRssi: r.maxRssi,
      count: r.count,
      segment: name
    });
    info.first = info.first === null ? time : Math.min(info.first, time);
    info.last = info.last === null ? time : Math.max(info.last, time);
  }
  return out;
}

/** Decodes the log; throws DamagedFlashError for damaged input unless `partial`. */
export function readTokenLog(t: TokenFiles, opts: ReadLogOptions = {}): TokenLog {
  const damage = [...t.damage];
  const skipped = noneSkipped();
  const records: LoggedRecord[] = [];
  const names = [...t.files.keys()].filter((n) => logSegmentSeq(n) !== null).sort((a, b) => logSegmentSeq(a)! - logSegmentSeq(b)!);
  const segments: SegmentInfo[] = [];
  for (const n of names) {
    const seg = readLogSegment(n, t.files.get(n)!);
    segments.push(seg.info);
    for (const r of seg.records) records.push(r);
    skipped.torn += seg.skipped.torn;
    skipped.unplaced += seg.skipped.unplaced;
    skipped.unreadableSegment += seg.skipped.unreadableSegment;
    skipped.cutOff += seg.skipped.cutOff;
    // A file the image already cut short is reported once, as the image's damage.
    for (const d of seg.damage) if (d.kind !== "truncated" || !damage.some((x) => x.file === n)) damage.push(d);
  }
  let dropped = 0;
  for (const s of segments) if (s.dropped !== null) dropped = Math.max(dropped, s.dropped);
  let span: TokenLog["span"] = null;
  for (const r of records)
    span = span ? { first: Math.min(span.first, r.time), last: Math.max(span.last, r.time) } : { first: r.time, last: r.time };
  if (damage.length && !opts.partial) {
    throw new DamagedFlashError(t.source, damage, {
      segments: segments.filter((s) => s.status !== "unreadable").length,
      records: records.length + skipped.unplaced,
      cutOffSlots: skipped.cutOff
    });
  }
  return { source: t.source, kind: t.kind, segments, records, skipped, dropped, span, damage };
}
