/**
 * What the over-seeds benchmarks share (bench/detection-seeds.ts,
 * bench/warnings-seeds.ts): their arguments, `simulate --json` of the care
 * home (`--scenario care-home-wings` for the two-wing one) for each seed, two at a time (the machines have two cores; each run
 * is one), and a mean with its 95 % interval over the seeds.
 */
import { spawn } from "node:child_process";
import * as path from "node:path";

const CLI = path.join(__dirname, "..", "bin", "privatetracer.js");
const PARALLEL = 2;

export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** The built-in scenario the seeds run (`--scenario`, default care-home). */
export const SCENARIO = arg("--scenario", "care-home");

/** `simulate --scenario <SCENARIO> --days <days> --seed <seed> --json <extra>`, parsed. */
function simulateJson(seed: number, days: string, extra: readonly string[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [
      CLI,
      "simulate",
      "--scenario",
      SCENARIO,
      "--days",
      days,
      "--seed",
      String(seed),
      "--json",
      ...extra
    ]);
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`seed ${seed}: exit ${code}: ${err.slice(-500)}`));
      resolve(JSON.parse(out));
    });
  });
}

/** Every seed's run, two at a time, turned into what the benchmark keeps by `pick`; in seed order. */
export async function runSeeds<T>(
  seeds: readonly number[],
  days: string,
  extra: readonly string[],
  pick: (json: unknown, seed: number) => T
): Promise<Array<T & { seed: number }>> {
  const runs: Array<T & { seed: number }> = [];
  const queue = [...seeds];
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      for (let s = queue.shift(); s !== undefined; s = queue.shift())
        runs.push({ ...pick(await simulateJson(s, days, extra), s), seed: s });
    })
  );
  return runs.sort((a, b) => a.seed - b.seed);
}

/** Two-sided 97.5 % quantiles of Student's t for 1..10 degrees of freedom. */
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228];
const r3 = (x: number): number => Math.round(x * 1000) / 1000;

export interface Interval {
  mean: number | null;
  lo: number | null;
  hi: number | null;
  /** Seeds the mean is over (those where the figure exists). */
  n: number;
}

/** Mean and 95 % interval (Student's t on the seeds' spread); a seed without the figure (null) is left out, not counted as 0 or 1. */
export function interval(values: ReadonlyArray<number | null>): Interval {
  const xs = values.filter((x): x is number => x !== null);
  const n = xs.length;
  if (!n) return { mean: null, lo: null, hi: null, n };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean: r3(mean), lo: r3(mean), hi: r3(mean), n };
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  const h = (T975[Math.min(n - 2, T975.length - 1)] * sd) / Math.sqrt(n);
  return { mean: r3(mean), lo: r3(mean - h), hi: r3(mean + h), n };
}

/** "mean [lo, hi]", with the number of seeds when some had no figure. */
export function formatInterval(x: Interval, seeds: number): string {
  return x.mean === null ? "–" : `${x.mean} [${x.lo}, ${x.hi}]${x.n < seeds ? ` (${x.n} seeds)` : ""}`;
}
