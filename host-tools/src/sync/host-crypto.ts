import * as crypto from "node:crypto";
import type { CryptoPlatform } from "../../../firmware/src/crypto/types";

/**
 * The primitives the firmware's sync code (firmware/src/wire/sync-*.ts) asks
 * for, on node:crypto: the host runs the same framing, handshake and message
 * code as the token, with Node's SHA-256 and AES underneath.
 */
export const hostCrypto: CryptoPlatform = {
  sha256(data: Uint8Array): Uint8Array {
    return new Uint8Array(crypto.createHash("sha256").update(data).digest());
  },
  aes128Ecb(block: Uint8Array, key: Uint8Array): Uint8Array {
    const c = crypto.createCipheriv("aes-128-ecb", key, null);
    c.setAutoPadding(false);
    return new Uint8Array(Buffer.concat([c.update(block), c.final()]));
  }
};

/**
 * The firmware's crypto picks native or pure-JS primitives by reading the
 * global `BOARD.crypto` at call time (the bundler inlines it on a token). On
 * the host nothing defines BOARD, so the shared code would throw a
 * ReferenceError: define the crypto part, native on both, before first use.
 * An existing BOARD (a spec's `useBoard`) is left alone: either path gives the
 * same bytes, so it only changes the speed.
 */
export function useHostCrypto(): CryptoPlatform {
  const g = globalThis as { BOARD?: unknown };
  if (g.BOARD === undefined) g.BOARD = { crypto: { sha256: true, aes: true } };
  return hostCrypto;
}
