/**
 * The simulator's seeded randomness, also used by the test helpers: the same
 * seed gives the same run.
 *
 * The world (and every test) draws from `Rng` streams. Every random process
 * (one link's shadowing, one advertiser's jitter, one receiver's fading, one
 * person's day) draws from its own stream whose seed is a hash of the run seed
 * and the stream's name (`mix`), so adding a token to a scenario leaves the
 * other streams' numbers unchanged.
 *
 * An emulated token's hardware (E.hwRand, its factory address) draws from
 * `HwRng`, a different generator: the tokens' draws shape every figure of a
 * run (TEKs, rotation and scan times), so replacing it with `Rng` would change
 * the published care-home figures (docs/care-home-results.md).
 */

/** 32-bit finaliser (murmur3 fmix32): spreads every input bit over the output. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a over a string, finalised: stable ids for names. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

/** Combine integers (or strings) into one 32-bit seed. */
export function mix(...parts: Array<number | string>): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    const v = typeof p === "string" ? hashString(p) : (p >>> 0) ^ Math.floor(p / 4294967296);
    h = fmix32((h ^ v) + 0x9e3779b9 + (h << 6) + (h >>> 2));
  }
  return h;
}

/** mulberry32: small, fast, good enough for a simulation (not for keys). */
export class Rng {
  private state: number;
  private spare: number | undefined;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = Math.imul(this.state ^ (this.state >>> 15), 1 | this.state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in [a, b). */
  uniform(a: number, b: number): number {
    return a + (b - a) * this.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box–Muller, both values used). */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = this.next();
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** 32 random bits (for a stream that needs a seed of its own). */
  u32(): number {
    return Math.floor(this.next() * 4294967296) >>> 0;
  }
}

/**
 * xorshift128 for what an emulated token draws at random (E.hwRand, its
 * factory address): deterministic for a seed, independent per token.
 */
export class HwRng {
  private x: number;
  private y: number;
  private z: number;
  private w: number;

  constructor(seed: number) {
    // splitmix32 spreads any seed (0 included) over the four state words.
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      return fmix32(s);
    };
    this.x = next();
    this.y = next();
    this.z = next();
    this.w = next() || 1;
  }

  /** 32 random bits as an unsigned integer. */
  nextU32(): number {
    const t = this.x ^ (this.x << 11);
    this.x = this.y;
    this.y = this.z;
    this.z = this.w;
    this.w = (this.w ^ (this.w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    return this.w;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }
}
