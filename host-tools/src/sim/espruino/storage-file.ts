/**
 * `StorageFile` (`Storage.open`), as jswrap_storage.c does it: text appended
 * into fixed-size chunk files named `name\1`, `name\2`…, each created with
 * the StorageFile flag and written in place. Erased flash (0xFF) marks the end
 * of the data, so a 0xFF byte written into a StorageFile truncates it on read.
 */
import { EspruinoStorage, FLAG_STORAGEFILE, StorageError, nameBytes } from "./storage";

/** Chunk data size: one page minus the header, or ten pages on boards with megabytes of external flash. */
export function storageFileChunkBytes(totalStorageBytes: number, pageBytes: number): number {
  return totalStorageBytes < 1_000_000 ? Math.min(pageBytes, 4096) - 32 : pageBytes * 10 - 32;
}

export type StorageFileMode = "r" | "w" | "a";

export class StorageFileHandle {
  private readonly base: Uint8Array;
  /** Index of the chunk number byte in the 28-byte name. */
  private readonly chunkIndex: number;
  private chunk = 1;
  private offset = 0;
  private addr = 0;
  private len = 0;
  private mode: StorageFileMode | 0;

  constructor(
    private readonly storage: EspruinoStorage,
    name: string,
    mode: StorageFileMode,
    private readonly chunkBytes: number
  ) {
    this.base = nameBytes(name.slice(0, 28));
    let i = 27;
    while (i > 0 && this.base[i - 1] === 0) i--;
    this.chunkIndex = i;
    this.mode = mode;
    let f = this.storage.locate(this.chunkName());
    if (mode === "w" && f) {
      this.erase();
      this.mode = "w";
      f = undefined;
    }
    if (f) {
      this.addr = f.dataAddr;
      this.len = f.size;
    }
    if (mode === "a") this.seekEnd();
  }

  private chunkName(chunk = this.chunk): Uint8Array {
    const n = this.base.slice();
    n[this.chunkIndex] = chunk;
    return n;
  }

  private lastByte(addr: number, size: number): number {
    return this.storage.flash.bytes[addr + size - 1];
  }

  private seekEnd(): void {
    while (this.addr && this.lastByte(this.addr, this.len) !== 0xff && this.chunk < 255) {
      this.chunk++;
      const f = this.storage.locate(this.chunkName());
      this.addr = f ? f.dataAddr : 0;
      this.len = f ? f.size : 0;
    }
    this.offset = 0;
    if (this.addr) {
      const b = this.storage.flash.bytes;
      while (this.offset < this.len && b[this.addr + this.offset] !== 0xff) this.offset++;
    }
  }

  /** Up to `len` bytes (or one line, with `line`), undefined at the end. */
  read(len: number, line = false): string | undefined {
    if (this.mode !== "r") throw new StorageError("Can't read in this mode");
    if (!this.addr) return undefined;
    const b = this.storage.flash.bytes;
    let out: string | undefined;
    let want = line ? Infinity : Math.max(0, len);
    while (want > 0) {
      if (this.offset >= this.len) {
        this.offset = 0;
        if (this.chunk === 255) this.addr = 0;
        else {
          this.chunk++;
          const f = this.storage.locate(this.chunkName());
          this.addr = f ? f.dataAddr : 0;
          this.len = f ? f.size : 0;
        }
        if (!this.addr) return out;
      }
      const ch = b[this.addr + this.offset];
      if (ch === 0xff) break;
      out = (out ?? "") + String.fromCharCode(ch);
      this.offset++;
      want--;
      if (line && ch === 10) break;
    }
    return out;
  }

  /** Append. Bytes go straight to flash in place; a full chunk continues in the next one. */
  write(data: Uint8Array): void {
    if (this.mode !== "w" && this.mode !== "a") throw new StorageError("Can't write in this mode");
    if (data.length === 0) return;
    if (!this.addr) {
      this.createChunk(data);
      return;
    }
    // Compaction may have moved the chunk since we last looked.
    const f = this.storage.locate(this.chunkName());
    if (!f) throw new StorageError("File deleted while writing!");
    this.addr = f.dataAddr;
    const remaining = this.len - this.offset;
    if (data.length < remaining) {
      this.storage.programRaw(this.addr + this.offset, data);
      this.offset += data.length;
      return;
    }
    this.storage.programRaw(this.addr + this.offset, data.subarray(0, remaining));
    if (this.chunk === 255) throw new StorageError("File too big!");
    this.chunk++;
    this.createChunk(data.subarray(remaining));
  }

  private createChunk(data: Uint8Array): void {
    this.storage.write(this.chunkName(), data, 0, this.chunkBytes, FLAG_STORAGEFILE);
    const f = this.storage.locate(this.chunkName())!;
    this.addr = f.dataAddr;
    this.len = f.size;
    this.offset = data.length;
  }

  getLength(): number {
    let chunk = 1;
    let length = 0;
    let f = this.storage.locate(this.chunkName(chunk));
    while (f && this.lastByte(f.dataAddr, f.size) !== 0xff && chunk < 255) {
      length += f.size;
      chunk++;
      f = this.storage.locate(this.chunkName(chunk));
    }
    if (f) {
      const b = this.storage.flash.bytes;
      let o = 0;
      while (o < f.size && b[f.dataAddr + o] !== 0xff) o++;
      length += o;
    }
    return length;
  }

  erase(): void {
    for (let chunk = 1; chunk <= 255; chunk++) if (!this.storage.erase(this.chunkName(chunk))) break;
    this.chunk = 1;
    this.offset = 0;
    this.addr = 0;
    this.mode = 0;
  }
}
