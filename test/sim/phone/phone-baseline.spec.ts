import { strict as assert } from "node:assert";
import { Scenario } from "../../../host-tools/src/sim/world/scenario";
import { Movement } from "../../../host-tools/src/sim/world/movement";
import { computeGroundTruth } from "../../../host-tools/src/sim/world/ground-truth";
import { MAX_BINNED_ATTENUATION_DB, exposureOf, runPhoneBaseline } from "../../../host-tools/src/sim/phone/phone-baseline";
import { DEFAULT_PHONE_BUCKETS, EXPOSED_WEIGHTED_MINUTES, WIDE_NET } from "../../../host-tools/src/sim/phone/gaen-settings";
import { weightedMinutes } from "../../../host-tools/src/sim/phone/phone-risk";
import { phoneDetection } from "../../../host-tools/src/sim/phone/phone-detection";

/** Two people who sit `metres` apart in an open hall from 10:00 for `minutes`, and are off site otherwise. */
function pairInHall(metres: number, minutes: number): Scenario {
  const to = `${String(10 + Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
  const sit = (id: string, x: number) => ({
    id,
    role: "resident",
    device: { kind: "phone" as const },
    schedule: [{ from: "10:00", to, rooms: ["hall"], at: [x, 5] as [number, number] }]
  });
  return {
    name: "hall",
    startDate: "2030-02-04",
    rooms: [{ id: "hall", kind: "lounge", x: 0, y: 0, w: 40, h: 10 }],
    people: [sit("a", 5), sit("b", 5 + metres)]
  };
}

function weighted(s: Scenario, seed: number, days = 1): number {
  const b = runPhoneBaseline({ scenario: s, days, seed });
  const bins = exposureOf(b, 0, 1, 0);
  return bins ? weightedMinutes(bins, DEFAULT_PHONE_BUCKETS) : 0;
}

function median(bins: Uint32Array): number {
  const total = bins.reduce((a, b) => a + b, 0);
  let acc = 0;
  for (let att = 0; att < bins.length; att++) {
    acc += bins[att];
    if (acc >= total / 2) return att;
  }
  return MAX_BINNED_ATTENUATION_DB;
}

describe("sim/phone: the GAEN phone baseline", function () {
  this.timeout(60_000);
  const seeds = [1, 2, 3, 4, 5, 6, 7, 8];

  it("flags two phones 1 m apart for 20 minutes as exposed, with the health authority's default buckets", () => {
    const flagged = seeds.filter((seed) => weighted(pairInHall(1, 20), seed) >= EXPOSED_WEIGHTED_MINUTES);
    // Scans every 210–300 s: 20 minutes is four or five scans, each credited its gap.
    assert.ok(flagged.length >= seeds.length - 1, `flagged with ${flagged.length} of ${seeds.length} seeds`);
  });

  it("does not flag two phones 8 m apart for 20 minutes", () => {
    const scores = seeds.map((seed) => weighted(pairInHall(8, 20), seed));
    assert.ok(
      scores.every((s) => s < EXPOSED_WEIGHTED_MINUTES),
      `weighted minutes ${scores.map((s) => s.toFixed(1)).join(", ")}`
    );
  });

  it("credits about the time spent together: an hour at 1 m is close to 60 minutes heard", () => {
    const b = runPhoneBaseline({ scenario: pairInHall(1, 60), days: 1, seed: 3 });
    const heard = exposureOf(b, 0, 1, 0)!.reduce((a, s) => a + s, 0) / 60;
    assert.ok(heard >= 50 && heard <= 70, `${heard.toFixed(1)} min heard`);
  });

  it("reads 55 dB at 1 m in pockets per scan, as DP-3T experiment 34 measured (±2 dB)", () => {
    // Eight hours a day for three days at 1 m: the median of the scans' typical attenuation.
    const s = pairInHall(1, 8 * 60);
    const b = runPhoneBaseline({ scenario: s, days: 3, seed: 11 });
    const bins = new Uint32Array(MAX_BINNED_ATTENUATION_DB + 1);
    for (let day = 0; day < 3; day++) exposureOf(b, 0, 1, day)!.forEach((v, i) => (bins[i] += v));
    const m = median(bins);
    assert.ok(Math.abs(m - 55) <= 2, `median ${m} dB`);
  });

  it("is the same run for the same seed, and another run for another seed", () => {
    const s = pairInHall(2, 90);
    const a = runPhoneBaseline({ scenario: s, days: 1, seed: 5 });
    const b = runPhoneBaseline({ scenario: s, days: 1, seed: 5 });
    const c = runPhoneBaseline({ scenario: s, days: 1, seed: 6 });
    assert.deepEqual([...exposureOf(a, 0, 1, 0)!], [...exposureOf(b, 0, 1, 0)!]);
    assert.notDeepEqual([...exposureOf(a, 0, 1, 0)!], [...exposureOf(c, 0, 1, 0)!]);
  });

  it("scores the same pair-days as the ground truth: a close contact is found, someone across the hall is not flagged", () => {
    const base = pairInHall(1, 60);
    const far = { ...base.people[0], id: "c", schedule: [{ ...base.people[0].schedule[0], at: [35, 5] as [number, number] }] };
    const s: Scenario = { ...base, people: [...base.people, far] };
    const b = runPhoneBaseline({ scenario: s, days: 1, seed: 1 });
    const truth = computeGroundTruth(new Movement(s, 1), 1);
    const d = phoneDetection(b, truth, new Set(["a", "b", "c"]));
    assert.equal(d.groundTruthContacts, 2, "a–b, both ways");
    assert.equal(d.truePositives, 2);
    assert.equal(d.falsePositives, 0, "c, 29 m away, is not flagged");
    assert.equal(d.auc, 1);
    assert.deepEqual(
      d.settings.map((x) => x.buckets),
      ["narrowNetV1", "narrowNetV2", WIDE_NET.name]
    );
    for (const x of d.settings)
      for (const k of ["precision", "recall", "f1", "auc", "nearMissPrecision"] as const) assert.ok(x[k] >= 0 && x[k] <= 1);
  });
});
