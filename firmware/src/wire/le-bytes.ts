/** Write `v` as an `n`-byte little-endian unsigned integer at `b[o]` (n ≤ 4). */
export function putLE(b: Uint8Array, o: number, v: number, n: number): void {
  for (var i = 0; i < n; i++) b[o + i] = (v >>> (8 * i)) & 255;
}

/** The `n`-byte little-endian unsigned integer at `b[o]` (n ≤ 6: exact in a double, never negative). */
export function getLE(b: Uint8Array, o: number, n: number): number {
  var v = 0;
  for (var i = n - 1; i >= 0; i--) v = v * 256 + b[o + i];
  return v;
}
