/**
 * A stored band classifier applied to one run, for `simulate --json`
 * (`detection.token.classifier`, `detection.phone.classifier`): its figures
 * on this run's pair-days and what it was fitted on.
 */
import { BandRow, bandFigures, phoneRows, tokenRows } from "./band-dataset";
import { PHONE_BAND_MODEL, StoredBandModel, TOKEN_BAND_MODEL, heldOut } from "./band-models";
import { ContactTruth, ExposureByPairDay, contactTruth } from "./detection";
import { DetectionFigures } from "./detection-figures";
import type { PhoneBaseline } from "../phone/phone-baseline";
import type { GroundTruth } from "../world/ground-truth";

export interface ClassifierFigures extends DetectionFigures {
  /** Flagged at a fitted probability ≥ this. */
  cut: number;
  trainedOn: { scenario: string; seeds: readonly number[]; days: number };
  /** The run is not one the model was fitted on. */
  heldOut: boolean;
}

export function classifierFigures(
  m: StoredBandModel,
  rows: readonly BandRow[],
  contacts: ContactTruth,
  run: { scenario: string; seed: number }
): ClassifierFigures {
  return {
    ...bandFigures(m, rows, contacts),
    cut: m.cut,
    trainedOn: { scenario: m.scenario, seeds: m.seeds, days: m.days },
    heldOut: heldOut(m, run.scenario, run.seed)
  };
}

/** The stored phone model on this run's phone baseline, scored on `people` (the token wearers). */
export function phoneClassifier(
  b: PhoneBaseline,
  truth: GroundTruth,
  people: ReadonlySet<string>,
  run: { scenario: string; seed: number }
): ClassifierFigures {
  const contacts = contactTruth(truth, people);
  return classifierFigures(PHONE_BAND_MODEL, phoneRows(b, contacts, people), contacts, run);
}

/** The stored token model on this run's credited scans, where one is stored. */
export function tokenClassifier(
  exposure: ExposureByPairDay,
  truth: GroundTruth,
  people: readonly string[],
  run: { scenario: string; seed: number }
): ClassifierFigures | undefined {
  if (!TOKEN_BAND_MODEL) return undefined;
  const contacts = contactTruth(truth, new Set(people));
  const dates = truth.days.map((d) => d.date);
  return classifierFigures(TOKEN_BAND_MODEL, tokenRows(exposure, contacts, people, dates), contacts, run);
}
