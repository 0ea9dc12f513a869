import { STORAGE_HEADER_BYTES, STORAGE_NAME_BYTES, STORAGE_SIZE_MASK, fileFootprint } from "../../../firmware/src/wire/storage";
import { FLAG_UTC, HEADER_BYTES, LOG_PREFIX, RECORD_BYTES, SEGMENT_BYTES, decodeHeader } from "../../../firmware/src/wire/log-record";
import { TEK_FILE_BYTES, TEK_FILE_PREFIX, encodeTekFile } from "../../../firmware/src/wire/tek-file";
import { FlashDamage } from "./errors";

/**
 * Reads the files out of an image of Espruino's Storage area (what `simulate
 * --out DIR` writes as DIR/flash/<token>.bin, and what a dump of a token's
 * Storage pages holds). The journal is laid out as wire/storage.ts says.
 *
 * Unlike the simulator's Storage (which, like the device, just stops at the
 * first header it does not like), this reader is strict and says where and
 * why it stopped, because a kiosk must know whether it saw the whole log.
 * One flipped bit in a file header is enough to hide files from a reader
 * that only walks the journal (a size that jumps over them into the erased
 * end, a name that turns one segment into another), so the walk is checked:
 * the flash after the journal's end must be erased, every file header of
 * ours anywhere in the image must be one the walk reached, names must be
 * what Espruino writes, and no two live files may share a name.
 */

/** nRF52 flash pages: every board's Storage is a whole number of them (board.schema.json). */
export const FLASH_PAGE_BYTES = 4096;

/** An erased file still in flash (Espruino zeroes the first 4 name bytes and leaves the rest until compaction). */
export interface ErasedEntry {
  /** Byte offset of its file header. */
  offset: number;
  /** The name bytes after the 4 zeroed ones, up to the first zero ("og12" for an erased pt.log12). */
  nameTail: string;
  data: Uint8Array;
}

export interface StorageImage {
  /** Live files by name; the first live file of a name wins, as Espruino's lookup does. */
  files: Map<string, Uint8Array>;
  /** Byte offset in the image of each live file's data (where a test or tool must patch it in place). */
  dataOffsets: Map<string, number>;
  /** Files whose data the image cuts short (only present with damage). */
  partialFiles: Set<string>;
  /** Journal entries (live or erased) read whole, header and data. */
  entries: number;
  /** Erased files the walk passed, in flash order: what the token erased and compaction has not yet cleared. */
  erased: ErasedEntry[];
  /** Empty when the whole journal was read, through its erased end or to the end of a whole-page image. */
  damage: FlashDamage[];
  /** Damage found and read around with nothing lost to the host (it may still matter to the token itself). */
  workedAround: FlashDamage[];
}

function isErased(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i] !== 0xff) return false;
  return true;
}

function word(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
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

/** Espruino pads a name with zeros to 28 bytes; anything after the first zero is a changed bit. */
function zeroPadded(b: Uint8Array, nameAt: number, nameLength: number): boolean {
  for (let i = nameLength; i < STORAGE_NAME_BYTES; i++) if (b[nameAt + i] !== 0) return false;
  return true;
}

const SEGMENT_NAME = new RegExp(`^${LOG_PREFIX.replace(".", "\\.")}[1-9][0-9]*$`);
/** Our files all start so: a header of one anywhere in the image is a file the token wrote. */
const OUR_PREFIX = "pt.";

/**
 * Names the token (and Espruino, for the firmware) writes: pt.log<n>,
 * pt.tek<n>, the single files of firmware/src/wire/ and the self-test's
 * pt.fault (firmware/src/selftest.ts, outside what the host may import).
 */
const OUR_NAMES = /^(pt\.(log|tek)[1-9][0-9]*|pt\.(ack|drop|err|boot|cfg|sec|fault)|\.bootcde)$/;

function ourName(name: string): boolean {
  return OUR_NAMES.test(name);
}

/** ", probably X with a flipped bit" when one bit of the 28 name bytes at `at` makes one of our names X; "" otherwise. */
function ourNameNear(b: Uint8Array, at: number): string {
  const n = b.slice(at, at + STORAGE_NAME_BYTES);
  for (let i = 0; i < STORAGE_NAME_BYTES; i++)
    for (let bit = 0; bit < 8; bit++) {
      n[i] ^= 1 << bit;
      const s = nameOf(n, 0);
      const hit = ourName(s) && zeroPadded(n, 0, s.length);
      n[i] ^= 1 << bit;
      if (hit) return `, probably ${s} with a flipped bit`;
    }
  return "";
}

/** The rolling start a whole TEK file holds when its name gives another one (a digit of the name flipped), else null. */
function misnamedTek(name: string, data: Uint8Array): number | null {
  if (!name.startsWith(TEK_FILE_PREFIX) || data.length !== TEK_FILE_BYTES) return null;
  const start = word(data, 0);
  if (TEK_FILE_PREFIX + start === name) return null;
  const want = encodeTekFile(start, data.subarray(4, 20));
  for (let i = 0; i < TEK_FILE_BYTES; i++) if (want[i] !== data[i]) return null;
  return start;
}

/**
 * Whether a segment whose header gives another size is whole at SEGMENT_BYTES
 * from `dataAt`: its own header checks out and the journal goes on after it
 * (the erased end, the image's end or a header that fits).
 */
function segmentSizeDamaged(b: Uint8Array, dataAt: number): boolean {
  if (dataAt + SEGMENT_BYTES > b.length || !holdsSegment(b.subarray(dataAt, dataAt + SEGMENT_BYTES))) return false;
  const next = dataAt + ((SEGMENT_BYTES + 3) & ~3);
  if (next + 4 > b.length || word(b, next) === 0xffffffff) return true;
  const n = word(b, next) & STORAGE_SIZE_MASK;
  return n > 0 && next + STORAGE_HEADER_BYTES + n <= b.length;
}

/** Data of our format version's segment: its own header checks out. */
function holdsSegment(data: Uint8Array): boolean {
  return data.length === SEGMENT_BYTES && decodeHeader(data) !== null;
}

/**
 * A header of one of our files at `at` that the walk may have missed: a name
 * of ours, zero padded as Espruino writes it, a size that fits, and after its
 * data either the erased end, the image's end or another header. Random data
 * (records, keys, the bundle's text, which has no zero bytes) does not pass
 * this: it needs "pt." and then zeros to the 28th byte.
 */
function ourHeaderAt(b: Uint8Array, at: number): { name: string; size: number } | null {
  if (b[at + 4] !== 0x70 || b[at + 5] !== 0x74 || b[at + 6] !== 0x2e) return null;
  const raw = word(b, at);
  const size = raw & STORAGE_SIZE_MASK;
  if (raw === 0xffffffff || size === 0 || at + STORAGE_HEADER_BYTES + size > b.length) return null;
  const name = nameOf(b, at + 4);
  if (!name.startsWith(OUR_PREFIX) || !printable(name) || !zeroPadded(b, at + 4, name.length)) return null;
  const next = at + fileFootprint(size);
  if (next + 4 <= b.length && word(b, next) !== 0xffffffff) {
    const n = word(b, next) & STORAGE_SIZE_MASK;
    if (n === 0 || next + STORAGE_HEADER_BYTES + n > b.length) return null;
  }
  return { name, size };
}

interface Walked {
  offset: number;
  /** End of the data its header claims. */
  end: number;
  label: string;
}

export function readStorageImage(b: Uint8Array): StorageImage {
  const files = new Map<string, Uint8Array>();
  const dataOffsets = new Map<string, number>();
  const partialFiles = new Set<string>();
  const erased: ErasedEntry[] = [];
  const damage: FlashDamage[] = [];
  const workedAround: FlashDamage[] = [];
  const walked: Walked[] = [];
  const len = b.length;
  const wholePages = len > 0 && len % FLASH_PAGE_BYTES === 0;
  let addr = 0;
  let entries = 0;
  // Whether the walk reached the journal's end as Espruino writes it (erased or the image's end), not a header it had to give up on.
  let walkedToEnd = false;
  const keep = (name: string, dataAt: number, data: Uint8Array, at: number): void => {
    if (!files.has(name)) {
      files.set(name, data);
      dataOffsets.set(name, dataAt);
      return;
    }
    const segment = holdsSegment(data);
    (segment ? damage : workedAround).push({
      kind: "corrupt",
      offset: at,
      file: name,
      message:
        `a second live file named ${name} (header at byte ${at}; the first has its data at byte ${dataOffsets.get(name)}): Espruino keeps one file a name, so a flipped bit in a name made this one` +
        (segment
          ? `; it holds a log segment (${segmentSummary(data)}) that is not read`
          : "; the file it was is lost to the token, none of its log")
    });
  };
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
      else walkedToEnd = true;
      break;
    }
    const raw = word(b, addr);
    if (raw === 0xffffffff) {
      if (!isErased(b, addr, addr + STORAGE_HEADER_BYTES))
        damage.push({
          kind: "corrupt",
          offset: addr,
          message: "a half-written file header (a power cut while a file was created; Espruino wipes such a Storage at boot)"
        });
      else {
        walkedToEnd = true;
        // Espruino appends after the last header and erases what compaction leaves behind, so
        // anything written past the end is a file the walk jumped over: a header's size is damaged.
        let stray = addr;
        while (stray < len && b[stray] === 0xff) stray++;
        if (stray < len) {
          let bytes = 0;
          for (let i = stray; i < len; i++) if (b[i] !== 0xff) bytes++;
          damage.push({
            kind: "corrupt",
            offset: stray,
            message: `the journal ends at byte ${addr} but ${bytes} byte(s) after it are written (from byte ${stray}): a file header before it is damaged (its size), so the files there were not reached`
          });
        }
      }
      break;
    }
    const size = raw & STORAGE_SIZE_MASK;
    const nameAt = addr + 4;
    const trash = b[nameAt] === 0 && b[nameAt + 1] === 0 && b[nameAt + 2] === 0 && b[nameAt + 3] === 0;
    // A live name starting with a zero byte is an erased file's name with a bit flipped back: the first byte of our names is never 0 or one bit from it.
    const partlyErased = !trash && b[nameAt] === 0;
    const name = trash || partlyErased ? "" : nameOf(b, nameAt);
    if (size === 0 || (entries === 0 && !trash && !printable(name))) {
      damage.push({
        kind: "corrupt",
        offset: addr,
        message: `not a Storage file header (size ${size}, name ${JSON.stringify(name.slice(0, STORAGE_NAME_BYTES))})`
      });
      break;
    }
    const dataAt = addr + STORAGE_HEADER_BYTES;
    let end = dataAt + size;
    const label = trash || partlyErased ? "an erased file" : name;
    if (!trash && !partlyErased && SEGMENT_NAME.test(name) && size !== SEGMENT_BYTES && segmentSizeDamaged(b, dataAt)) {
      // Every segment is created with SEGMENT_BYTES: another size is a damaged header, and the
      // right one is known (used only when the journal then carries on as Espruino wrote it).
      workedAround.push({
        kind: "corrupt",
        offset: addr,
        file: name,
        message: `the file header of ${name} at byte ${addr} says ${size} bytes, but every segment is ${SEGMENT_BYTES}: its size is damaged and was read as ${SEGMENT_BYTES} (nothing lost here; the token itself walks its Storage by the damaged size and no longer sees the files after it, so erase its Storage after this read)`
      });
      end = dataAt + SEGMENT_BYTES;
    }
    if (end > len) {
      // A whole Storage area has nothing past its end: a file running over it has a damaged size.
      damage.push({
        kind: wholePages ? "corrupt" : "truncated",
        offset: len,
        file: trash || partlyErased ? undefined : name,
        message: wholePages
          ? `the file header of ${label} at byte ${addr} says ${size} bytes, more than the ${len - dataAt} left in Storage: its size is damaged, and the files after it were not reached`
          : `${label} needs ${size} bytes but the image ends after ${len - dataAt}`
      });
      if (!trash && !partlyErased && !files.has(name) && printable(name)) {
        files.set(name, b.slice(dataAt, len));
        dataOffsets.set(name, dataAt);
        partialFiles.add(name);
      }
      break;
    }
    let ok = true;
    if (trash) {
      erased.push({ offset: addr, nameTail: nameOf(b, nameAt + 4), data: b.slice(dataAt, end) });
    } else if (partlyErased) {
      workedAround.push({
        kind: "corrupt",
        offset: addr,
        message: `the file header at byte ${addr} has a name starting with a zero byte but not erased in full: an erased file with a flipped bit, read as erased (nothing lost)`
      });
      erased.push({ offset: addr, nameTail: "", data: b.slice(dataAt, end) });
    } else if (!printable(name)) {
      ok = false;
      const data = b.slice(dataAt, end);
      const segment = holdsSegment(data);
      (segment ? damage : workedAround).push({
        kind: "corrupt",
        offset: addr,
        message:
          `the file header at byte ${addr} has a name with unprintable bytes (${JSON.stringify(name)}): a damaged name` +
          (segment
            ? `; the file holds a log segment (${segmentSummary(data)}) that is not read`
            : `${ourNameNear(b, nameAt)}, skipped (none of the log)`)
      });
    } else {
      if (ourName(name) && raw >>> 24 !== 0)
        workedAround.push({
          kind: "corrupt",
          offset: addr,
          file: name,
          message: `the file header of ${name} at byte ${addr} has Espruino file flags ${raw >>> 24}, but the token writes its files with none (a flipped bit): read as is, but the token itself may no longer read or list the file`
        });
      if (!zeroPadded(b, nameAt, name.length)) {
        workedAround.push({
          kind: "corrupt",
          offset: addr,
          file: name,
          message: `the file header of ${name} at byte ${addr} has non-zero bytes after the name's end (a flipped bit): read as ${name}, but the token itself can no longer find the file by its name`
        });
      }
    }
    const data = b.slice(dataAt, end);
    if (ok && !trash && !partlyErased) keep(name, dataAt, data, addr);
    walked.push({ offset: addr, end, label });
    entries++;
    addr += fileFootprint(end - dataAt);
  }
  findUnreached(b, walked, walkedToEnd, files, dataOffsets, damage);
  for (const [name, data] of files) {
    if (ourName(name)) {
      const day = misnamedTek(name, data);
      if (day !== null)
        workedAround.push({
          kind: "corrupt",
          offset: dataOffsets.get(name)! - STORAGE_HEADER_BYTES,
          file: name,
          message: `${name} holds the key of interval ${day}, not of the one its name gives (a flipped bit in the name): the token reads it as absent, so that day's key is lost to a diagnosis upload (none of the log)`
        });
      continue;
    }
    const at = dataOffsets.get(name)! - STORAGE_HEADER_BYTES;
    if (holdsSegment(data))
      damage.push({
        kind: "corrupt",
        offset: at,
        file: name,
        message: `${name} holds a log segment (${segmentSummary(data)}) but its name is not ${LOG_PREFIX}<n>: a damaged file name${ourNameNear(b, at + 4)}; its records are not read`
      });
    else if (ourNameNear(b, at + 4))
      workedAround.push({
        kind: "corrupt",
        offset: at,
        file: name,
        message: `${JSON.stringify(name)} is one bit from a name of the token's own${ourNameNear(b, at + 4)}: the token has lost that file (none of the log)`
      });
  }
  return { files, dataOffsets, partialFiles, entries, erased, damage, workedAround };
}

/** What a segment's header says, for messages. */
function segmentSummary(data: Uint8Array): string {
  const h = decodeHeader(data)!;
  let written = 0;
  for (let o = HEADER_BYTES; o + RECORD_BYTES <= data.length; o += RECORD_BYTES) if (!isErased(data, o, o + RECORD_BYTES)) written++;
  return `${written} written slot(s), base ${h.flags & FLAG_UTC ? new Date(h.base * 1000).toISOString() : `uptime ${h.base} s`}`;
}

/**
 * Headers of our files the walk did not reach: a damaged size jumped over
 * them, or the walk stopped at a damaged header. They are reported (and
 * their files read, for a caller that accepts damage): the token itself
 * cannot see them either.
 */
function findUnreached(
  b: Uint8Array,
  walked: readonly Walked[],
  walkedToEnd: boolean,
  files: Map<string, Uint8Array>,
  dataOffsets: Map<string, number>,
  damage: FlashDamage[]
): void {
  const at = new Set(walked.map((w) => w.offset));
  const found: Array<{ offset: number; name: string }> = [];
  for (let p = 0; p + STORAGE_HEADER_BYTES <= b.length; p += 4) {
    if (at.has(p)) continue;
    const h = ourHeaderAt(b, p);
    if (!h) continue;
    found.push({ offset: p, name: h.name });
    if (!files.has(h.name)) {
      files.set(h.name, b.slice(p + STORAGE_HEADER_BYTES, p + STORAGE_HEADER_BYTES + h.size));
      dataOffsets.set(h.name, p + STORAGE_HEADER_BYTES);
    }
    // Skip its data: a header inside it would be the file's own bytes.
    p += fileFootprint(h.size) - 4;
  }
  if (!found.length) return;
  const first = found[0].offset;
  const inside = walked.find((w) => w.offset < first && first < w.end);
  const where = inside
    ? `; they lie inside the data the file header of ${inside.label} at byte ${inside.offset} claims (to byte ${inside.end}), so that header's size is damaged`
    : walkedToEnd
      ? ""
      : "; the walk stopped at a damaged header before them";
  damage.push({
    kind: "corrupt",
    offset: first,
    message: `file header(s) the journal walk did not reach: ${found.map((f) => `${f.name} (byte ${f.offset})`).join(", ")}${where}. The token cannot see these files either; with --partial they are read`
  });
}

/**
 * Damage before a single whole entry and no file of ours anywhere: not a
 * Storage image at all (some other file), or one cut inside its first file.
 * (A damaged first header with our files after it is a damaged image.)
 */
export function notAStorageImage(img: StorageImage): boolean {
  return img.entries === 0 && img.damage.length > 0 && ![...img.files.keys()].some((n) => n.startsWith(OUR_PREFIX));
}
