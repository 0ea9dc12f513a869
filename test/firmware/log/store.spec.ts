import { strict as assert } from "node:assert";
import { useBoard } from "../../helpers/board";
import { loadBoard } from "../../../host-tools/src/build/boards";
import { FakeStorage, prng } from "../../helpers/fake-platform";
import { openLog } from "../../../firmware/src/log/store";
import {
  LOG_PREFIX,
  RESERVE_BYTES,
  SEGMENT_FOOTPRINT,
  SEGMENT_RECORDS,
  decodeSegment,
  utcBase
} from "../../../firmware/src/wire/log-record";
import { fileFootprint } from "../../../firmware/src/wire/storage";

const BUILD = 1735689600; // 2025-01-01 00:00 UTC
const DAY = 86400;

/** A sighting whose key spells its sequence number, so a test can tell which ones survived. */
function keyOf(id: number): Uint8Array {
  const k = new Uint8Array(6);
  for (let i = 0; i < 4; i++) k[i] = (id >>> (8 * i)) & 255;
  k[4] = 0x5a;
  k[5] = 0xa5;
  return k;
}
function idOf(prefix: Uint8Array): number {
  return prefix[0] + prefix[1] * 256 + prefix[2] * 65536 + prefix[3] * 16777216;
}

interface Seen {
  id: number;
  time: number | null;
  meanRssi: number;
}

/** Everything a kiosk dump would read from the log, oldest first. */
function readLog(st: FakeStorage): { seen: Seen[]; torn: number; dropped: number } {
  const names = st.list(LOG_PREFIX).sort((a, b) => parseInt(a.slice(6), 10) - parseInt(b.slice(6), 10));
  const seen: Seen[] = [];
  let torn = 0;
  let dropped = 0;
  for (const n of names) {
    const d = decodeSegment(st.read(n)!);
    if (!d) continue;
    torn += d.torn;
    dropped = d.header.dropped;
    const b = utcBase(d.header);
    for (const r of d.records) seen.push({ id: idOf(r.rpiPrefix), time: b === null ? null : b + r.minute * 60, meanRssi: r.meanRssi });
  }
  return { seen, torn, dropped };
}

describe("log/store: the encounter log in flash", () => {
  before(() => useBoard("puckjs", BUILD));

  it("stores sightings in order across segments and resumes after a reboot", () => {
    const st = new FakeStorage(1 << 20);
    let log = openLog(st);
    const t0 = BUILD + 10 * DAY;
    for (let i = 0; i < 250; i++) {
      if (i === 130) log = openLog(st); // reboot with the clock kept
      assert.ok(log.add(keyOf(i), 0, t0 + i * 120, -60 - (i % 30), -55, 3));
    }
    const { seen, torn } = readLog(st);
    assert.deepEqual(
      seen.map((s) => s.id),
      [...Array(250).keys()]
    );
    assert.equal(seen[249].time, t0 + 249 * 120);
    assert.equal(seen[7].meanRssi, -67);
    assert.equal(torn, 0);
    assert.equal(st.list(LOG_PREFIX).length, 3, "100 records a segment");
    assert.equal(st.overwrites, 0, "flash is only ever written where erased");
  });

  it("1,000 random power cuts during log writes lose nothing but the record in flight", function () {
    // Plenty of flash, so that eviction (tested below) does not mix in here.
    const board = useBoard("puckjs", BUILD);
    board.storage.dataBytes = 1 << 23;
    const st = new FakeStorage(1 << 23);
    const rnd = prng(2024);
    const committed: number[] = [];
    const inFlight = new Set<number>();
    let log = openLog(st);
    let t = BUILD + DAY;
    let id = 0;
    const check = (label: string): void => {
      const ids = readLog(st).seen.map((s) => s.id);
      const committedSet = new Set(committed);
      assert.deepEqual(
        ids.filter((x) => committedSet.has(x)),
        committed,
        `every committed record, in order (${label})`
      );
      assert.deepEqual(
        ids.filter((x) => !committedSet.has(x) && !inFlight.has(x)),
        [],
        `nothing else (${label})`
      );
    };
    for (let cuts = 1; cuts <= 1000; cuts++) {
      // anywhere in the next ~40 records, segment headers included
      st.cutAfter(rnd() % 400);
      for (;;) {
        t += rnd() % 20;
        const ok = log.add(keyOf(id), 0, t, -70, -60, 2);
        if (st.isDead) break;
        assert.ok(ok);
        committed.push(id++);
      }
      inFlight.add(id++);
      st.revive();
      log = openLog(st); // the reboot: recovery runs on open
      if (cuts % 100 === 0) check(`after ${cuts} cuts`);
    }
    check("at the end");
    assert.equal(st.overwrites, 0, "no byte written twice");
    assert.ok(readLog(st).torn > 500, "most cuts tear a record, and readers skip it");
    useBoard("puckjs", BUILD);
  });

  it("keeps 14 days at 150 encounters a day on a 40 KB Puck.js next to a full-budget bundle, keys, settings, fault and drop counts", () => {
    const st = new FakeStorage(40960);
    // The board's bundle budget (raised to 13,824 bytes for the flood defence, issue 15), the fault and drop counts.
    st.write(".bootcde", new Uint8Array(loadBoard("puckjs").budget.bundleBytes));
    st.write("pt.err", new Uint8Array(64));
    st.write("pt.drop", new Uint8Array(64));
    for (let d = 0; d < 15; d++) st.write("pt.tek" + (2892000 + d * 144), new Uint8Array(24));
    st.write("pt.cfg", new Uint8Array(16));
    const log = openLog(st);
    const rnd = prng(5);
    let id = 0;
    const start = BUILD + 3 * DAY;
    const days = 30;
    for (let d = 0; d < days; d++) {
      // 150 sightings spread over the waking hours, in time order
      const times = Array.from({ length: 150 }, () => start + d * DAY + 7 * 3600 + (rnd() % (14 * 3600))).sort((a, b) => a - b);
      for (const t of times) assert.ok(log.add(keyOf(id++), 0, t, -65, -60, 3), `day ${d}`);
    }
    const now = start + (days - 1) * DAY + 21 * 3600;
    const { seen } = readLog(st);
    const oldest = seen[0].time!;
    assert.ok(now - oldest >= 14 * DAY, `retained ${((now - oldest) / DAY).toFixed(1)} days`);
    assert.ok(now - oldest <= 16 * DAY, "nothing much older than the retention is kept");
    // every sighting of the last 14 days is there, in order, none lost in between
    const ids = seen.map((s) => s.id);
    assert.deepEqual(
      ids,
      ids.slice().sort((a, b) => a - b)
    );
    assert.equal(ids[ids.length - 1] - ids[0] + 1, ids.length);
    assert.equal(st.list("pt.tek").length, 15, "own keys are never evicted");
    assert.ok(st.read("pt.cfg"));
    assert.ok(st.getFree() + st.trashBytes >= RESERVE_BYTES, "room kept for keys and settings");
    assert.equal(log.dropped(), 0, "age, not space, removed the old days");
  });

  it("when flash is full the oldest segment goes first and the dropped count says how many", () => {
    const st = new FakeStorage(6 * SEGMENT_FOOTPRINT + RESERVE_BYTES + fileFootprint(24));
    st.write("pt.tek2892000", new Uint8Array(24));
    const log = openLog(st);
    const t0 = BUILD + DAY;
    for (let i = 0; i < 1000; i++) assert.ok(log.add(keyOf(i), 0, t0 + i * 60, -65, -60, 3));
    const { seen, dropped } = readLog(st);
    const ids = seen.map((s) => s.id);
    assert.equal(ids[ids.length - 1], 999, "the newest are kept");
    assert.equal(ids[ids.length - 1] - ids[0] + 1, ids.length, "a contiguous run: oldest went first");
    assert.equal(ids[0] % SEGMENT_RECORDS, 0, "whole segments go");
    assert.equal(log.dropped(), ids[0], "every evicted sighting is counted");
    assert.ok(dropped >= ids[0] - SEGMENT_RECORDS, "the count is persisted in the newest segment header, at most one segment behind");
    assert.ok(st.read("pt.tek2892000"), "own keys are never evicted");
  });

  it("a newest segment whose header a power cut tore does not set the dropped count back", () => {
    const st = new FakeStorage(6 * SEGMENT_FOOTPRINT + RESERVE_BYTES + fileFootprint(24));
    const log = openLog(st);
    const t0 = BUILD + DAY;
    for (let i = 0; i < 1000; i++) log.add(keyOf(i), 0, t0 + i * 60, -65, -60, 3);
    const persisted = readLog(st).dropped;
    assert.ok(persisted > 0);
    // The cut came while the next segment's header was written: it reads as garbage.
    const last = Math.max(...st.list(LOG_PREFIX).map((n) => parseInt(n.slice(LOG_PREFIX.length), 10)));
    st.compact();
    st.write(LOG_PREFIX + (last + 1), new Uint8Array([0x17, 0x00, 0x02]), 0, 64);
    const again = openLog(st);
    assert.ok(again.dropped() >= persisted, `${again.dropped()} < ${persisted}: the counter went backwards`);
    again.add(keyOf(1000), 0, t0 + 1000 * 60, -65, -60, 3);
    assert.ok(readLog(st).dropped >= persisted, "and the next header carries it on");
  });

  it("flash full of other files: a segment that does not fit is not retried (compacting) on every sighting, and logging resumes once there is room", () => {
    const st = new FakeStorage(SEGMENT_FOOTPRINT + RESERVE_BYTES);
    st.write("pt.big", new Uint8Array(1024));
    const log = openLog(st);
    const t0 = BUILD + DAY;
    for (let i = 0; i < 600; i++) assert.equal(log.add(keyOf(i), 0, t0 + i, -65, -60, 3), false);
    assert.ok(st.compactions <= 2, `${st.compactions} compactions for 600 sightings in 10 minutes`);
    assert.equal(log.dropped(), 600, "every one counted");
    st.erase("pt.big");
    st.compact(); // room again
    assert.ok(log.add(keyOf(600), 0, t0 + 601, -65, -60, 3), "logs again once free space changed");
  });

  it("logs against uptime while the clock is lost and re-anchors those records when it is set", () => {
    const st = new FakeStorage(1 << 20);
    const log = openLog(st);
    log.add(keyOf(1), 0, 100, -60, -60, 1); // uptime 100 s after a power cut
    log.add(keyOf(2), 0, 100 + 600, -60, -60, 1);
    let { seen } = readLog(st);
    assert.deepEqual(
      seen.map((s) => s.time),
      [null, null],
      "not yet placed in time"
    );
    const utcNow = BUILD + 20 * DAY;
    log.anchor(1000, utcNow); // the kiosk sets the clock at uptime 1000 s
    log.add(keyOf(3), 0, utcNow + 60, -60, -60, 1);
    seen = readLog(st).seen;
    // true times utcNow-900, utcNow-300, utcNow+60; records keep minutes since their segment's base
    const truth = [utcNow - 900, utcNow - 300, utcNow + 60];
    seen.forEach((s, i) => assert.ok(s.time! <= truth[i] && s.time! > truth[i] - 60, `record ${i}: ${s.time} vs ${truth[i]}`));
  });
  it("after a kiosk's acknowledgement, segment numbers never restart below it, even with every segment gone", () => {
    useBoard("puckjs", BUILD);
    const st = new FakeStorage();
    let log = openLog(st);
    const t0 = BUILD + 10 * DAY;
    for (let i = 0; i < 3 * SEGMENT_RECORDS; i++) log.add(keyOf(i), 0, t0 + i * 60, -60, -58, 3);
    const before = log.segments();
    assert.deepEqual(before, [1, 2, 3]);
    assert.equal(log.ack(3), 3, "segments 1 and 2 are stored on a kiosk");
    assert.equal(log.ack(2), 3, "an older acknowledgement changes nothing");
    for (const n of st.list(LOG_PREFIX)) st.erase(n);
    log = openLog(st); // a reboot that finds no segment (erased, or lost in a cut)
    log.add(keyOf(999), 0, t0 + DAY, -60, -58, 3);
    assert.deepEqual(log.segments(), [3], "the next number is the acknowledged one, not 1: it is not taken for stored");
  });
});
