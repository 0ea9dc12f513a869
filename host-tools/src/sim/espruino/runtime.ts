/**
 * What every emulated native shares within one token: the scheduler and the
 * token's clock, the current boot's realm, the "is the token alive" guard,
 * the callback trampoline (counts callbacks, records uncaught exceptions and
 * carries on, as Espruino does) and Espruino's event methods (`obj.on`,
 * `obj.emit`… which Espruino puts on every object).
 */
import type { EnergyCounters, SimScheduler, TokenClock } from "../types";
import { PowerCutError } from "./flash";
import type { Realm } from "./realm";

type Listener = (...args: unknown[]) => unknown;

/** Lines of console output kept per token (a 14-day run must not grow without bound). */
const OUTPUT_LINES_KEPT = 1000;

export class TokenRuntime {
  /** Incremented on every boot and every power loss: callbacks of an older boot never run. */
  generation = 0;
  dead = true;
  realm!: Realm;
  readonly uncaught: Error[] = [];
  readonly output: string[] = [];
  readonly counters: EnergyCounters = { callbacks: 0, sha256Calls: 0, aesBlocks: 0, advertEvents: 0, scanMs: 0, flashBytesWritten: 0 };
  private owned = new Set<number>();
  /** Cleared on every boot (RAM lost); a Map (not weak) so the memory model can list what is held. */
  private listeners = new Map<object, Map<string, Listener[]>>();
  /** Runs when a callback returned, while its arguments are still held (memory sampling). */
  onCallbackEnd: ((args: readonly unknown[]) => void) | null = null;

  constructor(
    readonly scheduler: SimScheduler,
    readonly clock: TokenClock
  ) {}

  /** What getTime() returns now. */
  localNow(): number {
    return this.clock.local(this.scheduler.now);
  }

  /** True time at which `ms` milliseconds of the token's own clock will have passed. */
  trueAfterMs(ms: number): number {
    const now = this.scheduler.now;
    const t = this.clock.trueAt(this.clock.local(now) + ms / 1000);
    return t < now ? now : t;
  }

  /** Schedule work that belongs to the current boot: dropped if the token reboots or loses power first. */
  schedule(trueTime: number, fn: () => void): number {
    const gen = this.generation;
    const id = this.scheduler.at(trueTime, () => {
      this.owned.delete(id);
      if (gen === this.generation && !this.dead) fn();
    });
    this.owned.add(id);
    return id;
  }

  unschedule(id: number): void {
    if (this.owned.delete(id)) this.scheduler.cancel(id);
  }

  /** RAM is gone: forget every pending callback of this boot. */
  dropRam(): void {
    this.generation++;
    for (const id of this.owned) this.scheduler.cancel(id);
    this.owned.clear();
    this.listeners = new Map();
  }

  /** Every native calls this first: a dead token does nothing (and the JS that called it stops). */
  guard(): void {
    if (this.dead) throw new PowerCutError(-1);
  }

  /** Run a JS callback of the bundle as Espruino's event loop does. */
  call(fn: unknown, thisArg: unknown, args: readonly unknown[]): void {
    if (this.dead || typeof fn !== "function") return;
    this.counters.callbacks++;
    try {
      (fn as Listener).apply(thisArg, args as unknown[]);
    } catch (e) {
      this.reportUncaught(e);
    }
    if (this.onCallbackEnd !== null && !this.dead) this.onCallbackEnd(args);
  }

  /** Every event listener held now (for the memory model). */
  listenerEntries(): Array<{ target: object; event: string; fns: readonly unknown[] }> {
    const out: Array<{ target: object; event: string; fns: readonly unknown[] }> = [];
    for (const [target, m] of this.listeners) for (const [event, fns] of m) if (fns.length) out.push({ target, event, fns });
    return out;
  }

  reportUncaught(e: unknown): void {
    if (e instanceof PowerCutError || this.dead) return;
    const err = e !== null && typeof e === "object" && "message" in (e as object) ? (e as Error) : new Error(`Uncaught ${String(e)}`);
    this.uncaught.push(err);
    this.print(`Uncaught ${err.name ?? "Error"}: ${err.message}`);
  }

  print(line: string): void {
    this.output.push(line);
    if (this.output.length > OUTPUT_LINES_KEPT) this.output.splice(0, this.output.length - OUTPUT_LINES_KEPT);
  }

  // ------------------------------------------------------------ events (Object.prototype.on/emit in Espruino)

  on(target: object, event: string, fn: Listener): void {
    let m = this.listeners.get(target);
    if (!m) this.listeners.set(target, (m = new Map()));
    const list = m.get(event);
    if (list) list.push(fn);
    else m.set(event, [fn]);
  }

  removeListener(target: object, event: string, fn: Listener): void {
    const list = this.listeners.get(target)?.get(event);
    if (!list) return;
    const i = list.indexOf(fn);
    if (i >= 0) list.splice(i, 1);
  }

  removeAllListeners(target: object, event?: string): void {
    if (event === undefined) this.listeners.delete(target);
    else this.listeners.get(target)?.delete(event);
  }

  hasListeners(target: object, event: string): boolean {
    const list = this.listeners.get(target)?.get(event);
    return list !== undefined && list.length > 0;
  }

  /** Run each listener as its own callback (one failing listener does not stop the others). */
  emit(target: object, event: string, args: readonly unknown[]): void {
    const list = this.listeners.get(target)?.get(event);
    if (!list) return;
    for (const fn of list.slice()) this.call(fn, target, args);
  }

  /** Give every object of the realm Espruino's on/emit/removeListener/removeAllListeners. */
  installEventMethods(): void {
    // The methods below run with the emitter as `this`; they reach the runtime through rt.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const rt = this;
    const proto = this.realm.intrinsics.Object.prototype;
    const def = (name: string, value: (this: object, ...a: unknown[]) => unknown): void => {
      Object.defineProperty(proto, name, { value, writable: true, configurable: true, enumerable: false });
    };
    def("on", function (event, fn) {
      rt.on(this, String(event), fn as Listener);
    });
    def("addListener", function (event, fn) {
      rt.on(this, String(event), fn as Listener);
    });
    def("prependListener", function (event, fn) {
      rt.on(this, String(event), fn as Listener);
    });
    def("removeListener", function (event, fn) {
      rt.removeListener(this, String(event), fn as Listener);
    });
    def("removeAllListeners", function (event) {
      rt.removeAllListeners(this, event === undefined ? undefined : String(event));
    });
    def("emit", function (event, ...args) {
      rt.emit(this, String(event), args);
    });
  }
}
