/**
 * The figures that put two detectors side by side (tokens and phones): from
 * a score per ordered (receiver, sender, UTC day) and the cut at which the
 * detector says "close contact", against the ground truth. Both detectors
 * are scored over the same people and the same days, so the same pair-days
 * are in play.
 */
import type { ContactTruth } from "./detection";

export interface DetectionFigures {
  /** Flagged pair-days that are close contacts; 1 when nothing was flagged. */
  precision: number;
  /** Close contacts flagged; 1 when there were none. */
  recall: number;
  /** Contacts of ≥ 15 min within 1.5 m flagged: the ones a care home must not miss; 1 when there were none. */
  recallWithin1_5m: number;
  /** Harmonic mean of precision and recall (0 when both are 0). */
  f1: number;
  /**
   * Area under the ROC curve of the score over every ordered pair-day of
   * the people scored (pairs never heard score 0): the chance a close
   * contact scores above a pair-day that is not one, ties counting half.
   */
  auc: number;
  /**
   * Precision when a flagged near miss (≥ 15 min within 3 m that day, not
   * within 2 m) counts as right: how much of the false alarm is a contact
   * just beyond the 2 m rule rather than someone across the building.
   */
  nearMissPrecision: number;
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  /** Share of the pair-days that were not close contacts flagged: the operating point's x on the ROC curve. */
  falsePositiveRate: number;
  /** False positives that were near misses. */
  nearMisses: number;
  groundTruthContacts: number;
  /** The ROC curve the AUC is the area under (rocCurve). */
  roc: RocPoint[];
}

/** Count of values in `sorted` (ascending) below x and equal to x. */
function countBelowAndEqual(sorted: Float64Array, x: number): [number, number] {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  let eq = lo;
  while (eq < sorted.length && sorted[eq] === x) eq++;
  return [lo, eq - lo];
}

/**
 * `scores` holds the pair-days the detector heard at all (others score 0);
 * `universe` is how many ordered pair-days are in play (the people scored,
 * each ordered pair, each day); `cut`: flagged at score ≥ cut.
 */
export function detectionFigures(
  scores: ReadonlyMap<string, number>,
  cut: number,
  contacts: ContactTruth,
  universe: number
): DetectionFigures {
  const { close: truth, near, core } = contacts;
  let tp = 0;
  let fp = 0;
  let fpNear = 0;
  const negatives: number[] = [];
  for (const [key, s] of scores) {
    const real = truth.has(key);
    if (!real) negatives.push(s);
    if (s < cut) continue;
    if (real) tp++;
    else {
      fp++;
      if (near.has(key)) fpNear++;
    }
  }
  const precision = tp + fp ? tp / (tp + fp) : 1;
  const recall = truth.size ? tp / truth.size : 1;
  let coreFound = 0;
  for (const key of core) {
    const s = scores.get(key);
    if (s !== undefined && s >= cut) coreFound++;
  }
  // Pair-days never heard, and not close contacts, all score 0.
  const unheard = Math.max(0, universe - truth.size - negatives.length);
  const neg = Float64Array.from(negatives).sort();
  const nNeg = neg.length + unheard;
  let wins = 0;
  for (const key of truth) {
    const s = scores.get(key) ?? 0;
    const [below, equal] = countBelowAndEqual(neg, s);
    // The unheard negatives sit at 0: below a positive score, tied with a 0, above a negative one.
    wins += below + equal / 2 + (s > 0 ? unheard : s === 0 ? unheard / 2 : 0);
  }
  return {
    precision,
    recall,
    recallWithin1_5m: core.size ? coreFound / core.size : 1,
    f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0,
    auc: truth.size && nNeg ? wins / (truth.size * nNeg) : 1,
    nearMissPrecision: tp + fp ? (tp + fpNear) / (tp + fp) : 1,
    truePositives: tp,
    falsePositives: fp,
    falseNegatives: truth.size - tp,
    falsePositiveRate: universe > truth.size ? fp / (universe - truth.size) : 0,
    nearMisses: fpNear,
    groundTruthContacts: truth.size,
    roc: rocCurve(scores, truth, universe)
  };
}

/** One point of a ROC curve: flagged at score ≥ `cut`. */
export interface RocPoint {
  /** null: the first point, nothing flagged. */
  cut: number | null;
  /** Share of the pair-days that were not close contacts flagged (unheard ones included, never flagged). */
  falsePositiveRate: number;
  /** Share of the close contacts flagged: the recall. */
  truePositiveRate: number;
}

/**
 * The ROC curve of a score, from the strictest cut down to every heard
 * pair-day flagged, thinned to steps of about `step` in either rate (the
 * JSON and the report need its shape, not every one of thousands of cuts).
 * Scores at or below 0 are never flagged, like the pair-days never heard:
 * the curve ends where the detector has nothing more to say, and the AUC of
 * detectionFigures closes it to (1, 1) with the tie.
 */
export function rocCurve(scores: ReadonlyMap<string, number>, truth: ReadonlySet<string>, universe: number, step = 0.02): RocPoint[] {
  const heard = [...scores].filter(([, s]) => s > 0).sort((a, b) => b[1] - a[1]);
  const negatives = Math.max(1, universe - truth.size);
  const positives = Math.max(1, truth.size);
  const out: RocPoint[] = [{ cut: null, falsePositiveRate: 0, truePositiveRate: 0 }];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < heard.length; i++) {
    if (truth.has(heard[i][0])) tp++;
    else fp++;
    // A cut sits between distinct scores only: tied pair-days are flagged together.
    if (i + 1 < heard.length && heard[i + 1][1] === heard[i][1]) continue;
    const p = { cut: heard[i][1], falsePositiveRate: fp / negatives, truePositiveRate: tp / positives };
    const last = out[out.length - 1];
    if (i + 1 < heard.length && p.falsePositiveRate - last.falsePositiveRate < step && p.truePositiveRate - last.truePositiveRate < step)
      continue;
    out.push(p);
  }
  return out;
}

/** Ordered pair-days among `people` over `days`: the size of the field both detectors are scored on. */
export function pairDays(people: number, days: number): number {
  return people * (people - 1) * days;
}
