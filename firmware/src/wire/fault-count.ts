/**
 * The token's count of runtime faults (exceptions its guards caught), kept in
 * flash for the kiosk: file FAULT_COUNT_FILE of FAULT_SLOTS slots of 4 bytes,
 * each the cumulative count as uint32 LE with bit 31 clear, appended in place;
 * the last written slot holds the count. When every slot is used the file is
 * written anew with the count in slot 0. Shared with host tools.
 */
export var FAULT_COUNT_FILE = "pt.err";
export var FAULT_SLOTS = 16;
/** Boots since provisioning, in the same layout (one slot written per boot; the sync INFO reports it). */
export var BOOT_COUNT_FILE = "pt.boot";

/**
 * The persisted count and the first free slot, as [count, slot]. A slot is
 * free only if all four bytes are 0xFF: a power cut after the first bytes
 * leaves a torn slot (top byte still 0xFF, never a value's, as bit 31 is kept
 * clear) that must be skipped, not written over.
 */
export function savedFaults(b: Uint8Array | undefined): number[] {
  var count = 0;
  var slot = 0;
  if (b)
    for (
      ;
      slot < FAULT_SLOTS && slot * 4 + 3 < b.length && (b[slot * 4] & b[slot * 4 + 1] & b[slot * 4 + 2] & b[slot * 4 + 3]) !== 255;
      slot++
    )
      if (b[slot * 4 + 3] !== 255) count = b[slot * 4] + b[slot * 4 + 1] * 256 + b[slot * 4 + 2] * 65536 + b[slot * 4 + 3] * 16777216;
  return [count, slot];
}
