import { strict as assert } from "node:assert";
import { writeTek } from "../../../firmware/src/gaen/tek-store";
import { TEK_KEEP, readTek, readTeks } from "../../../firmware/src/wire/tek-file";
import { FakeStorage, PowerCut } from "../../helpers/fake-platform";
import { toHex } from "../crypto/vectors";

const DAY0 = 2880000; // a multiple of 144
const tekOf = (day: number): Uint8Array => Uint8Array.from({ length: 16 }, (_, i) => (day * 31 + i * 7) & 255);

describe("GAEN own TEKs in flash", () => {
  it("reads back what it wrote, newest first, under pt.tek names", () => {
    const s = new FakeStorage();
    for (let d = 0; d < 3; d++) writeTek(s, DAY0 + 144 * d, tekOf(d));
    const all = readTeks(s);
    assert.deepEqual(
      all.map((t) => [t.rollingStart, toHex(t.tek)]),
      [2, 1, 0].map((d) => [DAY0 + 144 * d, toHex(tekOf(d))])
    );
    assert.ok(s.list("").every((n) => n.startsWith("pt.tek")));
  });

  it("keeps only the last 14", () => {
    const s = new FakeStorage();
    for (let d = 0; d < 20; d++) writeTek(s, DAY0 + 144 * d, tekOf(d));
    const all = readTeks(s);
    assert.equal(all.length, TEK_KEEP);
    assert.equal(all[0].rollingStart, DAY0 + 144 * 19);
    assert.equal(all[13].rollingStart, DAY0 + 144 * 6);
    assert.equal(s.list("pt.tek").length, 14);
  });

  it("leaves other files alone", () => {
    const s = new FakeStorage();
    s.write("pt.log0", new Uint8Array([1, 2, 3]));
    for (let d = 0; d < 16; d++) writeTek(s, DAY0 + 144 * d, tekOf(d));
    assert.deepEqual([...s.read("pt.log0")!], [1, 2, 3]);
  });

  it("a power cut at any byte of a write leaves every earlier TEK readable and the new one absent or whole", () => {
    for (let cut = 0; cut <= 24; cut++) {
      const s = new FakeStorage();
      for (let d = 0; d < 14; d++) writeTek(s, DAY0 + 144 * d, tekOf(d));
      s.cutAfter(cut);
      try {
        writeTek(s, DAY0 + 144 * 14, tekOf(14));
      } catch (e) {
        assert.ok(e instanceof PowerCut);
      }
      s.revive(); // reboot
      const all = readTeks(s);
      const today = readTek(s, DAY0 + 144 * 14);
      if (today) assert.equal(toHex(today), toHex(tekOf(14)), `cut after ${cut}`);
      // Whatever happened to the new file, the previous 13 (or 14) days are intact.
      const older = all.filter((t) => t.rollingStart < DAY0 + 144 * 14);
      assert.ok(older.length >= 13, `cut after ${cut}: ${older.length}`);
      for (const t of older) assert.equal(toHex(t.tek), toHex(tekOf((t.rollingStart - DAY0) / 144)));
    }
  });

  it("ignores a truncated or corrupted file, and the next write clears it", () => {
    const s = new FakeStorage();
    writeTek(s, DAY0, tekOf(0));
    writeTek(s, DAY0 + 144, tekOf(1));
    const f = s.read("pt.tek" + (DAY0 + 144))!;
    f[7] ^= 1;
    s.write("pt.tek" + (DAY0 + 144), f);
    s.write("pt.tek" + (DAY0 + 288), f.subarray(0, 10));
    assert.equal(readTek(s, DAY0 + 144), undefined);
    assert.deepEqual(
      readTeks(s).map((t) => t.rollingStart),
      [DAY0]
    );
    writeTek(s, DAY0 + 432, tekOf(3));
    assert.deepEqual(s.list("pt.tek").sort(), ["pt.tek" + DAY0, "pt.tek" + (DAY0 + 432)]);
  });

  it("writes through garbage (storage compacts); throws when flash is really full, old TEKs intact", () => {
    const s = new FakeStorage(600);
    writeTek(s, DAY0, tekOf(0));
    s.write("junk", new Uint8Array(400));
    s.erase("junk"); // garbage only compaction reclaims
    writeTek(s, DAY0 + 144, tekOf(1));
    assert.equal(readTeks(s).length, 2);
    s.write("big", new Uint8Array(440));
    assert.throws(() => writeTek(s, DAY0 + 288, tekOf(2)), /Unable to find or create file/);
    assert.deepEqual(
      readTeks(s).map((t) => t.rollingStart),
      [DAY0 + 144, DAY0]
    );
  });

  it("reads days with gaps in between, newest first", () => {
    const s = new FakeStorage();
    for (const d of [0, 3, 4, 9]) writeTek(s, DAY0 + 144 * d, tekOf(d));
    assert.deepEqual(
      readTeks(s).map((t) => [t.rollingStart, toHex(t.tek)]),
      [9, 4, 3, 0].map((d) => [DAY0 + 144 * d, toHex(tekOf(d))])
    );
  });

  it("rejects a file whose content belongs to another day", () => {
    const s = new FakeStorage();
    writeTek(s, DAY0, tekOf(0));
    s.write("pt.tek" + (DAY0 + 144), s.read("pt.tek" + DAY0)!);
    assert.equal(readTek(s, DAY0 + 144), undefined);
    assert.deepEqual(
      readTeks(s).map((t) => t.rollingStart),
      [DAY0]
    );
  });

  it("never lists a day twice and the next write clears names it does not write", () => {
    const s = new FakeStorage();
    writeTek(s, DAY0, tekOf(0));
    for (const alias of ["pt.tek0" + DAY0, "pt.tek" + DAY0 + ".0", "pt.tek" + DAY0 + "x", "pt.tek"])
      s.write(alias, s.read("pt.tek" + DAY0)!);
    assert.deepEqual(
      readTeks(s).map((t) => t.rollingStart),
      [DAY0]
    );
    writeTek(s, DAY0 + 144, tekOf(1));
    assert.deepEqual(s.list("pt.tek").sort(), ["pt.tek" + DAY0, "pt.tek" + (DAY0 + 144)]);
  });

  it("a clock set a year ahead and corrected: the future-dated days go at the next write, the day after it stays", () => {
    const s = new FakeStorage();
    for (let d = 0; d < 3; d++) writeTek(s, DAY0 + 144 * d, tekOf(d));
    writeTek(s, DAY0 + 144 * 368, tekOf(368)); // the kiosk set next year
    writeTek(s, DAY0 + 144 * 4, tekOf(4)); // tomorrow's, from a clock a few minutes fast
    writeTek(s, DAY0 + 144 * 3, tekOf(3)); // corrected: today
    assert.deepEqual(
      readTeks(s).map((t) => t.rollingStart),
      [4, 3, 2, 1, 0].map((d) => DAY0 + 144 * d)
    );
    // A fortnight on, the 14 kept are the real last 14 days.
    for (let d = 5; d < 20; d++) writeTek(s, DAY0 + 144 * d, tekOf(d));
    const all = readTeks(s);
    assert.equal(all.length, TEK_KEEP);
    assert.equal(all[0].rollingStart, DAY0 + 144 * 19);
  });
});
