/**
 * What GAEN phones would have warned for the scenario's diagnoses, beside
 * what the kiosk warned on tokens (sim/kiosk/kiosk-figures.ts): for each
 * person diagnosed (keys uploaded), every token wearer whose phone spent
 * ≥ 15 weighted minutes (the headline buckets) near that person's phone on a
 * day the kiosk's figures count (infectious, before the diagnosis' day) is
 * warned. Scored against the same ground truth: the tokens' `exposed` (and
 * `nearMiss`, for the near-miss precision). A
 * phone has one warning, so there is no level to grade.
 */
import { DiagnosisFigures, pctOrDash, ratio } from "../kiosk/kiosk-figures";
import { AttenuationBuckets, DEFAULT_PHONE_BUCKETS, EXPOSED_WEIGHTED_MINUTES } from "./gaen-settings";
import { PhoneBaseline, exposureOf } from "./phone-baseline";
import { weightedMinutes } from "./phone-risk";

export interface PhoneWarnings {
  /** Warned wearers that were really exposed to someone diagnosed; null with none warned. */
  precision: number | null;
  /** Exposed wearers warned; null with none exposed. */
  recall: number | null;
  /**
   * Precision when a warned wearer who had only a near miss with someone
   * diagnosed (the kiosk figures' `nearMiss`) counts as right; null with none warned.
   */
  nearMissPrecision: number | null;
  warned: number;
  exposed: number;
  truePositives: number;
  /** Warned wearers, not exposed, who had a near miss with someone diagnosed. */
  nearMisses: number;
  buckets: string;
}

export function phoneWarnings(
  baseline: PhoneBaseline,
  diagnoses: readonly DiagnosisFigures[],
  wearers: ReadonlySet<string>,
  buckets: AttenuationBuckets = DEFAULT_PHONE_BUCKETS
): PhoneWarnings {
  const index = new Map(baseline.people.map((p, i) => [p, i]));
  const warned = new Set<string>();
  const exposed = new Set<string>();
  const near = new Set<string>();
  for (const d of diagnoses) {
    // Exposed counts as the kiosk's figures count it; only keys that reached the health authority warn anyone, phones or tokens.
    for (const e of d.exposed) exposed.add(e);
    for (const e of d.nearMiss) near.add(e);
    if (d.status !== "uploaded") continue;
    const tx = index.get(d.person);
    if (tx === undefined) continue;
    for (const w of wearers) {
      const rx = index.get(w);
      if (rx === undefined || rx === tx) continue;
      for (let day = d.countedDays.from; day <= d.countedDays.to; day++) {
        const bins = exposureOf(baseline, rx, tx, day);
        if (bins && weightedMinutes(bins, buckets) >= EXPOSED_WEIGHTED_MINUTES) {
          warned.add(w);
          break;
        }
      }
    }
  }
  const tp = [...warned].filter((w) => exposed.has(w)).length;
  // A near miss with one person and exposed to another is simply exposed.
  const nearMisses = [...warned].filter((w) => near.has(w) && !exposed.has(w)).length;
  return {
    precision: ratio(tp, warned.size),
    recall: ratio(tp, exposed.size),
    nearMissPrecision: ratio(tp + nearMisses, warned.size),
    warned: warned.size,
    exposed: exposed.size,
    truePositives: tp,
    nearMisses,
    buckets: buckets.name
  };
}

/** `simulate`'s text line, under the kiosk's warnings. */
export function phoneWarningsLine(w: PhoneWarnings): string {
  return `  GAEN phones   would warn with precision ${pctOrDash(w.precision)}, recall ${pctOrDash(w.recall)} (${w.truePositives} of ${w.warned} warned were exposed; ${w.exposed} exposed; ${w.buckets}, ≥ 15 weighted min)`;
}
