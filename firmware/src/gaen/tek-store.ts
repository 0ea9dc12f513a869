import { PlatformStorage } from "../platform-api";

/**
 * The token's own TEKs in flash: one small file per UTC day, named
 * `pt.tek<rolling start interval>`, holding
 * rolling start (uint32 LE) ‖ TEK (16) ‖ CRC-32 of those 20 bytes (LE).
 * A power cut mid-write damages only the file being written: its CRC fails,
 * it reads as absent, and every earlier day's file is untouched. One write and
 * at most one erase a day keep flash wear negligible. Only the newest
 * `TEK_KEEP` files are kept; nothing else in the firmware may erase them.
 */

export var TEK_FILE_PREFIX = "pt.tek";
export var TEK_KEEP = 14;
var RECORD_BYTES = 24;

export interface StoredTek {
  rollingStart: number;
  tek: Uint8Array;
}

/** CRC-32 (IEEE, reflected); 0xEDB88320 is written as its int32 value. */
function crc32(d: Uint8Array, n: number): number {
  var c = -1;
  for (var i = 0; i < n; i++) {
    c ^= d[i];
    for (var k = 0; k < 8; k++) c = (c >>> 1) ^ (c & 1 ? -306674912 : 0);
  }
  return ~c;
}

function putU32(b: Uint8Array, at: number, v: number): void {
  for (var i = 0; i < 4; i++) b[at + i] = v >>> (8 * i);
}

function getU32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

function fileName(rollingStart: number): string {
  return TEK_FILE_PREFIX + rollingStart;
}

/** Rolling starts of the TEK files in flash, newest first (damaged ones included). */
function storedStarts(s: PlatformStorage): number[] {
  var names = s.list(TEK_FILE_PREFIX);
  var out: number[] = [];
  for (var i = 0; i < names.length; i++) {
    var n = parseInt(names[i].substr(TEK_FILE_PREFIX.length), 10);
    if (n >= 0) out.push(n);
  }
  out.sort(function (a, b) {
    return b - a;
  });
  return out;
}

/** The TEK of one day, or undefined if it is absent or damaged. */
export function readTek(s: PlatformStorage, rollingStart: number): Uint8Array | undefined {
  var b = s.read(fileName(rollingStart));
  if (!b || b.length !== RECORD_BYTES || getU32(b, 0) !== rollingStart) return undefined;
  var c = crc32(b, 20);
  for (var i = 0; i < 4; i++) if (b[20 + i] !== ((c >>> (8 * i)) & 255)) return undefined;
  // A copy: Espruino maps the file's flash, which moves when storage compacts.
  return new Uint8Array(b.subarray(4, 20));
}

/** Every readable own TEK, newest first (at most TEK_KEEP). */
export function readTeks(s: PlatformStorage): StoredTek[] {
  var starts = storedStarts(s);
  var out: StoredTek[] = [];
  for (var i = 0; i < starts.length && out.length < TEK_KEEP; i++) {
    var tek = readTek(s, starts[i]);
    if (tek) out.push({ rollingStart: starts[i], tek: tek });
  }
  return out;
}

/**
 * Persist a day's TEK, then erase files beyond the newest TEK_KEEP and any
 * damaged one. Throws if flash is full; the files of earlier days are
 * untouched either way.
 */
export function writeTek(s: PlatformStorage, rollingStart: number, tek: Uint8Array): void {
  var b = new Uint8Array(RECORD_BYTES);
  putU32(b, 0, rollingStart);
  b.set(tek, 4);
  putU32(b, 20, crc32(b, 20));
  // Espruino compacts by itself when a new file does not fit, so a throw here
  // means the flash is really full.
  s.write(fileName(rollingStart), b);
  var starts = storedStarts(s);
  var kept = 0;
  for (var i = 0; i < starts.length; i++) {
    if (kept < TEK_KEEP && readTek(s, starts[i])) kept++;
    else s.erase(fileName(starts[i]));
  }
}
