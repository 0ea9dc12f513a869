import { strict as assert } from "node:assert";
import { FAULT_FILE, onSelfTestFailure, runSelfTest } from "../../firmware/src/selftest";
import { FakePlatform, FakeStorage } from "../helpers/fake-platform";
import { useBoard } from "../helpers/board";

describe("boot-time crypto self-test", () => {
  for (const id of ["puckjs", "mdbt42q", "banglejs2", "pixljs"]) {
    it(`passes on ${id}'s crypto path`, () => {
      useBoard(id);
      assert.equal(runSelfTest(new FakePlatform()), true);
    });
  }

  it("fails when native AES is broken (e.g. an interpreter update)", () => {
    useBoard("puckjs");
    const p = new FakePlatform();
    const real = p.aes128Ecb.bind(p);
    p.aes128Ecb = (b, k) => {
      const out = real(b, k);
      out[15] ^= 1;
      return out;
    };
    assert.equal(runSelfTest(p), false);
  });

  it("fails, without throwing, when native SHA-256 is missing", () => {
    useBoard("mdbt42q");
    const p = new FakePlatform();
    p.sha256 = () => {
      throw new TypeError("crypto.SHA256 is not a function");
    };
    assert.equal(runSelfTest(p), false);
  });

  it("on failure counts the fault in flash and blinks red; the count survives reboots", () => {
    useBoard("puckjs");
    const storage = new FakeStorage();
    for (let boot = 1; boot <= 3; boot++) {
      const p = new FakePlatform({ storage, startTime: 1735732800 + boot });
      onSelfTestFailure(p);
      const rec = storage.read(FAULT_FILE)!;
      assert.equal(rec.length, 8);
      assert.equal(Buffer.from(rec).readUInt32LE(0), boot);
      assert.equal(Buffer.from(rec).readUInt32LE(4), 1735732800 + boot);
      p.advance(10000);
      const reds = p.ledLog.filter((e) => e.colour === "red" && e.on).length;
      assert.equal(reds, 3);
      assert.equal(p.ledState.red, false);
      assert.equal(p.advertising, null);
      assert.equal(p.advertLog.length, 0);
    }
  });

  it("blinks green on a board without a red LED, and still blinks when flash is full", () => {
    useBoard("pixljs");
    const storage = new FakeStorage(64);
    storage.write("x", new Uint8Array(30));
    const p = new FakePlatform({ storage });
    onSelfTestFailure(p);
    p.advance(3100);
    assert.deepEqual(
      p.ledLog.map((e) => [e.colour, e.on]),
      [
        ["green", true],
        ["green", false]
      ]
    );
  });
});
