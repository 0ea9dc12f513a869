import { STORAGE_HEADER_BYTES, STORAGE_NAME_BYTES, STORAGE_SIZE_MASK, fileFootprint } from "../../../firmware/src/wire/storage";
import { FlashDamage } from "./errors";

/**
 * Reads the files out of an image of Espruino's Storage area (what `simulate
 * --out DIR` writes as DIR/flash/<token>.bin, and what a dump of a token's
 * Storage pages holds). The journal is laid out as wire/storage.ts says.
 *
 * Unlike the simulator's Storage (which, like the device, just stops at the
 * first header it does not like), this reader is strict and says where and
 * why it stopped, because a kiosk must know whether it saw the whole log.
 */

/** nRF52 flash pages: every board's Storage is a whole number of them (board.schema.json). */
export const FLASH_PAGE_BYTES = 4096;

export interface StorageImage {
  /** Live files by name; the first live file of a name wins, as Espruino's lookup does. */
  files: Map<string, Uint8Array>;
  /** Byte offset in the image of each live file's data (where a test or tool must patch it in place). */
  dataOffsets: Map<string, number>;
  /** Files whose data the image cuts short (only present with damage). */
  partialFiles: Set<string>;
  /** Journal entries (live or erased) read whole, header and data. */
  entries: number;
  /** Empty when the whole journal was read, through its erased end or to the end of a whole-page image. */
  damage: FlashDamage[];
}

function isErased(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i] !== 0xff) return false;
  return true;
}

function nameOf(b: Uint8Array, at: number): string {
  let s = "";
  for (let i = 0; i < STORAGE_NAME_BYTES && b[at + i] !== 0; i++) s += String.fromCharCode(b[at + i]);
  return s;
}

/** Names of our own files are printable ASCII; anything else in a first header means this is not a Storage image. */
function printable(name: string): boolean {
  return /^[\x20-\x7e]+$/.test(name);
}

export function readStorageImage(b: Uint8Array): StorageImage {
  const files = new Map<string, Uint8Array>();
  const dataOffsets = new Map<string, number>();
  const partialFiles = new Set<string>();
  const damage: FlashDamage[] = [];
  const len = b.length;
  const wholePages = len > 0 && len % FLASH_PAGE_BYTES === 0;
  let addr = 0;
  let entries = 0;
  for (;;) {
    if (addr + STORAGE_HEADER_BYTES > len) {
      // No room for another header: complete only if the image is the whole Storage area.
      if (!wholePages && !isErased(b, addr, len))
        damage.push({ kind: "truncated", offset: len, message: `the image ends inside a file header (${len} bytes)` });
      else if (!wholePages)
        damage.push({
          kind: "truncated",
          offset: len,
          message: `the image is ${len} bytes, not a whole number of ${FLASH_PAGE_BYTES}-byte flash pages, and ends before the journal's erased end: files may be missing`
        });
      break;
    }
    const raw = (b[addr] | (b[addr + 1] << 8) | (b[addr + 2] << 16) | (b[addr + 3] << 24)) >>> 0;
    if (raw === 0xffffffff) {
      if (!isErased(b, addr, addr + STORAGE_HEADER_BYTES))
        damage.push({
          kind: "corrupt",
          offset: addr,
          message: "a half-written file header (a power cut while a file was created; Espruino wipes such a Storage at boot)"
        });
      break;
    }
    const size = raw & STORAGE_SIZE_MASK;
    const trash = b[addr + 4] === 0 && b[addr + 5] === 0 && b[addr + 6] === 0 && b[addr + 7] === 0;
    const name = trash ? "" : nameOf(b, addr + 4);
    if (size === 0 || (!trash && !printable(name))) {
      damage.push({
        kind: "corrupt",
        offset: addr,
        message: `not a Storage file header (size ${size}, name ${JSON.stringify(name.slice(0, STORAGE_NAME_BYTES))})`
      });
      break;
    }
    const dataAt = addr + STORAGE_HEADER_BYTES;
    const end = dataAt + size;
    if (end > len) {
      damage.push({
        kind: "truncated",
        offset: len,
        file: trash ? undefined : name,
        message: `${trash ? "an erased file" : name} needs ${size} bytes but the image ends after ${len - dataAt}`
      });
      if (!trash && !files.has(name)) {
        files.set(name, b.slice(dataAt, len));
        dataOffsets.set(name, dataAt);
        partialFiles.add(name);
      }
      break;
    }
    if (!trash && !files.has(name)) {
      files.set(name, b.slice(dataAt, end));
      dataOffsets.set(name, dataAt);
    }
    entries++;
    addr += fileFootprint(size);
  }
  return { files, dataOffsets, partialFiles, entries, damage };
}

/** Damage before a single whole entry: not a Storage image at all (some other file), or one cut inside its first file. */
export function notAStorageImage(img: StorageImage): boolean {
  return img.entries === 0 && img.damage.length > 0;
}
