/**
 * Band classifiers fitted on care-home seeds other than the one make demo
 * reports (seed 1), by bench/fit-band-classifier.ts (its output pasted
 * here): `simulate` applies them and says whether the run was held out.
 */
import type { BandModel } from "./band-dataset";

export interface StoredBandModel extends BandModel {
  detector: "token" | "phone";
  scenario: string;
  seeds: readonly number[];
  days: number;
}

/** `--detector phone --seeds 2,3 --days 14`: the seven bands. */
export const PHONE_BAND_MODEL: StoredBandModel = {
  detector: "phone",
  scenario: "care-home",
  seeds: [2, 3],
  days: 14,
  weights: [
    -5.405508730193678, 1.009164128743868, 0.7230077565089702, 0.6095857137931641, 0.2617499447216048, -0.10240346075402729,
    0.039032887723879015, 0.33116540636489084
  ],
  cut: 0.23
};

/** Whether a run is one the model was not fitted on. */
export function heldOut(m: StoredBandModel, scenario: string, seed: number): boolean {
  return !(scenario === m.scenario && m.seeds.includes(seed));
}

/**
 * `--detector token --seeds 2,3 --days 14` (the real firmware without the kiosk, 14 days: about 5 minutes a seed):
 * the seven bands as heard, then the seven smoothed across consecutive scans (band-classifier.ts tokenFeatures).
 */
export const TOKEN_BAND_MODEL: StoredBandModel | undefined = {
  detector: "token",
  scenario: "care-home",
  seeds: [2, 3],
  days: 14,
  weights: [
    -4.133170410474766, 0.26126872610999613, 0.15641945030185264, 0.19205618591404597, 0.15973889397323654, 0.09148348725374068,
    0.016705457734243985, 0, 0.4280337626307791, 0.26947176763525776, 0.0739926333388092, -0.0514399665752703, 0.09295404540812033,
    -0.010186880131346842, 0
  ],
  cut: 0.16
};
