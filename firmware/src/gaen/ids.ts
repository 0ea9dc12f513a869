import { CryptoPlatform } from "../crypto/types";
import { hkdf } from "../crypto/hkdf";
import { aes128 } from "../crypto/aes128";

/** GAEN v1.2 identifiers of one interval (docs: gaen.md). */
export interface Identifiers {
  rpi: Uint8Array;
  aem: Uint8Array;
}

/** RPI and AEM of one TEK for interval `enin`, with the given 4-byte metadata. */
export type TekIdentifiers = (enin: number, metadata: Uint8Array) => Identifiers;

/**
 * The identifiers of a TEK. Its RPIK and AEMK (two HKDFs, the expensive part)
 * are derived here, once, and kept in the returned function's closure: each
 * rotation then costs two AES blocks.
 */
export function tekIdentifiers(p: CryptoPlatform, tek: Uint8Array): TekIdentifiers {
  var expand = hkdf(p, tek);
  var rpik = expand("EN-RPIK", 16);
  var aemk = expand("EN-AEMK", 16);
  // PaddedData(j) = "EN-RPI" ‖ 6 zero bytes ‖ j as uint32 little-endian;
  // only the last 4 bytes change from one interval to the next.
  var padded = new Uint8Array(16);
  for (var i = 0; i < 6; i++) padded[i] = "EN-RPI".charCodeAt(i);
  return function (enin: number, metadata: Uint8Array): Identifiers {
    for (var i = 0; i < 4; i++) padded[12 + i] = enin >>> (8 * i);
    var rpi = aes128(p, padded, rpik);
    // AEM = AES-128-CTR(AEMK, IV = RPI, metadata), computed as metadata XOR the
    // first 4 bytes of AES-ECB(AEMK, RPI): Espruino's CTR mode ignores the IV.
    // The same call decrypts.
    // Built in a new array: on Espruino a typed array's slice() is a plain
    // Array, which has no subarray() for buildAdvert.
    var mask = aes128(p, rpi, aemk);
    var aem = new Uint8Array(4);
    for (i = 0; i < 4; i++) aem[i] = mask[i] ^ metadata[i];
    return { rpi: rpi, aem: aem };
  };
}
