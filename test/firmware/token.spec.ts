import { strict as assert } from "node:assert";
import { useBoard } from "../helpers/board";
import { FakePlatform, FakeStorage } from "../helpers/fake-platform";
import { startToken } from "../../firmware/src/token";
import { readTeks } from "../../firmware/src/wire/tek-file";
import { LOG_PREFIX, decodeSegment, utcBase } from "../../firmware/src/wire/log-record";
import { PATTERN, SYNC_WINDOW_MS, patternParts } from "../../firmware/src/ui";
import { TABLE_SLOTS, WINDOW_PACKETS, WINDOW_RESERVE_JSVARS, createScanner } from "../../firmware/src/scanner";
import { loadBoard } from "../../host-tools/src/build/boards";
import { deriveKeys, deriveRpis, encryptMetadata, enIntervalNumber } from "../../host-tools/src/match/derive";

const BUILD = 1735689600; // 2025-01-01 00:00 UTC
const HOUR = 3600;

function records(st: FakeStorage): { prefix: string; time: number | null; mean: number; count: number }[] {
  const out: { prefix: string; time: number | null; mean: number; count: number }[] = [];
  const names = st.list(LOG_PREFIX).sort((a, b) => parseInt(a.slice(6), 10) - parseInt(b.slice(6), 10));
  for (const n of names) {
    const d = decodeSegment(st.read(n)!)!;
    const b = utcBase(d.header);
    for (const r of d.records)
      out.push({
        prefix: Buffer.from(r.rpiPrefix).toString("hex"),
        time: b === null ? null : b + r.minute * 60,
        mean: r.meanRssi,
        count: r.count
      });
  }
  return out;
}

/** 20 bytes of service data: a phone's RPI (first byte = `who`) and AEM. */
function phone(who: number, aem1 = 0x11): Uint8Array {
  const d = new Uint8Array(20).fill(who);
  d[17] = aem1;
  return d;
}

/** Scans that surely start and end within `seconds` of boot (the first starts at boot). */
function minScans(seconds: number): number {
  const s = BOARD.schedule;
  return 1 + Math.floor((seconds - s.scanWindowMs / 1000) / s.scanPeriodSec);
}

/** Run `seconds`, delivering each of `senders` once a second while the token scans. */
function live(p: FakePlatform, seconds: number, senders: { data: Uint8Array; rssi: number }[] = []): number {
  let delivered = 0;
  for (let s = 0; s < seconds; s++) {
    p.advance(1000);
    if (p.scanning) for (const x of senders) if (p.deliver(x.rssi, x.data)) delivered++;
  }
  return delivered;
}

/** Past the next 10-minute interval: a token booted with its clock kept stays silent until then. */
function pastBootSilence(p: FakePlatform): void {
  p.advance((600 - (p.now() % 600) + 2) * 1000);
}

/** RPIs that went on the air under more than one address (each links those addresses). */
function linkedRpis(p: FakePlatform): string[] {
  const m = new Map<string, Set<string>>();
  for (const a of p.advertLog) {
    const r = Buffer.from(a.packet.subarray(11, 27)).toString("hex");
    if (!m.has(r)) m.set(r, new Set());
    m.get(r)!.add(a.address);
  }
  return [...m.entries()].filter(([, s]) => s.size > 1).map(([r]) => r);
}

/** A scanner over a log that only counts what it is given: records added, sightings counted as dropped. */
function countingScanner(): { p: FakePlatform; n: { added: number; dropped: number } } {
  const p = new FakePlatform({ startTime: BUILD + 86400 });
  const n = { added: 0, dropped: 0 };
  const log = {
    add: () => (n.added++, true),
    window: (_t: number, rows: number, lost: number) => ((n.dropped += lost), rows),
    anchor: () => undefined,
    dropped: () => n.dropped,
    segments: () => [],
    ack: () => 0
  };
  createScanner(p, log, (fn: (a?: unknown, b?: unknown) => void) => fn).start();
  return { p, n };
}

describe("token: advertising, scanning, clock, wearer interface (fake platform)", () => {
  beforeEach(() => useBoard("puckjs", BUILD));

  it("advertises the exact GAEN packet for its own TEK, non-connectable, at the board's interval and power", () => {
    const p = new FakePlatform({ startTime: BUILD + 5 * 86400 + 12345 });
    startToken(p);
    assert.equal(p.advertising, null, "silent until the next interval: a reset may have sent this one");
    pastBootSilence(p);
    const a = p.advertising!;
    assert.ok(a && !a.connectable);
    assert.equal(a.intervalMs, loadBoard("puckjs").schedule.advertIntervalMs);
    assert.equal(p.txPower, 0);
    const [tek] = readTeks(p.storage);
    const k = deriveKeys(tek.tek);
    const enin = enIntervalNumber(p.now());
    const rpi = deriveRpis(k.rpik, enin);
    const aem = encryptMetadata(k.aemk, rpi, new Uint8Array([0x40, -4 & 255, 0, 0]));
    assert.equal(Buffer.from(a.packet).toString("hex"), "02011a03036ffd17166ffd" + rpi.toString("hex") + aem.toString("hex"));
    assert.match(p.address, /^[c-f][0-9a-f]:/, "random static: top two bits 11");
  });

  it("over a day, address and RPI change together every 10–20 min, each RPI of its interval, nothing else constant", () => {
    const p = new FakePlatform({ startTime: BUILD + 9 * 86400 + 3 * HOUR, seed: 3 });
    startToken(p);
    p.advanceSeconds(24 * HOUR);
    const log = p.advertLog;
    assert.ok(log.length >= 72 && log.length <= 145, `${log.length} changes`);
    assert.equal(p.addressLog.length, log.length, "one address per packet");
    const teks = readTeks(p.storage);
    for (let i = 0; i < log.length; i++) {
      const a = log[i];
      assert.equal(p.addressLog[i].t, a.t, "address and packet change at the same moment");
      assert.equal(p.addressLog[i].address, a.address);
      // the RPI belongs to the interval in which it went on the air
      const when = BUILD + 9 * 86400 + 3 * HOUR + a.t / 1000;
      const enin = enIntervalNumber(when);
      const tek = teks.find((t) => t.rollingStart === enin - (enin % 144))!;
      assert.equal(Buffer.from(a.packet.subarray(11, 27)).toString("hex"), deriveRpis(deriveKeys(tek.tek).rpik, enin).toString("hex"));
      if (i === 0) continue;
      const b = log[i - 1];
      const gapMin = (a.t - b.t) / 60000;
      assert.ok(gapMin >= 10 && gapMin <= 20, `change after ${gapMin} min`);
      assert.notEqual(a.address, b.address);
      // beyond the fixed GAEN header (bytes 0–10), no byte position keeps its value across every change
      for (let j = 11; j < 31; j++)
        assert.ok(
          log.some((x, n) => n > 0 && x.packet[j] !== log[n - 1].packet[j]),
          `byte ${j}`
        );
      assert.notDeepEqual(a.packet.subarray(11), b.packet.subarray(11));
      assert.notDeepEqual(a.packet.subarray(27), b.packet.subarray(27), "the AEM changes too");
    }
    assert.deepEqual(p.uncaught, []);
  });

  it("aggregates each RPI per scan into one record, logs none below the floor, and keeps scanning on the board's duty cycle", () => {
    const p = new FakePlatform({ startTime: BUILD + 86400 + 8 * HOUR });
    startToken(p);
    const s = loadBoard("puckjs").schedule;
    const near = { data: phone(0xa1, 0x7e), rssi: -55 };
    const far = { data: phone(0xb2), rssi: s.logMinRssiDbm! - 15 };
    const edge = { data: phone(0xc3), rssi: s.logMinRssiDbm! };
    const seconds = 2 * HOUR;
    live(p, seconds, [near, far, edge]);
    const recs = records(p.storage);
    const scans = p.scanStarts;
    const most = 1 + Math.floor(seconds / (s.scanPeriodSec - s.scanJitterSec));
    assert.ok(
      scans >= minScans(seconds) && scans <= most,
      `${scans} scans in 2 h (every ${s.scanPeriodSec - s.scanJitterSec}–${s.scanPeriodSec} s)`
    );
    assert.equal(p.scanMs / scans, s.scanWindowMs, "the board's scan window");
    assert.equal(recs.length, 2 * scans, "one record per RPI per scan, for the two at or above the floor");
    assert.equal(recs.filter((r) => r.prefix === "b2b2b2b2b2").length, 0, "an RPI heard only below the floor is never logged");
    assert.equal(recs.filter((r) => r.prefix === "c3c3c3c3c3").length, scans, "one heard exactly at the floor is");
    const a = recs.filter((r) => r.prefix === "a1a1a1a1a1");
    assert.ok(a.every((r) => r.mean === -55 && r.count >= 1 && r.count <= 2));
    assert.ok(records(p.storage).every((r) => r.time! >= BUILD + 86400 + 8 * HOUR));
  });

  it("logging floor: compares the scan's peak RSSI after the board's calibration; weak packets take no table slot", () => {
    const board = useBoard("puckjs", BUILD);
    const floor = board.schedule.logMinRssiDbm;
    const p = new FakePlatform({ startTime: BUILD + 86400 });
    const added: { prefix: number; mean: number; peak: number; count: number }[] = [];
    let dropped = 0;
    const log = {
      add: (k: Uint8Array, o: number, _t: number, mean: number, peak: number, count: number) => (
        added.push({ prefix: k[o], mean, peak, count }),
        true
      ),
      window: (_t: number, rows: number, lost: number) => ((dropped += lost), rows),
      anchor: () => undefined,
      dropped: () => dropped,
      segments: () => [],
      ack: () => 0
    };
    const s = createScanner(p, log, (fn: (a?: unknown, b?: unknown) => void) => fn);
    s.start();
    // A crowd far away: more distinct RPIs than the table holds, all below the floor.
    for (let i = 0; i < 3 * TABLE_SLOTS; i++) p.deliver(floor - 1 - (i % 20), phone(i));
    // Then a full table's worth of near ones: every one still finds a slot.
    for (let i = 0; i < TABLE_SLOTS; i++) p.deliver(floor + 10, phone(100 + i));
    // One more near RPI: now the table is full, so it is counted as dropped.
    p.deliver(floor - 8, phone(250));
    p.deliver(floor + 4, phone(250));
    p.advance(BOARD.schedule.scanWindowMs + 1000);
    assert.equal(dropped, 1, "only the fading RPI found the table full: weak packets took no slot");
    assert.equal(added.length, TABLE_SLOTS);
    assert.ok(
      added.every((a) => a.prefix >= 100 && a.peak === floor + 10),
      "only the near ones"
    );

    // The floor applies to calibrated RSSI: a board that reads 5 dB low is corrected first.
    board.radio.rssiCalibrationDb = 5;
    added.length = 0;
    dropped = 0;
    while (!p.scanning) p.advance(1000);
    p.deliver(floor - 4, phone(7)); // calibrated: floor + 1, logged
    p.deliver(floor - 6, phone(8)); // calibrated: floor - 1, not logged
    p.deliver(floor - 8, phone(9));
    p.deliver(floor - 2, phone(9)); // peak floor + 3 after calibration: logged, mean of that packet only
    p.advance(BOARD.schedule.scanWindowMs + 1000);
    assert.deepEqual(
      added.map((a) => [a.prefix, a.mean, a.peak, a.count]),
      [
        [7, floor + 1, floor + 1, 1],
        [9, floor + 3, floor + 3, 1]
      ]
    );
    assert.equal(dropped, 0);
  });

  it("a thrown exception inside a scan callback does not stop scanning", () => {
    const p = new FakePlatform({ startTime: BUILD + 86400 });
    startToken(p);
    const bad = { data: null as unknown as Uint8Array, rssi: -60 };
    const good = { data: phone(0xc3), rssi: -60 };
    const seconds = 4 * BOARD.schedule.scanPeriodSec;
    live(p, seconds, [bad, good]);
    assert.deepEqual(p.uncaught, [], "nothing escapes to the interpreter");
    const recs = records(p.storage);
    assert.ok(recs.length >= minScans(seconds) && recs.every((r) => r.prefix === "c3c3c3c3c3"), "good packets of every scan logged");
  });

  it("200 phones in a station: the scan table stays bounded and what it could not hold is counted", () => {
    const p = new FakePlatform({ startTime: BUILD + 86400 });
    startToken(p);
    const crowd = Array.from({ length: 200 }, (_, i) => {
      const d = phone(0);
      d[0] = i;
      d[1] = i >> 8;
      return { data: d, rssi: -70 };
    });
    live(p, 6 * 60, crowd);
    const recs = records(p.storage);
    assert.equal(recs.length % TABLE_SLOTS, 0);
    assert.ok(recs.length >= TABLE_SLOTS);
    assert.deepEqual(p.uncaught, []);
  });

  it("counts what a full scan table could not hold as dropped", () => {
    const { p, n } = countingScanner();
    for (let i = 0; i < 50; i++) p.deliver(-60, phone(i));
    p.advance(3000);
    assert.equal(n.added, TABLE_SLOTS);
    assert.equal(n.dropped, 50 - TABLE_SLOTS);
  });

  it("stops the radio after the window's packet limit, and skips (and counts) a window while memory is short", () => {
    const { p, n } = countingScanner();
    const starts = p.scanStarts;
    // Ten phones, each heard many times: the limit is reached long before the window's 2 s.
    for (let i = 0; i < WINDOW_PACKETS + 50; i++) p.deliver(-60, phone(i % 10));
    assert.equal(p.scanning, false, "radio off at the limit");
    p.advance(3000);
    assert.equal(n.added, 10, "the window's table is still logged");
    p.free = WINDOW_RESERVE_JSVARS - 1;
    p.advance(BOARD.schedule.scanPeriodSec * 1000);
    assert.equal(p.scanStarts, starts, "no window opened while short of memory");
    assert.equal(n.dropped, 1, "the skipped window is counted");
    p.free = 2000;
    p.advance(BOARD.schedule.scanPeriodSec * 1000);
    assert.equal(p.scanStarts, starts + 1, "scanning resumes");
  });

  it("a lost clock: no advertising, 'needs sync' on the LED, logging against uptime; setting the clock fixes all three", () => {
    const p = new FakePlatform({ startTime: 0 });
    const token = startToken(p);
    assert.equal(p.advertising, null, "never advertises with a lost clock");
    p.pressButton(300);
    const blue = () => p.ledLog.filter((l) => l.colour === "blue" && l.on).length;
    p.advance(5000);
    assert.equal(blue(), patternParts(PATTERN.needsSync)[3], "short press shows needs sync (blue, three short slow blinks)");
    // Two scan periods: at least two whole scans after the press.
    const span = 2 * BOARD.schedule.scanPeriodSec;
    live(p, span, [{ data: phone(0xd4), rssi: -60 }]);
    assert.ok(blue() > patternParts(PATTERN.needsSync)[3], "and reminds without a press");
    assert.equal(p.advertising, null);
    const before = records(p.storage);
    assert.ok(before.length >= 2 && before.every((r) => r.time === null), "logged against uptime");
    const now = BUILD + 30 * 86400;
    token.setTime(now);
    assert.ok(p.advertising, "advertises once the clock is set");
    const after = records(p.storage);
    assert.ok(
      after.every((r) => r.time !== null && r.time <= now && r.time > now - span - 60),
      "re-anchored to real time"
    );
  });

  it("short press shows the risk level from the kiosk; long press opens a connectable sync window that closes by itself", () => {
    const p = new FakePlatform({ startTime: BUILD + 86400 });
    p.storage.write("pt.cfg", new Uint8Array([2]));
    startToken(p);
    pastBootSilence(p);
    p.ledLog.length = 0;
    p.pressButton(200);
    p.advance(5000);
    const red = p.ledLog.filter((l) => l.colour === "red" && l.on).length;
    assert.equal(red, patternParts(PATTERN.riskHigh)[3], "high risk: six fast red blinks");
    p.pressButton(2500);
    assert.ok(p.advertising!.connectable, "sync window open");
    assert.ok(p.ledState.blue, "blue shows it");
    p.advance(SYNC_WINDOW_MS + 1000);
    assert.ok(!p.advertising!.connectable, "closed after the window");
  });

  it("keeps its address and RPI while a sync window is open; a change that fell due happens after it closes", () => {
    const p = new FakePlatform({ startTime: BUILD + 86400 });
    startToken(p);
    pastBootSilence(p);
    const all = new Set<string>();
    let atClose = 0;
    // Windows for 80 minutes, 2 minutes apart: rotations (every 10–20 min) fall
    // due inside them and happen within 2 minutes after (not as it closes).
    for (let windows = 0; windows < 20; windows++) {
      p.advance(120000);
      p.pressButton(2500);
      assert.ok(p.advertising!.connectable, "sync window open");
      const seen = new Set<string>([p.address]);
      while (p.advertising!.connectable) {
        p.advance(1000);
        if (p.advertising!.connectable) seen.add(p.address);
      }
      assert.equal(seen.size, 1, `window ${windows}: the address changed while the kiosk could be connected`);
      if (p.address !== [...seen][0]) atClose++;
      all.add(p.address);
    }
    assert.ok(all.size >= 2, "identifiers still rotate between windows");
    assert.ok(atClose <= 1, `${atClose} of 20 windows changed address the second they closed: an observer would link the two`);
  });

  it("never sends an RPI under a second address: kiosk sync with the same time, a clock set back, a reset that kept the clock", () => {
    for (let seed = 1; seed <= 40; seed++) {
      const p = new FakePlatform({ startTime: BUILD + 86400 + 3 * HOUR + 7, seed });
      const token = startToken(p);
      p.advance(((seed * 7919) % 1200) * 1000 + 700000);
      p.pressButton(2500);
      token.setTime(p.now()); // the kiosk writes the time the token already had
      p.advance(30000);
      token.setTime(p.now() - 900); // and another one sets it 15 minutes back
      p.pressButton(2500);
      p.advance(3 * HOUR * 1000);
      assert.deepEqual(linkedRpis(p), [], `seed ${seed}`);
      assert.ok(new Set(p.advertLog.map((a) => a.address)).size >= 8, "still rotates");
      const before = p.advertising!;
      const q = p.reboot({ keepClock: true });
      startToken(q);
      assert.equal(q.advertising, null, "silent after a reset that kept the clock");
      q.advance(30 * 60000);
      const rpi = (a: { packet: Uint8Array }) => Buffer.from(a.packet.subarray(11, 27)).toString("hex");
      assert.ok(!q.advertLog.some((a) => rpi(a) === rpi(before)), `seed ${seed}: the last RPI again after the reset`);
      assert.ok(q.advertising, "advertises again after the reset");
    }
  });

  it("a throw at start-up (the radio refuses the first scan) leaves the token running: watchdog on, main tick, scanning", () => {
    const p = new FakePlatform({ startTime: BUILD + 86400 });
    const start = p.startScan.bind(p);
    let refused = 0;
    p.startScan = (cb) => {
      if (!refused++) throw new Error("BLE error 0x11 (BUSY)");
      start(cb);
    };
    startToken(p);
    assert.ok(p.watchdog.enabled, "watchdog enabled");
    p.advance(20 * 60000);
    assert.ok(p.watchdog.kicks >= 19, "the main tick runs");
    assert.ok(p.scanStarts >= 2, "scanning resumed");
    assert.ok(p.advertising, "advertising");
  });

  it("with flash full, the fault count's failed write does not cost the main tick its work: a lost clock reminds every 5 minutes", () => {
    const p = new FakePlatform({ startTime: 0 });
    startToken(p);
    p.storage.write = () => {
      throw new Error("Unable to find or create file");
    };
    live(p, 3 * HOUR + 10, [{ data: null as unknown as Uint8Array, rssi: -60 }]); // a fault every scan
    const blue = p.ledLog.filter((l) => l.colour === "blue" && l.on).length;
    assert.equal(blue, ((3 * 60) / 5) * patternParts(PATTERN.needsSync)[3]);
    assert.deepEqual(p.uncaught, []);
  });

  it("wearer patterns differ in colour and rhythm", () => {
    const all = Object.values(PATTERN);
    const rhythms = new Set(all.map((x) => patternParts(x).slice(1).join("/")));
    assert.equal(rhythms.size, all.length, "a one-LED board still tells them apart");
    // Packed into one integer each: the longest times and most repeats survive the packing.
    assert.deepEqual(patternParts(PATTERN.syncOpen), [4, 60, 900, 1]);
    assert.deepEqual(patternParts(PATTERN.riskNone), [2, 1500, 500, 1]);
    assert.deepEqual(patternParts(PATTERN.riskHigh), [1, 150, 150, 6]);
  });

  it("kicks the watchdog from the main loop and survives a failing flash", () => {
    const p = new FakePlatform({ startTime: BUILD + 86400 });
    startToken(p);
    assert.ok(p.watchdog.enabled);
    const write = p.storage.write.bind(p.storage);
    p.storage.write = () => {
      throw new Error("Unable to find or create file");
    };
    live(p, 30 * 60, [{ data: phone(0xe5), rssi: -60 }]);
    p.storage.write = write;
    live(p, 10 * 60, [{ data: phone(0xe5), rssi: -60 }]);
    assert.ok(p.watchdog.kicks >= 39);
    assert.ok(p.ms - p.watchdog.lastKickMs <= 60000);
    assert.ok(records(p.storage).length >= 1, "logging resumes when flash works again");
    assert.deepEqual(p.uncaught, []);
  });
});
