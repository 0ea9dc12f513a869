/**
 * Globals a bundle may reference on Espruino 2v2x (nRF52 boards). A reference
 * to anything else (a tsc helper such as `__extends`, Node's `Buffer`, a
 * misspelling) is reported by the lint instead of failing on a wrist.
 * Forbidden builtins (Map, Set, Symbol…) are deliberately absent.
 */
export const ESPRUINO_GLOBALS: ReadonlySet<string> = new Set([
  // language
  "undefined", "NaN", "Infinity", "arguments", "globalThis",
  "Object", "Function", "Array", "String", "Number", "Boolean", "Math", "JSON", "Date", "RegExp",
  "Error", "TypeError", "RangeError", "SyntaxError", "ReferenceError", "InternalError", "Promise",
  "ArrayBuffer", "DataView", "Uint8Array", "Uint8ClampedArray", "Int8Array", "Uint16Array", "Int16Array",
  "Uint32Array", "Int32Array", "Float32Array", "Float64Array",
  "parseInt", "parseFloat", "isNaN", "isFinite", "encodeURIComponent", "decodeURIComponent", "btoa", "atob",
  // Espruino
  "E", "NRF", "Bluetooth", "Serial1", "Terminal", "LoopbackA", "LoopbackB", "Graphics", "g", "Bangle", "Puck", "Pixl",
  "Pin", "Modules", "process", "global", "require", "console", "print", "load", "reset", "save", "dump", "trace",
  "getTime", "setTime", "setTimeout", "setInterval", "clearTimeout", "clearInterval", "changeInterval",
  "setWatch", "clearWatch", "digitalWrite", "digitalRead", "digitalPulse", "analogRead", "analogWrite",
  "pinMode", "getPinMode", "peek8", "poke8", "peek16", "poke16", "peek32", "poke32", "setSleepIndicator",
  "setBusyIndicator", "setDeepSleep", "LED", "LED1", "LED2", "LED3", "BTN", "BTN1", "BTN2", "BTN3", "BTN4"
]);

/** Constructs and builtins that do not run on Espruino 2v29 (espruino.md). */
export const FORBIDDEN_GLOBALS: ReadonlySet<string> = new Set([
  "Map", "Set", "WeakMap", "WeakSet", "Symbol", "BigInt", "Proxy", "Reflect", "WeakRef"
]);

/** `Object.method` style static calls that do not exist on Espruino. */
export const FORBIDDEN_STATICS: ReadonlyArray<[string, string]> = [
  ["Array", "from"],
  ["Math", "trunc"],
  ["Number", "isInteger"],
  ["Object", "freeze"],
  ["Uint8Array", "from"], ["Int8Array", "from"], ["Uint8ClampedArray", "from"], ["Uint16Array", "from"],
  ["Int16Array", "from"], ["Uint32Array", "from"], ["Int32Array", "from"], ["Float32Array", "from"],
  ["Float64Array", "from"]
];

/** Builtin constructors whose prototype cannot be read on Espruino. */
export const BUILTIN_CONSTRUCTORS: ReadonlySet<string> = new Set([
  "Object", "Function", "Array", "String", "Number", "Boolean", "Promise", "Date", "RegExp", "Error",
  "ArrayBuffer", "DataView", "Uint8Array", "Uint8ClampedArray", "Int8Array", "Uint16Array", "Int16Array",
  "Uint32Array", "Int32Array", "Float32Array", "Float64Array"
]);
