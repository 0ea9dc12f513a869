/**
 * Band classifiers fitted on care-home seeds other than the one make demo
 * reports (seed 1), by bench/fit-band-classifier.ts (its output pasted
 * here): `simulate` applies them and says whether the run was held out.
 */
import type { BandModel } from "./band-dataset";
import { DEFAULT_RISK_CONFIG, RiskConfig } from "../../match/risk-config";

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
 * `--detector token --seeds 2,3 --days 14` (the real firmware with the scenario's kiosk, 14 days: about 6 minutes a seed):
 * the seven bands as heard, then the seven smoothed across consecutive scans (match/band-classifier.ts tokenFeatures).
 */
export const TOKEN_BAND_MODEL: StoredBandModel | undefined = {
  detector: "token",
  scenario: "care-home",
  seeds: [2, 3],
  days: 14,
  weights: [
    -4.313150187357085, 0.28607087496188727, 0.1757298803310481, 0.1924121963270091, 0.12972655662674812, 0.02147268565800538,
    0.001704018943476827, 0, 0.42812840821786335, 0.26653398508589926, 0.0881861571133849, -0.022878056601840224, 0.14624648275702035,
    0.005025722449282799, 0
  ],
  cut: 0.19
};

/** A kiosk's risk config grading with the stored token model (`simulate --kiosk-grading classifier`; docs/risk.md). */
export function classifierRiskConfig(): RiskConfig {
  if (!TOKEN_BAND_MODEL) throw new Error("no token band model is stored");
  return { ...DEFAULT_RISK_CONFIG, closeContactModel: { weights: [...TOKEN_BAND_MODEL.weights], cut: TOKEN_BAND_MODEL.cut } };
}
