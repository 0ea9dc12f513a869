import { CryptoPlatform } from "./types";
import { hmacSha256 } from "./hmac";

/** Expands one pseudo-random key for an ASCII `info` into `length` ≤ 32 bytes. */
export type HkdfExpand = (info: string, length: number) => Uint8Array;

/**
 * HKDF-SHA256 (RFC 5869) as GAEN uses it: no salt (an empty salt is the same
 * as 32 zero bytes, HMAC pads its key with zeros either way) and outputs of at
 * most one block. The extract step runs once here, so RPIK and AEMK of one TEK
 * share it; each expand is then a single HMAC over info ‖ 0x01.
 */
export function hkdf(p: CryptoPlatform, ikm: Uint8Array): HkdfExpand {
  var prk = hmacSha256(p, new Uint8Array(0), ikm);
  return function (info: string, length: number): Uint8Array {
    var m = new Uint8Array(info.length + 1);
    for (var i = 0; i < info.length; i++) m[i] = info.charCodeAt(i);
    m[i] = 1;
    // Not slice(): on Espruino a typed array's slice() is a plain Array.
    return hmacSha256(p, prk, m).subarray(0, length);
  };
}
