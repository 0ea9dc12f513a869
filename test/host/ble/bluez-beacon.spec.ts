import { strict as assert } from "node:assert";
import { EventEmitter } from "node:events";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseAdvert } from "../../../firmware/src/wire/advert";
import { beaconData } from "../../../firmware/src/wire/beacon";
import { openBluezTransport } from "../../../host-tools/src/ble/bluez-transport";
import { NoAdapterError } from "../../../host-tools/src/ble/errors";
import { Transport } from "../../../host-tools/src/ble/transport";
import { beaconAdvert } from "../../../host-tools/src/kiosk/beacon";
import { initKioskDir } from "../../../host-tools/src/kiosk/kiosk-dir";
import { ServiceEvent, runKioskService } from "../../../host-tools/src/kiosk/service";
import { useHostCrypto } from "../../../host-tools/src/sync/host-crypto";
import { FakeAdvert, FakeBluez, FakeBluezOptions, startFakeBluez } from "../../helpers/fake-bluez";

/**
 * The kiosk's beacon on the BlueZ transport, against the BlueZ-shaped objects
 * of test/helpers/fake-bluez.ts on a private dbus-daemon: what bluetoothd is
 * asked to put on the air, read back from the transport's advertisement
 * object as bluetoothd reads it, and turned into the advertising data a token
 * would hear. The transport's clock is the spec's: a minute ends when a spec
 * says so, a few milliseconds away. Waits are on what arrives, each bounded.
 */

const HOME_KEY = new Uint8Array(32).fill(0x33);
const make = (unixSeconds: number): Uint8Array => beaconAdvert(HOME_KEY, unixSeconds);
/** A minute in 2025, in Unix minutes. */
const M = 29_000_000;
const BOUND_MS = 5000;

/** The 20 bytes a token of this home expects during `minute` (firmware/src/wire/beacon.ts). */
const beaconOf = (minute: number): Uint8Array => Uint8Array.from(beaconData(useHostCrypto(), HOME_KEY, minute));

/** What a token's scanner takes from the advert: the GAEN service data, RPI ‖ AEM. */
function heard(a: FakeAdvert): Uint8Array {
  const parsed = parseAdvert(a.packet);
  assert.ok(parsed, "a GAEN-shaped advert");
  return Uint8Array.from([...parsed.rpi, ...parsed.aem]);
}

const onAir = (f: FakeBluez): FakeAdvert[] => f.adverts.filter((a) => !a.ended);

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

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  return assert.fail("expected a rejection");
}

describe("BlueZ transport: the kiosk's beacon through LEAdvertisingManager1", function () {
  this.timeout(20_000);
  const savedBus = process.env.DBUS_SYSTEM_BUS_ADDRESS;
  const fakes: FakeBluez[] = [];
  const transports: Transport[] = [];
  /** The transport's clock, Unix ms: still unless a spec moves it. */
  let clockMs = 0;

  async function fake(opts: Partial<FakeBluezOptions> = {}): Promise<FakeBluez> {
    const f = await startFakeBluez({ peripherals: [], ...opts });
    fakes.push(f);
    process.env.DBUS_SYSTEM_BUS_ADDRESS = f.address;
    return f;
  }

  async function open(): Promise<Transport> {
    const t = await openBluezTransport({ clock: () => clockMs });
    transports.push(t);
    return t;
  }

  /** Lets the transport's timers run past the end of the minute the spec set (a few ms away). */
  const pastMinuteEnd = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 200));

  afterEach(async () => {
    try {
      for (const t of transports.splice(0)) await t.close();
    } finally {
      for (const f of fakes.splice(0)) await f.stop();
      if (savedBus === undefined) delete process.env.DBUS_SYSTEM_BUS_ADDRESS;
      else process.env.DBUS_SYSTEM_BUS_ADDRESS = savedBus;
    }
  });

  it("puts the beacon on the air non-connectable, carrying exactly this minute's service data and nothing that names the kiosk", async () => {
    const f = await fake();
    clockMs = M * 60_000 + 20_000;
    const t = await open();
    await t.beacon!(make);
    assert.equal(f.adverts.length, 1);
    const [a] = f.adverts;
    assert.equal(a.ended, undefined, "on the air");
    assert.equal(a.adapter, "hci0");
    assert.equal(a.properties.Type, "broadcast");
    assert.equal(a.connectable, false);
    assert.deepEqual(heard(a), beaconOf(M));
    assert.deepEqual(a.properties.ServiceUUIDs, ["fd6f"]);
    assert.deepEqual(a.properties.ServiceData, { fd6f: beaconOf(M) });
    // Nothing beyond what the packet needs: no name, no TX power, no appearance, no other data.
    assert.deepEqual(Object.keys(a.properties).sort(), ["MaxInterval", "MinInterval", "ServiceData", "ServiceUUIDs", "Type"]);
    // As often as a phone's GAEN advert.
    assert.ok(Number(a.properties.MinInterval) >= 200 && Number(a.properties.MaxInterval) <= 270, JSON.stringify(a.properties));
    assert.deepEqual([...a.packet], [3, 3, 0x6f, 0xfd, 23, 0x16, 0x6f, 0xfd, ...beaconOf(M)]);
  });

  it("changes when the minute does: the next minute's advert replaces this one, never two at once", async () => {
    const f = await fake();
    clockMs = (M + 1) * 60_000 - 30;
    let most = 0;
    f.advertEvents.on("change", () => (most = Math.max(most, onAir(f).length)));
    const t = await open();
    await t.beacon!(make);
    await when(f.advertEvents, "change", () => f.adverts.length === 2 && !f.adverts[1].ended, "the next minute's advert");
    const [first, second] = f.adverts;
    assert.deepEqual(heard(first), beaconOf(M));
    assert.equal(first.ended, "unregistered");
    assert.deepEqual(heard(second), beaconOf(M + 1));
    assert.equal(second.properties.Type, "broadcast");
    assert.equal(most, 1);
    await t.beacon!(null);
    assert.deepEqual(onAir(f), []);
    assert.equal(second.ended, "unregistered");
  });

  it("beacon(null) takes it off the air, and it does not come back when the minute ends", async () => {
    const f = await fake();
    clockMs = (M + 1) * 60_000 - 30;
    const t = await open();
    await t.beacon!(make);
    await t.beacon!(null);
    assert.equal(f.adverts[0].ended, "unregistered");
    await pastMinuteEnd();
    assert.equal(f.adverts.length, 1, "not registered again");
    assert.equal(f.calls.filter((c) => c.startsWith("RegisterAdvertisement")).length, 1);
    await t.beacon!(null);
    // And on again after being off.
    await t.beacon!(make);
    assert.equal(onAir(f).length, 1);
  });

  it("close() takes it off the air itself (not left to bluetoothd noticing the kiosk left) and stops its timer", async () => {
    const f = await fake();
    clockMs = (M + 1) * 60_000 - 30;
    const t = await openBluezTransport({ clock: () => clockMs });
    await t.beacon!(make);
    await t.close();
    assert.equal(f.adverts[0].ended, "unregistered", "unregistered by the kiosk, not dropped when its connection went");
    await pastMinuteEnd();
    assert.equal(f.adverts.length, 1);
    await t.beacon!(null);
    await assert.rejects(t.beacon!(make), /after close/);
  });

  it("BlueZ refusing it (no advertising slot free): NoAdapterError saying why and what to do, nothing left registered", async () => {
    const f = await fake({ advertisingInstances: 0 });
    clockMs = M * 60_000;
    const t = await open();
    const e = await rejection(t.beacon!(make));
    assert.ok(e instanceof NoAdapterError, String(e));
    assert.match(
      e.message,
      /hci0 cannot send the care home's beacon: it has no advertising slot free \(BlueZ: Maximum advertisements reached\)/
    );
    assert.match(e.message, /Another program is advertising on it.*--adapter/);
    assert.deepEqual(f.adverts, []);
    // The transport is still good for syncing, and for turning the beacon off.
    assert.deepEqual(await t.scan(0), []);
    await t.beacon!(null);
  });

  it("an adapter BlueZ cannot advertise on: NoAdapterError saying so", async () => {
    await fake({ leAdvertising: false });
    const t = await open();
    const e = await rejection(t.beacon!(make));
    assert.ok(e instanceof NoAdapterError, String(e));
    assert.match(e.message, /hci0 cannot send the care home's beacon: BlueZ offers no LE advertising on it.*Bluetooth 4\.0/);
  });

  it("bluetoothd dropping the advert (Release) puts it back on the air", async () => {
    const f = await fake();
    clockMs = M * 60_000 + 20_000;
    const t = await open();
    await t.beacon!(make);
    f.releaseAdverts();
    await when(f.advertEvents, "change", () => f.adverts.length === 2 && !f.adverts[1].ended, "the advert registered again");
    assert.equal(f.adverts[0].ended, "released");
    assert.deepEqual(heard(f.adverts[1]), beaconOf(M));
  });

  describe("kiosk serve on the BlueZ transport", () => {
    let root: string;
    before(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), "pt-bluez-beacon-"))));
    after(() => fs.rmSync(root, { recursive: true, force: true }));

    async function serve(dir: string, t: Transport, onPass: () => void = () => undefined): Promise<ServiceEvent[]> {
      const kiosk = initKioskDir(path.join(root, dir));
      kiosk.store.setHomeKey(HOME_KEY);
      const events: ServiceEvent[] = [];
      try {
        await runKioskService({
          kiosk,
          transport: t,
          scanMs: 0,
          pauseMs: 0,
          connectTimeoutMs: 1000,
          passes: 1,
          sleep: async () => undefined,
          onEvent: (e) => {
            events.push(e);
            if (e.kind === "pass") onPass();
          }
        });
      } finally {
        kiosk.store.close();
      }
      return events;
    }

    it("puts the beacon on while it runs and takes it off when it stops", async () => {
      const f = await fake();
      clockMs = M * 60_000 + 20_000;
      const t = await open();
      let duringPass: Uint8Array[] = [];
      const events = await serve("on", t, () => (duringPass = onAir(f).map(heard)));
      assert.deepEqual(
        events.find((e) => e.kind === "beacon"),
        { kind: "beacon", on: true, message: null }
      );
      assert.deepEqual(duringPass, [beaconOf(M)]);
      assert.deepEqual(onAir(f), []);
    });

    it("BlueZ refusing the beacon: the service says it is off and why, and syncs on", async () => {
      await fake({ advertisingInstances: 0 });
      const t = await open();
      const events = await serve("refused", t);
      const beacon = events.find((e): e is Extract<ServiceEvent, { kind: "beacon" }> => e.kind === "beacon");
      assert.ok(beacon && !beacon.on, JSON.stringify(events));
      assert.match(
        beacon.message ?? "",
        /no advertising slot free \(BlueZ: Maximum advertisements reached\).*tokens open their sync window by a press/
      );
      assert.deepEqual(
        events.map((e) => e.kind),
        ["beacon", "pass", "stopped"]
      );
    });
  });
});
