import { strict as assert } from "node:assert";
import { energyReport, zeroCounters } from "../../../host-tools/src/sim/world/energy";
import { loadBoard } from "../../../host-tools/src/build/boards";

const puck = loadBoard("puckjs").power;
const DAY = 86400;

describe("sim/world energy model", () => {
  it("scanning 4 s every 5 min alone averages about 160 µA (espruino.md)", () => {
    const c = { ...zeroCounters(), scanMs: (DAY / 300) * 4000 };
    const r = energyReport(c, DAY, puck);
    assert.ok(Math.abs(r.scanUA - 160) < 1, `${r.scanUA} µA`);
  });

  it("scanning 1 s every 5 min alone averages about 40 µA", () => {
    const r = energyReport({ ...zeroCounters(), scanMs: (DAY / 300) * 1000 }, DAY, puck);
    assert.ok(Math.abs(r.scanUA - 40) < 0.5, `${r.scanUA} µA`);
  });

  it("non-connectable advertising at 375 ms averages about 22 µA with sleep", () => {
    const r = energyReport({ ...zeroCounters(), advertEvents: DAY / 0.375 }, DAY, puck);
    assert.ok(Math.abs(r.totalUA - 22) < 1, `${r.totalUA} µA`);
  });

  it("turns the average current into battery days (220 mAh at 160 µA ≈ 7 weeks)", () => {
    const r = energyReport({ ...zeroCounters(), scanMs: (DAY / 300) * 4000 }, DAY, { ...puck, sleepUA: 0 });
    assert.ok(Math.abs(r.batteryDays - 220000 / 160 / 24) < 0.5, `${r.batteryDays} days`);
  });

  it("charges interpreted AES far more than native AES", () => {
    const c = { ...zeroCounters(), aesBlocks: 1000 };
    assert.ok(energyReport(c, DAY, { ...puck, nativeAes: false }).cpuUA > 50 * energyReport(c, DAY, { ...puck, nativeAes: true }).cpuUA);
  });

  it("refuses a zero elapsed time", () => {
    assert.throws(() => energyReport(zeroCounters(), 0, puck), RangeError);
  });
});
