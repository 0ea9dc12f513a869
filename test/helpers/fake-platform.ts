import * as crypto from "node:crypto";
import {
  HeardAdvert,
  LedColour,
  LINK_DATA,
  LINK_DOWN,
  LINK_TX_BYTES,
  LINK_UP,
  Platform,
  PlatformStorage
} from "../../firmware/src/platform-api";
import { fileFootprint } from "../../firmware/src/wire/storage";
import { Rng } from "../../host-tools/src/sim/prng";

/**
 * A fake `Platform` for firmware unit tests: virtual time, in-memory flash with
 * Espruino's Storage semantics and power-cut injection, recorded radio and LED
 * activity. Deterministic for a seed. Other specs may add to it; keep existing
 * members stable.
 */

/** Thrown by the fake storage when an injected power cut strikes, and by every write after it. */
export class PowerCut extends Error {
  constructor() {
    super("power cut");
    this.name = "PowerCut";
  }
}

/**
 * Storage as Espruino implements it on nRF52, at the level the firmware sees:
 * - a write at offset 0 (or with no offset) creates a new file (the old one
 *   becomes garbage until `compact()`); `size` reserves a fixed-size file whose
 *   unwritten bytes read 0xFF;
 * - a write at a non-zero offset goes in place into an existing file, and flash
 *   can only clear bits (new byte = old AND written), counted in `overwrites`;
 * - when a new file does not fit even after compaction, the write throws.
 * Power cuts: `cutAfter(n)` lets n more bytes reach flash, then throws
 * `PowerCut`; the storage then refuses everything until `revive()` (the reboot).
 */
export class FakeStorage implements PlatformStorage {
  readonly files = new Map<string, Uint8Array>();
  trashBytes = 0;
  /** Writes that changed a byte that was not erased (0xFF): a design error for append-only formats. */
  overwrites = 0;
  bytesWritten = 0;
  writeCalls = 0;
  compactions = 0;
  private cutBudget = -1;
  private dead = false;

  constructor(public capacityBytes = 28672) {}

  read(name: string): Uint8Array | undefined {
    this.alive();
    const f = this.files.get(name);
    return f ? f.slice() : undefined;
  }

  write(name: string, data: Uint8Array, offset?: number, size?: number): void {
    this.alive();
    if (name.length > 28) throw new Error(`Storage: name "${name}" is longer than 28 characters`);
    this.writeCalls++;
    const off = offset ?? 0;
    if (off === 0) {
      const len = size ?? data.length;
      if (data.length > len) throw new Error(`Storage: ${data.length} bytes do not fit a file of ${len}`);
      const old = this.files.get(name);
      const need = fileFootprint(len);
      // Espruino compacts by itself when a new file does not fit.
      if (need > this.getFree()) this.compact();
      if (need > this.getFree()) throw new Error("Unable to find or create file");
      if (old) {
        this.files.delete(name);
        this.trashBytes += fileFootprint(old.length);
      }
      this.files.set(name, new Uint8Array(len).fill(0xff));
    }
    const f = this.files.get(name);
    if (!f) throw new Error(`Storage: cannot write at offset ${off} of "${name}": no such file`);
    if (off + data.length > f.length) throw new Error(`Storage: write past the end of "${name}" (${off + data.length} > ${f.length})`);
    for (let i = 0; i < data.length; i++) {
      if (this.cutBudget === 0) {
        this.dead = true;
        this.cutBudget = -1;
        throw new PowerCut();
      }
      if (this.cutBudget > 0) this.cutBudget--;
      const old = f[off + i];
      const now = old & data[i];
      if (old !== 0xff && old !== data[i]) this.overwrites++;
      f[off + i] = now;
      this.bytesWritten++;
    }
  }

  erase(name: string): void {
    this.alive();
    const f = this.files.get(name);
    if (!f) return;
    this.files.delete(name);
    this.trashBytes += fileFootprint(f.length);
  }

  list(prefix: string): string[] {
    this.alive();
    return [...this.files.keys()].filter((n) => n.indexOf(prefix) === 0);
  }

  /** Bytes in files, live or garbage. */
  usedBytes(): number {
    let used = this.trashBytes;
    for (const f of this.files.values()) used += fileFootprint(f.length);
    return used;
  }

  getFree(): number {
    return this.capacityBytes - this.usedBytes();
  }

  compact(): void {
    this.alive();
    this.compactions++;
    this.trashBytes = 0;
  }

  /** Let `bytes` more bytes reach flash, then cut the power (the write in flight throws PowerCut). */
  cutAfter(bytes: number): void {
    this.cutBudget = bytes;
  }

  /** Power is back (the token reboots); flash keeps what was written. */
  revive(): void {
    this.dead = false;
    this.cutBudget = -1;
  }

  get isDead(): boolean {
    return this.dead;
  }

  private alive(): void {
    if (this.dead) throw new PowerCut();
  }
}

/** 32 random bits per call from the simulator's seeded `Rng`, so tests replay exactly. */
export function prng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.u32();
}

interface Timer {
  id: number;
  at: number;
  cb: () => void;
  every: number;
}

export interface AdvertRecord {
  /** Virtual ms since the fake started. */
  t: number;
  packet: Uint8Array;
  intervalMs: number;
  address: string;
  connectable: boolean;
}

export interface FakePlatformOptions {
  /** What now() returns at start (seconds); 0 is a lost clock. */
  startTime?: number;
  seed?: number;
  storage?: FakeStorage;
  battery?: number;
}

/**
 * The platform with virtual time: `advance(ms)` runs due timers in order.
 * Exceptions escaping a callback are kept in `uncaught` (Espruino prints them
 * and carries on), so a test can assert that none escaped.
 */
export class FakePlatform implements Platform {
  storage: FakeStorage;
  /** Virtual ms since this fake booted. */
  ms = 0;
  private wall0: number;
  private timers: Timer[] = [];
  private nextId = 1;
  readonly random32: () => number;
  batteryLevel: number;
  readonly ledState: Record<LedColour, boolean> = { red: false, green: false, blue: false };
  readonly ledLog: { t: number; colour: LedColour; on: boolean }[] = [];
  private buttonCb: ((ms: number) => void) | undefined;
  consoleLocked = false;
  watchdog = { enabled: false, timeoutSec: 0, lastKickMs: -1, kicks: 0 };
  address = "";
  addressLog: { t: number; address: string }[] = [];
  advertising: AdvertRecord | null = null;
  advertLog: AdvertRecord[] = [];
  txPower: number | undefined;
  private scanCb: ((a: HeardAdvert) => void) | null = null;
  scanStarts = 0;
  scanMs = 0;
  private scanSince = -1;
  readonly uncaught: Error[] = [];

  constructor(opts: FakePlatformOptions = {}) {
    this.wall0 = opts.startTime ?? 1735732800; // 2025-01-01 12:00 UTC
    this.storage = opts.storage ?? new FakeStorage();
    this.random32 = prng(opts.seed ?? 1);
    this.batteryLevel = opts.battery ?? 90;
  }

  now(): number {
    return this.wall0 + this.ms / 1000;
  }
  setTime(t: number): void {
    this.wall0 = t - this.ms / 1000;
  }
  led(colour: LedColour, on: boolean): void {
    if (this.ledState[colour] === on) return;
    this.ledState[colour] = on;
    this.ledLog.push({ t: this.ms, colour, on });
  }
  onButton(cb: (pressMs: number) => void): void {
    this.buttonCb = cb;
  }
  /** The wearer presses for `pressMs`; the release is reported after that virtual time. */
  pressButton(pressMs: number): void {
    this.advance(pressMs);
    const cb = this.buttonCb;
    if (cb) this.run(() => cb(pressMs));
  }
  setTimeout(cb: () => void, ms: number): number {
    return this.addTimer(cb, ms, 0);
  }
  clearTimeout(id: number): void {
    this.timers = this.timers.filter((t) => t.id !== id);
  }
  setInterval(cb: () => void, ms: number): number {
    return this.addTimer(cb, ms, Math.max(1, ms));
  }
  clearInterval(id: number): void {
    this.clearTimeout(id);
  }
  battery(): number {
    return this.batteryLevel;
  }
  lockConsole(): void {
    this.consoleLocked = true;
  }
  enableWatchdog(timeoutSec: number): void {
    this.watchdog.enabled = true;
    this.watchdog.timeoutSec = timeoutSec;
    this.watchdog.lastKickMs = this.ms;
  }
  kickWatchdog(): void {
    this.watchdog.lastKickMs = this.ms;
    this.watchdog.kicks++;
  }
  private linkCb: ((event: number, data?: Uint8Array) => void) | undefined;
  /** Bytes the firmware sent over the link, one entry per linkWrite. */
  readonly linkSent: Uint8Array[] = [];
  linkOpen = false;
  onLink(cb: (event: number, data?: Uint8Array) => void): void {
    this.linkCb = cb;
  }
  linkWrite(data: Uint8Array): boolean {
    if (!this.linkOpen || data.length > LINK_TX_BYTES) return false;
    this.linkSent.push(Uint8Array.from(data));
    return true;
  }
  linkClose(): void {
    if (!this.linkOpen) return;
    this.linkOpen = false;
    const cb = this.linkCb;
    if (cb) this.run(() => cb(LINK_DOWN));
  }
  /** A central connects / writes bytes / leaves, as the radio would report it. */
  centralConnects(): void {
    this.linkOpen = true;
    const cb = this.linkCb;
    if (cb) this.run(() => cb(LINK_UP));
  }
  centralWrites(data: Uint8Array): void {
    const cb = this.linkCb;
    if (this.linkOpen && cb) this.run(() => cb(LINK_DATA, Uint8Array.from(data)));
  }
  centralLeaves(): void {
    this.linkClose();
  }
  /** What `freeJsVars()` answers: set it low to play a token short of memory. */
  free = 2000;
  freeJsVars(): number {
    return this.free;
  }
  sha256(data: Uint8Array): Uint8Array {
    return new Uint8Array(crypto.createHash("sha256").update(data).digest());
  }
  aes128Ecb(block: Uint8Array, key: Uint8Array): Uint8Array {
    const c = crypto.createCipheriv("aes-128-ecb", key, null);
    c.setAutoPadding(false);
    return new Uint8Array(Buffer.concat([c.update(block), c.final()]));
  }
  setAdvertising(packet: Uint8Array, intervalMs: number): void {
    if (packet.length > 31) throw new Error(`advert of ${packet.length} bytes > 31`);
    this.putAdvert(packet.slice(), intervalMs, false);
  }
  stopAdvertising(): void {
    this.advertising = null;
  }
  setSyncWindow(open: boolean): void {
    if (this.advertising) this.putAdvert(this.advertising.packet, this.advertising.intervalMs, open);
  }
  setAddress(address: string): void {
    if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5} random$/.test(address)) throw new Error(`bad address "${address}"`);
    this.address = address;
    this.addressLog.push({ t: this.ms, address });
  }
  setTxPower(dBm: number): void {
    this.txPower = dBm;
  }
  startScan(cb: (a: HeardAdvert) => void): void {
    if (!this.scanCb) this.scanSince = this.ms;
    this.scanCb = cb;
    this.scanStarts++;
  }
  stopScan(): void {
    if (this.scanCb) this.scanMs += this.ms - this.scanSince;
    this.scanCb = null;
  }
  get scanning(): boolean {
    return this.scanCb !== null;
  }
  /** A GAEN advert reaches the radio: handed to the scan callback only while scanning. */
  deliver(rssi: number, serviceData: Uint8Array): boolean {
    const cb = this.scanCb;
    if (!cb) return false;
    this.run(() => cb({ rssi, serviceData }));
    return true;
  }

  /** Run virtual time forward, firing due timers in time order. */
  advance(ms: number): void {
    const end = this.ms + ms;
    for (;;) {
      let next: Timer | undefined;
      for (const t of this.timers) if (t.at <= end && (!next || t.at < next.at || (t.at === next.at && t.id < next.id))) next = t;
      if (!next) break;
      this.ms = Math.max(this.ms, next.at);
      const t = next;
      if (t.every) t.at += t.every;
      else this.timers = this.timers.filter((x) => x !== t);
      this.run(t.cb);
    }
    this.ms = end;
  }
  advanceSeconds(s: number): void {
    this.advance(s * 1000);
  }
  /** Timers pending (a crashed or stalled token has none left). */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /**
   * Power cut and reboot: RAM (timers, radio state) is lost, flash is kept, the
   * clock restarts at 0 (lost) unless `keepClock`. Returns a new fake for the
   * rebooted token sharing this storage.
   */
  reboot(opts: { keepClock?: boolean; seed?: number } = {}): FakePlatform {
    this.timers = [];
    this.scanCb = null;
    this.advertising = null;
    this.storage.revive();
    return new FakePlatform({
      startTime: opts.keepClock ? this.now() : 0,
      seed: opts.seed ?? this.random32(),
      storage: this.storage,
      battery: this.batteryLevel
    });
  }

  private addTimer(cb: () => void, ms: number, every: number): number {
    const id = this.nextId++;
    this.timers.push({ id, at: this.ms + Math.max(0, ms), cb, every });
    return id;
  }

  private putAdvert(packet: Uint8Array, intervalMs: number, connectable: boolean): void {
    const rec: AdvertRecord = { t: this.ms, packet, intervalMs, address: this.address, connectable };
    this.advertising = rec;
    this.advertLog.push(rec);
  }

  private run(cb: () => void): void {
    try {
      cb();
    } catch (e) {
      if (e instanceof PowerCut) throw e;
      this.uncaught.push(e as Error);
    }
  }
}
