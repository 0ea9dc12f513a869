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

/** `--detector phone --seeds 2,3 --days 14`. */
export const PHONE_BAND_MODEL: StoredBandModel = {
  detector: "phone",
  scenario: "care-home",
  seeds: [2, 3],
  days: 14,
  weights: [
    -5.405508730193678, 1.009164128743868, 0.7230077565089702, 0.6095857137931641, 0.2617499447216048, -0.10240346075402729,
    0.039032887723879015, 0.33116540636489084
  ],
  cut: 0.32
};

/** Whether a run is one the model was not fitted on. */
export function heldOut(m: StoredBandModel, scenario: string, seed: number): boolean {
  return !(scenario === m.scenario && m.seeds.includes(seed));
}

/** `--detector token --seeds 2 --days 14` (the real firmware without the kiosk, 14 days: about 5 minutes a seed). */
export const TOKEN_BAND_MODEL: StoredBandModel | undefined = {
  detector: "token",
  scenario: "care-home",
  seeds: [2],
  days: 14,
  weights: [
    -3.823773086606511, 0.6121848524385266, 0.3276751379577974, 0.19346151856037616, 0.09656716013313896, 0.13460174261318444,
    0.020659728404097275, 0
  ],
  cut: 0.28
};
