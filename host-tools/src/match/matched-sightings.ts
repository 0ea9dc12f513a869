import { ExposureKey } from "../keys/types";
import { decryptMetadata, deriveKeys, deriveRpis, TekKeys } from "./derive";
import { MatchHit } from "./find-hits";
import { Sighting } from "./sightings";

/**
 * A hit made whole: the full RPI re-derived from the key (so a sighting stored
 * as a 5-byte prefix still decrypts its AEM), the transmit power from the AEM
 * and the attenuation. Runs only for the few matched sightings, so it favours
 * clarity over speed.
 */

export const METADATA_MAJOR_VERSION_MASK = 0xc0;
export const METADATA_MAJOR_VERSION_1 = 0x40;

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
   * itself stands, since the RPI did match.
   */
  metadataValid?: boolean;
  attenuationDb: number;
}

export function attenuationDb(txPowerDbm: number, rssi: number): number {
  return Math.max(0, txPowerDbm - rssi);
}

export function resolveHits(hits: readonly MatchHit[], keys: readonly ExposureKey[], sightings: readonly Sighting[], defaultTxPowerDbm: number): MatchedSighting[] {
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
    }
    const m: MatchedSighting = { keyIndex: h.keyIndex, key, enin: h.enin, rpi, sightingIndex: h.sightingIndex, sighting: s, txPowerDbm: tx, txPowerSource: source, attenuationDb: attenuationDb(tx, s.rssi) };
    if (metadataValid !== undefined) m.metadataValid = metadataValid;
    out.push(m);
  }
  return out;
}
