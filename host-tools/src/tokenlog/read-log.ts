import { DROP_FILE } from "../../../firmware/src/wire/drop-count";
import { savedFaults } from "../../../firmware/src/wire/fault-count";
import { getLE } from "../../../firmware/src/wire/le-bytes";
import {
  ACK_FILE,
  FLAG_FLOOD,
  FLAG_UTC,
  HEADER_BYTES,
  LOG_PREFIX,
  VERSION,
  RECORD_BYTES,
  SEGMENT_BYTES,
  SEGMENT_RECORDS,
  decodeHeader,
  floodMarked,
  isErased,
  utcBase
} from "../../../firmware/src/wire/log-record";
import { DamagedFlashError, FlashDamage } from "./errors";
import { checkSegment } from "./record-check";
import { ErasedEntry } from "./storage-image";
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
  /** Slots passing the check byte that the token cannot have written (record-check.ts): damage, or a torn write. */
  rejectedRecords: number;
  /** Written slots the end of a cut-short file leaves incomplete. */
  cutOffSlots: number;
  /** Cumulative dropped count in this header. */
  dropped: number | null;
  /** Created while the token had declared a flood (FLAG_FLOOD): its records were logged under the flood rule. */
  flood: boolean;
  /** A flood was declared while this segment was the one being written (its header's flood mark). */
  floodMarked: boolean;
  /** UTC span of this segment's records, when placed. */
  first: number | null;
  last: number | null;
  /** Why the segment is unreadable, unplaced or cut short. */
  note?: string;
}

export interface SkippedRecords {
  /** Failed their check byte: torn by a power cut while being written. */
  torn: number;
  /** Passed the check byte but are not a record the token can have written there (impossible RSSI fields, out of time order): damaged. */
  rejected: number;
  /** In uptime segments of a boot whose clock was lost and never set: no UTC time to give them. */
  unplaced: number;
  /** Written slots of segments whose header is torn or of another format version. */
  unreadableSegment: number;
  /** Slots cut by the end of a damaged image or a short file. */
  cutOff: number;
}

/**
 * Why segment numbers are missing between two segments kept:
 * - acknowledged: below pt.ack, so a kiosk stored them (the token erases those first); not lost;
 * - evicted: erased by the token to make room, written during a flood (those go first, from the
 *   middle of the log); their records are in the dropped count;
 * - empty: erased by the token at boot, a power cut having cut the segment's creation; it held nothing;
 * - renumbered: more numbers than a token ever uses: no segment had them; the token took its
 *   numbering from a damaged pt.ack (a power cut while it was rewritten);
 * - unexplained: no sign of any of those: a flood segment evicted when no segment around it shows
 *   the flood, a segment erased at boot after a power cut cut its creation (then empty), or one lost
 *   to flash damage (a damaged name or header): up to SEGMENT_RECORDS records each, in no count.
 */
export type GapCause = "acknowledged" | "evicted" | "empty" | "renumbered" | "unexplained";

export interface SegmentGap {
  /** Missing sequence numbers first..last. */
  first: number;
  last: number;
  cause: GapCause;
  /** UTC time of the newest record (or the base) of the segment before, and the base of the segment after; null when unknown. */
  after: number | null;
  before: number | null;
}

/** Sightings the token lost between two points of its log (null: before the oldest segment kept / after the newest one began). */
export interface LossSpan {
  from: number | null;
  to: number | null;
  sightings: number;
}

/**
 * Everything that makes the log incomplete: what the token counted as not
 * kept (scan table full, a flood, segments evicted for space), when, and the
 * records present that cannot be used. `match --flash` says these next to its
 * level (docs/risk.md, "A log that lost records").
 */
export interface LogLosses {
  /** Sightings the token counted as not kept, since the log began (the newest of the headers and DROP_FILE). */
  dropped: number;
  /** When they were lost, from the counter in consecutive segment headers and DROP_FILE (UTC; null where unknown). */
  spans: LossSpan[];
  /** Sequence numbers missing between the oldest and the newest segment (the first MAX_LISTED_MISSING): segments erased out of order (written during a flood, evicted first) or lost. */
  missingSegments: number[];
  /** The same numbers as runs, each with its likely cause and when it falls. */
  gaps: SegmentGap[];
  /** The token's acknowledgement (pt.ack): every segment below it is stored on a kiosk; null without the file. */
  acked: number | null;
  /** Segments created during a flood or being written when one was declared, and the UTC span of their records. */
  floodSegments: string[];
  flood: { first: number; last: number } | null;
  /** Records in flash that cannot be matched: torn, rejected, not placed in time, under an unreadable header, cut off. */
  unusable: number;
}

export interface TokenLog {
  source: string;
  kind: TokenFiles["kind"];
  segments: SegmentInfo[];
  /** Placed records, in log order (segment sequence, then slot). */
  records: LoggedRecord[];
  skipped: SkippedRecords;
  /** Sightings the token itself counted as lost (full scan table, flood, evicted segments): the newest of its readable headers and its drop-count file. */
  dropped: number;
  /** The count in DROP_FILE, written within about an hour of a loss (null: no such file). */
  droppedFile: number | null;
  losses: LogLosses;
  /** UTC span of the placed records. */
  span: { first: number; last: number } | null;
  damage: FlashDamage[];
  /** Damage found and read around with nothing lost (a damaged segment size, a flipped bit in a name): reported, not refused. */
  workedAround: FlashDamage[];
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
  return { torn: 0, rejected: 0, unplaced: 0, unreadableSegment: 0, cutOff: 0 };
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
    rejectedRecords: 0,
    cutOffSlots: 0,
    dropped: null,
    flood: false,
    floodMarked: false,
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
  const seg = checkSegment(b);
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
  info.flood = !!(h.flags & FLAG_FLOOD);
  info.floodMarked = floodMarked(b);
  info.records = seg.records.length;
  info.tornRecords = seg.torn;
  info.rejectedRecords = seg.rejected;
  skipped.torn += seg.torn;
  skipped.rejected += seg.rejected;
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
    skipped.rejected += seg.skipped.rejected;
    skipped.unplaced += seg.skipped.unplaced;
    skipped.unreadableSegment += seg.skipped.unreadableSegment;
    skipped.cutOff += seg.skipped.cutOff;
    // A file the image already cut short is reported once, as the image's damage.
    for (const d of seg.damage) if (d.kind !== "truncated" || !damage.some((x) => x.file === n)) damage.push(d);
  }
  let dropped = 0;
  for (const s of segments) if (s.dropped !== null) dropped = Math.max(dropped, s.dropped);
  const dropFile = t.files.get(DROP_FILE);
  const droppedFile = dropFile ? savedFaults(dropFile)[0] : null;
  if (droppedFile !== null) dropped = Math.max(dropped, droppedFile);
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
  const ackFile = t.files.get(ACK_FILE);
  const acked = ackFile && ackFile.length === 4 ? getLE(ackFile, 0, 4) : null;
  const losses = logLosses(segments, skipped, dropped, acked, t.erased ?? [], damage.length > 0);
  return {
    source: t.source,
    kind: t.kind,
    segments,
    records,
    skipped,
    dropped,
    droppedFile,
    losses,
    span,
    damage,
    workedAround: t.workedAround ?? []
  };
}

/** UTC time of a segment's base, or its first record, or null. */
function segmentTime(s: SegmentInfo): number | null {
  if (s.status !== "ok" || s.base === null) return s.first;
  return s.clock === "utc" ? s.base : s.anchor;
}

/** What is left of a segment's name once Espruino has zeroed its first 4 bytes to erase it ("og12" of pt.log12). */
const ERASED_SEGMENT_TAIL = new RegExp(`^${LOG_PREFIX.slice(4)}([1-9][0-9]*)$`);

/**
 * A gap longer than this is not segments that existed: at one segment per 100 sightings it would
 * take a token tens of millions of sightings. The token makes one when it reads a damaged pt.ack:
 * numbering never goes below the acknowledgement, so it jumps to whatever the file says.
 */
const MAX_REAL_GAP = 1 << 20;

/** Missing numbers listed one by one in LogLosses.missingSegments (the gaps say the rest). */
const MAX_LISTED_MISSING = 1000;

/** Why sequence number `n` is missing between the kept segments `lo` and `hi` (see GapCause). */
function gapCause(
  n: number,
  lo: SegmentInfo,
  hi: SegmentInfo,
  segments: readonly SegmentInfo[],
  acked: number | null,
  erased: readonly ErasedEntry[],
  damaged: boolean
): GapCause {
  if (acked !== null && n < acked) return "acknowledged";
  // In an image, an erased file stays in the journal, name and data, until compaction: Espruino
  // zeroes only the first 4 name bytes, so "…og12" is what the token itself erased of pt.log12.
  const tail = LOG_PREFIX.slice(4) + n;
  const trash = erased.find((e) => e.nameTail === tail);
  if (trash) {
    if (decodeHeader(trash.data)) return "evicted";
    let written = 0;
    for (let o = HEADER_BYTES; o + RECORD_BYTES <= trash.data.length; o += RECORD_BYTES)
      if (!isErased(trash.data, o, RECORD_BYTES)) written++;
    return written ? "unexplained" : "empty";
  }
  // Without that trace: the token evicts the lowest-numbered segment created during a flood first,
  // so a flood segment gone from the middle leaves no kept flood segment below it, and the flood
  // shows next to the gap (the mark on the segment being written when it was declared, or flood
  // segments after it). Not trusted when file headers are damaged: a damaged name leaves the same gap.
  if (!damaged && !segments.some((s) => s.seq < n && s.flood) && (lo.floodMarked || hi.flood)) return "evicted";
  return "unexplained";
}

function segmentGaps(
  segments: readonly SegmentInfo[],
  acked: number | null,
  erased: readonly ErasedEntry[],
  damaged: boolean
): SegmentGap[] {
  const gaps: SegmentGap[] = [];
  const trashNumbers: number[] = [];
  for (const e of erased) {
    const m = ERASED_SEGMENT_TAIL.exec(e.nameTail);
    if (m) trashNumbers.push(Number(m[1]));
  }
  for (let i = 1; i < segments.length; i++) {
    const lo = segments[i - 1];
    const hi = segments[i];
    const after = lo.last ?? segmentTime(lo);
    const before = segmentTime(hi);
    if (hi.seq - lo.seq < 2) continue;
    // The cause changes only at the acknowledgement and at numbers with an erased file of their own,
    // so it is found once per stretch between those: a gap can span billions of numbers (a torn pt.ack
    // makes the token jump its numbering to the value read), and is never walked number by number.
    const cuts = new Set<number>([lo.seq + 1, hi.seq]);
    if (acked !== null && acked > lo.seq + 1 && acked < hi.seq) cuts.add(acked);
    for (const n of trashNumbers)
      if (n > lo.seq && n < hi.seq) {
        cuts.add(n);
        cuts.add(n + 1);
      }
    if (hi.seq - lo.seq - 1 > MAX_REAL_GAP) {
      gaps.push({ first: lo.seq + 1, last: hi.seq - 1, cause: "renumbered", after, before });
      continue;
    }
    const bounds = [...cuts].sort((a, b) => a - b);
    for (let k = 0; k + 1 < bounds.length; k++) {
      const cause = gapCause(bounds[k], lo, hi, segments, acked, erased, damaged);
      const run = gaps[gaps.length - 1];
      if (run && run.cause === cause && run.last === bounds[k] - 1) run.last = bounds[k + 1] - 1;
      else gaps.push({ first: bounds[k], last: bounds[k + 1] - 1, cause, after, before });
    }
  }
  return gaps;
}

function logLosses(
  segments: SegmentInfo[],
  skipped: SkippedRecords,
  dropped: number,
  acked: number | null,
  erased: readonly ErasedEntry[],
  damaged: boolean
): LogLosses {
  // The counter is cumulative: its growth between two headers was lost
  // between their bases; what DROP_FILE (or a later header) adds after the
  // newest header was lost after that segment began.
  const spans: LossSpan[] = [];
  let prev: { time: number | null; dropped: number } | null = null;
  for (const s of segments) {
    if (s.dropped === null) continue;
    const time = segmentTime(s);
    const grew = s.dropped - (prev ? prev.dropped : 0);
    if (grew > 0) spans.push({ from: prev ? prev.time : null, to: time, sightings: grew });
    if (!prev || s.dropped >= prev.dropped) prev = { time, dropped: s.dropped };
  }
  const after = dropped - (prev ? prev.dropped : 0);
  if (after > 0) spans.push({ from: prev ? prev.time : null, to: null, sightings: after });
  const gaps = segmentGaps(segments, acked, erased, damaged);
  const missingSegments: number[] = [];
  for (const g of gaps) for (let n = g.first; n <= g.last && missingSegments.length < MAX_LISTED_MISSING; n++) missingSegments.push(n);
  const flooded = segments.filter((s) => s.flood || s.floodMarked);
  let flood: LogLosses["flood"] = null;
  for (const s of flooded)
    if (s.first !== null && s.last !== null)
      flood = flood ? { first: Math.min(flood.first, s.first), last: Math.max(flood.last, s.last) } : { first: s.first, last: s.last };
  return {
    dropped,
    spans,
    missingSegments,
    gaps,
    acked,
    floodSegments: flooded.map((s) => s.name),
    flood,
    unusable: skipped.torn + skipped.rejected + skipped.unplaced + skipped.unreadableSegment + skipped.cutOff
  };
}

/**
 * The losses that matter for a risk graded now: those of the last `days`
 * before the log's end (a loss older than that could only have held
 * sightings too old to match). Null when the log lost nothing that matters.
 */
export interface RecentLosses {
  /** Sightings not kept, and records kept but unusable. */
  sightings: number;
  /** Earliest and latest time the losses can be placed in (null: before the oldest segment / until the log was read). */
  from: number | null;
  to: number | null;
  flood: boolean;
  /** Segments missing for no reason the log shows (SegmentGap "unexplained"): up to SEGMENT_RECORDS records each, in no count. */
  missingSegments: number;
}

export function recentLosses(log: TokenLog, days = 14): RecentLosses | null {
  const l = log.losses;
  const end = log.span ? log.span.last : null;
  const since = end === null ? null : end - days * 86400;
  const spans = l.spans.filter((s) => since === null || s.to === null || s.to >= since);
  const sightings = spans.reduce((a, s) => a + s.sightings, 0) + l.unusable;
  const flood = l.flood !== null && (since === null || l.flood.last >= since);
  // Evicted segments are in the dropped count already, acknowledged ones are on a kiosk and empty ones held nothing.
  const gaps = l.gaps.filter((g) => g.cause === "unexplained" && (since === null || g.before === null || g.before >= since));
  const missingSegments = gaps.reduce((a, g) => a + g.last - g.first + 1, 0);
  if (!sightings && !flood && !missingSegments) return null;
  const placed = [...spans, ...gaps.map((g) => ({ from: g.after, to: g.before }))];
  let from: number | null = placed.length ? Infinity : null;
  let to: number | null = placed.length ? -Infinity : null;
  for (const s of placed) {
    from = s.from === null || from === null ? null : Math.min(from, s.from);
    to = s.to === null || to === null ? null : Math.max(to, s.to);
  }
  if (from !== null && since !== null && from < since) from = since;
  return { sightings, from, to, flood, missingSegments };
}
