/**
 * Tokens and phones side by side, as `simulate` prints them: `detection.token`
 * and `detection.phone` of `--json` (same fields, rounded), and their text
 * lines, each followed by its band classifier's where a model is stored.
 */
import type { DetectionFigures } from "../metrics/detection-figures";
import type { ClassifierFigures } from "../metrics/band-report";
import type { PhoneDetection, PhoneSettingFigures } from "./phone-detection";

/** A detector's figures with the ratios rounded for printing. */
export interface RoundedFigures extends DetectionFigures {
  /** The band classifier fitted on other seeds (issue 14, item 3), where one is stored. */
  classifier?: RoundedFigures & Omit<ClassifierFigures, keyof DetectionFigures>;
}

export interface PhoneSummary extends RoundedFigures {
  buckets: string;
  thresholdsDb: readonly number[];
  weights: readonly number[];
  exposedWeightedMinutes: number;
  people: number;
  /** Every health authority setting; the headline one's ROC curve is above, the others' are left out (they add tens of KB for little). */
  settings: Array<Omit<RoundedFigures, "roc"> & { buckets: string; thresholdsDb: readonly number[]; weights: readonly number[] }>;
  scans: number;
  scanInstances: number;
  wallSeconds: number;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

export function roundFigures(f: DetectionFigures, classifier?: ClassifierFigures): RoundedFigures {
  return { ...roundedOnly(f), ...(classifier ? { classifier: roundClassifier(classifier) } : {}) };
}

function roundClassifier(c: ClassifierFigures): NonNullable<RoundedFigures["classifier"]> {
  return { ...roundedOnly(c), cut: c.cut, trainedOn: c.trainedOn, heldOut: c.heldOut };
}

function roundedOnly(f: DetectionFigures): RoundedFigures {
  return {
    precision: round3(f.precision),
    recall: round3(f.recall),
    recallWithin1_5m: round3(f.recallWithin1_5m),
    f1: round3(f.f1),
    auc: round3(f.auc),
    nearMissPrecision: round3(f.nearMissPrecision),
    truePositives: f.truePositives,
    falsePositives: f.falsePositives,
    falseNegatives: f.falseNegatives,
    falsePositiveRate: Math.round(f.falsePositiveRate * 1e4) / 1e4,
    nearMisses: f.nearMisses,
    groundTruthContacts: f.groundTruthContacts,
    roc: f.roc.map((p) => ({
      cut: p.cut === null ? null : round3(p.cut),
      falsePositiveRate: Math.round(p.falsePositiveRate * 1e4) / 1e4,
      truePositiveRate: Math.round(p.truePositiveRate * 1e4) / 1e4
    }))
  };
}

function setting(s: PhoneSettingFigures): PhoneSummary["settings"][number] {
  const { roc: _roc, ...figures } = roundFigures(s);
  return { buckets: s.buckets, thresholdsDb: s.thresholdsDb, weights: s.weights, ...figures };
}

export function phoneSummary(
  d: PhoneDetection,
  run: { scans: number; scanInstances: number; wallSeconds: number },
  classifier?: ClassifierFigures
): PhoneSummary {
  return {
    buckets: d.buckets,
    thresholdsDb: d.thresholdsDb,
    weights: d.weights,
    ...roundFigures(d),
    ...(classifier ? { classifier: roundClassifier(classifier) } : {}),
    exposedWeightedMinutes: d.exposedWeightedMinutes,
    people: d.people,
    settings: d.settings.map(setting),
    scans: run.scans,
    scanInstances: run.scanInstances,
    wallSeconds: round3(run.wallSeconds)
  };
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)} %`;
}

function line(f: RoundedFigures): string {
  return `precision ${pct(f.precision)}, recall ${pct(f.recall)} (${pct(f.recallWithin1_5m)} within 1.5 m), F1 ${f.f1.toFixed(3)}, AUC ${f.auc.toFixed(3)}, near-miss precision ${pct(f.nearMissPrecision)}`;
}

export function sideBySideLines(token: RoundedFigures, phone: PhoneSummary | undefined): string[] {
  const out = [`tokens          ${line(token)}`];
  if (token.classifier) out.push(`  classifier    ${line(token.classifier)}${heldOutNote(token.classifier)}`);
  if (phone)
    out.push(
      `GAEN phones     ${line(phone)} (${phone.buckets} ${phone.thresholdsDb.join("/")} dB, ≥ ${phone.exposedWeightedMinutes} weighted min; same ${phone.people} people; ${phone.wallSeconds.toFixed(1)} s)`
    );
  if (phone?.classifier) out.push(`  classifier    ${line(phone.classifier)}${heldOutNote(phone.classifier)}`);
  return out;
}

function heldOutNote(c: NonNullable<RoundedFigures["classifier"]>): string {
  return ` (fitted on ${c.trainedOn.scenario} seeds ${c.trainedOn.seeds.join(", ")}${c.heldOut ? "" : "; this run is one of them"})`;
}
