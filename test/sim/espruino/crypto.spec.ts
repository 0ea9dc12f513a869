import { strict as assert } from "node:assert";
import { espruinoAes } from "../../../host-tools/src/sim/espruino/crypto-module";
import { ev, rig } from "./helpers";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, "hex"));

describe("sim Espruino crypto", () => {
  it("AES CTR ignores the iv: the counter starts from zero", () => {
    const key = fromHex("000102030405060708090a0b0c0d0e0f");
    const data = new Uint8Array(32);
    const withIv = espruinoAes(true, data, key, { mode: "CTR", iv: fromHex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff") });
    const zeroIv = espruinoAes(true, data, key, { mode: "CTR", iv: new Uint8Array(16) });
    assert.equal(hex(withIv), hex(zeroIv));
    // Keystream block 0 is AES-ECB(key, 0^128).
    assert.equal(hex(withIv.subarray(0, 16)), hex(espruinoAes(true, new Uint8Array(16), key, { mode: "ECB" })));
  });

  it("AES CTR ignores the iv inside the token too", () => {
    const r = rig("");
    const v = ev(
      r,
      'var A=require("crypto").AES, k=new Uint8Array(16), d=new Uint8Array(16);' +
        '[new Uint8Array(A.encrypt(d,k,{mode:"CTR",iv:[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]}))[0], new Uint8Array(A.encrypt(d,k,{mode:"CTR"}))[0]]'
    ) as number[];
    assert.equal(v[0], v[1]);
  });

  it("AES ECB matches the FIPS-197 vector", () => {
    const out = espruinoAes(true, fromHex("00112233445566778899aabbccddeeff"), fromHex("000102030405060708090a0b0c0d0e0f"), {
      mode: "ECB"
    });
    assert.equal(hex(out), "69c4e0d86a7b0430d8cdb78070b4c55a");
  });

  it("AES ECB gives the same blocks however often a key is used, interleaved with other keys and with decryption", () => {
    const key = fromHex("000102030405060708090a0b0c0d0e0f");
    const other = fromHex("0f0e0d0c0b0a09080706050403020100");
    const block = fromHex("00112233445566778899aabbccddeeff");
    for (let i = 0; i < 3; i++) {
      assert.equal(hex(espruinoAes(true, block, key, { mode: "ECB" })), "69c4e0d86a7b0430d8cdb78070b4c55a");
      espruinoAes(true, block, other, { mode: "ECB" });
      assert.equal(hex(espruinoAes(false, fromHex("69c4e0d86a7b0430d8cdb78070b4c55a"), key, { mode: "ECB" })), hex(block));
      const two = espruinoAes(true, new Uint8Array([...block, ...block]), key, { mode: "ECB" });
      assert.equal(hex(two), "69c4e0d86a7b0430d8cdb78070b4c55a".repeat(2), "each block on its own");
      assert.equal(espruinoAes(true, new Uint8Array(0), key, { mode: "ECB" }).length, 0);
    }
  });

  it("AES defaults to CBC mode", () => {
    const key = fromHex("000102030405060708090a0b0c0d0e0f");
    const data = new Uint8Array(32).fill(7);
    assert.equal(hex(espruinoAes(true, data, key, {})), hex(espruinoAes(true, data, key, { mode: "CBC", iv: new Uint8Array(16) })));
  });

  it("SHA1 and SHA256 return ArrayBuffers of the right digest", () => {
    const r = rig("");
    assert.equal(
      r.token.evaluate('var h=new Uint8Array(require("crypto").SHA256("abc")); h.length+":"+h[0].toString(16)+h[1].toString(16)'),
      "32:ba78"
    );
    assert.equal(r.token.evaluate('new Uint8Array(require("crypto").SHA1("abc")).length'), 20);
  });

  it("a board without native SHA256 has no crypto.SHA256 (Pixl.js)", () => {
    assert.equal(rig("", { board: "pixljs" }).token.evaluate('typeof require("crypto").SHA256'), "undefined");
  });

  it("a board without native AES has no crypto.AES (MDBT42Q, Bangle.js 2)", () => {
    assert.equal(rig("", { board: "mdbt42q" }).token.evaluate('typeof require("crypto").AES'), "undefined");
    assert.equal(rig("", { board: "banglejs2" }).token.evaluate('typeof require("crypto").AES'), "undefined");
    assert.equal(rig("", { board: "puckjs" }).token.evaluate('typeof require("crypto").AES'), "object");
  });

  it("SHA256 calls and AES blocks are counted for the energy model", () => {
    const r = rig("");
    r.token.evaluate(
      'var c=require("crypto"); c.SHA256("a"); c.SHA256("b"); c.AES.encrypt(new Uint8Array(48), new Uint8Array(16), {mode:"ECB"})'
    );
    assert.equal(r.token.counters.sha256Calls, 2);
    assert.equal(r.token.counters.aesBlocks, 3);
  });
});
