/**
 * Detection over seeds: `simulate --json` of the care home (14 days, no
 * kiosk: detection does not need it) for seeds the band classifiers were not
 * fitted on, two at a time, then per detector (tokens and GAEN phones, the
 * fixed rules and the classifiers) the mean precision, recall, F1 and AUC
 * over the seeds with a 95 % interval (Student's t on the seeds' spread).
 * Issue 14 asks for token F1 ≥ phone F1 with such intervals, recall ≥ 0.9 of
 * the contacts within 1.5 m and near-miss precision ≥ 0.8. Prints a table,
 * then one JSON line. Usage: bench/detection-seeds.ts [--seeds 4,5,6,7,8] [--days 14]
 */
import { spawn } from "node:child_process";
import * as path from "node:path";

const CLI = path.join(__dirname, "..", "bin", "privatetracer.js");
const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
};
const SEEDS = arg("--seeds", "4,5,6,7,8").split(",").map(Number);
const DAYS = arg("--days", "14");
const PARALLEL = 2;

const RATIOS = ["precision", "recall", "recallWithin1_5m", "nearMissPrecision", "f1", "auc"] as const;
type Ratios = Record<(typeof RATIOS)[number], number>;
interface Run {
  seed: number;
  token: Ratios & { classifier?: Ratios & { heldOut: boolean } };
  phone: Ratios & { classifier?: Ratios & { heldOut: boolean } };
}

function simulate(seed: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [
      CLI,
      "simulate",
      "--scenario",
      "care-home",
      "--days",
      DAYS,
      "--seed",
      String(seed),
      "--no-kiosk",
      "--json"
    ]);
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`seed ${seed}: exit ${code}: ${err.slice(-500)}`));
      const j = JSON.parse(out) as { detection: { token: Run["token"]; phone: Run["phone"] } };
      resolve({ seed, token: j.detection.token, phone: j.detection.phone });
    });
  });
}

/** Two-sided 97.5 % quantiles of Student's t for 1..10 degrees of freedom. */
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228];

function interval(xs: number[]): { mean: number; lo: number; hi: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, lo: mean, hi: mean };
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  const h = (T975[Math.min(n - 2, T975.length - 1)] * sd) / Math.sqrt(n);
  const r = (x: number): number => Math.round(x * 1000) / 1000;
  return { mean: r(mean), lo: r(mean - h), hi: r(mean + h) };
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
  const detectors: Record<string, (r: Run) => Ratios | undefined> = {
    "tokens, ≥ 15 min at ≤ 53 dB": (r) => r.token,
    "tokens, band classifier": (r) => r.token.classifier,
    "GAEN phones, narrow net v1": (r) => r.phone,
    "GAEN phones, band classifier": (r) => r.phone.classifier
  };
  const out: Record<string, Record<keyof Ratios, ReturnType<typeof interval>>> = {};
  for (const [name, pick] of Object.entries(detectors)) {
    const got = runs.map(pick).filter((x): x is Ratios => x !== undefined);
    if (!got.length) continue;
    out[name] = Object.fromEntries(RATIOS.map((k) => [k, interval(got.map((g) => g[k]))])) as Record<
      keyof Ratios,
      ReturnType<typeof interval>
    >;
    const f = (k: keyof Ratios): string => `${out[name][k].mean} [${out[name][k].lo}, ${out[name][k].hi}]`;
    process.stdout.write(
      `${name.padEnd(30)} precision ${f("precision")}  recall ${f("recall")}  recall ≤ 1.5 m ${f("recallWithin1_5m")}  near-miss precision ${f("nearMissPrecision")}  F1 ${f("f1")}  AUC ${f("auc")}\n`
    );
  }
  const heldOut = runs.every((r) => r.token.classifier?.heldOut !== false && r.phone.classifier?.heldOut !== false);
  process.stdout.write(
    JSON.stringify({
      scenario: "care-home",
      days: Number(DAYS),
      seeds: SEEDS,
      classifiersHeldOut: heldOut,
      wallSeconds: Math.round((Date.now() - t0) / 1000),
      detectors: out,
      perSeed: runs.map((r) => ({
        seed: r.seed,
        tokenF1: r.token.f1,
        phoneF1: r.phone.f1,
        tokenClassifierF1: r.token.classifier?.f1,
        phoneClassifierF1: r.phone.classifier?.f1
      }))
    }) + "\n"
  );
}

main().catch((e: Error) => {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
});
