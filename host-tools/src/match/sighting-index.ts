import { enIntervalNumber } from "./derive";
import { MIN_PREFIX_BYTES, RPI_BYTES, Sighting } from "./sightings";

/**
 * Sightings laid out for the matching hot loop: flat typed arrays only, so the
 * index crosses into a worker thread by structured clone, once, and lookups
 * allocate nothing.
 *
 * Lookup key: the first 4 bytes of an RPI read as an int32 (every stored
 * prefix has at least 5 bytes, so every sighting has them). RPIs are AES
 * output, so those bits are already uniform and need no further hashing; an
 * open-addressing table of at least 4x the sightings makes a miss, the case for
 * all but a handful of the millions of derived RPIs, one or two array reads.
 * A hit then compares the rest of the sighting's stored prefix (5 to 16 bytes)
 * and the ±12-interval window.
 */

/** A sighting matches an RPI only within ±12 intervals (±2 h) of the RPI's own interval. */
export const MATCH_TOLERANCE_INTERVALS = 12;

export interface SightingIndex {
  count: number;
  /** 16 bytes a sighting: its stored prefix, zero-padded. */
  prefixes: Uint8Array;
  prefixLen: Uint8Array;
  /** The interval each sighting was heard in. */
  enin: Int32Array;
  mask: number;
  slotKey: Int32Array;
  /** First sighting (index + 1) whose RPI starts with slotKey; 0 = empty slot. */
  slotHead: Int32Array;
  /** Next sighting (index + 1) with the same first 4 bytes; 0 = end of chain. */
  next: Int32Array;
  /** Distinct sighting intervals, ascending: lets a key out of every sighting's reach be skipped before any crypto. */
  intervals: Int32Array;
}

export function first4(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24);
}

export function buildSightingIndex(sightings: readonly Sighting[]): SightingIndex {
  const n = sightings.length;
  let size = 16;
  while (size < n * 4) size *= 2;
  const idx: SightingIndex = {
    count: n,
    prefixes: new Uint8Array(n * RPI_BYTES),
    prefixLen: new Uint8Array(n),
    enin: new Int32Array(n),
    mask: size - 1,
    slotKey: new Int32Array(size),
    slotHead: new Int32Array(size),
    next: new Int32Array(n),
    intervals: new Int32Array(0)
  };
  // Insert in reverse so each chain lists sightings in file order.
  for (let s = n - 1; s >= 0; s--) {
    const sg = sightings[s];
    if (sg.rpi.length < MIN_PREFIX_BYTES || sg.rpi.length > RPI_BYTES)
      throw new RangeError(`sighting ${s}: RPI prefix of ${sg.rpi.length} bytes`);
    idx.prefixes.set(sg.rpi, s * RPI_BYTES);
    idx.prefixLen[s] = sg.rpi.length;
    const enin = enIntervalNumber(sg.time);
    // An int32 would wrap silently (e.g. a time in milliseconds); parseSightings rejects those first.
    if (!(enin >= 0 && enin <= 0x7fffffff)) throw new RangeError(`sighting ${s}: time ${sg.time} is not unix seconds in range`);
    idx.enin[s] = enin;
    const h = first4(sg.rpi, 0);
    let slot = h & idx.mask;
    while (idx.slotHead[slot] !== 0 && idx.slotKey[slot] !== h) slot = (slot + 1) & idx.mask;
    idx.next[s] = idx.slotHead[slot];
    idx.slotKey[slot] = h;
    idx.slotHead[slot] = s + 1;
  }
  idx.intervals = Int32Array.from(new Set(idx.enin)).sort();
  return idx;
}

/** Whether any sighting lies in intervals lo…hi inclusive (binary search). */
export function anySightingIn(idx: SightingIndex, lo: number, hi: number): boolean {
  const a = idx.intervals;
  let l = 0;
  let r = a.length;
  while (l < r) {
    const m = (l + r) >>> 1;
    if (a[m] < lo) l = m + 1;
    else r = m;
  }
  return l < a.length && a[l] <= hi;
}
