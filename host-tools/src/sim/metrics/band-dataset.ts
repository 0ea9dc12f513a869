/**
 * Pair-days as examples for the band classifier (match/band-classifier.ts): one
 * row per ordered (receiver, sender, UTC day) among the people scored, its
 * features from the minutes a detector credited per attenuation band, its
 * label from the ground truth. Tokens and phones give the same rows, so one
 * fitting and one scoring serve both.
 */
import type { PhoneBaseline } from "../phone/phone-baseline";
import { exposureOf } from "../phone/phone-baseline";
import { binCredits } from "../phone/phone-risk";
import type { ContactTruth, ExposureByPairDay } from "./detection";
import { pairDayKey } from "./detection";
import { LogisticModel, bandMinutes, features, fitLogistic, predict, tokenFeatures } from "../../match/band-classifier";
import { DetectionFigures, detectionFigures } from "./detection-figures";

export interface BandRow {
  key: string;
  x: number[];
  closeContact: boolean;
  /** The detector heard the pair that day at all. */
  heard: boolean;
}

export interface BandModel extends LogisticModel {
  /** Probability at or above which a pair-day is flagged: see fitBandModel. */
  cut: number;
}

/** Rows from the tokens' credited scans. */
export function tokenRows(
  exposure: ExposureByPairDay,
  contacts: ContactTruth,
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
        rows.push({ key, x: tokenFeatures(scans ?? []), closeContact: contacts.close.has(key), heard: !!scans });
      }
  return rows;
}

/** Rows from the phone baseline's seconds per attenuation. */
export function phoneRows(b: PhoneBaseline, contacts: ContactTruth, people: ReadonlySet<string>): BandRow[] {
  const rows: BandRow[] = [];
  for (let day = 0; day < b.dates.length; day++)
    for (let rx = 0; rx < b.people.length; rx++)
      for (let tx = 0; tx < b.people.length; tx++) {
        if (rx === tx || !people.has(b.people[rx]) || !people.has(b.people[tx])) continue;
        const key = pairDayKey(b.people[rx], b.people[tx], b.dates[day]);
        const bins = exposureOf(b, rx, tx, day);
        rows.push({ key, x: features(bandMinutes(bins ? binCredits(bins) : [])), closeContact: contacts.close.has(key), heard: !!bins });
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

export function bandFigures(m: BandModel, rows: readonly BandRow[], contacts: ContactTruth): DetectionFigures {
  const p0 = predict(m, rows.length ? rows[0].x.map(() => 0) : []);
  return detectionFigures(scores(m, rows), m.cut - p0, contacts, rows.length);
}

/** One run's rows with what they are judged against (keys of different runs may coincide, so runs stay apart). */
export interface BandRun {
  rows: readonly BandRow[];
  contacts: ContactTruth;
}

/** The share of the ≥ 15 min within 1.5 m contacts the cut must find on the training runs (issue 14's recall goal). */
export const CORE_RECALL_GOAL = 0.9;

/**
 * Fit on every run's rows, then choose where to cut. A care home would
 * rather warn a resident who sat 2.5 m away than miss one who sat 1.5 m
 * away, so the cut is the strictest (1 % steps) that still finds
 * CORE_RECALL_GOAL of the contacts within 1.5 m over all training runs;
 * what that costs in false alarms is reported, not traded away. Where the
 * training runs have no such contacts, the cut with the best F1.
 */
export function fitBandModel(runs: readonly BandRun[]): BandModel {
  const all = runs.flatMap((r) => r.rows);
  const model = fitLogistic(
    all.map((r) => r.x),
    all.map((r) => r.closeContact)
  );
  const pooled = (cut: number): { tp: number; fp: number; fn: number; core: number; coreFound: number } => {
    const t = { tp: 0, fp: 0, fn: 0, core: 0, coreFound: 0 };
    for (const r of runs) {
      const f = bandFigures({ ...model, cut }, r.rows, r.contacts);
      t.tp += f.truePositives;
      t.fp += f.falsePositives;
      t.fn += f.falseNegatives;
      t.core += r.contacts.core.size;
      t.coreFound += Math.round(f.recallWithin1_5m * r.contacts.core.size);
    }
    return t;
  };
  const cuts = Array.from({ length: 99 }, (_, i) => (i + 1) / 100);
  const figures = cuts.map(pooled);
  if (figures[0].core > 0) {
    for (let i = cuts.length - 1; i >= 0; i--)
      if (figures[i].coreFound >= CORE_RECALL_GOAL * figures[i].core) return { ...model, cut: cuts[i] };
    return { ...model, cut: cuts[0] };
  }
  const f1s = figures.map((t) => (t.tp ? (2 * t.tp) / (2 * t.tp + t.fp + t.fn) : 0));
  const best = Math.max(...f1s);
  const ties = f1s.map((f, i) => (f >= best - 1e-12 ? cuts[i] : -1)).filter((c) => c > 0);
  // Where several cuts tie (rows that separate cleanly), the middle one, so the margin is kept on both sides.
  return { ...model, cut: ties[Math.floor((ties.length - 1) / 2)] };
}
