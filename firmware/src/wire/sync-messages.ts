import { getLE, putLE } from "./le-bytes";
/**
 * The sync operations (docs/sync-protocol.md, "Messages"): what a sealed
 * frame carries, type ‖ payload, integers little-endian. The central sends
 * one request and waits for its response before the next, so the token never
 * has more than one frame (≤ LINK_TX_BYTES) unacknowledged. Shared by token
 * (decodeRequest, encode* of responses) and host (the opposite).
 *
 *   request (central → token)            response (token → central)
 *   10 INFO_GET                          90 INFO  (INFO_BYTES, see encodeInfo)
 *   11 LOG_READ seg u32 ‖ off u16        91 LOG_CHUNK seg u32 ‖ off u16 ‖ flags u8 ‖ data
 *   12 LOG_ACK  seg u32 ‖ off u16        92 LOG_ACKED seg u32 ‖ off u16
 *   13 TIME_SET unix u32                 93 TIME_DONE before u32 ‖ after u32
 *   14 RISK_SET level u8 ‖ reason u8     94 RISK_DONE level u8 ‖ reason u8
 *   15 TEK_GET  index u8                 95 TEK status u8 [‖ count u8 ‖ index u8 ‖ rollingStart u32 ‖ tek 16]
 *                                        EE ERROR code u8 (the request was not understood; the session goes on)
 */
export var REQ_INFO = 0x10;
export var REQ_LOG_READ = 0x11;
export var REQ_LOG_ACK = 0x12;
export var REQ_TIME_SET = 0x13;
export var REQ_RISK_SET = 0x14;
export var REQ_TEK_GET = 0x15;
/** The token's archive secret: the key the kiosk seals this token's log copy under, kept by the token only. */
export var REQ_ARCHIVE_GET = 0x16;
/** A response's type is its request's with the top bit set. */
export var RESPONSE = 0x80;
export var RSP_ERROR = 0xee;

/** ERROR codes. */
export var ERR_UNKNOWN = 1;
export var ERR_LENGTH = 2;
export var ERR_VALUE = 3;

/** LOG_CHUNK flags. */
/** The data reaches the last written byte of this segment: read on at (seg + 1, 0). */
export var CHUNK_SEGMENT_END = 1;
/** No segment after this one: the log ends here (for now). */
export var CHUNK_LOG_END = 2;
/** The position asked for was freed: this chunk is the oldest position still kept. */
export var CHUNK_GAP = 4;
/** Bytes of log data one chunk carries at most (MESSAGE_MAX − 8). */
export var CHUNK_DATA_MAX = 110;

/** TEK statuses. */
export var TEK_OK = 0;
/** The wearer has not pressed the button during this session: nothing released. */
export var TEK_NO_CONSENT = 1;
export var TEK_NO_KEY = 2;

/** Risk levels a central may write (wire/settings.ts): 0 none found, 1 low, 2 high. */
export var RISK_LEVELS = 3;

/**
 * A request, flat: `seg`/`off` for LOG_READ and LOG_ACK; `value` the time
 * for TIME_SET, the level for RISK_SET (with `reason`), the index for TEK_GET.
 */
export interface SyncRequest {
  type: number;
  seg: number;
  off: number;
  value: number;
  reason: number;
}

/** Message length of each request type, from REQ_INFO on. */
var REQ_LEN = [1, 7, 7, 5, 3, 2, 1];

/** Central: the message of a request. */
export function encodeRequest(r: SyncRequest): Uint8Array {
  var m = new Uint8Array(REQ_LEN[r.type - REQ_INFO]);
  m[0] = r.type;
  if (r.type === REQ_LOG_READ || r.type === REQ_LOG_ACK) {
    putLE(m, 1, r.seg, 4);
    putLE(m, 5, r.off, 2);
  } else if (r.type === REQ_TIME_SET) putLE(m, 1, r.value, 4);
  else if (m.length > 1) {
    m[1] = r.value;
    if (m.length > 2) m[2] = r.reason;
  }
  return m;
}

/**
 * Token: 0 if `m` is a request it can answer, else the ERROR code to answer
 * with: an unknown type, a wrong length or a risk level out of range. The
 * token then reads the fields where the table above puts them.
 */
export function checkRequest(m: Uint8Array): number {
  var t = m[0] - REQ_INFO;
  var len = t >= 0 ? REQ_LEN[t] : 0;
  return !len ? ERR_UNKNOWN : m.length !== len ? ERR_LENGTH : m[0] === REQ_RISK_SET && m[1] >= RISK_LEVELS ? ERR_VALUE : 0;
}

/** A request from an opened message (its fields by name), or the ERROR code to answer with (checkRequest). */
export function decodeRequest(m: Uint8Array): SyncRequest | number {
  var err = checkRequest(m);
  if (err) return err;
  var len = m.length;
  var r = { type: m[0], seg: 0, off: 0, value: 0, reason: 0 };
  if (len === 7) {
    r.seg = getLE(m, 1, 4);
    r.off = getLE(m, 5, 2);
  } else if (len === 5) r.value = getLE(m, 1, 4);
  else if (len > 1) {
    r.value = m[1];
    r.reason = len > 2 ? m[2] : 0;
  }
  return r;
}

/** What INFO reports. Clock and times are Unix seconds (0: the clock was never set). */
export interface TokenInfo {
  /** Firmware build time (BOARD.buildTime): the version. */
  firmware: number;
  /** BOARD_CODES index of the board. */
  board: number;
  /** 0..100 */
  battery: number;
  clock: number;
  /** Seconds the clock was off when it was last set (set − before), clamped to ±32767. */
  drift: number;
  clockSetAt: number;
  faults: number;
  resets: number;
  /** Oldest and newest segment numbers kept (0 and 0: no log). */
  logFirst: number;
  logLast: number;
  /** Bytes written in the newest segment (header and records). */
  logLastBytes: number;
  /** Records dropped so far (cumulative, from the newest segment's header). */
  dropped: number;
}

/** Board codes in INFO, index = code. */
export var BOARD_CODES = ["", "puckjs", "mdbt42q", "pixljs", "banglejs2"];

/**
 * INFO after its type byte: the TokenInfo fields in this order, little-endian,
 * of INFO_SIZES bytes each, unsigned except drift (int16). The token passes
 * the values as an array in the same order (no field names in its bundle).
 */
export var INFO_NAMES: Array<keyof TokenInfo> = [
  "firmware",
  "board",
  "battery",
  "clock",
  "drift",
  "clockSetAt",
  "faults",
  "resets",
  "logFirst",
  "logLast",
  "logLastBytes",
  "dropped"
];
export var INFO_SIZES = [4, 1, 1, 4, 2, 4, 2, 2, 4, 4, 2, 4];
var DRIFT = 4;
export var INFO_BYTES = 35;

/**
 * Token: a response, type ‖ each value little-endian in its size ‖ `tail`.
 * Unsigned values saturate at their size's maximum rather than wrap; a
 * negative value goes as two's complement (INFO's drift, clamped by the
 * caller). The one encoder the token carries: the helpers below are its
 * callers for the host and the specs.
 */
export function encodeFields(type: number, values: number[], sizes: number[], tail?: Uint8Array): Uint8Array {
  for (var n = 1, i = 0; i < sizes.length;) n += sizes[i++];
  var m = new Uint8Array(n + (tail ? tail.length : 0));
  m[0] = type;
  for (i = 0, n = 1; i < sizes.length; n += sizes[i++]) {
    var max = Math.pow(2, 8 * sizes[i]) - 1;
    putLE(m, n, values[i] > max ? max : values[i], sizes[i]);
  }
  if (tail) m.set(tail, n);
  return m;
}

/** Drift as INFO carries it: clamped to ±32767 seconds. */
export function clampDrift(v: number): number {
  return v < -32767 ? -32767 : v > 32767 ? 32767 : v;
}

/**
 * INFO of the values in INFO_NAMES order. Counts saturate at their field's
 * maximum (and a negative one reads 0); drift is clamped to ±32767. The token
 * calls encodeFields with INFO_SIZES itself: its values are never negative
 * and it clamps the drift where it measures it.
 */
export function encodeInfo(values: number[]): Uint8Array {
  var v = values.map(function (x, i) {
    return i === DRIFT ? clampDrift(x) : x < 0 ? 0 : x;
  });
  return encodeFields(REQ_INFO | RESPONSE, v, INFO_SIZES);
}

/** Host: the values of a TokenInfo in INFO_NAMES order. */
export function infoValues(t: TokenInfo): number[] {
  return INFO_NAMES.map(function (k) {
    return t[k];
  });
}

/** Host: INFO, or null if `m` is not one. */
export function decodeInfo(m: Uint8Array): TokenInfo | null {
  if (m.length !== INFO_BYTES || m[0] !== (REQ_INFO | RESPONSE)) return null;
  var t = {} as TokenInfo;
  for (var i = 0, o = 1; i < INFO_SIZES.length; o += INFO_SIZES[i++]) {
    var v = getLE(m, o, INFO_SIZES[i]);
    t[INFO_NAMES[i]] = i === DRIFT && v > 32767 ? v - 65536 : v;
  }
  return t;
}

/** LOG_CHUNK of `data` (≤ CHUNK_DATA_MAX bytes, a view is fine) read at seg/off. */
export function encodeChunk(seg: number, off: number, flags: number, data: Uint8Array): Uint8Array {
  return encodeFields(REQ_LOG_READ | RESPONSE, [seg, off, flags], CHUNK_SIZES, data);
}

/** LOG_CHUNK's fields before the data: seg, off, flags. */
export var CHUNK_SIZES = [4, 2, 1];

export interface LogChunk {
  seg: number;
  off: number;
  flags: number;
  data: Uint8Array;
}

/** Host: LOG_CHUNK, or null if `m` is not one. */
export function decodeChunk(m: Uint8Array): LogChunk | null {
  if (m.length < 8 || m.length > 8 + CHUNK_DATA_MAX || m[0] !== (REQ_LOG_READ | RESPONSE)) return null;
  return { seg: getLE(m, 1, 4), off: getLE(m, 5, 2), flags: m[7], data: new Uint8Array(m.subarray(8)) };
}

/**
 * A response of two numbers (`a` of `an` bytes, `b` of `bn`): LOG_ACKED
 * (seg 4, off 2), TIME_DONE (before 4, after 4), RISK_DONE (level 1, reason 1).
 */
export function encodePair(request: number, a: number, an: number, b: number, bn: number): Uint8Array {
  return encodeFields(request | RESPONSE, [a, b], [an, bn]);
}

/** Host: [a, b] of a LOG_ACKED, TIME_DONE or RISK_DONE answering `request`, or null. */
export function decodePair(request: number, m: Uint8Array): number[] | null {
  var an = request === REQ_RISK_SET ? 1 : 4;
  var bn = request === REQ_TIME_SET ? 4 : request === REQ_RISK_SET ? 1 : 2;
  if (m.length !== 1 + an + bn || m[0] !== (request | RESPONSE)) return null;
  return [getLE(m, 1, an), getLE(m, 1 + an, bn)];
}

export interface TekRelease {
  status: number;
  /** Keys the token holds (TEK_OK only). */
  count: number;
  index: number;
  rollingStart: number;
  tek: Uint8Array;
}

/** TEK message with a key: type, status, count, index, rolling start (4), TEK (16). */
export var TEK_BYTES = 24;

/** TEK with a key (TEK_OK), or the refusal alone (TEK_NO_CONSENT, TEK_NO_KEY). */
export function encodeTek(status: number, count: number, index: number, rollingStart: number, tek: Uint8Array | null): Uint8Array {
  var t = REQ_TEK_GET | RESPONSE;
  return status || !tek
    ? encodeFields(t, [status], [1])
    : encodeFields(t, [status, count, index, rollingStart], TEK_SIZES, tek.subarray(0, 16));
}

/** TEK's fields before the key: status, count, index, rolling start. */
export var TEK_SIZES = [1, 1, 1, 4];

/** Host: TEK, or null if `m` is not one. */
export function decodeTek(m: Uint8Array): TekRelease | null {
  if (m[0] !== (REQ_TEK_GET | RESPONSE) || m.length !== (m[1] === TEK_OK ? TEK_BYTES : 2)) return null;
  if (m.length === 2) return { status: m[1], count: 0, index: 0, rollingStart: 0, tek: new Uint8Array(0) };
  return { status: 0, count: m[2], index: m[3], rollingStart: getLE(m, 4, 4), tek: new Uint8Array(m.subarray(8, 24)) };
}

/** ARCHIVE message: type, the archive secret (32). */
export var ARCHIVE_BYTES = 33;

/** Host: the archive secret from an ARCHIVE message, or null if `m` is not one. */
export function decodeArchive(m: Uint8Array): Uint8Array | null {
  return m.length === ARCHIVE_BYTES && m[0] === (REQ_ARCHIVE_GET | RESPONSE) ? new Uint8Array(m.subarray(1)) : null;
}

/** ERROR. */
export function encodeError(code: number): Uint8Array {
  return encodeFields(RSP_ERROR, [code], [1]);
}

/** Host: the code of an ERROR, or 0 if `m` is not one. */
export function decodeError(m: Uint8Array): number {
  return m.length === 2 && m[0] === RSP_ERROR ? m[1] : 0;
}
