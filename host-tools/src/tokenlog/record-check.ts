import {
  HEADER_BYTES,
  LogRecord,
  RECORD_BYTES,
  SEGMENT_RECORDS,
  SegmentHeader,
  decodeHeader,
  decodeRecord,
  isErased
} from "../../../firmware/src/wire/log-record";
import { DEFAULT_LOG_MIN_RSSI_DBM, listBoards, loadBoard } from "../build/boards";

/**
 * The host's test of whether a slot holds a record the token wrote.
 *
 * A record's own check is a CRC-8 with the top bit cleared: random bytes pass
 * it 1 time in 256, and the format has no room for more (changing it would
 * change the token; docs/encounter-log.md, "Reading the log on the host").
 * The host adds what the token's writer guarantees about every record it
 * writes, which costs the token nothing:
 *
 * - the logging floor: every packet counted into a record reached the
 *   board's floor, so the mean did too (mean stored as −dBm−20 ≤ −floor−20);
 * - one packet has no spread: peak − mean = 0;
 * - more generally, with c packets each at or above the floor,
 *   peak − mean ≤ (c − 1)(mean − floor) (exact below the 8-packet saturation);
 * - slots are written in order and the clock only runs forward within a
 *   segment (setting it starts a new segment, and a reboot continues a UTC
 *   segment on the same clock), so minutes never decrease from slot to slot.
 *
 * The last rule is applied by keeping the records that are in every longest
 * non-decreasing run of minutes: a record whose minute breaks the order is
 * set aside, and where it is not clear which of two records breaks it (a
 * tie), both are, so a corrupt slot never pushes a real one out unnoticed.
 * Everything set aside is counted as rejected, never silently dropped.
 */

/** Fallback when no board config can be read: the lowest floor board.schema.json allows. */
const SCHEMA_MIN_FLOOR_DBM = -127;

let hostFloor: number | undefined;

/**
 * The logging floor records are checked against: the lowest of the boards
 * these tools build firmware for (a deployment that lowers a board's floor
 * changes its config, and the host then accepts its weaker records).
 */
export function logFloorDbm(): number {
  if (hostFloor === undefined) {
    let floor = DEFAULT_LOG_MIN_RSSI_DBM;
    try {
      for (const id of listBoards()) floor = Math.min(floor, loadBoard(id).schedule.logMinRssiDbm ?? DEFAULT_LOG_MIN_RSSI_DBM);
    } catch {
      // Without the board configs the floor is unknown: accept every mean the format can hold rather than reject real records.
      floor = SCHEMA_MIN_FLOOR_DBM;
    }
    hostFloor = floor;
  }
  return hostFloor;
}

/**
 * Whether a record that passed its check byte has fields the token's writer
 * can produce, with a logging floor of `floorDbm`. (The time order against
 * the other slots is checked by timeOrdered.) Not checked: that slot 0 holds
 * minute 0, as it does when the write that created the segment completes: a
 * cut just before that record, and a reboot that kept the clock, put a later
 * scan's record there.
 */
export function plausibleFields(r: LogRecord, floorDbm: number): boolean {
  // As stored: mean 0..127 (−dBm−20, clamped), spread 0..7 (2 dB steps, rounded down), count 1..8 (saturating).
  const mean = -r.meanRssi - 20;
  const spread = (r.maxRssi - r.meanRssi) / 2;
  if (mean > Math.max(0, -floorDbm - 20)) return false;
  if (r.count === 1) return spread === 0;
  // The stored mean was rounded from a true mean of at most −mean−19.5 dBm; at 0 it may have been clamped, so no bound.
  if (r.count < 8 && mean >= 1 && 2 * spread > (r.count - 1) * (-mean - 19.5 - floorDbm)) return false;
  return true;
}

/**
 * For minutes in slot order, which are in every longest non-decreasing
 * subsequence: the records the time order vouches for. O(n²) for n ≤ 100.
 */
export function timeOrdered(minutes: readonly number[]): boolean[] {
  const n = minutes.length;
  const endLen = new Array<number>(n).fill(1);
  const startLen = new Array<number>(n).fill(1);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < i; j++) if (minutes[j] <= minutes[i] && endLen[j] + 1 > endLen[i]) endLen[i] = endLen[j] + 1;
  for (let i = n - 1; i >= 0; i--)
    for (let j = i + 1; j < n; j++) if (minutes[j] >= minutes[i] && startLen[j] + 1 > startLen[i]) startLen[i] = startLen[j] + 1;
  let longest = 0;
  for (let i = 0; i < n; i++) longest = Math.max(longest, endLen[i]);
  // Each longest run has exactly one element at each length; an element is in all of them iff no other on some longest run shares its length.
  const onLongest = minutes.map((_, i) => endLen[i] + startLen[i] - 1 === longest);
  const atLength = new Map<number, number>();
  for (let i = 0; i < n; i++) if (onLongest[i]) atLength.set(endLen[i], (atLength.get(endLen[i]) ?? 0) + 1);
  return minutes.map((_, i) => onLongest[i] && atLength.get(endLen[i]) === 1);
}

export interface CheckedSegment {
  header: SegmentHeader;
  /** Accepted records, in slot order. */
  records: LogRecord[];
  /** The slot of each accepted record. */
  slots: number[];
  /** Written slots failing the check byte (a power cut mid-write, or damage). */
  torn: number;
  /** Slots passing the check byte that the token cannot have written there (fields or time order): damage or a torn write. */
  rejected: number;
}

/**
 * Every record of a segment file the host can vouch for, or null if its
 * header is torn or of another version. Every slot is looked at, not only
 * those before the first erased one: the writer moves past a slot whose
 * write failed, so a record can follow an erased slot.
 */
export function checkSegment(b: Uint8Array, floorDbm: number = logFloorDbm()): CheckedSegment | null {
  const header = decodeHeader(b);
  if (!header) return null;
  const found: LogRecord[] = [];
  const at: number[] = [];
  let torn = 0;
  let rejected = 0;
  for (let s = 0; s < SEGMENT_RECORDS; s++) {
    const o = HEADER_BYTES + s * RECORD_BYTES;
    if (o + RECORD_BYTES > b.length) break;
    if (isErased(b, o, RECORD_BYTES)) continue;
    const r = decodeRecord(b, o);
    if (!r) torn++;
    else if (!plausibleFields(r, floorDbm)) rejected++;
    else {
      found.push(r);
      at.push(s);
    }
  }
  const keep = timeOrdered(found.map((r) => r.minute));
  const records = found.filter((_, i) => keep[i]);
  return { header, records, slots: at.filter((_, i) => keep[i]), torn, rejected: rejected + found.length - records.length };
}
