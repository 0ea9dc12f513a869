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

export interface StoredTek {
  rollingStart: number;
  tek: Uint8Array;
}

/** CRC-32 (IEEE, reflected); 0xEDB88320 is written as its int32 value. */
function crc32(d: Uint8Array): number {
  var c = -1;
  for (var i = 0; i < 20; i++) {
    c ^= d[i];
    for (var k = 0; k < 8; k++) c = (c >>> 1) ^ (c & 1 ? -306674912 : 0);
  }
  return ~c;
}

/** The 24-byte file of a day's TEK. */
function record(rollingStart: number, tek: Uint8Array): Uint8Array {
  var b = new Uint8Array(24);
  b.set(tek, 4);
  for (var i = 0; i < 4; i++) b[i] = rollingStart >>> (8 * i);
  var c = crc32(b);
  for (i = 0; i < 4; i++) b[20 + i] = c >>> (8 * i);
  return b;
}

/** The TEK of one day, or undefined if it is absent or damaged. */
export function readTek(s: PlatformStorage, rollingStart: number): Uint8Array | undefined {
  var b = s.read(TEK_FILE_PREFIX + rollingStart);
  if (!b || b.length !== 24) return undefined;
  // Rebuilding the record from its TEK checks the rolling start and the CRC in one compare.
  var want = record(rollingStart, b.subarray(4, 20));
  for (var i = 0; i < 24; i++) if (b[i] !== want[i]) return undefined;
  // A copy: Espruino maps the file's flash, which moves when storage compacts.
  return new Uint8Array(b.subarray(4, 20));
}

/**
 * Every readable own TEK, newest first. Given `pruneKeeping` (the day just
 * written), it also prunes: it keeps the newest TEK_KEEP readable files and
 * that day's wherever it falls, and erases every other `pt.tek*` file (older
 * days, days more than one after it, damaged files, names this code never writes, so no day is listed
 * twice). Without it, it only reads: TEK_KEEP files after a write, one more
 * if the day in use is older than those or a power cut came between a write
 * and its pruning.
 */
export function readTeks(s: PlatformStorage, pruneKeeping?: number): StoredTek[] {
  var prune = pruneKeeping !== undefined;
  var names = s.list(TEK_FILE_PREFIX);
  var starts: number[] = [];
  for (var i = 0; i < names.length; i++) {
    var n = +names[i].substr(TEK_FILE_PREFIX.length);
    if (TEK_FILE_PREFIX + n === names[i]) starts.push(n);
    else if (prune) s.erase(names[i]);
  }
  starts.sort(function (a, b) {
    return b - a;
  });
  var out: StoredTek[] = [];
  for (i = 0; i < starts.length; i++) {
    var tek = readTek(s, starts[i]);
    // A day more than one ahead of the one in use comes from a clock that was
    // set wrong and corrected: erased, or it would stay among the newest for
    // good. Tomorrow stays (a clock a few minutes fast over midnight used it,
    // and it is used again tomorrow).
    if (tek && (!prune || ((out.length < TEK_KEEP || starts[i] === pruneKeeping) && starts[i] <= (pruneKeeping as number) + 144))) out.push({ rollingStart: starts[i], tek: tek });
    else if (prune) s.erase(TEK_FILE_PREFIX + starts[i]);
  }
  return out;
}

/**
 * Persist a day's TEK, then erase files beyond the newest TEK_KEEP and any
 * damaged one. The day just written is kept even if TEK_KEEP newer days exist
 * (a clock set back by a kiosk): its identifiers are on the air. Throws if
 * flash is full; the files of earlier days are untouched either way.
 */
export function writeTek(s: PlatformStorage, rollingStart: number, tek: Uint8Array): void {
  // Espruino compacts by itself when a new file does not fit, so a throw here
  // means the flash is really full.
  s.write(TEK_FILE_PREFIX + rollingStart, record(rollingStart, tek));
  readTeks(s, rollingStart);
}
