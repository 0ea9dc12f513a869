import { CryptoPlatform } from "./types";
import { hmacSha256 } from "./hmac";

/**
 * HKDF-SHA256 (RFC 5869). An empty salt is the same as GAEN's "no salt" (32
 * zero bytes): HMAC pads its key with zeros either way.
 */
export function hkdf(p: CryptoPlatform, ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  var prk = hmacSha256(p, salt, ikm);
  var out = new Uint8Array(length);
  var t: Uint8Array = new Uint8Array(0);
  for (var i = 0; 32 * i < length; i++) {
    var m = new Uint8Array(t.length + info.length + 1);
    m.set(t);
    m.set(info, t.length);
    m[m.length - 1] = i + 1;
    t = hmacSha256(p, prk, m);
    out.set(t.subarray(0, Math.min(32, length - 32 * i)), 32 * i);
  }
  return out;
}
