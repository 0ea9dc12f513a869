import { strict as assert } from "node:assert";
import { HEADER_BYTES, LOG_PREFIX, RECORD_BYTES, SEGMENT_BYTES, encodeRecord } from "../../../firmware/src/wire/log-record";
import { Rng } from "../../../host-tools/src/sim/prng";
import { logText } from "../../../host-tools/src/tokenlog/describe";
import { readLogSegment, readTokenLog } from "../../../host-tools/src/tokenlog/read-log";
import { logFloorDbm, timeOrdered } from "../../../host-tools/src/tokenlog/record-check";
import { tokenFilesFromImage, tokenFilesFromStorage } from "../../../host-tools/src/tokenlog/token-files";
import { acceptedMinutes, cleanSegments, exactRate, minuteWindow, plausibleFieldShare, trialRate } from "./false-accept";
import { image, rec, segment, slotAt } from "./helpers";
import { idOf, runRealLog } from "./real-log";

/**
 * Issue 15, item 4: 12 of 3,000 random record slots passed the record check
 * (a 7-bit CRC and a clear top bit: 1 in 256) and came out as sightings. The
 * host now also checks what the token's writer guarantees of every record
 * (record-check.ts); nothing a real token writes may fail it.
 */

const placed = (seg: Uint8Array): number => readLogSegment("pt.log1", seg).records.length;

/** Real segments (the token's writer fed like its scanner), with several records in a row to put a bad slot among. */
function realSegments(seed: number): Array<{ seg: Uint8Array; n: number }> {
  const run = runRealLog({ seed, windows: 1500, capacity: 1 << 20 });
  const files = run.files();
  return cleanSegments(files.list().map((n) => [n, files.read(n)!] as [string, Uint8Array]));
}

describe("tokenlog: the record check (issue 15, item 4)", () => {
  describe("nothing a real token writes is rejected", () => {
    // Power cuts at any byte with the clock lost or kept, clocks set and corrected, floods, full flash,
    // acknowledgements, writes failing before they write: read back every 25 windows.
    const configs = [
      { name: "power cuts, lost clocks, floods, full flash", o: { cutEvery: 10, floodEvery: 20, clockLoss: 0.3 } },
      { name: "failed writes (slots left erased between records), floods, full flash", o: { holeEvery: 30, floodEvery: 20 } }
    ];
    for (const { name, o } of configs)
      it(name, () => {
        let checks = 0;
        for (let seed = 1; seed <= 4; seed++) {
          const run = runRealLog({
            seed,
            windows: 4000,
            ...o,
            onWindow: (r, w) => {
              if (w % 25) return;
              checks++;
              const log = readTokenLog(tokenFilesFromStorage(r.files(), "token"));
              assert.equal(log.skipped.rejected, 0, `seed ${seed}, window ${w}: ${logText(log)}`);
              for (const x of log.records) assert.ok(r.committed.has(idOf(x.rpiPrefix)) || r.inFlight.has(idOf(x.rpiPrefix)));
            }
          });
          if (o.cutEvery) assert.ok(run.cuts > 100, `${run.cuts} cuts`);
        }
        assert.ok(checks >= 600);
      });

    it("a record after a slot left erased (a write that failed before writing) is read, not cut off at the gap", () => {
      const seg = segment([rec(0, 0), rec(1, 0), rec(2, 3)]);
      seg.fill(0xff, slotAt(1), slotAt(2));
      assert.equal(placed(seg), 2);
    });
  });

  describe("what a real token cannot write is rejected and counted", () => {
    const floor = logFloorDbm();

    it("a mean below the logging floor (every packet counted reached it)", () => {
      assert.equal(placed(segment([rec(0, 0), rec(1, 1, { mean: floor })])), 2);
      const seg = segment([rec(0, 0), rec(1, 1, { mean: floor - 1 })]);
      const s = readLogSegment("pt.log1", seg);
      assert.equal(s.records.length, 1);
      assert.equal(s.skipped.rejected, 1);
    });

    it("a spread with one packet, or more spread than packets at or above the floor allow", () => {
      assert.equal(placed(segment([rec(0, 0, { mean: -50, max: -46, count: 1 })])), 0);
      // 2 packets with a mean of −69 dBm: at least one at −70, so the peak is at most −68 (spread 0 in 2 dB steps).
      assert.equal(placed(segment([rec(0, 0, { mean: -69, max: -68, count: 2 })])), 1);
      assert.equal(placed(segment([rec(0, 0, { mean: -69, max: -65, count: 2 })])), 0);
      assert.equal(placed(segment([rec(0, 0, { mean: -69, max: -55, count: 8 })])), 1, "8 stored may be many more packets");
    });

    it("a minute that breaks the time order of the slots, and both records of a tie", () => {
      const out = segment([rec(0, 5), rec(1, 5), rec(2, 900), rec(3, 6), rec(4, 9)]);
      const s = readLogSegment("pt.log1", out);
      assert.deepEqual(
        s.records.map((r) => r.rpiPrefix[0]),
        [0xa0, 0xa1, 0xa3, 0xa4]
      );
      assert.equal(s.info.rejectedRecords, 1);
      // 900 then one record at 6: either could be the bad one, so neither is used.
      const tie = readLogSegment("pt.log1", segment([rec(0, 5), rec(1, 900), rec(2, 6)]));
      assert.equal(tie.records.length, 1);
      assert.equal(tie.skipped.rejected, 2);
      assert.deepEqual(timeOrdered([5, 900, 6]), [true, false, false]);
    });

    it("log show names them", () => {
      const log = readTokenLog(tokenFilesFromImage(image([["pt.log1", segment([rec(0, 5), rec(1, 900), rec(2, 6), rec(3, 7)])]]), "t.bin"));
      assert.match(logText(log), /1 damaged record\(s\) skipped: passed the check byte but cannot be what the token wrote there/);
      assert.equal(log.losses.unusable, 1);
    });
  });

  describe("random bytes in a slot after real records", () => {
    const segs = [...realSegments(11), ...realSegments(12)];
    const share = plausibleFieldShare();

    it("the minute window used for the exact figure is what the whole check accepts", () => {
      assert.ok(segs.length >= 20, `${segs.length} segments`);
      for (const { seg, n } of segs.slice(0, 3))
        for (const position of ["append", "replace"] as const) {
          const slot = position === "append" ? Math.min(n, 99) : Math.floor(n / 2);
          assert.equal(acceptedMinutes(seg, n, slot, position), minuteWindow(seg, n, slot, position), position);
        }
    });

    it("between real records: fewer than 1 in 100,000 pass (the check byte alone: 1 in 256)", () => {
      let sum = 0;
      for (const { seg, n } of segs) {
        let s = 0;
        for (let k = 1; k <= n - 2; k++) s += exactRate(seg, n, k, "replace", share);
        sum += s / (n - 2);
      }
      const exact = sum / segs.length;
      assert.ok(exact < 1e-5, `exact ${exact}`);
    });

    it("in the issue's test (random bytes in random written slots of real segments): at most 1 of 30,000 is placed", () => {
      // Read through the public segment reader, as the issue did: the old reader placed ~1 in 256.
      const rng = new Rng(3);
      const hex = (s: Uint8Array): string[] =>
        readLogSegment(`${LOG_PREFIX}1`, s).records.map((r) => Buffer.from(r.rpiPrefix).toString("hex"));
      const real = segs.map(({ seg }) => hex(seg));
      let placedGarbage = 0;
      for (let t = 0; t < 30000; t++) {
        const i = rng.int(segs.length);
        const { seg, n } = segs[i];
        const slot = 1 + rng.int(n - 2);
        const b = seg.slice();
        for (let j = 0; j < RECORD_BYTES; j++) b[HEADER_BYTES + slot * RECORD_BYTES + j] = rng.int(256);
        const before = real[i];
        const after = hex(b);
        if (after.some((x) => !before.includes(x))) placedGarbage++;
      }
      // The check byte alone places about 117.
      assert.ok(placedGarbage <= 1, `${placedGarbage}`);
    });

    it("in the newest slot: about 1 in 800, not the 1 in 1,000,000 asked for (the format has no more check to give: docs/encounter-log.md)", () => {
      const rng = new Rng(5);
      let placedGarbage = 0;
      const trials = 40000;
      for (let t = 0; t < trials; t++) {
        const { seg, n } = segs[rng.int(segs.length)];
        const slot = 1 + rng.int(Math.min(n, 99));
        const b = seg.slice();
        b.fill(0xff, HEADER_BYTES + slot * RECORD_BYTES);
        for (let i = 0; i < RECORD_BYTES; i++) b[HEADER_BYTES + slot * RECORD_BYTES + i] = rng.int(256);
        if (readLogSegment(`${LOG_PREFIX}1`, b).records.length > slot) placedGarbage++;
      }
      // The check byte alone: 156 of 40,000 expected; with the host's checks about 50.
      assert.ok(placedGarbage < 80, `${placedGarbage} of ${trials}`);
      const r = trialRate(segs, 200000, "append", 9);
      assert.ok(r.accepted / r.trials < 2e-3 && r.accepted / r.trials > 5e-4, JSON.stringify(r));
    });
  });

  it("a segment of the right size with every slot erased reads as empty, not damaged", () => {
    const b = new Uint8Array(SEGMENT_BYTES).fill(0xff);
    b.set(segment([]).subarray(0, HEADER_BYTES));
    const s = readLogSegment("pt.log1", b);
    assert.equal(s.info.status, "ok");
    assert.equal(s.records.length, 0);
    assert.deepEqual(s.damage, []);
  });

  it("encodeRecord's clamps are inside the check: the strongest and the weakest record the token stores pass", () => {
    const key = Uint8Array.of(1, 2, 3, 4, 5, 6);
    const b = segment([]);
    b.set(encodeRecord(key, 0, 0, -5, 10, 200), slotAt(0));
    b.set(encodeRecord(key, 0, 0, logFloorDbm(), logFloorDbm(), 1), slotAt(1));
    assert.equal(placed(b), 2);
  });
});
