import { ExposureKey, ReportType } from "./types";

export const TEK_BYTES = 16;
export const MAX_ROLLING_PERIOD = 144;
const MAX_REPORT_TYPE = ReportType.Revoked;
/** rolling_start_interval_number is an int32 on the wire: larger values would wrap or go negative. */
export const MAX_ROLLING_START = 0x7fffffff;
/** GAEN's documented ranges for the fields we write but do not use ourselves. */
export const MAX_DAYS_SINCE_ONSET = 14;
export const MAX_TRANSMISSION_RISK = 8;
const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;

/**
 * What is wrong with a key, or null if nothing. Only the checks that keep the
 * rest of the tools safe: a 16-byte TEK, a start interval in 0..2^31-1, a
 * rolling period of 1..144 and a known report type. Deprecated or advisory
 * fields (transmission risk, variant) are passed through as they are when
 * read; keyWriteProblem bounds them before they are written.
 */
export function keyProblem(k: ExposureKey): string | null {
  if (!(k.keyData instanceof Uint8Array)) return "key_data is missing";
  if (k.keyData.length !== TEK_BYTES) return `key_data is ${k.keyData.length} bytes, expected ${TEK_BYTES}`;
  if (!Number.isInteger(k.rollingStartIntervalNumber) || k.rollingStartIntervalNumber < 0 || k.rollingStartIntervalNumber > MAX_ROLLING_START)
    return `rolling_start_interval_number ${k.rollingStartIntervalNumber} is outside 0..${MAX_ROLLING_START} (an int32 on the wire)`;
  if (!Number.isInteger(k.rollingPeriod) || k.rollingPeriod < 1 || k.rollingPeriod > MAX_ROLLING_PERIOD)
    return `rolling_period ${k.rollingPeriod} is outside 1..${MAX_ROLLING_PERIOD}`;
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
