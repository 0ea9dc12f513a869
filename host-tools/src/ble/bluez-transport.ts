import type { MessageBus, Variant } from "dbus-next";
import * as NodeBle from "node-ble";
import { PrivateTracerError } from "../errors";
import { BluezBeacon } from "./bluez-beacon";
import { BluezUnavailableError, ConnectFailedError, LinkLostError, NoAdapterError } from "./errors";
import { FoundToken, GAEN_SERVICE, NUS_RX, NUS_SERVICE, NUS_TX, SyncLink, Transport } from "./transport";

/**
 * The real radio: BlueZ (bluetoothd) over the D-Bus system bus, through
 * node-ble, which needs neither root nor a native addon. node-ble connects to
 * the bus dbus-next finds: `DBUS_SYSTEM_BUS_ADDRESS`, else
 * /var/run/dbus/system_bus_socket (the specs point it at a private bus).
 *
 * Three things about node-ble 1.13 / dbus-next 0.10 shape this file:
 * - their calls have no timeouts, and a failed bus connection is reported
 *   only as an 'error' event while calls in flight stay unanswered: every call
 *   is raced against that event and, where it could hang, a deadline;
 * - dbus-next never sends RemoveMatch, so each signal subscription node-ble
 *   makes (one per Device and per characteristic it reads) lasts as long as
 *   the bus connection, and the system bus allows 512 per connection: each
 *   link has a connection of its own, closed with the link, and scans list
 *   devices with one GetManagedObjects call that subscribes to nothing;
 * - node-ble's gatt() reads ServicesResolved and subscribes to its change
 *   only afterwards, so a change in between is missed and gatt() waits
 *   forever: the link waits for it first, subscribed before it reads.
 * Both need node-ble's bus connection, which it keeps as `Bluetooth.dbus`
 * without declaring it; `busOf` fails loudly if a release moves it.
 */

export interface BluezTransportOptions {
  /** Adapter name as `bluetoothctl list` shows it ("hci1"); default: the first one BlueZ has. */
  adapter?: string;
  /** Unix time in ms whose minutes the beacon follows; default Date.now (the specs set the minute's end). */
  clock?: () => number;
}

/** ATT_MTU 23 less its 3-byte header: BlueZ cannot split a write without response, so no write may be longer. */
const WRITE_BYTES = 20;
/** BlueZ answers a local call in milliseconds; this long means bluetoothd or the bus is stuck. */
const BUS_CALL_TIMEOUT_MS = 10_000;
/** bluetoothd queues one ATT write at a time; this long means the link is stalled. */
const WRITE_TIMEOUT_MS = 10_000;
/** A disconnect the token does not acknowledge ends by supervision timeout (a few seconds) at worst. */
const DISCONNECT_TIMEOUT_MS = 6_000;
/** Notifications kept until the sync client registers onData (the token speaks only when spoken to, so few). */
const EARLY_DATA_LIMIT = 64;

const DEFAULT_BUS = "unix:path=/var/run/dbus/system_bus_socket";
const DEVICE = "org.bluez.Device1";
const PRESS_BUTTON = "press and hold its button for 2 s to open its sync window, hold it close to this reader, and try again";

/** Opens the adapter and checks it can scan. Rejects with NoAdapterError or BluezUnavailableError. */
export async function openBluezTransport(options: BluezTransportOptions = {}): Promise<Transport> {
  const session = openSession();
  try {
    const found = await session.call(session.bluetooth.adapters(), "list adapters");
    const names = [...found].sort(byAdapterNumber);
    if (names.length === 0) {
      throw new NoAdapterError(
        "No Bluetooth adapter: BlueZ is running but has none. Plug in a Bluetooth (4.0 or later) adapter, check it with " +
          "`bluetoothctl list`, and unblock it with `rfkill unblock bluetooth` if it is listed as blocked."
      );
    }
    const name = options.adapter ?? names[0];
    if (!names.includes(name)) {
      throw new NoAdapterError(
        `No Bluetooth adapter ${name}: check \`bluetoothctl list\` (BlueZ has ${names.join(", ")}), or leave out --adapter to use ${names[0]}.`
      );
    }
    const adapter = await session.call(session.bluetooth.getAdapter(name), "open the adapter");
    if (!(await session.call(adapter.isPowered(), "read the adapter's power"))) throw poweredOff(name);
    await session.watchBluez();
    return new BluezTransport(session, adapter, name, options.clock ?? Date.now);
  } catch (e) {
    session.destroy();
    throw e instanceof PrivateTracerError ? e : unavailable(e);
  }
}

class BluezTransport implements Transport {
  private readonly links = new Set<BluezLink>();
  private closed = false;
  private beaconer: BluezBeacon | undefined;

  constructor(
    private readonly session: Session,
    private readonly adapter: NodeBle.Adapter,
    private readonly adapterName: string,
    private readonly clock: () => number
  ) {
    // bluetoothd leaving the bus, or this connection failing, ends every link: BlueZ will not say so itself.
    session.onLost((reason) => {
      for (const link of this.links) link.lost(reason);
    });
  }

  async scan(ms: number): Promise<FoundToken[]> {
    this.assertOpen();
    try {
      const ours = await this.startDiscovery();
      try {
        await new Promise((resolve) => setTimeout(resolve, ms));
        // Before StopDiscovery: bluetoothd drops every RSSI when discovery stops.
        return await this.heardTokens();
      } finally {
        if (ours) await this.session.call(this.adapter.stopDiscovery(), "stop the scan").catch(() => undefined);
      }
    } catch (e) {
      throw adapterError(e, this.adapterName);
    }
  }

  /** Starts discovery unless one is running; whether this scan started it (and so stops it). */
  private async startDiscovery(): Promise<boolean> {
    // Another program's discovery (bluetoothctl scan on) serves as well; node-ble refuses to start a second, and
    // stopping it would end theirs, so then this scan neither starts nor stops one.
    if (await this.session.call(this.adapter.isDiscovering(), "read the adapter's state")) return false;
    try {
      await this.session.call(this.adapter.startDiscovery(), "start a scan");
      return true;
    } catch (e) {
      if (errorText(e) === "Discovery already in progress") return false; // started by someone else meanwhile
      throw e;
    }
  }

  private async heardTokens(): Promise<FoundToken[]> {
    const root = await this.session.call(this.session.bus.getProxyObject("org.bluez", "/"), "list devices");
    const list = root.getInterface("org.freedesktop.DBus.ObjectManager").GetManagedObjects() as Promise<ManagedObjects>;
    const objects = await this.session.call(list, "list devices");
    const prefix = `/org/bluez/${this.adapterName}/dev_`;
    const tokens: FoundToken[] = [];
    for (const [objectPath, ifaces] of Object.entries(objects)) {
      const props = ifaces[DEVICE];
      if (!props || !objectPath.startsWith(prefix) || objectPath.includes("/", prefix.length)) continue;
      // No RSSI: a device bluetoothd remembers but did not hear in this scan.
      const rssi = props.RSSI?.value;
      const address = props.Address?.value;
      if (typeof rssi !== "number" || typeof address !== "string") continue;
      if (looksLikeToken(props)) tokens.push({ address: address.toLowerCase(), rssi });
    }
    return tokens.sort((x, y) => y.rssi - x.rssi || (x.address < y.address ? -1 : x.address > y.address ? 1 : 0));
  }

  async connect(address: string, timeoutMs: number): Promise<SyncLink> {
    this.assertOpen();
    const shown = address.toLowerCase();
    const session = openSession();
    let device: NodeBle.Device;
    try {
      const adapter = await session.call(session.bluetooth.getAdapter(this.adapterName), "open the adapter");
      device = await session.call(adapter.getDevice(address.toUpperCase()), "find the token");
    } catch (e) {
      session.destroy();
      if (errorText(e) === "Device not found") {
        throw new ConnectFailedError(
          `Could not connect to the token at ${shown}: Bluetooth has not heard it lately. Scan again; if it is not found, ${PRESS_BUTTON}.`
        );
      }
      throw adapterError(e, this.adapterName);
    }
    const devicePath = `/org/bluez/${this.adapterName}/dev_${address.toUpperCase().replace(/:/g, "_")}`;
    const link = new BluezLink(device, devicePath, shown, session, () => this.links.delete(link));
    this.links.add(link);
    try {
      await withTimeout(link.open(), timeoutMs, () => new LinkTimeout());
      return link;
    } catch (e) {
      // Cancels a connection BlueZ is still making (Disconnect does that), or ends one made too late.
      await link.disconnect();
      if (e instanceof LinkTimeout) {
        throw new ConnectFailedError(
          `Could not connect to the token at ${shown} within ${(timeoutMs / 1000).toFixed(1)} s: it may have closed its sync window ` +
            `or be out of range; ${PRESS_BUTTON}.`
        );
      }
      throw connectError(e, shown, this.adapterName);
    }
  }

  /**
   * The care home's beacon through BlueZ's LEAdvertisingManager1
   * (bluez-beacon.ts). Rejects with BlueZ's refusal, the beacon then off;
   * a later minute that fails is retried, not reported.
   */
  async beacon(make: ((unixSeconds: number) => Uint8Array) | null): Promise<void> {
    if (!make && (this.closed || !this.beaconer)) return;
    this.assertOpen();
    this.beaconer ??= new BluezBeacon({
      bus: this.session.bus,
      adapterPath: `/org/bluez/${this.adapterName}`,
      call: (p, what) => this.session.call(p, what),
      refused: (e) => beaconError(e, this.adapterName),
      now: this.clock
    });
    await this.beaconer.set(make);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Before the bus connection closes: bluetoothd would drop the advert then too, but only once it notices.
    await this.beaconer?.close();
    // bluetoothd keeps a connection after its D-Bus client leaves: end the links first so no token stays connected.
    await Promise.all([...this.links].map((link) => link.disconnect()));
    this.session.destroy();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("BluezTransport used after close()");
  }
}

/** One connection to one token, on a bus connection of its own. Its state moves opening → up → down, never back. */
class BluezLink implements SyncLink {
  readonly writeBytes = WRITE_BYTES;
  private state: "opening" | "up" | "down" = "opening";
  private byUs = false;
  private reason: string | undefined;
  private readonly dataCbs: Array<(bytes: Uint8Array) => void> = [];
  private readonly closeCbs: Array<(reason: string) => void> = [];
  private readonly early: Uint8Array[] = [];
  private writes: Promise<void> = Promise.resolve();
  private ending: Promise<void> | undefined;
  private tx: NodeBle.GattCharacteristic | undefined;
  private rx: NodeBle.GattCharacteristic | undefined;
  private withoutResponse = true;
  /** Rejects open() when the link drops while it is being set up (node-ble would wait for ServicesResolved forever). */
  private failOpen: ((e: Error) => void) | undefined;

  private readonly onDeviceDown = (): void =>
    this.lost("the token ended the link: it closed its sync window, went out of range or was reset");
  private readonly onValue = (value: Buffer): void => this.deliver(new Uint8Array(value));

  constructor(
    private readonly device: NodeBle.Device,
    private readonly devicePath: string,
    private readonly address: string,
    private readonly session: Session,
    private readonly forget: () => void
  ) {
    session.onLost((reason) => this.lost(reason));
  }

  async open(): Promise<void> {
    const dropped = new Promise<never>((_resolve, reject) => (this.failOpen = reject));
    dropped.catch(() => undefined);
    // No deadline per step: Connect waits on the radio, and connect()'s timeout bounds the whole setup.
    const step = <T>(p: Promise<T>): Promise<T> => Promise.race([this.session.guard(p), dropped]);
    // Before Connect: a token that drops the link during setup must not leave open() waiting.
    this.device.on("disconnect", this.onDeviceDown);
    await step(this.device.connect());
    await step(servicesResolved(this.session.bus, this.devicePath));
    const gatt = await step(this.device.gatt());
    const service = await step(gatt.getPrimaryService(NUS_SERVICE));
    this.rx = await step(service.getCharacteristic(NUS_RX));
    this.tx = await step(service.getCharacteristic(NUS_TX));
    // Espruino's NUS RX takes both; without response keeps a 20-byte write to one radio packet and no round trip.
    this.withoutResponse = (await step(this.rx.getFlags())).includes("write-without-response");
    this.tx.on("valuechanged", this.onValue);
    await step(this.tx.startNotifications());
    if (this.state !== "opening") throw new Error("link ended during setup");
    this.state = "up";
    this.failOpen = undefined;
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.state !== "up") return Promise.reject(this.downError());
    const copy = Uint8Array.from(bytes); // the caller may reuse its buffer before the queue reaches these bytes
    const run = async (): Promise<void> => {
      for (let at = 0; at < copy.length; at += WRITE_BYTES) {
        if (this.state !== "up" || !this.rx) throw this.downError();
        const chunk = Buffer.from(copy.subarray(at, at + WRITE_BYTES));
        const sent = this.withoutResponse ? this.rx.writeValueWithoutResponse(chunk) : this.rx.writeValueWithResponse(chunk);
        try {
          await this.session.call(sent, "take a write", WRITE_TIMEOUT_MS);
        } catch (e) {
          if (this.state !== "up") throw this.downError();
          throw new LinkLostError(
            `Could not send to the token at ${this.address} (${errorText(e)}): the link is failing; ${PRESS_BUTTON}.`
          );
        }
      }
    };
    // One write at a time, in call order: chunks of two writes must not interleave.
    const done = this.writes.then(run);
    this.writes = done.catch(() => undefined);
    return done;
  }

  onData(cb: (bytes: Uint8Array) => void): void {
    this.dataCbs.push(cb);
    for (const bytes of this.early.splice(0)) cb(bytes);
  }

  onClose(cb: (reason: string) => void): void {
    this.closeCbs.push(cb);
    const reason = this.reason;
    if (this.state === "down" && !this.byUs && reason !== undefined) queueMicrotask(() => cb(reason));
  }

  disconnect(): Promise<void> {
    if (!this.ending) {
      this.byUs = true;
      const wasConnected = this.state !== "down";
      this.end("disconnected by this reader");
      const down = wasConnected ? this.session.call(this.device.disconnect(), "disconnect", DISCONNECT_TIMEOUT_MS) : Promise.resolve();
      // Closing the link's bus connection only after Disconnect: bluetoothd ends a client's notifications when it leaves.
      this.ending = down.catch(() => undefined).then(() => this.session.destroy());
    }
    return this.ending;
  }

  /** The link went down from the other side (or BlueZ went away): tell the client once. */
  lost(reason: string): void {
    if (this.state === "down") return;
    this.end(reason);
    for (const cb of this.closeCbs) cb(reason);
    if (!this.ending) this.session.destroy();
  }

  private end(reason: string): void {
    this.state = "down";
    this.reason = reason;
    this.device.off("disconnect", this.onDeviceDown);
    this.tx?.off("valuechanged", this.onValue);
    this.forget();
    this.failOpen?.(new ConnectFailedError(`Could not connect to the token at ${this.address}: ${reason}; ${PRESS_BUTTON}.`));
    this.failOpen = undefined;
  }

  private deliver(bytes: Uint8Array): void {
    if (this.state === "down") return;
    if (this.dataCbs.length === 0) {
      if (this.early.length < EARLY_DATA_LIMIT) this.early.push(bytes);
      return;
    }
    for (const cb of this.dataCbs) cb(bytes);
  }

  private downError(): LinkLostError {
    const why = this.byUs ? "this reader disconnected it" : (this.reason ?? "it is not connected");
    return new LinkLostError(`The Bluetooth link to the token at ${this.address} is down (${why}): ${PRESS_BUTTON}.`);
  }
}

/**
 * One node-ble session (one bus connection), watched for the two ways BlueZ
 * can vanish under a live link: the connection fails, or bluetoothd leaves the
 * bus (restart, crash). Neither makes BlueZ report a link down.
 */
class Session {
  readonly bluetooth: NodeBle.Bluetooth;
  readonly bus: MessageBus;
  private readonly failed: Promise<never>;
  private rejectFailed: (e: Error) => void = () => undefined;
  private readonly lostCbs: Array<(reason: string) => void> = [];
  private destroyed = false;

  constructor(private readonly ble: ReturnType<typeof NodeBle.createBluetooth>) {
    this.bluetooth = ble.bluetooth;
    this.bus = busOf(ble.bluetooth);
    this.failed = new Promise<never>((_resolve, reject) => (this.rejectFailed = reject));
    this.failed.catch(() => undefined);
    // Stays attached for the bus's life: dbus-next also emits 'error' after a disconnect, and an EventEmitter
    // 'error' without a listener would end the process.
    this.bus.on("error", (e: unknown) => {
      if (!this.destroyed) this.fail(new BusLost(errorText(e), e), "the connection to BlueZ over D-Bus was lost");
    });
  }

  /** `p`, or the bus failure if that comes first, or a BusLost after `ms` (BlueZ not answering). */
  call<T>(p: Promise<T>, what: string, ms = BUS_CALL_TIMEOUT_MS): Promise<T> {
    return withTimeout(this.guard(p), ms, () => new BusLost(`BlueZ did not answer within ${ms / 1000} s when asked to ${what}`));
  }

  /** `p`, or the bus failure if that comes first; for calls that wait on the radio and have a deadline of their own. */
  guard<T>(p: Promise<T>): Promise<T> {
    return Promise.race([p, this.failed]);
  }

  onLost(cb: (reason: string) => void): void {
    this.lostCbs.push(cb);
  }

  /** Reports org.bluez leaving the bus through onLost. */
  async watchBluez(): Promise<void> {
    const daemon = await this.call(this.bus.getProxyObject("org.freedesktop.DBus", "/org/freedesktop/DBus"), "watch BlueZ");
    daemon.getInterface("org.freedesktop.DBus").on("NameOwnerChanged", (name: string, _old: string, owner: string) => {
      if (name === "org.bluez" && owner === "" && !this.destroyed) this.fail(undefined, "BlueZ (bluetoothd) stopped");
    });
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.ble.destroy();
  }

  private fail(e: Error | undefined, reason: string): void {
    if (e) this.rejectFailed(e);
    for (const cb of this.lostCbs) cb(reason);
  }
}

function openSession(): Session {
  let ble: ReturnType<typeof NodeBle.createBluetooth>;
  try {
    ble = NodeBle.createBluetooth();
  } catch (e) {
    // A malformed DBUS_SYSTEM_BUS_ADDRESS throws here, before any connection.
    throw unavailable(e);
  }
  try {
    return new Session(ble);
  } catch (e) {
    ble.destroy();
    throw e;
  }
}

function busOf(bluetooth: NodeBle.Bluetooth): MessageBus {
  const bus = (bluetooth as unknown as { dbus?: MessageBus }).dbus;
  if (!bus || typeof bus.getProxyObject !== "function") {
    throw new Error("node-ble no longer keeps its D-Bus connection as Bluetooth.dbus: bluez-transport.ts needs updating for this release");
  }
  return bus;
}

/** The bus connection failed (no daemon, refused, closed) or BlueZ stopped answering. */
class BusLost extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = "BusLost";
  }
}

class LinkTimeout extends Error {}

/** GetManagedObjects' answer: object path → interface → property → value. */
type ManagedObjects = Record<string, Record<string, Record<string, Variant<unknown> | undefined>>>;

/**
 * A token in its sync window advertises its GAEN packet (service data and the
 * 16-bit UUID 0xFD6F); with a lost clock it advertises flags only, and then
 * only its GAP name "Token", learnt from a scan response, tells it.
 */
function looksLikeToken(props: Record<string, Variant<unknown> | undefined>): boolean {
  const serviceData = props.ServiceData?.value;
  const uuids = props.UUIDs?.value;
  const gaen = (uuid: string): boolean => uuid.toLowerCase() === GAEN_SERVICE;
  if (serviceData && typeof serviceData === "object" && Object.keys(serviceData).some(gaen)) return true;
  if (Array.isArray(uuids) && uuids.some((u) => typeof u === "string" && gaen(u))) return true;
  return props.Name?.value === "Token";
}

/** Waits for the device's ServicesResolved, subscribed before it reads, so a change cannot slip between the two. */
async function servicesResolved(bus: MessageBus, devicePath: string): Promise<void> {
  const obj = await bus.getProxyObject("org.bluez", devicePath);
  const props = obj.getInterface("org.freedesktop.DBus.Properties");
  await new Promise<void>((resolve, reject) => {
    const finish = (e?: Error): void => {
      props.off("PropertiesChanged", onChange);
      if (e) reject(e);
      else resolve();
    };
    const onChange = (iface: string, changed: Record<string, Variant<unknown>>): void => {
      if (iface !== DEVICE) return;
      if (changed.ServicesResolved?.value === true) finish();
      else if (changed.Connected?.value === false) finish(new Error("the token ended the link before its services were known"));
    };
    props.on("PropertiesChanged", onChange);
    (props.Get(DEVICE, "ServicesResolved") as Promise<Variant<unknown>>).then((v) => v.value === true && finish(), finish);
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, timeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(timeout()), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      }
    );
  });
}

/** hci0, hci1, … hci10: by number, so the default is the adapter BlueZ itself would pick. */
function byAdapterNumber(a: string, b: string): number {
  const n = (s: string): number => Number(/(\d+)$/.exec(s)?.[1] ?? Number.MAX_SAFE_INTEGER);
  return n(a) - n(b) || (a < b ? -1 : a > b ? 1 : 0);
}

function poweredOff(name: string): NoAdapterError {
  return new NoAdapterError(
    `The Bluetooth adapter ${name} is powered off: power it on with \`bluetoothctl power on\` ` +
      "(if that fails, it may be blocked: `rfkill unblock bluetooth`), then try again."
  );
}

/** A failed adapter operation (scan, finding a device) as the error a person can act on. */
function adapterError(e: unknown, adapterName: string): PrivateTracerError {
  if (e instanceof PrivateTracerError) return e;
  const name = dbusErrorName(e);
  if (name === "org.bluez.Error.NotReady") return poweredOff(adapterName);
  if (name === "org.freedesktop.DBus.Error.UnknownObject" || name === "org.freedesktop.DBus.Error.UnknownMethod") {
    return new NoAdapterError(
      `The Bluetooth adapter ${adapterName} has gone (unplugged?): plug it back in, check \`bluetoothctl list\`, and try again.`
    );
  }
  if (name?.startsWith("org.bluez.Error.")) {
    return new NoAdapterError(
      `The Bluetooth adapter ${adapterName} failed (BlueZ: ${errorText(e)}): check it with \`bluetoothctl show\`; unplugging and replugging it often helps.`
    );
  }
  return unavailable(e);
}

/** BlueZ refusing the beacon (beacon()) as the error a person can act on; a bug stays what it is. */
function beaconError(e: unknown, adapterName: string): PrivateTracerError | Error {
  if (e instanceof PrivateTracerError) return e;
  const name = dbusErrorName(e);
  if (name === undefined && !(e instanceof BusLost)) return e instanceof Error ? e : new Error(String(e));
  const text = errorText(e);
  if (name === "org.bluez.Error.NotReady") return poweredOff(adapterName);
  if (name === "org.bluez.Error.NotPermitted") {
    return new NoAdapterError(
      `The Bluetooth adapter ${adapterName} cannot send the care home's beacon: it has no advertising slot free (BlueZ: ${text}). ` +
        "Another program is advertising on it (another kiosk service, or a `bluetoothctl` left with `advertise on`): stop it, " +
        "or give the kiosk a Bluetooth adapter of its own with --adapter."
    );
  }
  if (
    name === "org.freedesktop.DBus.Error.UnknownObject" ||
    name === "org.freedesktop.DBus.Error.UnknownMethod" ||
    name === "org.freedesktop.DBus.Error.UnknownInterface"
  ) {
    return new NoAdapterError(
      `The Bluetooth adapter ${adapterName} cannot send the care home's beacon: BlueZ offers no LE advertising on it. ` +
        "Check it is still plugged in (`bluetoothctl list`) and is a Bluetooth 4.0 (LE) or later adapter; " +
        "an old BlueZ offers LE advertising only when bluetoothd runs with --experimental."
    );
  }
  if (name?.startsWith("org.bluez.Error.")) {
    return new NoAdapterError(
      `The Bluetooth adapter ${adapterName} refused the care home's beacon (BlueZ: ${text}): check with \`bluetoothctl show\` ` +
        "that it is powered, and with `rfkill list` that it is not blocked; unplugging and replugging it often helps."
    );
  }
  return unavailable(e);
}

function connectError(e: unknown, shown: string, adapterName: string): PrivateTracerError {
  if (e instanceof PrivateTracerError) return e;
  const name = dbusErrorName(e);
  if (name === "org.bluez.Error.NotReady") return poweredOff(adapterName);
  if (name === "org.freedesktop.DBus.Error.UnknownObject" || name === "org.freedesktop.DBus.Error.UnknownMethod") {
    // bluetoothd removed the device (not heard for a while) between finding it and connecting.
    return new ConnectFailedError(
      `Could not connect to the token at ${shown}: Bluetooth has not heard it lately. Scan again; if it is not found, ${PRESS_BUTTON}.`
    );
  }
  if (e instanceof BusLost || name?.startsWith("org.freedesktop.DBus.")) return unavailable(e);
  const text = errorText(e);
  if (text === "Service not available" || text === "Characteristic not available") {
    return new ConnectFailedError(
      `The device at ${shown} is not a PrivateTracer token (it has no sync service): it may be a phone or another Bluetooth device ` +
        `nearby. Scan again, or ${PRESS_BUTTON}.`
    );
  }
  return new ConnectFailedError(
    `Could not connect to the token at ${shown} (BlueZ: ${text}): it may have closed its sync window; ${PRESS_BUTTON}.`
  );
}

function unavailable(e: unknown): BluezUnavailableError {
  const busAddress = process.env.DBUS_SYSTEM_BUS_ADDRESS || DEFAULT_BUS;
  const name = dbusErrorName(e);
  const code = systemErrorCode(e instanceof BusLost ? e.cause : e);
  if (name === "org.freedesktop.DBus.Error.AccessDenied") {
    return new BluezUnavailableError(
      `BlueZ refused this user over D-Bus (${errorText(e)}): run as a user in the \`bluetooth\` group ` +
        "(`sudo adduser $USER bluetooth`, then log in again)."
    );
  }
  if (code === "EACCES") {
    return new BluezUnavailableError(
      `No permission to use the D-Bus system bus at ${busAddress}: run as a user allowed to use it (a member of the \`bluetooth\` group).`
    );
  }
  if (code !== undefined) {
    return new BluezUnavailableError(
      `BlueZ is not reachable: there is no D-Bus system bus at ${busAddress} (${code}). ` +
        "BlueZ is reached over the system bus: start both with `sudo systemctl start dbus bluetooth`, then try again."
    );
  }
  return new BluezUnavailableError(
    `BlueZ is not running or not reachable over D-Bus (${errorText(e)}): start it with \`sudo systemctl start bluetooth\`, then try again.`
  );
}

/** The D-Bus error name of a failed call (dbus-next's DBusError carries it as `type`). */
function dbusErrorName(e: unknown): string | undefined {
  const type = (e as { type?: unknown } | null)?.type;
  return typeof type === "string" && type.includes(".") ? type : undefined;
}

function systemErrorCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

function errorText(e: unknown): string {
  if (dbusErrorName(e) !== undefined) {
    const text = (e as { text?: unknown }).text;
    if (typeof text === "string" && text) return text;
  }
  return e instanceof Error ? e.message : String(e);
}
