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
import * as acorn from "acorn";
import * as walk from "acorn-walk";

/** Globals deleted from the context: the language has them, Espruino does not. */
export const REMOVED_GLOBALS: readonly string[] = [
  "Map",
  "Set",
  "WeakMap",
  "WeakSet",
  "WeakRef",
  "FinalizationRegistry",
  "Symbol",
  "Proxy",
  "Reflect",
  "BigInt",
  "BigInt64Array",
  "BigUint64Array",
  "Atomics",
  "SharedArrayBuffer",
  "WebAssembly",
  "Intl",
  "AggregateError",
  "EvalError",
  "URIError",
  "escape",
  "unescape",
  "console"
];

/** `Object.member` statics deleted from the context's intrinsics. */
export const REMOVED_STATICS: ReadonlyArray<[string, string]> = [
  ["Array", "from"],
  ["Array", "of"],
  ["Math", "trunc"],
  ["Number", "isInteger"],
  ["Number", "isSafeInteger"],
  ["Object", "freeze"],
  ["Object", "isFrozen"],
  ["Object", "seal"],
  ["Object", "isSealed"],
  ["Object", "getOwnPropertySymbols"],
  ["Object", "fromEntries"],
  ["Promise", "allSettled"],
  ["Promise", "any"],
  ["Number", "isFinite"],
  ["Number", "isNaN"]
];

/**
 * Builtins reshaped to behave as Espruino 2v29's do (each found by the
 * differential conformance suite, test/espruino/conformance.spec.ts):
 * typed-array `slice` returns a plain Array; typed-array `set` past the end
 * copies what fits instead of throwing; no `ArrayBuffer.prototype.slice`;
 * `String.fromCharCode` keeps 8 bits; `btoa`/`atob` exist (atob reads invalid
 * characters as 0); `Math.round` rounds halves away from zero;
 * `JSON.stringify` ignores a replacer, writes typed arrays and ArrayBuffers as
 * arrays, `undefined` as "null" and a function as "undefined" at the top
 * level, and characters 0x7F-0xFF as \u00XX (hex digits upper case).
 */
const ESPRUINO_BUILTINS = `(function () {
  var def = function (o, k, v) { Object.defineProperty(o, k, { value: v, writable: true, configurable: true, enumerable: false }); };
  var aslice = Array.prototype.slice;
  var TA = Object.getPrototypeOf(Uint8Array).prototype;
  var tset = TA.set;
  def(TA, "slice", function slice(a, b) { return aslice.call(this, a, b); });
  def(TA, "set", function set(src, offset) {
    var off = offset === undefined ? 0 : offset | 0;
    if (off < 0) return;
    var room = this.length - off;
    if (room < 0) room = 0;
    if (src !== null && src !== undefined && src.length > room) {
      if (room === 0) return;
      src = ArrayBuffer.isView(src) ? src.subarray(0, room) : aslice.call(src, 0, room);
    }
    tset.call(this, src, off);
  });
  delete ArrayBuffer.prototype.slice;
  var fcc = String.fromCharCode;
  def(String, "fromCharCode", function fromCharCode() {
    var n = arguments.length;
    if (n === 1) return fcc(arguments[0] & 255);
    var b = new Array(n);
    for (var i = 0; i < n; i++) b[i] = arguments[i] & 255;
    return fcc.apply(null, b);
  });
  var B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  def(globalThis, "btoa", function btoa(s) {
    s = String(s);
    var o = "";
    for (var i = 0; i < s.length; i += 3) {
      var a = s.charCodeAt(i) & 255, b = i + 1 < s.length ? s.charCodeAt(i + 1) & 255 : 0, c = i + 2 < s.length ? s.charCodeAt(i + 2) & 255 : 0;
      var t = (a << 16) | (b << 8) | c;
      o += B64[t >> 18] + B64[(t >> 12) & 63] + (i + 1 < s.length ? B64[(t >> 6) & 63] : "=") + (i + 2 < s.length ? B64[t & 63] : "=");
    }
    return o;
  });
  def(globalThis, "atob", function atob(s) {
    s = String(s).replace(/=+$/, "");
    var o = "", acc = 0, bits = 0;
    for (var i = 0; i < s.length; i++) {
      var v = B64.indexOf(s[i]);
      acc = ((acc << 6) | (v < 0 ? 0 : v)) & 0xffffff;
      bits += 6;
      if (bits >= 8) { bits -= 8; o += fcc((acc >> bits) & 255); }
    }
    return o;
  });
  var floor = Math.floor;
  def(Math, "round", function round(x) { x = +x; return x < 0 ? -floor(-x + 0.5) : floor(x + 0.5); });
  var stringify = JSON.stringify;
  var esc = function (c) { return "\\\\u00" + c.charCodeAt(0).toString(16).toUpperCase(); };
  var hexUp = function (m, bs, h) { return bs.length % 2 ? bs + "u00" + h.toUpperCase() : m; };
  def(JSON, "stringify", function (value, replacer, space) {
    var r = stringify(value, function (k, x) {
      if (ArrayBuffer.isView(x) && !(x instanceof DataView)) return aslice.call(x);
      if (x instanceof ArrayBuffer) return aslice.call(new Uint8Array(x));
      return x;
    }, space);
    if (r === undefined) return value === undefined ? "null" : "undefined";
    if (/[\\x7f-\\xff]/.test(r)) r = r.replace(/[\\x7f-\\xff]/g, esc);
    return r.indexOf("\\\\u00") >= 0 ? r.replace(/(\\\\+)u00([0-9a-f][0-9a-f])/g, hexUp) : r;
  });
})();`;

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
/**
 * Espruino gives a loop head's `let` (and a for-in/of `const`) ONE binding
 * shared by every iteration: closures made in the loop all see the last value.
 * Rewrite those declarations as `var` (same length: positions in errors stay
 * right). A `let` in the loop body is per iteration there too, and untouched.
 */
const LOOP_LET = /\bfor\s*\(\s*(let|const)\b/;
export function sharedLoopBindings(code: string): string {
  if (!LOOP_LET.test(code)) return code;
  let ast: acorn.Node;
  try {
    ast = acorn.parse(code, { ecmaVersion: "latest", sourceType: "script" });
  } catch {
    return code;
  }
  const at: Array<[number, string]> = [];
  walk.simple(ast, {
    ForStatement(n: acorn.Node) {
      const init = (n as acorn.ForStatement).init;
      if (init && init.type === "VariableDeclaration" && init.kind === "let") at.push([init.start, "let"]);
    },
    ForInStatement(n: acorn.Node) {
      const left = (n as acorn.ForInStatement).left;
      if (left.type === "VariableDeclaration" && left.kind !== "var") at.push([left.start, left.kind]);
    },
    ForOfStatement(n: acorn.Node) {
      const left = (n as acorn.ForOfStatement).left;
      if (left.type === "VariableDeclaration" && left.kind !== "var") at.push([left.start, left.kind]);
    }
  });
  if (!at.length) return code;
  let out = code;
  for (const [pos, kind] of at) out = out.slice(0, pos) + "var".padEnd(kind.length) + out.slice(pos + kind.length);
  return out;
}

function compiled(code: string, filename: string): vm.Script {
  const key = filename + "\u0000" + code;
  let s = scriptCache.get(key);
  if (!s) {
    const shared = sharedLoopBindings(code);
    if (shared === code) s = new vm.Script(code, { filename });
    else {
      try {
        s = new vm.Script(shared, { filename });
      } catch {
        // `var` clashes with a `let` of the same name in scope: run the code as written.
        s = new vm.Script(code, { filename });
      }
    }
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
  ESPRUINO_BUILTINS,
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
