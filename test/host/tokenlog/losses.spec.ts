import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { FLAG_FLOOD, FLAG_UTC, encodeHeader } from "../../../firmware/src/wire/log-record";
import { buildExportZip } from "../../../host-tools/src/keys/export-file";
import { ExposureKey } from "../../../host-tools/src/keys/types";
import { runLogFlood } from "../../sim/log-flood";
import { lossLines, logText } from "../../../host-tools/src/tokenlog/describe";
import { readTokenLog, recentLosses, TokenLog } from "../../../host-tools/src/tokenlog/read-log";
import { tokenFilesFromImage } from "../../../host-tools/src/tokenlog/token-files";
import { runCli } from "../../helpers/cli";
import { tempDir } from "../keys/helpers";
import { randomKey } from "../match/plant";
import { BASE, image, rec, segment } from "./helpers";

/**
 * Issue 15, item 1: `match` reported NONE for a flooded token and never
 * mentioned the ~40,000 sightings it lost. tokenlog now reports every loss
 * with when, and `match --flash` qualifies its level with them.
 */

const HOUR = 3600;
const fromImage = (files: Array<[string, Uint8Array]>): TokenLog => readTokenLog(tokenFilesFromImage(image(files), "token.bin"));

function flooded(records: ReturnType<typeof rec>[], base: number, dropped: number): Uint8Array {
  const b = segment(records, { base, dropped });
  b.set(encodeHeader(base, FLAG_UTC | FLAG_FLOOD, dropped));
  return b;
}

/** A drop-count file (the fault-count layout) whose last slot holds `n`. */
function dropFile(...counts: number[]): Uint8Array {
  const b = new Uint8Array(64).fill(0xff);
  counts.forEach((n, i) => b.set([n & 255, (n >> 8) & 255, (n >> 16) & 255, 0], 4 * i));
  return b;
}

describe("tokenlog: records a token lost, and when (issue 15, item 1)", () => {
  const files: Array<[string, Uint8Array]> = [
    ["pt.log3", segment([rec(0, 0)], { base: BASE, dropped: 20 })],
    ["pt.log4", segment([rec(1, 0)], { base: BASE + 10 * HOUR, dropped: 20 })],
    ["pt.log6", flooded([rec(2, 0), rec(3, 30)], BASE + 20 * HOUR, 900)],
    ["pt.log7", flooded([rec(4, 0)], BASE + 22 * HOUR, 1500)],
    ["pt.drop", dropFile(1500, 2100)]
  ];

  it("places the growth of the dropped count between segment bases, and what the drop file adds after the newest", () => {
    const log = fromImage(files);
    assert.equal(log.dropped, 2100);
    assert.equal(log.droppedFile, 2100);
    assert.deepEqual(log.losses.spans, [
      { from: null, to: BASE, sightings: 20 },
      { from: BASE + 10 * HOUR, to: BASE + 20 * HOUR, sightings: 880 },
      { from: BASE + 20 * HOUR, to: BASE + 22 * HOUR, sightings: 600 },
      { from: BASE + 22 * HOUR, to: null, sightings: 600 }
    ]);
    assert.deepEqual(log.losses.missingSegments, [5]);
    assert.deepEqual(log.losses.floodSegments, ["pt.log6", "pt.log7"]);
    assert.deepEqual(log.losses.flood, { first: BASE + 20 * HOUR, last: BASE + 22 * HOUR });
  });

  it("log show prints the flood, each loss with its time span and the missing segments", () => {
    const text = logText(fromImage(files));
    assert.match(text, /pt\.log6 +ok \(flood\)/);
    assert.match(text, /dropped \(counted by the token\): 2100 \(drop-count file: 2100\)/);
    assert.match(text, /FLOOD: 2 segment\(s\) \(pt\.log6, pt\.log7\) written while the token had declared a flood/);
    assert.match(text, /lost: 880 sighting\(s\) not kept between 2030-02-04T20:00:00Z and 2030-02-05T06:00:00Z/);
    assert.match(text, /lost: 600 sighting\(s\) not kept after 2030-02-05T08:00:00Z/);
    assert.match(
      text,
      /missing segment\(s\) pt\.log5 \(between 2030-02-04T20:00:00Z and 2030-02-05T06:00:00Z\): erased by the token to make room, written during a flood/
    );
  });

  it("a log that lost nothing reports nothing", () => {
    const log = fromImage([["pt.log1", segment([rec(0, 0), rec(1, 5)])]]);
    assert.deepEqual(lossLines(log), []);
    assert.equal(recentLosses(log), null);
    assert.equal(log.droppedFile, null);
  });

  it("recent losses leave out what was lost more than 14 days before the log's end", () => {
    const old = fromImage([
      ["pt.log1", segment([rec(0, 0)], { base: BASE, dropped: 0 })],
      ["pt.log2", segment([rec(1, 0)], { base: BASE + 3600, dropped: 50 })],
      ["pt.log3", segment([rec(2, 0)], { base: BASE + 20 * 86400, dropped: 50 })]
    ]);
    assert.equal(recentLosses(old), null);
    const r = recentLosses(fromImage(files))!;
    assert.equal(r.sightings, 2100);
    assert.equal(r.from, null);
    assert.equal(r.to, null);
    assert.equal(r.flood, true);
  });
});

describe("match --flash: a NONE from a log that lost records says so (issue 15, item 1)", () => {
  let flashDir: string;
  let cleanDir: string;
  let keysDir: string;

  before(async () => {
    const attacked = runLogFlood({ attackHours: 30, seed: 1 });
    flashDir = tempDir("flooded");
    for (const [n, b] of attacked.files) fs.writeFileSync(path.join(flashDir, n), b);
    const clean = runLogFlood({ attackHours: 0, seed: 1, historyDays: 3 });
    cleanDir = tempDir("clean");
    for (const [n, b] of clean.files) fs.writeFileSync(path.join(cleanDir, n), b);
    keysDir = tempDir("keys");
    const end = attacked.log.span!.last;
    const key: ExposureKey = randomKey(Math.floor(end / 86400 - 1) * 144);
    fs.writeFileSync(
      path.join(keysDir, "1.zip"),
      await buildExportZip({
        startTimestamp: end - 86400,
        endTimestamp: end,
        region: "XX",
        batchNum: 1,
        batchSize: 1,
        signatureInfos: [],
        keys: [key],
        revisedKeys: []
      })
    );
  });

  it("text: the level reads NONE (incomplete: …) and the sentence says how many sightings were lost and when", async () => {
    const r = await runCli(["match", "--keys", keysDir, "--flash", flashDir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Level: NONE \(incomplete: [\d,]+ sighting\(s\) not kept, log flooded\)/);
    assert.match(r.stdout, /Risk may be higher than shown: [\d,]+ sighting\(s\) were not kept (between|after|before) /);
    assert.match(r.stdout, /INCOMPLETE LOG: /);
  });

  it("--json: complete false, the losses, and the sentence in reason and warnings", async () => {
    const r = await runCli(["match", "--keys", keysDir, "--flash", flashDir, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as {
      level: string;
      complete: boolean;
      incomplete: { sightings: number; flood: boolean };
      reason: string;
      warnings: string[];
    };
    assert.equal(j.level, "none");
    assert.equal(j.complete, false);
    assert.ok(j.incomplete.sightings > 20000);
    assert.equal(j.incomplete.flood, true);
    assert.match(j.reason, /Risk may be higher than shown/);
    assert.ok(j.warnings.some((w) => /INCOMPLETE LOG/.test(w)));
    assert.match(r.stderr, /INCOMPLETE LOG/);
  });

  it("a log that lost nothing gets a plain NONE", async () => {
    const r = await runCli(["match", "--keys", keysDir, "--flash", cleanDir, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { complete: boolean; incomplete: unknown; reason: string };
    assert.equal(j.complete, true);
    assert.equal(j.incomplete, null);
    assert.doesNotMatch(j.reason, /higher than shown/);
  });

  it("refuses --sightings together with --flash, and neither", async () => {
    const both = await runCli(["match", "--keys", keysDir, "--flash", flashDir, "--sightings", "x.jsonl"]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /exactly one of --sightings FILE and --flash FLASH/);
    const none = await runCli(["match", "--keys", keysDir]);
    assert.equal(none.code, 2);
  });
});
