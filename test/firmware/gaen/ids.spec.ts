import { strict as assert } from "node:assert";
import { advertMetadata, enIntervalNumber, paddedData, rollingStart } from "../../../firmware/src/gaen/ids";
import { useBoard } from "../../helpers/board";
import { GAEN_VECTOR as V, toHex } from "../crypto/vectors";

describe("GAEN identifiers on the token: intervals and metadata", () => {
  it("numbers 10-minute intervals from 1970", () => {
    assert.equal(enIntervalNumber(V.time), V.enin);
    assert.equal(enIntervalNumber(V.time + 599.9), V.enin);
    assert.equal(enIntervalNumber(V.time + 600), V.enin + 1);
  });
  it("starts a rolling period at 00:00 UTC, a multiple of 144", () => {
    assert.equal(rollingStart(V.enin), V.enin); // the vector's TEK was made at midnight
    assert.equal(rollingStart(V.enin + 143), V.enin);
    assert.equal(rollingStart(V.enin + 144), V.enin + 144);
    assert.equal(rollingStart(V.enin) % 144, 0);
  });
  it("writes the interval little-endian into PaddedData, also above 2^31", () => {
    assert.equal(toHex(paddedData(V.enin)), V.padded);
    assert.equal(toHex(paddedData(0xfedcba98)), "454e2d525049000000000000" + "98badcfe");
  });
  it("puts version 1.0 and the board's radiated power (signed) into the metadata", () => {
    const b = useBoard("puckjs");
    const m = advertMetadata();
    assert.equal(m[0], 0x40);
    assert.equal(new Int8Array(m.buffer)[1], b.radio.radiatedTxPowerDbm);
    assert.deepEqual([m[2], m[3]], [0, 0]);
  });
});
