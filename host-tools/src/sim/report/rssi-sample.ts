/**
 * What the tokens measured, against how far apart the two people really were:
 * a sample of the sightings the firmware logged, each matched to the token
 * that sent it with the host's matching code (the senders' own TEKs, read from
 * their flash at the end), and the true distance between the two wearers at
 * that minute from the movement model. Sightings of phones (whose keys no
 * token holds) do not match and are left out.
 */
import type { ExposureKey } from "../../keys/types";
import { TEK_ROLLING_PERIOD } from "../../match/derive";
import { findHits } from "../../match/find-hits";
import { packKeys } from "../../match/packed-keys";
import { buildSightingIndex } from "../../match/sighting-index";
import type { Sighting } from "../../match/sightings";
import type { LoggedRecord } from "../../tokenlog/read-log";
import { Rng, hashString, mix } from "../prng";
import { wallsCrossed } from "../world/geometry";
import { Movement } from "../world/movement";

export interface RssiSampleInput {
  movement: Movement;
  /** Every token wearer with what their token logged and its own TEKs. */
  tokens: ReadonlyArray<{
    person: string;
    logged: readonly LoggedRecord[];
    teks: ReadonlyArray<{ rollingStart: number; tek: Uint8Array }>;
  }>;
  /** Points wanted at most. */
  max: number;
  seed: number;
}

export interface RssiSample {
  /** [true distance m, RSSI dBm as logged, 1 when a wall stood between them], sorted by distance. */
  points: Array<[number, number, number]>;
  /** Sightings logged over the run (all senders). */
  loggedTotal: number;
  /** Sightings drawn for matching. */
  sampled: number;
}

/** Drawn for matching per point wanted: some sightings are of phones, or of people who left, and give no point. */
const OVERSAMPLE = 2;

export async function rssiSample(i: RssiSampleInput): Promise<RssiSample> {
  const all: Array<{ receiver: number; r: LoggedRecord }> = [];
  i.tokens.forEach((t, receiver) => {
    for (const r of t.logged) all.push({ receiver, r });
  });
  // A partial Fisher–Yates shuffle: a uniform sample, the same for the same seed.
  const rng = new Rng(mix(i.seed, hashString("report-rssi")));
  const n = Math.min(all.length, i.max * OVERSAMPLE);
  for (let k = 0; k < n; k++) {
    const j = k + rng.int(all.length - k);
    const t = all[k];
    all[k] = all[j];
    all[j] = t;
  }
  const drawn = all.slice(0, n);
  const keys: ExposureKey[] = [];
  const owner: number[] = [];
  i.tokens.forEach((t, ti) => {
    for (const k of t.teks) {
      keys.push({ keyData: k.tek, rollingStartIntervalNumber: k.rollingStart, rollingPeriod: TEK_ROLLING_PERIOD });
      owner.push(ti);
    }
  });
  const points: Array<[number, number, number]> = [];
  if (keys.length && drawn.length) {
    const sightings: Sighting[] = drawn.map((d, k) => ({
      time: d.r.time,
      rpi: d.r.rpiPrefix,
      rssi: d.r.meanRssi,
      aemTx: d.r.aem1,
      line: k + 1
    }));
    const { hits } = await findHits(packKeys(keys), buildSightingIndex(sightings));
    const sender = new Map<number, number>();
    for (const h of hits) {
      const from = owner[h.keyIndex];
      if (from !== drawn[h.sightingIndex].receiver && !sender.has(h.sightingIndex)) sender.set(h.sightingIndex, from);
    }
    const personIndex = i.tokens.map((t) => i.movement.personIndex(t.person));
    for (const [s, from] of [...sender].sort((a, b) => a[0] - b[0])) {
      if (points.length >= i.max) break;
      const d = drawn[s];
      const a = i.movement.poseAt(personIndex[d.receiver], d.r.time);
      const b = i.movement.poseAt(personIndex[from], d.r.time);
      if (!a || !b) continue;
      const dist = Math.hypot(a.x - b.x, a.y - b.y);
      const wall = wallsCrossed(i.movement.rooms, a, b) > 0 ? 1 : 0;
      points.push([Math.round(dist * 100) / 100, d.r.meanRssi, wall]);
    }
  }
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return { points, loggedTotal: all.length, sampled: n };
}
