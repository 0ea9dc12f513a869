import { strict as assert } from "node:assert";
import { tekIdentifiers } from "../../../firmware/src/gaen/ids";
import { deriveKeys, deriveRpis, encryptMetadata } from "../../../host-tools/src/match/derive";
import { FakePlatform } from "../../helpers/fake-platform";
import { useBoard } from "../../helpers/board";
import { GAEN_VECTOR as V, hex, toHex } from "../crypto/vectors";

describe("GAEN identifiers on the token: intervals in PaddedData", () => {
  after(() => useBoard("puckjs"));
  for (const id of ["puckjs", "pixljs"]) {
    it(`${id}: writes the interval little-endian, also above 2^31 and at uint32's end`, () => {
      useBoard(id);
      const ids = tekIdentifiers(new FakePlatform(), hex(V.tek));
      const k = deriveKeys(hex(V.tek));
      const meta = hex(V.metadata);
      for (const enin of [0, 1, 255, 256, V.enin, 0x7fffffff, 0x80000000, 0xfedcba98, 0xffffffff]) {
        const rpi = deriveRpis(k.rpik, enin);
        const got = ids(enin, meta);
        assert.equal(toHex(got.rpi), rpi.toString("hex"), `ENIN ${enin}`);
        assert.equal(toHex(got.aem), encryptMetadata(k.aemk, rpi, meta).toString("hex"), `ENIN ${enin}`);
      }
    });
  }
  it("gives each interval its own RPI, whatever order they are asked in", () => {
    useBoard("puckjs");
    const ids = tekIdentifiers(new FakePlatform(), hex(V.tek));
    const a = toHex(ids(V.enin + 1, hex(V.metadata)).rpi);
    const b = toHex(ids(V.enin, hex(V.metadata)).rpi);
    assert.equal(b, V.rpi);
    assert.notEqual(a, b);
    assert.equal(toHex(ids(V.enin + 1, hex(V.metadata)).rpi), a);
  });
});
