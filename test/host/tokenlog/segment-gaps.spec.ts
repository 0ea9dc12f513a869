import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { FLAG_FLOOD, FLAG_UTC, FLOOD_MARK, HEADER_FLOOD_OFFSET, encodeHeader } from "../../../firmware/src/wire/log-record";
import { buildExportZip } from "../../../host-tools/src/keys/export-file";
import { logText } from "../../../host-tools/src/tokenlog/describe";
import { readTokenLog, recentLosses, TokenLog } from "../../../host-tools/src/tokenlog/read-log";
import { tokenFilesFromImage } from "../../../host-tools/src/tokenlog/token-files";
import { runCli } from "../../helpers/cli";
import { tempDir } from "../keys/helpers";
import { randomKey } from "../match/plant";
import { BASE, image, rec, segment } from "./helpers";

/**
 * Issue 15, item 4: a segment lost to flash damage left a gap in the
 * numbers pt.log<n> that nothing reported. Gaps are now reported with what
 * made them, as far as the flash shows it: acknowledged segments (a kiosk
 * has them), flood segments the token evicted (in its dropped count),
 * segments whose creation a power cut interrupted (empty), numbers a damaged
 * pt.ack made the token skip, and the rest: possibly lost to damage, up to
 * 100 records each that no count includes, which `match --flash` then
 * reports as incomplete.
 */

const HOUR = 3600;
const fromImage = (files: Array<[string, Uint8Array]>, erase: string[] = []): TokenLog =>
  readTokenLog(tokenFilesFromImage(image(files, erase), "token.bin"));

const at = (h: number, o: { flood?: boolean; marked?: boolean } = {}): Uint8Array => {
  const b = segment([rec(h, 0), rec(h + 1, 5)], { base: BASE + h * HOUR });
  if (o.flood) b.set(encodeHeader(BASE + h * HOUR, FLAG_UTC | FLAG_FLOOD, 0));
  if (o.marked) b[HEADER_FLOOD_OFFSET] = FLOOD_MARK;
  return b;
};

const ack = (n: number): Uint8Array => Uint8Array.of(n & 255, (n >> 8) & 255, (n >> 16) & 255, n >>> 24);

describe("tokenlog: gaps in segment numbers (issue 15, item 4)", () => {
  it("a segment missing for no reason the flash shows: reported as possibly lost, with when", () => {
    const log = fromImage([
      ["pt.log1", at(1)],
      ["pt.log2", at(2)],
      ["pt.log4", at(4)]
    ]);
    assert.deepEqual(log.losses.missingSegments, [3]);
    assert.deepEqual(log.losses.gaps, [{ first: 3, last: 3, cause: "unexplained", after: BASE + 2 * HOUR + 300, before: BASE + 4 * HOUR }]);
    assert.match(
      logText(log),
      /MISSING SEGMENT\(S\) pt\.log3 \(between 2030-02-04T12:05:00Z and 2030-02-04T14:00:00Z\): nothing in the log says why: lost to flash damage .* up to 100 record\(s\) that no count includes/
    );
    assert.deepEqual(recentLosses(log), {
      sightings: 0,
      from: BASE + 2 * HOUR + 300,
      to: BASE + 4 * HOUR,
      flood: false,
      missingSegments: 1
    });
  });

  it("numbers missing below the oldest segment are not a gap (the token evicts oldest first)", () => {
    const log = fromImage([
      ["pt.log7", at(7)],
      ["pt.log8", at(8)]
    ]);
    assert.deepEqual(log.losses.gaps, []);
    assert.equal(recentLosses(log), null);
  });

  it("below pt.ack: stored on a kiosk, not lost", () => {
    const log = fromImage([
      ["pt.ack", ack(6)],
      ["pt.log1", at(1)],
      ["pt.log6", at(6)]
    ]);
    assert.deepEqual(
      log.losses.gaps.map((g) => [g.first, g.last, g.cause]),
      [[2, 5, "acknowledged"]]
    );
    assert.equal(log.losses.acked, 6);
    assert.match(logText(log), /missing segment\(s\) pt\.log2 to pt\.log5: below the acknowledgement, so stored on a kiosk \(not lost\)/);
    assert.equal(recentLosses(log), null);
  });

  it("a flood segment the token evicted from the middle: the flood shows next to the gap, and no flood segment is kept below it", () => {
    const marked = fromImage([
      ["pt.log3", at(3, { marked: true })],
      ["pt.log5", at(5, { flood: true })]
    ]);
    assert.deepEqual(
      marked.losses.gaps.map((g) => g.cause),
      ["evicted"]
    );
    assert.equal(recentLosses(marked)!.missingSegments, 0, "its records are in the dropped count");
    // A flood segment kept below the gap would have gone first: this one is not a flood eviction.
    const older = fromImage([
      ["pt.log2", at(2, { flood: true })],
      ["pt.log3", at(3, { marked: true })],
      ["pt.log5", at(5, { flood: true })]
    ]);
    assert.deepEqual(
      older.losses.gaps.map((g) => g.cause),
      ["unexplained"]
    );
  });

  it("in an image, what the token erased itself is still in flash until compaction: evicted, or empty after a cut creation", () => {
    const torn = new Uint8Array(1016).fill(0xff);
    torn.set(at(3).subarray(0, 5));
    const log = fromImage(
      [
        ["pt.log1", at(1)],
        ["pt.log2", at(2)],
        ["pt.log3", torn],
        ["pt.log4", at(4)],
        ["pt.log5", at(5)]
      ],
      ["pt.log2", "pt.log3"]
    );
    // pt.log2 erased with its header whole (the token evicted it), pt.log3 with a torn header and no records.
    assert.deepEqual(
      log.losses.gaps.map((g) => [g.first, g.last, g.cause]),
      [
        [2, 2, "evicted"],
        [3, 3, "empty"]
      ]
    );
    assert.match(
      logText(log),
      /missing segment\(s\) pt\.log3: erased by the token at boot, a power cut having cut their creation; they held nothing/
    );
    assert.equal(recentLosses(log), null);
  });

  it("numbers a damaged pt.ack made the token skip are one gap, said as such, however many", () => {
    const log = fromImage([
      ["pt.ack", Uint8Array.of(58, 0, 255, 255)],
      ["pt.log57", at(1)],
      ["pt.log4294901818", at(2)]
    ]);
    assert.deepEqual(
      log.losses.gaps.map((g) => [g.first, g.last, g.cause]),
      [[58, 4294901817, "renumbered"]]
    );
    assert.equal(log.losses.missingSegments.length, 1000);
    assert.match(
      logText(log),
      /segment numbers pt\.log58 to pt\.log4294901817 skipped: no segment had them; the token took its numbering from a damaged pt\.ack/
    );
  });

  describe("the CLI reports it", () => {
    let flash: string;
    let keys: string;
    before(async () => {
      const dir = tempDir("gaps");
      flash = path.join(dir, "token.bin");
      fs.writeFileSync(
        flash,
        image([
          ["pt.log1", at(1)],
          ["pt.log2", at(2)],
          ["pt.log4", at(4)]
        ])
      );
      keys = tempDir("gap-keys");
      fs.writeFileSync(
        path.join(keys, "1.zip"),
        await buildExportZip({
          startTimestamp: BASE,
          endTimestamp: BASE + 86400,
          region: "XX",
          batchNum: 1,
          batchSize: 1,
          signatureInfos: [],
          keys: [randomKey(Math.floor(BASE / 600))],
          revisedKeys: []
        })
      );
    });

    it("log show --json: the gap with its cause", async () => {
      const r = await runCli(["log", "show", flash, "--json"]);
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout) as { losses: { gaps: Array<{ first: number; cause: string }>; missingSegments: number[] } };
      assert.deepEqual(j.losses.missingSegments, [3]);
      assert.deepEqual(
        j.losses.gaps.map((g) => [g.first, g.cause]),
        [[3, "unexplained"]]
      );
    });

    it("log to-sightings: the gap on stderr next to the count", async () => {
      const r = await runCli(["log", "to-sightings", flash]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /6 sighting\(s\) from 3 segment\(s\)/);
      assert.match(r.stderr, /token\.bin: MISSING SEGMENT\(S\) pt\.log3/);
    });

    it("match --flash: the level is incomplete, and the sentence says a segment is missing", async () => {
      const r = await runCli(["match", "--keys", keys, "--flash", flash]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Level: NONE \(incomplete: 0 sighting\(s\) not kept, 1 log segment\(s\) missing\)/);
      assert.match(
        r.stdout,
        /Risk may be higher than shown: 1 log segment\(s\) are missing from the token's flash with no reason shown \(flash damage, most likely\), with up to 100 sighting\(s\) more between 2030-02-04 12:05 UTC and 2030-02-04 14:00 UTC\./
      );
      const j = await runCli(["match", "--keys", keys, "--flash", flash, "--json"]);
      const o = JSON.parse(j.stdout) as { complete: boolean; incomplete: { missingSegments: number } };
      assert.equal(o.complete, false);
      assert.equal(o.incomplete.missingSegments, 1);
    });
  });
});
