/**
 * The token's secrets file (`pt.sec`), written once at provisioning by the
 * `espruino` uploader with the bundle (docs/provisioning.md). Shared with host
 * tools: the host encodes it, the token reads it (sync.ts).
 *
 *   offset  bytes  field
 *        0      1  version (SECRETS_VERSION)
 *        1     16  token id: random, never sent on the air; names the token in the kiosk's enrolment store
 *       17     32  sync secret: authenticates both ends of a sync session (wire/sync-handshake.ts, S)
 *       49     32  archive secret: the kiosk seals what it keeps of this token's log with it (issue 12)
 *       81     32  home key: one per care home, authenticates the home kiosk's beacon
 *      113      4  CRC-32 (IEEE, as zlib) of bytes 0..113, uint32 LE
 *
 * The CRC catches a torn or corrupted write (a token must then ask for
 * re-provisioning rather than run with a wrong key); it is no defence against
 * someone who can write the token's flash, who could write any key anyway.
 */
import { crc32 } from "./crc32";

export var SECRETS_FILE = "pt.sec";
export var SECRETS_VERSION = 1;
export var TOKEN_ID_BYTES = 16;
/** Every key is 32 bytes: the HMAC-SHA256 key size the sync handshake uses (SECRET_BYTES there). */
export var SECRET_KEY_BYTES = 32;

export var SEC_TOKEN_ID = 1;
export var SEC_SYNC = SEC_TOKEN_ID + TOKEN_ID_BYTES;
export var SEC_ARCHIVE = SEC_SYNC + SECRET_KEY_BYTES;
export var SEC_HOME = SEC_ARCHIVE + SECRET_KEY_BYTES;
export var SEC_CRC = SEC_HOME + SECRET_KEY_BYTES;
export var SECRETS_BYTES = SEC_CRC + 4;

/** What `pt.sec` holds. The reader returns views into the bytes it was given (no copies, no allocation per key). */
export interface TokenSecrets {
  tokenId: Uint8Array;
  syncSecret: Uint8Array;
  archiveSecret: Uint8Array;
  homeKey: Uint8Array;
}

/** Host: the bytes of `pt.sec` for these secrets; throws if a field has the wrong length. */
export function encodeSecrets(s: TokenSecrets): Uint8Array {
  if (
    s.tokenId.length !== TOKEN_ID_BYTES ||
    s.syncSecret.length !== SECRET_KEY_BYTES ||
    s.archiveSecret.length !== SECRET_KEY_BYTES ||
    s.homeKey.length !== SECRET_KEY_BYTES
  )
    throw new Error("secrets of the wrong length");
  var b = new Uint8Array(SECRETS_BYTES);
  b[0] = SECRETS_VERSION;
  b.set(s.tokenId, SEC_TOKEN_ID);
  b.set(s.syncSecret, SEC_SYNC);
  b.set(s.archiveSecret, SEC_ARCHIVE);
  b.set(s.homeKey, SEC_HOME);
  var c = crc32(b, 0, SEC_CRC);
  for (var k = 0; k < 4; k++) b[SEC_CRC + k] = (c >> (8 * k)) & 255;
  return b;
}

/**
 * Token (and host): true if `b` is a secrets file of this version whose CRC
 * matches. Never throws, so a token without secrets keeps running (it just
 * cannot sync). The token then takes its keys at SEC_SYNC and SEC_HOME.
 */
export function secretsValid(b: Uint8Array | undefined): b is Uint8Array {
  if (!b || b.length !== SECRETS_BYTES || b[0] !== SECRETS_VERSION) return false;
  var c = crc32(b, 0, SEC_CRC);
  for (var k = 0; k < 4; k++) if (b[SEC_CRC + k] !== ((c >> (8 * k)) & 255)) return false;
  return true;
}

/** Host: the secrets in `b`, or null if there is no file, it has another length or version, or its CRC does not match. */
export function readSecrets(b: Uint8Array | undefined): TokenSecrets | null {
  if (!secretsValid(b)) return null;
  return {
    tokenId: b.subarray(SEC_TOKEN_ID, SEC_SYNC),
    syncSecret: b.subarray(SEC_SYNC, SEC_ARCHIVE),
    archiveSecret: b.subarray(SEC_ARCHIVE, SEC_HOME),
    homeKey: b.subarray(SEC_HOME, SEC_CRC)
  };
}
