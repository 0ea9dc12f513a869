import { CryptoPlatform } from "./types";
import { aes128 } from "./aes128";

/**
 * GAEN Associated Encrypted Metadata: AES-128-CTR(AEMK, IV = RPI, metadata),
 * computed as metadata XOR the first 4 bytes of AES-ECB(AEMK, RPI) because
 * Espruino's CTR mode ignores the IV. The same call decrypts.
 */
export function aem(p: CryptoPlatform, aemk: Uint8Array, rpi: Uint8Array, metadata: Uint8Array): Uint8Array {
  var ks = aes128(p, rpi, aemk);
  var out = new Uint8Array(4);
  for (var i = 0; i < 4; i++) out[i] = metadata[i] ^ ks[i];
  return out;
}
