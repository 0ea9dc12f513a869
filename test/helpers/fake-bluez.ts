import { ChildProcess, spawn } from "node:child_process";
import { EventEmitter } from "node:events";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DBusError, Message, MessageBus, MessageFlag, Variant, sessionBus } from "dbus-next";

/**
 * BlueZ as a D-Bus client sees it, without a radio: a private `dbus-daemon`
 * (Debian's `dbus` package) and, on it, the name `org.bluez` serving objects
 * shaped like bluetoothd's (ObjectManager at `/`, AgentManager1, Adapter1,
 * Device1, GattService1, GattCharacteristic1), so the real node-ble code path
 * of `bluez-transport.ts` runs against it unchanged: point
 * `DBUS_SYSTEM_BUS_ADDRESS` at `address` (or use `env`).
 *
 * What it copies from bluetoothd (5.66, Debian 12's), because node-ble or the
 * transport depends on it:
 * - node-ble finds adapters, devices, services and characteristics by
 *   introspecting child nodes, so every object is reachable that way (and
 *   through GetManagedObjects / InterfacesAdded, which the transport's scan uses);
 * - StartDiscovery "hears" the advertising peripherals (InterfacesAdded, or an
 *   RSSI update for a device already known); StopDiscovery invalidates every
 *   RSSI, as bluetoothd does, so a device without RSSI is one not heard now;
 * - Connect sets Connected, replies, then exports the GATT objects and only
 *   after that sets ServicesResolved (bluetoothd versions differ on whether
 *   the reply comes before or after; this order is the one that makes a
 *   client wait); disconnecting reverses it;
 * - errors carry bluetoothd's names and texts (org.bluez.Error.Failed
 *   "le-connection-abort-by-local" for a peripheral that never answers, "Not
 *   connected" for a write on a dead link, NotReady when powered off);
 * - RegisterAdvertisement reads the client's LEAdvertisement1 object back
 *   over the bus (GetAll) before it answers, keeps the advert until
 *   UnregisterAdvertisement or until the client leaves the bus, and answers
 *   NotPermitted "Maximum advertisements reached" when every instance is
 *   taken.
 * Time only passes where bluetoothd would wait on the radio (`connectFailMs`);
 * everything else happens in order on the bus, so specs wait on signals.
 */

/** The GATT layout every connectable fake peripheral serves: the Nordic UART service, as a token does. */
const NUS_SERVICE = "6e400001-b5a3-f393-e0a9-e50e24dcca9e";
const NUS_RX = "6e400002-b5a3-f393-e0a9-e50e24dcca9e";
const NUS_TX = "6e400003-b5a3-f393-e0a9-e50e24dcca9e";
const GAEN_SERVICE = "0000fd6f-0000-1000-8000-00805f9b34fb";
/** ATT_MTU 23 less the 3-byte header: what one write without response can carry. */
const ATT_PAYLOAD = 20;

/**
 * One device within radio range. The lead's emulated token can stand behind
 * it: `accept` is the token's side of a connection.
 */
export interface FakePeripheral {
  /** "C1:22:33:44:55:66"; BlueZ spells it in upper case, the fake keeps what it is given for the object path. */
  address: string;
  /** Strength of its adverts, dBm. Absent: a device BlueZ remembers from an earlier scan but does not hear now (no RSSI property). */
  rssi?: number;
  /** GAP name, when the advert or scan response carries one ("Token"). */
  name?: string;
  /** GAEN service data (RPI ‖ AEM): BlueZ shows it under ServiceData["0000fd6f-…"] and adds GAEN to UUIDs. */
  serviceData?: Uint8Array;
  /** False: Connect fails after `connectFailMs` the way BlueZ does when nobody answers (an advert that is not connectable). */
  connectable: boolean;
  /** False: it connects but has no Nordic UART service (a phone, a headset). Default true. */
  nus?: boolean;
  /**
   * A central connected. `notify` sends a notification on the TX
   * characteristic (dropped, as on the air, while the central has not
   * subscribed); `drop` ends the link from the peripheral's side. Returns what
   * the peripheral does with bytes the central wrote to RX (one call per ATT
   * write, in order) and with a disconnect the central asked for (`closed` is
   * not called after `drop`).
   */
  accept(notify: (bytes: Uint8Array) => void, drop: () => void): { written(bytes: Uint8Array): void; closed(): void };
}

export interface FakeBluezOptions {
  /** Adapter names, first is the default; [] for a machine with none. Default ["hci0"]. */
  adapters?: string[];
  peripherals: FakePeripheral[];
  /** Adapter power; false makes StartDiscovery and Connect fail with NotReady. Default true. */
  powered?: boolean;
  /** How long Connect to a non-connectable peripheral takes to fail. Default 300 ms (bluetoothd's is seconds). */
  connectFailMs?: number;
  /** Signal subscriptions (AddMatch) the bus allows each connection. Default 512, the system bus's. */
  maxMatchRules?: number;
  /** Advertising instances each adapter has (the kernel gives a controller without extended advertising 5). 0: none free. */
  advertisingInstances?: number;
  /** False: the adapters have no LEAdvertisingManager1 (a BR/EDR-only adapter, or an old BlueZ without --experimental). */
  leAdvertising?: boolean;
}

/** An advert a client registered, as bluetoothd read it. */
export interface FakeAdvert {
  adapter: string;
  /** The registering client's unique bus name. */
  owner: string;
  path: string;
  /** Its LEAdvertisement1 properties as read at registration, Variants unwrapped and byte arrays as Uint8Array. */
  properties: Record<string, unknown>;
  /** Type "peripheral": a central may connect to it. */
  connectable: boolean;
  /**
   * The advertising data the controller would send: the 16-bit and 128-bit
   * service UUID lists, then service data, then manufacturer data. No flags:
   * bluetoothd writes none for a broadcast advert on a dual-mode adapter.
   */
  packet: Uint8Array;
  /** Absent while it is on the air. */
  ended?: "unregistered" | "client left" | "released" | "bluez stopped";
}

/** One write that reached a peripheral's RX characteristic. */
export interface FakeWrite {
  address: string;
  bytes: Uint8Array;
  /** The WriteValue "type" option: "command" (without response), "request" or "reliable". */
  type: string;
}

export interface FakeBluez {
  /** The private bus's address (for DBUS_SYSTEM_BUS_ADDRESS). */
  address: string;
  /** process.env with DBUS_SYSTEM_BUS_ADDRESS pointing at the private bus. */
  env: NodeJS.ProcessEnv;
  /** Every method a client called on org.bluez, as "Member path-or-address", in order; for specs that check what was asked. */
  calls: string[];
  /** Every write that reached a peripheral, in order. */
  writes: FakeWrite[];
  /** Every advert ever registered, in order; those without `ended` are on the air. */
  adverts: FakeAdvert[];
  /** Emits "change" after each registration and each end of an advert. */
  advertEvents: EventEmitter;
  /** bluetoothd removes every advert itself (as when the adapter goes) and calls each one's Release. */
  releaseAdverts(): void;
  /** bluetoothd exits: org.bluez leaves the bus (the daemon stays up). */
  stopBluez(): Promise<void>;
  /** Stops the daemon and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

export interface PrivateBus {
  address: string;
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/** Where Debian's `dbus` package puts the daemon; PATH is searched first. */
const DEBIAN_DBUS_DAEMON = "/usr/bin/dbus-daemon";

function findDbusDaemon(): string {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, "dbus-daemon");
    if (dir && fs.existsSync(candidate)) return candidate;
  }
  if (fs.existsSync(DEBIAN_DBUS_DAEMON)) return DEBIAN_DBUS_DAEMON;
  throw new Error(
    "dbus-daemon not found (on PATH or at /usr/bin/dbus-daemon): the BlueZ transport specs need it to run a private bus. " +
      "Install Debian's `dbus` package (`apt-get install dbus`); .ci/run installs it before `make test`."
  );
}

/**
 * Everything allowed for everyone: the bus exists only for one spec and only this user reaches its socket. The
 * match-rule limit is the system bus's (dbus-daemon's built-in 512) unless a spec lowers it.
 */
function busConfig(socket: string, maxMatchRules: number): string {
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <limit name="max_match_rules_per_connection">${maxMatchRules}</limit>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
`;
}

/** Daemons still running, killed if the process exits without a spec's `after` hook (an interrupted run). */
const running = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const child of running) child.kill("SIGKILL");
    for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  });
}

/** A `dbus-daemon` of its own in a temporary directory, ready when this resolves. */
export async function startPrivateBus(opts: { maxMatchRules?: number } = {}): Promise<PrivateBus> {
  const daemon = findDbusDaemon();
  installExitHook();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pt-bus-"));
  tempDirs.add(dir);
  const config = path.join(dir, "bus.conf");
  fs.writeFileSync(config, busConfig(path.join(dir, "bus.sock"), opts.maxMatchRules ?? 512));
  const child = spawn(daemon, [`--config-file=${config}`, "--nofork", "--nopidfile", "--print-address=1"], {
    stdio: ["ignore", "pipe", "pipe"]
  });
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  exited.then(() => running.delete(child));

  const cleanUp = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 2000);
      await exited;
      clearTimeout(killer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
    tempDirs.delete(dir);
  };

  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  try {
    const address = await new Promise<string>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => reject(new Error(`dbus-daemon printed no address within 10 s: ${stderr}`)), 10_000);
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        const nl = out.indexOf("\n");
        if (nl >= 0) {
          clearTimeout(timer);
          resolve(out.slice(0, nl).trim());
        }
      });
      child.once("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`dbus-daemon exited (${code ?? signal}) before it was ready: ${stderr}`));
      });
    });
    return { address, env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: address }, stop: cleanUp };
  } catch (e) {
    await cleanUp();
    throw e;
  }
}

// ---------------------------------------------------------------------------
// A small object model: paths → interfaces → properties and methods, served
// through one method handler so properties can be absent (RSSI), replies can
// be late (Connect) and errors carry BlueZ's names.

type Args = unknown[];

interface Method {
  in: string;
  out: string;
  /** Resolves with the reply body; throws or rejects with a DBusError for an error reply. */
  call(args: Args, msg: Message): Args | Promise<Args>;
}

interface Iface {
  /** Every property the interface may have, with its signature (introspection lists them even when absent). */
  sigs: Record<string, string>;
  /** Current values; a property without a value here is absent, as RSSI is for a device not heard. */
  values: Map<string, unknown>;
  methods: Record<string, Method>;
  signals?: Record<string, string>;
}

const PROPS = "org.freedesktop.DBus.Properties";
const OBJECT_MANAGER = "org.freedesktop.DBus.ObjectManager";
const INTROSPECTABLE = "org.freedesktop.DBus.Introspectable";

/** What bluetoothd answers when a method is called on a property-only interface or an unsupported operation. */
const notSupported = (): never => {
  throw new DBusError("org.bluez.Error.NotSupported", "Operation is not supported");
};

class ObjectTree {
  readonly objects = new Map<string, Map<string, Iface>>();

  constructor(private readonly bus: MessageBus) {}

  add(objPath: string, ifaces: Record<string, Iface>): void {
    const map = new Map(Object.entries(ifaces));
    this.objects.set(objPath, map);
    this.signal("/", OBJECT_MANAGER, "InterfacesAdded", "oa{sa{sv}}", [objPath, this.dump(map)]);
  }

  remove(objPath: string): void {
    const map = this.objects.get(objPath);
    if (!map) return;
    this.objects.delete(objPath);
    this.signal("/", OBJECT_MANAGER, "InterfacesRemoved", "oas", [objPath, [...map.keys()]]);
  }

  /** Sets (or, with undefined, removes) properties and sends one PropertiesChanged, as bluetoothd does per change. */
  set(objPath: string, ifaceName: string, changes: Record<string, unknown>): void {
    const iface = this.objects.get(objPath)?.get(ifaceName);
    if (!iface) return;
    const changed: Record<string, Variant> = {};
    const invalidated: string[] = [];
    for (const [name, value] of Object.entries(changes)) {
      if (value === undefined) {
        if (iface.values.delete(name)) invalidated.push(name);
      } else {
        iface.values.set(name, value);
        changed[name] = new Variant(iface.sigs[name], value);
      }
    }
    if (Object.keys(changed).length > 0 || invalidated.length > 0) {
      this.signal(objPath, PROPS, "PropertiesChanged", "sa{sv}as", [ifaceName, changed, invalidated]);
    }
  }

  get(objPath: string, ifaceName: string, name: string): unknown {
    return this.objects.get(objPath)?.get(ifaceName)?.values.get(name);
  }

  signal(objPath: string, iface: string, member: string, sig: string, body: Args): void {
    this.bus.send(Message.newSignal(objPath, iface, member, sig, body));
  }

  private dump(map: Map<string, Iface>): Record<string, Record<string, Variant>> {
    const out: Record<string, Record<string, Variant>> = {};
    for (const [name, iface] of map) out[name] = this.dumpIface(iface);
    return out;
  }

  private dumpIface(iface: Iface): Record<string, Variant> {
    const out: Record<string, Variant> = {};
    for (const [name, value] of iface.values) out[name] = new Variant(iface.sigs[name], value);
    return out;
  }

  /** Handles every method call to this connection; returns false for ones the tree does not know (dbus-next answers UnknownMethod). */
  handle(msg: Message): boolean {
    const reply = (sig: string, body: Args): void => this.bus.send(Message.newMethodReturn(msg, sig, body));
    const fail = (e: unknown): void => {
      const err = e instanceof DBusError ? e : new DBusError("org.bluez.Error.Failed", e instanceof Error ? e.message : String(e));
      this.bus.send(newError(msg, err.type, err.text));
    };
    const obj = this.objects.get(msg.path);

    if (msg.interface === INTROSPECTABLE && msg.member === "Introspect") {
      reply("s", [this.introspect(msg.path)]);
      return true;
    }
    if (msg.path === "/" && msg.interface === OBJECT_MANAGER && msg.member === "GetManagedObjects") {
      const all: Record<string, Record<string, Record<string, Variant>>> = {};
      for (const [p, map] of this.objects) all[p] = this.dump(map);
      reply("a{oa{sa{sv}}}", [all]);
      return true;
    }
    if (msg.interface === PROPS && obj) {
      const [ifaceName, propName] = msg.body as [string, string];
      const iface = obj.get(ifaceName);
      if (!iface) {
        fail(new DBusError("org.freedesktop.DBus.Error.InvalidArgs", `No such interface '${ifaceName}'`));
      } else if (msg.member === "GetAll") {
        reply("a{sv}", [this.dumpIface(iface)]);
      } else if (msg.member === "Get") {
        if (!iface.values.has(propName))
          fail(new DBusError("org.freedesktop.DBus.Error.InvalidArgs", "No such property '" + propName + "'"));
        else reply("v", [new Variant(iface.sigs[propName], iface.values.get(propName))]);
      } else if (msg.member === "Set") {
        // Only Powered is writable in this fake; bluetoothd allows a few more (Alias, Discoverable…) that nothing here uses.
        const value = (msg.body as [string, string, Variant])[2];
        if (ifaceName === "org.bluez.Adapter1" && propName === "Powered" && value.signature === "b") {
          this.set(msg.path, ifaceName, { Powered: value.value });
          reply("", []);
        } else {
          fail(new DBusError("org.bluez.Error.NotSupported", "Operation is not supported"));
        }
      } else {
        return false;
      }
      return true;
    }
    const method = obj?.get(msg.interface)?.methods[msg.member];
    if (!method) return false;
    if ((msg.signature ?? "") !== method.in) {
      fail(new DBusError("org.freedesktop.DBus.Error.InvalidArgs", `Invalid arguments in method call: expected '${method.in}'`));
      return true;
    }
    try {
      Promise.resolve(method.call(msg.body, msg)).then((body) => reply(method.out, body), fail);
    } catch (e) {
      fail(e);
    }
    return true;
  }

  private introspect(objPath: string): string {
    const lines = [
      '<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">',
      "<node>",
      `<interface name="${INTROSPECTABLE}"><method name="Introspect"><arg name="xml" type="s" direction="out"/></method></interface>`
    ];
    const obj = this.objects.get(objPath);
    if (obj || objPath === "/") {
      lines.push(
        `<interface name="${PROPS}">`,
        '<method name="Get"><arg name="interface" type="s" direction="in"/><arg name="name" type="s" direction="in"/><arg name="value" type="v" direction="out"/></method>',
        '<method name="Set"><arg name="interface" type="s" direction="in"/><arg name="name" type="s" direction="in"/><arg name="value" type="v" direction="in"/></method>',
        '<method name="GetAll"><arg name="interface" type="s" direction="in"/><arg name="properties" type="a{sv}" direction="out"/></method>',
        '<signal name="PropertiesChanged"><arg name="interface" type="s"/><arg name="changed_properties" type="a{sv}"/><arg name="invalidated_properties" type="as"/></signal>',
        "</interface>"
      );
    }
    if (objPath === "/") {
      lines.push(
        `<interface name="${OBJECT_MANAGER}">`,
        '<method name="GetManagedObjects"><arg name="objects" type="a{oa{sa{sv}}}" direction="out"/></method>',
        '<signal name="InterfacesAdded"><arg name="object" type="o"/><arg name="interfaces" type="a{sa{sv}}"/></signal>',
        '<signal name="InterfacesRemoved"><arg name="object" type="o"/><arg name="interfaces" type="as"/></signal>',
        "</interface>"
      );
    }
    for (const [name, iface] of obj ?? []) {
      lines.push(`<interface name="${name}">`);
      for (const [m, def] of Object.entries(iface.methods)) {
        lines.push(`<method name="${m}">${argsXml(def.in, "in")}${argsXml(def.out, "out")}</method>`);
      }
      for (const [s, sig] of Object.entries(iface.signals ?? {})) lines.push(`<signal name="${s}">${argsXml(sig)}</signal>`);
      for (const [p, sig] of Object.entries(iface.sigs)) lines.push(`<property name="${p}" type="${sig}" access="read"/>`);
      lines.push("</interface>");
    }
    const prefix = objPath === "/" ? "/" : objPath + "/";
    const children = new Set<string>();
    for (const p of this.objects.keys()) {
      if (p.startsWith(prefix) && p !== objPath) children.add(p.slice(prefix.length).split("/")[0]);
    }
    for (const c of children) lines.push(`<node name="${c}"/>`);
    lines.push("</node>");
    return lines.join("\n");
  }
}

// dbus-next's typings declare newError's first parameter as a string; it takes the call being answered.
const newError = Message.newError as unknown as (msg: Message, name: string, text: string) => Message;

/** Splits a D-Bus signature into its complete types ("sa{sv}" → ["s", "a{sv}"]) for introspection arguments. */
function splitSignature(sig: string): string[] {
  const out: string[] = [];
  let i = 0;
  const one = (): void => {
    const c = sig[i++];
    if (c === "a") one();
    else if (c === "(" || c === "{") {
      const close = c === "(" ? ")" : "}";
      while (sig[i] !== close) one();
      i++;
    }
  };
  while (i < sig.length) {
    const start = i;
    one();
    out.push(sig.slice(start, i));
  }
  return out;
}

function argsXml(sig: string, direction?: "in" | "out"): string {
  return splitSignature(sig)
    .map((t) => `<arg type="${t}"${direction ? ` direction="${direction}"` : ""}/>`)
    .join("");
}

function iface(sigs: Record<string, string>, values: Record<string, unknown>, methods: Record<string, Method> = {}): Iface {
  return { sigs, values: new Map(Object.entries(values).filter(([, v]) => v !== undefined)), methods };
}

const noop: Method = { in: "", out: "", call: () => [] };

// ---------------------------------------------------------------------------

const DEVICE = "org.bluez.Device1";
const ADAPTER = "org.bluez.Adapter1";
const CHAR = "org.bluez.GattCharacteristic1";
const ADVERTISING = "org.bluez.LEAdvertisingManager1";
const ADVERTISEMENT = "org.bluez.LEAdvertisement1";
/** Legacy advertising data: bluetoothd refuses more. */
const MAX_ADV_BYTES = 31;
/** The Bluetooth base UUID a 16-bit UUID stands for: 0000xxxx-0000-1000-8000-00805f9b34fb. */
const BASE_UUID = /^0000([0-9a-f]{4})-0000-1000-8000-00805f9b34fb$/;

/** Variants unwrapped and byte arrays as Uint8Array, for specs to compare. */
function unwrap(v: unknown): unknown {
  if (v instanceof Variant) return unwrap(v.value);
  if (v instanceof Uint8Array) return Uint8Array.from(v);
  if (Array.isArray(v)) return v.map(unwrap);
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrap(x)]));
  return v;
}

/** What bluetoothd answers when it cannot make an advert of the properties. */
const unparsable = (): DBusError => new DBusError("org.bluez.Error.Failed", "Failed to parse advertisement.");

/** A UUID as bluetoothd takes it ("fd6f", "0xfd6f" or 128-bit), as the little-endian bytes of its shortest form. */
function uuidBytes(uuid: string): Uint8Array {
  const u = uuid.toLowerCase().replace(/^0x/, "");
  const short = /^[0-9a-f]{4}$/.test(u) ? u : BASE_UUID.exec(u)?.[1];
  if (short) return Uint8Array.of(parseInt(short.slice(2), 16), parseInt(short.slice(0, 2), 16));
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(u)) throw unparsable();
  return Uint8Array.from(Buffer.from(u.replace(/-/g, ""), "hex")).reverse();
}

/** The advertising data bluetoothd would build of an advert's properties (see FakeAdvert.packet), or its refusal. */
function advertPacket(props: Record<string, unknown>): Uint8Array {
  const type = props.Type ?? "broadcast";
  if (type !== "broadcast" && type !== "peripheral") throw unparsable();
  // A broadcaster may not claim to be discoverable (Core Specification Vol 3 Part C): bluetoothd refuses it.
  if (type === "broadcast" && props.Discoverable === true) throw unparsable();
  const parts: number[][] = [];
  const uuids = (props.ServiceUUIDs ?? []) as unknown[];
  if (!Array.isArray(uuids) || !uuids.every((u): u is string => typeof u === "string")) throw unparsable();
  const bytes = uuids.map(uuidBytes);
  const short = bytes.filter((b) => b.length === 2);
  const long = bytes.filter((b) => b.length === 16);
  if (short.length) parts.push([0x03, ...short.flatMap((b) => [...b])]);
  if (long.length) parts.push([0x07, ...long.flatMap((b) => [...b])]);
  const dataOf = (v: unknown): Uint8Array => {
    if (!(v instanceof Uint8Array)) throw unparsable();
    return v;
  };
  for (const [uuid, data] of Object.entries((props.ServiceData ?? {}) as Record<string, unknown>)) {
    const u = uuidBytes(uuid);
    parts.push([u.length === 2 ? 0x16 : 0x21, ...u, ...dataOf(data)]);
  }
  for (const [company, data] of Object.entries((props.ManufacturerData ?? {}) as Record<string, unknown>)) {
    parts.push([0xff, Number(company) & 0xff, Number(company) >> 8, ...dataOf(data)]);
  }
  const packet = Uint8Array.from(parts.flatMap((p) => [p.length, ...p]));
  if (packet.length > MAX_ADV_BYTES) throw unparsable();
  return packet;
}

/** Serves BlueZ-shaped objects for `opts` on a private bus. Always `stop()` it (an `after` hook), even when a spec fails. */
export async function startFakeBluez(opts: FakeBluezOptions): Promise<FakeBluez> {
  const privateBus = await startPrivateBus({ maxMatchRules: opts.maxMatchRules });
  const calls: string[] = [];
  const writes: FakeWrite[] = [];
  const connectFailMs = opts.connectFailMs ?? 300;
  const adverts: FakeAdvert[] = [];
  const advertEvents = new EventEmitter();
  const endAdvert = (a: FakeAdvert, how: NonNullable<FakeAdvert["ended"]>): void => {
    a.ended = how;
    advertEvents.emit("change");
  };
  const timers = new Set<NodeJS.Timeout>();
  let bus: MessageBus | undefined;
  let bluezUp = false;

  const stopBluez = async (): Promise<void> => {
    for (const t of timers) clearTimeout(t);
    timers.clear();
    if (!bus || !bluezUp) return;
    bluezUp = false;
    for (const a of adverts) if (!a.ended) endAdvert(a, "bluez stopped");
    const b = bus;
    // The name goes with the connection, as when bluetoothd exits; waiting for the socket to close makes
    // NameOwnerChanged precede whatever the spec does next.
    await new Promise<void>((resolve) => {
      const stream = (b as unknown as { _connection: { stream: NodeJS.EventEmitter } })._connection.stream;
      stream.once("close", () => resolve());
      b.disconnect();
    });
  };
  const stop = async (): Promise<void> => {
    await stopBluez();
    await privateBus.stop();
  };

  try {
    bus = sessionBus({ busAddress: privateBus.address });
    // A closed connection later reports errors here; the fake has nothing to do about them.
    bus.on("error", () => undefined);
    const tree = new ObjectTree(bus);
    bus.addMethodHandler((msg: Message) => tree.handle(msg));
    const fakeBus = bus;

    // bluetoothd watches each advertising client and drops its adverts when it leaves the bus.
    const daemon = await bus.getProxyObject("org.freedesktop.DBus", "/org/freedesktop/DBus");
    daemon.getInterface("org.freedesktop.DBus").on("NameOwnerChanged", (name: string, _old: string, owner: string) => {
      if (owner !== "") return;
      for (const a of adverts) if (!a.ended && a.owner === name) endAdvert(a, "client left");
    });

    const releaseAdverts = (): void => {
      for (const a of adverts) {
        if (a.ended) continue;
        endAdvert(a, "released");
        fakeBus.send(
          new Message({
            destination: a.owner,
            path: a.path,
            interface: ADVERTISEMENT,
            member: "Release",
            flags: MessageFlag.NO_REPLY_EXPECTED
          })
        );
      }
    };

    tree.add("/org/bluez", {
      "org.bluez.AgentManager1": iface(
        {},
        {},
        { RegisterAgent: { ...noop, in: "os" }, UnregisterAgent: { ...noop, in: "o" }, RequestDefaultAgent: { ...noop, in: "o" } }
      )
    });

    const adapters = opts.adapters ?? ["hci0"];
    adapters.forEach((name, index) => serveAdapter(name, index));

    function serveAdapter(name: string, index: number): void {
      const adapterPath = `/org/bluez/${name}`;
      const devicePath = (p: FakePeripheral): string => `${adapterPath}/dev_${p.address.toUpperCase().replace(/:/g, "_")}`;
      let discovering = false;

      const isPowered = (): boolean => tree.get(adapterPath, ADAPTER, "Powered") === true;
      const notReady = (): DBusError => new DBusError("org.bluez.Error.NotReady", "Resource Not Ready");

      const instances = opts.advertisingInstances ?? 5;
      const onAir = (): FakeAdvert[] => adverts.filter((a) => a.adapter === name && !a.ended);
      const countInstances = (): void => {
        tree.set(adapterPath, ADVERTISING, { ActiveInstances: onAir().length, SupportedInstances: instances - onAir().length });
      };
      advertEvents.on("change", countInstances);

      async function registerAdvertisement(args: Args, msg: Message): Promise<Args> {
        const [advPath] = args as [string, Record<string, Variant>];
        const owner = msg.sender;
        calls.push(`RegisterAdvertisement ${name}`);
        if (onAir().some((a) => a.owner === owner && a.path === advPath))
          throw new DBusError("org.bluez.Error.AlreadyExists", "Already Exists");
        if (onAir().length >= instances) throw new DBusError("org.bluez.Error.NotPermitted", "Maximum advertisements reached");
        let read: Message | null;
        try {
          read = await fakeBus.call(
            new Message({ destination: owner, path: advPath, interface: PROPS, member: "GetAll", signature: "s", body: [ADVERTISEMENT] })
          );
        } catch {
          throw unparsable();
        }
        const properties = unwrap(read?.body[0] ?? {}) as Record<string, unknown>;
        if (Object.keys(properties).length === 0) throw unparsable();
        const packet = advertPacket(properties);
        adverts.push({ adapter: name, owner, path: advPath, properties, connectable: properties.Type === "peripheral", packet });
        advertEvents.emit("change");
        return [];
      }

      function unregisterAdvertisement(args: Args, msg: Message): Args {
        const [advPath] = args as [string];
        calls.push(`UnregisterAdvertisement ${name}`);
        const a = onAir().find((x) => x.owner === msg.sender && x.path === advPath);
        if (!a) throw new DBusError("org.bluez.Error.DoesNotExist", "Does Not Exist");
        endAdvert(a, "unregistered");
        return [];
      }

      const advertising: Record<string, Iface> =
        opts.leAdvertising === false
          ? {}
          : {
              [ADVERTISING]: iface(
                { ActiveInstances: "y", SupportedInstances: "y", SupportedIncludes: "as" },
                { ActiveInstances: 0, SupportedInstances: instances, SupportedIncludes: ["tx-power", "appearance", "local-name"] },
                {
                  RegisterAdvertisement: { in: "oa{sv}", out: "", call: registerAdvertisement },
                  UnregisterAdvertisement: { in: "o", out: "", call: unregisterAdvertisement }
                }
              )
            };

      tree.add(adapterPath, {
        ...advertising,
        [ADAPTER]: iface(
          {
            Address: "s",
            AddressType: "s",
            Name: "s",
            Alias: "s",
            Class: "u",
            Powered: "b",
            Discoverable: "b",
            Pairable: "b",
            Discovering: "b",
            UUIDs: "as"
          },
          {
            Address: `00:1A:7D:DA:71:${(0x10 + index).toString(16).toUpperCase()}`,
            AddressType: "public",
            Name: "kiosk",
            Alias: "kiosk",
            Class: 0,
            Powered: opts.powered ?? true,
            Discoverable: false,
            Pairable: false,
            Discovering: false,
            UUIDs: []
          },
          {
            SetDiscoveryFilter: {
              in: "a{sv}",
              out: "",
              call: () => {
                calls.push(`SetDiscoveryFilter ${name}`);
                return [];
              }
            },
            StartDiscovery: {
              in: "",
              out: "",
              call: () => {
                calls.push(`StartDiscovery ${name}`);
                if (!isPowered()) throw notReady();
                if (discovering) throw new DBusError("org.bluez.Error.InProgress", "Operation already in progress");
                discovering = true;
                tree.set(adapterPath, ADAPTER, { Discovering: true });
                // Adverts are heard after the reply, as the radio hears them after the scan starts.
                setImmediate(() => {
                  if (!discovering) return;
                  for (const p of opts.peripherals) if (p.rssi !== undefined) heard(p);
                });
                return [];
              }
            },
            StopDiscovery: {
              in: "",
              out: "",
              call: () => {
                calls.push(`StopDiscovery ${name}`);
                if (!discovering) throw new DBusError("org.bluez.Error.Failed", "No discovery started");
                discovering = false;
                tree.set(adapterPath, ADAPTER, { Discovering: false });
                for (const p of opts.peripherals) tree.set(devicePath(p), DEVICE, { RSSI: undefined });
                return [];
              }
            },
            RemoveDevice: { in: "o", out: "", call: notSupported },
            GetDiscoveryFilters: { in: "", out: "as", call: () => [["UUIDs", "RSSI", "Pathloss", "Transport", "DuplicateData"]] }
          }
        )
      });

      // A device BlueZ remembers but does not hear now: present, with no RSSI.
      for (const p of opts.peripherals) if (p.rssi === undefined) serveDevice(p);

      function heard(p: FakePeripheral): void {
        if (tree.objects.has(devicePath(p))) tree.set(devicePath(p), DEVICE, { RSSI: p.rssi });
        else serveDevice(p);
      }

      function serveDevice(p: FakePeripheral): void {
        const dev = devicePath(p);
        const address = p.address.toUpperCase();
        const serviceData = p.serviceData ? { [GAEN_SERVICE]: new Variant("ay", Buffer.from(p.serviceData)) } : undefined;
        let link: { written(bytes: Uint8Array): void; closed(): void } | undefined;
        let current: object | undefined;
        /** A Connect in progress to a peripheral that will not answer: Disconnect cancels it, as in bluetoothd. */
        let pending: { timer: NodeJS.Timeout; reject(e: DBusError): void } | undefined;
        const connected = (): boolean => tree.get(dev, DEVICE, "Connected") === true;
        const notConnected = (): DBusError => new DBusError("org.bluez.Error.Failed", "Not connected");
        const svc = `${dev}/service000c`;
        const rx = `${svc}/char000d`;
        const tx = `${svc}/char000f`;

        tree.add(dev, {
          [DEVICE]: iface(
            {
              Address: "s",
              AddressType: "s",
              Name: "s",
              Alias: "s",
              Paired: "b",
              Bonded: "b",
              Trusted: "b",
              Blocked: "b",
              LegacyPairing: "b",
              Connected: "b",
              ServicesResolved: "b",
              RSSI: "n",
              ServiceData: "a{sv}",
              UUIDs: "as",
              Adapter: "o"
            },
            {
              Address: address,
              AddressType: "random",
              Name: p.name,
              Alias: p.name ?? address.replace(/:/g, "-"),
              Paired: false,
              Bonded: false,
              Trusted: false,
              Blocked: false,
              LegacyPairing: false,
              Connected: false,
              ServicesResolved: false,
              RSSI: p.rssi,
              ServiceData: serviceData,
              UUIDs: p.serviceData ? [GAEN_SERVICE] : [],
              Adapter: adapterPath
            },
            {
              Connect: { in: "", out: "", call: () => connect() },
              Disconnect: { in: "", out: "", call: () => disconnect() },
              Pair: { in: "", out: "", call: notSupported },
              CancelPair: { in: "", out: "", call: notSupported },
              ConnectProfile: { in: "s", out: "", call: notSupported },
              DisconnectProfile: { in: "s", out: "", call: notSupported }
            }
          )
        });

        async function connect(): Promise<Args> {
          calls.push(`Connect ${address}`);
          if (!isPowered()) throw notReady();
          if (connected()) return [];
          if (pending) throw new DBusError("org.bluez.Error.InProgress", "In Progress");
          if (!p.connectable) {
            return new Promise<Args>((_resolve, reject) => {
              const timer = setTimeout(() => {
                timers.delete(timer);
                pending = undefined;
                reject(new DBusError("org.bluez.Error.Failed", "le-connection-abort-by-local"));
              }, connectFailMs);
              timers.add(timer);
              pending = { timer, reject };
            });
          }
          tree.set(dev, DEVICE, { Connected: true });
          // Each connection is its own session: a late notify or drop from an earlier one must not touch this one.
          const session = {};
          current = session;
          link = p.accept(
            (bytes) => {
              if (current === session && tree.get(tx, CHAR, "Notifying") === true) tree.set(tx, CHAR, { Value: Buffer.from(bytes) });
            },
            () => {
              if (current === session) tearDown();
            }
          );
          // GATT discovery finishes after Connect has returned; ServicesResolved comes last.
          setImmediate(() => {
            if (!connected()) return;
            if (p.nus !== false) serveGatt();
            tree.set(dev, DEVICE, { ServicesResolved: true });
          });
          return [];
        }

        function disconnect(): Args {
          calls.push(`Disconnect ${address}`);
          if (pending) {
            clearTimeout(pending.timer);
            timers.delete(pending.timer);
            pending.reject(new DBusError("org.bluez.Error.Failed", "Operation was cancelled"));
            pending = undefined;
            return [];
          }
          if (!connected()) throw new DBusError("org.bluez.Error.NotConnected", "Not Connected");
          const session = link;
          tearDown();
          session?.closed();
          return [];
        }

        function tearDown(): void {
          link = undefined;
          current = undefined;
          tree.set(dev, DEVICE, { ServicesResolved: false });
          tree.set(dev, DEVICE, { Connected: false });
          tree.remove(tx);
          tree.remove(rx);
          tree.remove(svc);
        }

        function serveGatt(): void {
          tree.add(svc, {
            "org.bluez.GattService1": iface(
              { UUID: "s", Primary: "b", Device: "o", Includes: "ao" },
              { UUID: NUS_SERVICE, Primary: true, Device: dev, Includes: [] }
            )
          });
          const charSigs = { UUID: "s", Service: "o", Value: "ay", Flags: "as", Notifying: "b", MTU: "q" };
          tree.add(rx, {
            [CHAR]: iface(
              charSigs,
              { UUID: NUS_RX, Service: svc, Value: Buffer.alloc(0), Flags: ["write-without-response", "write"], MTU: ATT_PAYLOAD + 3 },
              {
                ReadValue: { in: "a{sv}", out: "ay", call: notSupported },
                WriteValue: {
                  in: "aya{sv}",
                  out: "",
                  call: (args) => {
                    const [value, options] = args as [Buffer, Record<string, Variant>];
                    const type = options.type?.value ?? "";
                    calls.push(`WriteValue ${address}`);
                    if (!connected() || !link) throw notConnected();
                    // bluetoothd cannot split a write without response; a longer "request" goes out as a long write.
                    if (type === "command" && value.length > ATT_PAYLOAD)
                      throw new DBusError("org.bluez.Error.Failed", "Failed to initiate write");
                    const bytes = new Uint8Array(value);
                    writes.push({ address, bytes, type });
                    link.written(bytes);
                    return [];
                  }
                },
                StartNotify: { in: "", out: "", call: notSupported },
                StopNotify: { in: "", out: "", call: notSupported }
              }
            )
          });
          tree.add(tx, {
            [CHAR]: iface(
              charSigs,
              { UUID: NUS_TX, Service: svc, Value: Buffer.alloc(0), Flags: ["notify"], Notifying: false, MTU: ATT_PAYLOAD + 3 },
              {
                ReadValue: { in: "a{sv}", out: "ay", call: notSupported },
                WriteValue: { in: "aya{sv}", out: "", call: notSupported },
                StartNotify: {
                  in: "",
                  out: "",
                  call: () => {
                    calls.push(`StartNotify ${address}`);
                    if (!connected()) throw notConnected();
                    tree.set(tx, CHAR, { Notifying: true });
                    return [];
                  }
                },
                StopNotify: {
                  in: "",
                  out: "",
                  call: () => {
                    calls.push(`StopNotify ${address}`);
                    if (!connected()) throw notConnected();
                    tree.set(tx, CHAR, { Notifying: false });
                    return [];
                  }
                }
              }
            )
          });
        }
      }
    }

    const reply = await bus.requestName("org.bluez", 0);
    if (reply !== 1) throw new Error(`the fake could not own org.bluez on its private bus (RequestName answered ${reply})`);
    bluezUp = true;
    return { address: privateBus.address, env: privateBus.env, calls, writes, adverts, advertEvents, releaseAdverts, stopBluez, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
