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
 * `--kiosk-grading classifier` has the kiosk grade with the stored
 * close-contact model instead of weighted minutes (docs/risk.md).
 * Usage: bench/warnings-seeds.ts [--seeds 4,5,6,7,8] [--days 14] [--kiosk-grading minutes|classifier] [--scenario care-home-wings]
 */
import { WARNING_LEVEL_LABELS, WarningLevelRow, WarningLevels, levelRow } from "../host-tools/src/sim/kiosk/warning-levels";
import { Interval, SCENARIO, arg, formatInterval, interval, runSeeds } from "./seed-runs";

const SEEDS = arg("--seeds", "4,5,6,7,8").split(",").map(Number);
const DAYS = arg("--days", "14");
const GRADING = arg("--kiosk-grading", "minutes");

type Ratio = "precision" | "recall" | "nearMissPrecision";

/** The rows of every seed as one: counts summed, ratios of the sums. */
function pool(rows: WarningLevelRow[]): WarningLevelRow {
  const sum = (k: "warned" | "truePositives" | "nearMisses" | "exposed"): number => rows.reduce((a, r) => a + r[k], 0);
  return levelRow(sum("warned"), sum("truePositives"), sum("nearMisses"), sum("exposed"));
}

async function main(): Promise<void> {
  const t0 = Date.now();
  // The kiosk stays on: it does the warning.
  const runs = await runSeeds(SEEDS, DAYS, ["--kiosk-grading", GRADING], (json, seed) => {
    const j = json as { wallSeconds: number; kiosk?: { warnings: { byLevel?: WarningLevels } } };
    const byLevel = j.kiosk?.warnings.byLevel;
    if (!byLevel) throw new Error(`seed ${seed}: no kiosk.warnings.byLevel in simulate --json (no kiosk?)`);
    return { byLevel, wallSeconds: j.wallSeconds };
  });
  const out: Record<string, Record<Ratio, Interval> & { pooled: WarningLevelRow }> = {};
  const fmt = (x: Interval): string => formatInterval(x, runs.length);
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
      scenario: SCENARIO,
      days: Number(DAYS),
      seeds: SEEDS,
      kioskGrading: GRADING,
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
