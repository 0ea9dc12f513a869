import { CryptoPlatform } from "./types";
import { sha256 } from "./sha256";

/**
 * HMAC-SHA256 (RFC 2104): Espruino has no native HMAC. Keys of at most 64
 * bytes only (GAEN's HKDF uses an empty salt and a 32-byte PRK), so the
 * "hash a long key first" step is left out.
 */
export function hmacSha256(p: CryptoPlatform, key: Uint8Array, data: Uint8Array): Uint8Array {
  var inner = new Uint8Array(64 + data.length);
  var outer = new Uint8Array(96);
  for (var i = 0; i < 64; i++) {
    // Past its end the key reads as undefined, which `| 0` turns into the zero padding.
    var k = key[i] | 0;
    inner[i] = k ^ 0x36;
    outer[i] = k ^ 0x5c;
  }
  inner.set(data, 64);
  outer.set(sha256(p, inner), 64);
  return sha256(p, outer);
}
