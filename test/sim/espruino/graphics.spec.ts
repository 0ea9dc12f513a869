import { strict as assert } from "node:assert";
import { rig } from "./helpers";
import { testBundle } from "../../helpers/firmware";

describe("sim Espruino: the screen (g) on boards that have one", () => {
  it("g exists on Bangle.js 2 and Pixl.js with the board's size, and not on Puck.js", () => {
    assert.equal(rig("var w=g.getWidth(),h=g.getHeight();", { board: "banglejs2" }).token.evaluate("w+'x'+h"), "176x176");
    assert.equal(rig("var w=g.getWidth();", { board: "pixljs" }).token.evaluate("w"), 128);
    assert.equal(rig("var t=typeof g;", { board: "puckjs" }).token.evaluate("t"), "undefined");
  });

  it("a full-screen fill is the light a board without LEDs shows; a partial fill is not", () => {
    const r = rig("g.setColor(1,0,0).fillRect(0,0,175,175);", { board: "banglejs2" });
    assert.deepEqual(r.token.leds(), { red: true, green: false, blue: false });
    r.token.evaluate("g.setColor(0,0,1).fillRect(0,0,10,10)");
    assert.deepEqual(r.token.leds(), { red: true, green: false, blue: false });
  });
});

describe("shipped firmware on Bangle.js 2 (no LEDs): the wearer's signals on the screen", () => {
  let code = "";
  before(async () => {
    code = (await testBundle("banglejs2")).code;
  });

  it("a short press shows a high risk as fast red flashes of the whole screen", () => {
    const r = rig(code, { board: "banglejs2", boot: false });
    r.clock.set(1000, 1735689600 + 86400);
    r.token.storage.write("pt.cfg", new Uint8Array([2]));
    r.token.boot();
    r.scheduler.runUntil(1005);
    const seen: string[] = [];
    r.token.pressButton(200);
    for (let t = 1005; t < 1010; t += 0.05) {
      r.scheduler.runUntil(t);
      const l = r.token.leds();
      const c = l.red && !l.green && !l.blue ? "red" : !l.red && !l.green && !l.blue ? "off" : "other";
      if (seen[seen.length - 1] !== c) seen.push(c);
    }
    assert.deepEqual(r.token.uncaught, []);
    assert.ok(seen.filter((c) => c === "red").length >= 5, seen.join(","));
    assert.ok(!seen.includes("other"), seen.join(","));
  });
});
