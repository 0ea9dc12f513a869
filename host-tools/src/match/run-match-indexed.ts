import { NoKeysError } from "../keys/errors";
import { ExposureKey } from "../keys/types";
import { buildExposureWindows } from "./exposure-windows";
import { oneHitPerSighting } from "./find-hits";
import { resolveHits } from "./matched-sightings";
import { RpiIndex } from "./rpi-index";
import { DEFAULT_PROFILE, DEFAULT_RISK_CONFIG } from "./risk-config";
import { dailyScores, gradeRisk, incompleteSentence, scoreWindow } from "./risk-score";
import { MatchOptions, MatchReport } from "./run-match";
import { buildSightingIndex } from "./sighting-index";
import { Sighting } from "./sightings";

/**
 * matchExposures against a prebuilt RPI index (rpi-index.ts): the same
 * report, field for field, for the keys the index was built from, with the
 * derivation replaced by lookups. Only the hits come from the index; every
 * later step is the derive path's own code.
 */

export type IndexedMatchOptions = Pick<MatchOptions, "config" | "profile" | "losses">;

export async function matchWithIndex(
  index: RpiIndex,
  sightings: readonly Sighting[],
  opts: IndexedMatchOptions = {}
): Promise<MatchReport> {
  const config = opts.config ?? DEFAULT_RISK_CONFIG;
  const profile = opts.profile ?? DEFAULT_PROFILE;
  const st = index.stats;
  if (!st.liveKeys) {
    // matchExposures's refusal, in its words: a level graded against nothing would read as "no risk".
    const why = !st.givenKeys
      ? "the list of published keys is empty"
      : st.keys
        ? `all ${st.keys} key(s) given are revoked`
        : `all ${st.invalidKeysSkipped} key(s) given are invalid`;
    throw new NoKeysError(`no published keys were checked: ${why}; this is not a "no risk" result`);
  }
  const sIdx = buildSightingIndex(sightings);
  const once = oneHitPerSighting(index.lookupIndexed(sIdx), sIdx.enin);
  // resolveHits reads keys[keyIndex] only, so just the matched keys are decoded from the index.
  const keys: ExposureKey[] = [];
  for (const h of once.hits) keys[h.keyIndex] ??= index.key(h.keyIndex);
  const matches = resolveHits(once.hits, keys, sightings, config.defaultTxPowerDbm);
  const windows = buildExposureWindows(matches, config).map((w) => scoreWindow(w, config));
  const days = dailyScores(windows);
  const risk = gradeRisk(days, matches.length > 0, config, profile);
  const incomplete = opts.losses ?? null;
  return {
    level: risk.level,
    reason: incomplete ? `${risk.reason} ${incompleteSentence(incomplete)}` : risk.reason,
    incomplete,
    cutoffs: risk.cutoffs,
    profile,
    keys: st.keys,
    revokedKeys: st.revokedKeys,
    duplicateKeysMerged: st.duplicateKeysMerged,
    invalidKeysSkipped: st.invalidKeysSkipped,
    sightingsMatchedTwice: once.sightingsHitTwice,
    // Not derived here, but the count matchExposures reports: keys with a sighting in reach.
    derivedKeys: index.keysInReach(sIdx),
    sightings: sightings.length,
    matches,
    windows,
    days
  };
}
