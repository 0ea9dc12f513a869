import { strict as assert } from "node:assert";
import { INTERVAL_SECONDS } from "../../../host-tools/src/match/derive";
import { findHits } from "../../../host-tools/src/match/find-hits";
import { packKeys } from "../../../host-tools/src/match/packed-keys";
import { buildSightingIndex } from "../../../host-tools/src/match/sighting-index";
import { matchExposures, MatchReport } from "../../../host-tools/src/match/run-match";
import { Sighting } from "../../../host-tools/src/match/sightings";
import { DAY0, noise, plant, randomKey } from "./plant";

function summary(r: MatchReport): unknown {
  return {
    level: r.level,
    reason: r.reason,
    derived: r.derivedKeys,
    matches: r.matches.map((m) => [m.keyIndex, m.enin, m.sightingIndex, m.rpi.toString("hex"), m.txPowerDbm, m.attenuationDb]),
    windows: r.windows.map((w) => [w.window.keyIndex, w.window.start, w.score, w.counted]),
    days: r.days
  };
}

describe("parallel matching on worker threads", () => {
  const keys = Array.from({ length: 3000 }, (_, i) => randomKey(DAY0 + 144 * (i % 3)));
  const sightings: Sighting[] = [];
  for (let i = 0; i < 500; i++) sightings.push(noise((DAY0 + (i % 432)) * INTERVAL_SECONDS + 5, 5 + (i % 12)));
  for (let i = 0; i < 60; i++) {
    const k = keys[(i * 97) % keys.length];
    sightings.push(plant(k, k.rollingStartIntervalNumber + ((i * 7) % 144), { prefixBytes: 5 + (i % 12), rssi: -50 - (i % 30) }));
  }

  it("finds on worker threads alone exactly the hits of this thread", async () => {
    const index = buildSightingIndex(sightings);
    const here = await findHits(packKeys(keys), index, { workers: 1 });
    const there = await findHits(packKeys(keys, true), index, { workers: 2, chunkKeys: 256, useThisThread: false });
    assert.equal(here.workerKeys, 0);
    assert.equal(there.workerKeys, keys.length);
    assert.ok(here.hits.length >= 60);
    assert.deepEqual(there.hits, here.hits);
    assert.equal(there.derived, here.derived);
  });

  it("gives the whole single-thread report when split across this thread and workers", async () => {
    const progress: number[] = [];
    const one = await matchExposures(keys, sightings, { workers: 1 });
    const many = await matchExposures(keys, sightings, { workers: 3, chunkKeys: 128, onProgress: (done) => progress.push(done) });
    assert.ok(one.matches.length >= 60);
    assert.deepEqual(summary(many), summary(one));
    assert.equal(progress[progress.length - 1], keys.length);
    assert.ok(
      progress.every((d, i) => i === 0 || d > progress[i - 1]),
      "progress only grows"
    );
  });
});
