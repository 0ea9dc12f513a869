import { strict as assert } from "node:assert";
import * as crypto from "node:crypto";
import { hmacSha256 } from "../../../firmware/src/crypto/hmac";
import { hkdf } from "../../../firmware/src/crypto/hkdf";
import { FakePlatform, prng } from "../../helpers/fake-platform";
import { useBoard } from "../../helpers/board";
import { CRYPTO_PATHS, hex, toHex, useCryptoPath } from "./vectors";

// RFC 4231 test cases 1, 2, 4 and 6 (6: a key longer than the block, hashed first).
const RFC4231 = [
  { key: "0b".repeat(20), data: Buffer.from("Hi There").toString("hex"), mac: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
  { key: Buffer.from("Jefe").toString("hex"), data: Buffer.from("what do ya want for nothing?").toString("hex"), mac: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
  {
    key: "0102030405060708090a0b0c0d0e0f10111213141516171819",
    data: "cd".repeat(50),
    mac: "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"
  },
  {
    key: "aa".repeat(131),
    data: Buffer.from("Test Using Larger Than Block-Size Key - Hash Key First").toString("hex"),
    mac: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
  }
];

// RFC 5869 test cases 1-3 (3: empty salt and info).
const RFC5869 = [
  {
    ikm: "0b".repeat(22),
    salt: "000102030405060708090a0b0c",
    info: "f0f1f2f3f4f5f6f7f8f9",
    l: 42,
    okm: "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
  },
  {
    ikm: Buffer.from(Array.from({ length: 80 }, (_, i) => i)).toString("hex"),
    salt: Buffer.from(Array.from({ length: 80 }, (_, i) => 0x60 + i)).toString("hex"),
    info: Buffer.from(Array.from({ length: 80 }, (_, i) => 0xb0 + i)).toString("hex"),
    l: 82,
    okm:
      "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87"
  },
  { ikm: "0b".repeat(22), salt: "", info: "", l: 42, okm: "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8" }
];

describe("token crypto: HMAC-SHA256 and HKDF-SHA256", () => {
  after(() => useBoard("puckjs"));
  for (const path of CRYPTO_PATHS.slice(0, 3)) {
    describe(path.name, () => {
      const p = new FakePlatform();
      beforeEach(() => {
        useBoard("puckjs");
        useCryptoPath(path.sha256, path.aes);
      });
      it("matches RFC 4231", () => {
        for (const v of RFC4231) assert.equal(toHex(hmacSha256(p, hex(v.key), hex(v.data))), v.mac);
      });
      it("matches RFC 5869", () => {
        for (const v of RFC5869) assert.equal(toHex(hkdf(p, hex(v.ikm), hex(v.salt), hex(v.info), v.l)), v.okm);
      });
      it("agrees with node:crypto on random keys, messages and lengths", () => {
        const next = prng(3);
        const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => next() & 255);
        for (let i = 0; i < 60; i++) {
          const key = bytes(next() % 140);
          const data = bytes(next() % 200);
          assert.equal(toHex(hmacSha256(p, key, data)), crypto.createHmac("sha256", key).update(data).digest("hex"));
          const l = 1 + (next() % 100);
          const info = bytes(next() % 40);
          assert.equal(toHex(hkdf(p, data, key, info, l)), Buffer.from(crypto.hkdfSync("sha256", data, key, info, l)).toString("hex"));
        }
      });
    });
  }
});
