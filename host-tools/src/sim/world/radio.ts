/**
 * The shared 2.4 GHz medium. Advertisers transmit an advertising event every
 * interval plus a random 0–10 ms advDelay (as the BLE spec requires); a
 * receiver hears an event while its scan window is open if the received power
 * (see propagation.ts) clears the receive threshold and the packet is not lost.
 *
 * Cost: nothing is scheduled per advertising event. Time is cut into chunks
 * (1 s); while a receiver scans, it asks each advertiser for its event times
 * in the current chunk (computed once per advertiser and chunk, shared by all
 * receivers), keeps those it hears, and delivers them one by one at their own
 * times. Advertisers nobody listens to cost nothing: their event timeline is
 * advanced in one statistical jump.
 */
import type { AdvertState, ReceivedAdvert, RadioPort, ScanState, SimScheduler } from "../types";
import { Movement, Pose } from "./movement";
import { PropagationParams, Shadowing, bodyLossDb, fadingSampler, pathLossDb } from "./propagation";
import { wallLossDb } from "./geometry";
import { Rng, hashString, mix } from "../prng";

export const CHUNK_SECONDS = 1;
/** advDelay: 0–10 ms added to every advertising interval. */
const ADV_DELAY_S = 0.01;

export interface RadioNodeSpec {
  id: string;
  /** Index of the person carrying the node, in the scenario's movement (ignored with `fixed`). */
  person: number;
  /** Where an installed device (the kiosk) stands, for good: it moves with nobody. */
  fixed?: Pose;
  /** Radiated power minus the configured tx power (antenna and enclosure), dB. */
  txGainDb: number;
  /** Added to the received power to give the reported RSSI (receiver calibration), dB. */
  rxOffsetDb: number;
  /** Hand a heard packet to the node (called only while it scans). */
  deliver(advert: ReceivedAdvert): void;
}

export interface RadioStats {
  scanWindows: number;
  /**
   * Advertising events that fell inside an open scan window on a link within
   * reach (links whose mean is more than fadingMaxGainDb below the threshold
   * are skipped without counting their events).
   */
  candidates: number;
  belowThreshold: number;
  lost: number;
  delivered: number;
}

class Node {
  advert: AdvertState | null = null;
  services: string[] = [];
  /** Next advertising event time (true seconds). */
  cursor = 0;
  memoChunk = -1;
  memo: number[] = [];
  memoLen = 0;
  scan: ScanState | null = null;
  pendingEvent = -1;
  queueTimes: number[] = [];
  queueFrom: Node[] = [];
  queueRssi: number[] = [];
  queuePos = 0;
  queueLen = 0;
  chunkEnd = 0;
  /**
   * As a receiver: the advertisers within reach and their mean received
   * power, kept for the rest of the minute (poses and shadowing change once
   * a minute) while no advertiser changed what matters (see RadioMedium.reach).
   */
  reachMinute = -1;
  reachPoseMinute = -1;
  reachEpoch = -1;
  reachScan: ScanState | null = null;
  readonly reachTx: Node[] = [];
  readonly reachMean: number[] = [];
  reachLen = 0;
  /** Made once per node so the per-packet events allocate no closures. */
  deliverFn: () => void = () => undefined;
  fillFn: () => void = () => undefined;
  /** Per peer (by node index): shadowing process and cached loss, created on first use. */
  readonly shadowing: Array<Shadowing | undefined> = [];
  readonly links: Array<LinkCache | undefined> = [];
  readonly jitter: Rng;
  readonly fading: Rng;
  readonly key: number;

  constructor(
    readonly index: number,
    readonly spec: RadioNodeSpec,
    seed: number
  ) {
    this.key = hashString(spec.id);
    this.jitter = new Rng(mix(seed, hashString("advertiser"), this.key));
    this.fading = new Rng(mix(seed, hashString("receiver"), this.key));
  }
}

/** 16-bit service UUIDs a packet mentions (UUID lists and service data), lower-case hex. */
export function packetServices(packet: Uint8Array): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < packet.length) {
    const len = packet[i];
    if (len === 0 || i + 1 + len > packet.length) break;
    const type = packet[i + 1];
    if (type === 0x02 || type === 0x03) {
      for (let j = i + 2; j + 1 < i + 1 + len; j += 2) out.push(((packet[j + 1] << 8) | packet[j]).toString(16).padStart(4, "0"));
    } else if (type === 0x16 && len >= 3) {
      out.push(((packet[i + 3] << 8) | packet[i + 2]).toString(16).padStart(4, "0"));
    }
    i += 1 + len;
  }
  return out;
}

function mentionsAny(services: string[], wanted: string[]): boolean {
  for (let i = 0; i < wanted.length; i++) if (services.indexOf(wanted[i]) >= 0) return true;
  return false;
}

interface LinkCache {
  pa: Pose;
  pb: Pose;
  lossDb: number;
}

export class RadioMedium {
  readonly stats: RadioStats = { scanWindows: 0, candidates: 0, belowThreshold: 0, lost: 0, delivered: 0 };
  private readonly nodes: Node[] = [];
  private readonly fading: (rng: Rng) => number;
  /** Bumped when an advertiser starts, stops, or changes its tx power or services: receivers' reach lists are then stale. */
  private reachEpoch = 0;

  constructor(
    private readonly scheduler: SimScheduler,
    private readonly movement: Movement,
    private readonly params: PropagationParams,
    private readonly seed: number
  ) {
    this.fading = fadingSampler(params);
  }

  /** Put a node on the air; the returned port is what its radio reports to. */
  attach(spec: RadioNodeSpec): RadioPort {
    const node = new Node(this.nodes.length, spec, this.seed);
    this.nodes.push(node);
    node.deliverFn = () => this.deliverNext(node);
    node.fillFn = () => this.fillChunk(node);
    return {
      advertising: (state) => this.setAdvertising(node, state),
      scanning: (state) => this.setScanning(node, state)
    };
  }

  private setAdvertising(node: Node, state: AdvertState | null): void {
    const prev = node.advert;
    node.advert = state;
    if (!state) {
      if (prev) this.reachEpoch++;
      return;
    }
    if (!prev || prev.packet !== state.packet) {
      const services = packetServices(state.packet);
      if (!prev || services.join() !== node.services.join()) this.reachEpoch++;
      node.services = services;
    }
    if (prev && prev.txPowerDbm !== state.txPowerDbm) this.reachEpoch++;
    // A (re)start begins a new event timeline; a new packet at the same interval keeps it.
    if (!prev || prev.intervalMs !== state.intervalMs) {
      node.cursor = this.scheduler.now + node.jitter.next() * ADV_DELAY_S;
      node.memoChunk = -1;
    }
  }

  private setScanning(node: Node, state: ScanState | null): void {
    const was = node.scan;
    node.scan = state;
    if (node.pendingEvent >= 0) this.scheduler.cancel(node.pendingEvent);
    node.pendingEvent = -1;
    if (!state) return;
    if (!was) this.stats.scanWindows++;
    // Never deliver from inside the call that started the scan: run on the queue.
    node.pendingEvent = this.scheduler.at(this.scheduler.now, node.fillFn);
  }

  /** Advertising event times of `node` in chunk `c`, shared by every receiver. */
  private eventsInChunk(node: Node, c: number): number[] {
    if (node.memoChunk === c) return node.memo; // its first memoLen entries
    const interval = node.advert!.intervalMs / 1000;
    const start = c * CHUNK_SECONDS;
    const end = start + CHUNK_SECONDS;
    const mean = interval + ADV_DELAY_S / 2;
    if (node.cursor < start) {
      // Jump over the unheard events: the sum of n uniform delays is close to normal.
      const n = Math.floor((start - node.cursor) / mean);
      if (n > 1) node.cursor += n * mean + node.jitter.normal() * Math.sqrt(n) * (ADV_DELAY_S / Math.sqrt(12));
      while (node.cursor < start) node.cursor += interval + node.jitter.next() * ADV_DELAY_S;
    }
    const out = node.memo;
    let n = 0;
    while (node.cursor < end) {
      out[n++] = node.cursor;
      node.cursor += interval + node.jitter.next() * ADV_DELAY_S;
    }
    node.memoChunk = c;
    node.memoLen = n;
    return out;
  }

  private poseOf(node: Node, now: number): Pose | null {
    return node.spec.fixed ?? this.movement.poseAt(node.spec.person, now);
  }

  /** Loss (path, walls, bodies) between two poses, cached until one of them moves. */
  private linkLossDb(a: Node, b: Node, pa: Pose, pb: Pose): number {
    const lo = a.index < b.index ? a : b;
    const hi = lo === a ? b : a;
    const p = lo === a ? pa : pb;
    const q = lo === a ? pb : pa;
    const cached = lo.links[hi.index];
    if (cached && cached.pa === p && cached.pb === q) return cached.lossDb;
    const dx = q.x - p.x;
    const dy = q.y - p.y;
    const d = Math.sqrt(dx * dx + dy * dy);
    const dir = Math.atan2(dy, dx);
    // An installed device has no body of its own around it.
    const bodyLo = lo.spec.fixed ? 0 : bodyLossDb(this.params, p.facing, dir);
    const bodyHi = hi.spec.fixed ? 0 : bodyLossDb(this.params, q.facing, dir + Math.PI);
    let loss = pathLossDb(this.params, d) + bodyLo + bodyHi;
    // Rooms are convex and do not overlap: a line inside one room crosses no wall.
    if (p.room !== q.room) loss += wallLossDb(this.movement.rooms, p, q);
    if (cached) {
      cached.pa = p;
      cached.pb = q;
      cached.lossDb = loss;
    } else lo.links[hi.index] = { pa: p, pb: q, lossDb: loss };
    return loss;
  }

  private shadow(a: Node, b: Node, minute: number): number {
    const lo = a.index < b.index ? a : b;
    const hi = lo === a ? b : a;
    let s = lo.shadowing[hi.index];
    if (!s) {
      // Seeded by the two ids, not their order of attachment: adding a node changes no other link.
      s = new Shadowing(this.params, new Rng(mix(this.seed, hashString("shadowing"), Math.min(a.key, b.key), Math.max(a.key, b.key))));
      lo.shadowing[hi.index] = s;
    }
    return s.at(minute);
  }

  /**
   * The advertisers `rx` (at pose `prx`) can hear now, in node order, with
   * their mean received power; recomputed once per minute or when an
   * advertiser changed. Skipping the recomputation changes no random draw:
   * shadowing draws only when its minute advances, and link losses are pure.
   */
  private reach(rx: Node, prx: Pose, now: number): void {
    const minute = Math.floor(now / 60);
    // Poses change with the movement's minute (counted from the scenario start), shadowing with this one.
    const poseMinute = this.movement.minuteOf(now);
    if (rx.reachMinute === minute && rx.reachPoseMinute === poseMinute && rx.reachEpoch === this.reachEpoch && rx.reachScan === rx.scan)
      return;
    const p = this.params;
    const filter = rx.scan!.services;
    let k = 0;
    for (const tx of this.nodes) {
      if (tx === rx || !tx.advert) continue;
      if (filter.length && !mentionsAny(tx.services, filter)) continue;
      const ptx = this.poseOf(tx, now);
      if (!ptx) continue;
      const mean = tx.advert.txPowerDbm + tx.spec.txGainDb - this.linkLossDb(rx, tx, prx, ptx) + this.shadow(rx, tx, minute);
      // Out of reach even with the best fading: not even worth drawing its event times.
      if (mean + p.fadingMaxGainDb < p.receiveThresholdDbm) continue;
      rx.reachTx[k] = tx;
      rx.reachMean[k] = mean;
      k++;
    }
    rx.reachLen = k;
    rx.reachMinute = minute;
    rx.reachPoseMinute = poseMinute;
    rx.reachEpoch = this.reachEpoch;
    rx.reachScan = rx.scan;
  }

  /** Work out what `rx` hears from now to the end of this chunk, and start delivering it. */
  private fillChunk(rx: Node): void {
    rx.pendingEvent = -1;
    if (!rx.scan) return;
    const now = this.scheduler.now;
    const c = Math.floor(now / CHUNK_SECONDS);
    const end = (c + 1) * CHUNK_SECONDS;
    const times = rx.queueTimes;
    const from = rx.queueFrom;
    const rssi = rx.queueRssi;
    let n = 0;
    const prx = this.poseOf(rx, now);
    if (prx) {
      const p = this.params;
      this.reach(rx, prx, now);
      for (let r = 0; r < rx.reachLen; r++) {
        const tx = rx.reachTx[r];
        const mean = rx.reachMean[r];
        const events = this.eventsInChunk(tx, c);
        for (let e = 0; e < tx.memoLen; e++) {
          const t = events[e];
          if (t < now) continue;
          this.stats.candidates++;
          const power = mean + this.fading(rx.fading);
          if (power < p.receiveThresholdDbm) {
            this.stats.belowThreshold++;
            continue;
          }
          if (rx.fading.next() < p.packetLoss) {
            this.stats.lost++;
            continue;
          }
          times[n] = t;
          from[n] = tx;
          rssi[n] = Math.round(power + rx.spec.rxOffsetDb);
          n++;
        }
      }
    }
    // Sort this chunk's packets by time (insertion sort: lists are short and nearly sorted per sender).
    for (let i = 1; i < n; i++) {
      const t = times[i];
      const f = from[i];
      const r = rssi[i];
      let j = i - 1;
      while (j >= 0 && times[j] > t) {
        times[j + 1] = times[j];
        from[j + 1] = from[j];
        rssi[j + 1] = rssi[j];
        j--;
      }
      times[j + 1] = t;
      from[j + 1] = f;
      rssi[j + 1] = r;
    }
    rx.queuePos = 0;
    rx.queueLen = n;
    rx.chunkEnd = end;
    this.next(rx);
  }

  /** Schedule the next packet of the chunk, or the next chunk. */
  private next(rx: Node): void {
    if (rx.queuePos < rx.queueLen) rx.pendingEvent = this.scheduler.at(rx.queueTimes[rx.queuePos], rx.deliverFn);
    else rx.pendingEvent = this.scheduler.at(rx.chunkEnd, rx.fillFn);
  }

  /**
   * Deliver the chunk's next packet, then the following ones in the same
   * call while the scheduler says nothing else would run in between (each at
   * its own time, exactly as if each were its own event).
   */
  private deliverNext(rx: Node): void {
    rx.pendingEvent = -1;
    const s = this.scheduler;
    for (;;) {
      if (!rx.scan) return;
      const i = rx.queuePos++;
      const tx = rx.queueFrom[i];
      // The advertiser may have stopped or changed its packet since the chunk was planned: send what is on the air now.
      const adv = tx.advert;
      if (adv) {
        this.stats.delivered++;
        rx.spec.deliver({ address: adv.address, rssi: rx.queueRssi[i], packet: adv.packet });
      }
      // The callback may have stopped or restarted the scan; a restart has already queued its own work.
      if (!rx.scan || rx.pendingEvent >= 0) return;
      if (rx.queuePos >= rx.queueLen || !s.advanceTo || !s.advanceTo(rx.queueTimes[rx.queuePos])) {
        this.next(rx);
        return;
      }
    }
  }
}
