/**
 * One emulated token: a board (from its config), a flash that outlives
 * reboots and power cuts, and per boot a fresh Espruino realm running the
 * boot code from Storage (`.bootcde`), exactly as a token boots.
 */
import type { BoardConfig } from "../../build/boards";
import type { Central, CentralLink, EmulatedToken, EnergyCounters, RadioPort, ReceivedAdvert, SimScheduler, TokenClock } from "../types";
import { bootSource } from "./boot-code";
import { createCryptoModule } from "./crypto-module";
import { ConsoleState, EModule, installE } from "./e-module";
import { Flash, FlashWear } from "./flash";
import { NrfModule, installNrf } from "./nrf-module";
import { Pins, createPins } from "./pins";
import { Screen, createScreen } from "./graphics";
import { HwRng } from "../prng";
import { PROMISE_SHIM } from "./promise-shim";
import { createRealm } from "./realm";
import { TokenRuntime } from "./runtime";
import { EspruinoStorage } from "./storage";
import { createStorageModule } from "./storage-module";
import { TimerList, installTimers } from "./timers";
import { MemoryPeak, MemoryUsage, ProcessMemory, TokenMemory } from "./memory";
import { bytesToString, toBytes } from "./values";

/** Where Espruino keeps the code it runs at boot. */
export const BOOT_FILE = ".bootcde";

export interface EmulatedTokenOptions {
  id: string;
  board: BoardConfig;
  /** The JS source of dist/firmware/<board>.js. */
  bundle: string;
  scheduler: SimScheduler;
  clock: TokenClock;
  radio: RadioPort;
  seed: number;
  /** An existing flash to keep (a token re-created with the same flash keeps its files). */
  storage?: Flash;
  /**
   * Store the bundle as `.bootcde` in the token's Storage and boot from there
   * (default), so the firmware's own size counts against the log's space and a
   * corrupted Storage loses the firmware too. Off by default on boards whose
   * Storage is shared (the modelled slice is the log's share only).
   */
  bootFromStorage?: boolean;
  /** Files provisioning puts in Storage before the first boot (the token's secrets, pt.sec). */
  files?: ReadonlyMap<string, Uint8Array>;
  /** Battery percentage now (default 100). */
  battery?: () => number;
  /** Die temperature in °C now (default 22). */
  temperature?: () => number;
  /**
   * Measure RAM in JsVars (memory.ts): instruments the code so closure scopes
   * can be counted, and samples the usage after every `sampleEvery`-th
   * callback (default 1; 0 = only on request) into `memoryPeak`. Without it,
   * `process.memory()` still answers, but cannot see closures.
   */
  memory?: boolean | { sampleEvery?: number };
}

export interface ResetCounts {
  reboots: number;
  watchdog: number;
  powerCuts: number;
}

export class EspruinoToken implements EmulatedToken {
  readonly id: string;
  readonly boardId: string;
  readonly flash: Flash;
  readonly storage: EspruinoStorage;
  readonly resets: ResetCounts = { reboots: 0, watchdog: 0, powerCuts: 0 };
  /** Times the bundle was started. */
  boots = 0;
  private readonly rt: TokenRuntime;
  private readonly prng: HwRng;
  private readonly pins: Pins;
  private readonly screen: Screen;
  private readonly factoryAddress: string;
  private readonly flashBaseline: number;
  private nrf: NrfModule | undefined;
  private e: EModule | undefined;
  private timers: TimerList | undefined;
  private readonly mem: TokenMemory;
  private readonly bootFromStorage: boolean;

  constructor(private readonly opts: EmulatedTokenOptions) {
    const { board } = opts;
    this.id = opts.id;
    this.boardId = board.id;
    this.rt = new TokenRuntime(opts.scheduler, opts.clock);
    this.prng = new HwRng(opts.seed);
    this.pins = createPins(board, this.rt);
    this.screen = createScreen(board, this.rt);
    const capacity = board.storage.shared && board.storage.dataBytes ? board.storage.dataBytes : board.storage.bytes;
    this.flash = opts.storage ?? new Flash(capacity, board.storage.pageBytes);
    if (this.flash.size !== capacity || this.flash.pageBytes !== board.storage.pageBytes)
      throw new RangeError(
        `token ${opts.id}: the given flash is ${this.flash.size} B in ${this.flash.pageBytes} B pages; board ${board.id} needs ${capacity} B in ${board.storage.pageBytes} B pages`
      );
    this.storage = new EspruinoStorage(this.flash);
    this.flash.onPowerCut = () => this.powerCut();
    // The factory address: random static (top two bits 11), fixed per token.
    const a = [this.prng.nextU32(), this.prng.nextU32()];
    const bytes = [((a[1] >>> 8) & 0xff) | 0xc0, a[1] & 0xff, a[0] >>> 24, (a[0] >>> 16) & 0xff, (a[0] >>> 8) & 0xff, a[0] & 0xff];
    this.factoryAddress = bytes.map((b) => (b < 16 ? "0" : "") + b.toString(16)).join(":");
    this.bootFromStorage = opts.bootFromStorage ?? !board.storage.shared;
    if (this.bootFromStorage && opts.bundle.length > 0) this.storage.write(BOOT_FILE, toBytes(opts.bundle)!);
    for (const [name, bytes] of opts.files ?? [])
      if (!this.storage.write(name, bytes)) throw new RangeError(`token ${opts.id}: no room in Storage for ${name} (${bytes.length} B)`);
    this.flashBaseline = this.flash.bytesWritten;
    const m = opts.memory;
    this.mem = new TokenMemory({
      board,
      instrument: m !== undefined && m !== false,
      sampleEvery: m === undefined || m === false ? 0 : m === true ? 1 : (m.sampleEvery ?? 1)
    });
  }

  /** JsVars in use now (see memory.ts for what is counted and its error). */
  memoryUsage(): MemoryUsage {
    return this.mem.usage();
  }

  /** What process.memory() would say now. */
  processMemory(): ProcessMemory {
    return this.mem.processMemory();
  }

  /** The highest usage sampled so far (across boots), null before the first sample or without the `memory` option. */
  get memoryPeak(): MemoryPeak | null {
    return this.mem.peak;
  }

  /** Usage samples taken so far. */
  get memorySamples(): number {
    return this.mem.samples;
  }

  get counters(): EnergyCounters {
    if (this.nrf && !this.rt.dead) this.nrf.accrue();
    this.rt.counters.flashBytesWritten = this.flash.bytesWritten - this.flashBaseline;
    return this.rt.counters;
  }

  get uncaught(): Error[] {
    return this.rt.uncaught;
  }

  /** Console output (print, console.log, uncaught errors), last 1000 lines. */
  get output(): string[] {
    return this.rt.output;
  }

  get alive(): boolean {
    return !this.rt.dead;
  }

  /** The address on the air now ("c1:…:66 random"). */
  get address(): string {
    return this.nrf ? this.nrf.address : `${this.factoryAddress} random`;
  }

  get console(): ConsoleState | undefined {
    return this.e?.console;
  }

  /** Timers pending in the current boot. */
  timerCount(): number {
    return this.timers ? this.timers.count() : 0;
  }

  wear(): FlashWear {
    return this.flash.wear();
  }

  /** Make the `n`-th flash byte written from now on the last one: the token then loses power. */
  cutAfterBytes(n: number): void {
    this.flash.cutAfterBytes(n);
  }

  deliver(advert: ReceivedAdvert): void {
    if (this.nrf) this.nrf.deliver(advert);
  }

  pressButton(ms: number): void {
    this.pins.setButton(true);
    // The finger is physical: it lifts even if the token reboots meanwhile.
    this.opts.scheduler.at(this.opts.scheduler.now + Math.max(0, ms) / 1000, () => this.pins.setButton(false));
  }

  leds(): { red: boolean; green: boolean; blue: boolean } {
    // A board with no LED shows its signals on the screen: report that light.
    const l = this.opts.board.leds;
    if (!l.red && !l.green && !l.blue && this.opts.board.screen)
      return this.alive ? this.screen.colour() : { red: false, green: false, blue: false };
    return { red: this.pins.ledColour("red"), green: this.pins.ledColour("green"), blue: this.pins.ledColour("blue") };
  }

  connect(central: Central): CentralLink | null {
    return this.nrf ? this.nrf.connect(central) : null;
  }

  /**
   * Run JavaScript in the running token, as typed at its console (tests and
   * tools use it to look inside). Exceptions propagate to the caller.
   */
  evaluate(code: string): unknown {
    if (this.rt.dead) throw new Error(`token ${this.id} is not running`);
    return this.rt.realm.run(this.mem.prepare(code, true), "console");
  }

  powerCut(): void {
    if (this.rt.dead) return;
    this.resets.powerCuts++;
    this.stop();
  }

  private stop(): void {
    if (this.nrf) this.nrf.shutdown();
    this.rt.dead = true;
    this.rt.dropRam();
    this.nrf = undefined;
    this.e = undefined;
    this.timers = undefined;
  }

  /** A chip reset (E.reboot, watchdog): RAM lost, boot code runs again; power and flash stay. */
  private reset(reason: "reboot" | "watchdog"): void {
    if (reason === "reboot") {
      this.resets.reboots++;
      if (this.e) this.e.emitKill();
    } else this.resets.watchdog++;
    this.stop();
    // The calling JS (if any) unwinds first: every native now throws until the new boot.
    this.opts.scheduler.at(this.opts.scheduler.now, () => {
      if (this.rt.dead) this.boot();
    });
  }

  boot(): void {
    if (!this.rt.dead) this.stop();
    const rt = this.rt;
    rt.dropRam();
    rt.dead = false;
    this.boots++;
    const realm = createRealm();
    rt.realm = realm;
    rt.installEventMethods();
    const g = realm.global;
    if (!this.storage.isValid()) {
      // Espruino checks Storage at boot and wipes it when a header is corrupt.
      rt.print("Storage is corrupt.");
      this.storage.eraseAll();
    }
    const guard = (): void => rt.guard();
    const storageModule = createStorageModule({
      storage: this.storage,
      boardStorageBytes: this.opts.board.storage.bytes,
      R: realm.intrinsics,
      guard
    });
    const cryptoModule = createCryptoModule(this.opts.board, realm.intrinsics, rt.counters, guard);
    this.timers = installTimers(rt, g);
    this.pins.install(g);
    this.screen.install(g);
    this.e = installE(
      rt,
      this.prng,
      {
        reset: (reason) => this.reset(reason),
        battery: this.opts.battery ?? (() => 100),
        temperature: this.opts.temperature ?? (() => 22)
      },
      g,
      (name) => {
        if (name === "Storage") return storageModule;
        if (name === "crypto") return cryptoModule;
        throw new realm.intrinsics.Error(`Module ${name} not found`);
      }
    );
    this.nrf = installNrf({
      board: this.opts.board,
      rt,
      radio: this.opts.radio,
      factoryAddress: this.factoryAddress,
      consoleState: this.e.console,
      g,
      evalConsole: (code) => {
        try {
          const v = realm.run(this.mem.prepare(code, true), "console");
          if (v !== undefined) rt.print(`=${String(v)}`);
        } catch (e) {
          rt.print(`Uncaught ${String(e)}`);
        }
      }
    });
    const makePromise = realm.run(PROMISE_SHIM, "promise.js") as (defer: (fn: () => void) => void) => unknown;
    g.Promise = makePromise((fn) => rt.schedule(rt.scheduler.now, () => rt.call(fn, undefined, [])));
    this.nrf.start();
    const nrf = this.nrf;
    const timers = this.timers;
    this.mem.attach(
      realm,
      {
        timers: () => timers.list(),
        watches: () => this.pins.watchList(),
        scan: () => nrf.scanHeld(),
        advertising: () => nrf.advertisingHeld(),
        listeners: () => rt.listenerEntries()
      },
      [storageModule, cryptoModule],
      () => rt.localNow()
    );
    rt.onCallbackEnd = this.mem.instrumented ? (args) => this.mem.afterCallback(args) : null;

    let code: string | undefined = this.opts.bundle;
    if (this.bootFromStorage) {
      const b = this.storage.read(BOOT_FILE);
      code = b === undefined ? undefined : bytesToString(b);
    }
    if (code !== undefined) {
      try {
        realm.run(bootSource(realm, this.mem.prepare(code, false)), `${this.opts.board.id}.js`);
      } catch (e) {
        rt.reportUncaught(e);
      }
    }
    if (!rt.dead && this.e) this.e.emitInit();
  }
}

export function createEmulatedToken(opts: EmulatedTokenOptions): EspruinoToken {
  return new EspruinoToken(opts);
}
