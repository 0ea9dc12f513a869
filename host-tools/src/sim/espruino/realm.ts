/**
 * A `node:vm` context that offers only what Espruino 2v2x offers, so that a
 * bundle using `Map`, `Symbol`, `Array.from`… fails in the simulator as it
 * fails on a token.
 *
 * Limits (documented in docs/simulator-espruino.md): V8 cannot make a read of
 * `Array.prototype.slice` return undefined without breaking every array, so
 * builtin prototype reads are left to the bundle lint; the language level
 * (spread, destructuring…) is likewise checked by the lint, not here.
 */
import * as vm from "node:vm";

/** Globals deleted from the context: the language has them, Espruino does not. */
export const REMOVED_GLOBALS: readonly string[] = [
  "Map", "Set", "WeakMap", "WeakSet", "WeakRef", "FinalizationRegistry", "Symbol", "Proxy", "Reflect", "BigInt",
  "BigInt64Array", "BigUint64Array", "Atomics", "SharedArrayBuffer", "WebAssembly", "Intl", "AggregateError",
  "EvalError", "URIError", "escape", "unescape", "console"
];

/** `Object.member` statics deleted from the context's intrinsics. */
export const REMOVED_STATICS: ReadonlyArray<[string, string]> = [
  ["Array", "from"], ["Array", "of"], ["Math", "trunc"], ["Number", "isInteger"], ["Number", "isSafeInteger"],
  ["Object", "freeze"], ["Object", "isFrozen"], ["Object", "seal"], ["Object", "isSealed"],
  ["Object", "getOwnPropertySymbols"], ["Object", "fromEntries"], ["Promise", "allSettled"], ["Promise", "any"]
];

/** The context's own constructors, to build values a bundle sees as its own (instanceof works). */
export interface Intrinsics {
  Object: ObjectConstructor;
  Array: ArrayConstructor;
  ArrayBuffer: ArrayBufferConstructor;
  Uint8Array: Uint8ArrayConstructor;
  Error: ErrorConstructor;
  TypeError: TypeErrorConstructor;
  JSON: JSON;
}

export interface Realm {
  context: vm.Context;
  /** The context's global object (what `global` and `this` are inside). */
  global: Record<string, unknown>;
  intrinsics: Intrinsics;
  /** Run source in the context (boot code, console input). */
  run(code: string, filename: string): unknown;
}

const scriptCache = new Map<string, vm.Script>();

/** Compile once per distinct source: 50 tokens booting the same bundle share one compilation. */
function compiled(code: string, filename: string): vm.Script {
  const key = filename + "\u0000" + code;
  let s = scriptCache.get(key);
  if (!s) {
    s = new vm.Script(code, { filename });
    if (scriptCache.size > 64) scriptCache.clear();
    scriptCache.set(key, s);
  }
  return s;
}

const STRIP = [
  ...REMOVED_GLOBALS.map((g) => `delete globalThis[${JSON.stringify(g)}];`),
  ...REMOVED_STATICS.map(([o, m]) => `delete ${o}[${JSON.stringify(m)}];`),
  // TypedArray.from lives on the shared %TypedArray% constructor.
  "delete Object.getPrototypeOf(Uint8Array).from;",
  "delete Object.getPrototypeOf(Uint8Array).of;",
  "({Object:Object,Array:Array,ArrayBuffer:ArrayBuffer,Uint8Array:Uint8Array,Error:Error,TypeError:TypeError,JSON:JSON})"
].join("\n");
const stripScript = new vm.Script(STRIP, { filename: "espruino-realm.js" });

export function createRealm(): Realm {
  const context = vm.createContext({}, { codeGeneration: { strings: true, wasm: false } });
  const intrinsics = stripScript.runInContext(context) as Intrinsics;
  const global = vm.runInContext("this", context) as Record<string, unknown>;
  global.global = global;
  return {
    context,
    global,
    intrinsics,
    run(code: string, filename: string): unknown {
      return compiled(code, filename).runInContext(context);
    }
  };
}
