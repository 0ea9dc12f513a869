/**
 * The log-flooding attack of issue 15 against the token's own scanner and log
 * code (firmware/src/scanner.ts and firmware/src/log/store.ts, run directly
 * under Node with a minimal platform: virtual timers and a Storage with
 * Espruino's space rules), then read back with the kiosk's tokenlog. It lives
 * under test/ because host-tools may import only firmware/src/wire/
 * (test/build/import-boundary.spec.ts) and this runs the firmware itself.
 *
 * The token leads an ordinary life for `historyDays` (about 150 records a
 * day: one to three phones or tokens near it in each scan of the waking
 * hours); then, for `attackHours`, a cheap BLE board near it sends
 * `attackRpisPerScan` fresh RPIs per scan window, one packet each, at high
 * power so they arrive above the logging floor from across a room. Day and
 * night, the real contacts go on as before.
 *
 * A real close contact is a real device heard in a scan with a mean RSSI at or
 * above `closeRssiDbm`; it survives if a record of it (its RPI prefix in that
 * scan) is in flash at the end. Survival counts the real close contacts of the
 * last 14 days before the end (the log's retention), those that happened
 * during the attack included.
 */
import { BoardConfig, boardConstants, loadBoard } from "../../host-tools/src/build/boards";
import { HeardAdvert, Platform, PlatformStorage } from "../../firmware/src/platform-api";
import { openLog } from "../../firmware/src/log/store";
import { createScanner } from "../../firmware/src/scanner";
import { fileFootprint } from "../../firmware/src/wire/storage";
import { readTokenLog, recentLosses, TokenLog } from "../../host-tools/src/tokenlog/read-log";
import { tokenFilesFromStorage } from "../../host-tools/src/tokenlog/token-files";
import { Rng } from "../../host-tools/src/sim/prng";

const DAY = 86400;
const RETENTION = 14 * DAY;

export interface LogFloodOptions {
  /** Board whose schedule, floor and Storage size are used (default puckjs). */
  board?: string;
  /** Days of ordinary life before the attack (default 14). */
  historyDays?: number;
  /** Hours the attack lasts (default 30; 0: no attack, the baseline). */
  attackHours?: number;
  /** Fresh RPIs the attacker sends in each scan window (default 200). */
  attackRpisPerScan?: number;
  /** Packets the attacker sends of each RPI in a window, spread over it (default 1: a fresh RPI each packet). */
  attackPacketsPerRpi?: number;
  /** The attacker's RSSI at the token: uniform in [lo, hi] dBm (default −68…−58: above the −70 floor). */
  attackRssiDbm?: [number, number];
  /** Mean RSSI from which a real sighting counts as a close contact (default −60 dBm). */
  closeRssiDbm?: number;
  /** Bytes of the firmware bundle in Storage (default: the board's budget). */
  bundleBytes?: number;
  seed?: number;
}

export interface LogFloodResult {
  board: string;
  attackHours: number;
  /** Real close contacts of the last 14 days still in flash at the end, as a share. */
  realContactSurvival: number;
  realCloseContacts: number;
  survivedCloseContacts: number;
  /** The same, split at the attack's start. */
  beforeAttack: { contacts: number; survived: number };
  duringAttack: { contacts: number; survived: number };
  /** Every real sighting (close or not) of the last 14 days, and those in flash. */
  realSightings: number;
  survivedSightings: number;
  /** Records in flash at the end and how many of them are the attacker's. */
  recordsInLog: number;
  attackRecordsInLog: number;
  /** True when tokenlog reports the attack (a flood) or lost records, so that `match` qualifies its level. */
  attackFlagged: boolean;
  /** Sightings the token counted as lost, as tokenlog reads them from flash. */
  droppedCounted: number;
  log: TokenLog;
  /** The token's Storage files at the end, by name (what a kiosk would dump). */
  files: Map<string, Uint8Array>;
}

/** Storage with Espruino's space rules, as the firmware sees it (test/helpers/fake-platform.ts has the full one). */
class SimStorage implements PlatformStorage {
  readonly files = new Map<string, Uint8Array>();
  private trash = 0;
  constructor(private readonly capacity: number) {}
  read(name: string): Uint8Array | undefined {
    const f = this.files.get(name);
    return f ? f.slice() : undefined;
  }
  write(name: string, data: Uint8Array, offset?: number, size?: number): void {
    const off = offset ?? 0;
    if (off === 0) {
      const len = size ?? data.length;
      const old = this.files.get(name);
      if (fileFootprint(len) > this.getFree()) this.compact();
      if (fileFootprint(len) > this.getFree()) throw new Error("Unable to find or create file");
      if (old) {
        this.files.delete(name);
        this.trash += fileFootprint(old.length);
      }
      this.files.set(name, new Uint8Array(len).fill(0xff));
    }
    const f = this.files.get(name);
    if (!f) throw new Error(`no such file ${name}`);
    for (let i = 0; i < data.length && off + i < f.length; i++) f[off + i] &= data[i];
  }
  erase(name: string): void {
    const f = this.files.get(name);
    if (!f) return;
    this.files.delete(name);
    this.trash += fileFootprint(f.length);
  }
  list(prefix: string): string[] {
    return [...this.files.keys()].filter((n) => n.startsWith(prefix));
  }
  getFree(): number {
    let used = this.trash;
    for (const f of this.files.values()) used += fileFootprint(f.length);
    return this.capacity - used;
  }
  compact(): void {
    this.trash = 0;
  }
}

interface Timer {
  id: number;
  at: number;
  cb: () => void;
}

function unused(what: string): never {
  throw new Error(`log-flood: the scanner does not use ${what}`);
}

/** Just what the scanner and the log use: virtual time, timers, the radio's scan callback, Storage. */
class SimPlatform implements Platform {
  ms = 0;
  timers: Timer[] = [];
  private nextId = 1;
  scanCb: ((a: HeardAdvert) => void) | null = null;
  constructor(
    private readonly t0: number,
    readonly storage: PlatformStorage,
    private readonly rng: Rng
  ) {}
  now(): number {
    return this.t0 + this.ms / 1000;
  }
  random32(): number {
    return this.rng.int(4294967296);
  }
  setTimeout(cb: () => void, ms: number): number {
    const id = this.nextId++;
    this.timers.push({ id, at: this.ms + Math.max(0, ms), cb });
    return id;
  }
  clearTimeout(id: number): void {
    this.timers = this.timers.filter((t) => t.id !== id);
  }
  freeJsVars(): number {
    return 1000;
  }
  startScan(cb: (a: HeardAdvert) => void): void {
    this.scanCb = cb;
  }
  stopScan(): void {
    this.scanCb = null;
  }
  /** The next timer due by `end` (ms), removed from the list, or null. */
  nextDue(end: number): Timer | null {
    let next: Timer | null = null;
    for (const t of this.timers) if (t.at <= end && (!next || t.at < next.at || (t.at === next.at && t.id < next.id))) next = t;
    if (next) this.timers = this.timers.filter((t) => t !== next);
    return next;
  }
  setTime(): void {
    unused("setTime");
  }
  led(): void {}
  onButton(): void {}
  setInterval(): number {
    return unused("setInterval");
  }
  clearInterval(): void {}
  battery(): number {
    return 90;
  }
  lockConsole(): void {}
  enableWatchdog(): void {}
  kickWatchdog(): void {}
  sha256(): Uint8Array {
    return unused("sha256");
  }
  aes128Ecb(): Uint8Array {
    return unused("aes128Ecb");
  }
  setAdvertising(): void {}
  stopAdvertising(): void {}
  setAddress(): void {}
  setTxPower(): void {}
  setSyncWindow(): void {}
  onLink(): void {}
  linkWrite(): boolean {
    return false;
  }
  linkClose(): void {}
}

interface Packet {
  /** ms from the window's start */
  at: number;
  rssi: number;
  data: Uint8Array;
}

interface RealSighting {
  prefix: string;
  time: number;
  meanRssi: number;
  attack: boolean;
}

function serviceData(rng: Rng): Uint8Array {
  const d = new Uint8Array(20);
  for (let i = 0; i < 20; i++) d[i] = rng.int(4294967296) & 255;
  return d;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.subarray(0, 5)).toString("hex");
}

/** Runs the scenario; deterministic for a seed. */
export function runLogFlood(opts: LogFloodOptions = {}): LogFloodResult {
  const boardId = opts.board ?? "puckjs";
  const cfg: BoardConfig = loadBoard(boardId);
  const buildTime = 1735689600;
  // The firmware reads BOARD.* (inlined by the bundler); under Node it is a global.
  const board = boardConstants(cfg, buildTime);
  (globalThis as unknown as { BOARD: BoardConstants }).BOARD = board;
  const historyDays = opts.historyDays ?? 14;
  const attackHours = opts.attackHours ?? 30;
  const perScan = opts.attackRpisPerScan ?? 200;
  const perRpi = opts.attackPacketsPerRpi ?? 1;
  const [aLo, aHi] = opts.attackRssiDbm ?? [-68, -58];
  const close = opts.closeRssiDbm ?? -60;
  const rng = new Rng(opts.seed ?? 1);
  const windowMs = cfg.schedule.scanWindowMs;

  // The token's Storage: firmware bundle, 15 days of own keys, settings.
  const st = new SimStorage(cfg.storage.bytes);
  st.write(".bootcde", new Uint8Array(opts.bundleBytes ?? cfg.budget.bundleBytes));
  for (let d = 0; d < 15; d++) st.write("pt.tek" + (2892000 + d * 144), new Uint8Array(24));
  st.write("pt.cfg", new Uint8Array(16));

  const start = buildTime + 30 * DAY;
  const p = new SimPlatform(start, st, rng);
  const log = openLog(st);
  const scanner = createScanner(p, log, (fn: (a?: unknown, b?: unknown) => void) => fn);
  const attackFrom = start + historyDays * DAY;
  const end = attackFrom + attackHours * 3600;
  const real: RealSighting[] = [];
  const attackPrefixes = new Set<string>();

  function windowPackets(t: number): Packet[] {
    const out: Packet[] = [];
    const hour = (((t % DAY) + DAY) % DAY) / 3600;
    // Ordinary life: 0–3 real devices near the token in a waking-hours scan (≈150 records a day).
    const n = hour >= 7 && hour < 21 ? rng.int(4294967296) % 4 : rng.int(4294967296) % 10 === 0 ? 1 : 0;
    for (let i = 0; i < n; i++) {
      const data = serviceData(rng);
      const level = -68 + (rng.int(4294967296) % 24); // −68…−45 dBm
      const phase = rng.int(4294967296) % 250;
      let sum = 0;
      let heard = 0;
      for (let k = 0; k < 8; k++) {
        const rssi = level + (rng.int(4294967296) % 7) - 3;
        out.push({ at: phase + 250 * k, rssi, data });
        if (rssi >= board.schedule.logMinRssiDbm) {
          sum += rssi;
          heard++;
        }
      }
      if (heard) real.push({ prefix: hex(data), time: t, meanRssi: sum / heard, attack: t >= attackFrom });
    }
    if (t >= attackFrom && t < end)
      for (let i = 0; i < perScan; i++) {
        const data = serviceData(rng);
        attackPrefixes.add(hex(data));
        const rssi = aLo + (rng.int(4294967296) % (aHi - aLo + 1));
        for (let k = 0; k < perRpi; k++)
          out.push({ at: ((i + k * perScan) * windowMs) / (perScan * perRpi) + (rng.int(4294967296) % 5), rssi, data });
      }
    return out.sort((a, b) => a.at - b.at);
  }

  scanner.start();
  const endMs = (end - start) * 1000;
  let scanning = false;
  for (;;) {
    // A window opens when a timer callback starts the radio: deliver its packets, in time order, before any later timer.
    if (p.scanCb && !scanning) {
      scanning = true;
      const w0 = p.ms;
      for (const pk of windowPackets(p.now())) {
        const due = w0 + pk.at;
        for (let t = p.nextDue(due); t; t = p.nextDue(due)) {
          p.ms = Math.max(p.ms, t.at);
          t.cb();
        }
        p.ms = Math.max(p.ms, due);
        const cb = p.scanCb;
        if (cb) cb({ rssi: pk.rssi, serviceData: pk.data });
      }
    }
    if (!p.scanCb) scanning = false;
    const t = p.nextDue(endMs);
    if (!t) break;
    p.ms = Math.max(p.ms, t.at);
    t.cb();
  }
  p.ms = endMs;

  const tokenLog = readTokenLog(tokenFilesFromStorage({ list: () => st.list(""), read: (n) => st.read(n) }, `log-flood-${boardId}`), {
    partial: true
  });
  const inLog = new Map<string, number[]>();
  let attackRecords = 0;
  for (const r of tokenLog.records) {
    const k = hex(r.rpiPrefix);
    if (attackPrefixes.has(k)) attackRecords++;
    const l = inLog.get(k) ?? [];
    l.push(r.time);
    inLog.set(k, l);
  }
  const p_end = end;
  const recent = real.filter((s) => s.time >= p_end - RETENTION);
  const kept = (s: RealSighting): boolean => (inLog.get(s.prefix) ?? []).some((t) => Math.abs(t - s.time) < 120);
  const closeOnes = recent.filter((s) => s.meanRssi >= close);
  const before = closeOnes.filter((s) => !s.attack);
  const during = closeOnes.filter((s) => s.attack);
  const survived = closeOnes.filter(kept).length;
  return {
    board: boardId,
    attackHours,
    realContactSurvival: closeOnes.length ? survived / closeOnes.length : 1,
    realCloseContacts: closeOnes.length,
    survivedCloseContacts: survived,
    beforeAttack: { contacts: before.length, survived: before.filter(kept).length },
    duringAttack: { contacts: during.length, survived: during.filter(kept).length },
    realSightings: recent.length,
    survivedSightings: recent.filter(kept).length,
    recordsInLog: tokenLog.records.length,
    attackRecordsInLog: attackRecords,
    attackFlagged: attackFlaggedIn(tokenLog),
    droppedCounted: tokenLog.dropped,
    log: tokenLog,
    files: new Map(st.files)
  };
}

/** Whether tokenlog shows the attack: a flood flag, or records the token lost (what `match` reports next to its level). */
function attackFlaggedIn(log: TokenLog): boolean {
  const r = recentLosses(log);
  return r !== null && r.flood && r.sightings > 0;
}
