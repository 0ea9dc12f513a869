/**
 * How Espruino lays out one JsVar on a board, from its variable count alone
 * (Espruino 2v2x src/jsutils.h, "JsVarRef stores References for variables"):
 * the fewer variables, the fewer bits per reference, the smaller each block.
 *
 *   vars ≤ 1023 → 10-bit refs, 12-byte blocks     ≤ 2047 → 11 bits, 12 bytes
 *   vars ≤ 4095 → 12-bit refs, 13-byte blocks     ≤ 8191 → 13 bits, 13 bytes
 *   vars ≤ 16383 → 14-bit refs, 14-byte blocks    else   → 16 bits, 16 bytes
 *
 * From the reference size follow the character capacities (JSVAR_DATA_STRING_*):
 * a name holds 4 characters, a string's first block 4 + ⌊3·refBits/8⌋, each
 * string extension 4 + ⌊(3·refBits + refCountBits)/8⌋; and the range of an
 * integer a name can hold in place of a reference (NAME_INT_INT,
 * NAME_STRING_INT): −2^(refBits−1) … 2^(refBits−1)−1.
 *
 * Puck.js (2630 vars): 13-byte blocks, strings 8 + 9 per extension, packed
 * integers −2048…2047. Bangle.js 2 (12000): 14 bytes, 9 + 10, −8192…8191.
 */
export interface JsVarLayout {
  /** JsVars the board has (process.memory().total). */
  count: number;
  /** Bytes per JsVar (process.memory().blocksize). */
  blockBytes: number;
  refBits: number;
  /** Characters a property/variable name holds before it needs extensions. */
  nameChars: number;
  /** Characters in a string's first block. */
  stringChars: number;
  /** Characters in each string extension block. */
  extChars: number;
  /** Integers a name holds in place of a reference. */
  packedMin: number;
  packedMax: number;
  /** Longer than this, Espruino allocates a flat string (header + contiguous blocks) when it can. */
  flatBreakEven: number;
}

export function jsVarLayout(count: number): JsVarLayout {
  let refBits: number;
  let packBits = 0;
  let refCountBits: number;
  if (count <= 254) [refBits, packBits, refCountBits] = [8, 8, 6];
  else if (count <= 1023) [refBits, packBits, refCountBits] = [10, 2, 6];
  else if (count <= 2047) [refBits, refCountBits] = [11, 4];
  else if (count <= 4095) [refBits, refCountBits] = [12, 8];
  else if (count <= 8191) [refBits, refCountBits] = [13, 4];
  else if (count <= 16383) [refBits, refCountBits] = [14, 8];
  else [refBits, refCountBits] = [16, 8];
  const nameChars = 4;
  const stringChars = nameChars + ((refBits * 3 + packBits) >> 3);
  const extChars = nameChars + ((refBits * 3 + packBits + refCountBits) >> 3);
  // varData (name chars + 3 refs + pack + refcount) + last ref + 2 flag bytes, rounded up to whole bytes.
  const blockBytes = refBits >= 16 ? 16 : Math.ceil((nameChars * 8 + refBits * 4 + packBits + refCountBits) / 8) + 2;
  return {
    count,
    blockBytes,
    refBits,
    nameChars,
    stringChars,
    extChars,
    packedMin: -(1 << (refBits - 1)),
    packedMax: (1 << (refBits - 1)) - 1,
    flatBreakEven: stringChars + extChars
  };
}
