/**
 * From a phone's credited seconds per attenuation to what a health
 * authority's app decides: GAEN v2's weighted duration (each scan's seconds
 * times the weight of the bucket its typical attenuation falls in), summed
 * per day, "exposed" at 15 weighted minutes. Infectiousness and report type
 * weigh every pair the same here (as in the tokens' figures): the question
 * is whether the radio found the contact, not how infectious it was.
 */
import { pairDayKey } from "../metrics/detection";
import type { AttenuationBuckets } from "./gaen-settings";
import { PhoneBaseline, exposureOf } from "./phone-baseline";

export function bucketWeight(attenuationDb: number, b: AttenuationBuckets): number {
  const t = b.thresholdsDb;
  const w = b.weights;
  return attenuationDb <= t[0] ? w[0] : attenuationDb <= t[1] ? w[1] : attenuationDb <= t[2] ? w[2] : w[3];
}

/** Weighted minutes of one (receiver, sender, day)'s seconds per attenuation. */
export function weightedMinutes(bins: Uint32Array, b: AttenuationBuckets): number {
  let s = 0;
  for (let att = 0; att < bins.length; att++) if (bins[att]) s += bins[att] * bucketWeight(att, b);
  return s / 60;
}

/**
 * Weighted minutes per ordered (receiver, sender, day) among `people` (keyed
 * as the tokens' figures are, detection.ts pairDayKey); pairs never heard are
 * left out (their score is 0).
 */
export function phoneScores(baseline: PhoneBaseline, b: AttenuationBuckets, people: ReadonlySet<string>): Map<string, number> {
  const out = new Map<string, number>();
  const ids = baseline.people;
  for (let day = 0; day < baseline.dates.length; day++) {
    for (let rx = 0; rx < ids.length; rx++) {
      if (!people.has(ids[rx])) continue;
      for (let tx = 0; tx < ids.length; tx++) {
        if (tx === rx || !people.has(ids[tx])) continue;
        const bins = exposureOf(baseline, rx, tx, day);
        if (bins) out.set(pairDayKey(ids[rx], ids[tx], baseline.dates[day]), weightedMinutes(bins, b));
      }
    }
  }
  return out;
}

/** The seconds per attenuation of a pair-day as (attenuation, seconds) credits, for the band classifier (match/band-classifier.ts). */
export function* binCredits(bins: Uint32Array): Generator<{ attenuationDb: number; seconds: number }> {
  for (let att = 0; att < bins.length; att++) if (bins[att]) yield { attenuationDb: att, seconds: bins[att] };
}
