import { strict as assert } from "node:assert";
import type { DiagnosisFigures } from "../../../host-tools/src/sim/kiosk/kiosk-figures";
import { PhoneBaseline, exposureIndex } from "../../../host-tools/src/sim/phone/phone-baseline";
import { phoneWarnings, phoneWarningsLine } from "../../../host-tools/src/sim/phone/phone-warnings";

/** Phones' warnings for the scenario's diagnoses, scored on the same exposed wearers as the kiosk's token warnings. */
describe("GAEN phones' warnings for the same diagnoses", () => {
  const people = ["ann", "bob", "cat", "dan"];
  const DAYS = 5;

  function baseline(heard: Array<{ rx: string; tx: string; day: number; attDb: number; minutes: number }>): PhoneBaseline {
    const exposure: Array<Uint32Array | undefined> = new Array(DAYS * people.length * people.length);
    for (const h of heard) {
      const bins = new Uint32Array(120);
      bins[h.attDb] = h.minutes * 60;
      exposure[exposureIndex(people.length, people.indexOf(h.rx), people.indexOf(h.tx), h.day)] = bins;
    }
    return {
      people,
      dates: ["2030-02-04", "2030-02-05", "2030-02-06", "2030-02-07", "2030-02-08"],
      exposure,
      scans: 0,
      scanInstances: 0,
      wallSeconds: 0
    };
  }

  function diagnosis(
    person: string,
    status: string,
    from: number,
    to: number,
    exposed: string[],
    nearMiss: string[] = []
  ): DiagnosisFigures {
    return { person, status, countedDays: { from, to }, exposed, nearMiss } as unknown as DiagnosisFigures;
  }

  it("warns a wearer whose phone spent ≥ 15 weighted minutes near the diagnosed person's on a counted day, and no one else", () => {
    const b = baseline([
      { rx: "bob", tx: "ann", day: 1, attDb: 50, minutes: 20 }, // immediate: 30 weighted minutes
      { rx: "cat", tx: "ann", day: 1, attDb: 65, minutes: 20 }, // medium: 8 weighted minutes
      { rx: "dan", tx: "ann", day: 3, attDb: 50, minutes: 60 } // the day of the diagnosis: not counted
    ]);
    const w = phoneWarnings(b, [diagnosis("ann", "uploaded", 0, 2, ["bob", "cat"])], new Set(people));
    assert.deepEqual(
      { precision: w.precision, recall: w.recall, warned: w.warned, exposed: w.exposed, truePositives: w.truePositives },
      { precision: 1, recall: 0.5, warned: 1, exposed: 2, truePositives: 1 }
    );
    assert.match(phoneWarningsLine(w), /precision 100\.0 %, recall 50\.0 % \(1 of 1 warned were exposed; 2 exposed; narrowNetV1/);
  });

  it("keys that never reached the health authority warn no phone, but their exposed wearers still count as missed", () => {
    const b = baseline([{ rx: "bob", tx: "ann", day: 1, attDb: 50, minutes: 60 }]);
    const w = phoneWarnings(b, [diagnosis("ann", "no-consent", 0, 2, ["bob"])], new Set(people));
    assert.deepEqual([w.warned, w.exposed, w.recall, w.precision], [0, 1, 0, null]);
    assert.equal(w.nearMissPrecision, null);
  });

  it("a warned wearer who had only a near miss counts toward near-miss precision, not precision", () => {
    const b = baseline([
      { rx: "bob", tx: "ann", day: 1, attDb: 50, minutes: 20 },
      { rx: "cat", tx: "ann", day: 1, attDb: 50, minutes: 20 },
      { rx: "dan", tx: "ann", day: 1, attDb: 50, minutes: 20 }
    ]);
    // Bob exposed; Cat a near miss (≥ 15 min within 3 m, not within 2 m); Dan neither.
    const w = phoneWarnings(b, [diagnosis("ann", "uploaded", 0, 2, ["bob"], ["cat"])], new Set(people));
    assert.deepEqual([w.warned, w.truePositives, w.nearMisses, w.precision, w.nearMissPrecision, w.recall], [3, 1, 1, 0.333, 0.667, 1]);
    // Cat also exposed to someone else diagnosed (who did not upload): a hit, not a near miss as well.
    const again = phoneWarnings(
      b,
      [diagnosis("ann", "uploaded", 0, 2, ["bob"], ["cat"]), diagnosis("eve", "no-consent", 0, 2, ["cat"])],
      new Set(people)
    );
    assert.deepEqual([again.truePositives, again.nearMisses, again.precision, again.nearMissPrecision], [2, 0, 0.667, 0.667]);
  });
});
