import { strict as assert } from "node:assert";
import { detectionFigures, pairDays } from "../../../host-tools/src/sim/metrics/detection-figures";

describe("sim/metrics: detection figures for tokens and phones alike", () => {
  const truth = new Set(["p1", "p2"]);

  it("a score that ranks every close contact above every other pair-day has AUC 1", () => {
    const f = detectionFigures(
      new Map([
        ["p1", 30],
        ["p2", 20],
        ["n1", 10]
      ]),
      15,
      truth,
      new Set(),
      10
    );
    assert.equal(f.auc, 1);
    assert.deepEqual([f.precision, f.recall, f.f1], [1, 1, 1]);
  });

  it("pair-days never heard score 0: a missed contact ties with them and counts half", () => {
    // p2 unheard: against 8 negatives (1 heard at 10, 7 unheard at 0) it wins none, ties 7.
    const f = detectionFigures(
      new Map([
        ["p1", 30],
        ["n1", 10]
      ]),
      15,
      truth,
      new Set(),
      10
    );
    assert.equal(f.auc, (8 + 3.5) / 16);
    assert.equal(f.recall, 0.5);
    assert.equal(f.falseNegatives, 1);
  });

  it("counts a flagged near miss apart: precision is lowered by it, near-miss precision is not", () => {
    const f = detectionFigures(
      new Map([
        ["p1", 30],
        ["p2", 20],
        ["n1", 16],
        ["n2", 16]
      ]),
      15,
      truth,
      new Set(["n1"]),
      12
    );
    assert.equal(f.precision, 0.5);
    assert.equal(f.nearMissPrecision, 0.75);
    assert.equal(f.nearMisses, 1);
    assert.ok(Math.abs(f.f1 - 2 / 3) < 1e-12);
  });

  it("a score below 0 (a classifier's, relative to a pair-day never heard) ranks under the unheard", () => {
    // p1 at -1 loses to n1 (0.5) and to the 7 unheard at 0; p2 at 2 beats all 8.
    const f = detectionFigures(
      new Map([
        ["p1", -1],
        ["p2", 2],
        ["n1", 0.5]
      ]),
      1,
      truth,
      new Set(),
      10
    );
    assert.equal(f.auc, 8 / 16);
  });

  it("nothing flagged and nothing to find is no error", () => {
    const f = detectionFigures(new Map(), 15, new Set(), new Set(), 6);
    assert.deepEqual([f.precision, f.recall, f.auc, f.nearMissPrecision], [1, 1, 1, 1]);
  });

  it("the field is every ordered pair of the people, every day", () => {
    assert.equal(pairDays(50, 14), 50 * 49 * 14);
  });
});
