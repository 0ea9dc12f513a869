import * as crypto from "node:crypto";
import { PrivateTracerError } from "../errors";

/**
 * A token's log segments as the kiosk keeps them: sealed under a key derived
 * from the token's archive secret, which only the token holds (provisioning
 * writes it to the token alone; the kiosk asks for it in each sync session,
 * docs/sync-protocol.md, ARCHIVE_GET, and forgets it when the session ends).
 * A copied kiosk disk therefore holds no readable sighting, and a token that
 * is reset or lost leaves an archive nobody can open.
 *
 * Sealed segment = version (1) ‖ IV (12) ‖ GCM tag (16) ‖ ciphertext.
 * Key = HKDF-SHA256(archive secret, salt = token id, info = "privatetracer
 * archive v1"); AES-256-GCM with a random IV per seal (a segment read again
 * is sealed anew, never under a reused IV); the additional data binds a
 * sealed segment to its token and segment number, so one moved to another
 * row, or swapped with another segment, does not open.
 */
export const ARCHIVE_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + IV_BYTES + TAG_BYTES;
const INFO = Buffer.from("privatetracer archive v1");

/** A sealed segment that does not open: a wrong archive secret (the token was provisioned again), or damage. */
export class ArchiveOpenError extends PrivateTracerError {
  readonly code = "ARCHIVE_UNREADABLE";
  readonly kind = "invalid";
}

/** The per-token key. The caller wipes it (and the secret) when the session ends. */
export function archiveKey(archiveSecret: Uint8Array, tokenId: string): Buffer {
  if (archiveSecret.length !== 32) throw new RangeError(`an archive secret is 32 bytes, not ${archiveSecret.length}`);
  return Buffer.from(crypto.hkdfSync("sha256", archiveSecret, Buffer.from(tokenId, "hex"), INFO, 32));
}

function aad(tokenId: string, seg: number): Buffer {
  const b = Buffer.alloc(1 + 16 + 4);
  b[0] = ARCHIVE_VERSION;
  Buffer.from(tokenId, "hex").copy(b, 1, 0, 16);
  b.writeUInt32LE(seg, 17);
  return b;
}

export function sealSegment(key: Buffer, tokenId: string, seg: number, bytes: Uint8Array): Buffer {
  const iv = crypto.randomBytes(IV_BYTES);
  const c = crypto.createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
  c.setAAD(aad(tokenId, seg));
  const ct = Buffer.concat([c.update(bytes), c.final()]);
  return Buffer.concat([Buffer.of(ARCHIVE_VERSION), iv, c.getAuthTag(), ct]);
}

export function openSegment(key: Buffer, tokenId: string, seg: number, sealed: Uint8Array): Uint8Array {
  const b = Buffer.from(sealed);
  if (b.length < HEADER_BYTES || b[0] !== ARCHIVE_VERSION)
    throw new ArchiveOpenError(`archived segment ${seg} of token ${tokenId} is not a sealed segment of version ${ARCHIVE_VERSION}`);
  try {
    const d = crypto.createDecipheriv("aes-256-gcm", key, b.subarray(1, 1 + IV_BYTES), { authTagLength: TAG_BYTES });
    d.setAAD(aad(tokenId, seg));
    d.setAuthTag(b.subarray(1 + IV_BYTES, HEADER_BYTES));
    return new Uint8Array(Buffer.concat([d.update(b.subarray(HEADER_BYTES)), d.final()]));
  } catch {
    throw new ArchiveOpenError(
      `archived segment ${seg} of token ${tokenId} does not open with the token's archive secret: the token was provisioned again (its old archive is unreadable and can be deleted) or the archive is damaged`
    );
  }
}
