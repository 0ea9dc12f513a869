import * as crypto from "node:crypto";
import { ExposureKey, ReportType } from "./types";
import { TEK_ROLLING_PERIOD } from "../../../firmware/src/wire/gaen";

export const TEK_BYTES = 16;
/** GAEN's longest rolling period: one day of intervals. */
export const MAX_ROLLING_PERIOD = TEK_ROLLING_PERIOD;
const MAX_REPORT_TYPE = ReportType.Revoked;
/** rolling_start_interval_number is an int32 on the wire: larger values would wrap or go negative. */
export const MAX_ROLLING_START = 0x7fffffff;
/** GAEN's documented ranges for the fields we write but do not use ourselves. */
export const MAX_DAYS_SINCE_ONSET = 14;
export const MAX_TRANSMISSION_RISK = 8;
const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;

/**
 * What is wrong with a key, or null if nothing: the one definition of a valid
 * key, used by every reader (`keys show`, `keys verify`, key sources), by the
 * matcher and by publishing, so no two of them can disagree about a key.
 * Only the checks that keep the rest of the tools safe: a 16-byte TEK, a
 * start interval in 0..2^31-1, a rolling period of 1..144 whose last interval
 * is still an int32 (the matcher keeps interval numbers in Int32Arrays), and
 * a known report type. Deprecated or advisory fields (transmission risk,
 * variant) are passed through as they are when read; keyWriteProblem bounds
 * them before they are written.
 */
export function keyProblem(k: ExposureKey): string | null {
  if (!(k.keyData instanceof Uint8Array)) return "key_data is missing";
  if (k.keyData.length !== TEK_BYTES) return `key_data is ${k.keyData.length} bytes, expected ${TEK_BYTES}`;
  const start = k.rollingStartIntervalNumber;
  if (!Number.isInteger(start) || start < 0 || start > MAX_ROLLING_START)
    return `rolling_start_interval_number ${start} is outside 0..${MAX_ROLLING_START} (an int32 on the wire)`;
  if (!Number.isInteger(k.rollingPeriod) || k.rollingPeriod < 1 || k.rollingPeriod > MAX_ROLLING_PERIOD)
    return `rolling_period ${k.rollingPeriod} is outside 1..${MAX_ROLLING_PERIOD}`;
  if (start + k.rollingPeriod - 1 > MAX_ROLLING_START)
    return `rolling_start_interval_number ${start} with rolling_period ${k.rollingPeriod} runs past interval ${MAX_ROLLING_START}, the last an int32 holds`;
  if (k.reportType !== undefined && (!Number.isInteger(k.reportType) || k.reportType < 0 || k.reportType > MAX_REPORT_TYPE))
    return `report_type ${k.reportType} is outside 0..${MAX_REPORT_TYPE}`;
  if (k.daysSinceOnsetOfSymptoms !== undefined && !Number.isInteger(k.daysSinceOnsetOfSymptoms))
    return `days_since_onset_of_symptoms ${k.daysSinceOnsetOfSymptoms} is not an integer`;
  return null;
}

const isInt32 = (n: number): boolean => Number.isInteger(n) && n >= INT32_MIN && n <= INT32_MAX;

/**
 * keyProblem plus what we refuse to write: values the protobuf field would
 * wrap (it silently keeps the low 32 bits) and values outside GAEN's ranges,
 * which readers may reject. Reading stays lenient so one odd field in a
 * published export does not stop matching.
 */
export function keyWriteProblem(k: ExposureKey): string | null {
  const basic = keyProblem(k);
  if (basic) return basic;
  const tr = k.transmissionRiskLevel;
  if (tr !== undefined && (!Number.isInteger(tr) || tr < 0 || tr > MAX_TRANSMISSION_RISK))
    return `transmission_risk_level ${tr} is outside 0..${MAX_TRANSMISSION_RISK}`;
  const dso = k.daysSinceOnsetOfSymptoms;
  if (dso !== undefined && (!Number.isInteger(dso) || dso < -MAX_DAYS_SINCE_ONSET || dso > MAX_DAYS_SINCE_ONSET))
    return `days_since_onset_of_symptoms ${dso} is outside -${MAX_DAYS_SINCE_ONSET}..${MAX_DAYS_SINCE_ONSET}`;
  const voc = k.variantOfConcern;
  if (voc !== undefined && !isInt32(voc)) return `variant_of_concern ${voc} is not an int32`;
  return null;
}

export const REPORT_TYPE_NAMES: Record<ReportType, string> = {
  [ReportType.Unknown]: "unknown",
  [ReportType.ConfirmedTest]: "confirmed-test",
  [ReportType.ClinicalDiagnosis]: "clinical-diagnosis",
  [ReportType.SelfReport]: "self-report",
  [ReportType.Recursive]: "recursive",
  [ReportType.Revoked]: "revoked"
};

/** Parses "confirmed-test" or "1" into a ReportType, or null. */
export function parseReportType(s: string): ReportType | null {
  const n = Number(s);
  if (/^\d+$/.test(s) && n >= 0 && n <= MAX_REPORT_TYPE) return n as ReportType;
  for (const [k, v] of Object.entries(REPORT_TYPE_NAMES)) if (v === s) return Number(k) as ReportType;
  return null;
}

/**
 * Identity of a TEK: its key data alone. The RPIs a key yields depend only on
 * the key data and the interval number, never on the start it claims, so two
 * entries with the same data and different starts are one key, not two.
 */
export function keyDataId(k: ExposureKey): string {
  return Buffer.from(k.keyData.buffer, k.keyData.byteOffset, k.keyData.byteLength).toString("latin1");
}

export interface MergedKeys {
  /** One entry per key data, in order of first appearance. */
  keys: ExposureKey[];
  /** Entries folded into a key already seen (same key data, any start). */
  duplicates: number;
  /** Keys whose copies claimed different windows, so the merged span differs from the first copy's. */
  widened: number;
  /** Keys whose copies' windows together spanned more than MAX_ROLLING_PERIOD intervals and were cut. */
  clipped: number;
}

interface KeyCopies {
  /** Fields of the first appearance, replaced by each revision. */
  meta: ExposureKey;
  /** The first copy's window, always kept whole. */
  firstStart: number;
  firstEnd: number;
  /** Union of every copy's window. */
  lo: number;
  hi: number;
  /** Seen once: passed on as it is. */
  single: boolean;
}

const GOLDEN = 0x9e3779b1;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < TEK_BYTES; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Folds entries with the same key data into one key. Its span is the union of
 * the windows the copies claim (a real TEK's RPIs may be anywhere in any of
 * them, and missing a real exposure is worse than deriving a few extra RPIs),
 * clipped to GAEN's maximum of 144 intervals: copies spread wider cannot all
 * be true. The clipped span always holds the first copy's window whole (in
 * source order that is the first published, which a later copy cannot
 * displace) and then reaches as far back as the limit allows, then forward.
 * Fields other than the window come from the first appearance, and a revision
 * replaces them, as in a single export.
 *
 * Every key a source or a match run sees passes through here (twice for
 * `match`), so the lookup hashes the key bytes into an open-addressing table
 * instead of making a string per key for a Map: less time, no per-key garbage.
 * The hash is seeded per merger, so an export crafted to collide cannot make
 * merging quadratic.
 */
export class KeyMerger {
  private readonly copies: KeyCopies[] = [];
  /** Index + 1 into `copies`; 0 is an empty slot. */
  private slots = new Int32Array(1024);
  private readonly seed = crypto.getRandomValues(new Int32Array(5));
  /** Keys in order of first appearance; entries that are not 16 bytes of key data stay as they are (never merged: the checks downstream name them). */
  private readonly order: Array<KeyCopies | ExposureKey> = [];
  private duplicates = 0;

  private hash(d: Uint8Array): number {
    let h = this.seed[4];
    for (let i = 0; i < TEK_BYTES; i += 4) {
      h = Math.imul(h ^ (d[i] | (d[i + 1] << 8) | (d[i + 2] << 16) | (d[i + 3] << 24)) ^ this.seed[i >> 2], GOLDEN);
      h ^= h >>> 15;
    }
    return h;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Int32Array(old.length * 2);
    const mask = this.slots.length - 1;
    for (let i = 0; i < this.copies.length; i++) {
      let s = this.hash(this.copies[i].meta.keyData) & mask;
      while (this.slots[s] !== 0) s = (s + 1) & mask;
      this.slots[s] = i + 1;
    }
  }

  add(k: ExposureKey, revision = false): void {
    const data = k.keyData;
    if (!(data instanceof Uint8Array) || data.length !== TEK_BYTES) {
      this.order.push(k);
      return;
    }
    const start = k.rollingStartIntervalNumber;
    // Absent or 0 is the proto default of a whole day, as the matcher reads it.
    const end = start + (k.rollingPeriod > 0 ? k.rollingPeriod : MAX_ROLLING_PERIOD);
    const mask = this.slots.length - 1;
    let s = this.hash(data) & mask;
    for (let i = this.slots[s]; i !== 0; s = (s + 1) & mask, i = this.slots[s]) {
      const seen = this.copies[i - 1];
      if (!sameBytes(seen.meta.keyData, data)) continue;
      seen.single = false;
      if (revision) seen.meta = k;
      else this.duplicates++;
      seen.lo = Math.min(seen.lo, start);
      seen.hi = Math.max(seen.hi, end);
      return;
    }
    const c: KeyCopies = { meta: k, firstStart: start, firstEnd: end, lo: start, hi: end, single: true };
    this.copies.push(c);
    this.order.push(c);
    this.slots[s] = this.copies.length;
    // At most half full, so a probe ends soon.
    if (this.copies.length * 2 > this.slots.length) this.grow();
  }

  result(): MergedKeys {
    const keys: ExposureKey[] = [];
    let widened = 0;
    let clipped = 0;
    for (const c of this.order) {
      if (!("single" in c)) {
        keys.push(c);
        continue;
      }
      if (c.single) {
        keys.push(c.meta);
        continue;
      }
      let lo = c.lo;
      let hi = c.hi;
      if (hi - lo > MAX_ROLLING_PERIOD) {
        clipped++;
        lo = Math.max(c.lo, c.firstEnd - MAX_ROLLING_PERIOD);
        hi = Math.min(c.hi, lo + MAX_ROLLING_PERIOD);
      }
      if (lo !== c.firstStart || hi !== c.firstEnd) widened++;
      keys.push({ ...c.meta, rollingStartIntervalNumber: lo, rollingPeriod: hi - lo });
    }
    return { keys, duplicates: this.duplicates, widened, clipped };
  }
}

/** Every entry of `keys` folded by key data (see KeyMerger). */
export function mergeKeyCopies(keys: Iterable<ExposureKey>): MergedKeys {
  const m = new KeyMerger();
  for (const k of keys) m.add(k);
  return m.result();
}
