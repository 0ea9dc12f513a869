import { strict as assert } from "node:assert";
import { listBoards } from "../../../host-tools/src/build/boards";
import { testBundle } from "../../helpers/firmware";
import { rig } from "../../sim/espruino/helpers";
import { withBrokenVector } from "./selftest-vector";

describe("boot self-test inside the Espruino emulation (real bundles, Espruino-only globals)", function () {
  const bundles: Record<string, string> = {};

  before(async function () {
    for (const id of listBoards()) bundles[id] = (await testBundle(id)).code;
  });

  for (const id of ["puckjs", "mdbt42q", "banglejs2", "pixljs"]) {
    it(`${id}: passes on the board's own crypto path, records no fault`, () => {
      const { token } = rig(bundles[id], { board: id });
      assert.deepEqual(token.uncaught, []);
      assert.equal(token.storage.read("pt.fault"), undefined);
      assert.equal(token.leds().red, false);
      if (id === "puckjs") {
        // Native crypto really was used: 6 hashes for the two HKDFs (one shared extract), 2 AES blocks.
        assert.equal(token.counters.sha256Calls, 6);
        assert.equal(token.counters.aesBlocks, 2);
      }
      if (id === "pixljs") assert.equal(token.counters.sha256Calls, 0);
    });
  }

  it("a token whose crypto disagrees with the vector records the fault, blinks red and stops advertising", () => {
    // Stands in for an interpreter update that changes a result: the same bundle, one expected bit flipped.
    const broken = withBrokenVector(bundles.puckjs);
    assert.notEqual(broken, bundles.puckjs);
    const { token, scheduler, radio } = rig(broken, { board: "puckjs" });
    assert.deepEqual(token.uncaught, []);
    const rec = token.storage.read("pt.fault");
    assert.ok(rec, "pt.fault written");
    assert.equal(Buffer.from(rec).readUInt32LE(0), 1);
    let redOn = 0;
    for (let t = 0; t < 9; t += 0.05) {
      scheduler.runUntil(scheduler.now + 0.05);
      if (token.leds().red) redOn++;
    }
    assert.ok(redOn >= 3, `red LED seen on ${redOn} times`);
    // Nothing GAEN, nothing connectable, no name: Espruino's default advert is stopped.
    const adv = radio.advert;
    if (adv) {
      assert.equal(adv.connectable, false);
      assert.ok(!Buffer.from(adv.packet).includes(Buffer.from([0x6f, 0xfd])), "no 0xFD6F service");
      assert.ok(!Buffer.from(adv.packet).includes(Buffer.from("Puck.js")), "no name");
    }
  });
});
