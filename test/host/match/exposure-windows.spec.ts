import { strict as assert } from "node:assert";
import { attenuationBucket } from "../../../host-tools/src/match/exposure-windows";
import { matchExposures } from "../../../host-tools/src/match/run-match";
import { handExample, plantAt, randomKey, T } from "./plant";

/**
 * A hand-computed example with the default config (thresholds 55/63/73 dB,
 * weights 1.5/1/0.5/0, first scan 255 s, cap 300 s, new window after 30 min).
 * Tx power -4 dBm (from the AEM), so attenuation = -4 - rssi.
 *
 *   t          rssi  att  scan                      credit  bucket
 *   T          -55   51   ┐ one scan: typical 54     255     immediate (first of window)
 *   T+3        -61   57   ┘ min 51
 *   T+240      -64   60                               240     near
 *   T+840      -74   70                               300     medium (600 s gap, capped)
 *   T+2540     -90   86                               300     other (1700 s gap ≤ 30 min, capped)
 *   T+4341     -60   56   new window (1801 s gap)    255     near
 *
 * Window 1: 1095 s; weighted 255×1.5 + 240 + 300×0.5 + 0 = 772.5 s = 12.875 min.
 * Window 2: 255 s; weighted 255 s = 4.25 min.
 * Key: confirmed test (×1), 0 days since onset → high infectiousness (×1.5):
 * scores 19.3125 and 6.375, day total 25.6875 → medium (15 ≤ 25.7 < 30).
 */
describe("exposure windows and weighted durations (GAEN v2 model)", () => {
  it("buckets attenuation at the thresholds, inclusive", () => {
    const t: [number, number, number] = [55, 63, 73];
    assert.deepEqual(
      [0, 55, 56, 63, 64, 73, 74, 120].map((a) => attenuationBucket(a, t)),
      ["immediate", "immediate", "near", "near", "medium", "medium", "other", "other"]
    );
  });

  it("builds scans, windows, bucket seconds and weighted duration of the hand-computed example", async () => {
    const { key, sightings } = handExample();
    const r = await matchExposures([key], sightings);
    assert.equal(r.matches.length, 6);
    assert.equal(r.windows.length, 2);
    const [w1, w2] = r.windows.map((s) => s.window);
    assert.equal(w1.scans.length, 4);
    assert.equal(w1.scans[0].sightings.length, 2);
    assert.equal(w1.scans[0].typicalAttenuationDb, 54);
    assert.equal(w1.scans[0].minAttenuationDb, 51);
    assert.deepEqual(
      w1.scans.map((s) => s.secondsSinceLastScan),
      [255, 240, 300, 300]
    );
    assert.deepEqual(w1.bucketSeconds, { immediate: 255, near: 240, medium: 300, other: 300 });
    assert.equal(w1.durationSeconds, 1095);
    assert.equal(w1.weightedSeconds, 772.5);
    assert.equal(w1.start, T);
    assert.equal(w1.end, T + 2540);
    assert.deepEqual(w2.bucketSeconds, { immediate: 0, near: 255, medium: 0, other: 0 });
    assert.equal(w2.weightedSeconds, 255);
  });

  it("scores the windows with report-type and infectiousness weights and sums the day", async () => {
    const { key, sightings } = handExample();
    const r = await matchExposures([key], sightings);
    assert.deepEqual(
      r.windows.map((w) => [w.reportType, w.infectiousness, w.score]),
      [
        ["confirmedTest", "high", 19.3125],
        ["confirmedTest", "high", 6.375]
      ]
    );
    assert.equal(r.days.length, 1);
    assert.equal(r.days[0].day, "2020-04-02");
    assert.equal(r.days[0].score, 25.6875);
    assert.equal(r.days[0].exposureMinutes, (1095 + 255) / 60);
    assert.equal(r.level, "medium");
  });

  it("keeps two keys heard at the same time in separate windows", async () => {
    const a = randomKey();
    const b = randomKey();
    const r = await matchExposures([a, b], [plantAt(a, T), plantAt(b, T + 1), plantAt(a, T + 240)]);
    assert.equal(r.windows.length, 2);
    assert.deepEqual(r.windows.map((w) => w.window.scans.length).sort(), [1, 2]);
  });
});
