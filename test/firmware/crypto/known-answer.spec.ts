import { strict as assert } from "node:assert";
import { tekIdentifiers } from "../../../firmware/src/gaen/ids";
import { hkdf } from "../../../firmware/src/crypto/hkdf";
import { aes128 } from "../../../firmware/src/crypto/aes128";
import { FakePlatform } from "../../helpers/fake-platform";
import { useBoard } from "../../helpers/board";
import { CRYPTO_PATHS, GAEN_VECTOR as V, hex, toHex, useCryptoPath } from "./vectors";

describe("token crypto: the GAEN known-answer vector on every crypto path", () => {
  after(() => useBoard("puckjs"));
  for (const path of CRYPTO_PATHS) {
    it(path.name, () => {
      useBoard("puckjs");
      useCryptoPath(path.sha256, path.aes);
      const p = new FakePlatform();
      const expand = hkdf(p, hex(V.tek));
      assert.equal(toHex(expand("EN-RPIK", 16)), V.rpik);
      assert.equal(toHex(expand("EN-AEMK", 16)), V.aemk);
      // The RPI is AES(RPIK, PaddedData): the vector's PaddedData gives it too.
      assert.equal(toHex(aes128(p, hex(V.padded), hex(V.rpik))), V.rpi);
      const ids = tekIdentifiers(p, hex(V.tek));
      const got = ids(V.enin, hex(V.metadata));
      assert.equal(toHex(got.rpi), V.rpi);
      assert.equal(toHex(got.aem), V.aem);
      // CTR is its own inverse: the same call decrypts the metadata.
      assert.equal(toHex(ids(V.enin, got.aem).aem), V.metadata);
      // Derived keys are kept, not consumed: asking again gives the same.
      assert.equal(toHex(ids(V.enin, hex(V.metadata)).rpi), V.rpi);
    });
  }
});
