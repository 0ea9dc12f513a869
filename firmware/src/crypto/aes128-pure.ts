/**
 * AES-128 encryption of one 16-byte block (FIPS 197) in plain ES5, for boards
 * without Espruino's `crypto.AES`. Encryption only: GAEN never decrypts a block
 * (AEM decryption is the same XOR as encryption).
 */

/** The S-box, computed on first use: the code is smaller than a 256-byte literal. */
var S: Uint8Array | undefined;

/** Multiply by x in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1. */
function xt(x: number): number {
  return (x << 1) ^ ((x >> 7) * 0x11b);
}

function init(): Uint8Array {
  var s = new Uint8Array(256);
  // Walk the field with generator 3 (p) and its inverse (q): q = 1/p, then
  // the S-box entry of p is the affine transform of q.
  var p = 1;
  var q = 1;
  do {
    p ^= xt(p);
    q ^= q << 1;
    q ^= q << 2;
    q ^= q << 4;
    q &= 255;
    if (q & 0x80) q ^= 0x09;
    var x = q;
    var r = q;
    for (var i = 0; i < 4; i++) {
      r = ((r << 1) | (r >> 7)) & 255;
      x ^= r;
    }
    s[p] = x ^ 0x63;
  } while (p !== 1);
  s[0] = 0x63;
  return s;
}

/**
 * The last key's expansion, kept for the next call with the same key object:
 * a sync session encrypts every counter block under one key, and expanding it
 * is half the work of a block. Keyed by identity, so a caller must not change
 * a key array in place (none does: session and GAEN keys are fresh arrays).
 */
var lastKey: Uint8Array | undefined;
var lastW: Uint8Array | undefined;

export function aes128Pure(block: Uint8Array, key: Uint8Array): Uint8Array {
  var S_ = S || (S = init());
  var i: number;
  var w = lastW;
  if (key !== lastKey || !w) {
    // Key expansion: 11 round keys of 16 bytes.
    w = new Uint8Array(176);
    w.set(key);
    var rc = 1;
    for (i = 16; i < 176; i++) {
      // First word of each round key: SubWord(RotWord(previous word)) ^ Rcon.
      w[i] = w[i - 16] ^ (i % 16 < 4 ? S_[w[i % 4 < 3 ? i - 3 : i - 7]] ^ (i % 16 ? 0 : rc) : w[i - 4]);
      if (i % 16 === 3) rc = xt(rc);
    }
    lastKey = key;
    lastW = w;
  }
  var s = new Uint8Array(16);
  var t = new Uint8Array(16);
  for (i = 0; i < 16; i++) s[i] = block[i] ^ w[i];
  for (var round = 1; round <= 10; round++) {
    // SubBytes and ShiftRows (byte i is row i%4, column i>>2).
    for (i = 0; i < 16; i++) t[i] = S_[s[(i + 4 * (i % 4)) % 16]];
    for (i = 0; i < 16; i++) {
      var c = i & 12;
      var u = t[i];
      // MixColumns: a_i ^ (a0^a1^a2^a3) ^ 2*(a_i ^ a_i+1); skipped in the last round.
      if (round < 10) u ^= t[c] ^ t[c + 1] ^ t[c + 2] ^ t[c + 3] ^ xt(t[i] ^ t[c + ((i + 1) % 4)]);
      s[i] = u ^ w[16 * round + i];
    }
  }
  return s;
}
