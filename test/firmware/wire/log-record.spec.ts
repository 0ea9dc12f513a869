import { strict as assert } from "node:assert";
import {
  HEADER_BYTES,
  RECORD_BYTES,
  SEGMENT_BYTES,
  decodeHeader,
  decodeRecord,
  decodeSegment,
  encodeAnchor,
  encodeHeader,
  encodeRecord,
  utcBase
} from "../../../firmware/src/wire/log-record";
import { prng } from "../../helpers/fake-platform";

describe("wire/log-record: encounter log format", () => {
  const key = new Uint8Array([9, 1, 2, 3, 4, 5, 0xc4]);

  it("a record is 10 bytes and round-trips prefix, AEM byte, minute, RSSI and count", () => {
    const r = encodeRecord(key, 1, 1234, -67, -60, 5);
    assert.equal(r.length, RECORD_BYTES);
    assert.deepEqual(decodeRecord(r, 0), {
      rpiPrefix: new Uint8Array([1, 2, 3, 4, 5]),
      aem1: 0xc4,
      minute: 1234,
      meanRssi: -67,
      maxRssi: -61,
      count: 5
    });
  });

  it("clamps what does not fit instead of wrapping (very close or far, long scans)", () => {
    const near = decodeRecord(encodeRecord(key, 1, 5000, -5, 0, 40), 0)!;
    assert.deepEqual([near.minute, near.meanRssi, near.maxRssi, near.count], [2047, -20, -16, 8]);
    const far = decodeRecord(encodeRecord(key, 1, 0, -160, -160, 1), 0)!;
    assert.deepEqual([far.meanRssi, far.count], [-147, 1]);
  });

  it("a record cut at any byte never decodes (the check byte goes last and is never 0xFF)", () => {
    const rnd = prng(7);
    for (let n = 0; n < 2000; n++) {
      const k = new Uint8Array(6).map(() => rnd() & 255);
      const r = encodeRecord(k, 0, rnd() % 2048, -(rnd() % 100), -(rnd() % 40), 1 + (rnd() % 8));
      assert.ok(decodeRecord(r, 0));
      for (let cut = 0; cut < RECORD_BYTES; cut++) {
        const torn = r.slice();
        torn.fill(0xff, cut);
        assert.equal(decodeRecord(torn, 0), null, `cut at ${cut}`);
      }
    }
  });

  it("a segment header carries base, flags, dropped and a later anchor; a torn header does not decode", () => {
    const h = encodeHeader(1735689600, 1, 77);
    assert.deepEqual(decodeHeader(h), { base: 1735689600, flags: 1, dropped: 77, anchor: null });
    const up = encodeHeader(3600, 0, 0);
    up.set(encodeAnchor(1735700000), 10);
    assert.equal(utcBase(decodeHeader(up)!), 1735700000);
    for (let cut = 0; cut < 10; cut++) assert.equal(decodeHeader(h.slice().fill(0xff, cut)), null);
  });

  it("a segment decodes to its valid records and counts a torn one", () => {
    const seg = new Uint8Array(SEGMENT_BYTES).fill(0xff);
    seg.set(encodeHeader(1735689600, 1, 0));
    seg.set(encodeRecord(key, 1, 1, -50, -50, 1), HEADER_BYTES);
    seg.set(encodeRecord(key, 1, 2, -50, -50, 1).subarray(0, 4), HEADER_BYTES + RECORD_BYTES);
    seg.set(encodeRecord(key, 1, 3, -50, -50, 1), HEADER_BYTES + 2 * RECORD_BYTES);
    const d = decodeSegment(seg)!;
    assert.deepEqual(
      d.records.map((r) => r.minute),
      [1, 3]
    );
    assert.equal(d.torn, 1);
  });
});
