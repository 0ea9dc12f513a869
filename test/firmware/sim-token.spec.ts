import { strict as assert } from "node:assert";
import { loadBoard } from "../../host-tools/src/build/boards";
import { DriftingClock } from "../../host-tools/src/sim/clock";
import { EventScheduler } from "../../host-tools/src/sim/scheduler";
import { createEmulatedToken } from "../../host-tools/src/sim/espruino";
import { RecordingCentral, RecordingRadio } from "../sim/espruino/helpers";
import { buildAdvert } from "../../firmware/src/wire/advert";
import { decodeSegment, firstFreeSlot, utcBase } from "../../firmware/src/wire/log-record";
import { TEST_BUILD_TIME, testBundle } from "../helpers/firmware";
import { HCI_REMOTE_USER_TERMINATED } from "../../host-tools/src/sim/types";

const BUILD = TEST_BUILD_TIME;

/** The real puckjs bundle on the Espruino emulation, with its clock at `local` when true time is 1000. */
function boot(code: string, local: number, seed = 1) {
  const scheduler = new EventScheduler(1000);
  const clock = new DriftingClock({ driftPpm: 0, startTrue: 1000, startLocal: local });
  const radio = new RecordingRadio();
  const token = createEmulatedToken({ id: "t1", board: loadBoard("puckjs"), bundle: code, scheduler, clock, radio, seed });
  token.boot();
  return { token, scheduler, radio };
}

function logRecords(token: ReturnType<typeof boot>["token"]): { prefix: string; time: number | null }[] {
  const names = token.storage
    .list()
    .filter((n) => n.startsWith("pt.log"))
    .sort((a, b) => parseInt(a.slice(6), 10) - parseInt(b.slice(6), 10));
  const out: { prefix: string; time: number | null }[] = [];
  for (const n of names) {
    const b0 = token.storage.read(n);
    if (!b0) continue; // a name torn by a cut inside Espruino's file header lists but does not read
    const d = decodeSegment(b0);
    if (!d) continue;
    const b = utcBase(d.header);
    for (const r of d.records) out.push({ prefix: Buffer.from(r.rpiPrefix).toString("hex"), time: b === null ? null : b + r.minute * 60 });
  }
  return out;
}

describe("sim: the shipped token firmware on the Espruino emulation", function () {
  let code = "";
  before(async function () {
    this.timeout(120_000);
    code = (await testBundle("puckjs")).code;
  });

  it("puts the exact GAEN packet on the air, non-connectable, and changes address and RPI together over a day", () => {
    const r = boot(code, BUILD + 10 * 86400);
    r.scheduler.runUntil(1000 + 86400);
    assert.deepEqual(
      r.token.uncaught.map((e) => e.message),
      []
    );
    const states = r.radio.adverts.filter((a) => a && a.packet.length === 31);
    assert.ok(states.length >= 72, `${states.length} advert states`);
    for (const a of states) {
      assert.equal(Buffer.from(a!.packet.subarray(0, 11)).toString("hex"), "02011a03036ffd17166ffd");
      assert.equal(a!.connectable, false);
      assert.equal(a!.scannable, false);
      assert.match(a!.address, /^[c-f][0-9a-f](:[0-9a-f]{2}){5} random$/);
    }
    // every distinct packet has exactly one address, every address one packet
    const byPacket = new Map<string, Set<string>>();
    const byAddress = new Map<string, Set<string>>();
    for (const a of states) {
      const p = Buffer.from(a!.packet).toString("hex");
      (byPacket.get(p) ?? byPacket.set(p, new Set()).get(p)!).add(a!.address);
      (byAddress.get(a!.address) ?? byAddress.set(a!.address, new Set()).get(a!.address)!).add(p);
    }
    assert.ok(byPacket.size >= 72 && byPacket.size <= 145, `${byPacket.size} identifiers a day`);
    for (const s of byPacket.values()) assert.equal(s.size, 1);
    for (const s of byAddress.values()) assert.equal(s.size, 1);
  });

  it("logs a nearby phone heard during its scans into flash, and not a far one below the logging floor", () => {
    const r = boot(code, BUILD + 86400);
    const s = loadBoard("puckjs").schedule;
    const pkt = buildAdvert(new Uint8Array(16).fill(0x42), new Uint8Array([1, 2, 3, 4]));
    const far = buildAdvert(new Uint8Array(16).fill(0x43), new Uint8Array([1, 2, 3, 4]));
    const seconds = 5 * s.scanPeriodSec;
    for (let t = 1000; t < 1000 + seconds; t += 0.25) {
      r.scheduler.runUntil(t);
      if (!r.radio.scan) continue;
      r.token.deliver({ address: "d1:22:33:44:55:66 random", rssi: -58, packet: pkt });
      r.token.deliver({ address: "d2:22:33:44:55:66 random", rssi: s.logMinRssiDbm! - 1, packet: far });
    }
    const recs = logRecords(r.token);
    assert.ok(recs.length >= 5, `${recs.length} records in ${seconds} s`);
    assert.ok(
      recs.every((x) => x.prefix === "4242424242" && x.time! >= BUILD + 86400 - 60),
      "only the near phone"
    );
    assert.deepEqual(
      r.token.uncaught.map((e) => e.message),
      []
    );
  });

  it("goes off the air at boot: Espruino's default advert (board name, connectable) does not stay on", () => {
    const r = boot(code, 0);
    r.scheduler.runUntil(1000 + 600);
    assert.equal(r.radio.advert, null, "a token with a lost clock sends nothing at all");
  });

  it("a lost clock's sync window goes out under a fresh random address, never the chip's factory one, and the stack's name is the same \"Token\" on every token", () => {
    const seen = new Set<string>();
    for (const seed of [1, 2]) {
      const r = boot(code, 0, seed);
      const factory = r.radio.adverts[0]!.address; // Espruino's default advert at power-on
      r.scheduler.runUntil(1100);
      r.token.pressButton(2500);
      r.scheduler.runUntil(1110);
      const a = r.radio.advert!;
      assert.ok(a && a.connectable, "sync window open");
      assert.equal(Buffer.from(a.packet).toString("hex"), "020106", "flags only");
      assert.match(a.address, /^[c-f][0-9a-f](:[0-9a-f]{2}){5} random$/);
      assert.notEqual(a.address, factory, "the factory address would link every window of this token");
      seen.add(a.address);
      // What a connecting central reads as the device name: the object form shows it.
      r.token.evaluate("NRF.setAdvertising({}, {scannable:false, connectable:false})");
      const shown = Buffer.from(r.radio.advert!.packet).toString("latin1");
      assert.ok(!shown.includes("Puck"), "no factory-derived name");
      assert.ok(shown.endsWith("Token"), shown);
      assert.deepEqual(
        r.token.uncaught.map((e) => e.message),
        []
      );
    }
    assert.equal(seen.size, 2, "each window a different address");
  });

  it("a central that connected in the sync window is dropped when the window closes, and rotation goes on", () => {
    const r = boot(code, BUILD + 86400 + 3600, 3);
    r.scheduler.runUntil(1000 + 700); // past the silence after boot
    r.token.pressButton(2500);
    r.scheduler.runUntil(1000 + 705);
    const central = new RecordingCentral(r.scheduler, "c0:11:22:33:44:55 random");
    const link = r.token.connect(central);
    assert.ok(link, "connectable in the window");
    r.scheduler.runUntil(1000 + 705 + 130); // the window closes after 2 minutes
    assert.equal(link.connected, false, "still connected after the window closed");
    assert.deepEqual(central.disconnects, [HCI_REMOTE_USER_TERMINATED], "the token ended the link");
    assert.equal(r.radio.advert!.connectable, false);
    r.scheduler.runUntil(1000 + 705 + 3600);
    const addrs = new Set(r.radio.adverts.filter((a) => a && a.packet.length === 31).map((a) => a!.address));
    assert.ok(addrs.size >= 3, `${addrs.size} addresses in an hour`);
    assert.deepEqual(
      r.token.uncaught.map((e) => e.message),
      []
    );
  });

  it("with a lost clock it does not advertise a GAEN packet but keeps logging against uptime", () => {
    const r = boot(code, 0);
    const pkt = buildAdvert(new Uint8Array(16).fill(0x17), new Uint8Array(4));
    for (let t = 1000; t < 1000 + 1200; t += 0.25) {
      r.scheduler.runUntil(t);
      if (r.radio.scan) r.token.deliver({ address: "d1:22:33:44:55:66 random", rssi: -60, packet: pkt });
    }
    assert.ok(!r.radio.adverts.some((a) => a && a.packet.length === 31 && a.packet[9] === 0x6f), "no GAEN advert");
    const recs = logRecords(r.token);
    assert.ok(recs.length >= 2 && recs.every((x) => x.time === null), "uptime records, to re-anchor at sync");
  });

  it("power cuts while logging lose at most the record being written", () => {
    const r = boot(code, BUILD + 2 * 86400, 5);
    const pkt = (i: number) => buildAdvert(new Uint8Array(16).fill(i), new Uint8Array(4));
    const newestFreeSlot = (): number => {
      const names = r.token.storage
        .list()
        .filter((n) => /^pt\.log\d+$/.test(n))
        .sort((a, b) => parseInt(a.slice(6), 10) - parseInt(b.slice(6), 10));
      const b = names.length ? r.token.storage.read(names[names.length - 1]) : undefined;
      return b ? firstFreeSlot(b) : 100;
    };
    let before: string[] = [];
    let t = 1000;
    let cuts = 0;
    const step = (): void => {
      t += 0.25;
      r.scheduler.runUntil(t);
      if (r.radio.scan) for (let i = 1; i <= 8; i++) r.token.deliver({ address: "d1:22:33:44:55:66 random", rssi: -60, packet: pkt(i) });
    };
    while (cuts < 30) {
      while (!r.radio.scan) step();
      // Cut inside this scan's record writes (8 records, 80 bytes), not inside
      // Espruino's own file header of a new segment: that is Espruino's risk,
      // not the log's (a cut there makes Espruino wipe Storage at boot).
      const armed = newestFreeSlot() <= 100 - 8;
      if (armed) r.token.cutAfterBytes(1 + ((cuts * 37) % 80));
      while (r.radio.scan && r.token.alive) step();
      if (!armed) continue;
      if (r.token.alive) r.token.powerCut();
      cuts++;
      const now = logRecords(r.token).map((x) => x.prefix + "@" + x.time);
      assert.deepEqual(now.slice(0, before.length), before, `after cut ${cuts}: earlier records intact`);
      assert.ok(now.length >= before.length + Math.floor((((cuts - 1) * 37) % 80) / 10), "the records before the cut are there");
      before = now;
      r.token.boot();
    }
    assert.ok(before.length > 100, `${before.length} records survived 30 cuts`);
    assert.deepEqual(
      r.token.output.filter((l) => /corrupt/.test(l)),
      []
    );
  });
});
