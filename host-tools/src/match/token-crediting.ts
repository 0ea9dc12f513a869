import { DEFAULT_RISK_CONFIG, RiskConfig } from "./risk-config";

/**
 * How long a token's scan stands for. GAEN's defaults (docs/risk.md) assume a
 * phone that scans every ~4 minutes and cap a scan's credit at 5; a token
 * scans every scanPeriodSec − 0…scanJitterSec seconds (its board config), so
 * with the phone's figures every scan of a token would be credited less time
 * than passed, and exposure minutes would be under-counted by about 40 % at
 * the shipped schedule. The kiosk knows the token's board (INFO) and the
 * simulator knows the schedule it built: both credit with these figures.
 */
export interface ScanScheduleFigures {
  /** Mean seconds between scan starts: scanPeriodSec − scanJitterSec / 2. */
  meanScanIntervalSeconds: number;
  scanPeriodSec: number;
}

export function scheduleFigures(s: { scanPeriodSec: number; scanJitterSec: number }): ScanScheduleFigures {
  return { meanScanIntervalSeconds: s.scanPeriodSec - s.scanJitterSec / 2, scanPeriodSec: s.scanPeriodSec };
}

/**
 * `base` with its scan crediting fitted to the schedule: a window's first scan
 * is credited the mean scan interval, later ones the gap since the previous
 * scan, capped at the longer of the base's cap and the scan period (so a slow
 * schedule is not under-counted by a cap meant for phones).
 */
export function riskConfigFor(s: ScanScheduleFigures, base: RiskConfig = DEFAULT_RISK_CONFIG): RiskConfig {
  return {
    ...base,
    scan: {
      ...base.scan,
      assumedScanIntervalSeconds: s.meanScanIntervalSeconds,
      maxSecondsPerScan: Math.max(base.scan.maxSecondsPerScan, s.scanPeriodSec)
    }
  };
}
