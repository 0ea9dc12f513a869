import { CryptoPlatform } from "../crypto/types";
import { aes128 } from "../crypto/aes128";
import { hmacSha256 } from "../crypto/hmac";

/**
 * The sync protocol's frame layer (docs/sync-protocol.md): how bytes on the
 * link are cut into frames, and how a frame after the handshake is encrypted
 * and authenticated. Shared by token and host; Espruino-safe (ES5, typed
 * arrays only through subarray/set, no allocation per received byte).
 *
 *   frame  = LEN (1: bytes that follow, 1..FRAME_MAX-1) ‖ body
 *   plain  body (handshake only) = type ‖ payload
 *   sealed body (every frame after the handshake) = C ‖ T
 *     C = AES-128-CTR(Kenc, type ‖ payload), counter block
 *         dir ‖ seq (uint32 LE) ‖ 10 zero bytes ‖ block index
 *     T = first TAG_BYTES of HMAC-SHA256(Kmac, dir ‖ seq (uint32 LE) ‖ LEN ‖ C)
 *
 * `dir` is DIR_CENTRAL or DIR_TOKEN (who sent it), `seq` the sender's count
 * of sealed frames in this session, 0 first. Neither is on the air: both
 * sides count, so a frame replayed, dropped, reordered or taken from another
 * session or direction fails its tag, and the first failure ends the session.
 */

/** Largest frame, LEN byte included: what the token may hand linkWrite at once (LINK_TX_BYTES). */
export var FRAME_MAX = 127;
/** Bytes of the truncated HMAC that ends a sealed frame. */
export var TAG_BYTES = 8;
/** Largest message (type ‖ payload) a sealed frame carries. */
export var MESSAGE_MAX = FRAME_MAX - 1 - TAG_BYTES;
/** Largest body the token accepts: the longest frame a central sends (HELLO, 18) with room to spare. */
export var TOKEN_RX_BODY_MAX = 32;
/** Direction bytes: frames the central sends, frames the token sends. */
export var DIR_CENTRAL = 0x43;
export var DIR_TOKEN = 0x54;

/**
 * Reassembles frames from link writes of any size (a central's ≤ 20-byte
 * writes, a token's notifications) in one fixed buffer. Bytes after a bad
 * length are never stored: the reader stays `bad` until the link is closed.
 */
export interface FrameReader {
  buf: Uint8Array;
  /** Bytes of the current frame in `buf` (LEN included). */
  have: number;
  bad: boolean;
}

export function createReader(maxBody: number): FrameReader {
  return { buf: new Uint8Array(maxBody + 1), have: 0, bad: false };
}

/**
 * Feeds received bytes; calls `onFrame(frame)` for each complete frame
 * (`frame[0]` is LEN; a view into the reader's buffer, valid only during the
 * call). Returns false once a length is 0 or too long for the buffer: the
 * caller closes the link. Stops early if `onFrame` returns false.
 */
export function feed(r: FrameReader, data: Uint8Array, onFrame: (frame: Uint8Array) => boolean): boolean {
  var b = r.buf;
  for (var i = 0; i < data.length && !r.bad; i++) {
    if (!r.have && (data[i] < 1 || data[i] >= b.length)) r.bad = true;
    else {
      b[r.have++] = data[i];
      if (r.have === b[0] + 1) {
        r.have = 0;
        if (!onFrame(b.subarray(0, b[0] + 1))) return !r.bad;
      }
    }
  }
  return !r.bad;
}

/** A frame with an unsealed body (handshake messages). */
export function plainFrame(body: Uint8Array): Uint8Array {
  var f = new Uint8Array(body.length + 1);
  f[0] = body.length;
  f.set(body, 1);
  return f;
}

/** One session's keys and counters (docs/sync-protocol.md, "Key schedule"). */
export interface SyncSession {
  enc: Uint8Array;
  mac: Uint8Array;
  /** Direction byte of frames this side sends; the other is received. */
  dir: number;
  txSeq: number;
  rxSeq: number;
  /** Set by the first frame that fails: nothing is opened after it. */
  dead: boolean;
}

/** Session keys: `k` is 32 bytes, Kenc its first 16, Kmac its last 16. */
export function createSession(k: Uint8Array, dir: number): SyncSession {
  return { enc: new Uint8Array(k.subarray(0, 16)), mac: new Uint8Array(k.subarray(16, 32)), dir: dir, txSeq: 0, rxSeq: 0, dead: false };
}

/**
 * True if `a[0..n)` equals `b[o..o+n)`. Every byte is compared whatever
 * differs first, so the time taken says nothing about where a tag or proof
 * went wrong.
 */
export function same(a: Uint8Array, b: Uint8Array, o: number, n: number): boolean {
  var d = 0;
  for (var i = 0; i < n; i++) d |= a[i] ^ b[o + i];
  return !d;
}

/** dir ‖ seq LE in the first 5 bytes of `b`. */
function head(b: Uint8Array, dir: number, seq: number): void {
  b[0] = dir;
  for (var i = 0; i < 4; i++) b[1 + i] = (seq >>> (8 * i)) & 255;
}

/** XORs AES-CTR keystream over `f[from..]` in place. */
function ctr(p: CryptoPlatform, key: Uint8Array, dir: number, seq: number, f: Uint8Array, from: number, to: number): void {
  var c = new Uint8Array(16);
  head(c, dir, seq);
  for (var o = from; o < to; o += 16) {
    c[15] = (o - from) >> 4;
    var ks = aes128(p, c, key);
    for (var i = 0; i < 16 && o + i < to; i++) f[o + i] ^= ks[i];
  }
}

/** The tag of frame `f` (LEN ‖ C, tag bytes excluded) as sent by `dir` at `seq`. */
function tag(p: CryptoPlatform, key: Uint8Array, dir: number, seq: number, f: Uint8Array, n: number): Uint8Array {
  var m = new Uint8Array(5 + n);
  head(m, dir, seq);
  m.set(f.subarray(0, n), 5);
  return hmacSha256(p, key, m);
}

/** The sealed frame of one message (type ‖ payload, at most MESSAGE_MAX bytes); counts txSeq. */
export function seal(p: CryptoPlatform, s: SyncSession, msg: Uint8Array): Uint8Array {
  var n = msg.length + 1;
  if (n < 2 || n > MESSAGE_MAX + 1) throw new Error("sync length");
  var f = new Uint8Array(n + TAG_BYTES);
  f[0] = n - 1 + TAG_BYTES;
  f.set(msg, 1);
  ctr(p, s.enc, s.dir, s.txSeq, f, 1, n);
  f.set(tag(p, s.mac, s.dir, s.txSeq, f, n).subarray(0, TAG_BYTES), n);
  s.txSeq++;
  return f;
}

/**
 * The message of a received sealed frame (`frame[0]` is LEN), a fresh copy,
 * or null if it fails: too short, wrong tag (forged, altered, replayed,
 * reordered, from another session). A failure kills the session: every later
 * frame is refused too, and the caller closes the link.
 */
export function open(p: CryptoPlatform, s: SyncSession, frame: Uint8Array): Uint8Array | null {
  var n = frame.length - TAG_BYTES;
  var rx = s.dir === DIR_TOKEN ? DIR_CENTRAL : DIR_TOKEN;
  if (s.dead || n < 2 || frame[0] !== frame.length - 1) {
    s.dead = true;
    return null;
  }
  if (!same(tag(p, s.mac, rx, s.rxSeq, frame, n), frame, n, TAG_BYTES)) {
    s.dead = true;
    return null;
  }
  var m = new Uint8Array(frame.subarray(0, n));
  ctr(p, s.enc, rx, s.rxSeq, m, 1, n);
  s.rxSeq++;
  return m.subarray(1);
}
