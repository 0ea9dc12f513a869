/**
 * A close-contact classifier from exposure time per attenuation band, the
 * same for tokens and phones (issue 14, item 3; `simulate` applies the
 * stored models of band-models.ts):
 * a pair-day's features are the minutes credited in each band, as log(1 +
 * minutes) (a contact's time is spread over a few bands, and an hour in a
 * band is not twelve times five minutes' evidence); a logistic regression,
 * fitted on pair-days of other seeds than the one it is judged on, turns
 * them into a probability. The tokens' rule (minutes at or below one
 * threshold) and GAEN's weighted minutes both weigh band minutes with fixed
 * weights; this learns the weights instead.
 */

/** Upper edges (inclusive, dB) of the bands; above the last is one more band. */
export const BAND_EDGES_DB: readonly number[] = [45, 50, 55, 60, 65, 70];

/** Minutes per band of one pair-day, from (attenuation, seconds) credits. */
export function bandMinutes(credits: Iterable<{ attenuationDb: number; seconds: number }>, edges = BAND_EDGES_DB): number[] {
  const out = new Array<number>(edges.length + 1).fill(0);
  for (const c of credits) {
    let b = 0;
    while (b < edges.length && c.attenuationDb > edges[b]) b++;
    out[b] += c.seconds / 60;
  }
  return out;
}

export function features(minutes: readonly number[]): number[] {
  return minutes.map((m) => Math.log1p(m));
}

/**
 * Half-width of the span, s, over which a token's scan is averaged with the
 * pair's other scans: a 15-minute contact is 2–3 of a token's scans, and
 * the shadowing of a stay changes within minutes (docs/simulator.md).
 */
export const SMOOTHING_HALF_SPAN_S = 900;

export interface TimedCredit {
  time: number;
  attenuationDb: number;
  packets: number;
  seconds: number;
}

/**
 * Each scan credited at the packet-weighted mean attenuation of the pair's
 * scans within ±SMOOTHING_HALF_SPAN_S of it. One scan of a token hears
 * 1–3 packets, so its attenuation is noisy; its neighbours in the same stay
 * are evidence about the same distance (the study behind docs/simulator.md
 * separates 1–2 m from 3–4 m at AUC 0.73 per scan but 0.82 over ≥ 2 scans).
 */
export function smoothedCredits(scans: readonly TimedCredit[]): Array<{ attenuationDb: number; seconds: number }> {
  const s = [...scans].sort((a, b) => a.time - b.time);
  const out: Array<{ attenuationDb: number; seconds: number }> = [];
  let lo = 0;
  let hi = 0;
  let sum = 0;
  let weight = 0;
  for (const c of s) {
    while (hi < s.length && s[hi].time <= c.time + SMOOTHING_HALF_SPAN_S) {
      sum += s[hi].attenuationDb * s[hi].packets;
      weight += s[hi].packets;
      hi++;
    }
    while (s[lo].time < c.time - SMOOTHING_HALF_SPAN_S) {
      sum -= s[lo].attenuationDb * s[lo].packets;
      weight -= s[lo].packets;
      lo++;
    }
    out.push({ attenuationDb: weight > 0 ? sum / weight : c.attenuationDb, seconds: c.seconds });
  }
  return out;
}

/**
 * A token pair-day's features: minutes per band of each scan as heard, then
 * minutes per band of each scan smoothed over its neighbours (smoothedCredits).
 * Phones' pair-days keep the first half only: the baseline keeps their
 * seconds per attenuation, not their scans' times.
 */
export function tokenFeatures(scans: readonly TimedCredit[]): number[] {
  return [...features(bandMinutes(scans)), ...features(bandMinutes(smoothedCredits(scans)))];
}

export interface LogisticModel {
  /** Intercept first, then one weight per feature. */
  weights: number[];
}

function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

export function predict(m: LogisticModel, x: readonly number[]): number {
  let z = m.weights[0];
  for (let i = 0; i < x.length; i++) z += m.weights[i + 1] * x[i];
  return sigmoid(z);
}

/** A token model's probability for a pair never heard (every feature 0): the floor its scores are measured from. */
export function neverHeard(m: LogisticModel): number {
  return predict(m, tokenFeatures([]));
}

/**
 * Maximum-likelihood fit with a small L2 penalty (ridge, not on the
 * intercept) by Newton's method: a handful of features, so each step solves
 * a tiny linear system exactly and the fit does not depend on a learning
 * rate. Deterministic: same data, same model.
 */
export function fitLogistic(xs: readonly number[][], ys: readonly boolean[], ridge = 1e-3, iterations = 30): LogisticModel {
  if (!xs.length) throw new RangeError("no examples to fit");
  const d = xs[0].length + 1;
  const w = new Array<number>(d).fill(0);
  for (let it = 0; it < iterations; it++) {
    const grad = new Array<number>(d).fill(0);
    const hess = Array.from({ length: d }, () => new Array<number>(d).fill(0));
    for (let n = 0; n < xs.length; n++) {
      const x = [1, ...xs[n]];
      let z = 0;
      for (let i = 0; i < d; i++) z += w[i] * x[i];
      const p = sigmoid(z);
      const r = p - (ys[n] ? 1 : 0);
      const s = Math.max(p * (1 - p), 1e-9);
      for (let i = 0; i < d; i++) {
        grad[i] += r * x[i];
        for (let j = 0; j < d; j++) hess[i][j] += s * x[i] * x[j];
      }
    }
    for (let i = 1; i < d; i++) {
      grad[i] += ridge * xs.length * w[i];
      hess[i][i] += ridge * xs.length;
    }
    const step = solve(hess, grad);
    let moved = 0;
    for (let i = 0; i < d; i++) {
      w[i] -= step[i];
      moved = Math.max(moved, Math.abs(step[i]));
    }
    if (moved < 1e-9) break;
  }
  return { weights: w };
}

/** Solve A x = b by Gaussian elimination with partial pivoting (A is small and symmetric positive definite). */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    const piv = m[c][c] || 1e-12;
    for (let r = c + 1; r < n; r++) {
      const f = m[r][c] / piv;
      for (let k = c; k <= n; k++) m[r][k] -= f * m[c][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r][n];
    for (let k = r + 1; k < n; k++) s -= m[r][k] * x[k];
    x[r] = s / (m[r][r] || 1e-12);
  }
  return x;
}
