import { strict as assert } from "node:assert";
import { ReportType } from "../../../host-tools/src/keys/types";
import { deriveKeys, deriveRpik, INTERVAL_SECONDS } from "../../../host-tools/src/match/derive";
import { DEFAULT_RISK_CONFIG, riskConfigFrom } from "../../../host-tools/src/match/risk-config";
import { matchExposures } from "../../../host-tools/src/match/run-match";
import { Sighting } from "../../../host-tools/src/match/sightings";
import { DAY0, noise, plant, randomKey } from "./plant";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** Strangers spread over the day, so a real match has to be found among them. */
function crowd(n = 300): Sighting[] {
  return Array.from({ length: n }, (_, i) => noise((DAY0 + (i % 144)) * INTERVAL_SECONDS + 7, 5 + (i % 12)));
}

describe("matching sightings against published keys", () => {
  const keys = Array.from({ length: 40 }, () => randomKey());
  const target = keys[17];
  const j = DAY0 + 50;

  it("finds a sighting of a full RPI and reports the key, interval and RPI", async () => {
    const s = plant(target, j);
    const r = await matchExposures(keys, [...crowd(), s]);
    assert.equal(r.matches.length, 1);
    const m = r.matches[0];
    assert.equal(hex(m.key.keyData), hex(target.keyData));
    assert.equal(m.enin, j);
    assert.equal(hex(m.rpi), hex(s.rpi));
    assert.equal(m.sighting, s);
  });

  for (const bytes of [5, 6]) {
    it(`finds a sighting stored as a ${bytes}-byte prefix and re-derives the full RPI`, async () => {
      const full = plant(target, j);
      const s = plant(target, j, { prefixBytes: bytes });
      assert.equal(s.rpi.length, bytes);
      const r = await matchExposures(keys, [...crowd(), s]);
      assert.equal(r.matches.length, 1);
      assert.equal(hex(r.matches[0].rpi), hex(full.rpi));
    });
  }

  it("does not match a prefix that differs after the first 4 bytes", async () => {
    const s = plant(target, j, { prefixBytes: 6 });
    s.rpi[5] ^= 1;
    const r = await matchExposures(keys, [s]);
    assert.equal(r.matches.length, 0);
  });

  for (const d of [-12, -1, 0, 5, 12]) {
    it(`matches when heard ${d} interval(s) from the RPI's own interval (inside ±2 h)`, async () => {
      const s = plant(target, j, { offsetSeconds: d * INTERVAL_SECONDS + 1 });
      const r = await matchExposures(keys, [s]);
      assert.equal(r.matches.length, 1);
      assert.equal(r.matches[0].enin, j);
    });
  }

  for (const d of [-13, 13, 144]) {
    it(`does not match when heard ${d} intervals from the RPI's own interval (outside ±2 h)`, async () => {
      const s = plant(target, j, { offsetSeconds: d * INTERVAL_SECONDS + 1 });
      const r = await matchExposures(keys, [s]);
      assert.equal(r.matches.length, 0);
    });
  }

  it("matches the first RPI of a day heard late the evening before (within 2 h)", async () => {
    const s = plant(target, DAY0, { offsetSeconds: -12 * INTERVAL_SECONDS + 1 });
    const r = await matchExposures(keys, [s]);
    assert.equal(r.matches.length, 1);
  });

  it("matches the last RPI of a day heard early the next morning (within 2 h)", async () => {
    const s = plant(target, DAY0 + 143, { offsetSeconds: 12 * INTERVAL_SECONDS + 1 });
    const r = await matchExposures(keys, [s]);
    assert.equal(r.matches.length, 1);
    assert.equal(r.matches[0].enin, DAY0 + 143);
  });

  it("derives only the intervals of a key's rolling period", async () => {
    const short = randomKey(DAY0, { rollingPeriod: 72 });
    const r = await matchExposures([short], [plant(short, DAY0 + 71), plant(short, DAY0 + 100)]);
    assert.deepEqual(
      r.matches.map((m) => m.enin),
      [DAY0 + 71]
    );
  });

  it("skips the derivation of keys with no sighting within reach of their day", async () => {
    const other = randomKey(DAY0 + 144 * 5);
    const r = await matchExposures([...keys, other], [plant(target, j)]);
    assert.equal(r.derivedKeys, keys.length);
    assert.equal(r.matches.length, 1);
  });

  it("never matches a revoked key", async () => {
    const revoked = { ...target, reportType: ReportType.Revoked };
    // With a live key beside it: a list of revoked keys only is refused (no-keys.spec.ts).
    const r = await matchExposures([revoked, randomKey(DAY0)], [plant(target, j)]);
    assert.equal(r.matches.length, 0);
    assert.equal(r.revokedKeys, 1);
  });

  it("reports each of several matched sightings of several keys", async () => {
    const s = [plant(keys[1], j), plant(keys[2], j + 3, { prefixBytes: 5 }), plant(keys[1], j + 1)];
    const r = await matchExposures(keys, [...crowd(), ...s]);
    assert.equal(r.matches.length, 3);
    assert.deepEqual(new Set(r.matches.map((m) => m.sighting)), new Set(s));
  });
});

describe("transmit power and attenuation", () => {
  const key = randomKey();
  const j = DAY0 + 70;

  it("decrypts the planted transmit power from the AEM (also for a prefix sighting)", async () => {
    for (const [tx, prefixBytes] of [
      [-12, 16],
      [7, 5],
      [-30, 6]
    ]) {
      const r = await matchExposures([key], [plant(key, j, { txPower: tx, rssi: -70, prefixBytes })]);
      const m = r.matches[0];
      assert.equal(m.txPowerSource, "aem");
      assert.equal(m.txPowerDbm, tx);
      assert.equal(m.attenuationDb, Math.max(0, tx + 70));
    }
  });

  it("decrypts Google's test vector AEM to its metadata's 8 dBm", async () => {
    const vk = { keyData: Buffer.from("75c734c6dd1a782de7a965da5eb93125", "hex"), rollingStartIntervalNumber: 2642976, rollingPeriod: 144 };
    const s = {
      time: 1585785600 + 30,
      rpi: Buffer.from("8be6cd371c5c891604bfbe49df845096", "hex"),
      aem: Buffer.from("72033874", "hex"),
      rssi: -50,
      line: 1
    };
    const r = await matchExposures([vk], [s]);
    assert.equal(r.matches[0].txPowerDbm, 8);
    assert.equal(r.matches[0].attenuationDb, 58);
  });

  it("uses the configured default transmit power when there is no AEM", async () => {
    const r = await matchExposures([key], [plant(key, j, { txPower: null, rssi: -70 })]);
    assert.equal(r.matches[0].txPowerSource, "default");
    assert.equal(r.matches[0].txPowerDbm, DEFAULT_RISK_CONFIG.defaultTxPowerDbm);
    const config = riskConfigFrom({ defaultTxPowerDbm: -10 });
    const r2 = await matchExposures([key], [plant(key, j, { txPower: null, rssi: -70 })], { config });
    assert.equal(r2.matches[0].attenuationDb, 60);
  });

  it("ignores an AEM that does not decrypt to GAEN metadata and uses the default", async () => {
    const s = plant(key, j, { txPower: -12 });
    s.aem![2] ^= 0x5a;
    const r = await matchExposures([key], [s]);
    assert.equal(r.matches.length, 1);
    assert.equal(r.matches[0].metadataValid, false);
    assert.equal(r.matches[0].txPowerSource, "default");
  });

  it("never reports a negative attenuation (received stronger than sent)", async () => {
    const r = await matchExposures([key], [plant(key, j, { txPower: -20, rssi: -10 })]);
    assert.equal(r.matches[0].attenuationDb, 0);
  });
});

describe("the hot loop's RPIK derivation", () => {
  it("equals node:crypto's HKDF for the test vector and for random keys", () => {
    const vector = Buffer.from("75c734c6dd1a782de7a965da5eb93125", "hex");
    assert.equal(deriveRpik(vector).toString("hex"), "185ad91db69ec7dd048960f1f3ba6175");
    for (let i = 0; i < 200; i++) {
      const tek = randomKey().keyData;
      assert.equal(deriveRpik(tek).toString("hex"), deriveKeys(tek).rpik.toString("hex"));
    }
  });
});
