import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { UserError } from "../../../host-tools/src/errors";
import { ReportType } from "../../../host-tools/src/keys/types";
import { DEFAULT_RISK_CONFIG, loadProfile, loadRiskConfig, profileFrom, riskConfigFrom } from "../../../host-tools/src/match/risk-config";
import { infectiousnessFor } from "../../../host-tools/src/match/risk-score";
import { matchExposures } from "../../../host-tools/src/match/run-match";
import { DAY0, handExample, plantAt, randomKey, T } from "./plant";

const JARGON = /\b(dB|dBm|attenuation|RPI|TEK|score|window|bucket|infectious|GAEN)\b/i;

describe("graded risk", () => {
  it("grades the hand example medium for a standard wearer and high for a vulnerable one", async () => {
    const { key, sightings } = handExample();
    const std = await matchExposures([key], sightings, { profile: { vulnerability: "standard" } });
    const vul = await matchExposures([key], sightings, { profile: { vulnerability: "high" } });
    assert.equal(std.level, "medium");
    assert.equal(vul.level, "high");
    assert.deepEqual(vul.cutoffs, { low: 2.5, medium: 7.5, high: 15 });
    assert.match(vul.reason, /more vulnerable/);
    assert.doesNotMatch(std.reason, /more vulnerable/);
  });

  it("gives one plain sentence with the day and about how long, for each level", async () => {
    const { key, sightings } = handExample();
    const one = sightings.slice(5); // window 2 only: 6.375 → low
    const cases: Array<[typeof sightings, string]> = [
      [[], "none"],
      [one, "low"],
      [sightings, "medium"]
    ];
    for (const [s, level] of cases) {
      const r = await matchExposures([key], s);
      assert.equal(r.level, level);
      assert.doesNotMatch(r.reason, JARGON);
      assert.match(r.reason, /^[A-Z][^.]*\.$/, "one sentence");
      if (level !== "none") assert.match(r.reason, /On 2 April 2020 .* about \d+ minutes/);
    }
    const high = await matchExposures([key], sightings, { config: riskConfigFrom({ levelCutoffs: { high: 20 } }) });
    assert.equal(high.level, "high");
    assert.match(high.reason, /close to someone who later reported being ill; follow/);
  });

  it("maps days since symptom onset to infectiousness by the documented table", () => {
    const c = DEFAULT_RISK_CONFIG;
    assert.deepEqual(
      [-14, -6, -5, -3, -2, 0, 5, 6, 9, 10, 14].map((d) => infectiousnessFor(d, c)),
      ["none", "none", "standard", "standard", "high", "high", "high", "standard", "standard", "none", "none"]
    );
    assert.equal(infectiousnessFor(undefined, c), "standard");
  });

  it("does not count a match while the person was not yet or no longer infectious", async () => {
    const key = randomKey(DAY0, { daysSinceOnsetOfSymptoms: 12 });
    const r = await matchExposures([key], [plantAt(key, T, { rssi: -50 })]);
    assert.equal(r.matches.length, 1);
    assert.equal(r.windows[0].counted, false);
    assert.equal(r.level, "none");
    assert.match(r.reason, /not in a way that is likely to have passed it on/);
  });

  it("weighs report types: a self report counts less, a recursive report not at all", async () => {
    const scores: number[] = [];
    for (const reportType of [ReportType.ConfirmedTest, ReportType.SelfReport, ReportType.Recursive, undefined]) {
      const key = randomKey(DAY0, { reportType, daysSinceOnsetOfSymptoms: 0 });
      const r = await matchExposures([key], [plantAt(key, T, { rssi: -50 })]);
      scores.push(r.windows[0].score);
    }
    assert.equal(scores[1], scores[0] * 0.8);
    assert.equal(scores[2], 0);
    assert.equal(scores[3], scores[0], "a key without report type counts as a confirmed test");
  });

  it("drops windows under the minimum score and grades on the worst day", async () => {
    const key1 = randomKey(DAY0);
    const key2 = randomKey(DAY0 + 144);
    const day2 = T + 86400;
    const s = [plantAt(key1, T, { rssi: -50 }), ...[0, 240, 480, 720, 960].map((dt) => plantAt(key2, day2 + dt, { rssi: -50 }))];
    const r = await matchExposures([key1, key2], s, { config: riskConfigFrom({ minimumWindowScore: 10 }) });
    assert.deepEqual(
      r.windows.map((w) => w.counted),
      [false, true]
    );
    assert.deepEqual(
      r.days.map((d) => d.day),
      ["2020-04-03"]
    );
    assert.match(r.reason, /On 3 April 2020/);
  });
});

describe("risk config and wearer profile files", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "risk-"));
  const write = (name: string, text: string): string => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text);
    return f;
  };

  it("fills fields a config leaves out with the defaults", () => {
    const c = loadRiskConfig(write("partial.json", JSON.stringify({ bucketWeights: { immediate: 2 }, levelCutoffs: { high: 40 } })));
    assert.deepEqual(c.bucketWeights, { ...DEFAULT_RISK_CONFIG.bucketWeights, immediate: 2 });
    assert.deepEqual(c.levelCutoffs, { low: 5, medium: 15, high: 40 });
    assert.deepEqual(c.scan, DEFAULT_RISK_CONFIG.scan);
  });

  it("names an unknown (misspelt) field", () => {
    assert.throws(
      () => riskConfigFrom({ bucketWieghts: {} }),
      (e: unknown) => e instanceof UserError && e.kind === "unusable" && /unknown field "bucketWieghts"/.test(e.message)
    );
  });

  it("rejects cut-offs or thresholds out of order, and negative weights", () => {
    assert.throws(() => riskConfigFrom({ levelCutoffs: { low: 20 } }), /low ≤ medium ≤ high/);
    assert.throws(() => riskConfigFrom({ attenuationThresholdsDb: [70, 60, 80] }), /ascending/);
    assert.throws(() => riskConfigFrom({ bucketWeights: { near: -1 } }), /bucketWeights\/near must be >= 0/);
  });

  it("reads a wearer profile and rejects an unknown vulnerability", () => {
    assert.deepEqual(loadProfile(write("p.json", '{"vulnerability": "high"}')), { vulnerability: "high" });
    assert.throws(() => profileFrom({ vulnerability: "very" }), /vulnerability must be equal to one of the allowed values/);
    assert.throws(() => loadProfile(write("bad.json", "{vulnerability")), /wearer profile .* is not valid JSON/);
    assert.throws(() => loadProfile(path.join(dir, "missing.json")), /cannot read wearer profile/);
  });
});
