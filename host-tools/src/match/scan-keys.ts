import * as crypto from "node:crypto";
import { deriveRpik, paddedData } from "./derive";
import { PackedKeys } from "./packed-keys";
import { anySightingIn, MATCH_TOLERANCE_INTERVALS, SightingIndex } from "./sighting-index";

/**
 * The matching hot loop: per key one HKDF (RPIK) and one AES-128-ECB call over
 * the PaddedData of its whole rolling period, then every 16-byte block of that
 * one output buffer is looked up in the sighting index in place — no per-RPI
 * allocation, no hex strings. AEMK is derived later, only for keys that match.
 *
 * A hit is appended to `hits` as three numbers: key index, the RPI's interval
 * number, sighting index. Returns how many keys were derived (keys with no
 * sighting within ±12 intervals of their validity are skipped unread).
 */

const PADDED_CACHE_LIMIT = 64;

export class PaddedDataCache {
  private readonly cache = new Map<number, Buffer>();

  get(start: number, period: number): Buffer {
    // period ≤ 144 < 256, start < 2^31: the sum is an exact number key.
    const k = start * 256 + period;
    let b = this.cache.get(k);
    if (b === undefined) {
      // Keys of one export share a handful of days; a bound keeps odd inputs from growing it.
      if (this.cache.size >= PADDED_CACHE_LIMIT) this.cache.clear();
      b = paddedData(start, period);
      this.cache.set(k, b);
    }
    return b;
  }
}

export function scanKeys(
  keys: PackedKeys,
  idx: SightingIndex,
  from: number,
  to: number,
  hits: number[],
  padded = new PaddedDataCache()
): number {
  const { prefixes, prefixLen, enin, mask, slotKey, slotHead, next } = idx;
  let derived = 0;
  // node:crypto on a view of a SharedArrayBuffer takes a slow path; a private
  // 16-byte copy (reused: hashing is synchronous) keeps workers as fast as this thread.
  const data = keys.data;
  const tek = Buffer.allocUnsafeSlow(16);
  for (let k = from; k < to; k++) {
    const start = keys.start[k];
    const period = keys.period[k];
    if (!anySightingIn(idx, start - MATCH_TOLERANCE_INTERVALS, start + period - 1 + MATCH_TOLERANCE_INTERVALS)) continue;
    derived++;
    const base = k << 4;
    for (let b = 0; b < 16; b++) tek[b] = data[base + b];
    const rpik = deriveRpik(tek);
    // When encrypting, update() emits every whole block; final() would only add padding.
    const out = crypto.createCipheriv("aes-128-ecb", rpik, null).update(padded.get(start, period));
    for (let i = 0; i < period; i++) {
      const o = i << 4;
      const h = out[o] | (out[o + 1] << 8) | (out[o + 2] << 16) | (out[o + 3] << 24);
      let slot = h & mask;
      let head = slotHead[slot];
      while (head !== 0 && slotKey[slot] !== h) {
        slot = (slot + 1) & mask;
        head = slotHead[slot];
      }
      if (head === 0) continue;
      const j = start + i;
      for (let s = head - 1; s >= 0; s = next[s] - 1) {
        const d = enin[s] - j;
        if (d > MATCH_TOLERANCE_INTERVALS || d < -MATCH_TOLERANCE_INTERVALS) continue;
        const p = s << 4;
        const len = prefixLen[s];
        let b = 4;
        while (b < len && prefixes[p + b] === out[o + b]) b++;
        if (b === len) hits.push(k, j, s);
      }
    }
  }
  return derived;
}
