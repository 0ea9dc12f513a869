/**
 * The part of the platform seam the crypto needs (Platform has both): the
 * native primitives where a board has them. Declared here, not picked from
 * platform-api.ts, so that the crypto stands alone: the wire code (sync
 * frames) and the host use it without the token's seam.
 */
export interface CryptoPlatform {
  /** Native SHA-256 (only on boards whose config says crypto.sha256). */
  sha256(data: Uint8Array): Uint8Array;
  /** Native AES-128 of one 16-byte block in ECB mode (only where crypto.aes). */
  aes128Ecb(block: Uint8Array, key: Uint8Array): Uint8Array;
}
