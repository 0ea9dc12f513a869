import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadBoard } from "../../../host-tools/src/build/boards";
import { boardBundle, bytesPerEncounter, retention, tightestBoard } from "../../../host-tools/src/sim/metrics/retention";

describe("sim/metrics: bytes per encounter and retention", () => {
  it("bytes per encounter counts segment and file headers: 21 full segments of 100 records are 10.48 B each", () => {
    assert.equal(bytesPerEncounter(21 * 1048, 2100), 10.48);
    assert.equal(bytesPerEncounter(0, 0), 0, "no records, no division by zero");
  });

  it("a Puck.js with an 11,083-byte bundle keeps 26 segments: 2,500 encounters, 16.7 days at 150 a day (docs/encounter-log.md)", () => {
    const r = retention({ storageBytes: 40960, shared: false, bundleBytes: 11083, otherFileBytes: 1020, encountersPerDay: 150 });
    assert.equal(r.logBytes, 40960 - (32 + 11084) - 1020 - 1024);
    assert.equal(r.segments, 26);
    assert.equal(r.encounters, 2500, "the segment being written counts as empty");
    assert.equal(Math.round(r.days * 10) / 10, 16.7);
  });

  it("at ten times the rate the same flash holds a tenth of the days", () => {
    const r = retention({ storageBytes: 40960, shared: false, bundleBytes: 11083, otherFileBytes: 1020, encountersPerDay: 1500 });
    assert.equal(Math.round(r.days * 100) / 100, 1.67);
  });

  it("on shared Storage (Bangle.js 2) the bundle lives elsewhere and the log is capped at (dataBytes − 12 KB) / 1048 segments", () => {
    const r = retention({ storageBytes: 40960, shared: true, bundleBytes: 11805, otherFileBytes: 1020, encountersPerDay: 150 });
    assert.equal(r.segments, 27);
    assert.equal(r.encounters, 2600);
  });

  it("reads the bundle size from dist's size file, else assumes the whole budget", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pt-size-"));
    try {
      const puck = loadBoard("puckjs");
      assert.deepEqual(boardBundle(puck, dir), { board: puck, bundleBytes: puck.budget.bundleBytes, source: "budget" });
      fs.writeFileSync(path.join(dir, "puckjs.size.json"), JSON.stringify({ board: "puckjs", bytes: 11141 }));
      assert.equal(boardBundle(puck, dir).bundleBytes, 11141);
      assert.equal(boardBundle(puck, dir).source, "dist");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the tightest board is Pixl.js: least Storage (36 KB) and the largest bundle (pure-JS crypto)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pt-size-"));
    try {
      assert.equal(tightestBoard(undefined, dir).board.id, "pixljs");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
