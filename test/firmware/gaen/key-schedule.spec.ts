import { strict as assert } from "node:assert";
import { createKeySchedule } from "../../../firmware/src/gaen/key-schedule";
import { readTeks } from "../../../firmware/src/wire/tek-file";
import { decryptMetadata, deriveKeys, deriveRpis, encryptMetadata } from "../../../host-tools/src/match/derive";
import { FakePlatform, FakeStorage } from "../../helpers/fake-platform";
import { useBoard } from "../../helpers/board";
import { toHex } from "../crypto/vectors";

const MIDNIGHT = 1735776000; // 2025-01-02 00:00 UTC

function countingPlatform(opts: { startTime?: number; storage?: FakeStorage; seed?: number } = {}): { p: FakePlatform; sha: () => number } {
  const p = new FakePlatform(opts);
  let n = 0;
  const real = p.sha256.bind(p);
  p.sha256 = (d) => (n++, real(d));
  return { p, sha: () => n };
}

describe("GAEN key schedule on the token", () => {
  beforeEach(() => useBoard("puckjs"));

  it("broadcasts what any GAEN implementation derives from the day's TEK", () => {
    const { p } = countingPlatform();
    const ks = createKeySchedule(p);
    const ids = ks.identifiersAt(MIDNIGHT + 3 * 3600 + 17)!;
    const [own] = ks.teks();
    const k = deriveKeys(own.tek);
    const rpi = deriveRpis(k.rpik, (MIDNIGHT + 3 * 3600) / 600);
    assert.equal(toHex(ids.rpi), rpi.toString("hex"));
    assert.equal(toHex(ids.aem), encryptMetadata(k.aemk, rpi, Uint8Array.of(0x40, 0xfc, 0, 0)).toString("hex"));
  });

  it("changes the RPI on each 10-minute interval boundary, not within one", () => {
    const ks = createKeySchedule(countingPlatform().p);
    const at = (t: number): string => toHex(ks.identifiersAt(t)!.rpi);
    const t0 = MIDNIGHT + 600 * 40;
    assert.equal(at(t0), at(t0 + 599.9));
    assert.notEqual(at(t0 + 599.9), at(t0 + 600));
    assert.equal(at(t0 + 600), at(t0 + 1199));
  });

  for (const id of ["puckjs", "mdbt42q", "pixljs", "banglejs2"]) {
    it(`${id}: the AEM carries version 1.0 and the board's radiated power as a signed byte`, () => {
      const b = useBoard(id);
      const ks = createKeySchedule(countingPlatform().p);
      const ids = ks.identifiersAt(MIDNIGHT + 1234)!;
      const meta = decryptMetadata(deriveKeys(ks.teks()[0].tek).aemk, ids.rpi, ids.aem);
      assert.deepEqual([meta[0], meta.readInt8(1), meta[2], meta[3]], [0x40, b.radio.radiatedTxPowerDbm, 0, 0]);
      if (id === "puckjs") assert.equal(meta[1], 0xfc); // -4 dBm
    });
  }

  it("makes a new TEK exactly at UTC midnight, its rolling start a multiple of 144", () => {
    const { p } = countingPlatform();
    const ks = createKeySchedule(p);
    ks.identifiersAt(MIDNIGHT - 0.001);
    assert.equal(ks.teks().length, 1);
    const before = ks.teks()[0];
    assert.equal(before.rollingStart, MIDNIGHT / 600 - 144);
    ks.identifiersAt(MIDNIGHT);
    const [today, yesterday] = ks.teks();
    assert.equal(today.rollingStart, MIDNIGHT / 600);
    assert.equal(today.rollingStart % 144, 0);
    assert.equal(toHex(yesterday.tek), toHex(before.tek));
    assert.notEqual(toHex(today.tek), toHex(before.tek));
  });

  it("derives RPIK and AEMK once per TEK, not per rotation", () => {
    const { p, sha } = countingPlatform();
    const ks = createKeySchedule(p);
    ks.identifiersAt(MIDNIGHT);
    const perTek = sha();
    assert.equal(perTek, 6); // two HKDFs sharing their extract: three HMACs, six hashes
    for (let i = 1; i < 144; i++) ks.identifiersAt(MIDNIGHT + 600 * i);
    assert.equal(sha(), perTek);
    ks.identifiersAt(MIDNIGHT + 86400);
    assert.equal(sha(), 2 * perTek);
  });

  it("keeps the day's TEK across a reboot and never more than 14", () => {
    const storage = new FakeStorage();
    let { p } = countingPlatform({ storage, seed: 5 });
    let ks = createKeySchedule(p);
    const rpiBefore = toHex(ks.identifiersAt(MIDNIGHT + 100)!.rpi);
    ({ p } = countingPlatform({ storage, seed: 6 }));
    ks = createKeySchedule(p);
    assert.equal(toHex(ks.identifiersAt(MIDNIGHT + 100)!.rpi), rpiBefore);
    for (let d = 1; d < 20; d++) ks.identifiersAt(MIDNIGHT + 86400 * d);
    const teks = ks.teks();
    assert.equal(teks.length, 14);
    assert.deepEqual(
      teks.map((t) => t.rollingStart),
      Array.from({ length: 14 }, (_, i) => MIDNIGHT / 600 + 144 * (19 - i))
    );
    assert.deepEqual(readTeks(storage), teks);
  });

  it("a power cut while saving a new TEK leaves yesterday's readable; after reboot the day gets a whole TEK", () => {
    const storage = new FakeStorage();
    const { p } = countingPlatform({ storage });
    const ks = createKeySchedule(p);
    ks.identifiersAt(MIDNIGHT - 600);
    const yesterday = toHex(ks.teks()[0].tek);
    storage.cutAfter(9);
    ks.identifiersAt(MIDNIGHT + 5); // power fails mid-write
    storage.revive();
    const ks2 = createKeySchedule(countingPlatform({ storage, seed: 9 }).p);
    assert.ok(ks2.identifiersAt(MIDNIGHT + 10));
    const teks = ks2.teks();
    assert.equal(teks.length, 2);
    assert.equal(toHex(teks[1].tek), yesterday);
    assert.equal(teks[0].rollingStart, MIDNIGHT / 600);
  });

  it("keeps advertising with a RAM-only TEK when flash is full, and says so", () => {
    const storage = new FakeStorage(200);
    storage.write("full", new Uint8Array(150));
    const ks = createKeySchedule(countingPlatform({ storage }).p);
    assert.ok(ks.identifiersAt(MIDNIGHT));
    assert.equal(ks.unsaved(), true);
    assert.equal(ks.teks().length, 1);
    assert.deepEqual(storage.list("pt.tek"), []);
  });

  it("mints no key while the clock is earlier than the firmware build (a lost clock)", () => {
    const { p } = countingPlatform();
    const ks = createKeySchedule(p);
    assert.equal(ks.identifiersAt(1000), undefined);
    assert.deepEqual(ks.teks(), []);
    assert.deepEqual(p.storage.list("pt."), []);
  });

  it("keeps saving a RAM-only TEK once flash has room again, so a reboot keeps the day's identifiers", () => {
    const storage = new FakeStorage(200);
    storage.write("full", new Uint8Array(150));
    const ks = createKeySchedule(countingPlatform({ storage, seed: 1 }).p);
    const rpi = toHex(ks.identifiersAt(MIDNIGHT + 60)!.rpi);
    assert.equal(ks.unsaved(), true);
    ks.identifiersAt(MIDNIGHT + 660); // still full: no write, no throw
    assert.equal(ks.unsaved(), true);
    storage.erase("full");
    storage.compact(); // e.g. the encounter log evicted a day
    assert.ok(ks.identifiersAt(MIDNIGHT + 1260));
    assert.equal(ks.unsaved(), false);
    assert.equal(readTeks(storage).length, 1);
    const again = createKeySchedule(countingPlatform({ storage, seed: 2 }).p);
    assert.equal(toHex(again.identifiersAt(MIDNIGHT + 60)!.rpi), rpi);
  });

  it("keeps the TEK in use when a kiosk sets the clock back before the 14 newest days", () => {
    const storage = new FakeStorage();
    const { p } = countingPlatform({ storage });
    const ks = createKeySchedule(p);
    // Fourteen days run under a clock that was a month fast, then the kiosk corrects it.
    for (let d = 30; d < 44; d++) ks.identifiersAt(MIDNIGHT + 86400 * d);
    const ids = ks.identifiersAt(MIDNIGHT + 3600)!;
    const teks = ks.teks();
    const today = teks.find((t) => t.rollingStart === MIDNIGHT / 600);
    assert.ok(today, "the TEK on the air is reported for a diagnosis");
    assert.equal(toHex(ids.rpi), deriveRpis(deriveKeys(today.tek).rpik, MIDNIGHT / 600 + 6).toString("hex"));
    // And it survives a reboot: the same identifiers, not a second TEK for the day.
    const again = createKeySchedule(countingPlatform({ storage, seed: 3 }).p);
    assert.equal(toHex(again.identifiersAt(MIDNIGHT + 3600)!.rpi), toHex(ids.rpi));
  });

  it("reuses the day's TEK when the clock jumps back within stored days, and mints none for skipped days", () => {
    const storage = new FakeStorage();
    const ks = createKeySchedule(countingPlatform({ storage }).p);
    const day0 = toHex(ks.identifiersAt(MIDNIGHT + 100)!.rpi);
    ks.identifiersAt(MIDNIGHT + 5 * 86400); // forwards five days
    assert.equal(toHex(ks.identifiersAt(MIDNIGHT + 100)!.rpi), day0); // and back
    assert.deepEqual(
      ks.teks().map((t) => t.rollingStart),
      [MIDNIGHT / 600 + 5 * 144, MIDNIGHT / 600]
    );
  });

  it("lists each day once even if flash holds a second name for it", () => {
    const storage = new FakeStorage();
    const ks = createKeySchedule(countingPlatform({ storage }).p);
    ks.identifiersAt(MIDNIGHT - 86400);
    const [yesterday] = ks.teks();
    // A copy of yesterday's file under a padded name (not one the firmware writes).
    storage.write("pt.tek0" + yesterday.rollingStart, storage.read("pt.tek" + yesterday.rollingStart)!);
    assert.deepEqual(
      ks.teks().map((t) => t.rollingStart),
      [yesterday.rollingStart]
    );
    ks.identifiersAt(MIDNIGHT);
    assert.deepEqual(
      ks.teks().map((t) => t.rollingStart),
      [MIDNIGHT / 600, yesterday.rollingStart]
    );
    assert.deepEqual(storage.list("pt.tek").sort(), ["pt.tek" + yesterday.rollingStart, "pt.tek" + MIDNIGHT / 600]);
  });
});
