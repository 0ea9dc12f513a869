import { strict as assert } from "node:assert";
import { runWorld } from "../../../host-tools/src/sim/world/runner";
import { careHome } from "../../../host-tools/src/sim/world/care-home";
import { loadBoard } from "../../../host-tools/src/build/boards";
import { CLOSE_CONTACT_METRES, CLOSE_CONTACT_MINUTES } from "../../../host-tools/src/sim/world/ground-truth";
import { parseClock } from "../../../host-tools/src/sim/world/scenario-load";
import { Scenario } from "../../../host-tools/src/sim/world/scenario";
import { ScriptedToken, scriptedTokens } from "./scripted-token";

const OPTIONS = { residents: 30, staffTokens: 4, visitors: 4 };

async function run(seed: number) {
  const scenario = careHome({ seed, ...OPTIONS });
  const world = await runWorld({
    scenario,
    days: 1,
    seed,
    defaultBoard: "puckjs",
    loadBoard,
    bundleFor: () => "",
    makeToken: scriptedTokens,
    keepTokens: true
  });
  return Object.assign(world, { definition: scenario });
}

/**
 * Pairs of people whose schedules put them at fixed spots within 2 m of each
 * other at the same time (residents at one dining table), with the minutes
 * that overlap in one day: read from the scenario's definition, not from the
 * movement model.
 */
function fixedSpotPairs(s: Scenario): Map<string, number> {
  const out = new Map<string, number>();
  const spots = s.people.flatMap((p) =>
    p.schedule.filter((e) => e.at && !e.weekdays && !e.days && (e.chance ?? 1) === 1).map((e) => ({ id: p.id, e }))
  );
  for (let i = 0; i < spots.length; i++)
    for (let j = i + 1; j < spots.length; j++) {
      const a = spots[i];
      const b = spots[j];
      if (a.id === b.id || Math.hypot(a.e.at![0] - b.e.at![0], a.e.at![1] - b.e.at![1]) > CLOSE_CONTACT_METRES) continue;
      const overlap = Math.min(parseClock(a.e.to)!, parseClock(b.e.to)!) - Math.max(parseClock(a.e.from)!, parseClock(b.e.from)!);
      if (overlap <= 0) continue;
      const key = [a.id, b.id].sort().join(" ");
      out.set(key, (out.get(key) ?? 0) + overlap);
    }
  return out;
}

describe("sim/world runner (scripted tokens)", () => {
  let a: Awaited<ReturnType<typeof run>>;
  before(async () => {
    a = await run(5);
  });

  it("runs a day of the care home with every device of the scenario, and each delivered packet reaches one receiver", () => {
    const devices = (kind: string) => a.definition.people.filter((p) => p.device?.kind === kind).length;
    assert.equal(a.tokens, OPTIONS.residents + OPTIONS.staffTokens);
    assert.equal(a.tokens, devices("token"));
    assert.equal(a.phones, devices("phone"));
    const tokenPackets = a.tokenResults.reduce((n, t) => n + t.packetsHeard, 0);
    const phonePackets = a.phoneResults.reduce((n, p) => n + p.packetsHeard, 0);
    assert.equal(a.radio.delivered, tokenPackets + phonePackets);
    for (const t of a.tokenResults)
      assert.equal(
        (a.emulated!.get(t.person) as ScriptedToken).heard,
        t.packetsHeard,
        `${t.person}: what the token got is what the radio delivered`
      );
  });

  it("every token scans on its board's schedule all day", () => {
    const s = loadBoard("puckjs").schedule;
    const windowS = s.scanWindowMs / 1000;
    // The first window starts within a period of a boot in the first minute; the next ones a period apart, less up to the jitter.
    const fewest = Math.floor((86400 - 60 - s.scanPeriodSec - windowS) / s.scanPeriodSec) + 1;
    const most = Math.floor((86400 - windowS) / (s.scanPeriodSec - s.scanJitterSec)) + 1;
    for (const t of a.tokenResults) {
      const windows = t.counters.scanMs / s.scanWindowMs;
      assert.ok(
        Number.isInteger(windows) && windows >= fewest && windows <= most,
        `${t.person}: ${windows} windows, expected ${fewest}..${most}`
      );
    }
  });

  it("phones log one sighting per identifier per scan, so never more than the packets they heard", () => {
    for (const p of a.phoneResults) {
      assert.ok(p.sightings <= p.packetsHeard, `${p.person}: ${p.sightings} sightings of ${p.packetsHeard} packets`);
      assert.equal(p.sightings > 0, p.packetsHeard > 0, p.person);
    }
    assert.ok(
      a.phoneResults.some((p) => p.sightings > 0),
      "no phone heard anything"
    );
  });

  it("counts as close contacts at least the residents who share a dining table, with every meal minute", () => {
    const expected = fixedSpotPairs(a.definition);
    // 30 residents at tables of four (8 tables) leave two seats empty: nobody eats alone.
    assert.ok(expected.size >= OPTIONS.residents / 2, `${expected.size} table pairs`);
    const seen = new Map(a.groundTruth.days[0].pairs.map((p) => [[p.a, p.b].sort().join(" "), p.within2m]));
    for (const [pair, minutes] of expected) {
      assert.ok(minutes >= CLOSE_CONTACT_MINUTES, `${pair}: ${minutes} min`);
      assert.ok((seen.get(pair) ?? 0) >= minutes, `${pair}: ${seen.get(pair) ?? 0} min within 2 m, at least ${minutes} at table`);
    }
    assert.ok(a.groundTruth.closeContactPairs >= expected.size);
    assert.equal(a.groundTruth.closeContactPairs, [...seen.values()].filter((m) => m >= CLOSE_CONTACT_MINUTES).length);
  });

  it("gives identical packets and ground truth for the same seed", async () => {
    const b = await run(5);
    assert.deepEqual(b.radio, a.radio);
    assert.deepEqual(b.groundTruth, a.groundTruth);
    assert.deepEqual(
      b.tokenResults.map((t) => t.packetsHeard),
      a.tokenResults.map((t) => t.packetsHeard)
    );
  });

  it("gives different packets and ground truth for another seed", async () => {
    const c = await run(6);
    assert.notDeepEqual(c.radio, a.radio);
    assert.notDeepEqual(c.groundTruth, a.groundTruth);
  });
});
