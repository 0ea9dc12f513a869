import { Message, MessageBus, Variant, interface as dbusInterface } from "dbus-next";
import { AD_SERVICE_DATA_16, forEachAdStructure } from "../../../firmware/src/wire/advert";
import type { PrivateTracerError } from "../errors";

/**
 * The care home's beacon on a BlueZ adapter: an org.bluez.LEAdvertisement1
 * object exported on the transport's bus connection and registered with the
 * adapter's LEAdvertisingManager1 (BlueZ doc/advertising-api.txt,
 * org.bluez.LEAdvertisement(5)).
 *
 * Each minute the advert is unregistered and registered again with the new
 * minute's data, rather than updated with PropertiesChanged:
 * - the API long documented that the properties are read at registration
 *   and later changes ignored, and bluetoothd releases differ on it; those
 *   that act on PropertiesChanged never say whether the controller took the
 *   new data. A registration is answered, so a failure is seen (and retried)
 *   at the minute it happens;
 * - the kernel sends a non-connectable advert from a random address, never
 *   the adapter's own, and makes a new one each time the advert is set up
 *   (unless the adapter's privacy mode, off in BlueZ by default, has it use
 *   its resolvable address): each minute's data goes out from an address of
 *   its own, and no address links one minute's beacon to the next.
 * The cost is a gap of one D-Bus round trip a minute; a token scans for
 * seconds at a time.
 */

export const LE_ADVERTISING_MANAGER = "org.bluez.LEAdvertisingManager1";
export const LE_ADVERTISEMENT = "org.bluez.LEAdvertisement1";

/** The beacon's minute (firmware/src/wire/beacon.ts BEACON_PERIOD_S), in ms. */
const MINUTE_MS = 60_000;
/** A timer may fire a millisecond or so before the clock reaches the boundary it was set for: that is still the new minute. */
const EARLY_MS = 1_000;
/** After a failed refresh (adapter unplugged, bluetoothd restarting): try again this soon rather than leave the beacon off for a minute. */
const RETRY_MS = 5_000;
/** What a phone's GAEN advert uses (200–270 ms): the beacon is heard as often as one, and looks like one. */
const MIN_INTERVAL_MS = 200;
const MAX_INTERVAL_MS = 270;
/** Object paths are local to this bus connection; a fresh one per registration, so a late answer about an old one cannot be mistaken. */
const PATH_PREFIX = "/org/privatetracer/beacon";

/** What BlueZ is asked to advertise, taken apart from a raw packet. */
export interface AdvertContent {
  /** 16-bit service UUIDs as BlueZ takes them ("fd6f"). */
  serviceUuids: string[];
  /** Service data by 16-bit UUID. */
  serviceData: Map<string, Uint8Array>;
}

const AD_FLAGS = 0x01;
const AD_UUID16_SOME = 0x02;
const AD_UUID16_ALL = 0x03;

/**
 * The AD structures of `packet` (kiosk/beacon.ts beaconAdvert) as
 * LEAdvertisement1 properties. Flags are left to bluetoothd: a broadcaster
 * may not claim to be discoverable, and BlueZ refuses an advert that tries.
 * Anything else has no place in the beacon, and BlueZ would have to be given
 * it some other way: it is refused rather than dropped.
 */
export function advertContent(packet: Uint8Array): AdvertContent {
  const out: AdvertContent = { serviceUuids: [], serviceData: new Map() };
  const hex16 = (at: number): string => (packet[at] | (packet[at + 1] << 8)).toString(16).padStart(4, "0");
  forEachAdStructure(packet, (type, start, end) => {
    if (type === AD_FLAGS) return;
    if ((type === AD_UUID16_SOME || type === AD_UUID16_ALL) && (end - start) % 2 === 0) {
      for (let at = start; at < end; at += 2) out.serviceUuids.push(hex16(at));
    } else if (type === AD_SERVICE_DATA_16 && end - start >= 2) {
      out.serviceData.set(hex16(start), packet.slice(start + 2, end));
    } else {
      throw new Error(`the beacon packet has an AD structure of type 0x${type.toString(16)}, which the BlueZ beacon does not send`);
    }
  });
  if (out.serviceData.size === 0) throw new Error("the beacon packet has no service data");
  return out;
}

/** The object BlueZ reads the advert from: non-connectable, no name, no TX power, no appearance, nothing to tell the kiosk by. */
class Advertisement extends dbusInterface.Interface {
  constructor(
    private readonly content: AdvertContent,
    private readonly released: () => void
  ) {
    super(LE_ADVERTISEMENT);
  }

  get Type(): string {
    return "broadcast";
  }

  get ServiceUUIDs(): string[] {
    return this.content.serviceUuids;
  }

  get ServiceData(): Record<string, Variant<Buffer>> {
    const out: Record<string, Variant<Buffer>> = {};
    for (const [uuid, data] of this.content.serviceData) out[uuid] = new Variant("ay", Buffer.from(data));
    return out;
  }

  get MinInterval(): number {
    return MIN_INTERVAL_MS;
  }

  get MaxInterval(): number {
    return MAX_INTERVAL_MS;
  }

  Release(): void {
    this.released();
  }
}

Advertisement.configureMembers({
  properties: {
    Type: { signature: "s", access: "read" },
    ServiceUUIDs: { signature: "as", access: "read" },
    ServiceData: { signature: "a{sv}", access: "read" },
    // Used where the controller has extended advertising; elsewhere bluetoothd ignores them and the kernel's default applies.
    MinInterval: { signature: "u", access: "read" },
    MaxInterval: { signature: "u", access: "read" }
  },
  methods: { Release: { noReply: true } }
});

export interface BeaconDeps {
  bus: MessageBus;
  /** "/org/bluez/hci0" */
  adapterPath: string;
  /** A call to BlueZ, raced against the bus failing and a deadline. */
  call<T>(p: Promise<T>, what: string): Promise<T>;
  /** A BlueZ refusal (or a lost bus) as the error a person can act on; anything else (a bug) as it is. */
  refused(e: unknown): PrivateTracerError | Error;
  /** Unix time in ms. */
  now(): number;
}

/** Keeps one advert registered, remade at each minute boundary, until told to stop. */
export class BluezBeacon {
  private make: ((unixSeconds: number) => Uint8Array) | null = null;
  private current: { path: string; advert: Advertisement } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ops: Promise<void> = Promise.resolve();
  private serial = 0;
  private stopped = false;

  constructor(private readonly deps: BeaconDeps) {}

  /** Puts `make`'s advert on the air now (rejecting with BlueZ's refusal), or takes it off (null). */
  set(make: ((unixSeconds: number) => Uint8Array) | null): Promise<void> {
    return this.queue(async () => {
      this.clearTimer();
      this.make = make;
      if (!make || this.stopped) {
        await this.takeDown();
        return;
      }
      const at = this.deps.now();
      try {
        await this.refresh(at);
      } catch (e) {
        // Refused at the start: off, and said so; retrying behind the caller's back would contradict that.
        this.make = null;
        throw this.deps.refused(e);
      }
      this.schedule(at);
    });
  }

  /** Takes the advert off the air and stops the timer for good. */
  close(): Promise<void> {
    this.stopped = true;
    this.clearTimer();
    return this.queue(async () => {
      // A refresh that was under way when close() was called may have set a timer since.
      this.clearTimer();
      await this.takeDown();
    });
  }

  /** One operation at a time: a minute's refresh must not interleave with set() or close(). */
  private queue(op: () => Promise<void>): Promise<void> {
    const done = this.ops.then(op);
    this.ops = done.catch(() => undefined);
    return done;
  }

  private async refresh(atMs: number): Promise<void> {
    if (!this.make) return;
    const content = advertContent(this.make(Math.floor(atMs / 1000)));
    await this.takeDown();
    const path = `${PATH_PREFIX}${++this.serial}`;
    const advert = new Advertisement(content, () => this.released(path));
    this.deps.bus.export(path, advert);
    try {
      await this.deps.call(this.manager("RegisterAdvertisement", "oa{sv}", [path, {}]), "put the beacon on the air");
    } catch (e) {
      // A registration that timed out may still complete: it must not stay on the air unseen.
      await this.unregister(path);
      this.deps.bus.unexport(path, advert);
      throw e;
    }
    this.current = { path, advert };
  }

  private async takeDown(): Promise<void> {
    const current = this.current;
    if (!current) return;
    this.current = undefined;
    await this.unregister(current.path);
    this.deps.bus.unexport(current.path, current.advert);
  }

  /**
   * Errors are not reported: DoesNotExist means BlueZ dropped it already
   * (Release, a restart), a missing bluetoothd or adapter means nothing is on
   * the air, and anything else ends when this bus connection closes, which
   * bluetoothd watches.
   */
  private async unregister(path: string): Promise<void> {
    await this.deps.call(this.manager("UnregisterAdvertisement", "o", [path]), "take the beacon off the air").catch(() => undefined);
  }

  private manager(member: string, signature: string, body: unknown[]): Promise<Message | null> {
    const msg = new Message({
      destination: "org.bluez",
      path: this.deps.adapterPath,
      interface: LE_ADVERTISING_MANAGER,
      member,
      signature,
      body
    });
    return this.deps.bus.call(msg);
  }

  /** BlueZ removed the advert itself (the adapter went, bluetoothd is stopping): put it back if it will take it. */
  private released(path: string): void {
    const current = this.current;
    if (current?.path !== path) return;
    this.current = undefined;
    this.deps.bus.unexport(path, current.advert);
    if (!this.make || this.stopped) return;
    this.clearTimer();
    void this.queue(() => this.tick(this.deps.now()));
  }

  /** Remakes the advert for the minute of `atMs` and waits for the next boundary; on failure, tries again soon. */
  private async tick(atMs: number): Promise<void> {
    if (!this.make || this.stopped) return;
    try {
      await this.refresh(atMs);
      this.schedule(atMs);
    } catch {
      if (!this.stopped) this.timer = setTimeout(() => this.fire(undefined), RETRY_MS);
    }
  }

  private schedule(fromMs: number): void {
    if (this.stopped) return;
    const boundary = (Math.floor(fromMs / MINUTE_MS) + 1) * MINUTE_MS;
    // Never longer than a minute: a clock set back meanwhile is caught up with at the next tick.
    const delay = Math.min(Math.max(boundary - this.deps.now(), 0), MINUTE_MS);
    this.timer = setTimeout(() => this.fire(boundary), delay);
  }

  private fire(boundary: number | undefined): void {
    this.timer = undefined;
    const now = this.deps.now();
    const at = boundary !== undefined && now < boundary && boundary - now <= EARLY_MS ? boundary : now;
    void this.queue(() => this.tick(at));
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
