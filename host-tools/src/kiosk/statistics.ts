import * as crypto from "node:crypto";
import { UserError } from "../errors";
import type { KioskStore, StatsCounts, StatsRelease } from "./store";

/**
 * Opt-in statistics with differential privacy (docs/statistics.md). Wearers
 * who chose to take part (store.ts `setStatsOptIn`) are counted per week:
 * tokens synced, tokens warned (by the highest level of their week), and
 * diagnoses delivered. Each count gets Laplace noise before it leaves the
 * kiosk, is rounded and kept at 0 or more, and is stored: a week asked for
 * again gets the same numbers, so averaging many exports cannot wear the
 * noise away. Nothing released is about one person: no token id, no label,
 * no row per wearer.
 */

const DAY = 86400;

/** ε of one week's release when none is given: see docs/statistics.md for what it means. */
export const DEFAULT_EPSILON = 1;
/** The largest ε accepted: beyond it the noise protects next to nothing. */
export const MAX_EPSILON = 10;
export const MIN_EPSILON = 0.01;
/** One person changes each count by at most 1 (see the counts' comments in store.ts). */
export const SENSITIVITY = 1;
/**
 * The queries released together each week, over which ε is split evenly:
 * tokens synced; the warning histogram (low, high), which costs one share
 * for both bars since a token is in one bar at most; diagnoses.
 */
export const QUERIES_PER_WEEK = 3;
export const DEFAULT_WEEKS = 4;
export const MAX_WEEKS = 104;

/** Uniform on (0, 1]: what the sampler draws from (specs give a fixed one). */
export type RandomSource = () => number;

/** 53 random bits from the operating system's generator (node:crypto), as a number in (0, 1]. */
export const cryptoUniform: RandomSource = () => {
  const bits = crypto.randomBytes(8).readBigUInt64BE() >> 11n;
  return (Number(bits) + 1) / 2 ** 53;
};

/**
 * A draw from the Laplace distribution with mean 0 and scale `b` (mean |x| = b,
 * standard deviation b·√2): the difference of two exponential draws,
 * b·(ln u₁ − ln u₂) with u uniform on (0, 1]. A constant source gives 0.
 */
export function laplace(b: number, random: RandomSource = cryptoUniform): number {
  if (!(Number.isFinite(b) && b > 0)) throw new RangeError(`the Laplace scale must be a positive number, not ${b}`);
  const u1 = random();
  const u2 = random();
  if (!(u1 > 0 && u1 <= 1 && u2 > 0 && u2 <= 1)) throw new RangeError("the random source must give numbers in (0, 1]");
  return b * (Math.log(u1) - Math.log(u2));
}

/** The Laplace scale of each count at a weekly ε: sensitivity over ε's share. */
export function noiseScale(epsilon: number): number {
  return (SENSITIVITY * QUERIES_PER_WEEK) / checkEpsilon(epsilon);
}

export function checkEpsilon(epsilon: number): number {
  if (typeof epsilon !== "number" || !Number.isFinite(epsilon) || epsilon < MIN_EPSILON || epsilon > MAX_EPSILON)
    throw new UserError(`ε (--epsilon) must be a number from ${MIN_EPSILON} to ${MAX_EPSILON}, not ${String(epsilon)}`);
  return epsilon;
}

/** A count with noise, as released: rounded and never below 0 (post-processing: costs no privacy). */
export function noisyCount(exact: number, b: number, random: RandomSource = cryptoUniform): number {
  return Math.max(0, Math.round(exact + laplace(b, random)));
}

/** The exact counts with noise on each, at ε for the whole week. */
export function addNoise(exact: StatsCounts, epsilon: number, random: RandomSource = cryptoUniform): StatsCounts & { epsilon: number } {
  const b = noiseScale(epsilon);
  return {
    epsilon,
    synced: noisyCount(exact.synced, b, random),
    warnedLow: noisyCount(exact.warnedLow, b, random),
    warnedHigh: noisyCount(exact.warnedHigh, b, random),
    diagnoses: noisyCount(exact.diagnoses, b, random)
  };
}

/** The unix day number of the Monday (UTC) of the week holding `t` (unix seconds). Day 0, 1970-01-01, was a Thursday. */
export function weekOf(t: number): number {
  const day = Math.floor(t / DAY);
  return day - ((((day + 3) % 7) + 7) % 7);
}

/** "2025-03-03": a week's Monday as a date. */
export function weekDate(week: number): string {
  return new Date(week * DAY * 1000).toISOString().slice(0, 10);
}

/** The `n` whole weeks before the one holding `now`, oldest first: a week is released only once it has ended. */
export function lastWholeWeeks(now: number, n: number): number[] {
  const current = weekOf(now);
  return Array.from({ length: n }, (_, i) => current - 7 * (n - i));
}

export function checkWeeks(n: number): number {
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 1 || n > MAX_WEEKS)
    throw new UserError(`the number of weeks (--weeks) must be a whole number from 1 to ${MAX_WEEKS}, not ${String(n)}`);
  return n;
}

export interface ReleaseOptions {
  /** How many whole weeks before the current one (default 4). */
  weeks?: number;
  /** For weeks not released yet (default 1); released weeks keep the ε they had. */
  epsilon?: number;
  /** Unix seconds. */
  now?: number;
  random?: RandomSource;
}

/**
 * Releases the last whole weeks, oldest first: weeks released before come
 * back as they were stored (same numbers, their own ε), the others get fresh
 * noise once and are stored.
 */
export function releaseWeeks(store: KioskStore, o: ReleaseOptions = {}): StatsRelease[] {
  const n = checkWeeks(o.weeks ?? DEFAULT_WEEKS);
  const epsilon = checkEpsilon(o.epsilon ?? DEFAULT_EPSILON);
  const now = o.now ?? Math.floor(Date.now() / 1000);
  const random = o.random ?? cryptoUniform;
  return lastWholeWeeks(now, n)
    .filter((w) => w >= 0)
    .map((w) => store.releaseStatsWeek(w, (exact) => addNoise(exact, epsilon, random), now).release);
}

/** The weeks already released, oldest first: what may be shown again without releasing anything new. */
export function releasedWeeks(store: KioskStore): StatsRelease[] {
  return store.statsReleases().reverse();
}

/** Said with every export, so the numbers are not read as exact. */
export function exportNote(rows: readonly StatsRelease[]): string {
  const eps = [...new Set(rows.map((r) => r.epsilon))];
  const scales = eps.map((e) => `ε ${e} → typical error ±${round2(noiseScale(e))}`).join("; ");
  return (
    "Weekly counts of the wearers who chose to take part only, with random (Laplace) noise added to each count " +
    `(sensitivity ${SENSITIVITY}; ε per week split over ${QUERIES_PER_WEEK} queries${scales ? `: ${scales}` : ""}), ` +
    "rounded and never below 0. Small numbers may be noise alone. Over several weeks the privacy loss adds up (ε per week). " +
    "No row is about one person. See docs/statistics.md."
  );
}

/** The columns of an export: nothing in them names a token or a wearer. */
const COLUMNS = ["week_start", "tokens_synced", "warned_low", "warned_high", "diagnoses", "epsilon", "note"] as const;

export interface ExportRow {
  week_start: string;
  tokens_synced: number;
  warned_low: number;
  warned_high: number;
  diagnoses: number;
  epsilon: number;
}

export function exportRows(rows: readonly StatsRelease[]): ExportRow[] {
  return rows.map((r) => ({
    week_start: weekDate(r.week),
    tokens_synced: r.synced,
    warned_low: r.warnedLow,
    warned_high: r.warnedHigh,
    diagnoses: r.diagnoses,
    epsilon: r.epsilon
  }));
}

export function toCsv(rows: readonly StatsRelease[]): string {
  const note = csvField(exportNote(rows));
  // The note on every row: a spreadsheet sorted or filtered keeps it.
  const lines = exportRows(rows).map((r) =>
    [r.week_start, r.tokens_synced, r.warned_low, r.warned_high, r.diagnoses, r.epsilon, note].join(",")
  );
  return [COLUMNS.join(","), ...lines].join("\r\n") + "\r\n";
}

export function toJson(rows: readonly StatsRelease[]): string {
  return (
    JSON.stringify(
      { note: exportNote(rows), sensitivity: SENSITIVITY, queriesPerWeek: QUERIES_PER_WEEK, weeks: exportRows(rows) },
      null,
      2
    ) + "\n"
  );
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/**
 * Counts diagnoses delivered, for wearers taking part: the week's count goes
 * up by one, and nothing records whose it was (the store keeps a number per
 * week, no token). `diagnose()` counts through one of these whichever way
 * it was asked for (the dashboard's radio jobs or `kiosk diagnose`). A second
 * delivery for the same token in the same week through the same counter is
 * not counted, so that one person moves the count by one at most; a kiosk
 * cannot do better without keeping who was diagnosed (docs/statistics.md).
 */
export class DiagnosisCounter {
  private week = -1;
  private counted = new Set<string>();

  constructor(
    private readonly store: Pick<KioskStore, "countStatsDiagnosis">,
    private readonly now: () => number
  ) {}

  count(tokenId: string): void {
    const w = weekOf(this.now());
    if (w !== this.week) {
      this.week = w;
      this.counted = new Set();
    }
    if (this.counted.has(tokenId)) return;
    try {
      if (this.store.countStatsDiagnosis(tokenId, w)) this.counted.add(tokenId);
    } catch (err) {
      // A statistic is never worth failing a diagnosis for: said in the kiosk's log.
      process.stderr.write(`statistics: a diagnosis could not be counted: ${(err as Error).message}\n`);
    }
  }
}
