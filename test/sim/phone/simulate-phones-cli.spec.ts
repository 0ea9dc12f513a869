import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Scenario } from "../../../host-tools/src/sim/world/scenario";
import { DAY_ROOM, dayRoomWearers, simulateCli } from "../../helpers/cli";

function simulate(args: string[]): ReturnType<typeof simulateCli> {
  return simulateCli(args);
}

/** Five token wearers in a day room, two at one table for lunch; a visitor with a phone sits with them. */
const dayRoom: Scenario = {
  name: "day-room",
  startDate: "2030-02-04",
  rooms: DAY_ROOM,
  people: [
    ...dayRoomWearers([
      { id: "a", x: 2 },
      { id: "b", x: 3 },
      { id: "c", x: 9 },
      { id: "d", x: 14 },
      { id: "e", x: 18 }
    ]),
    {
      id: "visitor",
      role: "visitor",
      device: { kind: "phone" as const },
      schedule: [{ from: "12:00", to: "13:00", rooms: ["room"], at: [2.5, 5] as [number, number] }]
    }
  ]
};

type Figures = Record<"precision" | "recall" | "recallWithin1_5m" | "f1" | "auc" | "nearMissPrecision" | "falsePositiveRate", number> & {
  roc: Array<{ cut: number | null; falsePositiveRate: number; truePositiveRate: number }>;
};

describe("privatetracer simulate: tokens and GAEN phones side by side", function () {
  this.timeout(300_000);
  let dir = "";
  let file = "";
  let withPhones: Record<string, unknown> & {
    detection: Record<string, unknown> & { token: Figures; phone?: Figures; groundTruthContacts: number };
  };
  let withoutPhones: typeof withPhones;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "sim-phones-"));
    file = path.join(dir, "day-room.json");
    fs.writeFileSync(file, JSON.stringify(dayRoom));
    const a = simulate(["--scenario", file, "--days", "1", "--seed", "3", "--json"]);
    assert.equal(a.status, 0, a.stderr);
    withPhones = JSON.parse(a.stdout);
    const b = simulate(["--scenario", file, "--days", "1", "--seed", "3", "--json", "--no-phones"]);
    assert.equal(b.status, 0, b.stderr);
    withoutPhones = JSON.parse(b.stdout);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("--json has detection.token and detection.phone with precision, recall, F1, AUC and near-miss precision in range", () => {
    const { token, phone } = withPhones.detection;
    assert.ok(phone, "detection.phone");
    for (const f of [token, phone]) {
      for (const k of ["precision", "recall", "recallWithin1_5m", "f1", "auc", "nearMissPrecision", "falsePositiveRate"] as const)
        assert.ok(typeof f[k] === "number" && f[k] >= 0 && f[k] <= 1, `${k} ${f[k]}`);
      // The ROC curve starts with nothing flagged, climbs in both rates, and passes through the detector's own cut.
      assert.deepEqual(f.roc[0], { cut: null, falsePositiveRate: 0, truePositiveRate: 0 });
      for (let i = 1; i < f.roc.length; i++) {
        assert.ok(
          f.roc[i].falsePositiveRate >= f.roc[i - 1].falsePositiveRate && f.roc[i].truePositiveRate >= f.roc[i - 1].truePositiveRate
        );
        assert.ok(f.roc[i].cut! < (f.roc[i - 1].cut ?? Infinity), "cuts from strict to lax");
      }
      assert.ok(
        f.roc.some((p) => p.truePositiveRate >= f.recall),
        "the curve reaches the recall at the detector's cut"
      );
    }
    const p = phone as unknown as { people: number; groundTruthContacts: number; buckets: string; settings: unknown[] };
    assert.equal(p.people, 5, "the phones are scored on the token wearers");
    assert.equal(p.groundTruthContacts, withPhones.detection.groundTruthContacts, "the same contacts");
    assert.equal(p.buckets, "narrowNetV1");
    assert.equal(p.settings.length, 3);
    assert.ok(phone.recall > 0, "the lunch table is found by the phones too");
  });

  it("applies the band classifiers fitted on other care-home seeds to tokens and phones, and says so", () => {
    type Classified = { classifier: Figures & { heldOut: boolean; trainedOn: { seeds: number[] } } };
    for (const d of [withPhones.detection.token, withPhones.detection.phone]) {
      const c = (d as unknown as Classified).classifier;
      for (const k of ["precision", "recall", "f1", "auc", "nearMissPrecision"] as const) assert.ok(c[k] >= 0 && c[k] <= 1, `${k} ${c[k]}`);
      assert.equal(c.heldOut, true, "a scenario file is not what it was fitted on");
      assert.ok(c.trainedOn.seeds.length >= 1);
    }
  });

  it("leaves every token figure as it is without phones", () => {
    const strip = (j: typeof withPhones) => {
      const { wallSeconds: _w, detection, ...rest } = j;
      const { phone: _p, ...tokenDetection } = detection;
      return { ...rest, detection: tokenDetection };
    };
    assert.equal(withoutPhones.detection.phone, undefined, "--no-phones leaves the phones out");
    assert.deepEqual(strip(withPhones), strip(withoutPhones));
  });

  it("the text output puts the two on consecutive lines", () => {
    const r = simulate(["--scenario", file, "--days", "1", "--seed", "3", "--no-tokens"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^tokens +precision [\d.]+ %, recall [\d.]+ % \([\d.]+ % within 1\.5 m\), F1 [\d.]+, AUC [\d.]+/m);
    assert.match(
      r.stdout,
      /^GAEN phones +precision [\d.]+ %, recall [\d.]+ % \([\d.]+ % within 1\.5 m\), F1 [\d.]+, AUC [\d.]+.*narrowNetV1/m
    );
  });
});
