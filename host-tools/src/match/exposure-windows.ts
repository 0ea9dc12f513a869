import { ExposureKey } from "../keys/types";
import { MatchedSighting } from "./matched-sightings";
import { Bucket, BUCKETS, RiskConfig } from "./risk-config";

/**
 * GAEN v2's exposure windows, rebuilt from sightings. A phone records, per
 * scan, which RPIs it heard and how long it has been since its previous scan;
 * a sighting log only has the times something was heard. So:
 *
 * - Sightings of one key within `scanMergeSeconds` of the first one of a scan
 *   form one scan instance (a recorder that logs every advertisement yields
 *   many sightings per scan); its typical attenuation is their mean, its
 *   minimum their minimum.
 * - Scan instances of one key (one TEK = one RPI sequence) no more than
 *   `windowGapSeconds` (30 min) apart form one exposure window.
 * - Each scan instance is credited the seconds since the previous scan
 *   instance of the window, capped at `maxSecondsPerScan` (5 min). The first
 *   one of a window has no previous hearing; the scanner did scan before and
 *   heard nothing, so it is credited `assumedScanIntervalSeconds` (the mean
 *   scan period), also capped. A window heard in one scan therefore lasts about
 *   one scan period, as on a phone.
 * - The credited seconds go into the attenuation bucket of the scan's typical
 *   attenuation: ≤ t0 immediate, ≤ t1 near, ≤ t2 medium, else other.
 */

export interface ScanInstance {
  /** Time of the scan's first sighting (unix seconds). */
  time: number;
  typicalAttenuationDb: number;
  minAttenuationDb: number;
  secondsSinceLastScan: number;
  bucket: Bucket;
  sightings: MatchedSighting[];
}

export interface ExposureWindow {
  keyIndex: number;
  key: ExposureKey;
  start: number;
  end: number;
  scans: ScanInstance[];
  /** Credited seconds of all scans: the estimated exposure time. */
  durationSeconds: number;
  bucketSeconds: Record<Bucket, number>;
  /** Σ seconds × bucket weight. */
  weightedSeconds: number;
}

export function attenuationBucket(att: number, thresholds: readonly [number, number, number]): Bucket {
  if (att <= thresholds[0]) return "immediate";
  if (att <= thresholds[1]) return "near";
  if (att <= thresholds[2]) return "medium";
  return "other";
}

export function emptyBuckets(): Record<Bucket, number> {
  return { immediate: 0, near: 0, medium: 0, other: 0 };
}

function groupScans(sorted: MatchedSighting[], mergeSeconds: number): Array<{ time: number; sightings: MatchedSighting[] }> {
  const scans: Array<{ time: number; sightings: MatchedSighting[] }> = [];
  for (const m of sorted) {
    const last = scans[scans.length - 1];
    if (last && m.sighting.time - last.time <= mergeSeconds) last.sightings.push(m);
    else scans.push({ time: m.sighting.time, sightings: [m] });
  }
  return scans;
}

export function buildExposureWindows(matches: readonly MatchedSighting[], cfg: RiskConfig): ExposureWindow[] {
  const byKey = new Map<number, MatchedSighting[]>();
  for (const m of matches) {
    const list = byKey.get(m.keyIndex);
    if (list) list.push(m);
    else byKey.set(m.keyIndex, [m]);
  }
  const { scanMergeSeconds, maxSecondsPerScan, assumedScanIntervalSeconds, windowGapSeconds } = cfg.scan;
  const windows: ExposureWindow[] = [];
  for (const [keyIndex, list] of byKey) {
    list.sort((a, b) => a.sighting.time - b.sighting.time || a.sightingIndex - b.sightingIndex);
    let w: ExposureWindow | undefined;
    let prevTime = 0;
    for (const raw of groupScans(list, scanMergeSeconds)) {
      const startsWindow = !w || raw.time - prevTime > windowGapSeconds;
      if (startsWindow) {
        w = {
          keyIndex,
          key: list[0].key,
          start: raw.time,
          end: raw.time,
          scans: [],
          durationSeconds: 0,
          bucketSeconds: emptyBuckets(),
          weightedSeconds: 0
        };
        windows.push(w);
      }
      const win = w as ExposureWindow;
      const atts = raw.sightings.map((m) => m.attenuationDb);
      const typical = atts.reduce((a, b) => a + b, 0) / atts.length;
      const secs = Math.min(maxSecondsPerScan, startsWindow ? assumedScanIntervalSeconds : raw.time - prevTime);
      const bucket = attenuationBucket(typical, cfg.attenuationThresholdsDb);
      win.scans.push({
        time: raw.time,
        typicalAttenuationDb: typical,
        minAttenuationDb: Math.min(...atts),
        secondsSinceLastScan: secs,
        bucket,
        sightings: raw.sightings
      });
      win.end = raw.sightings[raw.sightings.length - 1].sighting.time;
      win.durationSeconds += secs;
      win.bucketSeconds[bucket] += secs;
      win.weightedSeconds += secs * cfg.bucketWeights[bucket];
      prevTime = raw.time;
    }
  }
  return windows.sort((a, b) => a.start - b.start || a.keyIndex - b.keyIndex);
}

export { BUCKETS };
