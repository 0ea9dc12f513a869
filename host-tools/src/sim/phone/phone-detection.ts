/**
 * The phones' close-contact figures, scored like the tokens': the same
 * people, the same days, the same ground truth (≥ 15 min within 2 m), with
 * each health authority setting of gaen-settings.ts.
 */
import { contactTruth } from "../metrics/detection";
import { DetectionFigures, detectionFigures, pairDays } from "../metrics/detection-figures";
import type { GroundTruth } from "../world/ground-truth";
import { AttenuationBuckets, DEFAULT_PHONE_BUCKETS, EXPOSED_WEIGHTED_MINUTES, PHONE_BUCKET_SETS } from "./gaen-settings";
import type { PhoneBaseline } from "./phone-baseline";
import { phoneScores } from "./phone-risk";

export interface PhoneSettingFigures extends DetectionFigures {
  buckets: string;
  thresholdsDb: readonly number[];
  weights: readonly number[];
}

export interface PhoneDetection extends PhoneSettingFigures {
  exposedWeightedMinutes: number;
  /** Every bucket set of gaen-settings.ts, the headline one included. */
  settings: PhoneSettingFigures[];
  /** People scored (the token wearers, to compare with the tokens). */
  people: number;
}

export function phoneFigures(
  baseline: PhoneBaseline,
  truth: GroundTruth,
  people: ReadonlySet<string>,
  buckets: AttenuationBuckets
): PhoneSettingFigures {
  const scores = phoneScores(baseline, buckets, people);
  const figures = detectionFigures(
    scores,
    EXPOSED_WEIGHTED_MINUTES,
    contactTruth(truth, people),
    pairDays(people.size, baseline.dates.length)
  );
  return { buckets: buckets.name, thresholdsDb: [...buckets.thresholdsDb], weights: [...buckets.weights], ...figures };
}

export function phoneDetection(baseline: PhoneBaseline, truth: GroundTruth, people: ReadonlySet<string>): PhoneDetection {
  const settings = PHONE_BUCKET_SETS.map((b) => phoneFigures(baseline, truth, people, b));
  const headline = settings[PHONE_BUCKET_SETS.indexOf(DEFAULT_PHONE_BUCKETS)];
  return { ...headline, exposedWeightedMinutes: EXPOSED_WEIGHTED_MINUTES, settings, people: people.size };
}
