import { strict as assert } from "node:assert";
import { FakePlatform, FakeStorage, PowerCut } from "../helpers/fake-platform";
import { fileFootprint } from "../../firmware/src/wire/storage";

describe("fake platform (test helper)", () => {
  it("storage: fixed-size files read 0xFF where unwritten, offset writes go in place, offset 0 replaces", () => {
    const s = new FakeStorage(4096);
    s.write("a", new Uint8Array([1, 2]), 0, 8);
    s.write("a", new Uint8Array([3]), 4);
    assert.deepEqual([...s.read("a")!], [1, 2, 255, 255, 3, 255, 255, 255]);
    assert.equal(s.getFree(), 4096 - fileFootprint(8));
    s.write("a", new Uint8Array([9]));
    assert.deepEqual([...s.read("a")!], [9]);
    assert.equal(s.trashBytes, fileFootprint(8));
    assert.throws(() => s.write("b", new Uint8Array(1), 3), /no such file/);
  });

  it("storage: flash only clears bits, counts overwrites, throws when full", () => {
    const s = new FakeStorage(200);
    s.write("a", new Uint8Array([0x0f]), 0, 4);
    s.write("a", new Uint8Array([0xf1]), 0 + 1);
    s.write("a", new Uint8Array([0xf0]), 0 + 1);
    assert.equal(s.read("a")![1], 0xf0);
    assert.equal(s.overwrites, 1);
    assert.throws(() => s.write("big", new Uint8Array(1), 0, 400), /Unable to find or create file/);
  });

  it("storage: a power cut lets exactly n bytes through, then everything throws until revive", () => {
    const s = new FakeStorage(4096);
    s.write("a", new Uint8Array(0), 0, 8);
    s.cutAfter(3);
    assert.throws(() => s.write("a", new Uint8Array([1, 2, 3, 4, 5]), 1), PowerCut);
    assert.throws(() => s.read("a"), PowerCut);
    s.revive();
    assert.deepEqual([...s.read("a")!], [255, 1, 2, 3, 255, 255, 255, 255]);
  });

  it("timers run in virtual time; exceptions in callbacks are kept, not fatal", () => {
    const p = new FakePlatform({ startTime: 1000 });
    const seen: number[] = [];
    p.setInterval(() => seen.push(p.ms), 100);
    p.setTimeout(() => {
      throw new Error("boom");
    }, 150);
    p.advance(350);
    assert.deepEqual(seen, [100, 200, 300]);
    assert.equal(p.uncaught.length, 1);
    assert.equal(p.now(), 1000.35);
  });
});
