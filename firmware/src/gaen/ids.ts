import { CryptoPlatform } from "../crypto/types";
import { hkdf } from "../crypto/hkdf";
import { aes128 } from "../crypto/aes128";
import { aem } from "../crypto/aem";

/**
 * GAEN v1.2 identifiers (docs: gaen.md): interval numbers, the per-TEK keys
 * and the RPI/AEM of one interval.
 */

export var INTERVAL_SECONDS = 600;
export var TEK_ROLLING_PERIOD = 144;

export interface TekKeys {
  rpik: Uint8Array;
  aemk: Uint8Array;
}

export interface Identifiers {
  enin: number;
  rpi: Uint8Array;
  aem: Uint8Array;
}

/** ENIntervalNumber: 10-minute intervals since 1970. */
export function enIntervalNumber(unixSeconds: number): number {
  return Math.floor(unixSeconds / INTERVAL_SECONDS);
}

/** rolling_start_interval_number of the UTC day that contains interval `enin`. */
export function rollingStart(enin: number): number {
  return enin - (enin % TEK_ROLLING_PERIOD);
}

/** Espruino strings are 8-bit, so ASCII labels become bytes one char each. */
function ascii(s: string): Uint8Array {
  var b = new Uint8Array(s.length);
  for (var i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

/** RPIK and AEMK of a TEK: two HKDFs, so callers derive them once per TEK. */
export function deriveTekKeys(p: CryptoPlatform, tek: Uint8Array): TekKeys {
  var noSalt = new Uint8Array(0);
  return {
    rpik: hkdf(p, tek, noSalt, ascii("EN-RPIK"), 16),
    aemk: hkdf(p, tek, noSalt, ascii("EN-AEMK"), 16)
  };
}

/** "EN-RPI" ‖ 6 zero bytes ‖ ENIN as uint32 little-endian. */
export function paddedData(enin: number): Uint8Array {
  var b = new Uint8Array(16);
  b.set(ascii("EN-RPI"));
  for (var i = 0; i < 4; i++) b[12 + i] = enin >>> (8 * i);
  return b;
}

/** Metadata of our adverts: version 1.0 and the board's radiated power in dBm. */
export function advertMetadata(): Uint8Array {
  var m = new Uint8Array(4);
  m[0] = 0x40;
  m[1] = BOARD.radio.radiatedTxPowerDbm & 255;
  return m;
}

export function identifiersFor(p: CryptoPlatform, keys: TekKeys, enin: number, metadata: Uint8Array): Identifiers {
  var rpi = aes128(p, paddedData(enin), keys.rpik);
  return { enin: enin, rpi: rpi, aem: aem(p, keys.aemk, rpi, metadata) };
}
