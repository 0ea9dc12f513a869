/**
 * SHA-256 (FIPS 180-4) in plain ES5 for boards whose Espruino build has no
 * native `crypto.SHA256`. Slow on a token (interpreted), so callers hash only
 * a few short messages per key rotation.
 */

/** Initial hash (8 words) then round constants (64 words); filled on first use. */
var C: Int32Array | undefined;

/**
 * First 32 bits of the fractional part of `x` as an int32. The constants are
 * computed rather than shipped: a 72-word literal costs ~700 bytes of flash,
 * this ~150. Every constant lies at least 0.005 units away from a rounding
 * edge, so any libm within a few ulps gives the exact words (and the boot
 * self-test would catch one that does not).
 */
function frac32(x: number): number {
  var f = Math.floor((x - Math.floor(x)) * 4294967296);
  return f > 2147483647 ? f - 4294967296 : f;
}

function init(): Int32Array {
  var c = new Int32Array(72);
  var n = 0;
  for (var q = 2; n < 64; q++) {
    var prime = true;
    for (var d = 2; d * d <= q; d++) if (q % d === 0) prime = false;
    if (prime) {
      if (n < 8) c[n] = frac32(Math.sqrt(q));
      c[8 + n++] = frac32(Math.pow(q, 1 / 3));
    }
  }
  return c;
}

function ror(x: number, n: number): number {
  return (x >>> n) | (x << (32 - n));
}

export function sha256Pure(data: Uint8Array): Uint8Array {
  var c = C || (C = init());
  var len = data.length;
  // Message, 0x80, zeros, 64-bit big-endian bit length, to a multiple of 64 bytes.
  var n = ((len + 72) >> 6) << 6;
  var m = new Uint8Array(n);
  m.set(data);
  m[len] = 0x80;
  m[n - 5] = len >>> 29; // espruino-index-ok: n = ((len + 72) >> 6) << 6 >= 64
  m[n - 4] = len >>> 21; // espruino-index-ok: n >= 64
  m[n - 3] = len >>> 13; // espruino-index-ok: n >= 64
  m[n - 2] = len >>> 5; // espruino-index-ok: n >= 64
  m[n - 1] = len << 3; // espruino-index-ok: n >= 64
  var h = new Int32Array(8);
  var w = new Int32Array(64);
  var i: number;
  for (i = 0; i < 8; i++) h[i] = c[i];
  for (var off = 0; off < n; off += 64) {
    for (i = 0; i < 64; i++) {
      var j = off + 4 * i;
      if (i < 16) w[i] = (m[j] << 24) | (m[j + 1] << 16) | (m[j + 2] << 8) | m[j + 3];
      else {
        // Read only once i >= 16: on Espruino a negative typed-array index throws.
        var x = w[i - 15];
        var y = w[i - 2];
        w[i] = ((ror(x, 7) ^ ror(x, 18) ^ (x >>> 3)) + w[i - 7] + (ror(y, 17) ^ ror(y, 19) ^ (y >>> 10)) + w[i - 16]) | 0;
      }
    }
    var a = h[0],
      b = h[1],
      cc = h[2],
      d = h[3],
      e = h[4],
      f = h[5],
      g = h[6],
      k = h[7];
    for (i = 0; i < 64; i++) {
      var t1 = (k + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + c[8 + i] + w[i]) | 0;
      var t2 = ((ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & cc) ^ (b & cc))) | 0;
      k = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = cc;
      cc = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h[0] += a;
    h[1] += b;
    h[2] += cc;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += k;
  }
  var out = new Uint8Array(32);
  for (i = 0; i < 32; i++) out[i] = h[i >> 2] >> (24 - 8 * (i & 3));
  return out;
}
