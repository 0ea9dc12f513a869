import { NoKeysError } from "../keys/errors";
import { ExposureKey, ReportType } from "../keys/types";
import { keyProblem, mergeKeyCopies } from "../keys/validate";
import { buildExposureWindows } from "./exposure-windows";
import { MatchHit, findHits, oneHitPerSighting } from "./find-hits";
import { MatchedSighting, resolveHits } from "./matched-sightings";
import { packKeys } from "./packed-keys";
import { DEFAULT_PROFILE, DEFAULT_RISK_CONFIG, Level, RiskConfig, WearerProfile } from "./risk-config";
import {
  classifiedDays,
  dailyScores,
  DayScore,
  gradeRisk,
  incompleteSentence,
  LostSightings,
  RiskLevel,
  ScoredWindow,
  scoreWindow
} from "./risk-score";
import { buildSightingIndex } from "./sighting-index";
import { Sighting } from "./sightings";

/** Keys and sightings in, graded level out: the whole matching pipeline behind `privatetracer match`. */

export interface MatchOptions {
  config?: RiskConfig;
  profile?: WearerProfile;
  /** Worker threads; 1 (the default) matches in this thread. */
  workers?: number;
  chunkKeys?: number;
  onProgress?: (done: number, total: number) => void;
  /** What the log behind the sightings lost (tokenlog's recentLosses): the level is then reported as incomplete. */
  losses?: LostSightings | null;
}

export interface MatchReport {
  level: Level;
  /** The level's sentence; for an incomplete log it ends with "Risk may be higher than shown: …". */
  reason: string;
  /** Set when the log lost records: the level is a lower bound (docs/risk.md, "A log that lost records"). */
  incomplete: LostSightings | null;
  cutoffs: RiskLevel["cutoffs"];
  /** The day whose score decided the level (the highest), or null with nothing counted. */
  worstDay: RiskLevel["worstDay"];
  profile: WearerProfile;
  /** Distinct keys given (copies of one key data count once), revoked ones included. */
  keys: number;
  /** Revoked keys are published so phones can un-match them; they never match here. */
  revokedKeys: number;
  /** Entries folded into a key given earlier in the list (same key data, any start interval). */
  duplicateKeysMerged: number;
  /** Keys given that fail keyProblem (the check `keys show` and `keys verify` make), skipped: not in `keys`. */
  invalidKeysSkipped: number;
  /** Sightings that more than one key or interval matched; each still counts once. */
  sightingsMatchedTwice: number;
  /** Keys whose RPIs were derived (the rest had no sighting within ±2 h of their day). */
  derivedKeys: number;
  sightings: number;
  matches: MatchedSighting[];
  windows: ScoredWindow[];
  days: DayScore[];
  /** Whether `days` come from the close-contact classifier (risk config closeContactModel) rather than weighted minutes. */
  closeContact: boolean;
}

/**
 * Refuses a key list with no live key (NoKeysError): a level graded against
 * nothing would read as "no risk". Invalid keys (keyProblem, the same check
 * every export reader makes) are skipped and counted, never a reason to
 * refuse the rest. Copies of one key data are merged next (mergeKeyCopies),
 * so whatever the caller loaded, a TEK and each sighting of it count once.
 */
export async function matchExposures(
  keys: readonly ExposureKey[],
  sightings: readonly Sighting[],
  opts: MatchOptions = {}
): Promise<MatchReport> {
  const valid = keys.filter((k) => keyProblem(k) === null);
  const invalid = keys.length - valid.length;
  const merged = mergeKeyCopies(valid);
  const live = merged.keys.filter((k) => k.reportType !== ReportType.Revoked);
  const counts: KeyCounts = {
    given: keys.length,
    keys: merged.keys.length,
    revokedKeys: merged.keys.length - live.length,
    duplicateKeysMerged: merged.duplicates,
    invalidKeysSkipped: invalid
  };
  refuseNoLiveKeys(counts, live.length);
  const workers = opts.workers ?? 1;
  const packed = packKeys(live, workers > 1);
  const index = buildSightingIndex(sightings);
  const found = await findHits(packed, index, { workers, chunkKeys: opts.chunkKeys, onProgress: opts.onProgress });
  return reportFromHits(found.hits, index.enin, live, sightings, counts, found.derived, opts);
}

/** The published keys as given and as matched (MatchReport's fields of the same names; `given` counts every entry). */
export interface KeyCounts {
  given: number;
  keys: number;
  revokedKeys: number;
  duplicateKeysMerged: number;
  invalidKeysSkipped: number;
}

/** A level graded against no key would read as "no risk": refused, saying why there is none. */
export function refuseNoLiveKeys(c: KeyCounts, live: number): void {
  if (live) return;
  const why = !c.given
    ? "the list of published keys is empty"
    : c.keys
      ? `all ${c.keys} key(s) given are revoked`
      : `all ${c.invalidKeysSkipped} key(s) given are invalid`;
  throw new NoKeysError(`no published keys were checked: ${why}; this is not a "no risk" result`);
}

/**
 * From the hits of live keys on sightings (however found: derived here, or
 * looked up in a published-RPI index) to the graded report. `keys` is read
 * at the hits' key indexes only.
 */
export function reportFromHits(
  hits: readonly MatchHit[],
  eninOf: ArrayLike<number>,
  keys: readonly ExposureKey[],
  sightings: readonly Sighting[],
  counts: KeyCounts,
  derivedKeys: number,
  opts: Pick<MatchOptions, "config" | "profile" | "losses">
): MatchReport {
  const config = opts.config ?? DEFAULT_RISK_CONFIG;
  const profile = opts.profile ?? DEFAULT_PROFILE;
  const once = oneHitPerSighting(hits, eninOf);
  const matches = resolveHits(once.hits, keys, sightings, config.defaultTxPowerDbm);
  const windows = buildExposureWindows(matches, config).map((w) => scoreWindow(w, config));
  const days = config.closeContactModel ? classifiedDays(windows, config.closeContactModel, config) : dailyScores(windows);
  const risk = gradeRisk(days, matches.length > 0, config, profile);
  const incomplete = opts.losses ?? null;
  return {
    level: risk.level,
    reason: incomplete ? `${risk.reason} ${incompleteSentence(incomplete)}` : risk.reason,
    incomplete,
    cutoffs: risk.cutoffs,
    worstDay: risk.worstDay,
    profile,
    keys: counts.keys,
    revokedKeys: counts.revokedKeys,
    duplicateKeysMerged: counts.duplicateKeysMerged,
    invalidKeysSkipped: counts.invalidKeysSkipped,
    sightingsMatchedTwice: once.sightingsHitTwice,
    derivedKeys,
    sightings: sightings.length,
    matches,
    windows,
    days,
    closeContact: !!config.closeContactModel
  };
}
