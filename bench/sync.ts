/**
 * Sync benchmark: the kiosk's sync client (host-tools/src/sync/client.ts)
 * against the real Puck.js bundle on the Espruino emulation, over the
 * emulated BLE link (sim/espruino/nrf-connection.ts), in simulated time.
 *
 *  1. A full log: a provisioned token hears a crowd (14 fresh RPIs a scan
 *     window, under the flood rule's budget) until its log has filled Storage
 *     and evicted its oldest segment, and stops when the newest segment could
 *     not take another window. Its Storage holds the pretokenised `.bootcde`
 *     a real Puck.js stores, so the log gets the room it gets on a wrist.
 *  2. Dump time: one full sync (handshake, INFO, the log, LOG_ACK) from a
 *     fresh copy, at the link a BlueZ kiosk gets with Espruino's defaults
 *     (connects at 50 ms, asks MTU 517 → Puck.js's 53, Espruino's 7.5 ms in
 *     effect 0.45 s in) and at the fastest Espruino allows (7.5 ms and MTU 53
 *     from the start); both with the token's CPU time charged (below).
 *  3. 1,000 syncs, each cut at random points (seeded) and resumed until it
 *     completes, on a fresh token from the same flash: every copy compared
 *     byte for byte with an uninterrupted one, and after every session the
 *     token's pt.ack checked against what the host's copy holds on disk.
 *  4. 100,000 fuzzed, garbled and replayed frames against the token's link
 *     handler in the emulator (fast enough: ~1 ms a frame, so not the fake
 *     platform): unauthenticated garbage, handshakes with bad AUTHs, a
 *     recorded state-changing session replayed, sealed frames garbled after a
 *     good handshake, and properly sealed random requests. Counted: uncaught
 *     errors, the faults the firmware caught itself, flash and clock before
 *     and after everything that carried no valid request, any sealed answer
 *     without a session; JsVars sampled every 25th callback.
 *
 * Link timing beyond the emulation. The emulation delivers a central's write
 * at once and sends the token's answer at the next connection event, with
 * the token's JavaScript taking no time. Here, as on the air: the kiosk's
 * write goes out at the connection event after the notification that
 * prompted it; the token's interpreter then takes the CPU time the energy
 * model charges for the work that write caused (CPU_COST_MS over the
 * emulator's counters: 10 ms a callback, 1 ms a SHA-256 or native AES call,
 * flash bytes); and Espruino's radio-notification interrupt queues the first
 * notification only after the next radio event, so it goes out one event
 * later still (docs/simulator-espruino.md, "Notifications per connection
 * event"). The CPU time of each write is taken from a first pass without it
 * (the session is deterministic, so the second pass makes the same writes).
 * Not modelled: BlueZ's connection set-up, service discovery and subscribing
 * before the first write, and link-layer retransmissions.
 *
 * Last line: one JSON object.
 *
 *   npx ts-node bench/sync.ts [--runs 1000] [--frames 100000] [--seed 1] [--fuzz-sample-every 25]
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadBoard } from "../host-tools/src/build/boards";
import { bundleBoard, compileFirmware } from "../host-tools/src/build/bundle";
import { LinkLostError } from "../host-tools/src/ble/errors";
import { simTimer } from "../host-tools/src/ble/sim-transport";
import type { SyncLink } from "../host-tools/src/ble/transport";
import { DriftingClock } from "../host-tools/src/sim/clock";
import { BOOT_FILE, EspruinoToken, Flash, createEmulatedToken } from "../host-tools/src/sim/espruino";
import { NegotiatingCentral } from "../host-tools/src/sim/espruino/nrf-connection";
import { Rng } from "../host-tools/src/sim/prng";
import { EventScheduler } from "../host-tools/src/sim/scheduler";
import {
  type AdvertState,
  type CentralLink,
  type EnergyCounters,
  HCI_CONNECTION_TIMEOUT,
  type RadioPort,
  type ScanState
} from "../host-tools/src/sim/types";
import { CPU_COST_MS } from "../host-tools/src/sim/world/energy";
import { SyncOptions, SyncProgress, SyncResult, syncToken } from "../host-tools/src/sync/client";
import type { SyncTimer } from "../host-tools/src/sync/wire";
import { AuthFailedError } from "../host-tools/src/sync/errors";
import { useHostCrypto } from "../host-tools/src/sync/host-crypto";
import { STATE_FILE } from "../host-tools/src/sync/log-copy";
import { buildAdvert } from "../firmware/src/wire/advert";
import {
  ACK_FILE,
  FLAG_FLOOD,
  HEADER_BYTES,
  LOG_PREFIX,
  RECORD_BYTES,
  SEGMENT_RECORDS,
  decodeHeader,
  firstFreeSlot,
  floodMarked
} from "../firmware/src/wire/log-record";
import { SECRETS_FILE, encodeSecrets } from "../firmware/src/wire/secrets";
import { FRAME_MAX, SyncSession, TOKEN_RX_BODY_MAX, TAG_BYTES, createReader, feed, open, seal } from "../firmware/src/wire/sync-frame";
import {
  MSG_AUTH,
  MSG_FAIL,
  MSG_PROVE,
  NONCE_BYTES,
  PROVE_BYTES,
  centralAuth,
  centralHello,
  identify,
  readProve
} from "../firmware/src/wire/sync-handshake";
import {
  CHUNK_LOG_END,
  REQ_INFO,
  REQ_LOG_ACK,
  REQ_LOG_READ,
  REQ_RISK_SET,
  REQ_TEK_GET,
  REQ_TIME_SET,
  RESPONSE,
  RSP_ERROR,
  decodeInfo,
  encodeRequest
} from "../firmware/src/wire/sync-messages";

const BOARD = "puckjs";
/** The bundle's build time, as the specs and bench-memory's real cases stamp it (2025-01-01). */
const BUILD_TIME = 1735689600;
/** True time the world starts at, and the token's (and kiosk's) clock then: 40 days after the build, 01:00 UTC, so no day ends in a run. */
const TRUE0 = 1000;
const LOCAL0 = BUILD_TIME + 40 * 86400 + 3600;
const SECRET = Uint8Array.from({ length: 32 }, (_, i) => 0xa0 ^ i);
const TOKEN_ID = "00112233445566778899aabbccddeeff";
/** Fresh RPIs heard per scan window while the log fills: even 9 windows in one hour (the schedule's jitter allows it) stay under the flood rule's 128 rows. */
const CROWD = 14;
const GOAL_SECONDS = 15;
/** ATT opcode and handle (3) and the L2CAP header (4) around every write and notification. */
const ATT_L2CAP_BYTES = 7;
/**
 * A connection event's charge and the connected floor, fitted to Espruino's
 * author's 600 µA at 7.5 ms and 40 µA at 200 ms (docs/simulator-espruino.md,
 * "Energy of a connection"; derived, unconfirmed).
 */
const CONNECTION_EVENT_UC = 4.4;
const CONNECTED_FLOOR_UA = 18;
/** Later sessions of a resume run are cut with this probability, up to this many sessions; the first always. */
const RECUT_PROBABILITY = 0.5;
const MAX_CUT_SESSIONS = 4;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const board = loadBoard(BOARD);

interface Bundle {
  /** What the emulation runs (readable). */
  code: string;
  /** What a real Puck.js stores as .bootcde (pretokenised): its size is what the log competes with. */
  bootCode: string;
}

/** The Puck.js firmware as `make firmware` builds it, stamped with BUILD_TIME, in a private directory (a concurrent build cannot empty it). */
async function buildBundle(dir: string): Promise<Bundle> {
  const es5 = compileFirmware({ outDir: path.join(dir, "es5") });
  const b = await bundleBoard(board, { es5Dir: es5, outDir: path.join(dir, BOARD), buildTime: BUILD_TIME });
  if (b.lint.length) throw new Error(`the ${BOARD} bundle fails the Espruino lint: ${b.lint.map((l) => l.message).join("; ")}`);
  return { code: b.code, bootCode: b.bootCode };
}

/** What the token puts on the air, and a crowd that answers each scan window it opens. */
class Radio implements RadioPort {
  advert: AdvertState | null = null;
  scan: ScanState | null = null;
  crowd = 0;
  token: EspruinoToken | null = null;
  constructor(
    private readonly scheduler: EventScheduler,
    private readonly rng: Rng
  ) {}
  advertising(state: AdvertState | null): void {
    this.advert = state;
  }
  scanning(state: ScanState | null): void {
    const opened = state !== null && this.scan === null;
    this.scan = state;
    if (!opened || this.crowd === 0) return;
    // Each phone with a fresh RPI, heard twice in the window (the token logs one record per RPI and window).
    for (let k = 0; k < this.crowd; k++) {
      const rpi = Uint8Array.from({ length: 16 }, () => this.rng.int(256));
      const packet = buildAdvert(rpi, Uint8Array.of(0x40, this.rng.int(256), 0, 0));
      const address = `d0:00:00:00:${(k >> 8).toString(16).padStart(2, "0")}:${(k & 255).toString(16).padStart(2, "0")} random`;
      const rssi = -50 - this.rng.int(15);
      for (let r = 0; r < 2; r++)
        this.scheduler.at(this.scheduler.now + 0.1 + r * 0.8 + k * 0.01, () => {
          if (this.scan) this.token?.deliver({ address, rssi: rssi - r, packet });
        });
    }
  }
}

interface RigOptions {
  /** A flash image to boot from (a copy is taken); without it, a freshly provisioned token. */
  flash?: Uint8Array;
  seed?: number;
  /** Measure JsVars (instrumented code), sampling after every `sampleEvery`-th callback. */
  memory?: { sampleEvery: number };
}

/** One emulated Puck.js on its own scheduler, with a kiosk whose clock is exact. */
class Rig {
  readonly scheduler = new EventScheduler(TRUE0);
  readonly radio: Radio;
  readonly token: EspruinoToken;

  constructor(bundle: Bundle, o: RigOptions = {}) {
    const seed = o.seed ?? 1;
    this.radio = new Radio(this.scheduler, new Rng(seed * 7919 + 1));
    const flash = new Flash(board.storage.bytes, board.storage.pageBytes);
    if (o.flash) flash.bytes.set(o.flash);
    this.token = createEmulatedToken({
      id: `puck${seed}`,
      board,
      bundle: bundle.code,
      scheduler: this.scheduler,
      clock: new DriftingClock({ driftPpm: 0, startTrue: TRUE0, startLocal: LOCAL0 }),
      radio: this.radio,
      seed,
      storage: flash,
      // The emulation runs the readable bundle; Storage holds what a real token stores (below).
      bootFromStorage: false,
      memory: o.memory
    });
    this.radio.token = this.token;
    if (!o.flash) {
      this.token.storage.write(BOOT_FILE, Buffer.from(bundle.bootCode, "latin1"));
      this.token.storage.write(
        SECRETS_FILE,
        encodeSecrets({
          tokenId: Buffer.from(TOKEN_ID, "hex"),
          syncSecret: SECRET,
          archiveSecret: new Uint8Array(32).fill(2),
          homeKey: new Uint8Array(32).fill(3)
        })
      );
    }
    this.token.boot();
    this.scheduler.runUntil(TRUE0 + 5);
  }

  /** The kiosk's clock, Unix seconds. */
  hostNow(): number {
    return Math.floor(LOCAL0 + this.scheduler.now - TRUE0);
  }

  /** The wearer's long press, unless the window is still open (a press would close it). */
  openWindow(): void {
    for (let tries = 0; !this.radio.advert?.connectable; tries++) {
      if (tries === 3) throw new Error("the sync window does not open");
      // A wearer's long press (the firmware opens the window from 2 s: ui.ts, docs/wearer-interface.md).
      this.token.pressButton(2500);
      this.scheduler.runUntil(this.scheduler.now + 3);
    }
  }

  segments(): number[] {
    return this.token.storage
      .list()
      .filter((n) => n.startsWith(LOG_PREFIX))
      .map((n) => Number(n.slice(LOG_PREFIX.length)))
      .sort((a, b) => a - b);
  }

  /** Bytes the token would send of segment `seg`: header and slots before the first erased one. */
  written(seg: number): number {
    const b = this.token.storage.read(LOG_PREFIX + seg);
    return b ? HEADER_BYTES + firstFreeSlot(b) * RECORD_BYTES : 0;
  }

  /** The token's flash and clock, for "nothing changed". */
  state(): { flash: string; clockOffset: number } {
    const clock = this.token.evaluate("getTime()") as number;
    return {
      flash: crypto.createHash("sha256").update(this.token.flash.bytes).digest("hex"),
      clockOffset: Math.round((clock - (LOCAL0 + this.scheduler.now - TRUE0)) * 1000) / 1000
    };
  }
}

interface FullLog {
  flash: Uint8Array;
  segments: number[];
  logBytes: number;
  simulatedHours: number;
  /** Segments the flood rule marked (0: the crowd was an ordinary one, as meant). */
  floodSegments: number;
  uncaught: number;
}

/** Let a provisioned token hear the crowd until its log is as full as it gets (see the file comment). */
function fillLog(bundle: Bundle): FullLog {
  const rig = new Rig(bundle);
  rig.radio.crowd = CROWD;
  const start = rig.scheduler.now;
  for (;;) {
    rig.scheduler.runUntil(rig.scheduler.now + 300);
    const segs = rig.segments();
    const newest = segs[segs.length - 1];
    const evicted = segs.length > 0 && segs[0] > 1;
    // No scan window open: records go in at a window's end.
    if (evicted && !rig.radio.scan && SEGMENT_RECORDS - (rig.written(newest) - HEADER_BYTES) / RECORD_BYTES < CROWD) break;
    if (rig.scheduler.now - start > 7 * 86400) throw new Error(`the log did not fill in a week of crowds: ${segs.length} segments`);
  }
  rig.radio.crowd = 0;
  const segments = rig.segments();
  const logBytes = segments.reduce((n, s) => n + rig.written(s), 0);
  const uncaught = rig.token.uncaught.length;
  const floodSegments = segments.filter((seg) => {
    const b = rig.token.storage.read(LOG_PREFIX + seg)!;
    const h = decodeHeader(b);
    return !h || h.flags & FLAG_FLOOD || floodMarked(b);
  }).length;
  const simulatedHours = round((rig.scheduler.now - start) / 3600, 1);
  rig.token.powerCut();
  return { flash: rig.token.flash.bytes.slice(), segments, logBytes, simulatedHours, floodSegments, uncaught };
}

// ------------------------------------------------------------------ the link

interface LinkParams {
  /** The interval the kiosk connects at. */
  intervalMs: number;
  /** The ATT MTU the kiosk asks for (BlueZ: 517); undefined, no exchange. */
  attMtu?: number;
  /** The kiosk grants Espruino's 7.5 ms request (Linux does). */
  acceptsIntervalUpdate: boolean;
}

/** A BlueZ kiosk with Espruino's defaults: the kernel's 30–50 ms (the slow end), MTU 517 asked, the 7.5 ms update granted. */
const BLUEZ_DEFAULT: LinkParams = { intervalMs: 50, attMtu: 517, acceptsIntervalUpdate: true };
/** The fastest Espruino allows: 7.5 ms from the start. */
const FASTEST: LinkParams = { intervalMs: 7.5, attMtu: 517, acceptsIntervalUpdate: true };
/** A central that never exchanges the MTU: 20-byte notifications and writes. */
const MTU_23: LinkParams = { intervalMs: 7.5, acceptsIntervalUpdate: true };

/** Energy-model CPU milliseconds of the token's work counted between two counter readings. */
function cpuMs(before: EnergyCounters, after: EnergyCounters): number {
  return (
    (after.callbacks - before.callbacks) * CPU_COST_MS.callback +
    (after.sha256Calls - before.sha256Calls) * CPU_COST_MS.sha256 +
    (after.aesBlocks - before.aesBlocks) * (board.crypto.aes ? CPU_COST_MS.aesNative : CPU_COST_MS.aesJs) +
    (after.flashBytesWritten - before.flashBytesWritten) * CPU_COST_MS.flashByte
  );
}

/**
 * A SyncLink over the emulated token, as SimSyncLink (ble/sim-transport.ts)
 * is, with what a BlueZ kiosk negotiates (LinkParams), the latencies and the
 * token's CPU time of the file comment, and a count of what went on the air.
 * The world runs while the link is up: one scheduler step, then Node's event
 * loop (the client answers a notification before simulated time moves on).
 */
class BenchLink implements SyncLink {
  readonly timer: SyncTimer;
  /** The token's CPU milliseconds (energy model) for each write delivered, in order. */
  readonly work: number[] = [];
  notifications = 0;
  writes = 0;
  /** ATT payload bytes each way, and bytes with the ATT and L2CAP headers. */
  payloadBytes = 0;
  airBytes = 0;
  readonly connectedAt: number;
  endedAt = 0;
  /** True time each interval began (the connection, then the update's instant). */
  readonly intervals: Array<{ from: number; ms: number }>;
  private payload = 20;
  private link: CentralLink | null = null;
  private up = true;
  private reason: string | undefined;
  private sent = 0;
  private readonly dataCbs: Array<(bytes: Uint8Array) => void> = [];
  private readonly closeCbs: Array<(reason: string) => void> = [];
  private readonly early: Uint8Array[] = [];

  /**
   * `cpu(k)`: milliseconds the token's interpreter takes over the k-th write
   * (0: none, as the emulation has it). `onStep` runs after each scheduler step.
   */
  constructor(
    private readonly rig: Rig,
    params: LinkParams,
    private readonly cpu: (k: number) => number,
    private readonly onStep?: () => void
  ) {
    const s = rig.scheduler;
    this.timer = simTimer(s);
    this.connectedAt = s.now;
    this.intervals = [{ from: s.now, ms: params.intervalMs }];
    const central: NegotiatingCentral = {
      address: "c0:ff:ee:00:00:01 public",
      intervalMs: params.intervalMs,
      attMtu: params.attMtu,
      acceptsIntervalUpdate: params.acceptsIntervalUpdate,
      notified: (bytes) => this.deliver(bytes),
      disconnected: (code) => this.lost(`the token ended the link (${code})`),
      mtuChanged: (_mtu, payload) => (this.payload = payload),
      intervalChanged: (ms) => this.intervals.push({ from: s.now, ms })
    };
    this.link = rig.token.connect(central);
    if (!this.link) throw new Error("the token took no connection: its sync window is closed");
    this.pump();
  }

  get writeBytes(): number {
    return this.payload;
  }

  /** True time of the first connection event after `t`. */
  private eventAfter(t: number): number {
    const iv = this.intervals[this.intervals.length - 1];
    const T = iv.ms / 1000;
    return iv.from + (Math.floor((t - iv.from) / T + 1e-6) + 1) * T;
  }

  write(bytes: Uint8Array): Promise<void> {
    if (!this.up || !this.link) return Promise.reject(new LinkLostError(`the link is down (${this.reason ?? "not connected"})`));
    const k = this.sent++;
    const copy = bytes.slice();
    // On the air at the next connection event; the token's answer waits for its CPU and one more event (file comment).
    const at = this.eventAfter(this.eventAfter(this.rig.scheduler.now) + this.cpu(k) / 1000);
    this.rig.scheduler.at(at, () => {
      if (!this.up || !this.link) return;
      for (let o = 0; o < copy.length; o += this.payload) {
        const n = Math.min(this.payload, copy.length - o);
        this.writes++;
        this.payloadBytes += n;
        this.airBytes += n + ATT_L2CAP_BYTES;
      }
      const before = { ...this.rig.token.counters };
      // The token handles the bytes synchronously: the counters' difference is this write's work.
      this.link.write(copy);
      this.work.push(cpuMs(before, this.rig.token.counters));
    });
    return Promise.resolve();
  }

  onData(cb: (bytes: Uint8Array) => void): void {
    this.dataCbs.push(cb);
    for (const b of this.early.splice(0)) cb(b);
  }

  onClose(cb: (reason: string) => void): void {
    this.closeCbs.push(cb);
  }

  disconnect(): Promise<void> {
    if (this.up) {
      this.up = false;
      this.reason = "disconnected by this central";
      this.endedAt = this.rig.scheduler.now;
      this.link?.disconnect();
    }
    return Promise.resolve();
  }

  /** The radio loses the link: both ends hear a connection timeout at once. */
  lose(): void {
    if (!this.up) return;
    this.link?.disconnect(HCI_CONNECTION_TIMEOUT);
    this.lost("the connection timed out");
  }

  /** Connection events from the connection to its end. */
  connectionEvents(): number {
    const end = this.endedAt || this.rig.scheduler.now;
    let n = 0;
    this.intervals.forEach((iv, i) => {
      const to = i + 1 < this.intervals.length ? this.intervals[i + 1].from : end;
      n += Math.max(0, to - iv.from) / (iv.ms / 1000);
    });
    return Math.floor(n);
  }

  private deliver(bytes: Uint8Array): void {
    if (!this.up) return;
    this.notifications++;
    this.payloadBytes += bytes.length;
    this.airBytes += bytes.length + ATT_L2CAP_BYTES;
    if (this.dataCbs.length === 0) this.early.push(bytes);
    else for (const cb of this.dataCbs) cb(bytes);
  }

  private lost(reason: string): void {
    if (!this.up) return;
    this.up = false;
    this.reason = reason;
    this.endedAt = this.rig.scheduler.now;
    for (const cb of this.closeCbs) cb(reason);
  }

  private pump(): void {
    const s = this.rig.scheduler;
    const step = (): void => {
      if (!this.up) return;
      const t = s.peekTime();
      if (t === undefined) {
        setTimeout(step, 1);
        return;
      }
      s.runUntil(t);
      this.onStep?.();
      setImmediate(step);
    };
    setImmediate(step);
  }
}

// ------------------------------------------------------------------ one sync

interface Session {
  result: SyncResult;
  link: BenchLink;
  /** Simulated seconds from the connection to INFO (the handshake done), and to LOG_ACKED; the log read alone (INFO to LOG_END). */
  toInfoSeconds: number;
  toAckSeconds: number;
  logReadSeconds: number;
  /** Counter difference over the session (the token's whole work while connected). */
  counters: EnergyCounters;
}

function syncOptions(rig: Rig, link: BenchLink, dir: string, rng: Rng, more: Partial<SyncOptions> = {}): SyncOptions {
  return {
    secrets: [{ tokenId: TOKEN_ID, syncSecret: SECRET }],
    outDir: dir,
    now: () => rig.hostNow(),
    timer: link.timer,
    random: (n) => Uint8Array.from({ length: n }, () => rng.int(256)),
    ...more
  };
}

async function syncOnce(rig: Rig, dir: string, params: LinkParams, cpu: (k: number) => number, onStep?: () => void): Promise<Session> {
  rig.openWindow();
  const c0 = { ...rig.token.counters };
  const link = new BenchLink(rig, params, cpu, onStep);
  let firstRead = 0;
  let logEnd = 0;
  let acked = 0;
  const onProgress = (e: SyncProgress): void => {
    const now = rig.scheduler.now;
    if (e.kind === "info") firstRead = now;
    else if (e.kind === "chunk" && e.flags & CHUNK_LOG_END) logEnd = now;
    else if (e.kind === "acked") acked = now;
  };
  const result = await syncToken(link, syncOptions(rig, link, dir, new Rng(99), { onProgress }));
  const c1 = rig.token.counters;
  const counters = { ...c1 };
  for (const k of Object.keys(counters) as Array<keyof EnergyCounters>) counters[k] -= c0[k];
  return {
    result,
    link,
    toInfoSeconds: firstRead - link.connectedAt,
    toAckSeconds: acked - link.connectedAt,
    logReadSeconds: logEnd - firstRead,
    counters
  };
}

/** Charge the token draws over a session, µC: the connected floor, each connection event, and the CPU the energy model charges. */
function sessionCharge(s: Session): { totalUC: number; radioUC: number; floorUC: number; cpuUC: number } {
  const seconds = s.link.endedAt - s.link.connectedAt;
  const radioUC = s.link.connectionEvents() * CONNECTION_EVENT_UC;
  const floorUC = CONNECTED_FLOOR_UA * seconds;
  // mA × ms = µC.
  const zero: EnergyCounters = { callbacks: 0, sha256Calls: 0, aesBlocks: 0, advertEvents: 0, scanMs: 0, flashBytesWritten: 0 };
  const cpuUC = cpuMs(zero, s.counters) * board.power.cpuMA;
  return { totalUC: radioUC + floorUC + cpuUC, radioUC, floorUC, cpuUC };
}

const segmentFiles = (dir: string): string[] =>
  fs
    .readdirSync(dir)
    .filter((n) => n.startsWith(LOG_PREFIX))
    .sort();

/** The copy's log files and next position, for comparing two copies. */
function copyDigest(dir: string): string {
  const h = crypto.createHash("sha256");
  for (const n of segmentFiles(dir)) h.update(n).update(fs.readFileSync(path.join(dir, n)));
  const st = JSON.parse(fs.readFileSync(path.join(dir, STATE_FILE), "utf8")) as { next: unknown; gaps: unknown[] };
  return `${h.digest("hex")} ${JSON.stringify(st.next)} gaps ${st.gaps.length}`;
}

/** The segment number in the token's pt.ack (0: none recorded). */
function ackedSegment(rig: Rig): number {
  const a = rig.token.storage.read(ACK_FILE);
  return a && a.length === 4 ? Buffer.from(a).readUInt32LE(0) : 0;
}

/**
 * The token's acknowledgement against the copy on disk: every segment below
 * pt.ack that the token still holds must be in the copy whole, and the copy's
 * state must reach it. Null when it holds; what is wrong otherwise.
 */
function ackViolation(rig: Rig, dir: string): string | null {
  const ackSeg = ackedSegment(rig);
  if (ackSeg === 0) return null;
  const stateFile = path.join(dir, STATE_FILE);
  if (!fs.existsSync(stateFile)) return `pt.ack says ${ackSeg} and the host has no copy`;
  const st = JSON.parse(fs.readFileSync(stateFile, "utf8")) as { next: { seg: number } };
  if (st.next.seg < ackSeg) return `pt.ack says ${ackSeg}, the copy's state reaches segment ${st.next.seg}`;
  for (const seg of rig.segments()) {
    if (seg >= ackSeg) break;
    const file = path.join(dir, LOG_PREFIX + seg);
    const tokenBytes = rig.token.storage.read(LOG_PREFIX + seg)!;
    if (!fs.existsSync(file) || hex(new Uint8Array(fs.readFileSync(file))) !== hex(tokenBytes))
      return `pt.ack says ${ackSeg}, and ${LOG_PREFIX}${seg} is not whole on the host's disk`;
  }
  return null;
}

// ------------------------------------------------------------------ dump figures

interface DumpFigures {
  toAckSeconds: number;
  logReadSeconds: number;
  radioOnlyToAckSeconds: number;
  logBytes: number;
  chunks: number;
  notifications: number;
  writes: number;
  airBytes: number;
  payloadBytes: number;
  airBytesPerLogByte: number;
  payloadBytesPerLogByte: number;
  connectionEvents: number;
  sessionSeconds: number;
  tokenCpuMs: number;
  meanCpuMsPerWrite: number;
  tokenUAh: number;
  charge: { radioUC: number; floorUC: number; cpuUC: number };
}

/** One full sync from an empty copy on a fresh token: first without CPU time, then with each write's CPU from the first pass. */
async function dumpFigures(bundle: Bundle, flash: Uint8Array, params: LinkParams, tmp: string, name: string): Promise<DumpFigures> {
  const bare = await syncOnce(new Rig(bundle, { flash }), path.join(tmp, `${name}-bare`), params, () => 0);
  const work = bare.link.work;
  const s = await syncOnce(new Rig(bundle, { flash }), path.join(tmp, `${name}-cpu`), params, (k) => {
    if (k >= work.length) throw new Error("the second pass made more writes than the first: the session is not deterministic");
    return work[k];
  });
  const charge = sessionCharge(s);
  const log = s.result.log;
  return {
    toAckSeconds: round(s.toAckSeconds, 2),
    logReadSeconds: round(s.logReadSeconds, 2),
    radioOnlyToAckSeconds: round(bare.toAckSeconds, 2),
    logBytes: log.bytesReceived,
    chunks: log.chunks,
    notifications: s.link.notifications,
    writes: s.link.writes,
    airBytes: s.link.airBytes,
    payloadBytes: s.link.payloadBytes,
    airBytesPerLogByte: round(s.link.airBytes / log.bytesReceived, 3),
    payloadBytesPerLogByte: round(s.link.payloadBytes / log.bytesReceived, 3),
    connectionEvents: s.link.connectionEvents(),
    sessionSeconds: round(s.link.endedAt - s.link.connectedAt, 2),
    tokenCpuMs: Math.round(work.reduce((a, b) => a + b, 0)),
    meanCpuMsPerWrite: round(work.reduce((a, b) => a + b, 0) / work.length, 2),
    tokenUAh: round(charge.totalUC / 3600, 3),
    charge: { radioUC: Math.round(charge.radioUC), floorUC: Math.round(charge.floorUC), cpuUC: Math.round(charge.cpuUC) }
  };
}

/**
 * Connection to LOG_ACKED at the default link if every write cost the token
 * `ms` of CPU: how the dump time moves with the interpreter's speed, which the
 * energy model's 10 ms a callback may well understate for the sync handler.
 */
async function dumpSecondsAtCpu(bundle: Bundle, flash: Uint8Array, ms: number, tmp: string): Promise<number> {
  const s = await syncOnce(new Rig(bundle, { flash }), path.join(tmp, `cpu${ms}`), BLUEZ_DEFAULT, () => ms);
  return round(s.toAckSeconds, 2);
}

/** Peak JsVars (the emulation's estimate) while a full dump runs: sampled after every callback and after every scheduler step. */
async function dumpMemory(
  bundle: Bundle,
  flash: Uint8Array,
  tmp: string
): Promise<{ peakJsVars: number; before: number; samples: number }> {
  const rig = new Rig(bundle, { flash, memory: { sampleEvery: 1 } });
  rig.openWindow();
  const before = rig.token.memoryUsage().jsVars;
  let peak = before;
  let samples = 0;
  const t0 = rig.token.evaluate("getTime()") as number;
  await syncOnce(
    rig,
    path.join(tmp, "memory"),
    FASTEST,
    () => 0,
    () => {
      samples++;
      peak = Math.max(peak, rig.token.memoryUsage().jsVars);
    }
  );
  // The per-callback samples also hold the callback's arguments; take the peak if it was sampled during the dump.
  const p = rig.token.memoryPeak;
  if (p && p.at >= t0) peak = Math.max(peak, p.jsVars);
  return { peakJsVars: peak, before, samples };
}

// ------------------------------------------------------------------ resume runs

interface ResumeFigures {
  runs: number;
  identical: number;
  sessions: number;
  cuts: number;
  /** Where the cuts fell: before INFO, reading the log, between LOG_ACK sent and LOG_ACKED received, after it. */
  cutsIn: { handshake: number; log: number; ack: number; done: number };
  /** Cuts after the token recorded an acknowledgement the client never heard back. */
  ackRecordedThenCut: number;
  /** Sessions refused by the token's handshake backoff (cut handshakes), waited out. */
  backoffWaits: number;
  ackChecks: number;
  ackViolations: string[];
  failures: string[];
}

async function resumeRuns(bundle: Bundle, flash: Uint8Array, runs: number, seed: number, tmp: string): Promise<ResumeFigures> {
  // The uninterrupted reference, at the default link, with a typical CPU time per write.
  const ref = await syncOnce(new Rig(bundle, { flash }), path.join(tmp, "reference"), BLUEZ_DEFAULT, () => 0);
  const meanCpu = ref.link.work.reduce((a, b) => a + b, 0) / ref.link.work.length;
  const refSession = await syncOnce(new Rig(bundle, { flash }), path.join(tmp, "reference-cpu"), BLUEZ_DEFAULT, () => meanCpu);
  const refDigest = copyDigest(path.join(tmp, "reference-cpu"));
  const span = refSession.link.endedAt - refSession.link.connectedAt;
  const rng = new Rng(seed);
  /**
   * When the first session of a run is cut, seconds after connecting: mostly
   * anywhere, but a tenth each aimed at the handshake and at the
   * acknowledgement, where a cut is rare by chance and matters most.
   */
  const firstCut = (): number => {
    const r = rng.next();
    if (r < 0.1) return rng.next() * (refSession.toInfoSeconds + 0.1);
    if (r < 0.2) return refSession.toAckSeconds - 0.15 + rng.next() * (span - refSession.toAckSeconds + 0.15);
    return rng.next() * span;
  };
  const f: ResumeFigures = {
    runs,
    identical: 0,
    sessions: 0,
    cuts: 0,
    cutsIn: { handshake: 0, log: 0, ack: 0, done: 0 },
    ackRecordedThenCut: 0,
    backoffWaits: 0,
    ackChecks: 0,
    ackViolations: [],
    failures: []
  };
  for (let run = 0; run < runs; run++) {
    const rig = new Rig(bundle, { flash, seed: 1000 + run });
    const dir = path.join(tmp, `run${run}`);
    const nonces = new Rng(seed * 100003 + run);
    let done = false;
    for (let session = 0; !done; session++) {
      if (session > 20) {
        f.failures.push(`run ${run}: no complete sync in 20 sessions`);
        break;
      }
      rig.openWindow();
      const link = new BenchLink(rig, BLUEZ_DEFAULT, () => meanCpu);
      f.sessions++;
      let cut: number | null = null;
      // Where the session stands, for saying where the cuts fell.
      let phase: keyof ResumeFigures["cutsIn"] = "handshake";
      const onProgress = (e: SyncProgress): void => {
        if (e.kind === "info") phase = "log";
        else if (e.kind === "acking") phase = "ack";
        else if (e.kind === "acked") phase = "done";
      };
      const ackBefore = ackedSegment(rig);
      if (session === 0 || (session < MAX_CUT_SESSIONS && rng.next() < RECUT_PROBABILITY))
        cut = rig.scheduler.at(rig.scheduler.now + (session === 0 ? firstCut() : rng.next() * span), () => {
          f.cuts++;
          f.cutsIn[phase]++;
          // LOG_ACK sent, LOG_ACKED not back: did the token record it? (Then the copy must hold it: checked below.)
          if (phase === "ack" && ackedSegment(rig) !== ackBefore) f.ackRecordedThenCut++;
          link.lose();
        });
      try {
        await syncToken(link, syncOptions(rig, link, dir, nonces, { onProgress }));
        done = true;
      } catch (e) {
        if (e instanceof AuthFailedError) {
          // Three cut handshakes in a row: the token backs off (up to 10 min); a kiosk tries again later.
          f.backoffWaits++;
          rig.scheduler.runUntil(rig.scheduler.now + 601);
        } else if (!(e instanceof LinkLostError)) {
          f.failures.push(`run ${run} session ${session}: ${e instanceof Error ? e.message : String(e)}`);
          break;
        }
      } finally {
        if (cut !== null) rig.scheduler.cancel(cut);
      }
      f.ackChecks++;
      const v = ackViolation(rig, dir);
      if (v) f.ackViolations.push(`run ${run} session ${session}: ${v}`);
    }
    if (done && copyDigest(dir) === refDigest) f.identical++;
    else if (done) f.failures.push(`run ${run}: the resumed copy differs from the uninterrupted one`);
    if (rig.token.uncaught.length) f.failures.push(`run ${run}: uncaught ${rig.token.uncaught.map((e) => e.message).join("; ")}`);
    rig.token.powerCut();
    fs.rmSync(dir, { recursive: true, force: true });
    if ((run + 1) % 100 === 0) console.log(`resume: ${run + 1} runs, ${f.identical} identical, ${f.cuts} cuts`);
  }
  return f;
}

// ------------------------------------------------------------------ fuzz

/** A raw central on the token: writes whatever it is given, reassembles what comes back. */
class RawCentral implements NegotiatingCentral {
  readonly address = "c0:ff:ee:00:00:02 public";
  readonly intervalMs = FASTEST.intervalMs;
  readonly attMtu = FASTEST.attMtu;
  readonly acceptsIntervalUpdate = true;
  readonly frames: Uint8Array[] = [];
  private readonly reader = createReader(FRAME_MAX - 1);
  constructor(private readonly onBadFrame: () => void = () => undefined) {}
  notified(bytes: Uint8Array): void {
    if (!feed(this.reader, bytes, (fr) => (this.frames.push(fr.slice()), true))) this.onBadFrame();
  }
  disconnected(): void {}
}

interface FuzzFigures {
  frames: number;
  byKind: Record<string, number>;
  /** Frames that were not fuzz (clean handshakes and INFO to reach a session). */
  cleanFrames: number;
  connections: number;
  uncaught: number;
  uncaughtMessages: string[];
  /** Faults the firmware caught itself (INFO's count, before and after). */
  faultsBefore: number;
  faultsAfter: number;
  /** Phases without a session whose flash or clock changed (must be empty). */
  unauthenticatedChanges: string[];
  /** Properly sealed requests left without exactly one answer. */
  unanswered: number;
  /** Garbled sealed frames answered, or not followed by the token closing the link. */
  garbledNotClosed: number;
  /** Frames other than PROVE (or its decoy) and FAIL the token sent to a central without a session. */
  unauthenticatedAnswers: number;
  /** Bytes from the token that did not frame (must be 0). */
  badFramesFromToken: number;
  peakJsVars: number;
  jsVarsSamples: number;
  simulatedHours: number;
}

class Fuzzer {
  readonly rng: Rng;
  readonly host = useHostCrypto();
  central = new RawCentral();
  link: CentralLink | null = null;
  session: SyncSession | null = null;
  frames = 0;
  clean = 0;
  connections = 0;
  unanswered = 0;
  /** Garbled sealed frames the token answered, or after which it kept the link. */
  notClosed = 0;
  /** While set, every frame the token sends must be a PROVE (real or decoy) or a FAIL; anything else is counted here. */
  watchUnauthenticated = false;
  unauthenticatedAnswers = 0;
  /** Notifications from the token that a reader could not take as frames (an impossible LEN). */
  badFromToken = 0;
  readonly byKind: Record<string, number> = {};
  /** The writes of one authenticated session that changed the token's state, kept to replay. */
  recorded: Uint8Array[] = [];
  private recording: Uint8Array[] | null = null;

  constructor(
    readonly rig: Rig,
    seed: number
  ) {
    this.rng = new Rng(seed);
  }

  bytes(n: number): Uint8Array {
    return Uint8Array.from({ length: n }, () => this.rng.int(256));
  }

  connect(): void {
    this.leave();
    this.rig.openWindow();
    this.central = new RawCentral(() => this.badFromToken++);
    this.link = this.rig.token.connect(this.central);
    if (!this.link) throw new Error("fuzz: the token took no connection");
    this.connections++;
    this.session = null;
    // Past the MTU exchange, as a kiosk's first write would be.
    this.rig.scheduler.runUntil(this.rig.scheduler.now + 0.016);
  }

  get up(): boolean {
    return this.link !== null && this.link.connected;
  }

  leave(): void {
    if (this.link && this.link.connected) this.link.disconnect();
    this.link = null;
    this.session = null;
  }

  /** Write one frame; run the link until the token's answer (if any) is out. Returns the frames the token sent meanwhile. */
  send(frame: Uint8Array, kind: string | null): Uint8Array[] {
    if (!this.up) this.connect();
    if (kind === null) this.clean++;
    else {
      this.frames++;
      this.byKind[kind] = (this.byKind[kind] ?? 0) + 1;
    }
    this.recording?.push(frame.slice());
    const from = this.central.frames.length;
    this.link!.write(frame);
    // An answer of up to 127 bytes is three notifications at MTU 53; a close completes at the next event.
    const s = this.rig.scheduler;
    for (let i = 0; i < 6 && (this.link!.txPending > 0 || i < 2); i++) s.runUntil(s.now + FASTEST.intervalMs / 1000);
    const got = this.central.frames.slice(from);
    if (this.watchUnauthenticated)
      for (const f of got)
        if (!((f[1] === MSG_PROVE && f.length === PROVE_BYTES + 1) || (f[1] === MSG_FAIL && f.length === 3))) this.unauthenticatedAnswers++;
    return got;
  }

  /** A clean handshake; false when the token answered with a decoy or FAIL (backing off). */
  handshake(): boolean {
    this.connect();
    const nc = this.bytes(NONCE_BYTES);
    const prove = this.send(centralHello(nc), null)[0];
    if (!prove || identify(this.host, [SECRET], nc, prove) !== 0) return false;
    const a = centralAuth(this.host, SECRET, nc, readProve(prove)!);
    this.send(a.frame, null);
    if (!this.up) return false;
    this.session = a.session;
    return true;
  }

  /** One properly sealed request: its opened answer, or null (none, or not one frame). */
  ask(msg: Uint8Array, kind: string | null): Uint8Array | null {
    const f = seal(this.host, this.session!, msg);
    const got = this.send(f, kind);
    if (got.length !== 1) return null;
    return open(this.host, this.session!, got[0]);
  }

  startRecording(): void {
    this.recording = [];
  }
  stopRecording(): Uint8Array[] {
    const r = this.recording ?? [];
    this.recording = null;
    return r;
  }

  /** Wait out the handshake backoff (at most 10 minutes) so the next handshake is real. */
  waitBackoff(): void {
    this.leave();
    this.rig.scheduler.runUntil(this.rig.scheduler.now + 601);
  }
}

/** A request with these fields, as the client encodes it. */
function req(type: number, f: { seg?: number; off?: number; value?: number; reason?: number } = {}): Uint8Array {
  return encodeRequest({ type, seg: f.seg ?? 0, off: f.off ?? 0, value: f.value ?? 0, reason: f.reason ?? 0 });
}

async function fuzz(bundle: Bundle, flash: Uint8Array, total: number, seed: number, sampleEvery: number): Promise<FuzzFigures> {
  const rig = new Rig(bundle, { flash, seed: 77, memory: { sampleEvery } });
  const z = new Fuzzer(rig, seed);
  const start = rig.scheduler.now;
  const changes: string[] = [];
  const info = (): number => {
    if (!z.handshake()) throw new Error("fuzz: no clean handshake for INFO");
    const m = z.ask(req(REQ_INFO), null);
    const i = m && decodeInfo(m);
    if (!i) throw new Error("fuzz: no INFO");
    z.leave();
    return i.faults;
  };

  // A state-changing session to replay later: clock, risk, ack, TEK request (authenticated: these changes are allowed).
  z.waitBackoff();
  if (!z.handshake()) throw new Error("fuzz: no clean handshake to record");
  z.startRecording();
  z.ask(req(REQ_INFO), null);
  z.ask(req(REQ_TIME_SET, { value: rig.hostNow() + 5 }), null);
  z.ask(req(REQ_RISK_SET, { value: 1, reason: 42 }), null);
  z.ask(req(REQ_LOG_ACK, { seg: rig.segments()[2], off: 0 }), null);
  z.ask(req(REQ_TEK_GET, { value: 0 }), null);
  z.recorded = z.stopRecording();
  // Undo what the recording set, so that a replay that worked would show: the risk level back, the clock back 5 s.
  // And check that the comparison below sees an authenticated change at all.
  const s0 = rig.state();
  z.ask(req(REQ_RISK_SET, { value: 0, reason: 1 }), null);
  z.ask(req(REQ_TIME_SET, { value: rig.hostNow() }), null);
  const s1 = rig.state();
  if (s0.flash === s1.flash || s0.clockOffset === s1.clockOffset)
    throw new Error("fuzz: the state comparison does not see an authenticated RISK_SET and TIME_SET");
  z.leave();
  const faultsBefore = info();

  const share = (k: number): number => Math.floor(total * k);
  const quota = { garbage: share(0.3), auth: share(0.15), replay: share(0.15), garbled: share(0.15) };
  const quotaEnd = (n: number): number => z.frames + n;

  /**
   * Run a phase in which nothing authenticated asks for a change: flash and
   * clock must not move. `sessions`: the phase opens sessions of its own (for
   * read-only requests), so sealed answers are expected.
   */
  const unchanged = (name: string, sessions: boolean, body: () => void): void => {
    z.leave();
    const before = rig.state();
    z.watchUnauthenticated = !sessions;
    body();
    z.watchUnauthenticated = false;
    z.leave();
    rig.scheduler.runUntil(rig.scheduler.now + 1);
    const after = rig.state();
    if (before.flash !== after.flash) changes.push(`${name}: flash changed`);
    if (before.clockOffset !== after.clockOffset) changes.push(`${name}: clock moved ${after.clockOffset - before.clockOffset} s`);
  };

  // 1. Garbage from a central that never authenticated: random frames (most of a plausible length), bad lengths, byte soup.
  unchanged("garbage", false, () => {
    const end = quotaEnd(quota.garbage);
    while (z.frames < end) {
      const r = z.rng.next();
      if (r < 0.8) {
        const len = 1 + z.rng.int(TOKEN_RX_BODY_MAX);
        const body = z.bytes(len);
        // Some look like the handshake's messages.
        if (z.rng.next() < 0.3) body[0] = 1 + z.rng.int(4);
        z.send(Uint8Array.of(len, ...body), "garbage-frame");
      } else if (r < 0.9)
        z.send(Uint8Array.of(z.rng.next() < 0.3 ? 0 : TOKEN_RX_BODY_MAX + 1 + z.rng.int(200), ...z.bytes(z.rng.int(20))), "bad-length");
      else z.send(z.bytes(1 + z.rng.int(50)), "byte-soup");
    }
  });

  // 2. A HELLO, then an AUTH that is not the right one: random, from another secret, or the right one with a bit flipped.
  unchanged("bad AUTH", false, () => {
    const end = quotaEnd(quota.auth);
    const other = Uint8Array.from({ length: 32 }, (_, i) => 0x11 ^ i);
    while (z.frames < end) {
      z.connect();
      const nc = z.bytes(NONCE_BYTES);
      const prove = z.send(centralHello(nc), null)[0];
      const nt = (prove && readProve(prove)) || z.bytes(NONCE_BYTES);
      const r = z.rng.next();
      if (r < 0.4) z.send(Uint8Array.of(17, MSG_AUTH, ...z.bytes(16)), "auth-random");
      else if (r < 0.7) z.send(centralAuth(z.host, other, nc, nt).frame, "auth-other-secret");
      else {
        const f = centralAuth(z.host, SECRET, nc, nt).frame;
        // Against a decoy PROVE the right secret's AUTH is wrong anyway; flipped, it is wrong against a real one too.
        f[1 + z.rng.int(f.length - 1)] ^= 1 << z.rng.int(8);
        z.send(f, "auth-bit-flip");
      }
    }
  });

  // 3. The recorded session played back: whole, from a point, shuffled, and a HELLO's answer followed by the old AUTH.
  unchanged("replay", false, () => {
    const end = quotaEnd(quota.replay);
    const rec = z.recorded;
    while (z.frames < end) {
      z.connect();
      const r = z.rng.next();
      const order =
        r < 0.4
          ? rec
          : r < 0.7
            ? rec.slice(z.rng.int(rec.length))
            : rec
                .map((f) => ({ f, k: z.rng.next() }))
                .sort((a, b) => a.k - b.k)
                .map((x) => x.f);
      for (const f of order) {
        if (!z.up || z.frames >= end) break;
        z.send(f, "replay");
      }
    }
  });

  // 4. A good handshake, read-only requests, then one garbled sealed frame carrying a state-changing request.
  z.waitBackoff();
  unchanged("garbled after AUTH", true, () => {
    const end = quotaEnd(quota.garbled);
    let previous: Uint8Array | null = null;
    while (z.frames < end) {
      if (!z.handshake()) {
        z.waitBackoff();
        continue;
      }
      for (let i = z.rng.int(3); i > 0; i--) z.ask(req(REQ_LOG_READ, { seg: rig.segments()[0], off: 0 }), null);
      const msgs = [
        req(REQ_TIME_SET, { value: rig.hostNow() + 3600 }),
        req(REQ_RISK_SET, { value: 2, reason: 7 }),
        req(REQ_LOG_ACK, { seg: rig.segments()[4], off: 0 }),
        req(REQ_TEK_GET, { value: 0 })
      ];
      const msg = msgs[z.rng.int(msgs.length)];
      const good = seal(z.host, z.session!, msg);
      let bad: Uint8Array;
      const r = z.rng.next();
      let kind: string;
      if (r < 0.3) {
        bad = good.slice();
        bad[z.rng.int(bad.length)] ^= 1 << z.rng.int(8);
        kind = "sealed-bit-flip";
      } else if (r < 0.4) {
        bad = good.slice(0, good.length - 1 - z.rng.int(TAG_BYTES));
        bad[0] = bad.length - 1;
        kind = "sealed-truncated";
      } else if (r < 0.5) {
        bad = Uint8Array.of(good.length, ...good.subarray(1), z.rng.int(256));
        kind = "sealed-extended";
      } else if (r < 0.6 && previous) {
        // A frame of an earlier session (its keys and sequence are not this one's).
        bad = previous;
        kind = "sealed-other-session";
      } else if (r < 0.75) {
        // One of the recorded session's sealed requests (after its HELLO and AUTH): right keys' era, wrong session.
        bad = z.recorded[2 + z.rng.int(z.recorded.length - 2)];
        kind = "sealed-replayed-recording";
      } else if (r < 0.9) {
        // Out of order: `good` (this sequence number) is held back and the next one sent first.
        bad = seal(z.host, z.session!, msg);
        kind = "sealed-reordered";
      } else {
        // The tag of one message on the ciphertext of another.
        const other = seal(z.host, { ...z.session! }, req(REQ_RISK_SET, { value: 0, reason: 1 }));
        bad = good.slice();
        bad.set(other.subarray(other.length - TAG_BYTES), bad.length - TAG_BYTES);
        kind = "sealed-spliced-tag";
      }
      previous = good;
      const got = z.send(bad, kind);
      // A flipped LEN that promises more bytes leaves a frame the token is still reading: the rest comes as garbage.
      if (z.up && got.length === 0 && bad[0] > good[0] && bad[0] <= TOKEN_RX_BODY_MAX)
        got.push(...z.send(z.bytes(bad[0] + 1 - bad.length), null));
      if (z.up || got.length) z.notClosed++;
    }
  });
  const faultsMid = info();

  // 5. Properly sealed random requests (authenticated: they may change state); each must get exactly one answer.
  z.waitBackoff();
  while (z.frames < total) {
    if (!z.handshake()) {
      z.waitBackoff();
      continue;
    }
    for (let i = 0; i < 200 && z.frames < total && z.up; i++) {
      const m = z.bytes(1 + z.rng.int(TOKEN_RX_BODY_MAX - 1 - TAG_BYTES));
      if (z.rng.next() < 0.7) m[0] = REQ_INFO + z.rng.int(6);
      // Mostly clock values near now (a wild clock is valid input too, but ends the rest of the run's meaning).
      if (m[0] === REQ_TIME_SET && m.length === 5 && z.rng.next() < 0.9)
        Buffer.from(m.buffer).writeUInt32LE(rig.hostNow() + z.rng.int(600) - 300, 1);
      const res = z.ask(m, "sealed-random");
      if (!res || !(res[0] === (m[0] | RESPONSE) || res[0] === RSP_ERROR)) z.unanswered++;
    }
  }
  z.leave();
  const faultsAfter = Math.max(faultsMid, info());
  const peak = rig.token.memoryPeak;
  return {
    frames: z.frames,
    byKind: z.byKind,
    cleanFrames: z.clean,
    connections: z.connections,
    uncaught: rig.token.uncaught.length,
    uncaughtMessages: [...new Set(rig.token.uncaught.map((e) => e.message))].slice(0, 5),
    faultsBefore,
    faultsAfter,
    unauthenticatedChanges: changes.slice(0, 20),
    unanswered: z.unanswered,
    garbledNotClosed: z.notClosed,
    unauthenticatedAnswers: z.unauthenticatedAnswers,
    badFramesFromToken: z.badFromToken,
    peakJsVars: peak ? peak.jsVars : 0,
    jsVarsSamples: rig.token.memorySamples,
    simulatedHours: round((rig.scheduler.now - start) / 3600, 2)
  };
}

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
  const runs = Number(arg("runs", "1000"));
  const frames = Number(arg("frames", "100000"));
  const seed = Number(arg("seed", "1"));
  const fuzzSampleEvery = Number(arg("fuzz-sample-every", "25"));
  const t0 = Date.now();
  const cpu0 = process.cpuUsage();
  // The copies' fsyncs are the kiosk's durability, not what this bench measures: a RAM disk where there is one.
  const tmpRoot = fs.existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir();
  const tmp = fs.mkdtempSync(path.join(tmpRoot, "pt-bench-sync-"));
  const lap = (what: string): void => console.log(`${what}: ${round((Date.now() - t0) / 1000, 1)} s`);
  try {
    const bundle = await buildBundle(tmp);
    lap("bundle built");
    const log = fillLog(bundle);
    lap(
      `log filled: ${log.segments.length} segments (${LOG_PREFIX}${log.segments[0]}…${log.segments[log.segments.length - 1]}), ${log.logBytes} bytes`
    );

    const def = await dumpFigures(bundle, log.flash, BLUEZ_DEFAULT, tmp, "default");
    const fast = await dumpFigures(bundle, log.flash, FASTEST, tmp, "fastest");
    const small = await dumpFigures(bundle, log.flash, MTU_23, tmp, "mtu23");
    lap(`dump: ${def.toAckSeconds} s default link, ${fast.toAckSeconds} s fastest, ${small.toAckSeconds} s without the MTU exchange`);
    const cpuSensitivity: Array<{ cpuMsPerWrite: number; dumpSeconds: number }> = [];
    for (const ms of [0, 25, 50, 100, 200])
      cpuSensitivity.push({ cpuMsPerWrite: ms, dumpSeconds: await dumpSecondsAtCpu(bundle, log.flash, ms, tmp) });
    const mem = await dumpMemory(bundle, log.flash, tmp);
    lap(`dump memory: peak ${mem.peakJsVars} JsVars`);

    const resume = await resumeRuns(bundle, log.flash, runs, seed, tmp);
    lap(`resume: ${resume.identical}/${resume.runs} identical, ${resume.ackViolations.length} ack violations`);

    const fz = await fuzz(bundle, log.flash, frames, seed, fuzzSampleEvery);
    lap(`fuzz: ${fz.frames} frames, ${fz.uncaught} uncaught`);

    const cpu = process.cpuUsage(cpu0);
    const pct = (n: number): number => round((100 * n) / board.jsVars.count, 1);
    console.log(
      JSON.stringify({
        bench: "sync",
        board: BOARD,
        // Connection to LOG_ACKED, with the token's CPU time (energy model) and the link latencies of the file comment.
        dumpSeconds: def.toAckSeconds,
        dumpSecondsFastest: fast.toAckSeconds,
        // The same with the token's JavaScript taking no time (the radio and the latencies alone), and the CPU a write was charged.
        dumpSecondsNoCpu: def.radioOnlyToAckSeconds,
        tokenCpuMsPerWrite: def.meanCpuMsPerWrite,
        goalSeconds: GOAL_SECONDS,
        withinGoal: def.toAckSeconds <= GOAL_SECONDS,
        logBytes: def.logBytes,
        logSegments: log.segments.length,
        // ATT writes and notifications of the whole session, each with its 3-byte ATT and 4-byte L2CAP header, per log byte.
        airBytesPerLogByte: def.airBytesPerLogByte,
        // Connected floor + 4.4 µC a connection event + CPU (energy model), over the default link's session.
        tokenUAhPerSync: def.tokenUAh,
        resumeRuns: resume.runs,
        resumeIdentical: resume.identical,
        resumeCuts: resume.cuts,
        resumeSessions: resume.sessions,
        ackChecks: resume.ackChecks,
        ackViolations: resume.ackViolations.length,
        ackRecordedThenCut: resume.ackRecordedThenCut,
        fuzzFrames: fz.frames,
        fuzzUncaught: fz.uncaught,
        fuzzFirmwareFaults: fz.faultsAfter - fz.faultsBefore,
        // Phases without a session in which the flash or the clock changed, sealed answers to a central without one, garbled frames not refused.
        fuzzUnauthenticatedChanges: fz.unauthenticatedChanges.length + fz.unauthenticatedAnswers + fz.garbledNotClosed,
        fuzzUnanswered: fz.unanswered,
        // Sampled after every `fuzzSampleEvery`-th callback of the token (each sample walks its whole heap).
        fuzzPeakJsVarsPct: pct(fz.peakJsVars),
        fuzzSampleEvery,
        peakJsVars: mem.peakJsVars,
        peakJsVarsPct: pct(mem.peakJsVars),
        jsVarsTotal: board.jsVars.count,
        detail: {
          links: { default: BLUEZ_DEFAULT, fastest: FASTEST, mtu23: MTU_23 },
          default: def,
          fastest: fast,
          mtu23: small,
          cpuSensitivity,
          log: {
            segments: log.segments,
            bytes: log.logBytes,
            filledInSimulatedHours: log.simulatedHours,
            floodSegments: log.floodSegments,
            uncaught: log.uncaught
          },
          memory: mem,
          resume,
          fuzz: fz
        },
        wallSeconds: round((Date.now() - t0) / 1000, 1),
        cpuSeconds: round((cpu.user + cpu.system) / 1e6, 1),
        loadAverage: os.loadavg().map((l) => round(l, 2)),
        node: process.version
      })
    );
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench/sync: ${e instanceof Error && e.stack ? e.stack : String(e)}\n`);
  process.exitCode = 1;
});
