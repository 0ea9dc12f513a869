import { strict as assert } from "node:assert";
import { useBoard } from "../helpers/board";
import { AdvertRecord, FakePlatform, FakeStorage } from "../helpers/fake-platform";
import { startToken } from "../../firmware/src/token";
import { LINK_TX_BYTES } from "../../firmware/src/platform-api";
import { CryptoPlatform } from "../../firmware/src/crypto/types";
import { SyncSession, createReader, feed, open, seal } from "../../firmware/src/wire/sync-frame";
import {
  FAIL_AUTH,
  FAIL_VERSION,
  MSG_FAIL,
  PROVE_BYTES,
  centralAuth,
  centralHello,
  identify,
  readProve
} from "../../firmware/src/wire/sync-handshake";
import {
  BOARD_CODES,
  CHUNK_DATA_MAX,
  CHUNK_GAP,
  CHUNK_LOG_END,
  CHUNK_SEGMENT_END,
  ERR_LENGTH,
  ERR_UNKNOWN,
  ERR_VALUE,
  LogChunk,
  REQ_INFO,
  REQ_LOG_ACK,
  REQ_LOG_READ,
  REQ_RISK_SET,
  REQ_TEK_GET,
  REQ_TIME_SET,
  RESPONSE,
  RSP_ERROR,
  SyncRequest,
  TEK_NO_CONSENT,
  TEK_NO_KEY,
  TEK_OK,
  TekRelease,
  TokenInfo,
  decodeChunk,
  decodeError,
  decodeInfo,
  decodePair,
  decodeTek,
  encodeRequest,
  REQ_ARCHIVE_GET,
  decodeArchive
} from "../../firmware/src/wire/sync-messages";
import { SECRETS_FILE, encodeSecrets } from "../../firmware/src/wire/secrets";
import { beaconData } from "../../firmware/src/wire/beacon";
import { LONG_PRESS_MS, PATTERN, SYNC_WINDOW_MS, patternParts } from "../../firmware/src/ui";
import {
  ACK_FILE,
  FLAG_UTC,
  HEADER_BYTES,
  LOG_PREFIX,
  RECORD_BYTES,
  RESERVE_BYTES,
  SEGMENT_BYTES,
  SEGMENT_FOOTPRINT,
  decodeSegment,
  encodeHeader,
  encodeRecord,
  firstFreeSlot
} from "../../firmware/src/wire/log-record";
import { SETTINGS_FILE } from "../../firmware/src/wire/settings";
import { StoredTek, TEK_FILE_PREFIX, readTeks } from "../../firmware/src/wire/tek-file";
import { Rng } from "../../host-tools/src/sim/prng";
import { deriveKeys, deriveRpis, enIntervalNumber } from "../../host-tools/src/match/derive";

/**
 * The token's end of the sync link (firmware/src/sync.ts, docs/sync-protocol.md),
 * run through the whole token (`startToken`) on the fake platform. A small
 * kiosk below speaks the protocol with the shared wire code: its writes go
 * in pieces of at most 20 bytes, as BLE delivers them, and it reassembles
 * what the token wrote with a host reader. Every check is on what a kiosk or
 * the wearer would notice: frames on the link, files in flash, LEDs, adverts.
 */

const BUILD = 1735689600; // 2025-01-01 00:00 UTC
const HOUR = 3600;
const DAY = 86400;
/** A token whose clock is good: 20 days after the build, 07:02:03 UTC. */
const T0 = BUILD + 20 * DAY + 7 * HOUR + 123;
const IDLE_S = 20;

const SYNC = Uint8Array.from({ length: 32 }, (_, i) => 0x20 + i);
const OTHER_SYNC = Uint8Array.from({ length: 32 }, (_, i) => 0x90 + i);
const HOME = Uint8Array.from({ length: 32 }, (_, i) => 0xa5 ^ (i * 7));
const OTHER_HOME = Uint8Array.from({ length: 32 }, (_, i) => 0x5a ^ (i * 3));

/** The kiosk's crypto: Node's SHA-256 and AES behind the shared code. */
const host: CryptoPlatform = new FakePlatform();
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
/** FAIL 1 on the air: not a HELLO, or a wrong AUTH. */
const FAIL_1 = hex(Uint8Array.of(2, MSG_FAIL, FAIL_AUTH));

function provision(st: FakeStorage, sync = SYNC, home = HOME): void {
  st.write(
    SECRETS_FILE,
    encodeSecrets({ tokenId: new Uint8Array(16).fill(0x71), syncSecret: sync, archiveSecret: new Uint8Array(32).fill(0x72), homeKey: home })
  );
}

/** A token on the fake platform, with what the specs watch that the fake does not record. */
interface Rig {
  p: FakePlatform;
  /** Every setSyncWindow call, with its virtual ms. */
  window: { t: number; open: boolean }[];
  /** Wall-clock seconds at which the latest scan window started. */
  scanT0: number;
}

function attach(p: FakePlatform): Rig {
  const r: Rig = { p, window: [], scanT0: -1 };
  const setWindow = p.setSyncWindow.bind(p);
  p.setSyncWindow = (open: boolean) => {
    r.window.push({ t: p.ms, open });
    setWindow(open);
  };
  const startScan = p.startScan.bind(p);
  p.startScan = (cb) => {
    r.scanT0 = p.now();
    startScan(cb);
  };
  startToken(p);
  return r;
}

function boot(opts: { startTime?: number; seed?: number; storage?: FakeStorage; provisioned?: boolean; battery?: number } = {}): Rig {
  const storage = opts.storage ?? new FakeStorage();
  if (opts.provisioned !== false && !storage.files.has(SECRETS_FILE)) provision(storage);
  return attach(new FakePlatform({ startTime: opts.startTime ?? T0, seed: opts.seed ?? 1, storage, battery: opts.battery }));
}

/** The window as the token last asked the radio for it. */
function windowOpen(r: Rig): boolean {
  return r.window.length > 0 && r.window[r.window.length - 1].open;
}

/** Past the next 10-minute interval: a token booted with its clock kept stays silent until then. */
function pastBootSilence(p: FakePlatform): void {
  p.advance((600 - (p.now() % 600) + 2) * 1000);
}

/** On a whole virtual second, so the fake's clock arithmetic is exact. */
function wholeSecond(p: FakePlatform): void {
  p.advance((1000 - (p.ms % 1000)) % 1000);
}

function req(type: number, f: Partial<SyncRequest> = {}): Uint8Array {
  return encodeRequest({ type, seg: 0, off: 0, value: 0, reason: 0, ...f });
}

/** A kiosk: writes in ≤ 20-byte pieces, reads back every frame the token wrote since it last looked. */
class Central {
  private readonly reader = createReader(126);
  private seen = 0;
  private readonly rng: Rng;
  /** Every piece this central wrote since it connected, in order (a recording to replay). */
  writes: Uint8Array[] = [];
  nc: Uint8Array = new Uint8Array(16);
  s: SyncSession | null = null;

  constructor(
    private readonly p: FakePlatform,
    seed = 7
  ) {
    this.rng = new Rng(seed);
  }

  bytes(n: number): Uint8Array {
    return Uint8Array.from({ length: n }, () => this.rng.int(256));
  }

  connect(): void {
    this.frames();
    this.reader.have = 0;
    this.reader.bad = false;
    this.writes = [];
    this.s = null;
    this.p.centralConnects();
  }

  leave(): void {
    this.p.centralLeaves();
  }

  get linked(): boolean {
    return this.p.linkOpen;
  }

  write(data: Uint8Array): void {
    for (let o = 0; o < data.length; o += 20) {
      const w = data.slice(o, o + 20);
      this.writes.push(w);
      this.p.centralWrites(w);
    }
  }

  /** The frames the token wrote since the last call. The token hands each frame to linkWrite whole. */
  frames(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (; this.seen < this.p.linkSent.length; this.seen++) {
      const w = this.p.linkSent[this.seen];
      assert.ok(w.length <= LINK_TX_BYTES, `a linkWrite of ${w.length} bytes`);
      const ok = feed(this.reader, w, (f) => {
        out.push(Uint8Array.from(f));
        return true;
      });
      assert.ok(ok, "the token's frames have a good length");
      assert.equal(this.reader.have, 0, "each linkWrite carries whole frames");
    }
    return out;
  }

  /** HELLO with a fresh nonce: the token's one answer (PROVE or FAIL), or undefined. */
  hello(): Uint8Array | undefined {
    this.nc = this.bytes(16);
    this.write(centralHello(this.nc));
    const f = this.frames();
    assert.ok(f.length <= 1, "one answer to HELLO");
    return f[0];
  }

  /** AUTH for `prove` with `secret` (whether or not the token proved that secret). */
  auth(prove: Uint8Array, secret = SYNC): Uint8Array[] {
    const a = centralAuth(host, secret, this.nc, readProve(prove) ?? new Uint8Array(16));
    this.s = a.session;
    this.write(a.frame);
    return this.frames();
  }

  /** HELLO, PROVE identified with `secret`, AUTH: the session is open. */
  handshake(secret = SYNC): void {
    const prove = this.hello();
    assert.ok(prove, "the token answered HELLO");
    assert.equal(identify(host, [secret], this.nc, prove), 0, "the PROVE is this token's");
    assert.deepEqual(this.auth(prove, secret), [], "the token's first sealed frame answers the first request");
    assert.ok(this.linked, "the session is open");
  }

  /** One sealed request; the response opened, or null if there was none. */
  ask(msg: Uint8Array): Uint8Array | null {
    this.write(seal(host, this.s!, msg));
    const f = this.frames();
    assert.ok(f.length <= 1, `one response per request, got ${f.length}`);
    if (!f.length) return null;
    const m = open(host, this.s!, f[0]);
    assert.ok(m, "the response opens under the session's keys");
    return m;
  }

  info(): TokenInfo {
    const m = this.ask(req(REQ_INFO));
    const i = m && decodeInfo(m);
    assert.ok(i, "INFO");
    return i;
  }

  read(seg: number, off: number): LogChunk {
    const m = this.ask(req(REQ_LOG_READ, { seg, off }));
    const c = m && decodeChunk(m);
    assert.ok(c, `LOG_CHUNK for (${seg}, ${off})`);
    return c;
  }

  tek(index: number): TekRelease {
    const m = this.ask(req(REQ_TEK_GET, { value: index }));
    const t = m && decodeTek(m);
    assert.ok(t, "TEK");
    return t;
  }

  pair(type: number, f: Partial<SyncRequest>): number[] {
    const m = this.ask(req(type, f));
    const r = m && decodePair(type, m);
    assert.ok(r, `response to ${type.toString(16)}: ${m && hex(m)}`);
    return r;
  }

  error(msg: Uint8Array): number {
    const m = this.ask(msg);
    assert.ok(m, "a response");
    return decodeError(m);
  }
}

/** 20 bytes of service data: a phone's RPI (first two bytes from `who`) and AEM. */
function phone(who: number): Uint8Array {
  const d = new Uint8Array(20).fill(0x3c ^ who);
  d[0] = who & 255;
  d[1] = who >> 8;
  d[17] = 0x11;
  return d;
}

/**
 * Run `seconds`; in each scan window deliver every advert `heard(t0)` gives for
 * the window's start (once, at its start) at -60 dBm.
 */
function live(r: Rig, seconds: number, heard: (scanT0: number) => Uint8Array[] = () => []): void {
  let last = -1;
  for (let s = 0; s < seconds; s++) {
    r.p.advance(1000);
    if (r.p.scanning && r.scanT0 !== last) {
      last = r.scanT0;
      for (const d of heard(r.scanT0)) r.p.deliver(-60, d);
    }
  }
}

function crowd(n: number, from = 0): () => Uint8Array[] {
  return () => Array.from({ length: n }, (_, i) => phone(from + i));
}

/** Adverts as the advertiser put them on the air (the window's connectable flag re-logs the packet already there). */
function newPackets(p: FakePlatform): AdvertRecord[] {
  return p.advertLog.filter((a, i) => i === 0 || a.packet !== p.advertLog[i - 1].packet);
}

function segmentsIn(st: FakeStorage): number[] {
  return st
    .list(LOG_PREFIX)
    .map((n) => parseInt(n.slice(LOG_PREFIX.length), 10))
    .sort((a, b) => a - b);
}

/** The written part of a segment file: header and slots up to the first erased one. */
function written(st: FakeStorage, seg: number): Uint8Array {
  const b = st.read(LOG_PREFIX + seg)!;
  return b.slice(0, HEADER_BYTES + firstFreeSlot(b) * RECORD_BYTES);
}

/** A segment of an earlier life: `n` records from `base`; `torn` a slot cut by a power loss mid-write. */
function writeSegment(st: FakeStorage, seg: number, base: number, n: number, dropped: number, torn = -1): void {
  const b = new Uint8Array(HEADER_BYTES + n * RECORD_BYTES);
  b.set(encodeHeader(Math.floor(base / 60) * 60, FLAG_UTC, dropped), 0);
  for (let i = 0; i < n; i++) {
    const rec = encodeRecord(Uint8Array.of(seg, i, 0x51, 0x52, 0x53, 0x54), 0, i * 3, -58 - (i % 30), -50, 1 + (i % 8));
    if (i === torn) rec.fill(0xff, 6);
    b.set(rec, HEADER_BYTES + i * RECORD_BYTES);
  }
  st.write(LOG_PREFIX + seg, b, 0, SEGMENT_BYTES);
}

/** A log kept from an earlier life: segments 4 and 5 full (a torn slot in 5), 6 partly written; 17 records dropped so far. */
function oldLog(st: FakeStorage): void {
  writeSegment(st, 4, T0 - 3 * DAY, 100, 9);
  writeSegment(st, 5, T0 - 2 * DAY, 100, 12, 57);
  writeSegment(st, 6, T0 - 10 * HOUR, 37, 17);
}

interface ReadBack {
  first: LogChunk;
  /** Per segment: the offset of the first byte received and the bytes, in order. */
  got: Map<number, { from: number; data: number[] }>;
  gaps: number;
  chunks: number;
}

/** LOG_READ from (seg, off), chunk by chunk, to LOG_END, the way a kiosk resumes. */
function readLog(c: Central, seg: number, off: number): ReadBack {
  const got = new Map<number, { from: number; data: number[] }>();
  let first: LogChunk | undefined;
  let gaps = 0;
  for (let n = 1; n < 5000; n++) {
    const ch = c.read(seg, off);
    first ??= ch;
    assert.ok(ch.data.length <= CHUNK_DATA_MAX);
    if (ch.flags & CHUNK_GAP) gaps++;
    else assert.deepEqual([ch.seg, ch.off], [seg, off], "a chunk starts where it was asked to");
    let e = got.get(ch.seg);
    if (!e) got.set(ch.seg, (e = { from: ch.off, data: [] }));
    assert.equal(ch.off, e.from + e.data.length, "chunks follow on");
    e.data.push(...ch.data);
    if (ch.flags & CHUNK_LOG_END) return { first, got, gaps, chunks: n };
    if (ch.flags & CHUNK_SEGMENT_END) [seg, off] = [ch.seg + 1, 0];
    else [seg, off] = [ch.seg, ch.off + ch.data.length];
  }
  throw new Error("no LOG_END");
}

/** The blinks the LEDs showed from virtual ms `since`: colours lit together and how long. */
function blinks(p: FakePlatform, since: number): { colours: string; on: number }[] {
  const log = p.ledLog.filter((e) => e.t >= since);
  const out: { at: number; colours: string[]; on: number }[] = [];
  log.forEach((e, i) => {
    if (!e.on) return;
    const off = log.find((x, j) => j > i && x.colour === e.colour && !x.on);
    const on = off ? off.t - e.t : -1;
    // Lit and put out in the same instant (a pattern replaced as it started): nothing to see.
    if (on === 0) return;
    const prev = out[out.length - 1];
    if (prev && prev.at === e.t) return void prev.colours.push(e.colour);
    out.push({ at: e.t, colours: [e.colour], on });
  });
  return out.map((b) => ({ colours: b.colours.sort().join("+"), on: b.on }));
}

/** What the wearer saw besides the window's heartbeat (its blue blips). */
function besidesHeartbeat(p: FakePlatform, since: number): { colours: string; on: number }[] {
  const beat = patternParts(PATTERN.syncOpen)[1];
  return blinks(p, since).filter((b) => !(b.colours === "blue" && b.on === beat));
}

/** The blinks a pattern shows on a board with all three LEDs. */
function shows(pattern: number): { colours: string; on: number }[] {
  const [mask, on, , repeats] = patternParts(pattern);
  const colours = ["red", "green", "blue"]
    .filter((_, i) => mask & (1 << i))
    .sort()
    .join("+");
  return Array.from({ length: repeats }, () => ({ colours, on }));
}

describe("sync: the token's end of the link (whole token on the fake platform)", () => {
  beforeEach(() => useBoard("puckjs", BUILD));

  describe("a kiosk's session", () => {
    it("HELLO → PROVE of this token's secret only → AUTH → INFO as the token stands → the log to LOG_END → TIME_SET → RISK_SET → LOG_ACK", () => {
      const st = new FakeStorage();
      provision(st);
      oldLog(st);
      // One life with its clock, then a reset that kept it: two boots.
      const before = boot({ storage: st, battery: 64 });
      live(before, HOUR, crowd(12));
      const r = attach(before.p.reboot({ keepClock: true, seed: 5 }));
      const p = r.p;
      // Two packets the scanner cannot parse, in one scan: two runtime faults for INFO to report.
      let bad = true;
      live(r, 20 * 60, () => (bad ? ((bad = false), [null as unknown as Uint8Array, null as unknown as Uint8Array]) : []));
      live(r, HOUR, crowd(12, 100));
      assert.deepEqual(p.uncaught, []);
      p.pressButton(LONG_PRESS_MS + 500);
      assert.ok(windowOpen(r), "a long press opens the window");

      const c = new Central(p);
      c.connect();
      const prove = c.hello();
      assert.ok(prove && prove.length === PROVE_BYTES + 1, "PROVE");
      assert.equal(identify(host, [OTHER_SYNC, SYNC], c.nc, prove), 1, "the kiosk finds the token by its secret");
      assert.equal(identify(host, [OTHER_SYNC], c.nc, prove), -1, "and no other secret passes for it");
      assert.deepEqual(c.auth(prove), [], "AUTH is taken silently");
      assert.ok(c.linked);

      const segs = segmentsIn(p.storage);
      assert.ok(segs[0] === 4 && segs.length >= 4, `segments ${segs}`);
      const last = segs[segs.length - 1];
      assert.deepEqual(c.info(), {
        firmware: BUILD,
        board: BOARD_CODES.indexOf("puckjs"),
        battery: 64,
        clock: Math.floor(p.now()),
        drift: 0,
        clockSetAt: 0,
        faults: 2,
        resets: 2,
        logFirst: 4,
        logLast: last,
        logLastBytes: written(p.storage, last).length,
        dropped: 17
      });

      // The log, from a position never kept (segments count from 1): GAP, then the oldest kept.
      const writes = p.storage.writeCalls;
      const all = readLog(c, 0, 0);
      assert.deepEqual([all.first.seg, all.first.off, all.first.flags & CHUNK_GAP], [4, 0, CHUNK_GAP]);
      assert.equal(all.gaps, 1, "no gap after the first chunk");
      assert.deepEqual([...all.got.keys()], segs, "every segment kept, in order");
      for (const s of segs) {
        assert.equal(all.got.get(s)!.from, 0);
        assert.equal(hex(Uint8Array.from(all.got.get(s)!.data)), hex(written(p.storage, s)), `pt.log${s} byte for byte`);
      }
      const five = all.got.get(5)!.data;
      assert.equal(five.length, HEADER_BYTES + 100 * RECORD_BYTES, "a torn slot does not end a segment");
      assert.deepEqual(
        five.slice(HEADER_BYTES + 57 * RECORD_BYTES + 6, HEADER_BYTES + 58 * RECORD_BYTES),
        [255, 255, 255, 255],
        "it is sent as flash holds it"
      );
      assert.equal(p.storage.writeCalls, writes, "reading writes nothing");

      // Resumed in the middle of a segment, on a new connection: the same bytes.
      c.leave();
      c.connect();
      c.handshake();
      const mid = readLog(c, 5, 333);
      assert.equal(mid.gaps, 0);
      assert.deepEqual([mid.first.seg, mid.first.off], [5, 333]);
      for (const s of segs.filter((n) => n >= 5)) {
        const from = s === 5 ? 333 : 0;
        assert.equal(mid.got.get(s)!.from, from);
        assert.equal(
          hex(Uint8Array.from(mid.got.get(s)!.data)),
          hex(Uint8Array.from(all.got.get(s)!.data.slice(from))),
          `pt.log${s} again`
        );
      }
      // Past the end of the newest segment, and past the newest segment: the end, nothing sent twice.
      const tail = c.read(last, 999);
      assert.deepEqual(
        [tail.seg, tail.off, tail.flags, tail.data.length],
        [last, written(p.storage, last).length, CHUNK_SEGMENT_END | CHUNK_LOG_END, 0]
      );
      const beyond = c.read(last + 1, 0);
      assert.deepEqual([beyond.flags & CHUNK_LOG_END, beyond.data.length], [CHUNK_LOG_END, 0]);
      // From a freed position in the middle: GAP to the oldest kept.
      const freed = c.read(2, 50);
      assert.deepEqual([freed.seg, freed.off, freed.flags & CHUNK_GAP], [4, 0, CHUNK_GAP]);

      // TIME_SET: the token was 42 s slow.
      wholeSecond(p);
      const was = p.now();
      assert.deepEqual(c.pair(REQ_TIME_SET, { value: was + 42 }), [was, was + 42], "TIME_DONE: before and after");
      assert.equal(p.now(), was + 42, "the clock is set");
      const info = c.info();
      assert.deepEqual(
        [info.clock, info.drift, info.clockSetAt],
        [was + 42, 42, was + 42],
        "INFO: the clock, its drift and when it was set"
      );

      // RISK_SET: high, reason 7. The wearer's status is shown at once.
      const shown = p.ms;
      assert.deepEqual(c.pair(REQ_RISK_SET, { value: 2, reason: 7 }), [2, 7], "RISK_DONE");
      assert.equal(hex(p.storage.read(SETTINGS_FILE)!), "0207", "pt.cfg holds [level, reason]");
      p.advance(1100);
      // The status, problems first: this token caught two faults since it booted.
      assert.deepEqual(besidesHeartbeat(p, shown)[0], shows(PATTERN.fault)[0], "the status is shown at once");
      assert.equal(c.error(req(REQ_RISK_SET, { value: 3, reason: 1 })), ERR_VALUE, "level 3: ERROR 3");
      assert.equal(hex(p.storage.read(SETTINGS_FILE)!), "0207", "and pt.cfg is unchanged");

      // LOG_ACK: the kiosk stored everything before (6, 0).
      assert.deepEqual(c.pair(REQ_LOG_ACK, { seg: 6, off: 0 }), [6, 0], "LOG_ACKED");
      assert.equal(hex(p.storage.read(ACK_FILE)!), "06000000", "pt.ack");

      // ARCHIVE_GET: the token's archive secret, the key its log copy is sealed under on the kiosk.
      assert.deepEqual(
        decodeArchive(c.ask(Uint8Array.of(REQ_ARCHIVE_GET))!),
        new Uint8Array(32).fill(0x72),
        "the archive secret from pt.sec"
      );

      // Requests it does not understand are refused and the session goes on.
      assert.equal(c.error(Uint8Array.of(0x17)), ERR_UNKNOWN);
      assert.equal(c.error(Uint8Array.of(REQ_INFO, 0)), ERR_LENGTH);
      assert.equal(c.error(Uint8Array.of(REQ_LOG_READ, 1, 2, 3)), ERR_LENGTH);
      assert.equal(c.info().logFirst, 4, "still in session");
      c.leave();

      // After the window: a short press shows the level the kiosk wrote.
      p.advance(SYNC_WINDOW_MS);
      assert.ok(!windowOpen(r));
      const press = p.ms;
      p.pressButton(300);
      p.advance(10000);
      assert.deepEqual(
        blinks(p, press),
        [...shows(PATTERN.fault), ...shows(PATTERN.riskHigh)],
        "a short press: the faults, then fast red flashing"
      );
      assert.deepEqual(p.uncaught, []);
    });

    it("INFO reports the board's code on every board", () => {
      for (const id of ["puckjs", "mdbt42q", "pixljs", "banglejs2"]) {
        useBoard(id, BUILD);
        const r = boot();
        const c = new Central(r.p);
        c.connect();
        c.handshake();
        const i = c.info();
        assert.deepEqual([i.board, i.firmware, i.resets], [BOARD_CODES.indexOf(id), BUILD, 1], id);
        assert.ok(i.board > 0, id);
      }
    });

    it("a token whose clock was never set says clock 0; TIME_SET sets it, and the wearer no longer sees 'needs sync'", () => {
      const r = boot({ startTime: 0 });
      const p = r.p;
      live(r, 30 * 60, crowd(3));
      const c = new Central(p);
      c.connect();
      c.handshake();
      const i = c.info();
      assert.deepEqual([i.clock, i.drift, i.clockSetAt, i.resets], [0, 0, 0, 1]);
      wholeSecond(p);
      const up = p.now();
      const t = T0 + 999;
      assert.deepEqual(c.pair(REQ_TIME_SET, { value: t }), [up, t], "TIME_DONE: the uptime before, the time after");
      const j = c.info();
      assert.deepEqual([j.clock, j.clockSetAt], [t, t]);
      assert.equal(j.drift, 32767, "a clock off by years: drift clamped");
      // A second setting, 5 s later, of a clock 3 s fast: drift -3.
      p.advance(5000);
      assert.deepEqual(c.pair(REQ_TIME_SET, { value: t + 2 }), [t + 5, t + 2]);
      const k = c.info();
      assert.deepEqual([k.clock, k.drift, k.clockSetAt], [t + 2, -3, t + 2]);
      c.leave();
      const press = p.ms;
      p.pressButton(300);
      p.advance(5000);
      assert.deepEqual(blinks(p, press), [], "no 'needs sync' (and no risk known yet): nothing to show");
      p.advance(20 * 60000);
      assert.ok(p.advertising, "advertising with the clock set");
    });

    it("LOG_ACK: acknowledged segments are the first freed when flash is short, and not counted as dropped", () => {
      const dropped: Record<string, number> = {};
      for (const acked of [false, true]) {
        const st = new FakeStorage();
        provision(st);
        oldLog(st);
        const r = boot({ storage: st });
        const c = new Central(r.p);
        c.connect();
        c.handshake();
        if (acked) assert.deepEqual(c.pair(REQ_LOG_ACK, { seg: 6, off: 0 }), [6, 0]);
        const d0 = c.info().dropped;
        c.leave();
        // Room for no new segment: the next one must free one.
        st.capacityBytes = st.usedBytes() + SEGMENT_FOOTPRINT + RESERVE_BYTES - 1;
        const segs = segmentsIn(st);
        for (let m = 0; m < 4 * 60 && segmentsIn(st).includes(4); m++) live(r, 60, crowd(12));
        assert.deepEqual(segmentsIn(st), [...segs.slice(1), segs[segs.length - 1] + 1], "the oldest segment was freed for a new one");
        c.connect();
        c.handshake();
        dropped[String(acked)] = c.info().dropped - d0;
      }
      assert.equal(dropped["false"], 100, "not acknowledged: its 100 records are lost, and counted");
      assert.equal(dropped["true"], 0, "acknowledged: on the kiosk, not lost");
    });

    it("a pt.ack cut while it was written (erased bytes) or an ack past the newest segment is no acknowledgement: nothing is freed as stored, numbering goes on", () => {
      const st = new FakeStorage();
      provision(st);
      oldLog(st);
      // A power cut between Espruino's file header and its data leaves the data erased.
      st.write(ACK_FILE, new Uint8Array([255, 255, 255, 255]));
      const r = boot({ storage: st });
      const c = new Central(r.p);
      c.connect();
      c.handshake();
      const before = c.info();
      assert.deepEqual([before.logFirst, before.logLast], [4, 6], "the segments keep their numbers");
      // A kiosk cannot have stored a segment not begun: the token keeps what it had.
      assert.deepEqual(c.pair(REQ_LOG_ACK, { seg: 1000, off: 0 }), [0, 0]);
      c.leave();
      st.capacityBytes = st.usedBytes() + SEGMENT_FOOTPRINT + RESERVE_BYTES - 1;
      for (let m = 0; m < 4 * 60 && segmentsIn(st).includes(4); m++) live(r, 60, crowd(12));
      assert.deepEqual(segmentsIn(st), [5, 6, 7], "the next segment is 7, not 2^32 - 1");
      c.connect();
      c.handshake();
      assert.equal(c.info().dropped - before.dropped, 100, "segment 4 was never stored: its records are counted as lost");
      assert.deepEqual(c.pair(REQ_LOG_ACK, { seg: 7, off: 0 }), [7, 0], "a real ack still takes");
    });
  });

  describe("releasing the wearer's keys", () => {
    /** A token that has been running for three days: three days' TEKs. */
    function running(seed = 1): Rig {
      const r = boot({ startTime: T0 - 3 * DAY, seed });
      r.p.advance(3 * DAY * 1000);
      assert.ok(readTeks(r.p.storage).length >= 4);
      return r;
    }

    it("TEK_GET needs a short press during the session: PATTERN.consent, then the newest own TEK; after the kiosk leaves the token rolls to a new one", () => {
      const r = running();
      const p = r.p;
      p.pressButton(LONG_PRESS_MS + 500);
      const c = new Central(p);
      c.connect();
      c.handshake();
      assert.deepEqual(c.tek(0).status, TEK_NO_CONSENT, "no press yet: nothing released");
      p.pressButton(300);
      const press = p.ms;
      p.advance(100);
      assert.deepEqual(besidesHeartbeat(p, press)[0], shows(PATTERN.consent)[0], "the consent pattern: a quick green blink first");
      const teks = readTeks(p.storage);
      const k0 = c.tek(0);
      assert.deepEqual(
        { status: k0.status, count: k0.count, index: k0.index, rollingStart: k0.rollingStart, tek: hex(k0.tek) },
        { status: TEK_OK, count: teks.length, index: 0, rollingStart: teks[0].rollingStart, tek: hex(teks[0].tek) },
        "the newest own TEK, as in its pt.tek file"
      );
      // The key the token is broadcasting under right now (the RPI of the interval in which the packet went up).
      const put = newPackets(p).pop()!;
      const onAir = hex(put.packet.subarray(11, 27));
      assert.equal(
        hex(deriveRpis(deriveKeys(k0.tek).rpik, enIntervalNumber(p.now() - (p.ms - put.t) / 1000))),
        onAir,
        "the key on the air"
      );
      const k1 = c.tek(1);
      assert.deepEqual([k1.status, k1.index, k1.rollingStart, hex(k1.tek)], [TEK_OK, 1, teks[1].rollingStart, hex(teks[1].tek)]);
      assert.equal(c.tek(teks.length).status, TEK_NO_KEY, "an index past the last");
      assert.equal(readTeks(p.storage).length, teks.length, "no roll while the kiosk is connected");

      wholeSecond(p);
      const left = p.now();
      c.leave();
      const after = readTeks(p.storage);
      const next = Math.floor(left / 600) + 1;
      assert.equal(after[0].rollingStart, next, "a new pt.tek file, from the next interval");
      assert.notEqual(hex(after[0].tek), hex(k0.tek));
      assert.ok(p.storage.files.has(TEK_FILE_PREFIX + next));
      // Adverts after the next interval derive from the new key, never the released one.
      const since = p.ms;
      p.advance(2 * HOUR * 1000);
      const later = newPackets(p).filter((a) => a.t > since && enIntervalNumber(left + (a.t - since) / 1000) > next);
      assert.ok(later.length >= 4, `${later.length} adverts`);
      for (const a of later) {
        const enin = enIntervalNumber(left + (a.t - since) / 1000);
        const rpi = hex(a.packet.subarray(11, 27));
        assert.equal(rpi, hex(deriveRpis(deriveKeys(after[0].tek).rpik, enin)), "from the new key");
      }
      assert.deepEqual(p.uncaught, []);
    });

    it("no consent from a press before the session, before AUTH, or in an earlier session; consent without a release rolls nothing", () => {
      const r = running(2);
      const p = r.p;
      const c = new Central(p);
      p.pressButton(LONG_PRESS_MS + 500);
      // A short press before anyone connected: the status, not consent.
      let press = p.ms;
      p.pressButton(300);
      assert.ok(!blinks(p, press).some((b) => b.colours === "green" && b.on === patternParts(PATTERN.consent)[1]), "no consent pattern");
      c.connect();
      c.handshake();
      assert.equal(c.tek(0).status, TEK_NO_CONSENT, "a press before the session");
      c.leave();
      // Connected, HELLO answered, not yet authenticated.
      c.connect();
      const prove = c.hello()!;
      press = p.ms;
      p.pressButton(300);
      assert.ok(!blinks(p, press).some((b) => b.colours === "green" && b.on === patternParts(PATTERN.consent)[1]), "no consent pattern");
      assert.deepEqual(c.auth(prove), []);
      assert.equal(c.tek(0).status, TEK_NO_CONSENT, "a press before AUTH");
      // Consent in this session, and no key asked for: nothing rolls.
      const files = p.storage.list(TEK_FILE_PREFIX).sort();
      p.pressButton(300);
      assert.equal(c.info().resets, 1);
      c.leave();
      assert.deepEqual(p.storage.list(TEK_FILE_PREFIX).sort(), files, "no key released, no roll");
      // Consent given and used in one session does not carry into the next.
      c.connect();
      c.handshake();
      p.pressButton(300);
      assert.equal(c.tek(0).status, TEK_OK);
      c.leave();
      c.connect();
      c.handshake();
      assert.equal(c.tek(0).status, TEK_NO_CONSENT, "a new session needs a new press");
      c.leave();
      assert.deepEqual(p.uncaught, []);
    });

    it("after a release, every advert's RPI comes from a key the token holds whose rolling start is not after the advert's interval", () => {
      let exercised = 0;
      const problems: string[] = [];
      for (let seed = 1; seed <= 16; seed++) {
        const r = boot({ startTime: T0 - 2 * HOUR + seed * 97, seed });
        const p = r.p;
        pastBootSilence(p);
        // A session early in an interval, the window held for its 2 minutes.
        p.advance(((seed * 211) % 3000) * 1000);
        p.advance(((600 - (p.now() % 600)) % 600) * 1000 + 15000);
        p.pressButton(LONG_PRESS_MS + 500);
        const c = new Central(p, seed);
        c.connect();
        c.handshake();
        p.pressButton(300);
        assert.equal(c.tek(0).status, TEK_OK);
        c.leave();
        const rolledAt = p.ms;
        const next = Math.floor(p.now() / 600) + 1;
        p.advance(3 * HOUR * 1000);
        const keys: StoredTek[] = readTeks(p.storage);
        const wall = (ms: number) => T0 - 2 * HOUR + seed * 97 + ms / 1000;
        for (const a of newPackets(p).filter((x) => x.t >= rolledAt)) {
          const enin = enIntervalNumber(wall(a.t));
          const rpi = hex(a.packet.subarray(11, 27));
          if (enin < next) exercised++;
          const from = keys.find((k) => hex(deriveRpis(deriveKeys(k.tek).rpik, enin)) === rpi);
          if (!from) problems.push(`seed ${seed}: an RPI of interval ${enin} from no key the token holds`);
          else if (from.rollingStart > enin)
            problems.push(`seed ${seed}: interval ${enin} sent under the key rolled for interval ${from.rollingStart}`);
        }
      }
      assert.ok(exercised > 0, "some seeds change identifiers between the roll and the next interval");
      assert.deepEqual(problems, []);
    });
  });

  describe("authentication and bad input", () => {
    it("a wrong AUTH gets FAIL and the link closes; nothing it sent changes anything", () => {
      const r = boot();
      const p = r.p;
      pastBootSilence(p);
      const clock = p.now();
      const c = new Central(p);
      c.connect();
      const prove = c.hello()!;
      const a = centralAuth(host, OTHER_SYNC, c.nc, readProve(prove)!);
      // AUTH from the wrong secret, and sealed requests under the keys it would give.
      c.write(a.frame);
      c.write(seal(host, a.session, req(REQ_RISK_SET, { value: 2, reason: 1 })));
      c.write(seal(host, a.session, req(REQ_TIME_SET, { value: T0 + 5 * DAY })));
      assert.deepEqual(c.frames().map(hex), [FAIL_1], "FAIL 1");
      assert.ok(!c.linked, "link closed");
      assert.equal(p.storage.read(SETTINGS_FILE), undefined, "no pt.cfg");
      assert.equal(p.now(), clock, "clock unchanged");
      assert.deepEqual(p.uncaught, []);
    });

    it("bad lengths and garbage close the link: LEN 0, LEN past 32, a frame that is not a HELLO, a HELLO of another version", () => {
      const r = boot();
      const p = r.p;
      const c = new Central(p);
      const cases: [string, Uint8Array, string[]][] = [
        ["LEN 0", Uint8Array.of(0, 1, 2, 3), []],
        ["LEN 33", Uint8Array.of(33, ...new Uint8Array(33)), []],
        ["LEN 200", Uint8Array.of(200, 1, 2, 3, 4), []],
        ["not a HELLO", Uint8Array.of(5, 9, 9, 9, 9, 9), [FAIL_1]],
        ["LEN 32 of garbage", Uint8Array.of(32, ...c.bytes(32)), [FAIL_1]],
        ["HELLO version 2", Uint8Array.of(0x12, 1, 2, ...c.bytes(16)), [hex(Uint8Array.of(2, MSG_FAIL, FAIL_VERSION))]]
      ];
      for (const [name, bytes, answer] of cases) {
        c.connect();
        c.write(bytes);
        c.write(centralHello(c.bytes(16)));
        assert.deepEqual(c.frames().map(hex), answer, name);
        assert.ok(!c.linked, `${name}: link closed`);
      }
      // In a session too.
      for (const bytes of [Uint8Array.of(0), Uint8Array.of(40, ...new Uint8Array(40))]) {
        c.connect();
        c.handshake();
        c.write(bytes);
        assert.deepEqual(c.frames(), [], "no answer");
        assert.ok(!c.linked, "link closed");
      }
      assert.deepEqual(p.uncaught, []);
    });

    it("a sealed frame with any one bit flipped closes the link, and nothing after it is answered", () => {
      const r = boot();
      const p = r.p;
      const c = new Central(p);
      const bits =
        seal(host, { enc: new Uint8Array(16), mac: new Uint8Array(16), dir: 0x43, txSeq: 0, rxSeq: 0, dead: false }, req(REQ_RISK_SET))
          .length * 8;
      for (let bit = 0; bit < bits; bit++) {
        c.connect();
        c.handshake();
        assert.equal(c.info().resets, 1);
        const s = c.s!;
        const good = seal(host, { ...s }, req(REQ_RISK_SET, { value: 2, reason: 9 }));
        const bad = Uint8Array.from(good);
        bad[bit >> 3] ^= 1 << (bit & 7);
        c.write(bad);
        c.write(good);
        c.write(seal(host, s, req(REQ_INFO)));
        assert.deepEqual(c.frames(), [], `bit ${bit}: no answer`);
        assert.ok(!c.linked, `bit ${bit}: link closed`);
      }
      assert.equal(p.storage.read(SETTINGS_FILE), undefined, "no request was carried out");
      assert.deepEqual(p.uncaught, []);
    });

    it("a recorded session replayed on a new connection gets PROVE and FAIL, nothing more, and changes nothing", () => {
      const r = boot();
      const p = r.p;
      pastBootSilence(p);
      const c = new Central(p);
      c.connect();
      c.handshake();
      assert.deepEqual(c.pair(REQ_RISK_SET, { value: 2, reason: 4 }), [2, 4]);
      wholeSecond(p);
      c.pair(REQ_TIME_SET, { value: p.now() - 3600 });
      c.info();
      const recording = c.writes;
      c.leave();
      // The kiosk's next session puts things right.
      c.connect();
      c.handshake();
      c.pair(REQ_RISK_SET, { value: 0, reason: 1 });
      wholeSecond(p);
      c.pair(REQ_TIME_SET, { value: p.now() + 3600 });
      c.leave();
      const clock = p.now();
      for (let i = 0; i < 3; i++) {
        c.connect();
        for (const w of recording) p.centralWrites(w);
        const f = c.frames();
        assert.equal(f.length, 2, "PROVE and FAIL");
        assert.deepEqual([f[0][1], f[0].length, hex(f[1])], [2, PROVE_BYTES + 1, FAIL_1]);
        assert.ok(!c.linked);
        p.advance(60000);
      }
      assert.equal(hex(p.storage.read(SETTINGS_FILE)!), "0001", "risk unchanged");
      assert.equal(p.now(), clock + 180, "clock unchanged");
      assert.deepEqual(p.uncaught, []);
    });

    it("backoff: after 3 failed handshakes a HELLO gets a decoy PROVE until the wait is over; a success starts the count again", () => {
      const r = boot();
      const p = r.p;
      const c = new Central(p);
      /** One handshake that fails after a PROVE; true if the PROVE was real. */
      function fail(how: "auth" | "drop"): boolean {
        c.connect();
        const prove = c.hello()!;
        assert.equal(prove.length, PROVE_BYTES + 1, "a PROVE, real or decoy, of the same length");
        assert.deepEqual([prove[1], prove[2]], [2, 1]);
        const real = identify(host, [OTHER_SYNC, SYNC], c.nc, prove) === 1;
        if (how === "auth") {
          assert.deepEqual(c.auth(prove, OTHER_SYNC).map(hex), [FAIL_1]);
          assert.ok(!c.linked);
        } else c.leave();
        return real;
      }
      function hello(): boolean {
        c.connect();
        const prove = c.hello()!;
        assert.equal(prove.length, PROVE_BYTES + 1);
        const real = identify(host, [SYNC], c.nc, prove) === 0;
        if (!real) {
          // Even the right secret's AUTH fails against a decoy.
          assert.deepEqual(c.auth(prove).map(hex), [FAIL_1]);
          assert.ok(!c.linked);
        }
        return real;
      }
      wholeSecond(p);
      assert.deepEqual([fail("auth"), fail("drop"), fail("auth")], [true, true, true], "the first three are free");
      const third = p.now();
      assert.equal(hello(), false, "the fourth: a decoy");
      p.advance(9000);
      assert.equal(hello(), false, "9 s later: still a decoy");
      p.advance((third + 10 - p.now()) * 1000);
      assert.ok(fail("auth"), "10 s after the third failure: a real PROVE again");
      const fourth = p.now();
      p.advance(19000);
      assert.equal(hello(), false, "after a fourth failure the wait is 20 s");
      p.advance((fourth + 20 - p.now()) * 1000);
      c.connect();
      c.handshake();
      assert.equal(c.info().resets, 1, "a session once the wait is over");
      c.leave();
      assert.deepEqual([fail("auth"), fail("auth"), fail("drop")], [true, true, true], "after a success, three are free again");
      assert.equal(hello(), false, "and the fourth is a decoy");
      assert.deepEqual(p.uncaught, []);
    });

    it("an unprovisioned token (no pt.sec, or a damaged one) answers HELLO with FAIL and closes the link", () => {
      for (const damage of [false, true]) {
        const st = new FakeStorage();
        if (damage) {
          provision(st);
          const b = st.read(SECRETS_FILE)!;
          b[40] ^= 1;
          st.write(SECRETS_FILE, b);
        }
        const r = boot({ storage: st, provisioned: false });
        const c = new Central(r.p);
        c.connect();
        assert.equal(hex(c.hello()!), FAIL_1, "FAIL");
        assert.ok(!c.linked);
        pastBootSilence(r.p);
        assert.ok(r.p.advertising, "the token runs on");
        assert.deepEqual(r.p.uncaught, []);
      }
    });

    it("a central that keeps writing after FAIL, while the disconnect completes, gets no answer and causes no fault", () => {
      const r = boot();
      const p = r.p;
      // On a token NRF.disconnect completes at a later connection event; what the central wrote before still arrives.
      const close = p.linkClose.bind(p);
      let closing = false;
      p.linkClose = () => {
        if (closing || !p.linkOpen) return;
        closing = true;
        p.setTimeout(() => {
          closing = false;
          close();
        }, 30);
      };
      const c = new Central(p);
      const problems: string[] = [];
      let faults = 0;
      /** `bad` earns the first answer `expect` and the link's end; `then` arrives before the disconnect completes. */
      function afterFail(name: string, bad: Uint8Array, expect: string[], then: Uint8Array): void {
        c.write(bad);
        const got = c.frames().map(hex);
        if (got.join() !== expect.join()) problems.push(`${name}: answered ${got} where ${expect}`);
        c.write(then);
        const extra = c.frames().map(hex);
        if (extra.length) problems.push(`${name}: answered after the link began to close: ${extra}`);
        p.advance(100);
        if (c.linked) problems.push(`${name}: link still open`);
        // The fault count, from a proper session once any backoff is over.
        p.advance(11 * 60000);
        c.connect();
        c.handshake();
        const now = c.info().faults;
        if (now !== faults) problems.push(`${name}: faults ${faults} → ${now}`);
        faults = now;
        c.leave();
        p.advance(100);
      }
      c.connect();
      let prove = c.hello()!;
      const wrong = centralAuth(host, OTHER_SYNC, c.nc, readProve(prove)!).frame;
      afterFail("a wrong AUTH, then the right one", wrong, [FAIL_1], centralAuth(host, SYNC, c.nc, readProve(prove)!).frame);
      c.connect();
      afterFail("not a HELLO, then a HELLO", Uint8Array.of(3, 7, 7, 7), [FAIL_1], centralHello(c.bytes(16)));
      for (let i = 0; i < 3; i++) {
        c.connect();
        c.hello();
        c.leave();
      }
      c.connect();
      prove = c.hello()!;
      assert.equal(identify(host, [SYNC], c.nc, prove), -1, "a decoy");
      const decoyAuth = centralAuth(host, SYNC, c.nc, readProve(prove)!).frame;
      afterFail("a decoy's AUTH, then another", decoyAuth, [FAIL_1], decoyAuth);
      c.connect();
      c.handshake();
      const good = seal(host, { ...c.s! }, req(REQ_INFO));
      const flipped = Uint8Array.from(good);
      flipped[3] ^= 4;
      afterFail("a sealed frame that fails its tag, then the one it should have been", flipped, [], good);
      c.connect();
      afterFail("LEN 0, then a HELLO", Uint8Array.of(0), [], centralHello(c.bytes(16)));
      assert.deepEqual(p.uncaught, []);
      assert.deepEqual(problems, []);
    });
  });

  describe("idle centrals", () => {
    it("a central that connects and says nothing, or stops after HELLO, is dropped after 20 s", () => {
      const r = boot();
      const p = r.p;
      const c = new Central(p);
      for (const hello of [false, true]) {
        c.connect();
        if (hello) assert.ok(c.hello());
        p.advance(IDLE_S * 1000 - 100);
        assert.ok(c.linked, "still connected just before 20 s");
        p.advance(200);
        assert.ok(!c.linked, `${hello ? "after HELLO" : "silent"}: dropped after 20 s`);
      }
      c.connect();
      c.handshake();
      assert.equal(c.info().faults, 0, "no fault");
      assert.deepEqual(p.uncaught, []);
    });

    it("an authenticated central that goes quiet is dropped 20 s after its last request", () => {
      const r = boot();
      const p = r.p;
      const c = new Central(p);
      c.connect();
      c.handshake();
      for (let i = 0; i < 6; i++) {
        p.advance(15000);
        assert.equal(c.info().resets, 1, `request ${i} answered`);
      }
      p.advance(IDLE_S * 1000 - 100);
      assert.ok(c.linked, "still connected just before 20 s of quiet");
      p.advance(200);
      assert.ok(!c.linked, "dropped after 20 s of quiet");
      c.connect();
      c.handshake();
      assert.equal(c.info().faults, 0, "no fault");
      assert.deepEqual(p.uncaught, []);
    });
  });

  describe("the sync window", () => {
    it("a long press opens it; if its time runs out while a central is connected it stays open until the central leaves", () => {
      const r = boot();
      const p = r.p;
      pastBootSilence(p);
      p.pressButton(LONG_PRESS_MS + 500);
      const opened = p.ms;
      assert.ok(windowOpen(r), "setSyncWindow(true)");
      assert.ok(p.advertising!.connectable);
      p.advance(60000);
      const c = new Central(p);
      c.connect();
      c.handshake();
      // Requests every 10 s until well past the window's time.
      while (p.ms < opened + SYNC_WINDOW_MS + 60000) {
        p.advance(10000);
        c.info();
        assert.ok(c.linked);
      }
      assert.ok(
        r.window.every((w) => w.t < opened || w.open),
        "never closed under the central"
      );
      assert.ok(p.advertising!.connectable);
      c.leave();
      assert.equal(windowOpen(r), false, "closed when the central left");
      assert.ok(!p.advertising!.connectable);
      // A central that leaves before the time: the window stays for its time.
      p.pressButton(LONG_PRESS_MS + 500);
      const again = p.ms;
      c.connect();
      c.handshake();
      c.info();
      c.leave();
      assert.ok(windowOpen(r), "still open after the central left early");
      p.advance(again + SYNC_WINDOW_MS - p.ms - 100);
      assert.ok(windowOpen(r));
      p.advance(200);
      assert.equal(windowOpen(r), false, "closed at its time");
      assert.deepEqual(p.uncaught, []);
    });

    it("while the window blinks, the level the kiosk writes and the consent pattern are shown whole", () => {
      const r = boot();
      const p = r.p;
      pastBootSilence(p);
      const problems: string[] = [];
      for (let k = 0; k < 8; k++) {
        p.pressButton(LONG_PRESS_MS + 500);
        p.advance(k * 250);
        const c = new Central(p, k);
        c.connect();
        c.handshake();
        let t = p.ms;
        c.pair(REQ_RISK_SET, { value: 2, reason: 1 });
        p.advance(3000);
        const risk = besidesHeartbeat(p, t);
        if (JSON.stringify(risk.slice(0, 6)) !== JSON.stringify(shows(PATTERN.riskHigh)))
          problems.push(`phase ${k * 250} ms: after RISK_SET ${JSON.stringify(blinks(p, t))}`);
        p.pressButton(300);
        t = p.ms;
        p.advance(3000);
        const consent = besidesHeartbeat(p, t);
        if (JSON.stringify(consent.slice(0, 3)) !== JSON.stringify(shows(PATTERN.consent)))
          problems.push(`phase ${k * 250} ms: after the press ${JSON.stringify(blinks(p, t))}`);
        c.leave();
        p.advance(SYNC_WINDOW_MS);
      }
      assert.deepEqual(problems, []);
    });
  });

  describe("the home kiosk's beacon", () => {
    const beacon = (p: FakePlatform, key: Uint8Array, minute: number): Uint8Array => Uint8Array.from(beaconData(p, key, minute));
    const prefix = (d: Uint8Array): string => hex(d.subarray(0, 5));
    function logged(st: FakeStorage): string[] {
      return segmentsIn(st).flatMap((s) => decodeSegment(st.read(LOG_PREFIX + s)!)!.records.map((x) => hex(x.rpiPrefix)));
    }
    /** Run until the next scan window has ended, hearing `heard(t0)` in it. */
    function oneScan(r: Rig, heard: (t0: number) => Uint8Array[]): number {
      while (r.p.scanning) r.p.advance(1000);
      const t0 = r.scanT0;
      while (r.scanT0 === t0) r.p.advance(1000);
      for (const d of heard(r.scanT0)) r.p.deliver(-60, d);
      while (r.p.scanning) r.p.advance(500);
      return r.scanT0;
    }

    it("this minute's beacon of the home key opens the window quietly and is not logged; last minute's, or another home's, is an advert like any", () => {
      const r = boot();
      const p = r.p;
      pastBootSilence(p);
      const phones = [phone(0x101), phone(0x102), phone(0x103)];
      const cases: [string, (t0: number) => Uint8Array, boolean][] = [
        ["last minute's", (t0) => beacon(p, HOME, Math.floor(t0 / 60) - 1), false],
        ["another home's", (t0) => beacon(p, OTHER_HOME, Math.floor(t0 / 60)), false],
        ["this minute's", (t0) => beacon(p, HOME, Math.floor(t0 / 60)), true]
      ];
      for (const [name, make, opens] of cases) {
        const calls = r.window.length;
        const since = p.ms;
        let b: Uint8Array = new Uint8Array(0);
        const t0 = oneScan(r, (t) => {
          b = make(t);
          return [phones[0], b, phones[1], phones[2]];
        });
        assert.ok(t0 > 0);
        const recs = logged(p.storage);
        for (const ph of phones)
          assert.equal(recs.filter((x) => x === prefix(ph)).length, 1 + cases.findIndex((x) => x[0] === name), `${name}: phones logged`);
        assert.equal(recs.filter((x) => x === prefix(b)).length, opens ? 0 : 1, `${name}: logged as an encounter?`);
        assert.equal(windowOpen(r), opens, `${name}: window`);
        assert.equal(r.window.length > calls, opens);
        if (opens) {
          assert.ok(p.advertising!.connectable);
          p.advance(10000);
          assert.deepEqual(blinks(p, since), [], "quietly: no blinking");
          p.advance(SYNC_WINDOW_MS);
          assert.ok(!windowOpen(r), "closes at its time");
        }
      }
      assert.deepEqual(p.uncaught, []);
    });

    it("after a successful session the beacon opens nothing for 4 hours, then opens the window again", () => {
      const r = boot();
      const p = r.p;
      pastBootSilence(p);
      const c = new Central(p);
      c.connect();
      c.handshake();
      c.info();
      c.leave();
      const synced = p.now();
      let opened = -1;
      while (opened < 0 && p.now() < synced + 5 * HOUR) {
        const calls = r.window.length;
        const t0 = oneScan(r, (t) => [beacon(p, HOME, Math.floor(t / 60))]);
        if (r.window.length > calls) opened = t0;
      }
      assert.ok(opened >= 0, "the beacon opened the window again within 5 hours");
      assert.ok(opened >= synced + 4 * HOUR, `opened ${((opened - synced) / 60).toFixed(0)} min after the session`);
      assert.ok(opened < synced + 4 * HOUR + 11 * 60, "at the first scan after 4 hours");
    });

    it("the beacon heard during the 4 quiet hours is still the kiosk, not an encounter: nothing logged", () => {
      const r = boot();
      const p = r.p;
      pastBootSilence(p);
      const c = new Central(p);
      c.connect();
      c.handshake();
      c.leave();
      const prefixes = new Set<string>();
      for (let i = 0; i < 6; i++) oneScan(r, (t) => [beacon(p, HOME, Math.floor(t / 60))].map((b) => (prefixes.add(prefix(b)), b)));
      const recs = logged(p.storage).filter((x) => prefixes.has(x));
      assert.deepEqual(recs, [], `${recs.length} of 6 scans logged the kiosk's beacon as an encounter`);
    });

    it("a token synced from a lost clock: the session that set its clock also quiets the beacon for 4 hours", () => {
      const r = boot({ startTime: 0 });
      const p = r.p;
      p.advance(60000);
      p.pressButton(LONG_PRESS_MS + 500);
      const c = new Central(p);
      c.connect();
      c.handshake();
      wholeSecond(p);
      c.pair(REQ_TIME_SET, { value: T0 });
      c.leave();
      p.advance(SYNC_WINDOW_MS);
      assert.ok(!windowOpen(r));
      const calls = r.window.length;
      for (let i = 0; i < 3; i++) oneScan(r, (t) => [beacon(p, HOME, Math.floor(t / 60))]);
      assert.equal(r.window.length, calls, "the beacon opened the window again right after the session");
      // And it is the beacon that is quiet, not the token deaf to it: 4 hours on it opens the window.
      p.advance(4 * HOUR * 1000);
      oneScan(r, (t) => [beacon(p, HOME, Math.floor(t / 60))]);
      assert.ok(windowOpen(r), "4 hours later the beacon opens the window");
    });
  });

  describe("bounded", () => {
    it("2,000 random frames and random byte soup over many connections: nothing escapes, no fault, and a proper session works after", () => {
      const st = new FakeStorage();
      provision(st);
      oldLog(st);
      const r = boot({ storage: st });
      const p = r.p;
      pastBootSilence(p);
      const c = new Central(p, 99);
      const rng = new Rng(1234);
      c.connect();
      c.handshake();
      const faults = c.info().faults;
      c.leave();
      let frames = 0;
      const randomFrame = (): Uint8Array => {
        const len = rng.next() < 0.9 ? 1 + rng.int(32) : rng.int(256);
        return Uint8Array.of(len, ...c.bytes(len));
      };
      // Random frames from a central that has not authenticated.
      for (let conn = 0; frames < 600; conn++) {
        c.connect();
        for (let i = 0; i < 4 && c.linked; i++, frames++) c.write(randomFrame());
        if (c.linked) c.leave();
      }
      // A HELLO, then random frames in place of AUTH.
      for (let conn = 0; conn < 200; conn++, frames++) {
        p.advance(60000);
        c.connect();
        c.hello();
        c.write(rng.next() < 0.5 ? randomFrame() : Uint8Array.of(0x11, 3, ...c.bytes(16)));
        if (c.linked) c.leave();
      }
      // Random byte soup, in writes of 1–20 bytes.
      for (let conn = 0; conn < 200; conn++) {
        c.connect();
        for (let n = 0; n < 10 && c.linked; n++) p.centralWrites(c.bytes(1 + rng.int(20)));
        if (c.linked) c.leave();
      }
      p.advance(11 * 60000);
      // Authenticated: random messages, sealed properly, each answered once; some sealed frames garbled.
      let answered = 0;
      while (frames < 2000) {
        c.connect();
        c.handshake();
        for (let i = 0; i < 100 && frames < 2000; i++, frames++) {
          const m = c.bytes(1 + rng.int(24));
          if (rng.next() < 0.7) m[0] = 0x10 + rng.int(6);
          if (m[0] === REQ_TIME_SET && m.length === 5) new DataView(m.buffer).setUint32(1, Math.floor(p.now()) + rng.int(600) - 300, true);
          if (rng.next() < 0.02) {
            const f = seal(host, c.s!, m);
            f[rng.int(f.length)] ^= 1 << rng.int(8);
            c.write(f);
            assert.deepEqual(c.frames(), []);
            assert.ok(!c.linked);
            break;
          }
          const res = c.ask(m);
          assert.ok(res, `request ${hex(m)} answered`);
          assert.ok(res[0] === (m[0] | RESPONSE) || res[0] === RSP_ERROR, `response ${hex(res)} to ${hex(m)}`);
          answered++;
        }
        if (c.linked) c.leave();
      }
      assert.ok(frames >= 2000 && answered > 500);
      assert.deepEqual(p.uncaught, [], "nothing escaped");
      // A proper session afterwards.
      p.advance(11 * 60000);
      c.connect();
      c.handshake();
      assert.equal(c.info().faults, faults, "no fault counted");
      const all = readLog(c, 0, 0);
      for (const s of segmentsIn(p.storage)) assert.equal(hex(Uint8Array.from(all.got.get(s)!.data)), hex(written(p.storage, s)));
      assert.deepEqual(c.pair(REQ_RISK_SET, { value: 1, reason: 2 }), [1, 2]);
      c.leave();
      assert.deepEqual(p.uncaught, []);
    });
  });
});
