/**
 * What the simulated radio tells a receiver about distance: two people stand
 * at a fixed distance in one room, facing as people in a scenario do (redrawn
 * every few minutes), and one listens to the other through the same medium,
 * shadowing and fading the simulator uses. For each distance it gives the
 * GAEN attenuation (transmit power − RSSI) per packet, per scan (the mean of
 * one scan's packets, as GAEN and the tokens' logs keep it) and over several
 * scans (the mean of the scan means of a 10-minute window with ≥ 2 scans), and
 * how well one threshold tells 1–2 m from 3–4 m at each level. The figures to
 * compare with are DP-3T's experiment 34 (EXPERIMENT_34). Pure: the result
 * depends on the options alone.
 */
import { buildAdvert } from "../../../firmware/src/wire/advert";
import { EventScheduler } from "./scheduler";
import { Rng, hashString, mix } from "./prng";
import { Movement } from "./world/movement";
import { RadioMedium } from "./world/radio";
import { CARRY_LOSS_DB, Carry, DEFAULT_PROPAGATION, PropagationParams } from "./world/propagation";
import { Scenario } from "./world/scenario";

/** Distances profiled, metres. */
export const PROFILE_DISTANCES: readonly number[] = [0.5, 1, 1.5, 2, 3, 4];
/** "Near" and "far" for separability, metres (inclusive ranges). */
export const NEAR_M: readonly [number, number] = [1, 2];
export const FAR_M: readonly [number, number] = [3, 4];
/** Phone-like advertising (GAEN phones advertise about every 250 ms): ~6–8 packets in a 2 s scan, as the study's scans. */
export const PROFILE_ADVERT_MS = 250;
export const PROFILE_SCAN_MS = 2000;
/** Scans start every 210–300 s, like a GAEN phone's (and about twice as often as a token's 420–600 s). */
const SCAN_PERIOD_S = 300;
const SCAN_JITTER_S = 90;
/** Window over which several scans are averaged, seconds; it counts when it holds ≥ 2 scans. */
export const MULTI_SCAN_WINDOW_S = 600;
/** Configured transmit power (what the AEM announces), dBm. */
const TX_DBM = -8;

export type LevelName = "packet" | "scan" | "multiScan";
export const LEVELS: readonly LevelName[] = ["packet", "scan", "multiScan"];

export interface LevelFigures {
  /** Per distance (same order as `distances`): median and standard deviation of the attenuation, dB. */
  median: number[];
  std: number[];
  /** Best balanced accuracy of one threshold telling NEAR_M from FAR_M, and the area under the ROC curve. */
  bacc: number;
  auc: number;
  /** Samples per distance. */
  samples: number[];
}

export interface RadioProfile {
  distances: number[];
  levels: Record<LevelName, LevelFigures>;
  settings: {
    seed: number;
    hoursPerDistance: number;
    advertIntervalMs: number;
    scanWindowMs: number;
    carry: Carry;
    propagation: PropagationParams;
  };
}

/**
 * DP-3T bt-measurements, experiment 34 (EPFL, 30 July 2020: 20 people
 * wearing Android phones running GAEN v1.2 in five everyday scenarios,
 * distances measured from six cameras): median attenuation at 1, 1.5, 2, 3
 * and 4 m, its spread at 1 m and at 4 m, and the separability of 1–2 m from
 * 3–4 m, per packet, per scan mean (~6 packets) and over ≥ 2 scans in 5–15 min.
 */
export const EXPERIMENT_34: {
  distances: number[];
  levels: Record<LevelName, { median: number[]; stdNear: number; stdFar: number; bacc: number; auc: number }>;
} = {
  distances: [1, 1.5, 2, 3, 4],
  levels: {
    packet: { median: [53, 57, 59, 61, 62], stdNear: 8.6, stdFar: 5.6, bacc: 0.65, auc: 0.7 },
    scan: { median: [55, 58, 60, 62, 63], stdNear: 7.8, stdFar: 4.6, bacc: 0.68, auc: 0.73 },
    multiScan: { median: [55, 57, 59, 61, 63], stdNear: 6.9, stdFar: 3.2, bacc: 0.77, auc: 0.82 }
  }
};

export interface ProfileOptions {
  seed?: number;
  /** Overrides of DEFAULT_PROPAGATION (a scenario's `propagation`). */
  propagation?: Partial<PropagationParams>;
  distances?: readonly number[];
  /** Simulated time per distance, hours (default 72). */
  hoursPerDistance?: number;
  advertIntervalMs?: number;
  scanWindowMs?: number;
  /** Where both devices are carried (default "lanyard"). */
  carry?: Carry;
}

interface Samples {
  packet: number[];
  scan: number[];
  multiScan: number[];
}

/** Two people `d` metres apart in a large room, for a whole day, every day. */
function pairScenario(d: number): Scenario {
  const y = 15;
  return {
    name: "radio-profile",
    startDate: "2030-01-07",
    rooms: [{ id: "room", kind: "lounge", x: 0, y: 0, w: 30, h: 30 }],
    people: [
      { id: "sender", role: "profile", schedule: [{ from: "00:00", to: "24:00", rooms: ["room"], at: [10, y], dwellMinutes: 60 }] },
      { id: "receiver", role: "profile", schedule: [{ from: "00:00", to: "24:00", rooms: ["room"], at: [10 + d, y], dwellMinutes: 60 }] }
    ]
  };
}

function sampleDistance(
  d: number,
  index: number,
  o: Required<Omit<ProfileOptions, "propagation" | "distances">>,
  params: PropagationParams
): Samples {
  const seed = mix(o.seed, hashString("radio-profile"), index);
  const scenario = pairScenario(d);
  const movement = new Movement(scenario, seed);
  const sch = new EventScheduler(movement.start);
  const medium = new RadioMedium(sch, movement, params, seed);
  const carryDb = CARRY_LOSS_DB[o.carry];
  const end = movement.start + o.hoursPerDistance * 3600;
  let current: number[] | null = null;
  const scans: Array<{ time: number; atts: number[] }> = [];
  const tx = medium.attach({ id: "sender", person: 0, txGainDb: -carryDb, rxOffsetDb: -carryDb, deliver: () => undefined });
  const rx = medium.attach({
    id: "receiver",
    person: 1,
    txGainDb: -carryDb,
    rxOffsetDb: -carryDb,
    deliver: (a) => current?.push(TX_DBM - a.rssi)
  });
  tx.advertising({
    packet: buildAdvert(new Uint8Array(16), new Uint8Array(4)),
    intervalMs: o.advertIntervalMs,
    address: "c0:00:00:00:00:01 random",
    txPowerDbm: TX_DBM,
    connectable: false,
    scannable: false
  });
  const rng = new Rng(mix(seed, hashString("scan times")));
  const startScan = (): void => {
    const atts: number[] = [];
    current = atts;
    scans.push({ time: sch.now - movement.start, atts });
    rx.scanning({ active: false, services: ["fd6f"] });
    sch.at(sch.now + o.scanWindowMs / 1000, () => {
      rx.scanning(null);
      current = null;
    });
    const next = sch.now + SCAN_PERIOD_S - rng.next() * SCAN_JITTER_S;
    if (next + o.scanWindowMs / 1000 < end) sch.at(next, startScan);
  };
  sch.at(movement.start + rng.next() * SCAN_PERIOD_S, startScan);
  sch.runUntil(end);

  const out: Samples = { packet: [], scan: [], multiScan: [] };
  const windows = new Map<number, number[]>();
  for (const s of scans) {
    if (!s.atts.length) continue;
    for (const a of s.atts) out.packet.push(a);
    const m = mean(s.atts);
    out.scan.push(m);
    const w = Math.floor(s.time / MULTI_SCAN_WINDOW_S);
    const list = windows.get(w);
    if (list) list.push(m);
    else windows.set(w, [m]);
  }
  for (const list of windows.values()) if (list.length >= 2) out.multiScan.push(mean(list));
  return out;
}

function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

export function median(xs: readonly number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

export function std(xs: readonly number[]): number {
  if (!xs.length) return NaN;
  const m = mean(xs);
  let s = 0;
  for (const x of xs) s += (x - m) * (x - m);
  return Math.sqrt(s / xs.length);
}

/**
 * How well "attenuation ≤ t means near" separates `near` from `far`: the best
 * balanced accuracy over every threshold, and the AUC (the chance a random far
 * sample's attenuation exceeds a random near one's, ties counting half).
 */
export function separability(near: readonly number[], far: readonly number[]): { bacc: number; auc: number } {
  if (!near.length || !far.length) return { bacc: NaN, auc: NaN };
  const all: Array<[number, number]> = [];
  for (const x of near) all.push([x, 1]);
  for (const x of far) all.push([x, 0]);
  all.sort((a, b) => a[0] - b[0]);
  let bestBacc = 0.5;
  let nearBelow = 0;
  let farBelow = 0;
  let pairs = 0;
  for (let i = 0; i < all.length;) {
    // One group of equal values: everything at or below the threshold t = this value.
    let j = i;
    let n = 0;
    let f = 0;
    while (j < all.length && all[j][0] === all[i][0]) {
      if (all[j][1]) n++;
      else f++;
      j++;
    }
    // Far samples here exceed the near ones below, and tie with the near ones at this value.
    pairs += f * (nearBelow + n / 2);
    nearBelow += n;
    farBelow += f;
    const bacc = (nearBelow / near.length + (far.length - farBelow) / far.length) / 2;
    if (bacc > bestBacc) bestBacc = bacc;
    i = j;
  }
  return { bacc: bestBacc, auc: pairs / (near.length * far.length) };
}

export function radioProfile(options: ProfileOptions = {}): RadioProfile {
  const o = {
    seed: options.seed ?? 1,
    hoursPerDistance: options.hoursPerDistance ?? 72,
    advertIntervalMs: options.advertIntervalMs ?? PROFILE_ADVERT_MS,
    scanWindowMs: options.scanWindowMs ?? PROFILE_SCAN_MS,
    carry: options.carry ?? "lanyard"
  };
  const params: PropagationParams = { ...DEFAULT_PROPAGATION, ...(options.propagation ?? {}) };
  const distances = [...(options.distances ?? PROFILE_DISTANCES)];
  const samples = distances.map((d, i) => sampleDistance(d, i, o, params));
  const levels = {} as Record<LevelName, LevelFigures>;
  for (const level of LEVELS) {
    const per = samples.map((s) => s[level]);
    const pool = (r: readonly [number, number]) => per.filter((_, i) => distances[i] >= r[0] && distances[i] <= r[1]).flat();
    const sep = separability(pool(NEAR_M), pool(FAR_M));
    levels[level] = {
      median: per.map((xs) => round(median(xs), 1)),
      std: per.map((xs) => round(std(xs), 1)),
      bacc: round(sep.bacc, 3),
      auc: round(sep.auc, 3),
      samples: per.map((xs) => xs.length)
    };
  }
  return { distances, levels, settings: { ...o, propagation: params } };
}

function round(x: number, digits: number): number {
  const k = 10 ** digits;
  return Math.round(x * k) / k;
}

const LEVEL_TITLE: Record<LevelName, string> = {
  packet: "per packet",
  scan: "mean of one scan",
  multiScan: `mean of ≥ 2 scans in ${MULTI_SCAN_WINDOW_S / 60} min`
};

/** The profile as a text table, with the study's figures beside it. */
export function formatProfile(p: RadioProfile): string {
  const s = p.settings;
  const lines = [
    `radio profile: GAEN attenuation (tx power − RSSI, dB) between two people on the simulated radio`,
    `  ${s.hoursPerDistance} h per distance, seed ${s.seed}, advertising every ${s.advertIntervalMs} ms, ${s.scanWindowMs} ms scans every 210–300 s, both devices on a ${s.carry}`,
    `  propagation: exponent ${s.propagation.exponent} (${s.propagation.farExponent} beyond ${s.propagation.breakpointM} m), shadowing σ ${s.propagation.shadowingSigmaDb} dB (${s.propagation.shadowingPerMinute}/min), body loss ≤ ${s.propagation.bodyLossMaxDb} dB, Rician K ${s.propagation.riceK}`,
    `  separability: ${NEAR_M[0]}–${NEAR_M[1]} m vs ${FAR_M[0]}–${FAR_M[1]} m; study: DP-3T bt-measurements experiment 34 (medians relative to 1 m)`,
    ""
  ];
  const dist = p.distances.map((d) => `${d} m`.padStart(7)).join("");
  const at1 = p.distances.indexOf(1);
  for (const level of LEVELS) {
    const l = p.levels[level];
    const ref = EXPERIMENT_34.levels[level];
    const study = p.distances
      .map((d) => {
        const i = EXPERIMENT_34.distances.indexOf(d);
        return (i < 0 ? "–" : `${ref.median[i]}`).padStart(7);
      })
      .join("");
    const rel = (xs: number[], base: number) => xs.map((x) => (Number.isFinite(x) ? (x - base).toFixed(1) : "–").padStart(7)).join("");
    lines.push(
      `${LEVEL_TITLE[level]}`,
      `  ${"distance".padEnd(22)}${dist}`,
      `  ${"median".padEnd(22)}${l.median.map((x) => x.toFixed(1).padStart(7)).join("")}`,
      `  ${"std".padEnd(22)}${l.std.map((x) => x.toFixed(1).padStart(7)).join("")}`,
      `  ${"median − median at 1 m".padEnd(22)}${at1 >= 0 ? rel(l.median, l.median[at1]) : ""}`,
      `  ${"study median".padEnd(22)}${study}`,
      `  ${"study, − at 1 m".padEnd(22)}${p.distances
        .map((d) => {
          const i = EXPERIMENT_34.distances.indexOf(d);
          return (i < 0 ? "–" : `${ref.median[i] - ref.median[0]}`).padStart(7);
        })
        .join("")}`,
      `  separability          balanced accuracy ${l.bacc.toFixed(2)} (study ${ref.bacc.toFixed(2)}), AUC ${l.auc.toFixed(2)} (study ${ref.auc.toFixed(2)}); std ${ref.stdNear} → ${ref.stdFar} dB in the study`,
      ""
    );
  }
  return lines.join("\n");
}
