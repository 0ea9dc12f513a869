import { strict as assert } from "node:assert";
import type { DiagnosisFigures, KioskFigureInput } from "../../../host-tools/src/sim/kiosk/kiosk-figures";
import { kioskFigures } from "../../../host-tools/src/sim/kiosk/kiosk-figures";
import { WarningLevelRow, warningLevelLines, warningLevels } from "../../../host-tools/src/sim/kiosk/warning-levels";
import type { PhoneWarnings } from "../../../host-tools/src/sim/phone/phone-warnings";
import type { GroundTruth, PairDay } from "../../../host-tools/src/sim/world/ground-truth";

const DAY = 86400;

function diagnosis(exposed: string[], nearMiss: string[]): DiagnosisFigures {
  return { person: "ann", status: "uploaded", countedDays: { from: 0, to: 2 }, exposed, nearMiss } as unknown as DiagnosisFigures;
}

const tokens = (levels: Record<string, number>): Array<{ person: string; level: number; firstAt: number }> =>
  Object.entries(levels).map(([person, level], i) => ({ person, level, firstAt: i }));

const counts = (r: WarningLevelRow): number[] => [r.warned, r.truePositives, r.nearMisses, r.exposed];
const ratios = (r: WarningLevelRow): Array<number | null> => [r.precision, r.recall, r.nearMissPrecision];

describe("warnings per level against the ground truth", () => {
  // Bob, Cat and Dan were exposed; Eve had only a near miss; Fay was nowhere near.
  const perDiagnosis = [diagnosis(["bob", "cat", "dan"], ["eve"])];
  const t = warningLevels({ perDiagnosis, tokens: tokens({ bob: 2, cat: 1, eve: 1, fay: 2 }) });

  it("the high level: only tokens whose highest level was 2, and an exposed wearer warned low is missed there", () => {
    // Bob (exposed) and Fay (not) were warned high; Cat's low warning does not count toward the high level's recall.
    assert.deepEqual(counts(t.tokensHigh), [2, 1, 0, 3]);
    assert.deepEqual(ratios(t.tokensHigh), [0.5, 0.333, 0.5]);
  });

  it("any level: every warned token, so a low warning of an exposed wearer is a hit", () => {
    assert.deepEqual(counts(t.tokensAny), [4, 2, 1, 3]);
    assert.deepEqual(ratios(t.tokensAny), [0.5, 0.667, 0.75]);
  });

  it("a wearer warned low after only a near miss counts toward near-miss precision, not precision", () => {
    const withEve = warningLevels({ perDiagnosis, tokens: tokens({ bob: 2, eve: 1 }) });
    assert.equal(withEve.tokensAny.precision, 0.5, "Eve's warning is a false alarm by the 2 m rule");
    assert.equal(withEve.tokensAny.nearMissPrecision, 1, "but defensible: she was ≥ 15 min within 3 m");
    assert.equal(withEve.tokensHigh.nearMissPrecision, 1, "the high level did not warn her");
    const withFay = warningLevels({ perDiagnosis, tokens: tokens({ bob: 2, fay: 1 }) });
    assert.deepEqual([withFay.tokensAny.precision, withFay.tokensAny.nearMissPrecision], [0.5, 0.5], "Fay was nowhere near");
  });

  it("a near miss with one person diagnosed and exposed to another is exposed, counted once", () => {
    const two = [diagnosis(["bob"], ["gus"]), diagnosis(["gus"], [])];
    const g = warningLevels({ perDiagnosis: two, tokens: tokens({ gus: 1 }) });
    assert.deepEqual(counts(g.tokensAny), [1, 1, 0, 2]);
    assert.deepEqual(ratios(g.tokensAny), [1, 0.5, 1]);
  });

  it("GAEN phones: one row from the phones' own counts, on the same exposed wearers; none without the baseline", () => {
    const phone: PhoneWarnings = {
      precision: 0.4,
      recall: 0.667,
      nearMissPrecision: 0.6,
      warned: 5,
      exposed: 3,
      truePositives: 2,
      nearMisses: 1,
      buckets: "narrowNetV1"
    };
    const p = warningLevels({ perDiagnosis, tokens: [] }, phone);
    assert.ok(p.phones);
    assert.deepEqual(counts(p.phones), [5, 2, 1, 3]);
    assert.deepEqual(ratios(p.phones), [0.4, 0.667, 0.6]);
    assert.equal("phones" in t, false);
  });

  it("nothing warned or no one exposed gives null, not NaN or a made-up 0 or 1", () => {
    const none = warningLevels({ perDiagnosis: [], tokens: [] });
    for (const r of [none.tokensHigh, none.tokensAny]) {
      assert.deepEqual(counts(r), [0, 0, 0, 0]);
      assert.deepEqual(ratios(r), [null, null, null]);
    }
    // Exposed wearers, no warning: nothing to be precise about, and every one missed.
    const missed = warningLevels({ perDiagnosis, tokens: [] });
    assert.deepEqual(ratios(missed.tokensAny), [null, 0, null]);
    // Warned with no one exposed: every warning wrong, and no recall to speak of.
    const noExposed = warningLevels({ perDiagnosis: [diagnosis([], [])], tokens: tokens({ fay: 2 }) });
    assert.deepEqual(ratios(noExposed.tokensHigh), [0, null, 0]);
  });

  it("prints an aligned table, a dash for a share of nothing", () => {
    const lines = warningLevelLines(warningLevels({ perDiagnosis, tokens: tokens({ cat: 1 }) }));
    assert.equal(lines.length, 4);
    assert.match(lines[0], /warned +exposed +precision +recall +near-miss precision$/);
    assert.match(lines[1], /tokens, high \(level 2\) +0 +0 +– +0\.0 % +–$/);
    assert.match(lines[2], /tokens, any warning \(level ≥ 1\) +1 +1 +100\.0 % +33\.3 % +100\.0 %$/);
    assert.equal(lines[1].length, lines[2].length, "the columns line up");
    assert.equal(lines[0].length, lines[1].length);
    assert.match(lines[3], /3 token wearers were/);
  });
});

describe("the kiosk figures' near misses per diagnosis", () => {
  // Ann tested positive on day 3 (onset day 2): days 0 to 2 count.
  const pair = (a: string, b: string, within2m: number, within3m: number): PairDay => ({
    a,
    b,
    within1m: 0,
    within1_5m: 0,
    within2m,
    within3m
  });
  const groundTruth: GroundTruth = {
    closeContactPairs: 1,
    days: [
      { date: "2030-01-01", pairs: [pair("ann", "eve", 0, 20)] },
      { date: "2030-01-02", pairs: [pair("ann", "bob", 20, 30), pair("ann", "cat", 5, 20), pair("ann", "dan", 10, 14)] },
      { date: "2030-01-03", pairs: [pair("ann", "bob", 0, 20), pair("ann", "gus", 0, 40), pair("cat", "dan", 0, 60)] },
      // The day of the diagnosis: its key is still in use, so not uploaded.
      { date: "2030-01-04", pairs: [pair("ann", "fay", 0, 60)] },
      { date: "2030-01-05", pairs: [] }
    ]
  };
  const input = {
    log: {
      rounds: [],
      sessions: [],
      staffRound: [],
      notes: [],
      secrets: new Map(),
      diagnoses: [
        {
          person: "ann",
          at: 3 * DAY + 36000,
          onset: 2 * DAY,
          status: "uploaded",
          detail: "",
          keysUploaded: 3,
          upload: null,
          publishedAt: 3 * DAY + 39600
        }
      ]
    },
    groundTruth,
    start: 0,
    end: 5 * DAY,
    tokens: new Map(),
    // Gus carries a phone: the kiosk warns no phone, so he is no near miss of its.
    wearers: new Set(["ann", "bob", "cat", "dan", "eve", "fay"])
  } as unknown as KioskFigureInput;

  it("are the wearers ≥ 15 min within 3 m on a counted day, never exposed, apart from those exposed", () => {
    const [d] = kioskFigures(input).warnings.perDiagnosis;
    assert.deepEqual(d.countedDays, { from: 0, to: 2 });
    assert.deepEqual(d.exposed, ["bob"]);
    // Bob's near miss on day 2 is outweighed by day 1; Dan had 14 minutes; Fay's day is not counted; Cat–Dan is not Ann.
    assert.deepEqual(d.nearMiss, ["cat", "eve"]);
  });
});
