/**
 * Espruino's `Storage` journal (2v2x `jsflash.c`), byte for byte, over a
 * simulated flash, laid out as wire/storage.ts says (the token and the host
 * share that layout).
 *
 * A file is erased by zeroing the first 4 bytes of its name: it stays on
 * flash as garbage ("trash") until compaction copies the live files down
 * to the start and erases the pages behind them. New files are always
 * appended after the last header. Everything here works on host values
 * (Uint8Array, string); `storage-module.ts` binds it to the emulated globals.
 */
import {
  STORAGE_ALIGN as ALIGN,
  STORAGE_HEADER_BYTES as HEADER_BYTES,
  STORAGE_NAME_BYTES as NAME_BYTES,
  STORAGE_SIZE_MASK as SIZE_MASK
} from "../../../../firmware/src/wire/storage";
import { Flash } from "./flash";

/** Header flag of a StorageFile chunk (`open(name, "a")`), which the token never writes. */
export const FLAG_STORAGEFILE = 64;

/** An error Espruino would raise (the binding rethrows it as the token's own Error). */
export class StorageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StorageError";
  }
}

export interface StorageStats {
  totalBytes: number;
  freeBytes: number;
  fileBytes: number;
  fileCount: number;
  trashBytes: number;
  trashCount: number;
}

interface Header {
  /** Address of the header. */
  addr: number;
  size: number;
  flags: number;
  /** Raw 28 name bytes. */
  name: Uint8Array;
  /** The 28 bytes as an 8-bit string without trailing zeros (equal keys = equal names). */
  key: string;
  trash: boolean;
}

/**
 * What a walk of the journal finds, kept between calls: the firmware writes a
 * log record into an existing file many times a minute across a world of
 * tokens, and walking every header for each write is what a token does but
 * not what a simulator can afford. The index is rebuilt by a full walk
 * whenever the flash changed behind its back (a write it did not follow, a
 * cut write, compaction, a test poking the flash), so every answer is the
 * one a walk would give.
 */
interface JournalIndex {
  /** Every header, live and trash, in flash order. */
  headers: Header[];
  /** Where the next file would go. */
  end: number;
  /** The first live header per name key, in flash order (what a lookup finds). */
  live: Map<string, Header>;
}

const align = (n: number): number => (n + ALIGN - 1) & ~(ALIGN - 1);

/** Espruino keeps the first 28 characters of a name (and drops the rest silently); 8-bit chars. */
export function nameBytes(name: string): Uint8Array {
  const out = new Uint8Array(NAME_BYTES);
  for (let i = 0; i < name.length && i < NAME_BYTES; i++) out[i] = name.charCodeAt(i) & 0xff;
  return out;
}

export function nameString(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length && bytes[i] !== 0; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

/**
 * A name's index key: its 28 bytes without the trailing zeros, as an 8-bit
 * string. For the usual short 8-bit name that is the name itself (no
 * allocation on the per-write lookup).
 */
function keyOfBytes(bytes: Uint8Array): string {
  let n = Math.min(bytes.length, NAME_BYTES);
  while (n > 0 && bytes[n - 1] === 0) n--;
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

function keyOf(name: string | Uint8Array): string {
  if (typeof name !== "string") return keyOfBytes(name);
  if (name.length > NAME_BYTES || (name.length > 0 && name.charCodeAt(name.length - 1) === 0)) return keyOfBytes(nameBytes(name));
  for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) > 0xff) return keyOfBytes(nameBytes(name));
  return name;
}

function isTrashName(name: Uint8Array): boolean {
  return name[0] === 0 && name[1] === 0 && name[2] === 0 && name[3] === 0;
}

const ZERO4 = new Uint8Array(4);

export class EspruinoStorage {
  private idx: JournalIndex | undefined;
  /** flash.changes when the index was last known to match the flash. */
  private idxChanges = -1;

  constructor(readonly flash: Flash) {}

  get capacity(): number {
    return this.flash.size;
  }

  // ---------------------------------------------------------------- journal walk

  private readHeader(addr: number): Header | undefined {
    const b = this.flash.bytes;
    if (addr + HEADER_BYTES > b.length) return undefined;
    const raw = (b[addr] | (b[addr + 1] << 8) | (b[addr + 2] << 16) | (b[addr + 3] << 24)) >>> 0;
    const size = raw & SIZE_MASK;
    if (raw === 0xffffffff || raw === 0 || addr + HEADER_BYTES + size > b.length) return undefined;
    const name = b.slice(addr + 4, addr + 4 + NAME_BYTES);
    return { addr, size, flags: raw >>> 24, name, key: keyOfBytes(name), trash: isTrashName(name) };
  }

  /** Walk every header, live and trash, in flash order, as Espruino does. */
  private walk(): JournalIndex {
    const headers: Header[] = [];
    const live = new Map<string, Header>();
    let addr = 0;
    for (;;) {
      const h = this.readHeader(addr);
      if (!h) break;
      headers.push(h);
      if (!h.trash && !live.has(h.key)) live.set(h.key, h);
      addr = align(addr + HEADER_BYTES + h.size);
      if (addr + HEADER_BYTES > this.flash.size) break;
    }
    return { headers, end: Math.min(addr, this.flash.size), live };
  }

  /** The journal as a walk would find it now. */
  private index(): JournalIndex {
    if (this.idx === undefined || this.idxChanges !== this.flash.changes) {
      this.idx = this.walk();
      this.idxChanges = this.flash.changes;
    }
    return this.idx;
  }

  /**
   * Program flash on behalf of the journal. `follow` brings the index up to
   * date with what was written and returns false when it cannot vouch for the
   * result (the next lookup then walks). A cut write throws past it, leaving
   * the index stale.
   */
  private program(addr: number, data: Uint8Array, follow: (idx: JournalIndex) => boolean): void {
    const idx = this.idx !== undefined && this.idxChanges === this.flash.changes ? this.idx : undefined;
    this.flash.program(addr, data);
    if (idx && follow(idx)) this.idxChanges = this.flash.changes;
  }

  private find(name: string | Uint8Array): Header | undefined {
    return this.index().live.get(keyOf(name));
  }

  /**
   * False when a header is neither valid nor blank (a cut during a header
   * write): Espruino checks this at boot and wipes Storage ("Storage is corrupt.").
   */
  isValid(): boolean {
    const { end } = this.index();
    if (end + HEADER_BYTES > this.flash.size) return true;
    return this.flash.isErased(end, HEADER_BYTES);
  }

  // ---------------------------------------------------------------- primitives

  private eraseAt(h: Header): void {
    this.program(h.addr + 4, ZERO4, (idx) => {
      const key = h.key;
      for (let i = 0; i < 4; i++) h.name[i] = 0;
      h.key = keyOfBytes(h.name);
      h.trash = true;
      if (idx.live.get(key) === h) {
        idx.live.delete(key);
        // Another live file of the same name (only a damaged journal has one) is what a walk finds next.
        for (const o of idx.headers)
          if (!o.trash && o.key === key) {
            idx.live.set(key, o);
            break;
          }
      }
      return true;
    });
  }

  private create(name: Uint8Array, size: number, flags: number): Header {
    const required = align(size) + HEADER_BYTES;
    let end = this.index().end;
    if (end + required > this.flash.size) {
      // Espruino compacts once, then gives up.
      this.compact();
      end = this.index().end;
      if (end + required > this.flash.size) throw new StorageError("Unable to find or create file");
    }
    const header = new Uint8Array(HEADER_BYTES);
    const raw = (size | (flags << 24)) >>> 0;
    header[0] = raw & 0xff;
    header[1] = (raw >>> 8) & 0xff;
    header[2] = (raw >>> 16) & 0xff;
    header[3] = raw >>> 24;
    header.set(name.subarray(0, NAME_BYTES), 4);
    const n = header.slice(4);
    const h: Header = { addr: end, size, flags, name: n, key: keyOfBytes(n), trash: isTrashName(n) };
    this.program(end, header, (idx) => {
      // The walk reads back exactly this header only if the bytes were blank, and stops
      // after it only if nothing header-like follows; otherwise let a full walk decide.
      const next = align(end + HEADER_BYTES + size);
      if (!this.equals(end, header) || this.readHeader(next) !== undefined) return false;
      idx.headers.push(h);
      if (!h.trash && !idx.live.has(h.key)) idx.live.set(h.key, h);
      idx.end = Math.min(next, this.flash.size);
      return true;
    });
    return h;
  }

  // ---------------------------------------------------------------- the Storage API

  /**
   * `Storage.write(name, data, offset, size)` as jsfWriteFile does it:
   * - offset 0: a missing file, or one of another size, or one already
   *   written to, is replaced by a new file of `size` (or data length) bytes —
   *   unless the whole content is identical, which writes nothing;
   *   an existing blank file of the same size is written in place.
   * - offset > 0: writes in place into the existing file; the target bytes
   *   must still be erased (0xFF), else "File already written with different data".
   */
  write(name: string | Uint8Array, data: Uint8Array, offset = 0, sizeArg = 0, flags = 0): boolean {
    // Espruino returns false (no exception) for a negative offset or size.
    if (offset < 0 || sizeArg < 0) return false;
    const size = sizeArg || data.length;
    if (!size) throw new StorageError("Can't create zero length file");
    let h = this.find(name);
    if (offset === 0 && (!h || h.flags !== flags || h.size !== size || !this.flash.isErased(h.addr + HEADER_BYTES, size))) {
      if (h && h.size === size && h.flags === flags && data.length === size && this.equals(h.addr + HEADER_BYTES, data)) return true;
      if (h) this.eraseAt(h);
      h = this.create(typeof name === "string" ? nameBytes(name) : name, size, flags);
    }
    if (!h) throw new StorageError("Unable to find or create file");
    if (offset + data.length > h.size) throw new StorageError("Too much data for file size");
    const at = h.addr + HEADER_BYTES + offset;
    if (!this.flash.isErased(at, data.length)) throw new StorageError("File already written with different data");
    // Inside the file's data: no header changes.
    this.program(at, data, () => true);
    return true;
  }

  private equals(addr: number, data: Uint8Array): boolean {
    const b = this.flash.bytes;
    for (let i = 0; i < data.length; i++) if (b[addr + i] !== data[i]) return false;
    return true;
  }

  /** File bytes (a copy), or undefined. `offset`/`length` clip as jsfReadFile does. */
  read(name: string, offset = 0, length = 0): Uint8Array | undefined {
    const v = this.view(name, offset, length);
    return v === undefined ? undefined : v.slice();
  }

  /**
   * Like `read`, but a view of the flash itself: valid only until the next
   * write, for callers that copy it straight away (into a token's realm).
   */
  view(name: string, offset = 0, length = 0): Uint8Array | undefined {
    const h = this.find(name);
    if (!h) return undefined;
    const len = h.size;
    let off = offset < 0 ? 0 : offset;
    let l = length <= 0 ? len : length;
    if (off > len) off = len;
    if (off + l > len) l = len - off;
    if (l <= 0) return new Uint8Array(0);
    const start = h.addr + HEADER_BYTES + off;
    return this.flash.bytes.subarray(start, start + l);
  }

  /** Size and address of a live file's data (for StorageFile). */
  locate(name: string | Uint8Array): { dataAddr: number; size: number; flags: number } | undefined {
    const h = this.find(name);
    return h ? { dataAddr: h.addr + HEADER_BYTES, size: h.size, flags: h.flags } : undefined;
  }

  /** Raw in-place flash write with no erased-check (what StorageFile appends use; the index walks again after it). */
  programRaw(addr: number, data: Uint8Array): void {
    this.flash.program(addr, data);
  }

  /** True when the file existed. */
  erase(name: string | Uint8Array): boolean {
    const h = this.find(name);
    if (!h) return false;
    this.eraseAt(h);
    return true;
  }

  /** Names of live files, StorageFile chunks reported as `name\1` only (or stripped with sf:true). */
  list(filter?: { sf?: boolean }): string[] {
    const out: string[] = [];
    for (const h of this.index().headers) {
      if (h.trash) continue;
      const isSf = (h.flags & FLAG_STORAGEFILE) !== 0;
      if (filter && filter.sf === true && !isSf) continue;
      if (filter && filter.sf === false && isSf) continue;
      let name = nameString(h.name);
      if (isSf) {
        if (name.charCodeAt(name.length - 1) !== 1) continue;
        if (filter && filter.sf === true) name = name.slice(0, -1);
      }
      out.push(name);
    }
    return out;
  }

  getStats(): StorageStats {
    const { headers, end } = this.index();
    const s: StorageStats = {
      totalBytes: this.flash.size,
      freeBytes: this.flash.size - end,
      fileBytes: 0,
      fileCount: 0,
      trashBytes: 0,
      trashCount: 0
    };
    for (const h of headers) {
      const bytes = align(h.size) + HEADER_BYTES;
      if (h.trash) {
        s.trashBytes += bytes;
        s.trashCount++;
      } else {
        s.fileBytes += bytes;
        s.fileCount++;
      }
    }
    return s;
  }

  /** Bytes free after the last file: the largest file (with header) that fits without compacting. */
  getFree(): number {
    return this.flash.size - this.index().end;
  }

  /**
   * Copy live files down to the start, erasing each page just before it is
   * rewritten, then erase the pages left behind. Not power-cut safe, exactly
   * like the device: a cut after a page erase loses what was buffered for it.
   * (On a token this needs up to a page of free RAM; the emulation always has it.)
   */
  compact(): void {
    const { headers, end } = this.index();
    if (!headers.some((h) => h.trash)) return;
    const live = headers.filter((h) => !h.trash);
    let total = 0;
    for (const h of live) total += HEADER_BYTES + align(h.size);
    const image = new Uint8Array(total).fill(0xff);
    let p = 0;
    for (const h of live) {
      image.set(this.flash.bytes.subarray(h.addr, h.addr + HEADER_BYTES + h.size), p);
      p += HEADER_BYTES + align(h.size);
    }
    const pageBytes = this.flash.pageBytes;
    const usedPages = Math.ceil(end / pageBytes);
    for (let page = 0; page < usedPages; page++) {
      this.flash.erasePage(page);
      const from = page * pageBytes;
      if (from < total) this.flash.program(from, image.subarray(from, Math.min(total, from + pageBytes)));
    }
  }

  /** Erase every page (Espruino's `Storage.eraseAll()` and its answer to corrupt storage at boot). */
  eraseAll(): void {
    for (let page = 0; page < this.flash.pages; page++)
      if (!this.flash.isErased(page * this.flash.pageBytes, this.flash.pageBytes)) this.flash.erasePage(page);
  }
}
