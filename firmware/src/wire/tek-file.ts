import { crc32 } from "./crc32";
import { putLE } from "./le-bytes";
import { TEK_ROLLING_PERIOD } from "./gaen";
import { StorageEraser, StorageReader } from "./storage";

/**
 * The token's own TEKs in flash: one small file per UTC day, named
 * TEK_FILE_PREFIX + rolling start interval number, holding
 *
 *   0..3 rolling start (uint32 LE) | 4..19 TEK | 20..23 CRC-32 (IEEE) of bytes 0..19 (uint32 LE)
 *
 * A file that fails its CRC, or whose rolling start differs from its name,
 * is damaged (a power cut while it was written) and reads as absent, on the
 * token and on a host alike. Shared with host tools; the token writes these
 * files in gaen/tek-store.ts.
 */
export var TEK_FILE_PREFIX = "pt.tek";
export var TEK_FILE_BYTES = 24;

export interface StoredTek {
  rollingStart: number;
  tek: Uint8Array;
}

/** The file of a day's TEK. */
export function encodeTekFile(rollingStart: number, tek: Uint8Array): Uint8Array {
  var b = new Uint8Array(TEK_FILE_BYTES);
  b.set(tek, 4);
  putLE(b, 0, rollingStart, 4);
  putLE(b, 20, crc32(b, 0, 20), 4);
  return b;
}

/** The TEK of one day, or undefined if its file is absent or damaged. */
export function readTek(s: StorageReader, rollingStart: number): Uint8Array | undefined {
  var b = s.read(TEK_FILE_PREFIX + rollingStart);
  if (!b || b.length !== TEK_FILE_BYTES) return undefined;
  // Rebuilding the file from its TEK checks the rolling start and the CRC in one compare.
  var want = encodeTekFile(rollingStart, b.subarray(4, 20));
  for (var i = 0; i < TEK_FILE_BYTES; i++) if (b[i] !== want[i]) return undefined;
  // A copy: Espruino maps the file's flash, which moves when storage compacts.
  return new Uint8Array(b.subarray(4, 20));
}

/** Own TEKs a token keeps: TEK_KEEP days, the newest. */
export var TEK_KEEP = 14;

/**
 * Every readable own TEK, newest first (what an authorised diagnosis upload
 * sends). Without `pruneKeeping` it only reads: TEK_KEEP files after a token
 * wrote one, one more if the day in use is older than those or a power cut
 * came between a write and its pruning.
 *
 * Given `pruneKeeping` (the day the token just wrote) it also prunes, as the
 * token does after each write: it keeps the newest TEK_KEEP readable files
 * and that day's wherever it falls, and erases every other `pt.tek*` file
 * (older days, days more than one after it, damaged files, names this format
 * never produces, so no day is listed twice). One function for both, so the
 * token carries one copy of the listing code.
 */
export function readTeks(s: StorageReader): StoredTek[];
export function readTeks(s: StorageEraser, pruneKeeping: number): StoredTek[];
export function readTeks(s: StorageReader & Partial<StorageEraser>, pruneKeeping?: number): StoredTek[] {
  var prune = pruneKeeping !== undefined;
  var names = s.list(TEK_FILE_PREFIX);
  var starts: number[] = [];
  for (var i = 0; i < names.length; i++) {
    var n = +names[i].substr(TEK_FILE_PREFIX.length);
    if (TEK_FILE_PREFIX + n === names[i]) starts.push(n);
    else if (prune) s.erase!(names[i]);
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
    if (
      tek &&
      (!prune || ((out.length < TEK_KEEP || starts[i] === pruneKeeping) && starts[i] <= (pruneKeeping as number) + TEK_ROLLING_PERIOD))
    )
      out.push({ rollingStart: starts[i], tek: tek });
    else if (prune) s.erase!(TEK_FILE_PREFIX + starts[i]);
  }
  return out;
}
