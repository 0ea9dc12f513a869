import { CryptoPlatform } from "./types";
import { aes128Pure } from "./aes128-pure";

/**
 * AES-128 of one block on the board's path. `BOARD.crypto.aes` is inlined at
 * build time, so the bundle of a board with native AES does not contain the
 * pure-JS one.
 */
export function aes128(p: CryptoPlatform, block: Uint8Array, key: Uint8Array): Uint8Array {
  // A ternary (see sha256.ts): the folded-away branch takes its import with it.
  return BOARD.crypto.aes ? p.aes128Ecb(block, key) : aes128Pure(block, key);
}
