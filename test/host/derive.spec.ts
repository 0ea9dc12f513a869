import { strict as assert } from "node:assert";
import { GAEN_VECTOR as V } from "../firmware/crypto/vectors";
import { decryptMetadata, deriveKeys, deriveRpis, encryptMetadata, enIntervalNumber, paddedData } from "../../host-tools/src/match/derive";

const hex = (s: string): Buffer => Buffer.from(s, "hex");

describe("host GAEN derivation (node:crypto)", () => {
  it("computes the interval number of the vector's time", () => {
    assert.equal(enIntervalNumber(V.time), V.enin);
  });
  it("builds PaddedData with the interval little-endian", () => {
    assert.equal(paddedData(V.enin).toString("hex"), V.padded);
  });
  it("derives RPIK and AEMK of the vector", () => {
    const k = deriveKeys(hex(V.tek));
    assert.equal(k.rpik.toString("hex"), V.rpik);
    assert.equal(k.aemk.toString("hex"), V.aemk);
  });
  it("derives the vector's RPI, first of a 144-interval batch", () => {
    const k = deriveKeys(hex(V.tek));
    const all = deriveRpis(k.rpik, V.enin, 144);
    assert.equal(all.length, 144 * 16);
    assert.equal(all.subarray(0, 16).toString("hex"), V.rpi);
    assert.deepEqual(all.subarray(16 * 5, 16 * 6), deriveRpis(k.rpik, V.enin + 5));
  });
  it("encrypts and decrypts the vector's metadata", () => {
    const k = deriveKeys(hex(V.tek));
    const aem = encryptMetadata(k.aemk, hex(V.rpi), hex(V.metadata));
    assert.equal(aem.toString("hex"), V.aem);
    assert.equal(decryptMetadata(k.aemk, hex(V.rpi), aem).toString("hex"), V.metadata);
  });
  it("refuses a TEK that is not 16 bytes", () => {
    assert.throws(() => deriveKeys(Buffer.alloc(15)), /16 bytes/);
  });
});
