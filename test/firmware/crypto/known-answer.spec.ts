import { strict as assert } from "node:assert";
import { deriveTekKeys, identifiersFor, paddedData } from "../../../firmware/src/gaen/ids";
import { aem } from "../../../firmware/src/crypto/aem";
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
      const keys = deriveTekKeys(p, hex(V.tek));
      assert.equal(toHex(keys.rpik), V.rpik);
      assert.equal(toHex(keys.aemk), V.aemk);
      assert.equal(toHex(paddedData(V.enin)), V.padded);
      const ids = identifiersFor(p, keys, V.enin, hex(V.metadata));
      assert.equal(ids.enin, V.enin);
      assert.equal(toHex(ids.rpi), V.rpi);
      assert.equal(toHex(ids.aem), V.aem);
      // CTR is its own inverse: the same call decrypts the metadata.
      assert.equal(toHex(aem(p, keys.aemk, ids.rpi, ids.aem)), V.metadata);
    });
  }
});
