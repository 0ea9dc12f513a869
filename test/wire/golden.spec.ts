import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { useBoard } from "../helpers/board";
import { FakePlatform, FakeStorage } from "../helpers/fake-platform";
import { createAdvertiser } from "../../firmware/src/advertiser";
import { Guard, createFaults } from "../../firmware/src/faults";
import { writeTek } from "../../firmware/src/gaen/tek-store";
import { openLog } from "../../firmware/src/log/store";
import { buildAdvert, parseAdvert } from "../../firmware/src/wire/advert";
import { savedFaults } from "../../firmware/src/wire/fault-count";
import {
  FLAG_UTC,
  HEADER_ANCHOR_OFFSET,
  HEADER_BYTES,
  LOG_PREFIX,
  RECORD_BYTES,
  SEGMENT_BYTES,
  encodeAnchor,
  encodeHeader,
  encodeRecord
} from "../../firmware/src/wire/log-record";
import { encodeTekFile } from "../../firmware/src/wire/tek-file";
import { parseAdvert as scannedFields } from "../../host-tools/src/sim/espruino/advert-packet";
import { EspruinoStorage, Flash } from "../../host-tools/src/sim/espruino";
import { readFaultCount } from "../../host-tools/src/tokenlog/health";
import { readOwnKeys } from "../../host-tools/src/tokenlog/own-keys";
import { readLogSegment, readTokenLog } from "../../host-tools/src/tokenlog/read-log";
import { TokenFiles, tokenFilesFromImage } from "../../host-tools/src/tokenlog/token-files";

/**
 * Golden bytes of what crosses between token and host (test/fixtures/wire/):
 * each is what the firmware writes, byte for byte, and what the host reads
 * back from those bytes. A change to either side that changes the bytes or
 * their meaning fails here, whichever side it was made on; a deliberate
 * format change updates the fixture (and the format version) on purpose.
 */

const BUILD = 1735689600;

function fixture<T>(name: string): T {
  return JSON.parse(fs.readFileSync(path.join(__dirname, "..", "fixtures", "wire", name), "utf8")) as T;
}
const bytes = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, "hex"));
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

function files(entries: Array<[string, Uint8Array]>): TokenFiles {
  return { source: "golden", kind: "files", files: new Map(entries), partialFiles: new Set(), damage: [] };
}

/** A segment file: `header`, then `records` in slots 0, 1, …, then erased flash. */
function segmentFile(header: Uint8Array, records: Uint8Array[] = []): Uint8Array {
  const b = new Uint8Array(SEGMENT_BYTES).fill(0xff);
  b.set(header);
  records.forEach((r, s) => b.set(r, HEADER_BYTES + s * RECORD_BYTES));
  return b;
}

interface AdvertFixture {
  rpi: string;
  aem: string;
  hex: string;
}
interface HeaderFixture {
  name: string;
  base: number;
  utc: boolean;
  dropped: number;
  anchor: number | null;
  hex: string;
}
interface RecordFixture {
  segmentBase: number;
  encode: { rpiPrefix: string; aem1: number; minute: number; meanRssi: number; maxRssi: number; count: number };
  hex: string;
  decoded: { time: number; rpiPrefix: string; aem1: number; meanRssi: number; maxRssi: number; count: number };
}
interface TekFixture {
  name: string;
  rollingStart: number;
  tek: string;
  hex: string;
}
interface FaultFixture {
  name: string;
  faults: number;
  hex: string;
}

describe("wire golden bytes: token encoder and host decoder agree", () => {
  beforeEach(() => useBoard("puckjs", BUILD));

  describe("GAEN advertisement", () => {
    const f = fixture<AdvertFixture>("advert.json");

    it("the firmware builds these bytes and its advertiser puts them on the air", () => {
      assert.equal(hex(buildAdvert(bytes(f.rpi), bytes(f.aem))), f.hex);
      const p = new FakePlatform({ startTime: BUILD + 86400 });
      const guard = ((fn: () => void) => fn) as Guard;
      createAdvertiser(p, () => ({ rpi: bytes(f.rpi), aem: bytes(f.aem) }), guard).rotate();
      // Silent until the next interval begins (the previous one may have gone out before a reset).
      p.advanceSeconds(25 * 60);
      assert.ok(p.advertising, "an advert is on the air");
      assert.equal(hex(p.advertising.packet), f.hex);
    });

    it("the host reads RPI and AEM back, as the phones and the emulated scanner do", () => {
      const g = parseAdvert(bytes(f.hex))!;
      assert.deepEqual([hex(g.rpi), hex(g.aem)], [f.rpi, f.aem]);
      const scanned = scannedFields(bytes(f.hex));
      assert.deepEqual(scanned.services, ["fd6f"]);
      assert.deepEqual(
        scanned.serviceData!.map(([uuid, d]) => [uuid, hex(d)]),
        [["fd6f", f.rpi + f.aem]]
      );
    });
  });

  describe("log segment header", () => {
    const { headers } = fixture<{ headers: HeaderFixture[] }>("segment-header.json");

    it("the firmware encodes each header (and anchor) to these bytes", () => {
      for (const h of headers) {
        const b = encodeHeader(h.base, h.utc ? FLAG_UTC : 0, h.dropped);
        if (h.anchor !== null) b.set(encodeAnchor(h.anchor), HEADER_ANCHOR_OFFSET);
        assert.equal(hex(b), h.hex, h.name);
      }
    });

    it("the firmware's log writes a UTC segment's header as encodeHeader does", () => {
      const st = new FakeStorage();
      const h = headers[0];
      openLog(st).add(new Uint8Array(6), 0, h.base + 30, -60, -60, 1);
      assert.equal(hex(st.read(LOG_PREFIX + 1)!.subarray(0, HEADER_BYTES)), hex(encodeHeader(h.base, FLAG_UTC, 0)));
    });

    it("tokenlog reads clock, base, anchor and dropped count back", () => {
      for (const h of headers) {
        const s = readLogSegment(LOG_PREFIX + 1, segmentFile(bytes(h.hex)));
        assert.equal(s.info.status, "ok", h.name);
        assert.deepEqual(
          { clock: s.info.clock, base: s.info.base, anchor: s.info.anchor, dropped: s.info.dropped, records: s.info.records },
          { clock: h.utc ? "utc" : "uptime", base: h.base, anchor: h.anchor, dropped: h.dropped, records: 0 },
          h.name
        );
        assert.deepEqual(s.damage, []);
      }
    });
  });

  describe("log record", () => {
    const f = fixture<RecordFixture>("log-record.json");
    const e = f.encode;
    const key = bytes(e.rpiPrefix + e.aem1.toString(16).padStart(2, "0"));

    it("the firmware encodes it to these bytes, and its log stores exactly them", () => {
      assert.equal(hex(encodeRecord(key, 0, e.minute, e.meanRssi, e.maxRssi, e.count)), f.hex);
      const st = new FakeStorage();
      const log = openLog(st);
      // The first sighting starts the segment at its minute; the golden one comes e.minute later.
      assert.ok(log.add(new Uint8Array(6), 0, f.segmentBase, -60, -60, 1));
      assert.ok(log.add(key, 0, f.segmentBase + e.minute * 60 + 59, e.meanRssi, e.maxRssi, e.count));
      assert.equal(hex(st.read(LOG_PREFIX + 1)!.subarray(HEADER_BYTES + RECORD_BYTES, HEADER_BYTES + 2 * RECORD_BYTES)), f.hex);
    });

    it("tokenlog reads it back placed in UTC time", () => {
      const header = encodeHeader(f.segmentBase, FLAG_UTC, 0);
      const log = readTokenLog(files([[LOG_PREFIX + 1, segmentFile(header, [bytes(f.hex)])]]));
      assert.equal(log.records.length, 1);
      const r = log.records[0];
      assert.deepEqual(
        { time: r.time, rpiPrefix: hex(r.rpiPrefix), aem1: r.aem1, meanRssi: r.meanRssi, maxRssi: r.maxRssi, count: r.count },
        f.decoded
      );
    });
  });

  describe("own TEK file", () => {
    const f = fixture<TekFixture>("tek-file.json");

    it("the firmware encodes and writes these bytes under this name", () => {
      assert.equal(hex(encodeTekFile(f.rollingStart, bytes(f.tek))), f.hex);
      const st = new FakeStorage();
      writeTek(st, f.rollingStart, bytes(f.tek));
      assert.deepEqual(st.list(""), [f.name]);
      assert.equal(hex(st.read(f.name)!), f.hex);
    });

    it("its check is the standard CRC-32 (zlib's) of the first 20 bytes", () => {
      const b = Buffer.from(f.hex, "hex");
      assert.equal(b.readUInt32LE(20), zlib.crc32(b.subarray(0, 20)));
    });

    it("tokenlog reads it back as an exposure key valid for the whole day", () => {
      assert.deepEqual(
        readOwnKeys(files([[f.name, bytes(f.hex)]])).map((k) => [hex(k.keyData), k.rollingStartIntervalNumber, k.rollingPeriod]),
        [[f.tek, f.rollingStart, 144]]
      );
    });
  });

  describe("fault-count file", () => {
    const f = fixture<FaultFixture>("fault-count.json");

    it("the firmware writes these bytes on its first caught fault", () => {
      const p = new FakePlatform({ startTime: BUILD + 86400 });
      createFaults(p).guard(() => {
        throw new Error("boom");
      })();
      assert.equal(hex(p.storage.read(f.name)!), f.hex);
      assert.deepEqual(savedFaults(bytes(f.hex)), [f.faults, 1], "the token reads back its count and the next free slot");
    });

    it("tokenlog reads the count", () => {
      assert.equal(readFaultCount(files([[f.name, bytes(f.hex)]])), f.faults);
    });
  });

  it("a Storage image of all of them (Espruino's 32-byte file headers) reads back whole through tokenlog", () => {
    const rec = fixture<RecordFixture>("log-record.json");
    const tek = fixture<TekFixture>("tek-file.json");
    const faults = fixture<FaultFixture>("fault-count.json");
    const st = new EspruinoStorage(new Flash(40960, 4096));
    st.write(LOG_PREFIX + 1, segmentFile(encodeHeader(rec.segmentBase, FLAG_UTC, 0), [bytes(rec.hex)]));
    st.write(tek.name, bytes(tek.hex));
    st.write(faults.name, bytes(faults.hex));
    const t = tokenFilesFromImage(st.flash.bytes.slice(), "golden image");
    assert.deepEqual(t.damage, []);
    assert.equal(readTokenLog(t).records[0].time, rec.decoded.time);
    assert.equal(hex(readOwnKeys(t)[0].keyData), tek.tek);
    assert.equal(readFaultCount(t), faults.faults);
  });
});
