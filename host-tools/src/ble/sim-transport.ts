/**
 * The sync client's transport over the simulated world: a central connected
 * to an emulated token that runs the real bundle (sim/espruino), so the
 * client, the firmware's sync.ts and the Espruino link model meet exactly as
 * they would over BlueZ, in simulated time.
 *
 * Time. The world is a discrete-event queue (EventScheduler) that runs only
 * when something calls it; the client only waits on promises. While a link
 * is up, a pump runs the queue one event time at a time, and between two
 * steps yields to Node's event loop (setImmediate), which first runs every
 * promise continuation that step made ready. The client does all its work
 * between two awaits synchronously (the copy's writes are synchronous), so it
 * answers a notification before simulated time moves on: the session's
 * timing is deterministic and as fast as the CPU allows. `timer` runs the
 * client's deadlines on the same queue, so a 10 s response timeout is 10
 * simulated seconds. Nothing else may run the scheduler while a link pumps.
 */
import type { EventScheduler } from "../sim/scheduler";
import { type AdvertState, type Central, type CentralLink, type EmulatedToken, HCI_CONNECTION_TIMEOUT } from "../sim/types";
import type { SyncTimer } from "../sync/wire";
import { ConnectFailedError, LinkLostError } from "./errors";
import type { FoundToken, SyncLink, Transport } from "./transport";

/** An ATT write at the default MTU, the largest piece a BlueZ kiosk sends too (docs/simulator-espruino.md). */
const ATT_WRITE_BYTES = 20;
/**
 * The connection interval Espruino settles on half a second after a BlueZ
 * kiosk connects (docs/simulator-espruino.md, "What the simulated link uses");
 * the first half second at 50 ms is not modelled.
 */
export const SIM_INTERVAL_MS = 7.5;

export interface SimLinkOptions {
  scheduler: EventScheduler;
  /** The central's address as the token's NRF.on('connect') reports it. */
  centralAddress?: string;
  intervalMs?: number;
}

/** Reasons the token gave for ending the link, as a person reads them. */
function reasonText(code: number): string {
  if (code === HCI_CONNECTION_TIMEOUT) return "the connection timed out: the token went out of range, lost power or was reset";
  return "the token ended the link: it closed its sync window, or refused the session";
}

/** Runs `fn` after `ms` of simulated time; the cancel function drops it. */
export function simTimer(scheduler: EventScheduler): SyncTimer {
  return (ms, fn) => {
    const id = scheduler.at(scheduler.now + ms / 1000, fn);
    return () => scheduler.cancel(id);
  };
}

/** One connection to an emulated token; see the file comment for how it moves simulated time. */
export class SimSyncLink implements SyncLink {
  readonly writeBytes = ATT_WRITE_BYTES;
  /** Deadlines and waits in simulated time: pass it to syncToken as `timer`. */
  readonly timer: SyncTimer;
  /** Notifications received on this link. */
  notifications = 0;
  private link: CentralLink | null = null;
  private up = true;
  private byUs = false;
  private reason: string | undefined;
  private readonly dataCbs: Array<(bytes: Uint8Array) => void> = [];
  private readonly closeCbs: Array<(reason: string) => void> = [];
  private readonly early: Uint8Array[] = [];
  private pumping = false;

  private constructor(private readonly scheduler: EventScheduler) {
    this.timer = simTimer(scheduler);
  }

  /**
   * Connect to `token` now. Throws ConnectFailedError when the token
   * does not take a connection (no sync window open, asleep, already
   * connected, off).
   */
  static connect(token: EmulatedToken, opts: SimLinkOptions): SimSyncLink {
    const l = new SimSyncLink(opts.scheduler);
    const central: Central = {
      address: opts.centralAddress ?? "c0:ff:ee:00:00:01 public",
      intervalMs: opts.intervalMs ?? SIM_INTERVAL_MS,
      notified: (bytes) => l.deliver(bytes),
      disconnected: (code) => l.lost(reasonText(code))
    };
    const link = token.connect(central);
    if (!link)
      throw new ConnectFailedError(
        `Could not connect to token ${token.id}: it takes no connection now (its sync window is closed, or another central is connected); open its sync window (hold its button for 2 seconds) and try again.`
      );
    l.link = link;
    l.pump();
    return l;
  }

  write(bytes: Uint8Array): Promise<void> {
    if (!this.up || !this.link) return Promise.reject(this.downError());
    // One ATT write per piece, as the radio carries them; the token hears each as it arrives.
    for (let at = 0; at < bytes.length; at += ATT_WRITE_BYTES)
      if (!this.link.write(bytes.subarray(at, at + ATT_WRITE_BYTES))) return Promise.reject(this.downError());
    return Promise.resolve();
  }

  onData(cb: (bytes: Uint8Array) => void): void {
    this.dataCbs.push(cb);
    for (const b of this.early.splice(0)) cb(b);
  }

  onClose(cb: (reason: string) => void): void {
    this.closeCbs.push(cb);
    const reason = this.reason;
    if (!this.up && !this.byUs && reason !== undefined) queueMicrotask(() => cb(reason));
  }

  disconnect(): Promise<void> {
    if (this.up) {
      this.byUs = true;
      this.up = false;
      this.reason = "disconnected by this central";
      this.link?.disconnect();
    }
    return Promise.resolve();
  }

  /**
   * The radio loses the link (the wearer walked away): the token hears a
   * connection timeout, and so does the client, at once.
   */
  lose(): void {
    if (!this.up) return;
    this.link?.disconnect(HCI_CONNECTION_TIMEOUT);
    this.lost(reasonText(HCI_CONNECTION_TIMEOUT));
  }

  get connected(): boolean {
    return this.up;
  }

  private deliver(bytes: Uint8Array): void {
    if (!this.up) return;
    this.notifications++;
    if (this.dataCbs.length === 0) this.early.push(bytes);
    else for (const cb of this.dataCbs) cb(bytes);
  }

  private lost(reason: string): void {
    if (!this.up) return;
    this.up = false;
    this.reason = reason;
    for (const cb of this.closeCbs) cb(reason);
  }

  private downError(): LinkLostError {
    return new LinkLostError(
      `The link to the simulated token is down (${this.reason ?? "not connected"}); open its sync window (hold its button for 2 seconds) and connect again.`
    );
  }

  /** Runs the world while the link is up (see the file comment). */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    const step = (): void => {
      if (!this.up) {
        this.pumping = false;
        return;
      }
      const t = this.scheduler.peekTime();
      if (t === undefined) {
        // Nothing will ever happen in the world: let real time pass rather than spin.
        setTimeout(step, 1);
        return;
      }
      this.scheduler.runUntil(t);
      setImmediate(step);
    };
    setImmediate(step);
  }
}

/** The simulated kiosk's own address, as a token's scanner hears the beacon from it. */
const SIM_KIOSK_ADDRESS = "c0:ff:ee:00:00:01 random";
/** How often the simulated beacon goes out (a phone advertises every 200–270 ms). */
const BEACON_EVERY_S = 0.25;

/** A token the simulated transport can find: its emulation and what it advertises now. */
export interface SimPeer {
  token: EmulatedToken;
  advert(): AdvertState | null;
  /** Signal strength the kiosk hears it at (default -60 dBm). */
  rssi?: number;
}

/**
 * The Transport interface over a simulated world: scanning runs simulated
 * time and reports the tokens advertising connectable (a sync window open);
 * connecting gives a SimSyncLink.
 */
export class SimTransport implements Transport {
  private closed = false;
  private beaconMake: ((unixSeconds: number) => Uint8Array) | null = null;
  private beaconEvent: number | null = null;

  constructor(
    private readonly scheduler: EventScheduler,
    private readonly peers: SimPeer[],
    private readonly linkOptions: Omit<SimLinkOptions, "scheduler"> = {}
  ) {}

  /**
   * The beacon reaches every peer, as a phone's advert would, a few times a
   * second of simulated time (a token hears it only while it scans). The
   * simulated clock is the kiosk's: scheduler time is Unix seconds here.
   */
  async beacon(make: ((unixSeconds: number) => Uint8Array) | null): Promise<void> {
    this.beaconMake = make;
    if (this.beaconEvent !== null) this.scheduler.cancel(this.beaconEvent);
    this.beaconEvent = null;
    if (!make) return;
    const tick = (): void => {
      if (!this.beaconMake || this.closed) return;
      const packet = this.beaconMake(Math.floor(this.scheduler.now));
      for (const p of this.peers) p.token.deliver({ address: SIM_KIOSK_ADDRESS, rssi: -50, packet });
      this.beaconEvent = this.scheduler.at(this.scheduler.now + BEACON_EVERY_S, tick);
    };
    tick();
  }

  async scan(ms: number): Promise<FoundToken[]> {
    this.check();
    const seen = new Map<string, FoundToken>();
    const end = this.scheduler.now + ms / 1000;
    // Look at the air about as often as a passive scan hears an advert.
    for (let t = this.scheduler.now; ; t = Math.min(end, t + 0.1)) {
      this.scheduler.runUntil(t);
      for (const p of this.peers) {
        const a = p.advert();
        if (a && a.connectable) {
          const address = a.address.split(" ")[0];
          seen.set(address, { address, rssi: p.rssi ?? -60 });
        }
      }
      if (t >= end) break;
      // Real time too, so a caller's other work is not starved during a long scan.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return [...seen.values()].sort((a, b) => b.rssi - a.rssi);
  }

  async connect(address: string, _timeoutMs: number): Promise<SyncLink> {
    this.check();
    const peer = this.peers.find((p) => {
      const a = p.advert();
      return a !== null && a.address.split(" ")[0] === address;
    });
    if (!peer)
      throw new ConnectFailedError(
        `Could not connect to the token at ${address}: no token advertises there now (its window closed, or its address changed); scan again.`
      );
    return SimSyncLink.connect(peer.token, { scheduler: this.scheduler, ...this.linkOptions });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.beaconEvent !== null) this.scheduler.cancel(this.beaconEvent);
    this.beaconEvent = null;
  }

  private check(): void {
    if (this.closed) throw new Error("SimTransport used after close()");
  }
}
