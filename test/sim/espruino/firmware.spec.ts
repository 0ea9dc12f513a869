import { strict as assert } from "node:assert";
import { listBoards } from "../../../host-tools/src/build/boards";
import { testBundle } from "../../helpers/firmware";
import { rig } from "./helpers";

describe("sim Espruino running the shipped firmware", function () {
  const code: Record<string, string> = {};

  before(async function () {
    this.timeout(120_000);
    for (const id of listBoards()) code[id] = (await testBundle(id)).code;
  });

  it("puckjs boots: takes the console off Bluetooth and blinks green for 200 ms", () => {
    const r = rig(code.puckjs);
    assert.deepEqual(r.token.uncaught, []);
    assert.deepEqual({ device: r.token.console!.device, forced: r.token.console!.forced }, { device: null, forced: true });
    assert.deepEqual(r.token.leds(), { red: false, green: true, blue: false });
    r.scheduler.runUntil(1000.199);
    assert.equal(r.token.leds().green, true);
    r.scheduler.runUntil(1000.2);
    assert.equal(r.token.leds().green, false);
  });

  it("puckjs boots from its .bootcde in Storage", () => {
    const r = rig(code.puckjs);
    assert.equal(r.token.storage.read(".bootcde")!.length, code.puckjs.length);
  });

  for (const id of ["banglejs2", "mdbt42q", "pixljs", "puckjs"]) {
    it(`${id}: the bundle boots without an uncaught exception`, () => {
      const r = rig(code[id], { board: id });
      r.scheduler.runUntil(1010);
      assert.deepEqual(
        r.token.uncaught.map((e) => e.message),
        []
      );
    });
  }
});

describe("sim Espruino determinism", () => {
  const program = `
    var s = require("Storage"), n = 0;
    NRF.setScan(function (d) { n++; });
    setInterval(function () {
      NRF.setAddress("c" + (E.hwRand() & 7).toString(16) + ":22:33:44:55:66 random");
      s.write("r" + (n % 3), [E.hwRand() & 255, n]);
    }, 1000);`;
  const run = (seed: number): unknown => {
    const r = rig(program, { seed });
    for (let i = 0; i < 20; i++) {
      r.scheduler.runUntil(1000 + i * 0.7);
      r.token.deliver({ address: "c1:22:33:44:55:66 random", rssi: -50, packet: new Uint8Array([2, 1, 6]) });
    }
    return {
      adverts: r.radio.adverts.map((a) => a && a.address),
      flash: Buffer.from(r.token.flash.bytes).toString("base64"),
      counters: { ...r.token.counters }
    };
  };

  it("the same seed gives the same radio reports, flash and counters", () => {
    assert.deepEqual(run(42), run(42));
    assert.notDeepEqual(run(42), run(43));
  });
});
