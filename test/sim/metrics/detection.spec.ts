import { strict as assert } from "node:assert";
import { loadBoard } from "../../../host-tools/src/build/boards";
import { createEmulatedToken } from "../../../host-tools/src/sim/espruino";
import { runWorld } from "../../../host-tools/src/sim/world/runner";
import { Scenario } from "../../../host-tools/src/sim/world/scenario";
import { DEFAULT_THRESHOLD_DB } from "../../../host-tools/src/sim/metrics/detection";
import { LogCollector } from "../../../host-tools/src/sim/metrics/log-collector";
import { runMetrics } from "../../../host-tools/src/sim/metrics/run-metrics";
import { readTokenFlash } from "../../../host-tools/src/sim/metrics/token-flash";
import { testBundle } from "../../helpers/firmware";

/**
 * A long open hall, no walls: a and b sit 1 m apart for 30 minutes; c and d
 * sit 10 m apart for the same 30 minutes, far from a and b. Everyone is off
 * site the rest of the day. Ground truth: a–b is a close contact, c–d is not.
 */
const at = (x: number): [number, number] => [x, 3];
const visit = (id: string, x: number) => ({
  id,
  role: "resident",
  device: { kind: "token" as const },
  schedule: [{ from: "10:00", to: "10:30", rooms: ["hall"], at: at(x) }]
});
const hall: Scenario = {
  name: "hall",
  startDate: "2030-02-04",
  rooms: [{ id: "hall", kind: "lounge", x: 0, y: 0, w: 60, h: 6 }],
  people: [visit("a", 2), visit("b", 3), visit("c", 30), visit("d", 40)]
};

describe("sim/metrics: close contacts from the tokens' logs alone", function () {
  this.timeout(120_000);
  let metrics: Awaited<ReturnType<typeof runMetrics>>;
  let world: ReturnType<typeof runWorld>;

  before(async () => {
    const code = (await testBundle("puckjs")).code;
    const board = loadBoard("puckjs");
    const logs = new LogCollector();
    world = runWorld({
      scenario: hall,
      days: 1,
      seed: 7,
      defaultBoard: "puckjs",
      loadBoard: () => board,
      bundleFor: () => code,
      makeToken: (a) => {
        const t = createEmulatedToken(a);
        logs.track(a.id, t.storage);
        return t;
      },
      keepTokens: true,
      onProgress: () => logs.collect()
    });
    metrics = await runMetrics(world, { thresholdDb: DEFAULT_THRESHOLD_DB, schedule: board.schedule, logs });
  });

  it("each token's flash holds its own TEK and a log of what it heard", () => {
    for (const id of ["a", "b", "c", "d"]) {
      const f = readTokenFlash((world.emulated!.get(id) as unknown as { storage: Parameters<typeof readTokenFlash>[0] }).storage);
      assert.ok(f.teks.length >= 1, `${id}: own TEK in flash`);
      assert.ok(f.encounters.length >= 5, `${id}: ${f.encounters.length} records`);
      assert.ok(f.encounters.every((e) => e.time >= Date.parse("2030-02-04T10:00:00Z") / 1000 - 600), `${id}: records placed in UTC time`);
    }
  });

  it("finds a and b (1 m apart for 30 min) as a close contact, and not c and d (10 m apart)", () => {
    const d = metrics.detection;
    assert.equal(d.groundTruthContacts, 2, "a→b and b→a on the one day");
    // At 1 m the attenuation spans about 37–58 dB (body loss, shadowing), so a
    // 30-minute contact can leave one direction a few minutes short: at least
    // one of the two tokens must find it.
    assert.ok(d.truePositives >= 1, "the contact is found in the logs");
    assert.equal(d.falsePositives, 0, "c and d, 10 m apart, are not taken for a close contact");
    assert.equal(d.precision, 1);
    assert.ok(d.recall >= 0.5);
    assert.equal(d.thresholdDb, DEFAULT_THRESHOLD_DB);
  });

  it("a threshold loose enough to count 10 m as close makes c–d a false alarm: the sweep shows the trade-off", () => {
    const loose = metrics.detection.curve.find((c) => c.thresholdDb === 80)!;
    assert.equal(loose.truePositives, 2, "both directions of a–b");
    assert.ok(loose.falsePositives >= 2, "c–d (10 m) counts at ≤ 80 dB");
    assert.ok(loose.precision <= 0.5);
  });

  it("the per-token figures add up: encounters, flash, current, battery, no faults", () => {
    assert.equal(metrics.tokens.length, 4);
    for (const t of metrics.tokens) {
      assert.ok(t.encounters > 0 && t.retained === t.encounters, `${t.person}: nothing evicted in 30 min`);
      assert.equal(t.logBytes, t.segments * 1048);
      assert.ok(t.avgCurrentUA > 3 && t.batteryDays > 0);
      assert.equal(t.faults + t.uncaught, 0);
    }
    assert.equal(metrics.encounters, metrics.tokens.reduce((n, t) => n + t.encounters, 0));
  });
});
