/**
 * CRC-8 (polynomial 0x07, init 0) over `b[start..end)`: the commit check of
 * log records and segment headers. Table-less because every byte of code costs
 * flash; it runs once per stored record, never per packet.
 */
export function crc8(b: Uint8Array, start: number, end: number): number {
  var c = 0;
  for (var i = start; i < end; i++) {
    c ^= b[i];
    for (var k = 0; k < 8; k++) c = c & 128 ? ((c << 1) ^ 7) & 255 : (c << 1) & 255;
  }
  return c;
}
