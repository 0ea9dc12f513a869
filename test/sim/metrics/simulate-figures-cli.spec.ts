import { strict as assert } from "node:assert";
import { loadBoard } from "../../../host-tools/src/build/boards";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Scenario } from "../../../host-tools/src/sim/world/scenario";
import { DAY_ROOM, dayRoomWearers, simulateCli } from "../../helpers/cli";

const simulate = (args: string[]): ReturnType<typeof simulateCli> => simulateCli(args);

/** Four token wearers sharing a day room, two of them at one table for lunch. */
const dayRoom: Scenario = {
  name: "day-room",
  startDate: "2030-02-04",
  rooms: DAY_ROOM,
  people: dayRoomWearers([
    { id: "a", x: 2 },
    { id: "b", x: 3 },
    { id: "c", x: 12 },
    { id: "d", x: 18 }
  ])
};

describe("privatetracer simulate: figures from the tokens' flash", function () {
  this.timeout(300_000);
  let dir = "";
  let file = "";
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "sim-figures-"));
    file = path.join(dir, "day-room.json");
    fs.writeFileSync(file, JSON.stringify(dayRoom));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("--json adds bytesPerEncounter, retentionDays, avgCurrentUA, batteryDays and detection, all sane", () => {
    const r = simulate(["--scenario", file, "--days", "1", "--seed", "2", "--json"]);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout.trim());
    assert.ok(j.encounters > 0, "the tokens logged what they heard");
    assert.ok(j.bytesPerEncounter >= 10 && j.bytesPerEncounter <= 40, `bytes per encounter ${j.bytesPerEncounter}`);
    assert.ok(j.retentionDays > 1, `retention ${j.retentionDays} days`);
    assert.equal(j.retentionBoard.id, "pixljs");
    assert.ok(j.avgCurrentUA > 3 && j.avgCurrentUA < 1000, `${j.avgCurrentUA} µA`);
    assert.ok(j.batteryDays > 5 && j.batteryDays < 3000, `${j.batteryDays} days`);
    assert.equal(j.detection.thresholdDb, 53);
    for (const k of ["precision", "recall"]) assert.ok(j.detection[k] >= 0 && j.detection[k] <= 1, `${k} ${j.detection[k]}`);
    assert.ok(j.detection.groundTruthContacts >= 2, "a and b at one table for an hour");
    assert.ok(j.detection.truePositives >= 1);
    assert.equal(j.detection.curve.length, 41);
    assert.equal(j.perToken.length, 4);
    assert.equal(j.faults, 0);
    assert.deepEqual(j.schedule, loadBoard("puckjs").schedule, "the board's own schedule");
  });

  it("the text output has a row per token and the overall figures", () => {
    const r = simulate(["--scenario", file, "--days", "1", "--seed", "2"]);
    assert.equal(r.status, 0, r.stderr);
    for (const id of ["a", "b", "c", "d"]) assert.match(r.stdout, new RegExp(`^${id}\\s+\\d+`, "m"));
    for (const label of ["encounters", "flash", "retention", "power", "faults", "detection"])
      assert.match(r.stdout, new RegExp(`^${label}\\s`, "m"));
    assert.match(r.stdout, /precision [\d.]+ %, recall [\d.]+ % at attenuation ≤ 53 dB/);
    assert.match(r.stderr, /simulated day 1\/1/, "progress off a terminal: a line per day");
  });

  it("--schedule rebuilds the firmware with the new schedule: a shorter scan window draws less current", () => {
    const base = JSON.parse(simulate(["--scenario", file, "--days", "1", "--seed", "2", "--json"]).stdout);
    const r = simulate(["--scenario", file, "--days", "1", "--seed", "2", "--json", "--schedule", "window=1000"]);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.schedule.scanWindowMs, 1000);
    assert.equal(j.schedule.scanPeriodSec, loadBoard("puckjs").schedule.scanPeriodSec, "the rest of the schedule is the board's");
    assert.ok(j.avgCurrentUA < base.avgCurrentUA - 10, `${j.avgCurrentUA} µA vs ${base.avgCurrentUA} µA`);
  });

  it("a bad --schedule or --threshold-db is refused with the accepted form, before anything runs", () => {
    const r = simulate(["--scenario", file, "--days", "1", "--schedule", "window=fast"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /advert=250,window=1000/);
    const j = simulate(["--scenario", file, "--days", "1", "--schedule", "period=100,jitter=150"]);
    assert.equal(j.status, 2);
    assert.match(j.stderr, /jitter .* shorter than the scan period/);
    const t = simulate(["--scenario", file, "--days", "1", "--threshold-db", "-3"]);
    assert.notEqual(t.status, 0);
    assert.match(t.stderr, /threshold-db/);
  });
});
