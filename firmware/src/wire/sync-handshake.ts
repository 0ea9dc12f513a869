import { CryptoPlatform } from "../crypto/types";
import { hmacSha256 } from "../crypto/hmac";
import { DIR_CENTRAL, DIR_TOKEN, SyncSession, createSession, plainFrame, same } from "./sync-frame";

/**
 * The sync handshake (docs/sync-protocol.md, "Handshake"): three plain frames
 * that authenticate both sides with the token's secret S (set at
 * provisioning) and fresh nonces, and give a session key.
 *
 *   central → token  HELLO  01 ‖ version ‖ Nc (16)
 *   token → central  PROVE  02 ‖ version ‖ Nt (16) ‖ first 16 of HMAC(S, "T" ‖ Nc ‖ Nt)
 *   central → token  AUTH   03 ‖ first 16 of HMAC(S, "C" ‖ Nc ‖ Nt)
 *   both             K = HMAC(S, "K" ‖ Nc ‖ Nt): Kenc = K[0..16), Kmac = K[16..32)
 *   token → central  FAIL   04 ‖ reason   (plain, then the token closes the link)
 *
 * A token backing off (backoffSeconds) answers HELLO with a decoy PROVE of
 * random bytes and every AUTH with FAIL: a central cannot tell a token that
 * is backing off (and so recently met a failing central) from any other.
 *
 * PROVE carries nothing stable: Nt is fresh and the proof depends on both
 * nonces, so a central without S cannot tell two sessions of one token
 * apart. The kiosk finds which token answered by trying its enrolled secrets.
 */
export var SYNC_VERSION = 1;
export var NONCE_BYTES = 16;
export var PROOF_BYTES = 16;
export var SECRET_BYTES = 32;

export var MSG_HELLO = 1;
export var MSG_PROVE = 2;
export var MSG_AUTH = 3;
export var MSG_FAIL = 4;
/** FAIL reasons: not a HELLO, or AUTH's proof was wrong; the HELLO's version is not spoken. */
export var FAIL_AUTH = 1;
export var FAIL_VERSION = 3;

export var HELLO_BYTES = 2 + NONCE_BYTES;
export var PROVE_BYTES = 2 + NONCE_BYTES + PROOF_BYTES;
export var AUTH_BYTES = 1 + PROOF_BYTES;

/** Proof or key `label` ("T", "C", "K") for one pair of nonces: the full 32-byte HMAC. */
function prf(p: CryptoPlatform, secret: Uint8Array, label: string, nc: Uint8Array, nt: Uint8Array): Uint8Array {
  var m = new Uint8Array(1 + 2 * NONCE_BYTES);
  m[0] = label.charCodeAt(0);
  m.set(nc.subarray(0, NONCE_BYTES), 1);
  m.set(nt.subarray(0, NONCE_BYTES), 1 + NONCE_BYTES);
  return hmacSha256(p, secret, m);
}

/** Where the token is between HELLO and AUTH. */
export interface TokenPending {
  nc: Uint8Array;
  nt: Uint8Array;
}

/** The nonce of a HELLO frame (LEN included), or a FAIL reason (a number) if it is not one we speak. */
export function readHello(frame: Uint8Array): Uint8Array | number {
  if (frame.length !== HELLO_BYTES + 1 || frame[1] !== MSG_HELLO) return FAIL_AUTH;
  if (frame[2] !== SYNC_VERSION) return FAIL_VERSION;
  return new Uint8Array(frame.subarray(3, 3 + NONCE_BYTES));
}

/** Token: the PROVE frame answering nonce `nc` with the token's fresh nonce `nt`. */
export function tokenProve(p: CryptoPlatform, secret: Uint8Array, pending: TokenPending): Uint8Array {
  var b = new Uint8Array(PROVE_BYTES);
  b[0] = MSG_PROVE;
  b[1] = SYNC_VERSION;
  b.set(pending.nt, 2);
  b.set(prf(p, secret, "T", pending.nc, pending.nt).subarray(0, PROOF_BYTES), 2 + NONCE_BYTES);
  return plainFrame(b);
}

/** Token: the session if `frame` is the AUTH that proves the central holds S, else null. */
export function tokenAccept(p: CryptoPlatform, secret: Uint8Array, pending: TokenPending, frame: Uint8Array): SyncSession | null {
  if (frame.length !== AUTH_BYTES + 1 || frame[1] !== MSG_AUTH) return null;
  if (!same(prf(p, secret, "C", pending.nc, pending.nt), frame, 2, PROOF_BYTES)) return null;
  return createSession(prf(p, secret, "K", pending.nc, pending.nt), DIR_TOKEN);
}

/** A FAIL frame. */
export function failFrame(reason: number): Uint8Array {
  return plainFrame(new Uint8Array([MSG_FAIL, reason]));
}

/** Central: the HELLO frame for its fresh nonce. */
export function centralHello(nc: Uint8Array): Uint8Array {
  var b = new Uint8Array(HELLO_BYTES);
  b[0] = MSG_HELLO;
  b[1] = SYNC_VERSION;
  b.set(nc.subarray(0, NONCE_BYTES), 2);
  return plainFrame(b);
}

/** Central: the token's nonce from a PROVE frame, or null if it is not one. */
export function readProve(frame: Uint8Array): Uint8Array | null {
  if (frame.length !== PROVE_BYTES + 1 || frame[1] !== MSG_PROVE || frame[2] !== SYNC_VERSION) return null;
  return new Uint8Array(frame.subarray(3, 3 + NONCE_BYTES));
}

/**
 * Central: which enrolled secret produced this PROVE frame (its index in
 * `secrets`), or -1 if none did (not an enrolled token, or a forgery). Every
 * secret is tried in turn; docs/sync-protocol.md gives the rate.
 */
export function identify(p: CryptoPlatform, secrets: Uint8Array[], nc: Uint8Array, frame: Uint8Array): number {
  var nt = readProve(frame);
  if (!nt) return -1;
  for (var i = 0; i < secrets.length; i++) if (same(prf(p, secrets[i], "T", nc, nt), frame, 3 + NONCE_BYTES, PROOF_BYTES)) return i;
  return -1;
}

/** Central: the AUTH frame and the session, once the token proved it holds `secret`. */
export function centralAuth(
  p: CryptoPlatform,
  secret: Uint8Array,
  nc: Uint8Array,
  nt: Uint8Array
): { frame: Uint8Array; session: SyncSession } {
  var b = new Uint8Array(AUTH_BYTES);
  b[0] = MSG_AUTH;
  b.set(prf(p, secret, "C", nc, nt).subarray(0, PROOF_BYTES), 1);
  return { frame: plainFrame(b), session: createSession(prf(p, secret, "K", nc, nt), DIR_CENTRAL) };
}

/**
 * Backoff on the token. `failures` counts handshakes since the last success
 * that sent a PROVE and got no valid AUTH (a wrong AUTH, garbage, or a link
 * dropped before AUTH). The token answers a HELLO with a real PROVE only
 * when mayHandshake is true; otherwise with a decoy (a PROVE under a random
 * key, sync.ts), which is not
 * counted as a failure. Rule: the first
 * BACKOFF_FREE failures cost nothing, then each waits twice as long as the
 * one before, from 10 s up to BACKOFF_MAX_S (10 minutes), counted from the
 * last failure (`lastFailure`, seconds on the token's clock or uptime).
 */
export var BACKOFF_FREE = 3;
export var BACKOFF_MAX_S = 600;
export function backoffSeconds(failures: number): number {
  // Math.pow of a huge count is Infinity, which the cap turns back into BACKOFF_MAX_S.
  return failures < BACKOFF_FREE ? 0 : Math.min(BACKOFF_MAX_S, 10 * Math.pow(2, failures - BACKOFF_FREE));
}
export function mayHandshake(failures: number, lastFailure: number, now: number): boolean {
  // A clock set back (or a reboot's uptime) must not extend the wait forever: a time before the failure counts as elapsed.
  return now < lastFailure || now - lastFailure >= backoffSeconds(failures);
}
