import { strict as assert } from "node:assert";
import { createRealm } from "../../../host-tools/src/sim/espruino/realm";
import { bootSource } from "../../../host-tools/src/sim/espruino/boot-code";
import { ev, rig } from "./helpers";

// The shape of a shipped bundle: a directive and one IIFE, nothing declared at the top level.
const iife = (body: string): string => `"use strict";(function(){${body}})();`;

describe("sim Espruino boot code (globals bound as locals)", () => {
  it("a bundle that declares nothing at its top level is wrapped; one that declares something is not", () => {
    const realm = createRealm();
    realm.global.NRF = {};
    assert.match(bootSource(realm, iife("var x = 1;")), /^\(function\(.*\bNRF\b.*\bUint8Array\b/);
    assert.equal(bootSource(realm, "var got = [];"), "var got = [];");
    assert.equal(bootSource(realm, "function f(){}"), "function f(){}");
    assert.equal(bootSource(realm, "this is not JavaScript"), "this is not JavaScript");
  });

  it("the wrapped bundle sees the same builtins and natives, strict mode, and global as the global object", () => {
    const r = rig(
      iife(
        "global.seen = [typeof Uint8Array, typeof NRF.setScan, typeof getTime, typeof Map, typeof Array.from, (function(){ return this; })() === undefined];" +
          "global.viaEval = eval('typeof NRF.setScan');"
      ) + "global.topThis = this === global;"
    );
    assert.deepEqual(r.token.uncaught, []);
    assert.deepEqual(ev(r, "seen"), ["function", "function", "function", "undefined", "undefined", true]);
    assert.equal(r.token.evaluate("topThis"), true);
    assert.equal(r.token.evaluate("viaEval"), "function");
  });

  it("the wrapped bundle's writes through global are seen by everyone, and its errors are reported as before", () => {
    const r = rig(iife("global.count = 1; setTimeout(function(){ global.count++; }, 10); NRF.setAdvertising([1,2,3]); missing();"));
    assert.equal(r.token.uncaught.length, 1);
    assert.match(r.token.uncaught[0].message, /missing is not defined/);
    assert.deepEqual(Array.from(r.radio.advert!.packet), [1, 2, 3]);
    r.scheduler.runUntil(r.scheduler.now + 1);
    assert.equal(r.token.evaluate("count"), 2);
  });

  it("an unwrapped program's top-level declarations stay globals", () => {
    const r = rig("var fromBundle = 42; function helper(){ return 7; }");
    assert.equal(r.token.evaluate("fromBundle + helper()"), 49);
  });
});
