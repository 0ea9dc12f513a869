import { ExposureKey } from "../keys/types";
import { RpiIndex } from "./rpi-index";
import { KeyCounts, MatchOptions, MatchReport, refuseNoLiveKeys, reportFromHits } from "./run-match";
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
  const st = index.stats;
  const counts: KeyCounts = {
    given: st.givenKeys,
    keys: st.keys,
    revokedKeys: st.revokedKeys,
    duplicateKeysMerged: st.duplicateKeysMerged,
    invalidKeysSkipped: st.invalidKeysSkipped
  };
  refuseNoLiveKeys(counts, st.liveKeys);
  const sIdx = buildSightingIndex(sightings);
  const hits = index.lookupIndexed(sIdx);
  // The report reads keys[keyIndex] of hits only: just those are decoded from the index.
  const keys: ExposureKey[] = [];
  for (const h of hits) keys[h.keyIndex] ??= index.key(h.keyIndex);
  // Not derived here, but the count matchExposures reports: keys with a sighting in reach.
  return reportFromHits(hits, sIdx.enin, keys, sightings, counts, index.keysInReach(sIdx), opts);
}
