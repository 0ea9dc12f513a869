/**
 * Conversions between what a bundle passes to Espruino's natives and host
 * bytes, following Espruino's rules: strings are 8-bit (char code & 0xFF),
 * arrays are bytes, typed arrays / ArrayBuffers / DataViews give their bytes.
 * Values handed back are built with the context's own constructors.
 */
import type { Intrinsics } from "./realm";

function isArrayBufferLike(v: unknown): v is ArrayBuffer {
  return Object.prototype.toString.call(v) === "[object ArrayBuffer]";
}

/** Bytes of a data argument, or undefined when Espruino could not get a data pointer from it. */
export function toBytes(v: unknown): Uint8Array | undefined {
  if (typeof v === "string") {
    const out = new Uint8Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = v.charCodeAt(i) & 0xff;
    return out;
  }
  if (ArrayBuffer.isView(v)) {
    // A Uint8Array of any realm: one native copy, without making the realm's typed array
    // materialise its ArrayBuffer (small ones live on the heap until asked for it).
    if (Object.prototype.toString.call(v) === "[object Uint8Array]") {
      const out = new Uint8Array((v as Uint8Array).length);
      out.set(v as Uint8Array);
      return out;
    }
    // Host-realm copy: the realm's ArrayBuffer has no slice (as in Espruino).
    return new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
  }
  if (isArrayBufferLike(v)) return new Uint8Array(v as ArrayBuffer).slice();
  if (Array.isArray(v)) {
    const out = new Uint8Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = Number(v[i]) & 0xff;
    return out;
  }
  return undefined;
}

/** Espruino's 8-bit string of some bytes. */
export function bytesToString(b: Uint8Array): string {
  let s = "";
  const CHUNK = 8192;
  for (let i = 0; i < b.length; i += CHUNK)
    s += String.fromCharCode.apply(null, Array.prototype.slice.call(b.subarray(i, i + CHUNK)) as number[]);
  return s;
}

/** A context-realm ArrayBuffer holding a copy of `b`. */
export function toContextArrayBuffer(R: Intrinsics, b: Uint8Array): ArrayBuffer {
  const u = new R.Uint8Array(b.length);
  u.set(b);
  return u.buffer as ArrayBuffer;
}

export function toContextArray<T>(R: Intrinsics, items: readonly T[]): T[] {
  const a = new R.Array() as T[];
  for (let i = 0; i < items.length; i++) a.push(items[i]);
  return a;
}

export function newContextObject(R: Intrinsics): Record<string, unknown> {
  return new R.Object() as Record<string, unknown>;
}

/** `E.toUint8Array`-style flattening: numbers, strings, arrays, buffers and {data, count} objects. */
export function flattenBytes(args: readonly unknown[], out: number[] = []): number[] {
  for (const a of args) {
    if (typeof a === "number") out.push(a & 0xff);
    else if (typeof a === "boolean") out.push(a ? 1 : 0);
    else if (a !== null && typeof a === "object" && !ArrayBuffer.isView(a) && !isArrayBufferLike(a) && !Array.isArray(a)) {
      const o = a as { data?: unknown; count?: number };
      const count = typeof o.count === "number" ? o.count : 1;
      for (let i = 0; i < count; i++) flattenBytes([o.data], out);
    } else if (Array.isArray(a)) flattenBytes(a, out);
    else {
      const b = toBytes(a);
      if (b) for (let i = 0; i < b.length; i++) out.push(b[i]);
    }
  }
  return out;
}
