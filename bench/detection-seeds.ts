/**
 * Detection over seeds: `simulate --json` of the care home (14 days, with
 * its kiosk, whose syncs let a full log make room: bench/fit-band-classifier.ts
 * says what a token never synced loses) for seeds the band classifiers were not
 * fitted on, two at a time, then per detector (tokens and GAEN phones, the
 * fixed rules and the classifiers) the mean precision, recall, F1 and AUC
 * over the seeds with a 95 % interval (Student's t on the seeds' spread).
 * Issue 14 asks for token F1 ≥ phone F1 with such intervals, recall ≥ 0.9 of
 * the contacts within 1.5 m and near-miss precision ≥ 0.8. Prints a table,
 * then one JSON line. Usage: bench/detection-seeds.ts [--seeds 4,5,6,7,8] [--days 14] [--scenario care-home-wings]
 */
import { Interval, SCENARIO, arg, formatInterval, interval, runSeeds } from "./seed-runs";

const SEEDS = arg("--seeds", "4,5,6,7,8").split(",").map(Number);
const DAYS = arg("--days", "14");

const RATIOS = ["precision", "recall", "recallWithin1_5m", "nearMissPrecision", "f1", "auc"] as const;
type Ratios = Record<(typeof RATIOS)[number], number>;
interface Run {
  token: Ratios & { classifier?: Ratios & { heldOut: boolean } };
  phone: Ratios & { classifier?: Ratios & { heldOut: boolean } };
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const runs = await runSeeds(SEEDS, DAYS, [], (json): Run => {
    const d = (json as { detection: Run }).detection;
    return { token: d.token, phone: d.phone };
  });
  const detectors: Record<string, (r: Run) => Ratios | undefined> = {
    "tokens, ≥ 15 min at ≤ 53 dB": (r) => r.token,
    "tokens, band classifier": (r) => r.token.classifier,
    "GAEN phones, narrow net v1": (r) => r.phone,
    "GAEN phones, band classifier": (r) => r.phone.classifier
  };
  const out: Record<string, Record<keyof Ratios, Interval>> = {};
  for (const [name, pick] of Object.entries(detectors)) {
    const got = runs.map(pick).filter((x): x is Ratios => x !== undefined);
    if (!got.length) continue;
    out[name] = Object.fromEntries(RATIOS.map((k) => [k, interval(got.map((g) => g[k]))])) as Record<keyof Ratios, Interval>;
    const f = (k: keyof Ratios): string => formatInterval(out[name][k], runs.length);
    process.stdout.write(
      `${name.padEnd(30)} precision ${f("precision")}  recall ${f("recall")}  recall ≤ 1.5 m ${f("recallWithin1_5m")}  near-miss precision ${f("nearMissPrecision")}  F1 ${f("f1")}  AUC ${f("auc")}\n`
    );
  }
  const heldOut = runs.every((r) => r.token.classifier?.heldOut !== false && r.phone.classifier?.heldOut !== false);
  process.stdout.write(
    JSON.stringify({
      scenario: SCENARIO,
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
