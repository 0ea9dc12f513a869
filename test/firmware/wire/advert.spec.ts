import { strict as assert } from "node:assert";
import { buildAdvert, parseAdvert } from "../../../firmware/src/wire/advert";

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/ /g, ""), "hex"));
const RPI = hex("8be6cd371c5c891604bfbe49df845096");
const AEM = hex("72033874");

describe("wire/advert: the GAEN advertisement", () => {
  it("is exactly the 31 bytes of gaen.md for the official test vector", () => {
    const p = buildAdvert(RPI, AEM);
    assert.equal(Buffer.from(p).toString("hex"), "02011a03036ffd17166ffd" + "8be6cd371c5c891604bfbe49df845096" + "72033874");
    assert.equal(p.length, 31);
  });

  it("parses its own packet and a packet without flags (some Android phones)", () => {
    const own = parseAdvert(buildAdvert(RPI, AEM))!;
    assert.deepEqual([...own.rpi], [...RPI]);
    assert.deepEqual([...own.aem], [...AEM]);
    const noFlags = parseAdvert(buildAdvert(RPI, AEM).subarray(3))!;
    assert.deepEqual([...noFlags.rpi], [...RPI]);
  });

  it("rejects packets without GAEN service data or with a truncated structure", () => {
    assert.equal(parseAdvert(hex("02011a0303aaaa")), null);
    assert.equal(parseAdvert(buildAdvert(RPI, AEM).subarray(0, 30)), null);
    assert.equal(parseAdvert(new Uint8Array([0])), null);
  });
});
