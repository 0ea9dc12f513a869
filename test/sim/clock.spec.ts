import { strict as assert } from "node:assert";
import { DriftingClock } from "../../host-tools/src/sim/clock";

describe("sim token clock", () => {
  it("a clock with +20 ppm gains 12.096 s in a week", () => {
    const c = new DriftingClock({ driftPpm: 20 });
    const week = 7 * 86400;
    assert.ok(Math.abs(c.local(week) - week - 12.096) < 1e-6);
  });

  it("trueAt is the inverse of local", () => {
    const c = new DriftingClock({ driftPpm: -35, startTrue: 1000, startLocal: 5 });
    for (const t of [1000, 1234.5, 86400 * 3]) assert.ok(Math.abs(c.trueAt(c.local(t)) - t) < 1e-6);
  });

  it("starts with the given offset", () => {
    const c = new DriftingClock({ startTrue: 100, startLocal: 0 });
    assert.equal(c.local(160), 60);
    assert.equal(c.offset(160), -100);
  });

  it("setTime makes the local clock read the given value from then on, keeping the drift", () => {
    const c = new DriftingClock({ driftPpm: 100 });
    c.set(500, 1_700_000_000);
    assert.equal(c.local(500), 1_700_000_000);
    assert.ok(Math.abs(c.local(1500) - (1_700_000_000 + 1000 * 1.0001)) < 1e-6);
  });

  it("a battery change resets the local clock to 0", () => {
    const c = new DriftingClock({ startLocal: 1_700_000_000 });
    c.reset(3600);
    assert.equal(c.local(3600), 0);
    assert.equal(c.local(3610), 10);
  });

  it("a battery change can restart the clock at a given value", () => {
    const c = new DriftingClock();
    c.reset(10, 946684800);
    assert.equal(c.local(11), 946684801);
  });
});
