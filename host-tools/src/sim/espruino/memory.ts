/**
 * A token's RAM in Espruino's unit (JsVars): what is reachable from the
 * token's realm, counted by jsvar-estimate.ts, plus what the interpreter
 * holds for it (timers, watches, listeners, the scan callback). Gives the
 * bundle `process.memory()` and `E.getSizeOf()`, and the world a peak.
 *
 * Roots walked: the globals the bundle added or replaced (and keys it added
 * to built-in objects), every pending timer and watch with its callback and
 * arguments, event listeners, the scan callback and its filters, the raw
 * advertising data, and — while a callback runs — its arguments. A closure's
 * scopes are reached through its function object, which needs the bundle to
 * be instrumented (scope-instrument.ts; the token's `memory` option):
 * without it functions are counted alone and usage is far too low.
 *
 * Expected error against a real token (not measured on hardware): the
 * layout rules are Espruino's own, so plain data should be within a few
 * percent; the ±-terms are the interpreter's own state at boot
 * (BOOT_JSVARS, an assumption), whether the 2v2x Bluetooth code keeps the
 * scan filters and advertising data (counted here, ~10 JsVars), block-scoped
 * names (left out), and everything transient inside a call: scopes of
 * functions still running, temporaries, the lexer. Samples are taken when a
 * callback returns, so the peak is the peak between calls, not within one;
 * a call's own working set (e.g. the HKDF buffers of a key rotation) comes
 * on top and is freed when it returns.
 */
import type { BoardConfig } from "../../build/boards";
import { AnyFunction, EstimatorEnv, FunctionTag, JsVarBreakdown, JsVarCounter, ScopeRecord } from "./jsvar-estimate";
import { JsVarLayout, jsVarLayout } from "./jsvar-layout";
import type { Realm } from "./realm";
import { FUNCTION_HOOK, FunctionInfo, SCOPE_HOOK, instrumentScopes } from "./scope-instrument";

/**
 * What an empty 2v2x nRF52 token holds before any code runs: root and hidden
 * root, the timer and watch arrays and their names, Bluetooth state, the
 * objects (E, NRF…) that exist once code refers to them. An assumption of
 * the right order, not a measurement: keeps `free` from being optimistic.
 */
export const BOOT_JSVARS = 40;

/** What the emulation's modules hold for the bundle; Espruino keeps each of these in JsVars. */
export interface InterpreterRoots {
  timers(): Array<{ fn: unknown; args: readonly unknown[]; interval: boolean }>;
  watches(): Array<{ fn: unknown; fired: boolean }>;
  scan(): { cb: unknown; filters: unknown } | null;
  advertising(): unknown;
  listeners(): Array<{ target: object; event: string; fns: readonly unknown[] }>;
}

export interface MemoryUsage {
  /** JsVars in use (BOOT_JSVARS included). */
  jsVars: number;
  by: JsVarBreakdown & { boot: number };
  /** Live function objects and call scopes counted. */
  functions: number;
  scopes: number;
}

export interface MemoryPeak {
  jsVars: number;
  /** Token-local time (getTime()) of the sample. */
  at: number;
  by: MemoryUsage["by"];
}

/** The fields of Espruino's process.memory() we model. */
export interface ProcessMemory {
  free: number;
  usage: number;
  total: number;
  history: number;
  gc: number;
  gctime: number;
  blocksize: number;
}

export interface TokenMemoryOptions {
  board: BoardConfig;
  /** Instrument code to see closure scopes (slower; needed for a meaningful figure). */
  instrument: boolean;
  /** Sample after every n-th callback (0: never). */
  sampleEvery: number;
}

export class TokenMemory {
  readonly layout: JsVarLayout;
  peak: MemoryPeak | null = null;
  samples = 0;
  private tags = new WeakMap<AnyFunction, FunctionTag>();
  private natives = new WeakMap<object, Set<string>>();
  private builtinProtos = new Set<object>();
  private baseline = new Map<string, unknown>();
  private realm: Realm | undefined;
  private roots: InterpreterRoots | undefined;
  private consoleSources = 0;
  private callbacks = 0;

  constructor(private readonly o: TokenMemoryOptions) {
    this.layout = jsVarLayout(o.board.jsVars.count);
  }

  get instrumented(): boolean {
    return this.o.instrument;
  }

  /**
   * A new boot: remember what the realm offers before the bundle runs (those
   * are Espruino's built-ins, not RAM), install the scope hooks and give the
   * bundle process.memory() and E.getSizeOf().
   */
  attach(realm: Realm, roots: InterpreterRoots, modules: readonly object[], localNow: () => number): void {
    this.realm = realm;
    this.roots = roots;
    this.tags = new WeakMap();
    this.natives = new WeakMap();
    this.builtinProtos = new Set();
    this.consoleSources = 0;
    const g = realm.global;
    const R = realm.intrinsics;

    const proc = new R.Object() as Record<string, unknown>;
    proc.memory = (gc?: unknown): Record<string, unknown> => {
      const m = gc === false && !this.o.instrument ? this.quickMemory() : this.processMemory();
      const out = new R.Object() as Record<string, unknown>;
      for (const k of Object.keys(m)) out[k] = m[k as keyof ProcessMemory];
      return out;
    };
    proc.env = new R.Object();
    proc.version = "2v29";
    g.process = proc;
    const E = g.E as Record<string, unknown> | undefined;
    if (E) E.getSizeOf = (v: unknown): number => this.sizeOf(v);

    this.baseline.clear();
    for (const name of Object.getOwnPropertyNames(g)) this.baseline.set(name, g[name]);
    const markNative = (v: unknown, depth: number): void => {
      if (v === null || (typeof v !== "object" && typeof v !== "function")) return;
      const o = v as object;
      if (this.natives.has(o)) return;
      this.natives.set(o, new Set(Object.keys(o)));
      if (typeof v === "function") {
        const p = (v as { prototype?: unknown }).prototype;
        if (p !== null && typeof p === "object") {
          this.builtinProtos.add(p);
          markNative(p, depth + 1);
        }
      }
      if (depth < 2)
        for (const k of Object.getOwnPropertyNames(o)) {
          const d = Object.getOwnPropertyDescriptor(o, k);
          if (d && "value" in d) markNative(d.value, depth + 1);
        }
    };
    for (const v of this.baseline.values()) markNative(v, 0);
    for (const m of modules) markNative(m, 0);
    this.builtinProtos.add(Object.getPrototypeOf(R.Uint8Array.prototype) as object);

    if (this.o.instrument) this.installHooks("", false);
    this.localNow = localNow;
  }

  private localNow: () => number = () => 0;

  /** The code to run for `code` (boot code from flash, or console input held in RAM). */
  prepare(code: string, fromConsole: boolean): string {
    if (!this.o.instrument || !this.realm) return code;
    let suffix = "";
    if (fromConsole) {
      suffix = `c${++this.consoleSources}`;
      this.installHooks(suffix, true);
    }
    try {
      const r = instrumentScopes(code, suffix);
      this.functionTables.set(suffix, r.functions);
      return r.code;
    } catch {
      // Unparseable or already using our names: run it as it is (the realm reports the syntax error).
      return code;
    }
  }

  private functionTables = new Map<string, FunctionInfo[]>();

  private installHooks(suffix: string, codeInRam: boolean): void {
    const g = this.realm!.global;
    const table = (): FunctionInfo[] => this.functionTables.get(suffix) ?? [];
    const scopeHook = (id: number, parent: ScopeRecord | null, get: () => unknown[]): ScopeRecord => ({
      info: table()[id],
      parent,
      values: get
    });
    const tags = (): WeakMap<AnyFunction, FunctionTag> => this.tags;
    const fnHook = (fn: unknown, id: number, scope: ScopeRecord | null): unknown => {
      if (typeof fn === "function") tags().set(fn as AnyFunction, { info: table()[id], scope, codeInRam });
      return fn;
    };
    for (const [name, value] of [
      [SCOPE_HOOK + suffix, scopeHook],
      [FUNCTION_HOOK + suffix, fnHook]
    ] as const)
      Object.defineProperty(g, name, { value, writable: false, enumerable: false, configurable: true });
  }

  private env(): EstimatorEnv {
    return {
      layout: this.layout,
      tagOf: (f) => this.tags.get(f),
      nativeKeys: (o) => this.natives.get(o),
      isBuiltinPrototype: (p) => p === null || this.builtinProtos.has(p)
    };
  }

  /** JsVars in use now; `extra` are values held by the interpreter for a running call (its arguments). */
  usage(extra: readonly unknown[] = []): MemoryUsage {
    const c = new JsVarCounter(this.env());
    const realm = this.realm;
    if (realm && this.roots) {
      const g = realm.global;
      for (const name of Object.getOwnPropertyNames(g)) {
        if (name.startsWith(SCOPE_HOOK) || name.startsWith(FUNCTION_HOOK)) continue;
        const d = Object.getOwnPropertyDescriptor(g, name);
        if (!d || !("value" in d)) continue;
        const v = d.value as unknown;
        // The global object itself (`global`, `globalThis`) is the root these names live in.
        if (v === g) continue;
        if (this.baseline.has(name) && Object.is(this.baseline.get(name), v)) {
          // A built-in: RAM only for keys the bundle added to it.
          const keys = v !== null && typeof v === "object" ? this.natives.get(v) : undefined;
          if (keys && Object.keys(v as object).some((k) => !keys.has(k))) {
            c.add("system", c.nameVars(name.length));
            c.value(v as object);
          }
          continue;
        }
        c.slot("scopes", name, v);
      }
      this.interpreter(c, this.roots);
      for (const v of extra) c.held(v);
    }
    return { jsVars: BOOT_JSVARS + c.total, by: { ...c.by, boot: BOOT_JSVARS }, functions: c.functionCount, scopes: c.scopeCount };
  }

  private interpreter(c: JsVarCounter, r: InterpreterRoots): void {
    // setTimeout/setInterval: an element of the hidden timer array, an object with
    // "time", "callback" (and "interval", "args"): jswrap_interface.c.
    for (const t of r.timers()) {
      c.add("system", 2 + c.nameVars(4) + 1 + c.nameVars(8) + (t.interval ? c.nameVars(8) + 1 : 0));
      if (t.args.length) {
        c.add("system", c.nameVars(4));
        c.add("system", 1 + t.args.length);
        for (const a of t.args) c.held(a, true);
      }
      c.held(t.fn);
    }
    // setWatch: element + object with "pin", "recur", "debounce", "edge", "callback"; "lastTime" once it fired.
    for (const w of r.watches()) {
      c.add(
        "system",
        2 + (c.nameVars(3) + 1) + (c.nameVars(5) + 1) + c.nameVars(8) + c.nameVars(4) + c.nameVars(8) + (w.fired ? c.nameVars(8) + 1 : 0)
      );
      c.held(w.fn);
    }
    const scan = r.scan();
    if (scan) {
      c.add("system", c.nameVars("#onblescan".length));
      c.held(scan.cb);
      if (scan.filters !== undefined) {
        c.add("system", c.nameVars("filters".length));
        c.held(scan.filters);
      }
    }
    const adv = r.advertising();
    if (adv !== undefined) {
      c.add("system", c.nameVars("BLE_ADV_DATA".length));
      c.held(adv);
    }
    for (const l of r.listeners()) {
      if (this.natives.has(l.target)) c.add("system", 1);
      c.value(l.target);
      c.add("system", c.nameVars(3 + l.event.length));
      if (l.fns.length === 1) c.held(l.fns[0]);
      else {
        c.add("system", 1 + l.fns.length);
        for (const f of l.fns) c.held(f);
      }
    }
  }

  private quick: { at: number; m: ProcessMemory } | undefined;

  /**
   * process.memory(false), which the firmware asks before each scan window and
   * rotation: without instrumentation the estimate cannot see closures anyway,
   * so it is recomputed at most every 10 minutes of token time rather than
   * walking the heap at every call (that doubled the care home's run time).
   */
  private quickMemory(): ProcessMemory {
    const now = this.localNow();
    if (!this.quick || now - this.quick.at >= 600 || now < this.quick.at) this.quick = { at: now, m: this.processMemory() };
    return this.quick.m;
  }

  processMemory(): ProcessMemory {
    const usage = this.usage().jsVars;
    const total = this.layout.count;
    return { free: Math.max(0, total - usage), usage, total, history: 0, gc: 0, gctime: 0, blocksize: this.layout.blockBytes };
  }

  /** E.getSizeOf(v): JsVars of v and everything it holds. */
  sizeOf(v: unknown): number {
    const c = new JsVarCounter(this.env());
    if (v !== null && (typeof v === "object" || typeof v === "function")) c.value(v as object);
    else if (typeof v === "string") c.add("values", c.stringVars(v.length));
    else c.add("values", 1);
    return c.total;
  }

  /** Called when a callback returns (its arguments are still held): samples every n-th. */
  afterCallback(args: readonly unknown[]): void {
    if (this.o.sampleEvery <= 0 || ++this.callbacks % this.o.sampleEvery !== 0) return;
    this.sample(args);
  }

  sample(args: readonly unknown[] = []): MemoryUsage {
    const u = this.usage(args);
    this.samples++;
    if (!this.peak || u.jsVars > this.peak.jsVars) this.peak = { jsVars: u.jsVars, at: this.localNow(), by: u.by };
    return u;
  }
}
