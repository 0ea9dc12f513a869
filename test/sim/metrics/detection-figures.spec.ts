import { strict as assert } from "node:assert";
import type { ContactTruth } from "../../../host-tools/src/sim/metrics/detection";
import { detectionFigures, pairDays, rocCurve } from "../../../host-tools/src/sim/metrics/detection-figures";

/** Close contacts and near misses as the figures take them; none within 1.5 m unless given. */
function against(close: Set<string>, near: Set<string> = new Set(), core: Set<string> = new Set()): ContactTruth {
  return { close, near, core };
}

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
      against(truth),
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
      against(truth),
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
      against(truth, new Set(["n1"])),
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
      against(truth),
      10
    );
    assert.equal(f.auc, 8 / 16);
  });

  it("counts the contacts within 1.5 m found apart: an unheard one is missed, one under the cut too", () => {
    const f = detectionFigures(
      new Map([
        ["p1", 30],
        ["p2", 10],
        ["p3", 40]
      ]),
      15,
      against(new Set(["p1", "p2", "p3", "p4"]), new Set(), new Set(["p1", "p2", "p4"])),
      20
    );
    assert.equal(f.recallWithin1_5m, 1 / 3);
    assert.equal(f.recall, 2 / 4);
  });

  it("nothing flagged and nothing to find is no error", () => {
    const f = detectionFigures(new Map(), 15, against(new Set()), 6);
    assert.deepEqual([f.precision, f.recall, f.auc, f.nearMissPrecision], [1, 1, 1, 1]);
  });

  it("the field is every ordered pair of the people, every day", () => {
    assert.equal(pairDays(50, 14), 50 * 49 * 14);
  });

  describe("the ROC curve", () => {
    it("is the area the AUC measures: under every cut's point, closed to (1, 1) by the unheard tie", () => {
      // 40 contacts and 160 others among 1,000 pair-days: contacts score higher on average, with ties.
      let x = 7;
      const rand = (): number => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
      const scores = new Map<string, number>();
      const contacts = new Set<string>();
      for (let i = 0; i < 200; i++) {
        const key = `k${i}`;
        const real = i < 40;
        if (real) contacts.add(key);
        if (real && i % 10 === 0) continue; // four contacts never heard
        scores.set(key, Math.round((real ? 20 : 5) + 15 * rand()));
      }
      const roc = rocCurve(scores, contacts, 1000, 0);
      let area = 0;
      const pts = [...roc, { cut: 0, falsePositiveRate: 1, truePositiveRate: 1 }];
      for (let i = 1; i < pts.length; i++)
        area += ((pts[i].falsePositiveRate - pts[i - 1].falsePositiveRate) * (pts[i].truePositiveRate + pts[i - 1].truePositiveRate)) / 2;
      const f = detectionFigures(scores, 20, against(contacts), 1000);
      assert.ok(Math.abs(area - f.auc) < 1e-9, `area ${area} vs AUC ${f.auc}`);
      // It ends at every heard contact found: 36 of 40.
      assert.equal(roc[roc.length - 1].truePositiveRate, 36 / 40);
    });

    it("flags tied pair-days together and is thinned to the step asked, never going back", () => {
      const scores = new Map([
        ["p1", 3],
        ["n1", 3],
        ["p2", 2],
        ["n2", 1]
      ]);
      const all = rocCurve(scores, truth, 6, 0);
      assert.deepEqual(
        all.map((p) => [p.cut, p.truePositiveRate, p.falsePositiveRate]),
        [
          [null, 0, 0],
          [3, 0.5, 0.25],
          [2, 1, 0.25],
          [1, 1, 0.5]
        ]
      );
      const thin = rocCurve(scores, truth, 6, 0.6);
      // Cut 3 moves neither rate by 0.6 and is left out; cut 2 moves the recall by 1; the last point always stays.
      assert.deepEqual(
        thin.map((p) => p.cut),
        [null, 2, 1]
      );
    });
  });
});
