import { strict as assert } from "node:assert";
import { Scenario } from "../../../host-tools/src/sim/world/scenario";
import { Movement } from "../../../host-tools/src/sim/world/movement";
import { computeGroundTruth } from "../../../host-tools/src/sim/world/ground-truth";
import { nearMisses, trueCloseContacts } from "../../../host-tools/src/sim/metrics/detection";
import { BandRun, bandFigures, fitBandModel, phoneRows } from "../../../host-tools/src/sim/metrics/band-dataset";
import { runPhoneBaseline } from "../../../host-tools/src/sim/phone/phone-baseline";

/** Six people in a hall: a–b at a table (1 m) for an hour, c–d 3 m apart, e–f 10 m apart, each pair on its own. */
const hall: Scenario = {
  name: "hall",
  startDate: "2030-02-04",
  rooms: [{ id: "hall", kind: "lounge", x: 0, y: 0, w: 60, h: 10 }],
  people: (
    [
      ["a", 2],
      ["b", 3],
      ["c", 20],
      ["d", 23],
      ["e", 40],
      ["f", 50]
    ] as Array<[string, number]>
  ).map(([id, x]) => ({
    id,
    role: "resident",
    device: { kind: "token" as const },
    schedule: [{ from: "10:00", to: "11:00", rooms: ["hall"], at: [x, 5] as [number, number] }]
  }))
};

function run(seed: number): BandRun & { truth: Set<string> } {
  const people = new Set(hall.people.map((p) => p.id));
  const gt = computeGroundTruth(new Movement(hall, seed), 1);
  const truth = trueCloseContacts(gt, people);
  return { rows: phoneRows(runPhoneBaseline({ scenario: hall, days: 1, seed }), truth, people), near: nearMisses(gt), truth };
}

describe("sim/metrics: the band classifier on the phones' pair-days", function () {
  this.timeout(60_000);

  it("has a row per ordered pair and day, labelled from the ground truth", () => {
    const r = run(1);
    assert.equal(r.rows.length, 6 * 5);
    assert.equal(r.rows.filter((x) => x.closeContact).length, 2, "a–b both ways");
  });

  it("fitted on some seeds, finds the table and nothing else on another", () => {
    const model = fitBandModel([run(1), run(2), run(3)]);
    const test = run(4);
    const f = bandFigures(model, test.rows, test.truth, test.near);
    assert.equal(f.truePositives, 2);
    assert.equal(f.falsePositives, 0);
    assert.equal(f.auc, 1);
    assert.deepEqual(fitBandModel([run(1), run(2), run(3)]), model, "deterministic");
  });
});
