import { strict as assert } from "node:assert";
import { DEFAULT_RISK_CONFIG } from "../../../host-tools/src/match/risk-config";
import { matchExposures } from "../../../host-tools/src/match/run-match";
import { formatSighting, parseSightings, Sighting, SightingsFormatError } from "../../../host-tools/src/match/sightings";
import { DAY0, noise, plant, randomKey } from "./plant";

/** A sighting as a token logs it: a 5-byte prefix and only the encrypted metadata byte 1. */
function tokenSighting(s: Sighting): Sighting {
  const { aem, ...rest } = s;
  return { ...rest, rpi: s.rpi.slice(0, 5), aemTx: aem![1] };
}

describe("sightings with only the encrypted transmit-power byte (aemTx)", () => {
  describe("format", () => {
    it("reads aemTx as one byte and writes it back the same", () => {
      const line = `{"time":1585785660,"rpi":"8be6cd371c","rssi":-62,"aemTx":"0a"}`;
      const [s] = parseSightings(line);
      assert.equal(s.aemTx, 0x0a);
      assert.equal(s.aem, undefined);
      assert.equal(formatSighting(s), line);
    });

    it("treats a null aemTx as absent", () => {
      const [s] = parseSightings(`{"time":1,"rpi":"8be6cd371c","rssi":-62,"aemTx":null}`);
      assert.equal(s.aemTx, undefined);
    });

    it("rejects aemTx together with aem, and aemTx that is not one hex byte, naming each line", () => {
      const text = [
        `{"time":1,"rpi":"8be6cd371c","rssi":-62,"aem":"72033874","aemTx":"03"}`,
        `{"time":1,"rpi":"8be6cd371c","rssi":-62,"aemTx":"0a0b"}`,
        `{"time":1,"rpi":"8be6cd371c","rssi":-62,"aemTx":10}`,
        `{"time":1,"rpi":"8be6cd371c","rssi":-62,"aemTx":"g1"}`,
        `{"time":1,"rpi":"8be6cd371c","rssi":-62,"aemTx":"03"}`
      ].join("\n");
      let err: unknown;
      try {
        parseSightings(text, "log.jsonl");
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof SightingsFormatError);
      assert.deepEqual(
        err.problems.map((p) => p.line),
        [1, 2, 3, 4]
      );
      assert.match(err.problems[0].message, /either "aem".*or "aemTx".*not both/);
      assert.match(err.problems[1].message, /"aemTx" has 2 byte\(s\), expected 1/);
      assert.match(err.problems[2].message, /"aemTx" must be a hex string/);
      assert.match(err.problems[3].message, /"aemTx" is not an even-length hex string/);
    });

    it("refuses to write a sighting with both, or a byte out of range", () => {
      assert.throws(() => formatSighting({ time: 1, rpi: new Uint8Array(5), rssi: -60, aem: new Uint8Array(4), aemTx: 1 }), /not both/);
      assert.throws(() => formatSighting({ time: 1, rpi: new Uint8Array(5), rssi: -60, aemTx: 256 }), /one byte/);
    });
  });

  describe("matching", () => {
    const keys = Array.from({ length: 5 }, () => randomKey());
    const target = keys[2];

    for (const tx of [-6, -12, 8]) {
      it(`decrypts the planted transmit power ${tx} dBm from aemTx of a 5-byte prefix sighting`, async () => {
        const s = tokenSighting(plant(target, DAY0 + 40, { txPower: tx, rssi: -70 }));
        const r = await matchExposures(keys, [noise(s.time - 30, 5), s]);
        assert.equal(r.matches.length, 1);
        const m = r.matches[0];
        assert.equal(m.key, target);
        assert.equal(m.txPowerDbm, tx);
        assert.equal(m.txPowerSource, "aem");
        assert.equal(m.metadataValid, true);
        assert.equal(m.attenuationDb, tx + 70);
      });
    }

    it("decrypts through the interchange text too (writer → reader → matcher)", async () => {
      const s = tokenSighting(plant(target, DAY0 + 90, { txPower: -20 }));
      const [back] = parseSightings(formatSighting(s));
      const r = await matchExposures(keys, [back]);
      assert.equal(r.matches[0].txPowerDbm, -20);
    });

    it("falls back to the default power when the decrypted byte is not a plausible power, and keeps the match", async () => {
      // Planted as -100 dBm: decrypts correctly but no BLE sender radiates that.
      const s = tokenSighting(plant(target, DAY0 + 41, { txPower: -100, rssi: -60 }));
      const r = await matchExposures(keys, [s]);
      assert.equal(r.matches.length, 1);
      assert.equal(r.matches[0].txPowerSource, "default");
      assert.equal(r.matches[0].txPowerDbm, DEFAULT_RISK_CONFIG.defaultTxPowerDbm);
      assert.equal(r.matches[0].metadataValid, false);
    });

    it("uses the default power for a sighting with neither aem nor aemTx", async () => {
      const s = plant(target, DAY0 + 42, { txPower: null, prefixBytes: 5 });
      const r = await matchExposures(keys, [s]);
      assert.equal(r.matches[0].txPowerSource, "default");
      assert.equal(r.matches[0].metadataValid, undefined);
    });
  });
});
