import { ExposureKey, ReportType } from "../keys/types";
import { buildExposureWindows } from "./exposure-windows";
import { findHits } from "./find-hits";
import { MatchedSighting, resolveHits } from "./matched-sightings";
import { packKeys } from "./packed-keys";
import { DEFAULT_PROFILE, DEFAULT_RISK_CONFIG, Level, RiskConfig, WearerProfile } from "./risk-config";
import { dailyScores, DayScore, gradeRisk, RiskLevel, ScoredWindow, scoreWindow } from "./risk-score";
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
}

export interface MatchReport {
  level: Level;
  reason: string;
  cutoffs: RiskLevel["cutoffs"];
  profile: WearerProfile;
  keys: number;
  /** Revoked keys are published so phones can un-match them; they never match here. */
  revokedKeys: number;
  /** Keys whose RPIs were derived (the rest had no sighting within ±2 h of their day). */
  derivedKeys: number;
  sightings: number;
  matches: MatchedSighting[];
  windows: ScoredWindow[];
  days: DayScore[];
}

export async function matchExposures(keys: readonly ExposureKey[], sightings: readonly Sighting[], opts: MatchOptions = {}): Promise<MatchReport> {
  const config = opts.config ?? DEFAULT_RISK_CONFIG;
  const profile = opts.profile ?? DEFAULT_PROFILE;
  const live = keys.filter((k) => k.reportType !== ReportType.Revoked);
  const workers = opts.workers ?? 1;
  const packed = packKeys(live, workers > 1);
  const index = buildSightingIndex(sightings);
  const found = await findHits(packed, index, { workers, chunkKeys: opts.chunkKeys, onProgress: opts.onProgress });
  const matches = resolveHits(found.hits, live, sightings, config.defaultTxPowerDbm);
  const windows = buildExposureWindows(matches, config).map((w) => scoreWindow(w, config));
  const days = dailyScores(windows);
  const risk = gradeRisk(days, matches.length > 0, config, profile);
  return {
    level: risk.level,
    reason: risk.reason,
    cutoffs: risk.cutoffs,
    profile,
    keys: keys.length,
    revokedKeys: keys.length - live.length,
    derivedKeys: found.derived,
    sightings: sightings.length,
    matches,
    windows,
    days
  };
}
