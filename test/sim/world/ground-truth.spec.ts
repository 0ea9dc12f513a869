import { strict as assert } from "node:assert";
import { Movement } from "../../../host-tools/src/sim/world/movement";
import { computeGroundTruth } from "../../../host-tools/src/sim/world/ground-truth";
import { Scenario } from "../../../host-tools/src/sim/world/scenario";

/** A stays at (1, 1); B comes to 1 m for 30 min, then to 2.5 m for 20 min, then leaves. Day 2: B at 1.5 m for 10 min. */
const pair: Scenario = {
  name: "pair",
  startDate: "2024-05-06",
  rooms: [{ id: "room", kind: "room", x: 0, y: 0, w: 10, h: 5 }],
  people: [
    { id: "A", role: "resident", schedule: [{ from: "00:00", to: "24:00", rooms: ["room"], at: [1, 1] }] },
    {
      id: "B",
      role: "staff",
      schedule: [
        { from: "10:00", to: "10:30", days: [0], rooms: ["room"], at: [2, 1] },
        { from: "11:00", to: "11:20", days: [0], rooms: ["room"], at: [3.5, 1] },
        { from: "09:00", to: "09:10", days: [1], rooms: ["room"], at: [1, 2.5] }
      ]
    }
  ]
};

describe("sim/world ground truth", () => {
  it("counts the minutes a pair spent within 1, 1.5, 2 and 3 m, per UTC day", () => {
    const gt = computeGroundTruth(new Movement(pair, 1), 2);
    assert.equal(gt.days.length, 2);
    assert.equal(gt.days[0].date, "2024-05-06");
    assert.deepEqual(gt.days[0].pairs, [{ a: "A", b: "B", within1m: 30, within1_5m: 30, within2m: 30, within3m: 50 }]);
    assert.equal(gt.days[1].date, "2024-05-07");
    assert.deepEqual(gt.days[1].pairs, [{ a: "A", b: "B", within1m: 0, within1_5m: 10, within2m: 10, within3m: 10 }]);
  });

  it("a close contact is ≥ 15 minutes within 2 m in one day", () => {
    // Day 0 has 30 minutes within 2 m, day 1 only 10.
    assert.equal(computeGroundTruth(new Movement(pair, 1), 2).closeContactPairs, 1);
  });

  it("someone off site is near nobody", () => {
    const gt = computeGroundTruth(new Movement(pair, 1), 3);
    assert.deepEqual(gt.days[2].pairs, []);
  });
});
