import { strict as assert } from "node:assert";
import { EventEmitter } from "node:events";
import * as os from "node:os";
import * as path from "node:path";
import { systemBus } from "dbus-next";
import { openBluezTransport } from "../../../host-tools/src/ble/bluez-transport";
import { BluezUnavailableError, ConnectFailedError, LinkLostError, NoAdapterError } from "../../../host-tools/src/ble/errors";
import { SyncLink, Transport } from "../../../host-tools/src/ble/transport";
import { FakeBluez, FakeBluezOptions, FakePeripheral, startFakeBluez, startPrivateBus } from "../../helpers/fake-bluez";

/**
 * The BlueZ transport driven through node-ble for real, against a private
 * dbus-daemon on which test/helpers/fake-bluez.ts serves BlueZ-shaped objects.
 * Nothing here sleeps to let the bus settle: specs wait on what arrives, each
 * wait bounded so a lost event fails the spec instead of hanging it. Needs
 * dbus-daemon (Debian's `dbus` package, which .ci/run installs): without it
 * every spec fails saying so.
 */

const GAEN_DATA = Uint8Array.from({ length: 20 }, (_, i) => i);
const BOUND_MS = 5000;

/** A peripheral whose side of each connection the spec scripts, reporting what happens as events. */
class Scripted implements FakePeripheral {
  readonly events = new EventEmitter();
  received: Uint8Array[] = [];
  closedCount = 0;
  notify: (bytes: Uint8Array) => void = () => assert.fail("not connected");
  drop: () => void = () => assert.fail("not connected");

  readonly connectable: boolean;
  readonly name?: string;
  readonly serviceData?: Uint8Array;
  readonly nus: boolean;
  /** What the peripheral does with written bytes, besides recording them. */
  private readonly onWrite: (bytes: Uint8Array, self: Scripted) => void;

  constructor(
    readonly address: string,
    readonly rssi: number | undefined,
    opts: {
      connectable?: boolean;
      name?: string;
      gaen?: boolean;
      nus?: boolean;
      onWrite?: (bytes: Uint8Array, self: Scripted) => void;
    } = {}
  ) {
    this.connectable = opts.connectable ?? true;
    this.name = opts.name;
    this.serviceData = opts.gaen === false ? undefined : GAEN_DATA;
    this.nus = opts.nus ?? true;
    this.onWrite = opts.onWrite ?? (() => undefined);
  }

  accept(notify: (bytes: Uint8Array) => void, drop: () => void): { written(bytes: Uint8Array): void; closed(): void } {
    this.notify = notify;
    this.drop = drop;
    this.events.emit("connected");
    return {
      written: (bytes) => {
        this.received.push(bytes);
        this.onWrite(bytes, this);
        this.events.emit("written");
      },
      closed: () => {
        this.closedCount++;
        this.events.emit("closed");
      }
    };
  }
}

/** Resolves when `ready()` holds, checked after each `event`; fails after BOUND_MS naming `what`. */
function when(emitter: EventEmitter, event: string, ready: () => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (ready()) return resolve();
    const timer = setTimeout(() => {
      emitter.off(event, check);
      reject(new Error(`timed out waiting for ${what}`));
    }, BOUND_MS);
    const check = (): void => {
      if (!ready()) return;
      clearTimeout(timer);
      emitter.off(event, check);
      resolve();
    };
    emitter.on(event, check);
  });
}

/** Everything the link notifies, with an event per notification. */
function collect(link: SyncLink): { chunks: Uint8Array[]; events: EventEmitter; bytes(): Uint8Array } {
  const chunks: Uint8Array[] = [];
  const events = new EventEmitter();
  link.onData((b) => {
    chunks.push(b);
    events.emit("data");
  });
  return { chunks, events, bytes: () => Uint8Array.from(Buffer.concat(chunks)) };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  return assert.fail("expected a rejection");
}

const concat = (parts: Uint8Array[]): Uint8Array => Uint8Array.from(Buffer.concat(parts));
const bytesOf = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

describe("BlueZ transport: node-ble against BlueZ-shaped objects on a private D-Bus", function () {
  this.timeout(20_000);
  const savedBus = process.env.DBUS_SYSTEM_BUS_ADDRESS;
  const fakes: FakeBluez[] = [];
  const transports: Transport[] = [];

  async function fake(opts: FakeBluezOptions): Promise<FakeBluez> {
    const f = await startFakeBluez(opts);
    fakes.push(f);
    process.env.DBUS_SYSTEM_BUS_ADDRESS = f.address;
    return f;
  }

  async function open(adapter?: string): Promise<Transport> {
    const t = await openBluezTransport({ adapter });
    transports.push(t);
    return t;
  }

  /** A transport whose adapter has heard the peripherals: BlueZ knows a device only once a scan heard it. */
  async function openAndHear(): Promise<Transport> {
    const t = await open();
    await t.scan(20);
    return t;
  }

  afterEach(async () => {
    try {
      for (const t of transports.splice(0)) await t.close();
    } finally {
      // The daemons go even when a close fails, so a failing spec leaves no process behind.
      for (const f of fakes.splice(0)) await f.stop();
      if (savedBus === undefined) delete process.env.DBUS_SYSTEM_BUS_ADDRESS;
      else process.env.DBUS_SYSTEM_BUS_ADDRESS = savedBus;
    }
  });

  describe("scan", () => {
    it("finds tokens in their window, strongest first, and stops its discovery", async () => {
      const f = await fake({
        peripherals: [
          new Scripted("C1:00:00:00:00:01", -70),
          new Scripted("C1:00:00:00:00:02", -40),
          // Lost clock: flags only in the window, known by its GAP name.
          new Scripted("C1:00:00:00:00:03", -55, { name: "Token", gaen: false }),
          // A headset: neither GAEN nor the token's name.
          new Scripted("C1:00:00:00:00:04", -30, { name: "Headset", gaen: false }),
          // Remembered from an earlier scan, not heard now: no RSSI.
          new Scripted("C1:00:00:00:00:05", undefined)
        ]
      });
      const t = await open();
      const found = await t.scan(100);
      assert.deepEqual(found, [
        { address: "c1:00:00:00:00:02", rssi: -40 },
        { address: "c1:00:00:00:00:03", rssi: -55 },
        { address: "c1:00:00:00:00:01", rssi: -70 }
      ]);
      assert.deepEqual(
        f.calls.filter((c) => /Discovery/.test(c)),
        ["SetDiscoveryFilter hci0", "StartDiscovery hci0", "StopDiscovery hci0"]
      );
      // A second scan works too (discovery was really stopped: BlueZ refuses a second StartDiscovery from one client).
      assert.equal((await t.scan(50)).length, 3);
    });

    it("uses another program's discovery without starting or stopping one", async () => {
      const f = await fake({ peripherals: [new Scripted("C1:00:00:00:00:01", -60)] });
      const other = systemBus();
      other.on("error", () => undefined);
      try {
        const adapter = (await other.getProxyObject("org.bluez", "/org/bluez/hci0")).getInterface("org.bluez.Adapter1");
        await adapter.StartDiscovery();
        const t = await open();
        assert.deepEqual(await t.scan(50), [{ address: "c1:00:00:00:00:01", rssi: -60 }]);
        assert.deepEqual(
          f.calls.filter((c) => /Discovery/.test(c)),
          ["StartDiscovery hci0"]
        );
      } finally {
        other.disconnect();
      }
    });
  });

  describe("a link", () => {
    it("splits a write into ≤ 20-byte writes without response that arrive in order, one write() after another", async () => {
      const p = new Scripted("C1:00:00:00:00:01", -50);
      const f = await fake({ peripherals: [p] });
      const t = await openAndHear();
      const link = await t.connect("c1:00:00:00:00:01", 5000);
      assert.equal(link.writeBytes, 20);
      const a = bytesOf(45, 1);
      const b = bytesOf(33, 2);
      const c = bytesOf(3, 3);
      // Not awaited one by one: the chunks of concurrent writes must not interleave.
      await Promise.all([link.write(a), link.write(b), link.write(c)]);
      assert.deepEqual(
        f.writes.map((w) => w.bytes.length),
        [20, 20, 5, 20, 13, 3]
      );
      assert.ok(f.writes.every((w) => w.type === "command" && w.address === "C1:00:00:00:00:01"));
      assert.deepEqual(concat(p.received), concat([a, b, c]));
      await link.write(new Uint8Array(0));
      assert.equal(f.writes.length, 6, "an empty write sends nothing");
    });

    it("hands notifications to onData in order", async () => {
      const p = new Scripted("C1:00:00:00:00:01", -50);
      await fake({ peripherals: [p] });
      const t = await openAndHear();
      const link = await t.connect("C1:00:00:00:00:01", 5000);
      const got = collect(link);
      const sent = Array.from({ length: 12 }, (_, i) => bytesOf(1 + ((i * 5) % 20), i));
      for (const s of sent) p.notify(s);
      await when(got.events, "data", () => got.chunks.length === sent.length, "12 notifications");
      assert.deepEqual(got.chunks, sent);
    });

    it("round-trips a framed exchange of several hundred bytes with a scripted peripheral", async () => {
      // Frames as the sync protocol carries them (LEN ‖ body) over a byte stream: the peripheral reassembles
      // each frame from ≤ 20-byte writes and answers it with the body reversed and prefixed by its number,
      // notified in pieces of ≤ 20 bytes.
      let pending: Uint8Array = new Uint8Array(0);
      let answered = 0;
      const answer = (bytes: Uint8Array, self: Scripted): void => {
        pending = concat([pending, bytes]);
        while (pending.length > 0 && pending.length >= 1 + pending[0]) {
          const body = pending.subarray(1, 1 + pending[0]);
          pending = pending.slice(1 + pending[0]);
          const reply = concat([Uint8Array.of(body.length + 1, answered++), Uint8Array.from(body).reverse()]);
          for (let at = 0; at < reply.length; at += 20) self.notify(reply.subarray(at, at + 20));
        }
      };
      const p = new Scripted("C1:00:00:00:00:01", -50, { onWrite: answer });
      await fake({ peripherals: [p] });
      const t = await openAndHear();
      const link = await t.connect("c1:00:00:00:00:01", 5000);
      const got = collect(link);
      const bodies = [18, 1, 126, 40, 77, 19, 20, 21, 100].map((n, i) => bytesOf(n, 10 + i));
      const expected = concat(bodies.map((body, i) => concat([Uint8Array.of(body.length + 1, i), Uint8Array.from(body).reverse()])));
      // One request at a time, as the sync client does: send a frame, wait for its answer.
      let want = 0;
      for (const body of bodies) {
        await link.write(concat([Uint8Array.of(body.length), body]));
        want += body.length + 2;
        await when(got.events, "data", () => got.bytes().length >= want, `the answer to frame of ${body.length} bytes`);
      }
      assert.ok(expected.length > 400 && concat(p.received).length > 400, "several hundred bytes each way");
      assert.deepEqual(got.bytes(), expected);
      assert.ok(got.chunks.every((c) => c.length <= 20));
    });

    it("reports the token dropping the link once, and then refuses writes with LinkLostError", async () => {
      const p = new Scripted("C1:00:00:00:00:01", -50);
      const f = await fake({ peripherals: [p] });
      const t = await openAndHear();
      const link = await t.connect("c1:00:00:00:00:01", 5000);
      const reasons: string[] = [];
      const closed = new EventEmitter();
      link.onClose((r) => {
        reasons.push(r);
        closed.emit("close");
      });
      p.drop();
      await when(closed, "close", () => reasons.length > 0, "onClose");
      // A callback registered after the link went down still hears of it, once.
      const late: string[] = [];
      link.onClose((r) => {
        late.push(r);
        closed.emit("close");
      });
      await when(closed, "close", () => late.length > 0, "a late onClose");
      const e = await rejection(link.write(bytesOf(5, 0)));
      assert.ok(e instanceof LinkLostError, String(e));
      assert.match(e.message, /c1:00:00:00:00:01.*down/);
      await link.disconnect();
      // A bus round trip after the drop: any late signal about the link has been handled by now.
      await t.scan(0);
      assert.equal(reasons.length, 1, "onClose once");
      assert.deepEqual(late, reasons);
      assert.match(reasons[0], /token ended the link/);
      assert.equal(p.closedCount, 0, "the peripheral dropped it: nothing to tell it");
      assert.ok(!f.calls.includes("Disconnect C1:00:00:00:00:01"), "no Disconnect for a link already down");
      assert.equal(f.writes.length, 0);
    });

    it("disconnect() ends the link without calling onClose, and is safe twice", async () => {
      const p = new Scripted("C1:00:00:00:00:01", -50);
      const f = await fake({ peripherals: [p] });
      const t = await openAndHear();
      const link = await t.connect("c1:00:00:00:00:01", 5000);
      let closes = 0;
      link.onClose(() => closes++);
      await link.write(bytesOf(3, 0));
      await Promise.all([link.disconnect(), link.disconnect()]);
      await link.disconnect();
      assert.equal(p.closedCount, 1);
      assert.equal(f.calls.filter((c) => c === "Disconnect C1:00:00:00:00:01").length, 1);
      assert.ok((await rejection(link.write(bytesOf(3, 0)))) instanceof LinkLostError);
      await t.scan(0);
      assert.equal(closes, 0);
      // The token can be connected again.
      const again = await t.connect("c1:00:00:00:00:01", 5000);
      await again.write(bytesOf(3, 1));
      assert.equal(p.received.length, 2);
    });

    it("close() disconnects the links still open, so no token stays connected", async () => {
      const p = new Scripted("C1:00:00:00:00:01", -50);
      await fake({ peripherals: [p] });
      const t = await openBluezTransport({});
      await t.scan(20);
      await t.connect("c1:00:00:00:00:01", 5000);
      await t.close();
      await t.close();
      assert.equal(p.closedCount, 1);
    });

    it("a kiosk's day: many scans and syncs on one transport stay within the bus's signal-subscription limit", async () => {
      // dbus-next never sends RemoveMatch, so every signal subscription lasts as long as its bus connection; the
      // system bus allows 512 per connection. Here the limit is 40 and a day is 25 scans and 25 syncs.
      const echo = (bytes: Uint8Array, self: Scripted): void => self.notify(bytes);
      const peripherals = Array.from({ length: 5 }, (_, i) => new Scripted(`C1:00:00:00:00:0${i + 1}`, -50 - i, { onWrite: echo }));
      await fake({ peripherals, maxMatchRules: 40 });
      const t = await open();
      for (let round = 0; round < 25; round++) {
        const found = await t.scan(5);
        assert.equal(found.length, 5, `round ${round}: scan`);
        const link = await t.connect(found[round % 5].address, 5000);
        const got = collect(link);
        await link.write(Uint8Array.of(round));
        await when(got.events, "data", () => got.chunks.length === 1, `round ${round}: the echo`);
        assert.deepEqual(got.chunks, [Uint8Array.of(round)]);
        await link.disconnect();
      }
    });

    it("reports bluetoothd stopping under a live link", async () => {
      const p = new Scripted("C1:00:00:00:00:01", -50);
      const f = await fake({ peripherals: [p] });
      const t = await openAndHear();
      const link = await t.connect("c1:00:00:00:00:01", 5000);
      const reasons: string[] = [];
      const closed = new EventEmitter();
      link.onClose((r) => {
        reasons.push(r);
        closed.emit("close");
      });
      await f.stopBluez();
      await when(closed, "close", () => reasons.length > 0, "onClose after bluetoothd left");
      assert.deepEqual(reasons, ["BlueZ (bluetoothd) stopped"]);
      assert.ok((await rejection(link.write(bytesOf(3, 0)))) instanceof LinkLostError);
      const e = await rejection(t.scan(10));
      assert.ok(e instanceof BluezUnavailableError, String(e));
    });
  });

  describe("connect failures", () => {
    it("a token that does not answer (not connectable): ConnectFailedError, within the timeout", async () => {
      const p = new Scripted("C1:00:00:00:00:01", -50, { connectable: false });
      await fake({ peripherals: [p], connectFailMs: 200 });
      const t = await openAndHear();
      const started = Date.now();
      const e = await rejection(t.connect("c1:00:00:00:00:01", 3000));
      assert.ok(e instanceof ConnectFailedError, String(e));
      assert.ok(Date.now() - started < 3000);
      assert.match(e.message, /c1:00:00:00:00:01.*le-connection-abort-by-local.*sync window.*press and hold its button for 2 s/);
      assert.equal(p.events.listenerCount("connected"), 0);
    });

    it("BlueZ still trying when the timeout ends: ConnectFailedError at the timeout, and the attempt is cancelled", async () => {
      const p = new Scripted("C1:00:00:00:00:01", -50, { connectable: false });
      const f = await fake({ peripherals: [p], connectFailMs: 10_000 });
      const t = await openAndHear();
      const started = Date.now();
      const e = await rejection(t.connect("c1:00:00:00:00:01", 300));
      const took = Date.now() - started;
      assert.ok(e instanceof ConnectFailedError, String(e));
      assert.match(e.message, /within 0\.3 s/);
      assert.ok(took >= 290 && took < 2000, `took ${took} ms`);
      assert.deepEqual(
        f.calls.filter((c) => c.endsWith("C1:00:00:00:00:01")),
        ["Connect C1:00:00:00:00:01", "Disconnect C1:00:00:00:00:01"]
      );
    });

    it("a device without the sync service (a phone): ConnectFailedError, and the link is ended", async () => {
      const p = new Scripted("C1:00:00:00:00:01", -50, { nus: false });
      const f = await fake({ peripherals: [p] });
      const t = await openAndHear();
      const e = await rejection(t.connect("c1:00:00:00:00:01", 3000));
      assert.ok(e instanceof ConnectFailedError, String(e));
      assert.match(e.message, /not a PrivateTracer token/);
      assert.ok(f.calls.includes("Disconnect C1:00:00:00:00:01"));
      assert.equal(p.closedCount, 1);
    });

    it("an address BlueZ does not know: ConnectFailedError saying to scan again", async () => {
      await fake({ peripherals: [] });
      const t = await open();
      const e = await rejection(t.connect("c1:00:00:00:00:09", 3000));
      assert.ok(e instanceof ConnectFailedError, String(e));
      assert.match(e.message, /Scan again/);
    });
  });

  describe("adapters and BlueZ", () => {
    it("no adapter named → the first one; a named adapter missing → NoAdapterError naming it", async () => {
      const f = await fake({ adapters: ["hci1", "hci0"], peripherals: [new Scripted("C1:00:00:00:00:01", -50)] });
      await (await open()).scan(0);
      await (await open("hci1")).scan(0);
      assert.deepEqual(
        f.calls.filter((c) => c.startsWith("StartDiscovery")),
        ["StartDiscovery hci0", "StartDiscovery hci1"]
      );
      const e = await rejection(openBluezTransport({ adapter: "hci2" }));
      assert.ok(e instanceof NoAdapterError, String(e));
      assert.match(e.message, /No Bluetooth adapter hci2: check `bluetoothctl list` \(BlueZ has hci0, hci1\)/);
    });

    it("no adapter at all → NoAdapterError", async () => {
      await fake({ adapters: [], peripherals: [] });
      const e = await rejection(openBluezTransport({}));
      assert.ok(e instanceof NoAdapterError, String(e));
      assert.match(e.message, /No Bluetooth adapter/);
    });

    it("adapter powered off → NoAdapterError saying how to power it on", async () => {
      await fake({ powered: false, peripherals: [] });
      const e = await rejection(openBluezTransport({}));
      assert.ok(e instanceof NoAdapterError, String(e));
      assert.match(e.message, /hci0 is powered off.*`bluetoothctl power on`/);
    });

    it("a bus without org.bluez → BluezUnavailableError saying to start bluetoothd", async () => {
      const bus = await startPrivateBus();
      try {
        process.env.DBUS_SYSTEM_BUS_ADDRESS = bus.address;
        const e = await rejection(openBluezTransport({}));
        assert.ok(e instanceof BluezUnavailableError, String(e));
        assert.match(e.message, /BlueZ is not running or not reachable over D-Bus.*systemctl start bluetooth/);
      } finally {
        await bus.stop();
      }
    });

    it("no D-Bus daemon at all → BluezUnavailableError", async () => {
      process.env.DBUS_SYSTEM_BUS_ADDRESS = `unix:path=${path.join(os.tmpdir(), `pt-no-bus-${process.pid}`, "socket")}`;
      const started = Date.now();
      const e = await rejection(openBluezTransport({}));
      assert.ok(e instanceof BluezUnavailableError, String(e));
      assert.match(e.message, /no D-Bus system bus at unix:path=.*pt-no-bus-.*ENOENT.*systemctl start dbus bluetooth/);
      assert.ok(Date.now() - started < 2000);
    });
  });
});
