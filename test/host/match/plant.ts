import * as crypto from "node:crypto";
import { ExposureKey, ReportType } from "../../../host-tools/src/keys/types";
import { deriveKeys, deriveRpis, encryptMetadata, INTERVAL_SECONDS } from "../../../host-tools/src/match/derive";
import { Sighting } from "../../../host-tools/src/match/sightings";

/** Test helpers: diagnosis keys and the sightings a token would have logged of them. */

/** 2020-04-02 00:00 UTC, a day boundary (ENIN 2642976 = 144 × 18354). */
export const DAY0 = 2642976;

export function randomKey(start = DAY0, extra: Partial<ExposureKey> = {}): ExposureKey {
  return {
    keyData: crypto.randomBytes(16),
    rollingStartIntervalNumber: start,
    rollingPeriod: 144,
    reportType: ReportType.ConfirmedTest,
    daysSinceOnsetOfSymptoms: 0,
    ...extra
  };
}

export interface PlantOptions {
  /** Seconds after the RPI's interval start at which the sighting was heard (may be far outside it). */
  offsetSeconds?: number;
  rssi?: number;
  /** Planted in the AEM's metadata; omit `aem` with txPower null. */
  txPower?: number | null;
  prefixBytes?: number;
  line?: number;
}

/** A sighting of `key`'s RPI for interval `enin`, as if heard `offsetSeconds` after that interval began. */
export function plant(key: ExposureKey, enin: number, o: PlantOptions = {}): Sighting {
  const k = deriveKeys(key.keyData);
  const rpi = deriveRpis(k.rpik, enin);
  const s: Sighting = {
    time: enin * INTERVAL_SECONDS + (o.offsetSeconds ?? 60),
    rpi: Uint8Array.from(rpi.subarray(0, o.prefixBytes ?? 16)),
    rssi: o.rssi ?? -60,
    line: o.line ?? 1
  };
  const tx = o.txPower === undefined ? -4 : o.txPower;
  if (tx !== null) s.aem = Uint8Array.from(encryptMetadata(k.aemk, rpi, Uint8Array.of(0x40, tx & 0xff, 0, 0)));
  return s;
}

/** A sighting of nobody we know. */
export function noise(time: number, prefixBytes = 16): Sighting {
  return { time, rpi: Uint8Array.from(crypto.randomBytes(prefixBytes)), rssi: -70, line: 1 };
}

/** A sighting of `key` heard at unix time `time` (the RPI of that very interval). */
export function plantAt(key: ExposureKey, time: number, o: Omit<PlantOptions, "offsetSeconds"> = {}): Sighting {
  const enin = Math.floor(time / INTERVAL_SECONDS);
  return plant(key, enin, { ...o, offsetSeconds: time - enin * INTERVAL_SECONDS });
}

/** Start of the hand-computed example in exposure-windows.spec.ts (the table there). */
export const T = (DAY0 + 60) * INTERVAL_SECONDS + 10;

export function handExample(): { key: ExposureKey; sightings: Sighting[] } {
  const key = randomKey(DAY0, { reportType: ReportType.ConfirmedTest, daysSinceOnsetOfSymptoms: 0 });
  const at = (dt: number, rssi: number) => plantAt(key, T + dt, { rssi, txPower: -4 });
  return { key, sightings: [at(0, -55), at(3, -61), at(240, -64), at(840, -74), at(2540, -90), at(4341, -60)] };
}
