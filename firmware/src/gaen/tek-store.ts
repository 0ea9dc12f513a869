import { PlatformStorage } from "../platform-api";
import { TEK_FILE_PREFIX, encodeTekFile, readTeks } from "../wire/tek-file";

/**
 * The token's own TEKs in flash (file format and reader in wire/tek-file.ts).
 * A power cut mid-write damages only the file being written: it reads as
 * absent, and every earlier day's file is untouched. One write and at most
 * one erase a day keep flash wear negligible. Only the newest TEK_KEEP files
 * are kept; nothing else in the firmware may erase them.
 */

/**
 * Persist a day's TEK, then erase files beyond the newest TEK_KEEP and any
 * damaged one. The day just written is kept even if TEK_KEEP newer days exist
 * (a clock set back by a kiosk): its identifiers are on the air. Throws if
 * flash is full; the files of earlier days are untouched either way.
 */
export function writeTek(s: PlatformStorage, rollingStart: number, tek: Uint8Array): void {
  // Espruino compacts by itself when a new file does not fit, so a throw here
  // means the flash is really full.
  s.write(TEK_FILE_PREFIX + rollingStart, encodeTekFile(rollingStart, tek));
  readTeks(s, rollingStart);
}
