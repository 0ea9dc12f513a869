import { ExposureKey, ReportType } from "./types";

export const TEK_BYTES = 16;
export const MAX_ROLLING_PERIOD = 144;
const MAX_REPORT_TYPE = ReportType.Revoked;

/**
 * What is wrong with a key, or null if nothing. Only the checks that keep the
 * rest of the tools safe: a 16-byte TEK, a non-negative start interval, a
 * rolling period of 1..144 and a known report type. Deprecated or advisory
 * fields (transmission risk, variant) are passed through as they are.
 */
export function keyProblem(k: ExposureKey): string | null {
  if (!(k.keyData instanceof Uint8Array)) return "key_data is missing";
  if (k.keyData.length !== TEK_BYTES) return `key_data is ${k.keyData.length} bytes, expected ${TEK_BYTES}`;
  if (!Number.isInteger(k.rollingStartIntervalNumber) || k.rollingStartIntervalNumber < 0)
    return `rolling_start_interval_number ${k.rollingStartIntervalNumber} is not a non-negative integer`;
  if (!Number.isInteger(k.rollingPeriod) || k.rollingPeriod < 1 || k.rollingPeriod > MAX_ROLLING_PERIOD)
    return `rolling_period ${k.rollingPeriod} is outside 1..${MAX_ROLLING_PERIOD}`;
  if (k.reportType !== undefined && (!Number.isInteger(k.reportType) || k.reportType < 0 || k.reportType > MAX_REPORT_TYPE))
    return `report_type ${k.reportType} is outside 0..${MAX_REPORT_TYPE}`;
  if (k.daysSinceOnsetOfSymptoms !== undefined && !Number.isInteger(k.daysSinceOnsetOfSymptoms))
    return `days_since_onset_of_symptoms ${k.daysSinceOnsetOfSymptoms} is not an integer`;
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
