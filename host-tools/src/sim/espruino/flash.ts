/**
 * Raw NOR flash as the nRF52 has it: erased bytes read 0xFF, programming can
 * only clear bits (new = old AND data), and only a whole page can be erased.
 * Power cuts are injected here, at the byte, so every layer above (Storage
 * journal, compaction, StorageFile) is interrupted exactly where a real cut
 * would interrupt it.
 */

/** Thrown by a flash write that a scheduled power cut interrupted. */
export class PowerCutError extends Error {
  constructor(readonly address: number) {
    super(`power cut while writing flash at 0x${address.toString(16)}`);
    this.name = "PowerCutError";
  }
}

/** nRF52 flash is specified for 10,000 erase cycles per page. */
export const ERASE_ENDURANCE_CYCLES = 10_000;

export interface FlashWear {
  /** Page erases since the flash was made, per page. */
  pageErases: number[];
  totalPageErases: number;
  maxPageErases: number;
  /** Pages erased more often than the endurance rating. */
  wornOutPages: number;
}

export class Flash {
  readonly bytes: Uint8Array;
  private readonly eraseCounts: Uint32Array;
  /** Bytes programmed since creation (what the energy model and wear figures count). */
  bytesWritten = 0;
  /** Writes that tried to turn a 0 bit back into 1 (impossible on NOR flash; the result is the AND). */
  bitConflicts = 0;
  /**
   * Bumped by every program and page erase (before the bytes change, so an
   * interrupted write bumps it too): lets a reader keep what it derived from
   * the bytes (the Storage journal's index) until someone else writes.
   */
  changes = 0;
  /** Bytes left before a scheduled power cut, or -1 when none is scheduled. */
  private cutCountdown = -1;
  /** Told about a power cut before the interrupted write throws, so the token can die first. */
  onPowerCut: (() => void) | undefined;

  constructor(
    readonly size: number,
    readonly pageBytes: number
  ) {
    if (size <= 0 || size % pageBytes !== 0)
      throw new RangeError(`flash: size ${size} must be a positive multiple of the page size ${pageBytes}`);
    this.bytes = new Uint8Array(size).fill(0xff);
    this.eraseCounts = new Uint32Array(size / pageBytes);
  }

  get pages(): number {
    return this.eraseCounts.length;
  }

  /**
   * Schedule a power cut: the `n`-th byte programmed from now on (1 = the next
   * one) is the last one that reaches flash; the write then throws PowerCutError.
   */
  cutAfterBytes(n: number): void {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`cutAfterBytes: n must be an integer ≥ 1, got ${n}`);
    this.cutCountdown = n;
  }

  cancelCut(): void {
    this.cutCountdown = -1;
  }

  get cutPending(): boolean {
    return this.cutCountdown > 0;
  }

  /** Program bytes: each byte becomes old AND new. */
  program(addr: number, data: Uint8Array): void {
    if (addr < 0 || addr + data.length > this.size)
      throw new RangeError(`flash: write of ${data.length} bytes at ${addr} is outside 0..${this.size}`);
    const b = this.bytes;
    this.changes++;
    if (this.cutCountdown <= 0) {
      // No cut scheduled (the usual case, compaction included): no per-byte countdown.
      const n = data.length;
      for (let i = 0; i < n; i++) {
        const old = b[addr + i];
        const v = data[i];
        if ((old & v) !== v) this.bitConflicts++;
        b[addr + i] = old & v;
      }
      this.bytesWritten += n;
      return;
    }
    for (let i = 0; i < data.length; i++) {
      const old = b[addr + i];
      const v = data[i];
      if ((old & v) !== v) this.bitConflicts++;
      b[addr + i] = old & v;
      this.bytesWritten++;
      if (this.cutCountdown > 0 && --this.cutCountdown === 0) {
        this.cutCountdown = -1;
        if (this.onPowerCut) this.onPowerCut();
        throw new PowerCutError(addr + i);
      }
    }
  }

  erasePage(page: number): void {
    const start = page * this.pageBytes;
    this.changes++;
    this.bytes.fill(0xff, start, start + this.pageBytes);
    this.eraseCounts[page]++;
  }

  isErased(addr: number, len: number): boolean {
    const b = this.bytes;
    for (let i = addr; i < addr + len; i++) if (b[i] !== 0xff) return false;
    return true;
  }

  wear(): FlashWear {
    const pageErases = Array.from(this.eraseCounts);
    let total = 0;
    let max = 0;
    let worn = 0;
    for (const n of pageErases) {
      total += n;
      if (n > max) max = n;
      if (n > ERASE_ENDURANCE_CYCLES) worn++;
    }
    return { pageErases, totalPageErases: total, maxPageErases: max, wornOutPages: worn };
  }
}
