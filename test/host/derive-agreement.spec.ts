import { strict as assert } from "node:assert";
import { tekIdentifiers } from "../../firmware/src/gaen/ids";
import { deriveKeys, deriveRpis, encryptMetadata } from "../../host-tools/src/match/derive";
import { FakePlatform, prng } from "../helpers/fake-platform";
import { useBoard } from "../helpers/board";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

describe("token (pure-JS) and host (node:crypto) derive the same GAEN identifiers", () => {
  after(() => useBoard("puckjs"));

  it("on 1,000 random TEKs, intervals and metadata (seeded)", () => {
    useBoard("pixljs"); // pure-JS SHA-256 and AES: no native call is made
    const p = new FakePlatform();
    p.sha256 = p.aes128Ecb = () => {
      throw new Error("native crypto used on a pure-JS board");
    };
    const next = prng(20240401);
    for (let i = 0; i < 1000; i++) {
      const tek = Uint8Array.from({ length: 16 }, () => next() & 255);
      // Mostly plausible days (2020..2040), sometimes anywhere in uint32.
      const enin = i % 10 === 0 ? next() >>> 0 : 2600000 + (next() % 1100000);
      const metadata = Uint8Array.of(0x40, next() & 255, 0, 0);
      const token = tekIdentifiers(p, tek)(enin, metadata);
      const k = deriveKeys(tek);
      const rpi = deriveRpis(k.rpik, enin);
      assert.equal(hex(token.rpi), rpi.toString("hex"), `TEK ${hex(tek)} ENIN ${enin}`);
      assert.equal(hex(token.aem), encryptMetadata(k.aemk, rpi, metadata).toString("hex"), `TEK ${hex(tek)} ENIN ${enin}`);
    }
  });

  it("for all 144 intervals of a TEK's day, as the matcher derives them in one batch", () => {
    useBoard("pixljs");
    const p = new FakePlatform();
    const tek = Uint8Array.from({ length: 16 }, (_, i) => i * 17);
    const start = 2880000;
    const ids = tekIdentifiers(p, tek);
    const batch = deriveRpis(deriveKeys(tek).rpik, start, 144);
    for (let j = 0; j < 144; j++) {
      assert.equal(hex(ids(start + j, new Uint8Array(4)).rpi), batch.subarray(16 * j, 16 * j + 16).toString("hex"));
    }
  });
});
