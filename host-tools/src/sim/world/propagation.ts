/**
 * The radio channel between two bodies in a building, in dB:
 *
 *   RSSI = Ptx − PL(d) − walls − body(tx) − body(rx) + S(link, t) + F(packet) + rxOffset
 *   PL(d) = PL0 + 10·n·log10(max(d, d_min) / 1 m)                 up to the breakpoint d_b
 *   PL(d) = PL(d_b) + 10·n_far·log10(d / d_b)                      beyond it
 *
 * PL0 ≈ 40 dB at 1 m is free space at 2.4 GHz. The exponent n is fitted to
 * body-worn measurements (DP-3T bt-measurements, experiment 34): between two
 * people 1 to 4 m apart the level falls off more slowly than free space, as
 * reflections fill in. S is slow log-normal shadowing per link (an AR(1)
 * process stepped each minute), F per-packet Rician fading normalised so that
 * its mean in dB is 0: the mean RSSI over many packets is the formula without
 * S and F. Where a device is carried (CARRY_LOSS_DB) is a constant per device.
 * See docs/simulator.md ("The radio") for the calibration and its sources.
 */
import { Rng } from "../prng";

export interface PropagationParams {
  /** Path loss at 1 m, dB. */
  pl0Db: number;
  /** Path-loss exponent n, up to breakpointM. */
  exponent: number;
  /** Beyond this distance (m) the loss grows with farExponent instead. */
  breakpointM: number;
  /** Path-loss exponent beyond breakpointM. */
  farExponent: number;
  /** Distances below this are treated as this (the near field is not modelled). */
  minDistanceM: number;
  /** Shadowing standard deviation, dB. */
  shadowingSigmaDb: number;
  /** Correlation of the shadowing from one minute to the next (AR(1) coefficient). */
  shadowingPerMinute: number;
  /** Rician K factor (linear): 0 = Rayleigh, larger = a stronger direct path. */
  riceK: number;
  /** Fading gains above this (dB over the mean) are clipped; keeps far links cheap to reject. */
  fadingMaxGainDb: number;
  /** A packet below this power (dBm at the receiver) is not heard. */
  receiveThresholdDbm: number;
  /** Probability a packet above the threshold is still lost (collisions, interference). */
  packetLoss: number;
  /** Largest loss one wearer's body adds when it is between the device and the other end, dB. */
  bodyLossMaxDb: number;
}

/**
 * Calibrated against DP-3T bt-measurements experiment 34 (20 people wearing
 * phones, camera-measured distances): `privatetracer radio profile` prints the
 * comparison, and test/sim/world/radio-profile.spec.ts keeps it within the
 * study's separability and median slope.
 */
export const DEFAULT_PROPAGATION: PropagationParams = {
  pl0Db: 40,
  exponent: 1.5,
  breakpointM: 5,
  farExponent: 2.5,
  minDistanceM: 0.1,
  shadowingSigmaDb: 4,
  shadowingPerMinute: 0.5,
  riceK: 0.5,
  fadingMaxGainDb: 10,
  receiveThresholdDbm: -95,
  packetLoss: 0.05,
  bodyLossMaxDb: 9
};

/** Where a wearer carries a device. */
export type Carry = "lanyard" | "pocket" | "bag" | "hand";
export const CARRIES: readonly Carry[] = ["lanyard", "pocket", "bag", "hand"];

/**
 * Extra loss of a device by where it is carried, dB, counted once when it
 * transmits and once when it receives (so two devices in pockets are
 * 2 × 7.5 = 15 dB below two on lanyards or in hands). Lanyard and hand are
 * the reference: the device is in the open in front of the body, whose
 * shadow is the facing-dependent body loss. Pocket: Leith & Farrell
 * (Trinity College Dublin, 2020) measured handsets pocket-to-pocket 14–16 dB
 * below hand-to-hand at 1 m, about 7.5 dB per end. Bag: no direct
 * measurement found; assumed 5 dB per end (a bag at the side, the device
 * near its outer surface), between hand and pocket.
 */
export const CARRY_LOSS_DB: Readonly<Record<Carry, number>> = { lanyard: 0, hand: 0, pocket: 7.5, bag: 5 };

export function pathLossDb(p: PropagationParams, distanceM: number): number {
  const d = Math.max(distanceM, p.minDistanceM);
  if (d <= p.breakpointM) return p.pl0Db + 10 * p.exponent * Math.log10(d);
  return p.pl0Db + 10 * p.exponent * Math.log10(p.breakpointM) + 10 * p.farExponent * Math.log10(d / p.breakpointM);
}

/**
 * Body loss for a wearer facing `facing` (radians) towards the other end at
 * direction `towards`: 0 when facing it, the maximum with the back turned.
 */
export function bodyLossDb(p: PropagationParams, facing: number, towards: number): number {
  return (p.bodyLossMaxDb * (1 - Math.cos(facing - towards))) / 2;
}

/** Raw Rician power gain in dB (mean power 1, not yet normalised in dB). */
function ricianGainDb(k: number, rng: Rng): number {
  const los = Math.sqrt(k / (k + 1));
  const s = Math.sqrt(1 / (2 * (k + 1)));
  const re = los + s * rng.normal();
  const im = s * rng.normal();
  const power = re * re + im * im;
  return 10 * Math.log10(Math.max(power, 1e-12));
}

const QUANTILES = 65536;
const fadingTables = new Map<string, Float64Array>();

/**
 * The fading distribution as a table of 65,536 quantiles, built once per
 * (K, clip) from a fixed-seed sample and shifted so its mean in dB is 0 (a raw
 * Rayleigh channel's mean is about −2.5 dB). Drawing is then one uniform and a
 * lookup: the radio draws millions of these.
 */
function fadingTable(p: PropagationParams): Float64Array {
  const key = `${p.riceK}/${p.fadingMaxGainDb}`;
  let t = fadingTables.get(key);
  if (!t) {
    const rng = new Rng(0x5eed);
    const raw = new Float64Array(QUANTILES * 4);
    let sum = 0;
    for (let i = 0; i < raw.length; i++) sum += raw[i] = ricianGainDb(p.riceK, rng);
    const bias = sum / raw.length;
    raw.sort();
    t = new Float64Array(QUANTILES);
    for (let i = 0; i < QUANTILES; i++) {
      const g = raw[i * 4 + 2] - bias;
      t[i] = g > p.fadingMaxGainDb ? p.fadingMaxGainDb : g;
    }
    fadingTables.set(key, t);
  }
  return t;
}

/** Mean of the raw Rician gain in dB for K, before normalisation (for documentation and tests). */
export function ricianMeanDb(k: number): number {
  const rng = new Rng(0x5eed);
  let sum = 0;
  const n = 200000;
  for (let i = 0; i < n; i++) sum += ricianGainDb(k, rng);
  return sum / n;
}

/** A sampler of per-packet fading in dB, mean 0, clipped at fadingMaxGainDb. */
export function fadingSampler(p: PropagationParams): (rng: Rng) => number {
  const t = fadingTable(p);
  return (rng) => t[(rng.next() * QUANTILES) | 0];
}

/** One draw of per-packet fading in dB (see fadingSampler). */
export function fadingDb(p: PropagationParams, rng: Rng): number {
  return fadingTable(p)[(rng.next() * QUANTILES) | 0];
}

/**
 * Slow shadowing of one link: log-normal (normal in dB), stepped once a minute
 * by x ← ρ·x + √(1−ρ²)·σ·N. Stepping k minutes at once uses ρ^k, so the value
 * depends only on the minutes asked for, not on how often it is asked.
 */
export class Shadowing {
  private minute = 0;
  private value = 0;
  private started = false;

  constructor(
    private readonly p: PropagationParams,
    private readonly rng: Rng
  ) {}

  at(minute: number): number {
    if (!this.started) {
      this.started = true;
      this.minute = minute;
      this.value = this.p.shadowingSigmaDb * this.rng.normal();
    } else if (minute > this.minute) {
      const rk = Math.pow(this.p.shadowingPerMinute, minute - this.minute);
      this.value = rk * this.value + Math.sqrt(1 - rk * rk) * this.p.shadowingSigmaDb * this.rng.normal();
      this.minute = minute;
    }
    return this.value;
  }
}
