import { ExposureKey } from "../keys/types";
import { decryptMetadata, deriveKeys, deriveRpis, TekKeys } from "./derive";
import { MatchHit } from "./find-hits";
import { AEM_TX_BYTE, Sighting } from "./sightings";

/**
 * A hit made whole: the full RPI re-derived from the key (so a sighting stored
 * as a 5-byte prefix still decrypts its AEM), the transmit power from the AEM
 * and the attenuation. Runs only for the few matched sightings, so it favours
 * clarity over speed.
 */

export const METADATA_MAJOR_VERSION_MASK = 0xc0;
export const METADATA_MAJOR_VERSION_1 = 0x40;
/**
 * Transmit powers a decrypted single byte (`aemTx`) may plausibly hold: BLE
 * radios transmit at most +20 dBm, and nothing that radiates below −60 dBm is
 * heard at a distance that matters. With one byte there is nothing else to
 * check, so this is the only guard against a byte recorded wrongly.
 */
export const AEM_TX_PLAUSIBLE_DBM = { min: -60, max: 20 } as const;

export type TxPowerSource = "aem" | "default";

export interface MatchedSighting {
  /** Index into the key list that was matched. */
  keyIndex: number;
  key: ExposureKey;
  /** The RPI's own interval (from the key), which may differ from the sighting's by up to ±12. */
  enin: number;
  rpi: Buffer;
  sightingIndex: number;
  sighting: Sighting;
  txPowerDbm: number;
  txPowerSource: TxPowerSource;
  /**
   * Whether the decrypted metadata looks like GAEN's: major version 1 and the
   * reserved bytes 2–3 zero (a wrong AEM passes by chance 1 time in 262,144).
   * When it does not, the AEM was recorded wrongly (or a short prefix matched
   * by chance), so its power byte is ignored and the default used; the match
   * itself stands, since the RPI did match. For a sighting with only `aemTx`
   * it says whether the decrypted power is plausible (AEM_TX_PLAUSIBLE_DBM;
   * a wrong byte passes about 1 time in 3).
   */
  metadataValid?: boolean;
  attenuationDb: number;
}

export function attenuationDb(txPowerDbm: number, rssi: number): number {
  return Math.max(0, txPowerDbm - rssi);
}

/**
 * Transmit power from byte 1 of the encrypted metadata alone. CTR mode: each
 * metadata byte is the AEM byte XOR the same byte of AES-ECB(AEMK, RPI), so
 * one byte decrypts without the other three, but only with the full 16-byte
 * RPI (re-derived from the key, never the stored prefix) as the counter block.
 */
export function txPowerFromAemTx(aemk: Buffer, fullRpi: Uint8Array, aemTx: number): number {
  const md = decryptMetadata(aemk, fullRpi, Uint8Array.of(0, aemTx & 0xff, 0, 0));
  return md.readInt8(AEM_TX_BYTE);
}

export function resolveHits(
  hits: readonly MatchHit[],
  keys: readonly ExposureKey[],
  sightings: readonly Sighting[],
  defaultTxPowerDbm: number
): MatchedSighting[] {
  const derived = new Map<number, TekKeys>();
  const out: MatchedSighting[] = [];
  for (const h of hits) {
    const key = keys[h.keyIndex];
    const s = sightings[h.sightingIndex];
    let tk = derived.get(h.keyIndex);
    if (!tk) {
      tk = deriveKeys(key.keyData);
      derived.set(h.keyIndex, tk);
    }
    const rpi = deriveRpis(tk.rpik, h.enin);
    let tx = defaultTxPowerDbm;
    let source: TxPowerSource = "default";
    let metadataValid: boolean | undefined;
    if (s.aem) {
      const md = decryptMetadata(tk.aemk, rpi, s.aem);
      metadataValid = (md[0] & METADATA_MAJOR_VERSION_MASK) === METADATA_MAJOR_VERSION_1 && md[2] === 0 && md[3] === 0;
      if (metadataValid) {
        tx = md.readInt8(1);
        source = "aem";
      }
    } else if (s.aemTx !== undefined) {
      const p = txPowerFromAemTx(tk.aemk, rpi, s.aemTx);
      metadataValid = p >= AEM_TX_PLAUSIBLE_DBM.min && p <= AEM_TX_PLAUSIBLE_DBM.max;
      if (metadataValid) {
        tx = p;
        source = "aem";
      }
    }
    const m: MatchedSighting = {
      keyIndex: h.keyIndex,
      key,
      enin: h.enin,
      rpi,
      sightingIndex: h.sightingIndex,
      sighting: s,
      txPowerDbm: tx,
      txPowerSource: source,
      attenuationDb: attenuationDb(tx, s.rssi)
    };
    if (metadataValid !== undefined) m.metadataValid = metadataValid;
    out.push(m);
  }
  return out;
}
