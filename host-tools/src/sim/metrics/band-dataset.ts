/**
 * Pair-days as examples for the band classifier (band-classifier.ts): one
 * row per ordered (receiver, sender, UTC day) among the people scored, its
 * features from the minutes a detector credited per attenuation band, its
 * label from the ground truth. Tokens and phones give the same rows, so one
 * fitting and one scoring serve both.
 */
import type { PhoneBaseline } from "../phone/phone-baseline";
import { exposureOf } from "../phone/phone-baseline";
import { binCredits } from "../phone/phone-risk";
import type { ExposureByPairDay } from "./detection";
import { pairDayKey } from "./detection";
import { LogisticModel, bandMinutes, features, fitLogistic, predict } from "./band-classifier";
import { DetectionFigures, detectionFigures } from "./detection-figures";

export interface BandRow {
  key: string;
  x: number[];
  closeContact: boolean;
  /** The detector heard the pair that day at all. */
  heard: boolean;
}

export interface BandModel extends LogisticModel {
  /** Probability at or above which a pair-day is flagged: the best F1 on the training rows. */
  cut: number;
}

/** Rows from the tokens' credited scans. */
export function tokenRows(
  exposure: ExposureByPairDay,
  truth: ReadonlySet<string>,
  people: readonly string[],
  dates: readonly string[]
): BandRow[] {
  const rows: BandRow[] = [];
  for (const date of dates)
    for (const rx of people)
      for (const tx of people) {
        if (rx === tx) continue;
        const key = pairDayKey(rx, tx, date);
        const scans = exposure.get(key);
        rows.push({ key, x: features(bandMinutes(scans ?? [])), closeContact: truth.has(key), heard: !!scans });
      }
  return rows;
}

/** Rows from the phone baseline's seconds per attenuation. */
export function phoneRows(b: PhoneBaseline, truth: ReadonlySet<string>, people: ReadonlySet<string>): BandRow[] {
  const rows: BandRow[] = [];
  for (let day = 0; day < b.dates.length; day++)
    for (let rx = 0; rx < b.people.length; rx++)
      for (let tx = 0; tx < b.people.length; tx++) {
        if (rx === tx || !people.has(b.people[rx]) || !people.has(b.people[tx])) continue;
        const key = pairDayKey(b.people[rx], b.people[tx], b.dates[day]);
        const bins = exposureOf(b, rx, tx, day);
        rows.push({ key, x: features(bandMinutes(bins ? binCredits(bins) : [])), closeContact: truth.has(key), heard: !!bins });
      }
  return rows;
}

/**
 * Scores relative to a pair-day never heard (all features 0), so that the
 * unheard pair-days detectionFigures counts at 0 rank where the model puts them.
 */
function scores(m: LogisticModel, rows: readonly BandRow[]): Map<string, number> {
  const p0 = predict(m, rows.length ? rows[0].x.map(() => 0) : []);
  return new Map(rows.filter((r) => r.heard).map((r) => [r.key, predict(m, r.x) - p0]));
}

export function bandFigures(
  m: BandModel,
  rows: readonly BandRow[],
  truth: ReadonlySet<string>,
  near: ReadonlySet<string>
): DetectionFigures {
  const p0 = predict(m, rows.length ? rows[0].x.map(() => 0) : []);
  return detectionFigures(scores(m, rows), m.cut - p0, truth, near, rows.length);
}

/** One run's rows with its near misses (keys of different runs may coincide, so runs stay apart). */
export interface BandRun {
  rows: readonly BandRow[];
  near: ReadonlySet<string>;
}

/**
 * Fit on every run's rows and pick the cut (1 % steps) with the best F1 over
 * them all; where several cuts tie (rows that separate cleanly), the middle
 * one, not the first, so the margin is kept on both sides.
 */
export function fitBandModel(runs: readonly BandRun[]): BandModel {
  const all = runs.flatMap((r) => r.rows);
  const model = fitLogistic(
    all.map((r) => r.x),
    all.map((r) => r.closeContact)
  );
  const truths = runs.map((r) => new Set(r.rows.filter((x) => x.closeContact).map((x) => x.key)));
  const f1s: number[] = [];
  for (let i = 1; i < 100; i++) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    runs.forEach((r, k) => {
      const f = bandFigures({ ...model, cut: i / 100 }, r.rows, truths[k], r.near);
      tp += f.truePositives;
      fp += f.falsePositives;
      fn += f.falseNegatives;
    });
    f1s.push(tp ? (2 * tp) / (2 * tp + fp + fn) : 0);
  }
  const best = Math.max(...f1s);
  const ties = f1s.map((f, i) => (f >= best - 1e-12 ? (i + 1) / 100 : -1)).filter((c) => c > 0);
  return { ...model, cut: ties[Math.floor((ties.length - 1) / 2)] };
}
