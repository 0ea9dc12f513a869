import { strict as assert } from "node:assert";
import { ev, rig } from "./helpers";

describe("sim Espruino language globals", () => {
  for (const name of ["Map", "Set", "WeakMap", "WeakSet", "Symbol", "Proxy", "Reflect", "BigInt"]) {
    it(`${name} is not defined`, () => {
      const r = rig("");
      assert.throws(() => r.token.evaluate(`new ${name}()`), /is not defined/);
      assert.equal(r.token.evaluate(`typeof ${name}`), "undefined");
    });
  }

  for (const [obj, member] of [
    ["Array", "from"],
    ["Math", "trunc"],
    ["Number", "isInteger"],
    ["Object", "freeze"],
    ["Uint8Array", "from"]
  ]) {
    it(`${obj}.${member} is absent`, () => {
      const r = rig("");
      assert.equal(r.token.evaluate(`typeof ${obj}.${member}`), "undefined");
      assert.throws(() => r.token.evaluate(`${obj}.${member}([1])`), /is not a function/);
    });
  }

  it("a bundle that uses Map fails at boot and the failure is recorded", () => {
    const r = rig("var m = new Map();");
    assert.equal(r.token.uncaught.length, 1);
    assert.match(r.token.uncaught[0].message, /Map is not defined/);
  });

  it("global is the global object", () => {
    const r = rig("var fromBundle = 42;");
    assert.equal(r.token.evaluate("global.fromBundle"), 42);
    assert.equal(r.token.evaluate("global === this"), true);
  });

  it("require of an unknown module throws Module X not found", () => {
    const r = rig("");
    assert.throws(
      () => r.token.evaluate('require("fs")'),
      (e: Error) => e.message === "Module fs not found"
    );
  });

  it("Storage and crypto are built-in modules", () => {
    const r = rig("");
    assert.equal(r.token.evaluate('typeof require("Storage").write'), "function");
    assert.equal(r.token.evaluate('typeof require("crypto").SHA1'), "function");
  });

  it("every object has Espruino's on/emit", () => {
    const r = rig("");
    assert.deepEqual(ev(r, 'var o={}, got=[]; o.on("x", function(a){ got.push(a); }); o.emit("x", 5); got'), [5]);
  });

  it("values handed to the bundle belong to its own realm (instanceof works)", () => {
    const r = rig("");
    assert.equal(r.token.evaluate('require("crypto").SHA1("a") instanceof ArrayBuffer'), true);
    assert.equal(r.token.evaluate('require("Storage").list() instanceof Array'), true);
    assert.equal(r.token.evaluate('(function(){ try { require("x") } catch (e) { return e instanceof Error } })()'), true);
  });

  it("promise reactions run at the virtual time they were queued, not after the run", () => {
    const r = rig("var seen=[]; setTimeout(function(){ Promise.resolve(1).then(function(v){ seen.push([v, getTime()]); }); }, 1000);");
    r.scheduler.runUntil(1001);
    assert.deepEqual(ev(r, "seen"), [[1, 1]]);
  });
});
