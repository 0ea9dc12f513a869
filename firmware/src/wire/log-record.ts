import { crc8 } from "./crc8";
import { STORAGE_HEADER_BYTES } from "./storage";
import { getLE, putLE } from "./le-bytes";

/**
 * The encounter log in flash (docs/encounter-log.md). Shared with host tools.
 *
 * A log is a sequence of segment files `pt.log<n>` (n counts up), each a
 * fixed-size Storage file of SEGMENT_BYTES: a 16-byte header, then
 * SEGMENT_RECORDS slots of RECORD_BYTES. Flash is written only where it is
 * still erased (0xFF), so a power cut can damage at most the slot being
 * written; its CRC then fails and readers skip it.
 *
 * Header: 0 version | 1..4 base seconds (uint32 LE) | 5 flags (bit 0: base is
 * UTC; clear: base is the uptime of a boot whose clock was lost; bit 1,
 * FLAG_FLOOD: created during a flood, so every record in it was logged under
 * the flood rule) | 6..8 records dropped before this segment, cumulative
 * (uint24 LE) | 9 check of 0..8 | 10..13 anchor: UTC seconds at `base` for an
 * uptime segment, written when the clock is set (uint32 LE) | 14 check of
 * 10..13 | 15 flood mark: erased (0xFF) unless a flood was declared while
 * this segment was the one being written, then FLOOD_MARK (written in place).
 * Both flood fields are new in version 1 (byte 15 was spare, FLAG_FLOOD clear)
 * and read as "no flood" in older logs: readers that ignore them lose nothing.
 *
 * Record (one RPI heard in one scan): 0..4 RPI prefix | 5 AEM byte 1 (the
 * encrypted transmit power, decrypted at match time) | 6..8 uint24 LE:
 * bits 0-10 minutes since base, 11-17 mean RSSI as -(dBm)-20 (0..127),
 * 18-20 (max RSSI - mean)/2 dB (0..7), 21-23 packets heard - 1 (0..7) |
 * 9 check (CRC-8 of 0..8, top bit clear). An erased slot (all 0xFF) ends the segment.
 */
export var VERSION = 1;
export var HEADER_BYTES = 16;
export var RECORD_BYTES = 10;
export var SEGMENT_RECORDS = 100;
export var SEGMENT_BYTES = HEADER_BYTES + SEGMENT_RECORDS * RECORD_BYTES;
export var RPI_PREFIX_BYTES = 5;
/** Largest minute offset a record can hold; a later scan starts a new segment. */
export var MAX_MINUTE = 2047;
export var FLAG_UTC = 1;
/** Header flag: the segment was created during a flood (docs/encounter-log.md, "Flooding"). */
export var FLAG_FLOOD = 2;
/** Header byte written in place when a flood is declared while the segment is the one being written. */
export var HEADER_FLOOD_OFFSET = 15;
export var FLOOD_MARK = 0;

/**
 * The kiosk's acknowledgement (sync LOG_ACK): uint32 LE, every segment
 * numbered below it is stored on a kiosk. Written anew at each ack.
 */
export var ACK_FILE = "pt.ack";
/** Segment files are named LOG_PREFIX + n, n = 1, 2, … counting up. */
export var LOG_PREFIX = "pt.log";
/** Flash a segment file occupies: Espruino's file header plus the data, word aligned. */
export var SEGMENT_FOOTPRINT = STORAGE_HEADER_BYTES + ((SEGMENT_BYTES + 3) & ~3);
/** Free Storage the log never takes (the token's own keys and settings need it): a new segment needs SEGMENT_FOOTPRINT + RESERVE_BYTES free. */
export var RESERVE_BYTES = 1024;
/**
 * On a board whose Storage is shared with other apps the log takes at most
 * the slice a Puck.js leaves after a bundle of this size (its bundle budget):
 * floor((dataBytes - LOG_CAP_BUNDLE_BYTES) / SEGMENT_FOOTPRINT) segments.
 */
export var LOG_CAP_BUNDLE_BYTES = 12288;

/**
 * Commit check: CRC-8 with the top bit cleared. Flash is written in ascending
 * order, so the check byte is the last byte of a record to reach flash; being
 * never 0xFF, a record cut before it can never pass.
 */
function check(b: Uint8Array, start: number, end: number): number {
  return crc8(b, start, end) & 127;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** True if `n` bytes from `o` are all erased flash. */
export function isErased(b: Uint8Array, o: number, n: number): boolean {
  for (var i = 0; i < n; i++) if (b[o + i] !== 255) return false;
  return true;
}

/**
 * One record. `key[k..k+5]` is the RPI prefix, `key[k+5]` the AEM byte 1
 * (the scanner's table layout, so nothing is copied per packet).
 */
export function encodeRecord(key: Uint8Array, k: number, minute: number, meanRssi: number, maxRssi: number, count: number): Uint8Array {
  var r = new Uint8Array(RECORD_BYTES);
  for (var i = 0; i < 6; i++) r[i] = key[k + i];
  var mean = clamp(Math.round(-meanRssi - 20), 0, 127);
  // Rounded down: the stored peak never overstates how close a sender came.
  var spread = clamp(Math.floor((maxRssi - meanRssi) / 2), 0, 7);
  putLE(r, 6, clamp(minute, 0, MAX_MINUTE) + mean * 2048 + spread * 262144 + clamp(count - 1, 0, 7) * 2097152, 3);
  r[9] = check(r, 0, 9);
  return r;
}

export interface LogRecord {
  rpiPrefix: Uint8Array;
  /** Second byte of the AEM as heard (still encrypted). */
  aem1: number;
  minute: number;
  /** dBm, as received plus the board's RSSI calibration. */
  meanRssi: number;
  maxRssi: number;
  /** Packets heard in the scan, saturating at 8. */
  count: number;
}

/** The record in slot `o`, or null if the slot is erased or torn (CRC fails). */
export function decodeRecord(b: Uint8Array, o: number): LogRecord | null {
  if (isErased(b, o, RECORD_BYTES) || check(b, o, o + 9) !== b[o + 9]) return null;
  var v = getLE(b, o + 6, 3);
  var mean = -((v >> 11) & 127) - 20;
  return {
    rpiPrefix: new Uint8Array(b.subarray(o, o + 5)),
    aem1: b[o + 5],
    minute: v & 2047,
    meanRssi: mean,
    maxRssi: mean + 2 * ((v >> 18) & 7),
    count: ((v >> 21) & 7) + 1
  };
}

export function encodeHeader(base: number, flags: number, dropped: number): Uint8Array {
  var h = new Uint8Array(HEADER_BYTES);
  h.fill(255);
  h[0] = VERSION;
  putLE(h, 1, base, 4);
  h[5] = flags;
  putLE(h, 6, clamp(dropped, 0, 16777215), 3);
  h[9] = check(h, 0, 9);
  return h;
}

/** The 5 bytes written at HEADER_ANCHOR_OFFSET when an uptime segment is re-anchored. */
export var HEADER_ANCHOR_OFFSET = 10;
export function encodeAnchor(utcAtBase: number): Uint8Array {
  var a = new Uint8Array(5);
  putLE(a, 0, utcAtBase, 4);
  a[4] = check(a, 0, 4);
  return a;
}

export interface SegmentHeader {
  base: number;
  flags: number;
  dropped: number;
  /** UTC seconds at `base` for an uptime segment that was re-anchored; null if not. */
  anchor: number | null;
}

/** The header of a segment file, or null if it is torn or of another version. */
export function decodeHeader(b: Uint8Array): SegmentHeader | null {
  if (b.length < HEADER_BYTES || b[0] !== VERSION || check(b, 0, 9) !== b[9]) return null;
  return {
    base: getLE(b, 1, 4),
    flags: b[5],
    dropped: getLE(b, 6, 3),
    anchor: !isErased(b, 10, 5) && check(b, 10, 14) === b[14] ? getLE(b, 10, 4) : null
  };
}

/** Host side: whether a flood was declared while this segment file was the one being written. */
export function floodMarked(b: Uint8Array): boolean {
  return b.length > HEADER_FLOOD_OFFSET && b[HEADER_FLOOD_OFFSET] === FLOOD_MARK;
}

/** UTC seconds of the segment's base, or null for an uptime segment never anchored. */
export function utcBase(h: SegmentHeader): number | null {
  return h.flags & FLAG_UTC ? h.base : h.anchor;
}

/**
 * Index of the first erased slot: where the next record goes. Given `from`,
 * the search starts there (the token writes slots in order, so every slot
 * before the first erased one is written) and stops at `upTo` slots, which it
 * then returns: the sync link's reader looks only as far as one chunk.
 */
export function firstFreeSlot(b: Uint8Array, from?: number, upTo?: number): number {
  var n = Math.min(upTo || SEGMENT_RECORDS, SEGMENT_RECORDS);
  for (var s = from || 0; s < n; s++) if (isErased(b, HEADER_BYTES + s * RECORD_BYTES, RECORD_BYTES)) return s;
  return n;
}

export interface DecodedSegment {
  header: SegmentHeader;
  records: LogRecord[];
  /** Slots written but invalid (a power cut mid-write). */
  torn: number;
}

/** Every valid record of a segment file (host side: dump and matching). */
export function decodeSegment(b: Uint8Array): DecodedSegment | null {
  var header = decodeHeader(b);
  if (!header) return null;
  var records: LogRecord[] = [];
  var torn = 0;
  var end = firstFreeSlot(b);
  for (var s = 0; s < end; s++) {
    var r = decodeRecord(b, HEADER_BYTES + s * RECORD_BYTES);
    if (r) records.push(r);
    else torn++;
  }
  return { header: header, records: records, torn: torn };
}
