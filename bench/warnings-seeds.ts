/**
 * Warnings per level over seeds: `simulate --json` of the care home (14 days,
 * with the kiosk: it does the warning) for seeds not used to tune anything
 * (1 is the demo's, 2 and 3 fitted the band classifiers), two at a time; then
 * for the tokens' high warnings, the tokens' warnings of any level and GAEN
 * phones' warnings (host-tools/src/sim/kiosk/warning-levels.ts) the mean
 * precision, recall and near-miss precision over the seeds with a 95 %
 * interval (Student's t on the seeds' spread), and the counts pooled over the
 * seeds. A seed with no one warned has no precision, and is left out of that
 * mean, not counted as 0 or 1. The care home's diagnoses are on days 8 and 11
 * (day 0 the first), so a run of 9 days or fewer has no warning to score.
 * Prints a table, then one JSON line.
 * Usage: bench/warnings-seeds.ts [--seeds 4,5,6,7,8] [--days 14]
 */
import { spawn } from "node:child_process";
import * as path from "node:path";
import { WARNING_LEVEL_LABELS, WarningLevelRow, WarningLevels } from "../host-tools/src/sim/kiosk/warning-levels";

const CLI = path.join(__dirname, "..", "bin", "privatetracer.js");
const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
};
const SEEDS = arg("--seeds", "4,5,6,7,8").split(",").map(Number);
const DAYS = arg("--days", "14");
const PARALLEL = 2;

interface Run {
  seed: number;
  byLevel: WarningLevels;
  wallSeconds: number;
}

function simulate(seed: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, "simulate", "--scenario", "care-home", "--days", DAYS, "--seed", String(seed), "--json"]);
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`seed ${seed}: exit ${code}: ${err.slice(-500)}`));
      const j = JSON.parse(out) as { wallSeconds: number; kiosk?: { warnings: { byLevel?: WarningLevels } } };
      const byLevel = j.kiosk?.warnings.byLevel;
      if (!byLevel) return reject(new Error(`seed ${seed}: no kiosk.warnings.byLevel in simulate --json (no kiosk?)`));
      resolve({ seed, byLevel, wallSeconds: j.wallSeconds });
    });
  });
}

/** Two-sided 97.5 % quantiles of Student's t for 1..10 degrees of freedom. */
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228];
const r3 = (x: number): number => Math.round(x * 1000) / 1000;

interface Interval {
  mean: number | null;
  lo: number | null;
  hi: number | null;
  /** Seeds the mean is over (those where the ratio exists). */
  n: number;
}

function interval(values: Array<number | null>): Interval {
  const xs = values.filter((x): x is number => x !== null);
  const n = xs.length;
  if (!n) return { mean: null, lo: null, hi: null, n };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean: r3(mean), lo: r3(mean), hi: r3(mean), n };
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  const h = (T975[Math.min(n - 2, T975.length - 1)] * sd) / Math.sqrt(n);
  return { mean: r3(mean), lo: r3(mean - h), hi: r3(mean + h), n };
}

type Ratio = "precision" | "recall" | "nearMissPrecision";

interface Pooled {
  warned: number;
  truePositives: number;
  nearMisses: number;
  exposed: number;
  precision: number | null;
  recall: number | null;
  nearMissPrecision: number | null;
}

function pool(rows: WarningLevelRow[]): Pooled {
  const sum = (k: "warned" | "truePositives" | "nearMisses" | "exposed"): number => rows.reduce((a, r) => a + r[k], 0);
  const [warned, tp, near, exposed] = [sum("warned"), sum("truePositives"), sum("nearMisses"), sum("exposed")];
  return {
    warned,
    truePositives: tp,
    nearMisses: near,
    exposed,
    precision: warned ? r3(tp / warned) : null,
    recall: exposed ? r3(tp / exposed) : null,
    nearMissPrecision: warned ? r3((tp + near) / warned) : null
  };
}

async function main(): Promise<void> {
  const runs: Run[] = [];
  const queue = [...SEEDS];
  const t0 = Date.now();
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      for (let s = queue.shift(); s !== undefined; s = queue.shift()) runs.push(await simulate(s));
    })
  );
  runs.sort((a, b) => a.seed - b.seed);
  const out: Record<string, Record<Ratio, Interval> & { pooled: Pooled }> = {};
  const fmt = (x: Interval): string =>
    x.mean === null ? "–" : `${x.mean} [${x.lo}, ${x.hi}]${x.n < runs.length ? ` (${x.n} seeds)` : ""}`;
  const width = Math.max(...Object.values(WARNING_LEVEL_LABELS).map((l) => l.length));
  for (const key of Object.keys(WARNING_LEVEL_LABELS) as Array<keyof WarningLevels>) {
    const rows = runs.map((r) => r.byLevel[key]).filter((x): x is WarningLevelRow => x !== undefined);
    if (!rows.length) continue;
    const name = WARNING_LEVEL_LABELS[key];
    const p = pool(rows);
    out[name] = {
      precision: interval(rows.map((x) => x.precision)),
      recall: interval(rows.map((x) => x.recall)),
      nearMissPrecision: interval(rows.map((x) => x.nearMissPrecision)),
      pooled: p
    };
    process.stdout.write(
      `${name.padEnd(width)}  precision ${fmt(out[name].precision)}  recall ${fmt(out[name].recall)}  near-miss precision ${fmt(out[name].nearMissPrecision)}\n` +
        `${"".padEnd(width)}  pooled: ${p.truePositives} of ${p.warned} warned were exposed (+${p.nearMisses} near misses), ${p.truePositives} of ${p.exposed} exposed warned: ` +
        `precision ${p.precision ?? "–"}, recall ${p.recall ?? "–"}, near-miss precision ${p.nearMissPrecision ?? "–"}\n`
    );
  }
  process.stdout.write(
    JSON.stringify({
      scenario: "care-home",
      days: Number(DAYS),
      seeds: SEEDS,
      wallSeconds: Math.round((Date.now() - t0) / 1000),
      levels: out,
      perSeed: runs.map((r) => ({ seed: r.seed, wallSeconds: r.wallSeconds, byLevel: r.byLevel }))
    }) + "\n"
  );
}

main().catch((e: Error) => {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
});
