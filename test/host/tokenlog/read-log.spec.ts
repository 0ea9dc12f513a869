import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PrivateTracerError } from "../../../host-tools/src/errors";
import { parseSightings } from "../../../host-tools/src/match/sightings";
import { DamagedFlashError, TokenFlashError } from "../../../host-tools/src/tokenlog/errors";
import { readTokenLog, TokenLog } from "../../../host-tools/src/tokenlog/read-log";
import { logToSightingsText } from "../../../host-tools/src/tokenlog/to-sightings";
import { loadTokenFiles, tokenFilesFromImage } from "../../../host-tools/src/tokenlog/token-files";
import { BASE, dataOffset, image, rec, segment, slotAt } from "./helpers";

const TEK = new Uint8Array(24).fill(7);
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const fromImage = (img: Uint8Array, partial = false): TokenLog => readTokenLog(tokenFilesFromImage(img, "token.bin"), { partial });

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  assert.fail("expected an error");
}

/**
 * A log as a token leaves it: bundle and key files among the segments, a UTC
 * segment, an uptime segment the kiosk anchored, one it never could, and a
 * later UTC segment whose number sorts after 9 (pt.log10 after pt.log2).
 */
function typicalFiles(): Array<[string, Uint8Array]> {
  return [
    [".bootcde", new Uint8Array(3000).fill(0x20)],
    ["pt.tek2642976", TEK],
    ["pt.log2", segment([rec(0, 0), rec(1, 0, { max: -44, count: 3 }), rec(2, 10)], { dropped: 4 })],
    ["pt.log3", segment([rec(3, 5)], { utc: false, base: 120, anchor: BASE + 7200 })],
    ["pt.log4", segment([rec(4, 1), rec(5, 2)], { utc: false, base: 60 })],
    ["pt.log10", segment([rec(6, 2047)], { base: BASE + 86400, dropped: 9 })]
  ];
}

describe("tokenlog: a token's encounter log out of its flash", () => {
  describe("a healthy image", () => {
    const log = fromImage(image(typicalFiles()));

    it("lists the segments in sequence order with their clocks, bases and counts", () => {
      assert.deepEqual(
        log.segments.map((s) => [s.name, s.status, s.clock, s.records]),
        [
          ["pt.log2", "ok", "utc", 3],
          ["pt.log3", "ok", "uptime", 1],
          ["pt.log4", "unplaced", "uptime", 2],
          ["pt.log10", "ok", "utc", 1]
        ]
      );
      assert.equal(log.segments[1].anchor, BASE + 7200);
      assert.equal(log.damage.length, 0);
    });

    it("places each record at its segment's UTC base (or anchor) plus its minute", () => {
      assert.deepEqual(
        log.records.map((r) => r.time),
        [BASE, BASE, BASE + 600, BASE + 7200 + 300, BASE + 86400 + 2047 * 60]
      );
      assert.deepEqual(log.span, { first: BASE, last: BASE + 86400 + 2047 * 60 });
    });

    it("keeps the RPI prefix, the encrypted AEM byte and the RSSI figures as stored", () => {
      const r = log.records[1];
      assert.equal(hex(r.rpiPrefix), "a101020304");
      assert.equal(r.aem1, 0x31);
      assert.equal(r.meanRssi, -51);
      assert.equal(r.maxRssi, -45, "peak - mean is stored in 2 dB steps, rounded down");
      assert.equal(r.count, 3);
    });

    it("counts the records of an uptime segment never anchored as unplaced, and guesses no time for them", () => {
      assert.equal(log.skipped.unplaced, 2);
      assert.ok(log.records.every((r) => r.segment !== "pt.log4"));
      assert.deepEqual(log.skipped, { torn: 0, rejected: 0, unplaced: 2, unreadableSegment: 0, cutOff: 0 });
    });

    it("reports the token's dropped counter from its newest header", () => {
      assert.equal(log.dropped, 9);
    });

    it("converts to sightings the matcher reads: 5-byte prefix, mean RSSI, aemTx, and the packets the mean is of", () => {
      const s = parseSightings(logToSightingsText(log));
      assert.equal(s.length, 5);
      assert.equal(hex(s[1].rpi), "a101020304");
      assert.equal(s[1].rssi, -51);
      assert.equal(s[1].aemTx, 0x31);
      // An exported log grades as the kiosk grades the token: the classifier weighs a scan by its packets.
      assert.equal(s[1].packets, 3);
      assert.equal(s[0].packets, 1);
      assert.equal(s[1].aem, undefined);
      assert.equal(s[3].time, BASE + 7500);
    });
  });

  it("reads a directory of the token's files the same as its image", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tokenlog-"));
    try {
      for (const [n, d] of typicalFiles()) if (n.startsWith("pt.")) fs.writeFileSync(path.join(dir, n), d);
      const a = readTokenLog(loadTokenFiles(dir));
      const b = fromImage(image(typicalFiles()));
      assert.equal(a.kind, "files");
      assert.deepEqual(a.records, b.records);
      assert.deepEqual(a.skipped, b.skipped);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("ignores erased files and reads only the live copy of a segment", () => {
    const img = image(
      [
        ["pt.log1", segment([rec(0, 0)])],
        ["pt.log2", segment([rec(1, 0)])]
      ],
      ["pt.log1"]
    );
    const log = fromImage(img);
    assert.deepEqual(
      log.segments.map((s) => s.name),
      ["pt.log2"]
    );
    assert.equal(log.records.length, 1);
  });

  describe("power cuts inside the log (expected, counted, never guessed)", () => {
    it("skips and counts a record cut at any byte, keeping the records around it", () => {
      for (let cut = 1; cut < 10; cut++) {
        const seg = segment([rec(0, 0), rec(1, 1), rec(2, 2)]);
        // Slot 1 torn: only its first `cut` bytes reached flash.
        seg.fill(0xff, slotAt(1) + cut, slotAt(2));
        const log = fromImage(image([["pt.log1", seg]]));
        assert.deepEqual(
          log.records.map((r) => r.rpiPrefix[0]),
          [0xa0, 0xa2],
          `cut after ${cut} byte(s)`
        );
        assert.equal(log.skipped.torn, 1);
        assert.equal(log.segments[0].tornRecords, 1);
      }
    });

    it("skips a record whose check byte fails", () => {
      const seg = segment([rec(0, 0), rec(1, 1)]);
      seg[slotAt(0) + 7] ^= 0x10;
      const log = fromImage(image([["pt.log1", seg]]));
      assert.equal(log.records.length, 1);
      assert.equal(log.skipped.torn, 1);
    });

    it("marks a segment whose header was cut while it was created unreadable, and loses nothing", () => {
      const seg = new Uint8Array(1016).fill(0xff);
      seg.set(segment([]).subarray(0, 5));
      const log = fromImage(
        image([
          ["pt.log1", seg],
          ["pt.log2", segment([rec(2, 0)])]
        ])
      );
      assert.equal(log.segments[0].status, "unreadable");
      assert.match(log.segments[0].note!, /header torn/);
      assert.equal(log.skipped.unreadableSegment, 0);
      assert.equal(log.records.length, 1);
      assert.equal(log.damage.length, 0, "a torn header is a power cut the log survives, not damage to the image");
    });

    it("refuses records under an unreadable header (another format version, or a damaged header) unless partial, and counts them", () => {
      for (const [what, spoil, msg] of [
        ["version 2", (b: Uint8Array) => (b[0] = 2), /format version 2, which these tools do not read.*update the host tools/],
        ["bad check", (b: Uint8Array) => (b[9] ^= 1), /2 written slot\(s\) under a header that fails its check/]
      ] as const) {
        const seg = segment([rec(0, 0), rec(1, 1)]);
        spoil(seg);
        const img = image([
          ["pt.log1", seg],
          ["pt.log2", segment([rec(2, 0)])]
        ]);
        const e = thrown(() => fromImage(img));
        assert.ok(e instanceof DamagedFlashError, what);
        assert.match(e.message, msg);
        const log = fromImage(img, true);
        assert.equal(log.skipped.unreadableSegment, 2, what);
        assert.equal(log.records.length, 1, what);
      }
    });
  });

  describe("damaged images (refused unless partial)", () => {
    const healthy = image(typicalFiles());
    const log3 = dataOffset(healthy, "pt.log3");

    it("refuses an image cut inside a segment, saying what was readable and what to do", () => {
      const cut = healthy.slice(0, log3 + slotAt(0) + 4);
      const e = thrown(() => fromImage(cut));
      assert.ok(e instanceof DamagedFlashError);
      assert.ok(e instanceof PrivateTracerError);
      assert.equal(e.code, "TOKEN_FLASH_DAMAGED");
      assert.equal(e.kind, "unusable");
      assert.equal(e.damage[0].kind, "truncated");
      assert.equal(e.damage[0].file, "pt.log3");
      assert.match(e.message, /none of its log is used/);
      assert.match(e.message, /3 record\(s\) in 2 segment\(s\), 1 written slot\(s\) cut off/);
      assert.match(e.message, /--partial/);
    });

    it("with partial, keeps every whole record before the cut and counts the slot it cuts", () => {
      const cut = healthy.slice(0, log3 + slotAt(0) + 4);
      const log = fromImage(cut, true);
      assert.deepEqual(
        log.segments.map((s) => s.name),
        ["pt.log2", "pt.log3"]
      );
      assert.equal(log.records.length, 3);
      assert.equal(log.skipped.cutOff, 1);
      assert.equal(log.damage[0].kind, "truncated");
    });

    it("refuses an image that ends at a file boundary without the journal's end, when it is not whole flash pages", () => {
      const img = image([["pt.log1", segment([rec(0, 0)])]]);
      const end = dataOffset(img, "pt.log1") + 1016;
      const e = thrown(() => fromImage(img.slice(0, end)));
      assert.ok(e instanceof DamagedFlashError);
      assert.match(e.message, /not a whole number of 4096-byte flash pages/);
    });

    it("accepts an image of whole pages that ends inside the journal's erased end", () => {
      const log = fromImage(healthy.slice(0, 16384));
      assert.equal(log.records.length, 5);
    });

    it("refuses a half-written file header after the last file as corrupt", () => {
      const img = image([["pt.log1", segment([rec(0, 0)])]]);
      const next = dataOffset(img, "pt.log1") + 1016;
      // A cut while the next header was written: its size word still erased, two name bytes programmed.
      img.set([0x70, 0x74], next + 4);
      const e = thrown(() => fromImage(img));
      assert.ok(e instanceof DamagedFlashError);
      assert.equal(e.damage[0].kind, "corrupt");
      assert.match(e.message, /half-written file header/);
    });

    it("says a file that is no Storage image is not one", () => {
      const text = new TextEncoder().encode('{"time": 1585785660, "rpi": "8be6cd371c", "rssi": -62}\n');
      const e = thrown(() => tokenFilesFromImage(text, "s.jsonl"));
      assert.ok(e instanceof TokenFlashError);
      assert.match(e.message, /s\.jsonl: not an Espruino Storage image/);
      assert.match((thrown(() => tokenFilesFromImage(new Uint8Array(0), "e.bin")) as Error).message, /e\.bin: the file is empty/);
    });

    it("refuses a directory with no token files and a path that does not exist", () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tokenlog-empty-"));
      try {
        assert.match((thrown(() => loadTokenFiles(dir)) as Error).message, /no token files/);
        assert.match((thrown(() => loadTokenFiles(path.join(dir, "nope.bin"))) as Error).message, /no such file or directory/);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it("refuses a short segment file in a directory, and with partial keeps its whole records", () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tokenlog-short-"));
      try {
        fs.writeFileSync(path.join(dir, "pt.log1"), segment([rec(0, 0), rec(1, 1), rec(2, 2)]).subarray(0, slotAt(2) + 5));
        assert.ok(thrown(() => readTokenLog(loadTokenFiles(dir))) instanceof DamagedFlashError);
        const log = readTokenLog(loadTokenFiles(dir), { partial: true });
        assert.equal(log.records.length, 2);
        assert.equal(log.skipped.cutOff, 1);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
