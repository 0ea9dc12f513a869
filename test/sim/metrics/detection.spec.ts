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
 * A long open hall, no walls: a and b sit 1 m apart for 90 minutes; c and d
 * sit 50 m apart for the same 90 minutes, far from a and b. Everyone is off
 * site the rest of the day. Ground truth: a–b is a close contact, c–d is not.
 * (50 m: across an open hall the calibrated radio loses about what free space
 * does, so at 10–20 m a token's packets still clear the −70 dBm logging floor
 * in most scans; the floor keeps out only what is further away.)
 * (90 minutes: the default schedule scans every 10 ± 3 minutes.)
 */
const at = (x: number): [number, number] => [x, 3];
const visit = (id: string, x: number) => ({
  id,
  role: "resident",
  device: { kind: "token" as const },
  schedule: [{ from: "10:00", to: "11:30", rooms: ["hall"], at: at(x) }]
});
const hall: Scenario = {
  name: "hall",
  startDate: "2030-02-04",
  rooms: [{ id: "hall", kind: "lounge", x: 0, y: 0, w: 120, h: 6 }],
  people: [visit("a", 2), visit("b", 3), visit("c", 60), visit("d", 110)]
};

describe("sim/metrics: close contacts from the tokens' logs alone", function () {
  this.timeout(120_000);
  let metrics: Awaited<ReturnType<typeof runMetrics>>;
  let world: Awaited<ReturnType<typeof runWorld>>;

  before(async () => {
    const code = (await testBundle("puckjs")).code;
    const board = loadBoard("puckjs");
    const logs = new LogCollector();
    world = await runWorld({
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

  const flashOf = (id: string) =>
    readTokenFlash((world.emulated!.get(id) as unknown as { storage: Parameters<typeof readTokenFlash>[0] }).storage);

  it("each token's flash holds its own TEK and a log of what it heard nearby", () => {
    for (const id of ["a", "b"]) {
      const f = flashOf(id);
      assert.ok(f.teks.length >= 1, `${id}: own TEK in flash`);
      assert.ok(f.encounters.length >= 5, `${id}: ${f.encounters.length} records`);
      assert.ok(
        f.encounters.every((e) => e.time >= Date.parse("2030-02-04T10:00:00Z") / 1000 - 600),
        `${id}: records placed in UTC time`
      );
    }
  });

  it("spends little flash on someone 50 m away: the logging floor keeps most of c–d out of the log", () => {
    const near = Math.min(flashOf("a").encounters.length, flashOf("b").encounters.length);
    for (const id of ["c", "d"]) {
      const f = flashOf(id);
      assert.ok(f.teks.length >= 1, `${id}: own TEK in flash`);
      // Only a fading peak now and then clears the floor at 50 m.
      assert.ok(f.encounters.length * 3 <= near, `${id}: ${f.encounters.length} records vs ${near} at 1 m`);
    }
  });

  it("finds a and b (1 m apart for 90 min) as a close contact, and not c and d (50 m apart)", () => {
    const d = metrics.detection;
    assert.equal(d.groundTruthContacts, 2, "a→b and b→a on the one day");
    // At 1 m the attenuation spans about 35–62 dB (body loss, shadowing, fading), so a
    // 30-minute contact can leave one direction a few minutes short: at least
    // one of the two tokens must find it.
    assert.ok(d.truePositives >= 1, "the contact is found in the logs");
    assert.equal(d.falsePositives, 0, "c and d, 50 m apart, are not taken for a close contact");
    assert.equal(d.precision, 1);
    assert.ok(d.recall >= 0.5);
    assert.equal(d.thresholdDb, DEFAULT_THRESHOLD_DB);
  });

  it("the threshold sweep: a loose threshold finds both directions of a–b; loosening never finds fewer", () => {
    const curve = metrics.detection.curve;
    const loose = curve.find((c) => c.thresholdDb === 80)!;
    assert.equal(loose.truePositives, 2, "both directions of a–b");
    for (let i = 1; i < curve.length; i++) {
      assert.ok(curve[i].thresholdDb > curve[i - 1].thresholdDb);
      assert.ok(curve[i].truePositives >= curve[i - 1].truePositives, `true positives at ${curve[i].thresholdDb} dB`);
      assert.ok(curve[i].falsePositives >= curve[i - 1].falsePositives, `false positives at ${curve[i].thresholdDb} dB`);
    }
  });

  it("the per-token figures add up: encounters, flash, current, battery, no faults", () => {
    assert.equal(metrics.tokens.length, 4);
    for (const t of metrics.tokens) {
      assert.ok(t.retained === t.encounters, `${t.person}: nothing evicted in 90 min`);
      if (t.person === "a" || t.person === "b") assert.ok(t.encounters > 0, `${t.person}: ${t.encounters} encounters`);
      assert.equal(t.logBytes, t.segments * 1048);
      assert.ok(t.avgCurrentUA > 3 && t.batteryDays > 0);
      assert.equal(t.faults + t.uncaught, 0);
    }
    assert.equal(
      metrics.encounters,
      metrics.tokens.reduce((n, t) => n + t.encounters, 0)
    );
  });
});
