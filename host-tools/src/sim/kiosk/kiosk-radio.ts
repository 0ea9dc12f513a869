/**
 * The kiosk's radio in the simulated world: one node on the world's radio
 * medium (world/radio.ts), standing for good at the kiosk's spot, that sends
 * the care home's beacon and scans like any other receiver. So a token hears
 * the beacon only where the kiosk's signal really reaches it (walls, bodies,
 * fading, its own scan windows), and the kiosk finds a token's sync window
 * only where the token's advert reaches the kiosk. Connections are the
 * simulated link (ble/sim-transport.ts) to the emulated token.
 *
 * What is not modelled: a wearer who walks out of range in the middle of a
 * session (a session lasts seconds; the fault specs cut links on purpose),
 * and the connection attempts BlueZ would make to phones (a scan here reports
 * only connectable adverts, as SimTransport does).
 */
import type { FoundToken, SyncLink, Transport } from "../../ble/transport";
import { ConnectFailedError } from "../../ble/errors";
import { SimSyncLink } from "../../ble/sim-transport";
import type { SyncTimer } from "../../sync/wire";
import type { AdvertState, RadioPort } from "../types";
import type { Pose } from "../world/movement";
import type { LiveWorld } from "../world/runner";

/** The kiosk's beacon address: a random static one, the same all run (the beacon names no token). */
export const KIOSK_BEACON_ADDRESS = "c0:ff:ee:00:00:02 random";
const KIOSK_CENTRAL_ADDRESS = "c0:ff:ee:00:00:02 random";
/** A phone's advertising interval (200–270 ms): the beacon is meant to look like one. */
const BEACON_INTERVAL_MS = 250;
/** A USB Bluetooth adapter's usual output. */
const KIOSK_TX_DBM = 0;
/** A token staff hold up to the kiosk. */
const AT_THE_KIOSK_RSSI = -45;
/** The GAEN service every token advert (and the beacon) carries. */
const GAEN = "fd6f";

/** One sync session as the radio saw it: connected until either side ended the link. */
export interface RadioSession {
  person: string;
  address: string;
  start: number;
  end: number;
}

function bare(address: string): string {
  return address.split(" ")[0];
}

/** A link that notes when it ends, so a session's length is known. */
class TimedLink implements SyncLink {
  readonly writeBytes: number;
  readonly timer: SyncTimer;
  private ended = false;

  constructor(
    private readonly inner: SimSyncLink,
    private readonly onEnd: () => void
  ) {
    this.writeBytes = inner.writeBytes;
    this.timer = inner.timer;
    inner.onClose(() => this.end());
  }

  write(bytes: Uint8Array): Promise<void> {
    return this.inner.write(bytes);
  }

  onData(cb: (bytes: Uint8Array) => void): void {
    this.inner.onData(cb);
  }

  onClose(cb: (reason: string) => void): void {
    this.inner.onClose(cb);
  }

  async disconnect(): Promise<void> {
    await this.inner.disconnect();
    this.end();
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnd();
  }
}

export class WorldKioskRadio implements Transport {
  readonly sessions: RadioSession[] = [];
  private readonly port: RadioPort;
  /** Best RSSI per address (as on the air, with its type) heard during the current scan. */
  private readonly heard = new Map<string, number>();
  /** Tokens staff brought to the kiosk, until when. */
  private readonly brought = new Map<string, number>();
  private beaconEvent: number | null = null;
  private closed = false;

  constructor(
    private readonly world: LiveWorld,
    pose: Pose
  ) {
    this.port = world.medium.attach({
      id: "kiosk",
      person: -1,
      fixed: pose,
      txGainDb: 0,
      rxOffsetDb: 0,
      deliver: (a) => {
        const best = this.heard.get(a.address);
        if (best === undefined || a.rssi > best) this.heard.set(a.address, a.rssi);
      }
    });
  }

  /** Staff hold `person`'s token up to the kiosk for `seconds`: found by the next scans whatever the radio says. */
  bring(person: string, seconds: number): void {
    this.brought.set(person, this.world.scheduler.now + seconds);
  }

  private windowOf(person: string): AdvertState | null {
    const a = this.world.advertOf(person);
    return a && a.connectable ? a : null;
  }

  async scan(ms: number): Promise<FoundToken[]> {
    this.check();
    const s = this.world.scheduler;
    this.heard.clear();
    this.port.scanning({ active: false, services: [GAEN] });
    s.runUntil(Math.min(s.now + ms / 1000, Math.max(s.now, this.world.end)));
    this.port.scanning(null);
    const found = new Map<string, FoundToken>();
    for (const person of this.world.tokens.keys()) {
      const w = this.windowOf(person);
      if (!w) continue;
      const address = bare(w.address);
      const rssi = this.heard.get(w.address);
      if (rssi !== undefined) found.set(address, { address, rssi });
      else if ((this.brought.get(person) ?? -Infinity) >= s.now) found.set(address, { address, rssi: AT_THE_KIOSK_RSSI });
    }
    for (const [p, until] of this.brought) if (until < s.now) this.brought.delete(p);
    return [...found.values()].sort((a, b) => b.rssi - a.rssi);
  }

  async connect(address: string, _timeoutMs: number): Promise<SyncLink> {
    this.check();
    for (const [person, token] of this.world.tokens) {
      const w = this.windowOf(person);
      if (!w || bare(w.address) !== address) continue;
      const start = this.world.scheduler.now;
      const inner = SimSyncLink.connect(token, { scheduler: this.world.scheduler, centralAddress: KIOSK_CENTRAL_ADDRESS });
      return new TimedLink(inner, () => this.sessions.push({ person, address, start, end: this.world.scheduler.now }));
    }
    throw new ConnectFailedError(`Could not connect to ${address}: no token advertises a sync window there now; scan again.`);
  }

  /** The link's deadlines run on the world's clock. */
  timerOf(link: SyncLink): SyncTimer | undefined {
    return link instanceof TimedLink ? link.timer : undefined;
  }

  /** On the air through the medium, remade at each minute (a token accepts only the current minute's). */
  async beacon(make: ((unixSeconds: number) => Uint8Array) | null): Promise<void> {
    const s = this.world.scheduler;
    if (this.beaconEvent !== null) s.cancel(this.beaconEvent);
    this.beaconEvent = null;
    if (!make) {
      this.port.advertising(null);
      return;
    }
    const put = (): void => {
      if (this.closed) return;
      this.port.advertising({
        packet: make(Math.floor(s.now)),
        intervalMs: BEACON_INTERVAL_MS,
        address: KIOSK_BEACON_ADDRESS,
        txPowerDbm: KIOSK_TX_DBM,
        connectable: false,
        scannable: false
      });
      this.beaconEvent = s.at((Math.floor(s.now / 60) + 1) * 60, put);
    };
    put();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.beacon(null);
    this.port.scanning(null);
  }

  private check(): void {
    if (this.closed) throw new Error("WorldKioskRadio used after close()");
  }
}
