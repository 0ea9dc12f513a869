/**
 * The radio between two baseline phones: the world's channel (path loss,
 * walls, both bodies, carry, per-link shadowing, per-packet Rician fading,
 * receive threshold and packet loss, all from world/propagation.ts and the
 * scenario's overrides) drawn from random streams of its own, so that
 * running phones changes no draw the tokens' radio makes.
 */
import type { Pose } from "../world/movement";
import { WalledRoom, wallLossDb } from "../world/geometry";
import { CARRY_LOSS_DB, PropagationParams, Shadowing, bodyLossDb, fadingSampler, pathLossDb } from "../world/propagation";
import { Rng, hashString, mix } from "../prng";
import type { PhoneRadioSettings } from "./gaen-settings";

/** advDelay: 0–10 ms added to every advertising interval (as world/radio.ts). */
const ADV_DELAY_S = 0.01;
const TAG_SHADOWING = hashString("gaen-phone-shadowing");

/** Path loss and both bodies between two people, dB: what world/radio.ts adds for a link before its walls. */
export function openLossDb(params: PropagationParams, p: Pose, q: Pose): number {
  const dx = q.x - p.x;
  const dy = q.y - p.y;
  const dir = Math.atan2(dy, dx);
  return pathLossDb(params, Math.sqrt(dx * dx + dy * dy)) + bodyLossDb(params, p.facing, dir) + bodyLossDb(params, q.facing, dir + Math.PI);
}

/** Walls between two people, dB. Rooms are convex and do not overlap: a line inside one room crosses no wall. */
export function wallsDb(rooms: readonly WalledRoom[], p: Pose, q: Pose): number {
  return p.room === q.room ? 0 : wallLossDb(rooms, p, q);
}

/**
 * A link's loss for the two pose objects it was worked out for (a pose
 * object stays the same while its person neither moves nor turns). Walls
 * are the costly part: they depend on the two spots only (not on which way
 * people face), are kept while both stay put, and are left uncounted (NaN)
 * while the link is out of reach without them (they only add loss).
 */
interface LinkLoss {
  p: Pose;
  q: Pose;
  openDb: number;
  wallsDb: number;
  /** The spots wallsDb is for. */
  px: number;
  py: number;
  qx: number;
  qy: number;
}

/** GAEN v2's ScanInstance for one sender in one scan (without the seconds, which belong to the scan). */
export interface HeardInScan {
  /** Mean of the packets' attenuations in the scan, whole dB (GAEN reports whole dB). */
  typicalAttenuationDb: number;
  minAttenuationDb: number;
  packets: number;
}

export class PhoneChannel {
  private readonly links: Array<Shadowing | undefined> = [];
  private readonly losses: Array<LinkLoss | undefined> = [];
  private readonly fading: (rng: Rng) => number;
  private readonly keys: number[];
  private readonly carryDb: number;
  /** What GAEN subtracts the RSSI from: radiated power less the calibration. */
  private readonly txLevelDbm: number;
  private readonly meanIntervalS: number;

  constructor(
    private readonly params: PropagationParams,
    private readonly rooms: readonly WalledRoom[],
    private readonly radio: PhoneRadioSettings,
    private readonly seed: number,
    ids: readonly string[]
  ) {
    this.fading = fadingSampler(params);
    this.keys = ids.map((id) => hashString(id));
    this.carryDb = CARRY_LOSS_DB[radio.carry];
    this.txLevelDbm = radio.radiatedTxPowerDbm - radio.calibrationDb;
    this.meanIntervalS = radio.advertIntervalMs / 1000 + ADV_DELAY_S / 2;
  }

  /** Slow shadowing of the link between phones a and b at a (unix) minute; one process per link, either direction. */
  private shadowDb(a: number, b: number, minute: number): number {
    const lo = Math.min(a, b);
    const hi = Math.max(a, b);
    const slot = lo * this.keys.length + hi;
    let s = this.links[slot];
    if (!s) {
      const ka = this.keys[lo];
      const kb = this.keys[hi];
      s = new Shadowing(this.params, new Rng(mix(this.seed, TAG_SHADOWING, Math.min(ka, kb), Math.max(ka, kb))));
      this.links[slot] = s;
    }
    return s.at(minute);
  }

  /** The cached loss of the link between phones a < b at these poses. */
  private link(a: number, b: number, pa: Pose, pb: Pose): LinkLoss {
    const slot = a * this.keys.length + b;
    let c = this.losses[slot];
    if (c && c.p === pa && c.q === pb) return c;
    const openDb = openLossDb(this.params, pa, pb);
    if (c) {
      c.p = pa;
      c.q = pb;
      c.openDb = openDb;
      if (c.px !== pa.x || c.py !== pa.y || c.qx !== pb.x || c.qy !== pb.y) c.wallsDb = NaN;
    } else this.losses[slot] = c = { p: pa, q: pb, openDb, wallsDb: NaN, px: pa.x, py: pa.y, qx: pb.x, qy: pb.y };
    return c;
  }

  /**
   * Mean power (dBm) phone `rx` receives from phone `tx` at these poses: the
   * formula without fading. A link out of reach even without its walls is
   * given that (lower-bound) power: it is below the threshold either way.
   */
  meanRssiDbm(tx: number, rx: number, ptx: Pose, prx: Pose, unixMinute: number): number {
    const c = tx < rx ? this.link(tx, rx, ptx, prx) : this.link(rx, tx, prx, ptx);
    const open = this.radio.radiatedTxPowerDbm - 2 * this.carryDb - c.openDb + this.shadowDb(tx, rx, unixMinute);
    if (open + this.params.fadingMaxGainDb < this.params.receiveThresholdDbm) return open;
    if (Number.isNaN(c.wallsDb)) {
      c.wallsDb = wallsDb(this.rooms, c.p, c.q);
      c.px = c.p.x;
      c.py = c.p.y;
      c.qx = c.q.x;
      c.qy = c.q.y;
    }
    return open - c.wallsDb;
  }

  /**
   * One scan window of the receiver over one sender whose mean power is
   * `meanDbm`: the sender's advertising events in the window (a phase drawn
   * per scan: nothing ties it to the receiver's scan), each faded, kept if it
   * clears the threshold and is not lost. Null when nothing was heard.
   */
  scan(meanDbm: number, rng: Rng): HeardInScan | null {
    const p = this.params;
    if (meanDbm + p.fadingMaxGainDb < p.receiveThresholdDbm) return null;
    const windowS = this.radio.scanMs / 1000;
    const first = rng.next() * this.meanIntervalS;
    const events = first < windowS ? 1 + Math.floor((windowS - first) / this.meanIntervalS) : 0;
    let sum = 0;
    let n = 0;
    let min = Infinity;
    for (let e = 0; e < events; e++) {
      const power = meanDbm + this.fading(rng);
      if (power < p.receiveThresholdDbm) continue;
      if (rng.next() < p.packetLoss) continue;
      const att = Math.max(0, this.txLevelDbm - Math.round(power));
      sum += att;
      n++;
      if (att < min) min = att;
    }
    return n ? { typicalAttenuationDb: Math.round(sum / n), minAttenuationDb: min, packets: n } : null;
  }
}
