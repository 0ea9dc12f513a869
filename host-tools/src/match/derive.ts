import * as crypto from "node:crypto";
import { INTERVAL_SECONDS, TEK_ROLLING_PERIOD } from "../../../firmware/src/wire/gaen";

/**
 * GAEN v1.2 derivation on the host, on node:crypto: one HKDF pair per TEK and
 * all RPIs of a TEK's validity in one AES-128-ECB call. This is the matching
 * fast path; the token's pure-JS code must agree with it byte for byte.
 */

// The token's time units (wire/gaen.ts), here too for the host's GAEN code.
export { INTERVAL_SECONDS, TEK_ROLLING_PERIOD };

const RPIK_INFO = Buffer.from("EN-RPIK", "ascii");
const AEMK_INFO = Buffer.from("EN-AEMK", "ascii");
const RPI_PREFIX = Buffer.from("EN-RPI", "ascii");
const NO_SALT = Buffer.alloc(32);

export interface TekKeys {
  rpik: Buffer;
  aemk: Buffer;
}

export function enIntervalNumber(unixSeconds: number): number {
  return Math.floor(unixSeconds / INTERVAL_SECONDS);
}

function checkTek(tek: Uint8Array): void {
  if (tek.length !== 16) throw new RangeError(`a TEK is 16 bytes, got ${tek.length}`);
}

export function deriveKeys(tek: Uint8Array): TekKeys {
  checkTek(tek);
  return {
    rpik: Buffer.from(crypto.hkdfSync("sha256", tek, NO_SALT, RPIK_INFO, 16)),
    aemk: Buffer.from(crypto.hkdfSync("sha256", tek, NO_SALT, AEMK_INFO, 16))
  };
}

// HKDF's single expand block for L = 16: T(1) = HMAC(PRK, info ‖ 0x01).
const RPIK_INFO_T1 = Buffer.concat([RPIK_INFO, Buffer.of(1)]);

/**
 * RPIK alone, for the matching hot loop, which derives AEMK only for keys that
 * matched. HKDF written out as its two HMACs (RFC 5869: extract with the
 * all-zero salt, then one expand block, since L = 16 ≤ 32): the same bytes as
 * hkdfSync at about twice the speed, because hkdfSync spends most of its time
 * validating arguments and wrapping the key in a KeyObject on every call.
 */
export function deriveRpik(tek: Uint8Array): Buffer {
  const prk = crypto.createHmac("sha256", NO_SALT).update(tek).digest();
  return crypto.createHmac("sha256", prk).update(RPIK_INFO_T1).digest().subarray(0, 16);
}

/** PaddedData for `count` consecutive intervals from `enin`, back to back. */
export function paddedData(enin: number, count = 1): Buffer {
  const out = Buffer.alloc(16 * count);
  for (let i = 0; i < count; i++) {
    RPI_PREFIX.copy(out, 16 * i);
    out.writeUInt32LE((enin + i) >>> 0, 16 * i + 12);
  }
  return out;
}

function aesEcb(key: Buffer, data: Buffer): Buffer {
  const c = crypto.createCipheriv("aes-128-ecb", key, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

/** RPIs for intervals enin … enin+count-1, concatenated (16 bytes each). */
export function deriveRpis(rpik: Buffer, enin: number, count = 1): Buffer {
  if (!Number.isInteger(enin) || enin < 0) throw new RangeError(`interval number must be a non-negative integer, got ${enin}`);
  return aesEcb(rpik, paddedData(enin, count));
}

/** AEM = metadata XOR the first 4 bytes of AES-ECB(AEMK, RPI) (= AES-CTR with IV = RPI). */
export function encryptMetadata(aemk: Buffer, rpi: Uint8Array, metadata: Uint8Array): Buffer {
  if (metadata.length !== 4) throw new RangeError(`metadata is 4 bytes, got ${metadata.length}`);
  const ks = aesEcb(aemk, Buffer.from(rpi));
  const out = Buffer.alloc(4);
  for (let i = 0; i < 4; i++) out[i] = metadata[i] ^ ks[i];
  return out;
}

/** CTR is symmetric: decrypting is the same operation. */
export const decryptMetadata = encryptMetadata;
