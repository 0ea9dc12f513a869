/**
 * The scenario's warnings per level, against the ground truth
 * (`simulate --json` → `kiosk.warnings.byLevel`, docs/care-home-results.md):
 * the tokens' high warnings, the tokens' warnings of any level, and what GAEN
 * phones would have warned for the same diagnoses, each scored on the same
 * exposed wearers (the kiosk figures' `exposed`: ≥ 15 minutes within 2 m of
 * someone diagnosed on a counted day).
 *
 * A row's recall is of the exposed wearers, those the row warned: for the high
 * level, exposed wearers whose token's highest level was 2 (an exposed wearer
 * warned low counts as missed there); for any level, exposed wearers warned
 * at all. Precision is of the row's warned wearers, those really exposed;
 * near-miss precision also counts as right a warned wearer who had only a
 * near miss (the kiosk figures' `nearMiss`: ≥ 15 minutes within 3 m, never
 * within 2 m for as long).
 */
import type { PhoneWarnings } from "../phone/phone-warnings";
import { KioskFigures, pctOrDash, ratio } from "./kiosk-figures";

export interface WarningLevelRow {
  /** Wearers this row warned. */
  warned: number;
  /** Of `warned`, those really exposed to someone diagnosed. */
  truePositives: number;
  /** Of `warned`, those not exposed who had a near miss with someone diagnosed. */
  nearMisses: number;
  /** Token wearers really exposed to someone diagnosed (the same for every row). */
  exposed: number;
  /** truePositives / warned; null with none warned. */
  precision: number | null;
  /** truePositives / exposed; null with none exposed. */
  recall: number | null;
  /** (truePositives + nearMisses) / warned; null with none warned. */
  nearMissPrecision: number | null;
}

export interface WarningLevels {
  /** Tokens whose highest level was 2 (high: ask staff). */
  tokensHigh: WarningLevelRow;
  /** Tokens warned at level 1 or 2. */
  tokensAny: WarningLevelRow;
  /** GAEN phones: one warning, no level; absent without the phone baseline. */
  phones?: WarningLevelRow;
}

export const HIGH_LEVEL = 2;

export const WARNING_LEVEL_LABELS: Record<keyof WarningLevels, string> = {
  tokensHigh: "tokens, high (level 2)",
  tokensAny: "tokens, any warning (level ≥ 1)",
  phones: "GAEN phones (one warning)"
};

export function levelRow(warned: number, truePositives: number, nearMisses: number, exposed: number): WarningLevelRow {
  return {
    warned,
    truePositives,
    nearMisses,
    exposed,
    precision: ratio(truePositives, warned),
    recall: ratio(truePositives, exposed),
    nearMissPrecision: ratio(truePositives + nearMisses, warned)
  };
}

function tokenRow(warned: readonly string[], exposed: ReadonlySet<string>, near: ReadonlySet<string>): WarningLevelRow {
  return levelRow(warned.length, warned.filter((p) => exposed.has(p)).length, warned.filter((p) => near.has(p)).length, exposed.size);
}

export function warningLevels(warnings: Pick<KioskFigures["warnings"], "tokens" | "perDiagnosis">, phone?: PhoneWarnings): WarningLevels {
  const exposed = new Set(warnings.perDiagnosis.flatMap((d) => d.exposed));
  // A near miss with one person and exposed to another is simply exposed.
  const near = new Set(warnings.perDiagnosis.flatMap((d) => d.nearMiss).filter((p) => !exposed.has(p)));
  const high = warnings.tokens.filter((t) => t.level >= HIGH_LEVEL).map((t) => t.person);
  const any = warnings.tokens.filter((t) => t.level >= 1).map((t) => t.person);
  return {
    tokensHigh: tokenRow(high, exposed, near),
    tokensAny: tokenRow(any, exposed, near),
    ...(phone ? { phones: levelRow(phone.warned, phone.truePositives, phone.nearMisses, phone.exposed) } : {})
  };
}

/** The table as lines of `simulate`'s text summary, under the warnings. */
export function warningLevelLines(t: WarningLevels): string[] {
  const rows = (Object.keys(WARNING_LEVEL_LABELS) as Array<keyof WarningLevels>).flatMap((k) => {
    const r = t[k];
    return r ? [[WARNING_LEVEL_LABELS[k], r] as const] : [];
  });
  const w = Math.max(...rows.map(([label]) => label.length));
  const cell = (s: string | number, n: number): string => String(s).padStart(n);
  return [
    `  per level     ${"".padEnd(w)} ${cell("warned", 6)} ${cell("exposed", 7)} ${cell("precision", 9)} ${cell("recall", 7)} ${cell("near-miss precision", 19)}`,
    ...rows.map(
      ([label, r]) =>
        `                ${label.padEnd(w)} ${cell(r.warned, 6)} ${cell(r.truePositives, 7)} ${cell(pctOrDash(r.precision), 9)} ${cell(pctOrDash(r.recall), 7)} ${cell(pctOrDash(r.nearMissPrecision), 19)}`
    ),
    `                (exposed: of those warned, how many were ≥ 15 min within 2 m of someone diagnosed; ${t.tokensAny.exposed} token wearers were)`
  ];
}
