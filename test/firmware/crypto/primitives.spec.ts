import { strict as assert } from "node:assert";
import * as crypto from "node:crypto";
import { sha256Pure } from "../../../firmware/src/crypto/sha256-pure";
import { aes128Pure } from "../../../firmware/src/crypto/aes128-pure";
import { sha256 } from "../../../firmware/src/crypto/sha256";
import { aes128 } from "../../../firmware/src/crypto/aes128";
import { FakePlatform, prng } from "../../helpers/fake-platform";
import { useBoard } from "../../helpers/board";
import { hex, toHex } from "./vectors";

function randomBytes(next: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = next() & 255;
  return b;
}

function nodeAes(block: Uint8Array, key: Uint8Array): string {
  const c = crypto.createCipheriv("aes-128-ecb", key, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(block), c.final()]).toString("hex");
}

describe("token crypto: pure-JS SHA-256", () => {
  it("hashes the FIPS 180-4 examples", () => {
    assert.equal(toHex(sha256Pure(new Uint8Array(0))), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert.equal(toHex(sha256Pure(Buffer.from("abc"))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert.equal(
      toHex(sha256Pure(Buffer.from("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
    );
  });
  it("agrees with node:crypto on every length 0..300 (all padding cases)", () => {
    const next = prng(7);
    for (let n = 0; n <= 300; n++) {
      const d = randomBytes(next, n);
      assert.equal(toHex(sha256Pure(d)), crypto.createHash("sha256").update(d).digest("hex"), `length ${n}`);
    }
  });
});

describe("token crypto: pure-JS AES-128", () => {
  it("encrypts the FIPS 197 appendix C.1 block", () => {
    assert.equal(
      toHex(aes128Pure(hex("00112233445566778899aabbccddeeff"), hex("000102030405060708090a0b0c0d0e0f"))),
      "69c4e0d86a7b0430d8cdb78070b4c55a"
    );
  });
  it("agrees with node:crypto on 500 random keys and blocks, leaving its inputs intact", () => {
    const next = prng(11);
    for (let i = 0; i < 500; i++) {
      const k = randomBytes(next, 16);
      const b = randomBytes(next, 16);
      const k0 = toHex(k);
      const b0 = toHex(b);
      assert.equal(toHex(aes128Pure(b, k)), nodeAes(b, k));
      assert.equal(toHex(k), k0);
      assert.equal(toHex(b), b0);
    }
  });
  it("keeps the last key's expansion without mixing keys: the same key many times, two keys in turn, equal bytes in another array", () => {
    const next = prng(12);
    const k1 = randomBytes(next, 16);
    const k2 = randomBytes(next, 16);
    const copy = Uint8Array.from(k1);
    for (let i = 0; i < 50; i++) {
      const b = randomBytes(next, 16);
      const k = i % 5 === 4 ? copy : i % 2 ? k2 : k1;
      assert.equal(toHex(aes128Pure(b, k)), nodeAes(b, k), `block ${i}`);
    }
  });
});

describe("token crypto: the board's config picks the path", () => {
  function counting(): { p: FakePlatform; calls: { sha: number; aes: number } } {
    const p = new FakePlatform();
    const calls = { sha: 0, aes: 0 };
    const sha = p.sha256.bind(p);
    const aes = p.aes128Ecb.bind(p);
    p.sha256 = (d) => (calls.sha++, sha(d));
    p.aes128Ecb = (b, k) => (calls.aes++, aes(b, k));
    return { p, calls };
  }
  const key = hex("000102030405060708090a0b0c0d0e0f");
  const block = hex("00112233445566778899aabbccddeeff");

  it("Puck.js uses native SHA-256 and AES", () => {
    useBoard("puckjs");
    const { p, calls } = counting();
    assert.equal(toHex(sha256(p, Buffer.from("abc"))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert.equal(toHex(aes128(p, block, key)), "69c4e0d86a7b0430d8cdb78070b4c55a");
    assert.deepEqual(calls, { sha: 1, aes: 1 });
  });
  it("MDBT42Q uses native SHA-256 and pure-JS AES", () => {
    useBoard("mdbt42q");
    const { p, calls } = counting();
    sha256(p, Buffer.from("abc"));
    assert.equal(toHex(aes128(p, block, key)), "69c4e0d86a7b0430d8cdb78070b4c55a");
    assert.deepEqual(calls, { sha: 1, aes: 0 });
  });
  it("Pixl.js uses pure JS for both", () => {
    useBoard("pixljs");
    const { p, calls } = counting();
    assert.equal(toHex(sha256(p, Buffer.from("abc"))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert.equal(toHex(aes128(p, block, key)), "69c4e0d86a7b0430d8cdb78070b4c55a");
    assert.deepEqual(calls, { sha: 0, aes: 0 });
  });
});
