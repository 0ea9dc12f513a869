import { strict as assert } from "node:assert";
import { decryptMetadata, deriveKeys, deriveRpis, encryptMetadata, enIntervalNumber, paddedData } from "../../host-tools/src/match/derive";

// Google's official GAEN test vector (first row), as in docs/gaen.md.
const V = {
  tek: "75c734c6dd1a782de7a965da5eb93125",
  time: 1585785600,
  enin: 2642976,
  padded: "454e2d52504900000000000020542800",
  rpik: "185ad91db69ec7dd048960f1f3ba6175",
  aemk: "d57c46af7a1d83965b9bed8bd152936a",
  metadata: "40080000",
  rpi: "8be6cd371c5c891604bfbe49df845096",
  aem: "72033874"
};
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
