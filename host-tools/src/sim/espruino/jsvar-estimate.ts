/**
 * Counts the JsVars a set of live values would take on Espruino 2v2x, by
 * Espruino's representation (sources: Espruino src/jsvar.h, src/jsutils.h,
 * src/jsvar.c jsvMakeIntoVariableName / jsvNewFlatStringOfLength,
 * src/jsparse.c jspeFunctionDefinitionInternal / jspeFunctionCall /
 * jspeiGetScopesAsVar, src/jswrap_interface.c setTimeout / setWatch, and the
 * espruino.com "Internals" and "Performance" pages):
 *
 * - every object, array and function is 1 JsVar;
 * - every property or variable is a name JsVar (4 characters fit; each
 *   extension holds `extChars` more) that links to its value; an integer in
 *   the packed range (−2048…2047 on a Puck.js) is held in the name itself, as
 *   is a boolean element of an array; undefined costs nothing; any other
 *   number, boolean, null is 1 more JsVar;
 * - a string is 1 JsVar for its first `stringChars` characters plus one per
 *   `extChars` more;
 * - an ArrayBuffer is 1 JsVar plus its bytes in a flat string (1 header +
 *   ⌈bytes / blockBytes⌉) above the flat break-even, else a normal string; a
 *   typed array or DataView is 1 more JsVar that links to its buffer;
 * - a function is 1 JsVar, plus per parameter a name ("\xFF" + name), plus
 *   "\xFFcod" and its code: a native string pointing into flash (1 JsVar) when
 *   the code runs from Storage on nRF52 (.bootcde is memory-mapped, so the
 *   lexer's source is a native string and each function's code is a slice
 *   of it; 2v2x pretokenises into RAM only for functions marked "ram"), else
 *   the code text as a string; plus "\xFFsco" linking to its defining scope —
 *   directly when defined one function deep, else through a fresh array of
 *   the scope chain (1 + one name per level) per function object; plus
 *   "\xFFnam" and the name for a named function expression;
 * - a scope (one call of a function, kept while any closure made in it
 *   lives) is 1 JsVar plus a name per parameter, var and inner function
 *   declaration, plus "\xFFrtn" which stays behind after the call.
 *
 * Values reachable twice are counted once (Espruino shares them by reference).
 */
import type { JsVarLayout } from "./jsvar-layout";
import type { FunctionInfo } from "./scope-instrument";

/** Any function of the emulated program, whatever its signature. */
export type AnyFunction = (...args: never[]) => unknown;

/** One call's scope, as the instrumented bundle reports it. */
export interface ScopeRecord {
  info: FunctionInfo;
  parent: ScopeRecord | null;
  /** Current values of info.scopeNames, in order. */
  values(): unknown[];
}

/** What a function object was tagged with at creation. */
export interface FunctionTag {
  info: FunctionInfo;
  scope: ScopeRecord | null;
  /** The function's code is in RAM (console input), not in flash. */
  codeInRam: boolean;
}

/** Where each JsVar went (a rough guide to what dominates: shared values count where first met). */
export interface JsVarBreakdown {
  /** Call scopes: the scope JsVar, its names and its packed values. */
  scopes: number;
  /** Function objects: their JsVar, parameter names, "\xFFcod" and its code. */
  functions: number;
  /** Each function's "\xFFsco" and, for functions defined two or more calls deep, its copy of the scope chain. */
  scopeLinks: number;
  /** Objects and arrays: their JsVar and their property names. */
  objects: number;
  /** Typed arrays, ArrayBuffers and their data. */
  binary: number;
  /** Strings and numbers/booleans/null that did not pack into a name. */
  values: number;
  /** Interpreter records for timers, watches, event listeners, the scan callback and advertising data. */
  system: number;
}

export type BreakdownKind = keyof JsVarBreakdown;

export interface EstimatorEnv {
  layout: JsVarLayout;
  tagOf(fn: AnyFunction): FunctionTag | undefined;
  /**
   * Emulation-provided objects (E, NRF, modules, pins…): in Espruino they are
   * built in, 1 JsVar once referenced; returns the keys they had built in so
   * that only keys the bundle added are counted, or undefined if not native.
   */
  nativeKeys(o: object): ReadonlySet<string> | undefined;
  /** Prototypes Espruino does not store per object (Object/Array/Function… of the realm). */
  isBuiltinPrototype(p: object | null): boolean;
}

const INDEX = /^(?:0|[1-9]\d{0,9})$/;

export class JsVarCounter {
  total = 0;
  readonly by: JsVarBreakdown = { scopes: 0, functions: 0, scopeLinks: 0, objects: 0, binary: 0, values: 0, system: 0 };
  /** Function objects and call scopes met (instances, not definitions). */
  functionCount = 0;
  scopeCount = 0;
  private readonly seen = new Set<unknown>();
  private readonly L: JsVarLayout;

  constructor(private readonly env: EstimatorEnv) {
    this.L = env.layout;
  }

  add(kind: BreakdownKind, n: number): void {
    this.total += n;
    this.by[kind] += n;
  }

  /** JsVars of a name of `chars` characters. */
  nameVars(chars: number): number {
    return chars <= this.L.nameChars ? 1 : 1 + Math.ceil((chars - this.L.nameChars) / this.L.extChars);
  }

  /** JsVars of a string value of `chars` characters. */
  stringVars(chars: number): number {
    return chars <= this.L.stringChars ? 1 : 1 + Math.ceil((chars - this.L.stringChars) / this.L.extChars);
  }

  /** JsVars of `bytes` of ArrayBuffer data (flat when large enough). */
  dataVars(bytes: number): number {
    return bytes > this.L.flatBreakEven ? 1 + Math.ceil(bytes / this.L.blockBytes) : this.stringVars(bytes);
  }

  /** A name (property, variable, array index) and the value it holds. */
  slot(kind: BreakdownKind, name: string, value: unknown): void {
    const isIndex = INDEX.test(name);
    this.add(kind, isIndex ? 1 : this.nameVars(name.length));
    this.held(value, isIndex);
  }

  /** The value a name holds: packed into the name, one more JsVar, or a reference. */
  held(value: unknown, intName = false): void {
    switch (typeof value) {
      case "undefined":
        return;
      case "number":
        if (Number.isInteger(value) && value >= this.L.packedMin && value <= this.L.packedMax) return;
        this.add("values", 1);
        return;
      case "boolean":
        if (!intName) this.add("values", 1);
        return;
      case "string":
        this.add("values", this.stringVars(value.length));
        return;
      case "object":
      case "function":
        if (value === null) this.add("values", 1);
        else this.value(value as object);
        return;
      default:
        this.add("values", 1);
    }
  }

  /** An object, array, function or buffer: counted the first time it is met. */
  value(o: object): void {
    if (this.seen.has(o)) return;
    this.seen.add(o);
    const natives = this.env.nativeKeys(o);
    if (natives) {
      this.add("system", 1);
      this.ownProps("objects", o, natives);
      return;
    }
    const tag = Object.prototype.toString.call(o);
    if (tag === "[object ArrayBuffer]") {
      this.add("binary", 1 + this.dataVars((o as ArrayBuffer).byteLength));
      return;
    }
    if (ArrayBuffer.isView(o)) {
      this.add("binary", 1);
      this.value(o.buffer);
      return;
    }
    if (typeof o === "function") {
      this.fn(o as AnyFunction);
      return;
    }
    this.add("objects", 1);
    this.ownProps("objects", o, undefined);
    if (!Array.isArray(o)) {
      const proto = Object.getPrototypeOf(o) as object | null;
      if (!this.env.isBuiltinPrototype(proto)) {
        this.add("objects", this.nameVars("__proto__".length));
        if (proto) this.value(proto);
      }
    }
  }

  /** Own enumerable data properties (accessors are not read: that would run bundle code). */
  private ownProps(kind: BreakdownKind, o: object, skip: ReadonlySet<string> | undefined): void {
    const keys = Object.keys(o);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      if (skip && skip.has(k)) continue;
      const d = Object.getOwnPropertyDescriptor(o, k);
      if (!d) continue;
      if ("value" in d) this.slot(kind, k, d.value);
      else {
        this.add(kind, this.nameVars(k.length));
        if (d.get) this.value(d.get);
        if (d.set) this.value(d.set);
      }
    }
  }

  private fn(f: AnyFunction): void {
    const t = this.env.tagOf(f);
    if (!t) {
      // A native (emulation) function, or a bundle function that could not be tagged.
      this.add("functions", 1);
      this.ownProps("functions", f, undefined);
      return;
    }
    this.functionCount++;
    let n = 1;
    for (const p of t.info.params) n += this.nameVars(p.length + 1);
    n += 1; // "\xFFcod"
    n += t.codeInRam || t.info.ram ? this.dataVars(t.info.codeChars) : 1;
    let depth = 0;
    for (let s = t.scope; s; s = s.parent) depth++;
    if (depth > 0) this.add("scopeLinks", 1 + (depth > 1 ? 1 + depth : 0));
    if (t.info.internalName !== null) n += 1 + this.stringVars(t.info.internalName.length);
    this.add("functions", n);
    this.ownProps("functions", f, undefined);
    for (let s = t.scope; s; s = s.parent) this.scope(s);
  }

  scope(s: ScopeRecord): void {
    if (this.seen.has(s)) return;
    this.seen.add(s);
    this.scopeCount++;
    const info = s.info;
    this.add("scopes", 1 + (info.expressionBody ? 0 : 1) + (info.internalName !== null ? this.nameVars(info.internalName.length) : 0));
    let values: unknown[];
    try {
      values = s.values();
    } catch {
      // A let/const still in its temporal dead zone: count the names alone.
      values = [];
    }
    for (let i = 0; i < info.scopeNames.length; i++) this.slot("scopes", info.scopeNames[i], values[i]);
  }
}
