/**
 * CRC-32 (IEEE: reflected polynomial 0xEDB88320, init and final xor all ones,
 * as zlib) of `b[start..end)`, as a signed 32-bit integer. Table-less like
 * crc8: it runs over a few small files, a few times a day at most. The
 * polynomial is written as its signed value so the interpreter never holds it
 * as a double.
 */
export function crc32(b: Uint8Array, start: number, end: number): number {
  var c = -1;
  for (var i = start; i < end; i++) {
    c ^= b[i];
    for (var k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ -306674912 : c >>> 1;
  }
  return c ^ -1;
}
