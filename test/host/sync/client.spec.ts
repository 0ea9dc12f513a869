import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadBoard } from "../../../host-tools/src/build/boards";
import { LinkLostError } from "../../../host-tools/src/ble/errors";
import { SimSyncLink, SimTransport } from "../../../host-tools/src/ble/sim-transport";
import { DriftingClock } from "../../../host-tools/src/sim/clock";
import { EspruinoToken, createEmulatedToken } from "../../../host-tools/src/sim/espruino";
import { Rng } from "../../../host-tools/src/sim/prng";
import { EventScheduler } from "../../../host-tools/src/sim/scheduler";
import { SyncOptions, SyncProgress, SyncResult, syncToken } from "../../../host-tools/src/sync/client";
import { AuthFailedError, SyncProtocolError } from "../../../host-tools/src/sync/errors";
import type { SyncLink } from "../../../host-tools/src/ble/transport";
import { STATE_FILE } from "../../../host-tools/src/sync/log-copy";
import { readTokenLog } from "../../../host-tools/src/tokenlog/read-log";
import { readOwnTeks } from "../../../host-tools/src/tokenlog/own-keys";
import { loadTokenFiles, tokenFilesFromStorage } from "../../../host-tools/src/tokenlog/token-files";
import { buildAdvert } from "../../../firmware/src/wire/advert";
import {
  ACK_FILE,
  HEADER_BYTES,
  LOG_PREFIX,
  RECORD_BYTES,
  SEGMENT_BYTES,
  encodeHeader,
  encodeRecord,
  FLAG_UTC,
  firstFreeSlot
} from "../../../firmware/src/wire/log-record";
import { SECRETS_FILE, encodeSecrets } from "../../../firmware/src/wire/secrets";
import { SETTINGS_FILE } from "../../../firmware/src/wire/settings";
import { RecordingRadio } from "../../sim/espruino/helpers";
import { runCli } from "../../helpers/cli";
import { TEST_BUILD_TIME, testBundle } from "../../helpers/firmware";

/**
 * The sync client (host-tools/src/sync) against the real Puck.js bundle on the
 * Espruino emulation, over the simulated link (ble/sim-transport.ts): the
 * handshake, the resumable log dump into a directory the tokenlog readers
 * take, the acknowledgement, clock and risk.
 */

/** True time 1000 is this Unix time on the kiosk's (correct) clock. */
const T0 = TEST_BUILD_TIME + 40 * 86400;
const TRUE0 = 1000;
/** The token's clock runs this many seconds behind the kiosk's. */
const TOKEN_SLOW = 42;
const SECRET = new Uint8Array(32).map((_, i) => 0xa0 ^ i);
const TOKEN_ID = "00112233445566778899aabbccddeeff";
/** Pre-written log: segments 1..5, the first four full, the newest (still being written) partly. */
const SEGMENT_RECORDS_WRITTEN = [100, 100, 100, 100, 37];

const made: string[] = [];
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "pt-sync-"));
  made.push(d);
  return d;
}

interface World {
  token: EspruinoToken;
  scheduler: EventScheduler;
  radio: RecordingRadio;
  /** The kiosk's clock: Unix seconds, exact. */
  hostNow(): number;
}

/** Segment `k` (1-based) of the pre-written log: header and records, as the firmware writes them. */
function segmentBytes(k: number, rng: Rng): { header: Uint8Array; records: Uint8Array } {
  // Oldest 4 days back, the newest begun an hour ago so the token keeps writing into it.
  const base = k === SEGMENT_RECORDS_WRITTEN.length ? T0 - 3600 : T0 - (6 - k) * 86400;
  const n = SEGMENT_RECORDS_WRITTEN[k - 1];
  const records = new Uint8Array(n * RECORD_BYTES);
  const key = new Uint8Array(6);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < 6; j++) key[j] = rng.int(256);
    // As the scanner writes them: max RSSI equals mean for a short record, both within the floor.
    const rssi = -50 - rng.int(21);
    records.set(encodeRecord(key, 0, Math.min(i * 3, 59), rssi, rssi, 1 + rng.int(8)), i * RECORD_BYTES);
  }
  return { header: encodeHeader(Math.floor(base / 60) * 60, FLAG_UTC, 0), records };
}

/** A provisioned Puck.js with a five-segment log, booted, its clock TOKEN_SLOW behind. Same seed, same token. */
async function world(seed = 7, opts: { lostClock?: boolean } = {}): Promise<World> {
  const scheduler = new EventScheduler(TRUE0);
  // A lost clock restarts near 0 (a battery change): the token logs against uptime until a kiosk sets it.
  const clock = new DriftingClock({ driftPpm: 0, startTrue: TRUE0, startLocal: opts.lostClock ? 5 : T0 - TOKEN_SLOW });
  const radio = new RecordingRadio();
  const token = createEmulatedToken({
    id: `t${seed}`,
    board: loadBoard("puckjs"),
    bundle: (await testBundle("puckjs")).code,
    scheduler,
    clock,
    radio,
    seed
  });
  token.storage.write(
    SECRETS_FILE,
    encodeSecrets({
      tokenId: Buffer.from(TOKEN_ID, "hex"),
      syncSecret: SECRET,
      archiveSecret: new Uint8Array(32).fill(2),
      homeKey: new Uint8Array(32).fill(3)
    })
  );
  const rng = new Rng(seed);
  for (let k = 1; k <= SEGMENT_RECORDS_WRITTEN.length; k++) {
    const { header, records } = segmentBytes(k, rng);
    // As the firmware does: the file created at full size with its header, records written in place after.
    token.storage.write(`${LOG_PREFIX}${k}`, header, 0, SEGMENT_BYTES);
    token.storage.write(`${LOG_PREFIX}${k}`, records, HEADER_BYTES);
  }
  token.boot();
  scheduler.runUntil(TRUE0 + 60);
  return { token, scheduler, radio, hostNow: () => Math.floor(T0 + scheduler.now - TRUE0) };
}

/** A long press: the sync window opens when the button is released (unless still open from before: a press would close it). */
function openWindow(w: World): void {
  if (w.radio.advert?.connectable) return;
  w.token.pressButton(2500);
  w.scheduler.runUntil(w.scheduler.now + 3);
  assert.ok(w.radio.advert?.connectable, "sync window open");
}

function options(w: World, link: SimSyncLink, dir: string, more: Partial<SyncOptions> = {}): SyncOptions {
  return { secrets: [{ tokenId: TOKEN_ID, syncSecret: SECRET }], outDir: dir, now: w.hostNow, timer: link.timer, ...more };
}

async function sync(w: World, dir: string, more: Partial<SyncOptions> = {}, onLink?: (l: SimSyncLink) => void): Promise<SyncResult> {
  openWindow(w);
  const link = SimSyncLink.connect(w.token, { scheduler: w.scheduler });
  onLink?.(link);
  return syncToken(link, options(w, link, dir, more));
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  return assert.fail("expected a rejection");
}

/** The token's segment files, by name. */
function tokenSegments(w: World): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const n of w.token.storage.list()) if (n.startsWith(LOG_PREFIX)) out.set(n, w.token.storage.read(n)!);
  return out;
}

function copySegments(dir: string): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const n of fs.readdirSync(dir)) if (n.startsWith(LOG_PREFIX)) out.set(n, new Uint8Array(fs.readFileSync(path.join(dir, n))));
  return out;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
function sameFiles(a: Map<string, Uint8Array>, b: Map<string, Uint8Array>, what: string): void {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort(), `${what}: the same files`);
  for (const [n, bytes] of a) assert.equal(hex(bytes), hex(b.get(n)!), `${what}: ${n} byte for byte`);
}

/** Written bytes of a segment file: header and slots before the first erased one (what the token sends). */
const written = (b: Uint8Array): number => HEADER_BYTES + firstFreeSlot(b) * RECORD_BYTES;

/** Let the token hear two phones through `seconds` of scanning (records go into its newest segment). */
function hearPhones(w: World, seconds: number): void {
  const a = buildAdvert(new Uint8Array(16).fill(0x42), new Uint8Array([1, 2, 3, 4]));
  const b = buildAdvert(new Uint8Array(16).fill(0x43), new Uint8Array([1, 2, 3, 4]));
  const end = w.scheduler.now + seconds;
  for (let t = w.scheduler.now; t < end; t += 0.25) {
    w.scheduler.runUntil(t);
    if (!w.radio.scan) continue;
    w.token.deliver({ address: "d1:22:33:44:55:66 random", rssi: -55, packet: a });
    w.token.deliver({ address: "d2:22:33:44:55:66 random", rssi: -60, packet: b });
  }
}

function noFaults(w: World): void {
  assert.deepEqual(
    w.token.uncaught.map((e) => e.message),
    []
  );
}

describe("sync client: a kiosk syncing an emulated Puck.js over the simulated link", function () {
  this.timeout(120_000);
  before(async function () {
    await testBundle("puckjs");
  });
  after(() => {
    for (const d of made) fs.rmSync(d, { recursive: true, force: true });
  });

  it("copies every segment byte for byte into a directory `log show` and `log to-sightings` read; acknowledges what is on disk", async () => {
    const w = await world();
    const dir = path.join(tempDir(), "token");
    const events: SyncProgress[] = [];
    const r = await sync(w, dir, { onProgress: (e) => events.push(e) });

    assert.equal(r.tokenId, TOKEN_ID);
    assert.equal(r.info.logFirst, 1);
    assert.equal(r.info.logLast, 5);
    const total = SEGMENT_RECORDS_WRITTEN.reduce((a, n) => a + HEADER_BYTES + n * RECORD_BYTES, 0);
    assert.equal(r.log.bytesReceived, total);
    assert.deepEqual(r.log.segments, [1, 2, 3, 4, 5]);
    assert.equal(r.log.complete, true);
    assert.deepEqual(r.log.gaps, []);
    // The newest segment may still grow: the read resumes inside it, and only the segments before it are freeable.
    assert.deepEqual(r.log.next, { seg: 5, off: HEADER_BYTES + 37 * RECORD_BYTES });
    assert.deepEqual(r.acked, r.log.next);
    assert.equal(r.tokenAcked, 5);
    assert.equal(r.clock.offset, -TOKEN_SLOW);

    // The copy is the token's Storage files themselves (erased where nothing is written yet).
    sameFiles(copySegments(dir), tokenSegments(w), "copy vs token");
    const ack = w.token.storage.read(ACK_FILE)!;
    assert.equal(Buffer.from(ack).readUInt32LE(0), 5, "the token recorded the ack: segments before 5 are stored");

    // Acknowledged only once the state on disk reached it.
    const acking = events.find((e) => e.kind === "acking");
    const stored = events.filter((e) => e.kind === "stored");
    assert.ok(acking && stored.length >= 5, "a store per finished segment, then the ack");
    assert.ok(events.indexOf(acking) > events.indexOf(stored[stored.length - 1]));

    // The tokenlog readers take the directory as a token's files, with nothing damaged.
    const log = readTokenLog(loadTokenFiles(dir));
    assert.equal(
      log.records.length,
      SEGMENT_RECORDS_WRITTEN.reduce((a, n) => a + n, 0)
    );
    assert.deepEqual(log.damage, []);
    const fromToken = readTokenLog(tokenFilesFromStorage(w.token.storage, "token"));
    assert.deepEqual(
      log.records.map((x) => [x.time, hex(x.rpiPrefix)]),
      fromToken.records.map((x) => [x.time, hex(x.rpiPrefix)])
    );
    const shown = await runCli(["log", "show", dir, "--json"]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal((JSON.parse(shown.stdout) as { records: number }).records, log.records.length);
    const sightings = await runCli(["log", "to-sightings", dir]);
    assert.equal(sightings.code, 0, sightings.stderr);
    assert.equal(sightings.stdout.trim().split("\n").length, log.records.length);
    noFaults(w);
  });

  it("a second sync after new records reads only the new bytes (and the newest header again), and the copy equals the token again", async () => {
    const w = await world();
    const dir = path.join(tempDir(), "token");
    const first = await sync(w, dir);
    const before = written(w.token.storage.read(`${LOG_PREFIX}5`)!);
    hearPhones(w, 1800);
    const after = tokenSegments(w);
    const grown = [...after.values()].reduce((a, b) => a + written(b), 0) - first.log.bytesReceived;
    assert.ok(grown >= 2 * RECORD_BYTES, `the token logged ${grown} new bytes`);

    const r = await sync(w, dir);
    assert.equal(r.log.bytesReceived, grown, "only the new bytes are new");
    // The newest segment's header is read again (a flood mark may have been written into it): at most one chunk more.
    assert.ok(r.log.bytesRead <= grown + 110, `${r.log.bytesRead} bytes read for ${grown} new`);
    assert.ok(r.log.segments.every((s) => s >= 5));
    sameFiles(copySegments(dir), tokenSegments(w), "copy vs token after the second sync");
    assert.ok(written(w.token.storage.read(`${LOG_PREFIX}5`)!) > before);
    noFaults(w);
  });

  it("a link lost mid-dump keeps what arrived, acknowledges nothing, and the next sync completes byte-identical to an uninterrupted one", async () => {
    const whole = await world(11);
    const dirWhole = path.join(tempDir(), "token");
    await sync(whole, dirWhole);

    const w = await world(11);
    const dir = path.join(tempDir(), "token");
    let link: SimSyncLink | undefined;
    let chunks = 0;
    const e = await rejection(
      sync(
        w,
        dir,
        {
          onProgress: (ev) => {
            // 12 chunks: segment 1 (10 chunks) and 220 bytes of segment 2, which ends inside a record slot.
            if (ev.kind === "chunk" && ++chunks === 12) link!.lose();
          }
        },
        (l) => (link = l)
      )
    );
    assert.ok(e instanceof LinkLostError, String(e));
    assert.match(e.message, /new log bytes were stored in .*pt\.log2 byte 216.*nothing is lost.*sync again/s);
    assert.equal(w.token.storage.read(ACK_FILE), undefined, "nothing acknowledged");
    const state = JSON.parse(fs.readFileSync(path.join(dir, STATE_FILE), "utf8")) as { next: { seg: number; off: number } };
    assert.deepEqual(state.next, { seg: 2, off: 216 }, "on disk: segment 1 and the whole slots of segment 2");
    const partial = new Uint8Array(fs.readFileSync(path.join(dir, `${LOG_PREFIX}2`)));
    const full = w.token.storage.read(`${LOG_PREFIX}2`)!;
    assert.equal(hex(partial.subarray(0, 216)), hex(full.subarray(0, 216)));
    assert.ok(
      partial.subarray(216).every((b) => b === 0xff),
      "the cut slot is not on disk"
    );
    assert.deepEqual(readTokenLog(loadTokenFiles(dir)).damage, [], "a cut copy still reads cleanly");

    // The resumed sync: at the moment it acknowledges, the disk already holds everything before the ack.
    const r = await sync(w, dir, {
      onProgress: (ev) => {
        if (ev.kind !== "acking") return;
        const s = JSON.parse(fs.readFileSync(path.join(dir, STATE_FILE), "utf8")) as { next: { seg: number; off: number } };
        assert.deepEqual(s.next, ev.position);
        const disk = copySegments(dir);
        for (const [n, b] of tokenSegments(w)) {
          const seg = Number(n.slice(LOG_PREFIX.length));
          const upTo: number = seg < ev.position.seg ? SEGMENT_BYTES : seg === ev.position.seg ? ev.position.off : 0;
          assert.equal(hex(disk.get(n)!.subarray(0, upTo)), hex(b.subarray(0, upTo)), `${n} on disk before the ack`);
        }
      }
    });
    assert.equal(r.log.bytesReceived, SEGMENT_RECORDS_WRITTEN.reduce((a, n) => a + HEADER_BYTES + n * RECORD_BYTES, 0) - 1016 - 216);
    sameFiles(copySegments(dir), copySegments(dirWhole), "resumed vs uninterrupted");
    sameFiles(copySegments(dir), tokenSegments(w), "resumed vs token");
    noFaults(w);
  });

  it("segments the token freed before a resumed read are recorded as a gap, and the copy still reads", async () => {
    const w = await world(13);
    const dir = path.join(tempDir(), "token");
    let link: SimSyncLink | undefined;
    let chunks = 0;
    await rejection(sync(w, dir, { onProgress: (ev) => void (ev.kind === "chunk" && ++chunks === 12 && link!.lose()) }, (l) => (link = l)));
    // As eviction does it: the files go (the log lists its segments from Storage each time).
    w.token.storage.erase(`${LOG_PREFIX}2`);
    w.token.storage.erase(`${LOG_PREFIX}3`);
    const r = await sync(w, dir);
    assert.deepEqual(
      r.log.gaps.map((g) => [g.from, g.to]),
      [
        [
          { seg: 2, off: 216 },
          { seg: 4, off: 0 }
        ]
      ]
    );
    const state = JSON.parse(fs.readFileSync(path.join(dir, STATE_FILE), "utf8")) as { gaps: Array<{ from: unknown; to: unknown }> };
    assert.equal(state.gaps.length, 1, "kept in the copy's state");
    const log = readTokenLog(loadTokenFiles(dir));
    assert.deepEqual(log.losses.missingSegments, [3]);
    assert.deepEqual(log.damage, []);
    noFaults(w);
  });

  it("TIME_SET sets the token's clock (before the log is read) and RISK_SET shows on the token", async () => {
    const w = await world();
    const dir = path.join(tempDir(), "token");
    const order: string[] = [];
    const r = await sync(w, dir, {
      setTime: true,
      risk: { level: 2, reason: 7 },
      onProgress: (e) => order.push(e.kind)
    });
    assert.ok(r.clock.set);
    assert.equal(r.clock.set.after - r.clock.set.before, TOKEN_SLOW);
    assert.ok(order.indexOf("time-set") < order.indexOf("chunk"), "the clock is set before the log is read");
    const tokenNow = w.token.evaluate("getTime()") as number;
    assert.ok(Math.abs(tokenNow - w.hostNow()) <= 1, `token ${tokenNow}, kiosk ${w.hostNow()}`);
    assert.deepEqual(r.risk, { level: 2, reason: 7 });
    assert.deepEqual([...w.token.storage.read(SETTINGS_FILE)!], [2, 7]);
    // The wearer sees it: high risk is the red pattern.
    let red = false;
    for (let t = w.scheduler.now; t < w.scheduler.now + 3 && !red; t += 0.05) {
      w.scheduler.runUntil(t);
      red = w.token.leds().red;
    }
    assert.ok(red, "the red LED shows the high risk");
    // INFO of a later session reports the setting.
    const again = await sync(w, dir);
    assert.equal(again.info.drift, TOKEN_SLOW);
    assert.ok(Math.abs(again.clock.offset!) <= 1);
    noFaults(w);
  });

  it("a kiosk decides the level once the log is stored, with the token's archive secret in hand; the secret is asked for only when wanted", async () => {
    const w = await world();
    const dir = path.join(tempDir(), "token");
    const seen: Array<{ secret: string; segments: number[]; onDisk: boolean }> = [];
    const r = await sync(w, dir, {
      archive: true,
      risk: (c) => {
        seen.push({
          secret: Buffer.from(c.archiveSecret!).toString("hex"),
          segments: c.log.segments,
          onDisk: fs.readdirSync(c.dir).some((f) => f.startsWith("pt.log"))
        });
        return { level: 1, reason: 3 };
      }
    });
    assert.equal(seen.length, 1);
    assert.equal(seen[0].secret, "02".repeat(32), "the archive secret the token was provisioned with");
    assert.deepEqual(seen[0].segments, r.log.segments, "decided on the whole log read this session");
    assert.ok(seen[0].onDisk, "the copy is on disk before the decision");
    assert.deepEqual(r.risk, { level: 1, reason: 3 });
    assert.deepEqual([...w.token.storage.read(SETTINGS_FILE)!], [1, 3]);
    assert.equal((await sync(w, dir)).archiveSecret, null, "not asked for, not sent");
    noFaults(w);
  });

  it("a segment logged against uptime is copied unplaced, and placed once the kiosk set the clock: the anchor is read again", async () => {
    const w = await world(17, { lostClock: true });
    const dir = path.join(tempDir(), "token");
    hearPhones(w, 1800);
    const uptime = `${LOG_PREFIX}6`;
    assert.ok(w.token.storage.read(uptime), "the token began an uptime segment");
    const first = await sync(w, dir);
    assert.equal(first.clock.tokenTime, null, "INFO: the clock is not set");
    const unplaced = readTokenLog(loadTokenFiles(dir));
    assert.ok(unplaced.skipped.unplaced >= 2, `${unplaced.skipped.unplaced} records unplaced before the clock is set`);

    const r = await sync(w, dir, { setTime: true });
    assert.ok(r.log.bytesRead > r.log.bytesReceived, "headers read again");
    sameFiles(copySegments(dir), tokenSegments(w), "copy vs token after the clock was set");
    const placed = readTokenLog(loadTokenFiles(dir));
    assert.equal(placed.skipped.unplaced, 0);
    const six = placed.segments.find((x) => x.name === uptime)!;
    assert.equal(six.status, "ok");
    assert.ok(six.first! > T0 && six.last! <= w.hostNow(), "placed in the time the token heard them");
    noFaults(w);
  });

  it("the wearer's TEKs: refused without a press during the session, released with one", async () => {
    const w = await world();
    const dir = path.join(tempDir(), "token");
    const refused = await sync(w, dir, { releaseTeks: true });
    assert.deepEqual(refused.teks, { status: "no-consent" });
    const own = readOwnTeks(tokenFilesFromStorage(w.token.storage, "token"));
    const r = await sync(w, dir, {
      releaseTeks: true,
      consentWaitMs: 5000,
      onProgress: (e) => {
        if (e.kind === "consent-wait") w.token.pressButton(300);
      }
    });
    assert.ok(r.teks && r.teks.status === "released");
    assert.ok(r.teks.keys.length >= 1);
    assert.deepEqual(
      r.teks.keys.map((k) => [k.rollingStart, hex(k.tek)]),
      own.map((k) => [k.rollingStart, hex(k.tek)]),
      "every key the token held, newest first"
    );
    // Released keys are diagnosis keys now: the token broadcasts under a fresh one once the kiosk left.
    const newest = readOwnTeks(tokenFilesFromStorage(w.token.storage, "token"))[0];
    assert.ok(!r.teks.keys.some((k) => hex(k.tek) === hex(newest.tek)), "rolled to a key that was not released");
    noFaults(w);
  });

  it("a token that stops answering costs the response timeout in simulated time; a garbled frame ends the session; both keep what arrived", async () => {
    const w = await world(19);
    const dir = path.join(tempDir(), "token");
    openWindow(w);
    const link = SimSyncLink.connect(w.token, { scheduler: w.scheduler });
    let mute = false;
    // The radio stops carrying the kiosk's writes (the token never hears the next request).
    const muted: SyncLink = {
      writeBytes: link.writeBytes,
      write: (b) => (mute ? Promise.resolve() : link.write(b)),
      onData: (cb) => link.onData(cb),
      onClose: (cb) => link.onClose(cb),
      disconnect: () => link.disconnect()
    };
    let quietFrom = 0;
    const e = await rejection(
      syncToken(
        muted,
        options(w, link, dir, {
          onProgress: (ev) => {
            if (ev.kind !== "chunk" || ev.seg !== 2) return;
            mute = true;
            quietFrom = w.scheduler.now;
          }
        })
      )
    );
    assert.ok(e instanceof LinkLostError, String(e));
    assert.match(e.message, /did not answer LOG_READ within 10 s.*pt\.log2 byte 106.*nothing is lost/s);
    const waited = w.scheduler.now - quietFrom;
    assert.ok(waited >= 10 && waited < 11, `${waited} simulated seconds`);
    assert.equal(link.connected, false, "the client ended the link");

    // A notification garbled on the air: the frame fails its tag.
    const g = await world(19);
    const dir2 = path.join(tempDir(), "token");
    openWindow(g);
    const link2 = SimSyncLink.connect(g.token, { scheduler: g.scheduler });
    let n = 0;
    const garbled: SyncLink = {
      writeBytes: link2.writeBytes,
      write: (b) => link2.write(b),
      onData: (cb) => link2.onData((b) => cb(++n === 40 ? b.map((x, i) => (i === 3 ? x ^ 1 : x)) : b)),
      onClose: (cb) => link2.onClose(cb),
      disconnect: () => link2.disconnect()
    };
    const e2 = await rejection(syncToken(garbled, options(g, link2, dir2)));
    assert.ok(e2 instanceof SyncProtocolError, String(e2));
    assert.match(e2.message, /failed its check.*new log bytes were stored.*sync again/s);
    const r = await sync(g, dir2);
    sameFiles(copySegments(dir2), tokenSegments(g), "after the garbled session, a new sync completes the copy");
    assert.ok(r.log.bytesReceived < r.log.bytesRead + 1 && r.log.bytesReceived > 0);
  });

  it("a wrong secret fails authentication, and nothing is written", async () => {
    const w = await world();
    const dir = path.join(tempDir(), "token");
    openWindow(w);
    const link = SimSyncLink.connect(w.token, { scheduler: w.scheduler });
    const e = await rejection(
      syncToken(link, { ...options(w, link, dir), secrets: [{ tokenId: "ff".repeat(16), syncSecret: new Uint8Array(32).fill(9) }] })
    );
    assert.ok(e instanceof AuthFailedError, String(e));
    assert.match(e.message, /not enrolled.*backing off.*wait up to 10 minutes/);
    assert.equal(fs.existsSync(dir), false);
    assert.equal(link.connected, false, "the client ended the link");
    noFaults(w);
  });

  it("refuses to write one token's log into another token's copy", async () => {
    const w = await world();
    const dir = path.join(tempDir(), "token");
    await sync(w, dir);
    const stateFile = path.join(dir, STATE_FILE);
    const s = JSON.parse(fs.readFileSync(stateFile, "utf8")) as { tokenId: string };
    fs.writeFileSync(stateFile, JSON.stringify({ ...s, tokenId: "ab".repeat(16) }));
    const before = copySegments(dir);
    const e = await rejection(sync(w, dir));
    assert.match(String(e), /holds the log copy of token abab.*but token 0011.*answered/);
    sameFiles(copySegments(dir), before, "the other token's copy is untouched");
  });

  it("the minimal Transport: a scan finds the token only while its window is open, and connects to it", async () => {
    const w = await world();
    const t = new SimTransport(w.scheduler, [{ token: w.token, advert: () => w.radio.advert }]);
    assert.deepEqual(await t.scan(2000), []);
    w.token.pressButton(2500);
    const found = await t.scan(4000);
    assert.equal(found.length, 1);
    const link = await t.connect(found[0].address, 5000);
    const dir = path.join(tempDir(), "token");
    const r = await syncToken(link, {
      secrets: [{ tokenId: TOKEN_ID, syncSecret: SECRET }],
      outDir: () => dir,
      now: w.hostNow,
      timer: (link as SimSyncLink).timer
    });
    assert.equal(r.tokenId, TOKEN_ID);
    await t.close();
  });
});
