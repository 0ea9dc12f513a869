import { SEGMENT_RECORDS } from "../../../firmware/src/wire/log-record";
import { ReportType } from "../keys/types";
import { TimedCredit, neverHeard, predict, tokenFeatures } from "./band-classifier";
import { ExposureWindow } from "./exposure-windows";
import { CloseContactModel, Infectiousness, Level, LEVELS, ReportTypeName, RiskConfig, WearerProfile } from "./risk-config";

/**
 * From exposure windows to one graded level: window score = weighted minutes ×
 * report-type weight × infectiousness weight; windows under the minimum score
 * are dropped; the rest are summed per UTC day; the worst day's sum, against
 * the cut-offs (lowered for a high-vulnerability wearer), gives the level.
 */

export interface ScoredWindow {
  window: ExposureWindow;
  reportType: ReportTypeName;
  reportTypeWeight: number;
  daysSinceOnset: number | null;
  infectiousness: Infectiousness;
  infectiousnessWeight: number;
  /** Weighted minutes. */
  score: number;
  /** Whether the window reached the minimum score and counts towards its day. */
  counted: boolean;
  /** UTC day of the window's start, YYYY-MM-DD. */
  day: string;
}

export interface DayScore {
  day: string;
  score: number;
  /** Estimated minutes of exposure in the day's counted windows. */
  exposureMinutes: number;
  windows: number;
}

export interface RiskLevel {
  level: Level;
  reason: string;
  /** The cut-offs actually applied (after the profile). */
  cutoffs: { low: number; medium: number; high: number };
  worstDay: DayScore | null;
}

const REPORT_TYPE_NAMES: Partial<Record<ReportType, ReportTypeName>> = {
  [ReportType.ConfirmedTest]: "confirmedTest",
  [ReportType.ClinicalDiagnosis]: "clinicalDiagnosis",
  [ReportType.SelfReport]: "selfReport",
  [ReportType.Recursive]: "recursive"
};

export function reportTypeName(rt: ReportType | undefined, cfg: RiskConfig): ReportTypeName {
  return (rt !== undefined && REPORT_TYPE_NAMES[rt]) || cfg.reportTypeWhenMissing;
}

export function infectiousnessFor(daysSinceOnset: number | null | undefined, cfg: RiskConfig): Infectiousness {
  if (daysSinceOnset === null || daysSinceOnset === undefined) return cfg.infectiousnessWhenOnsetUnknown;
  for (const r of cfg.infectiousnessByDaysSinceOnset) if (daysSinceOnset >= r.fromDay && daysSinceOnset <= r.toDay) return r.infectiousness;
  return "none";
}

export function utcDay(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().slice(0, 10);
}

export function scoreWindow(w: ExposureWindow, cfg: RiskConfig): ScoredWindow {
  const reportType = reportTypeName(w.key.reportType, cfg);
  const daysSinceOnset = w.key.daysSinceOnsetOfSymptoms ?? null;
  const infectiousness = infectiousnessFor(daysSinceOnset, cfg);
  const reportTypeWeight = cfg.reportTypeWeights[reportType];
  const infectiousnessWeight = infectiousness === "none" ? 0 : cfg.infectiousnessWeights[infectiousness];
  const score = (w.weightedSeconds / 60) * reportTypeWeight * infectiousnessWeight;
  // A zero score never counts, even with a minimum of 0: nothing was risky.
  const counted = score > 0 && score >= cfg.minimumWindowScore;
  return {
    window: w,
    reportType,
    reportTypeWeight,
    daysSinceOnset,
    infectiousness,
    infectiousnessWeight,
    score,
    counted,
    day: utcDay(w.start)
  };
}

function inDayOrder(days: Map<string, DayScore>): DayScore[] {
  return [...days.values()].sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
}

export function dailyScores(windows: readonly ScoredWindow[]): DayScore[] {
  const days = new Map<string, DayScore>();
  for (const w of windows) {
    if (!w.counted) continue;
    const d = days.get(w.day) ?? { day: w.day, score: 0, exposureMinutes: 0, windows: 0 };
    d.score += w.score;
    d.exposureMinutes += w.window.durationSeconds / 60;
    d.windows++;
    days.set(w.day, d);
  }
  return inDayOrder(days);
}

/**
 * Day scores from the close-contact classifier (docs/risk.md, "Grading with
 * the close-contact classifier"). A published key is one person's day, so a
 * key's scans within one UTC day are one person-day, the unit the model was
 * fitted on. Its probability p is measured from p0, the model's probability
 * for a person never heard (about 0.013 for the shipped model: every wearer
 * shares rooms, so hearing someone at all is weak evidence), and scaled so
 * that the cut lands on the high cut-off: score = high × (p − p0) / (cut −
 * p0) × report-type weight × infectiousness weight. A day sums its
 * person-days, as it sums windows with weighted minutes. So at the operating
 * point a confirmed case on a standard day is graded high; low and medium
 * start at the same fractions of the way from p0 to the cut as of the high
 * cut-off; the weights and a vulnerable wearer's lower cut-offs act as they
 * do on weighted minutes. minimumWindowScore applies to each person-day's
 * score, as it does to each window's: a person-day below it (a far or brief
 * pass, or one the model scores no higher than p0) adds neither score nor
 * minutes, so the carer's "about N minutes" counts only what was graded.
 *
 * A key's RPI can still be heard for up to ~20 minutes after midnight, until
 * its owner's token rotates; those scans form a person-day of their own on
 * the next day, where the simulator that fitted the model put them with the
 * sender's next key. The difference is a few scans a day.
 */
export function classifiedDays(windows: readonly ScoredWindow[], model: CloseContactModel, cfg: RiskConfig): DayScore[] {
  const personDays = new Map<string, { day: string; weight: number; scans: TimedCredit[]; windows: Set<ScoredWindow> }>();
  for (const w of windows) {
    const weight = w.reportTypeWeight * w.infectiousnessWeight;
    if (!(weight > 0)) continue;
    for (const s of w.window.scans) {
      const day = utcDay(s.time);
      const id = `${w.window.keyIndex} ${day}`;
      let pd = personDays.get(id);
      if (!pd) personDays.set(id, (pd = { day, weight, scans: [], windows: new Set() }));
      pd.scans.push({
        time: s.time,
        attenuationDb: s.typicalAttenuationDb,
        packets: s.sightings.reduce((n, m) => n + (m.sighting.packets ?? 1), 0),
        seconds: s.secondsSinceLastScan
      });
      pd.windows.add(w);
    }
  }
  const p0 = neverHeard(model);
  const days = new Map<string, DayScore>();
  for (const pd of personDays.values()) {
    const p = predict(model, tokenFeatures(pd.scans));
    const score = ((cfg.levelCutoffs.high * (p - p0)) / (model.cut - p0)) * pd.weight;
    if (!(score > 0) || score < cfg.minimumWindowScore) continue;
    const d = days.get(pd.day) ?? { day: pd.day, score: 0, exposureMinutes: 0, windows: 0 };
    d.score += score;
    d.exposureMinutes += pd.scans.reduce((t, c) => t + c.seconds, 0) / 60;
    d.windows += pd.windows.size;
    days.set(pd.day, d);
  }
  return inDayOrder(days);
}

export function effectiveCutoffs(cfg: RiskConfig, profile: WearerProfile): RiskLevel["cutoffs"] {
  const f = profile.vulnerability === "high" ? cfg.highVulnerabilityFactor : 1;
  return { low: cfg.levelCutoffs.low * f, medium: cfg.levelCutoffs.medium * f, high: cfg.levelCutoffs.high * f };
}

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

function readableDay(day: string): string {
  const [y, m, d] = day.split("-").map(Number);
  return `${d} ${MONTHS[m - 1]} ${y}`;
}

/** One plain sentence a carer can act on: when, roughly how long, what to do. */
export function levelReason(level: Level, worst: DayScore | null, anyMatch: boolean, profile: WearerProfile): string {
  if (level === "none") {
    return anyMatch
      ? "They were near someone who later reported being ill, but not in a way that is likely to have passed it on."
      : "None of the people who later reported being ill were near them.";
  }
  const day = worst ? readableDay(worst.day) : "one day";
  const minutes = Math.max(1, Math.round(worst ? worst.exposureMinutes : 0));
  const when =
    level === "low"
      ? `On ${day} they were near someone who later reported being ill for about ${minutes} minutes`
      : `On ${day} they spent about ${minutes} minutes ${level === "high" ? "close to" : "near"} someone who later reported being ill`;
  const advice =
    level === "low"
      ? "keep an eye out for symptoms"
      : level === "medium"
        ? "watch them closely for symptoms and ask about a test"
        : "follow the care home's advice on testing and isolation now";
  const vulnerable = profile.vulnerability === "high" ? "because they are more vulnerable, " : "";
  return `${when}; ${vulnerable}${advice}.`;
}

/**
 * Sightings the log behind a match did not keep (docs/risk.md, "A log that
 * lost records"): `from`/`to` bound when, UTC seconds, null where the log
 * cannot say.
 */
export interface LostSightings {
  sightings: number;
  from: number | null;
  to: number | null;
  /** The token declared a flood (a transmitter sending fresh identifiers) in that time. */
  flood: boolean;
  /** Log segments missing for no reason the log shows (most likely flash damage): their records are in no count. */
  missingSegments?: number;
}

function isoMinute(t: number): string {
  return new Date(t * 1000).toISOString().slice(0, 16).replace("T", " ") + " UTC";
}

/** "Risk may be higher than shown: …": goes after the level's sentence whenever the log lost records. */
export function incompleteSentence(l: LostSightings): string {
  const n = l.sightings.toLocaleString("en-GB");
  const when =
    l.from !== null && l.to !== null
      ? `between ${isoMinute(l.from)} and ${isoMinute(l.to)}`
      : l.from !== null
        ? `after ${isoMinute(l.from)}`
        : l.to !== null
          ? `before ${isoMinute(l.to)}`
          : "at times the log cannot place";
  const why = l.flood ? " (the token's log was flooded: something near it sent more new identifiers than any crowd)" : "";
  // A missing segment's records were never counted, so they cannot be added to the figure: named apart, as what they may hold.
  const segs = l.missingSegments
    ? `${l.sightings ? ", and" : ""} ${l.missingSegments} log segment(s) are missing from the token's flash with no reason shown (flash damage, most likely), with up to ${(l.missingSegments * SEGMENT_RECORDS).toLocaleString("en-GB")} sighting(s) more`
    : "";
  return l.sightings || !l.missingSegments
    ? `Risk may be higher than shown: ${n} sighting(s) were not kept ${when}${why}${segs}.`
    : `Risk may be higher than shown:${segs} ${when}${why}.`;
}

export function gradeRisk(days: readonly DayScore[], anyMatch: boolean, cfg: RiskConfig, profile: WearerProfile): RiskLevel {
  const cutoffs = effectiveCutoffs(cfg, profile);
  let worst: DayScore | null = null;
  for (const d of days) if (!worst || d.score > worst.score) worst = d;
  let level: Level = "none";
  if (worst) {
    for (const l of LEVELS) if (l !== "none" && worst.score >= cutoffs[l]) level = l;
  }
  return { level, reason: levelReason(level, worst, anyMatch, profile), cutoffs, worstDay: worst };
}
