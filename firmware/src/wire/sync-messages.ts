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
var REQ_LEN = [1, 7, 7, 5, 3, 2];

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
 * Token: a request from an opened message, or an ERROR code (a number) to
 * answer with: an unknown type, a wrong length or a risk level out of range.
 */
export function decodeRequest(m: Uint8Array): SyncRequest | number {
  var t = m[0] - REQ_INFO;
  var len = t >= 0 ? REQ_LEN[t] : 0;
  if (!len) return ERR_UNKNOWN;
  if (m.length !== len) return ERR_LENGTH;
  var r = { type: m[0], seg: 0, off: 0, value: 0, reason: 0 };
  if (len === 7) {
    r.seg = getLE(m, 1, 4);
    r.off = getLE(m, 5, 2);
  } else if (len === 5) r.value = getLE(m, 1, 4);
  else if (len > 1) {
    r.value = m[1];
    r.reason = len > 2 ? m[2] : 0;
    if (r.type === REQ_RISK_SET && r.value >= RISK_LEVELS) return ERR_VALUE;
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
var INFO_SIZES = [4, 1, 1, 4, 2, 4, 2, 2, 4, 4, 2, 4];
var DRIFT = 4;
export var INFO_BYTES = 35;

/** Token: INFO of the values in INFO_NAMES order. Counts saturate at their field's maximum; drift is clamped to ±32767. */
export function encodeInfo(values: number[]): Uint8Array {
  var m = new Uint8Array(INFO_BYTES);
  m[0] = REQ_INFO | RESPONSE;
  for (var i = 0, o = 1; i < INFO_SIZES.length; o += INFO_SIZES[i++]) {
    var v = values[i];
    var max = Math.pow(2, 8 * INFO_SIZES[i]) - 1;
    if (i === DRIFT) v = (v < -32767 ? -32767 : v > 32767 ? 32767 : v) & 65535;
    putLE(m, o, v < 0 ? 0 : v > max ? max : v, INFO_SIZES[i]);
  }
  return m;
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

/** Token: LOG_CHUNK of `data` (≤ CHUNK_DATA_MAX bytes, a view is fine) read at seg/off. */
export function encodeChunk(seg: number, off: number, flags: number, data: Uint8Array): Uint8Array {
  var m = new Uint8Array(8 + data.length);
  m[0] = REQ_LOG_READ | RESPONSE;
  putLE(m, 1, seg, 4);
  putLE(m, 5, off, 2);
  m[7] = flags;
  m.set(data, 8);
  return m;
}

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
 * Token: a response of two numbers (`a` of `an` bytes, `b` of `bn`): LOG_ACKED
 * (seg 4, off 2), TIME_DONE (before 4, after 4), RISK_DONE (level 1, reason 1).
 */
export function encodePair(request: number, a: number, an: number, b: number, bn: number): Uint8Array {
  var m = new Uint8Array(1 + an + bn);
  m[0] = request | RESPONSE;
  putLE(m, 1, a, an);
  putLE(m, 1 + an, b, bn);
  return m;
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

/** Token: TEK with a key (TEK_OK), or the refusal alone (TEK_NO_CONSENT, TEK_NO_KEY). */
export function encodeTek(status: number, count: number, index: number, rollingStart: number, tek: Uint8Array | null): Uint8Array {
  var m = new Uint8Array(status || !tek ? 2 : TEK_BYTES);
  m[0] = REQ_TEK_GET | RESPONSE;
  m[1] = status;
  if (m.length > 2 && tek) {
    m[2] = count;
    m[3] = index;
    putLE(m, 4, rollingStart, 4);
    m.set(tek.subarray(0, 16), 8);
  }
  return m;
}

/** Host: TEK, or null if `m` is not one. */
export function decodeTek(m: Uint8Array): TekRelease | null {
  if (m[0] !== (REQ_TEK_GET | RESPONSE) || m.length !== (m[1] === TEK_OK ? TEK_BYTES : 2)) return null;
  if (m.length === 2) return { status: m[1], count: 0, index: 0, rollingStart: 0, tek: new Uint8Array(0) };
  return { status: 0, count: m[2], index: m[3], rollingStart: getLE(m, 4, 4), tek: new Uint8Array(m.subarray(8, 24)) };
}

/** Token: ERROR. */
export function encodeError(code: number): Uint8Array {
  return new Uint8Array([RSP_ERROR, code]);
}

/** Host: the code of an ERROR, or 0 if `m` is not one. */
export function decodeError(m: Uint8Array): number {
  return m.length === 2 && m[0] === RSP_ERROR ? m[1] : 0;
}
