/**
 * Espruino's `Storage` journal (2v2x `jsflash.c`), byte for byte, over a
 * simulated flash. Layout:
 *
 *   [header 32 B][data, padded to 4 B][header][data]…[0xFF… free to the end]
 *   header = uint32 LE (size in the low 24 bits, flags in the top 8)
 *          + name (28 bytes, zero padded)
 *
 * A file is erased by zeroing the first 4 bytes of its name: it stays on
 * flash as garbage ("trash") until compaction copies the live files down
 * to the start and erases the pages behind them. New files are always
 * appended after the last header. Everything here works on host values
 * (Uint8Array, string); `storage-module.ts` binds it to the emulated globals.
 */
import { Flash } from "./flash";

export const HEADER_BYTES = 32;
export const NAME_BYTES = 28;
/** nRF52 flash is written in 32-bit words, so files start on 4-byte boundaries. */
export const ALIGN = 4;
export const FLAG_STORAGEFILE = 64;
const SIZE_MASK = 0x00ffffff;

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
  trash: boolean;
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

function sameName(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < NAME_BYTES; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class EspruinoStorage {
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
    const trash = name[0] === 0 && name[1] === 0 && name[2] === 0 && name[3] === 0;
    return { addr, size, flags: raw >>> 24, name, trash };
  }

  /** Every header, live and trash, in flash order; `end` is where the next file would go. */
  private walk(): { headers: Header[]; end: number } {
    const headers: Header[] = [];
    let addr = 0;
    for (;;) {
      const h = this.readHeader(addr);
      if (!h) break;
      headers.push(h);
      addr = align(addr + HEADER_BYTES + h.size);
      if (addr + HEADER_BYTES > this.flash.size) break;
    }
    return { headers, end: Math.min(addr, this.flash.size) };
  }

  private find(name: Uint8Array): Header | undefined {
    for (const h of this.walk().headers) if (!h.trash && sameName(h.name, name)) return h;
    return undefined;
  }

  /**
   * False when a header is neither valid nor blank (a cut during a header
   * write): Espruino checks this at boot and wipes Storage ("Storage is corrupt.").
   */
  isValid(): boolean {
    const { end } = this.walk();
    if (end + HEADER_BYTES > this.flash.size) return true;
    return this.flash.isErased(end, HEADER_BYTES);
  }

  // ---------------------------------------------------------------- primitives

  private eraseAt(h: Header): void {
    this.flash.program(h.addr + 4, new Uint8Array(4));
  }

  private create(name: Uint8Array, size: number, flags: number): Header {
    const required = align(size) + HEADER_BYTES;
    let end = this.walk().end;
    if (end + required > this.flash.size) {
      // Espruino compacts once, then gives up.
      this.compact();
      end = this.walk().end;
      if (end + required > this.flash.size) throw new StorageError("Unable to find or create file");
    }
    const header = new Uint8Array(HEADER_BYTES);
    const raw = (size | (flags << 24)) >>> 0;
    header[0] = raw & 0xff;
    header[1] = (raw >>> 8) & 0xff;
    header[2] = (raw >>> 16) & 0xff;
    header[3] = raw >>> 24;
    header.set(name, 4);
    this.flash.program(end, header);
    return { addr: end, size, flags, name, trash: false };
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
    const n = typeof name === "string" ? nameBytes(name) : name;
    let h = this.find(n);
    if (offset === 0 && (!h || h.flags !== flags || h.size !== size || !this.flash.isErased(h.addr + HEADER_BYTES, size))) {
        if (h && h.size === size && h.flags === flags && data.length === size && this.equals(h.addr + HEADER_BYTES, data)) return true;
      if (h) this.eraseAt(h);
      h = this.create(n, size, flags);
    }
    if (!h) throw new StorageError("Unable to find or create file");
    if (offset + data.length > h.size) throw new StorageError("Too much data for file size");
    const at = h.addr + HEADER_BYTES + offset;
    if (!this.flash.isErased(at, data.length)) throw new StorageError("File already written with different data");
    this.flash.program(at, data);
    return true;
  }

  private equals(addr: number, data: Uint8Array): boolean {
    const b = this.flash.bytes;
    for (let i = 0; i < data.length; i++) if (b[addr + i] !== data[i]) return false;
    return true;
  }

  /** File bytes (a copy), or undefined. `offset`/`length` clip as jsfReadFile does. */
  read(name: string, offset = 0, length = 0): Uint8Array | undefined {
    const h = this.find(nameBytes(name));
    if (!h) return undefined;
    const len = h.size;
    let off = offset < 0 ? 0 : offset;
    let l = length <= 0 ? len : length;
    if (off > len) off = len;
    if (off + l > len) l = len - off;
    if (l <= 0) return new Uint8Array(0);
    const start = h.addr + HEADER_BYTES + off;
    return this.flash.bytes.slice(start, start + l);
  }

  /** Size and address of a live file's data (for StorageFile). */
  locate(name: string | Uint8Array): { dataAddr: number; size: number; flags: number } | undefined {
    const h = this.find(typeof name === "string" ? nameBytes(name) : name);
    return h ? { dataAddr: h.addr + HEADER_BYTES, size: h.size, flags: h.flags } : undefined;
  }

  /** Raw in-place flash write with no erased-check (what StorageFile appends use). */
  programRaw(addr: number, data: Uint8Array): void {
    this.flash.program(addr, data);
  }

  /** True when the file existed. */
  erase(name: string | Uint8Array): boolean {
    const h = this.find(typeof name === "string" ? nameBytes(name) : name);
    if (!h) return false;
    this.eraseAt(h);
    return true;
  }

  /** Names of live files, StorageFile chunks reported as `name\1` only (or stripped with sf:true). */
  list(filter?: { sf?: boolean }): string[] {
    const out: string[] = [];
    for (const h of this.walk().headers) {
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
    const { headers, end } = this.walk();
    const s: StorageStats = { totalBytes: this.flash.size, freeBytes: this.flash.size - end, fileBytes: 0, fileCount: 0, trashBytes: 0, trashCount: 0 };
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
    return this.flash.size - this.walk().end;
  }

  /**
   * Copy live files down to the start, erasing each page just before it is
   * rewritten, then erase the pages left behind. Not power-cut safe, exactly
   * like the device: a cut after a page erase loses what was buffered for it.
   * (On a token this needs up to a page of free RAM; the emulation always has it.)
   */
  compact(): void {
    const { headers, end } = this.walk();
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
    for (let page = 0; page < this.flash.pages; page++) if (!this.flash.isErased(page * this.flash.pageBytes, this.flash.pageBytes)) this.flash.erasePage(page);
  }
}
