import { strict as assert } from "node:assert";
import * as crypto from "node:crypto";
import { hmacSha256 } from "../../../firmware/src/crypto/hmac";
import { hkdf } from "../../../firmware/src/crypto/hkdf";
import { FakePlatform, prng } from "../../helpers/fake-platform";
import { useBoard } from "../../helpers/board";
import { CRYPTO_PATHS, hex, toHex, useCryptoPath } from "./vectors";

// RFC 4231 test cases 1, 2 and 4: every key the token uses is at most one block.
const RFC4231 = [
  {
    key: "0b".repeat(20),
    data: Buffer.from("Hi There").toString("hex"),
    mac: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
  },
  {
    key: Buffer.from("Jefe").toString("hex"),
    data: Buffer.from("what do ya want for nothing?").toString("hex"),
    mac: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
  },
  {
    key: "0102030405060708090a0b0c0d0e0f10111213141516171819",
    data: "cd".repeat(50),
    mac: "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"
  }
];

// RFC 5869 test case 3 (no salt, empty info): its OKM's first block, and the first 16 bytes of it.
const RFC5869_3 = { ikm: "0b".repeat(22), okm32: "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d" };

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
      it("matches RFC 5869 without salt (one block, or a prefix of it)", () => {
        assert.equal(toHex(hkdf(p, hex(RFC5869_3.ikm))("", 32)), RFC5869_3.okm32);
        assert.equal(toHex(hkdf(p, hex(RFC5869_3.ikm))("", 16)), RFC5869_3.okm32.slice(0, 32));
      });
      it("agrees with node:crypto on random keys, messages, infos and lengths", () => {
        const next = prng(3);
        const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => next() & 255);
        for (let i = 0; i < 60; i++) {
          const key = bytes(next() % 65);
          const data = bytes(next() % 200);
          assert.equal(toHex(hmacSha256(p, key, data)), crypto.createHmac("sha256", key).update(data).digest("hex"));
          const l = 1 + (next() % 32);
          const info = Buffer.from(bytes(next() % 40)).toString("latin1");
          const want = Buffer.from(crypto.hkdfSync("sha256", data, new Uint8Array(0), Buffer.from(info, "latin1"), l)).toString("hex");
          assert.equal(toHex(hkdf(p, data)(info, l)), want);
        }
      });
      it("extracts once for several expansions of one key (RPIK and AEMK of a TEK share it)", () => {
        let hashes = 0;
        const q = new FakePlatform();
        const real = q.sha256.bind(q);
        q.sha256 = (d) => (hashes++, real(d));
        const expand = hkdf(q, hex(RFC5869_3.ikm));
        expand("EN-RPIK", 16);
        expand("EN-AEMK", 16);
        // Three HMACs of two hashes each on the native path; none on the pure one.
        assert.equal(hashes, path.sha256 ? 6 : 0);
      });
    });
  }
});
