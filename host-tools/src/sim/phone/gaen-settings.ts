/**
 * What a GAEN phone does on the air and how a health authority's app turns
 * what it heard into "exposed": the figures the phone baseline runs with.
 * Sources are in docs/simulator.md ("The phone baseline").
 */
import type { Carry } from "../world/propagation";
import { PHONE_ADVERT_INTERVAL_MS, PHONE_SCAN_JITTER_S, PHONE_SCAN_MS, PHONE_SCAN_PERIOD_S } from "../world/phone";

export interface PhoneRadioSettings {
  /** Radiated power, dBm: the world's typical handset (runner.ts). */
  radiatedTxPowerDbm: number;
  /**
   * GAEN's attenuation is "TX power level − (RSSI + RSSI correction)" with
   * both figures from Google's per-model calibration, so it is not the bare
   * path loss. This is the net correction, dB: attenuation = radiated power −
   * RSSI − calibrationDb. Set so the model's phone-to-phone level at 1 m in
   * pockets is the level DP-3T experiment 34 measured (55 dB per scan).
   */
  calibrationDb: number;
  /** Where every baseline phone is carried. */
  carry: Carry;
  /** One advertising event every this (plus 0–10 ms advDelay), ms. */
  advertIntervalMs: number;
  scanMs: number;
  /** A scan starts this long after the previous one minus 0..scanJitterS, seconds. */
  scanPeriodS: number;
  scanJitterS: number;
}

/**
 * An Android phone running GAEN: the scan cadence and advertising of the
 * world's own phones (world/phone.ts), in a pocket, calibrated as above.
 */
export const PHONE_RADIO: PhoneRadioSettings = {
  radiatedTxPowerDbm: -8,
  calibrationDb: 9,
  carry: "pocket",
  advertIntervalMs: PHONE_ADVERT_INTERVAL_MS,
  scanMs: PHONE_SCAN_MS,
  scanPeriodS: PHONE_SCAN_PERIOD_S,
  scanJitterS: PHONE_SCAN_JITTER_S
};

/** GAEN v2's attenuation buckets: immediate, near, medium, other. */
export interface AttenuationBuckets {
  name: string;
  /** Upper bounds (inclusive, dB) of immediate, near and medium; above the last is "other". */
  thresholdsDb: readonly [number, number, number];
  /** Weights of immediate, near, medium and other (1 = 100 %). */
  weights: readonly [number, number, number, number];
}

/**
 * The settings the Risk Score Symposium (Linux Foundation Public Health,
 * "Configuring Exposure Notification Risk Scores for COVID-19") recommended
 * and health authorities shipped: the narrow net of November 2020 (< 55,
 * < 63, < 70 dB; read here as ≤ one dB less), its wider 2021 revision, and
 * the wide net.
 */
export const NARROW_NET_V1: AttenuationBuckets = { name: "narrowNetV1", thresholdsDb: [54, 62, 69], weights: [1.5, 1.0, 0.4, 0] };
export const NARROW_NET_V2: AttenuationBuckets = { name: "narrowNetV2", thresholdsDb: [55, 67, 75], weights: [1.75, 1.0, 0.33, 0] };
export const WIDE_NET: AttenuationBuckets = { name: "wideNet", thresholdsDb: [55, 70, 80], weights: [2.0, 1.0, 0.25, 0] };

export const PHONE_BUCKET_SETS: readonly AttenuationBuckets[] = [NARROW_NET_V1, NARROW_NET_V2, WIDE_NET];

/** The one `simulate` headlines: the symposium's first recommendation (November 2020). */
export const DEFAULT_PHONE_BUCKETS = NARROW_NET_V1;

/** Weighted minutes in a day at or above which the app says "exposed": the close-contact 15 minutes. */
export const EXPOSED_WEIGHTED_MINUTES = 15;
