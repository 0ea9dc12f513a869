import Ajv from "ajv";
import { UserError } from "../errors";
import { readTextBounded } from "../read-bounded";
import { BAND_EDGES_DB, neverHeard } from "./band-classifier";

/**
 * What turns matched sightings into a graded level, and the wearer profile
 * that shifts the level cut-offs. Every default is explained in docs/risk.md;
 * a config file may give any subset of fields, the rest keep their defaults.
 */

export type Bucket = "immediate" | "near" | "medium" | "other";
export const BUCKETS: readonly Bucket[] = ["immediate", "near", "medium", "other"];
export type Infectiousness = "none" | "standard" | "high";
export type ReportTypeName = "confirmedTest" | "clinicalDiagnosis" | "selfReport" | "recursive";
export type Level = "none" | "low" | "medium" | "high";
export const LEVELS: readonly Level[] = ["none", "low", "medium", "high"];
export type Vulnerability = "standard" | "high";

export interface DaysRange {
  fromDay: number;
  toDay: number;
  infectiousness: Infectiousness;
}

/**
 * The band classifier of match/band-classifier.ts as a grader (docs/risk.md,
 * "Grading with the close-contact classifier"): a logistic model over a
 * token's minutes per attenuation band, as heard and smoothed across
 * neighbouring scans (tokenFeatures), fitted on simulated care homes by
 * bench/fit-band-classifier.ts.
 */
export interface CloseContactModel {
  /** Intercept, then one weight per feature: CLOSE_CONTACT_FEATURES in all. */
  weights: number[];
  /** The operating point: a person-day whose probability reaches it is a close contact, graded high. */
  cut: number;
}

/** Each band (band-classifier.ts BAND_EDGES_DB) as heard and smoothed. */
export const CLOSE_CONTACT_FEATURES = 2 * (BAND_EDGES_DB.length + 1);

export interface RiskConfig {
  /** Upper bounds (inclusive, dB) of the immediate, near and medium buckets; above the last is "other". */
  attenuationThresholdsDb: [number, number, number];
  bucketWeights: Record<Bucket, number>;
  reportTypeWeights: Record<ReportTypeName, number>;
  /** Report type assumed for keys published without one (or as "unknown"). */
  reportTypeWhenMissing: ReportTypeName;
  infectiousnessWeights: { standard: number; high: number };
  /** Days since symptom onset → infectiousness; days in no range are "none". */
  infectiousnessByDaysSinceOnset: DaysRange[];
  /** For keys published without days since onset. */
  infectiousnessWhenOnsetUnknown: Infectiousness;
  /** Windows scoring less (weighted minutes) do not count towards the day. */
  minimumWindowScore: number;
  /** Daily score (weighted minutes) at or above which each level starts. */
  levelCutoffs: { low: number; medium: number; high: number };
  /** A high-vulnerability wearer's cut-offs are multiplied by this (< 1 warns earlier). */
  highVulnerabilityFactor: number;
  /** Tx power assumed for sightings recorded without an AEM. */
  defaultTxPowerDbm: number;
  /**
   * With a model, each person-day is graded by the classifier instead of by
   * weighted minutes (risk-score.ts classifiedDays); null: weighted minutes.
   */
  closeContactModel: CloseContactModel | null;
  scan: {
    /** Sightings of one key this close together belong to one scan. */
    scanMergeSeconds: number;
    /** Credit for a scan is the time since the previous one, capped here (GAEN: 5 min). */
    maxSecondsPerScan: number;
    /** Credit for the first scan of a window, whose previous scan heard nothing. */
    assumedScanIntervalSeconds: number;
    /** A longer gap between scans of one key starts a new exposure window. */
    windowGapSeconds: number;
  };
}

export interface WearerProfile {
  vulnerability: Vulnerability;
}

export const DEFAULT_RISK_CONFIG: RiskConfig = {
  attenuationThresholdsDb: [55, 63, 73],
  bucketWeights: { immediate: 1.5, near: 1.0, medium: 0.5, other: 0 },
  reportTypeWeights: { confirmedTest: 1.0, clinicalDiagnosis: 1.0, selfReport: 0.8, recursive: 0 },
  reportTypeWhenMissing: "confirmedTest",
  infectiousnessWeights: { standard: 1.0, high: 1.5 },
  infectiousnessByDaysSinceOnset: [
    { fromDay: -5, toDay: -3, infectiousness: "standard" },
    { fromDay: -2, toDay: 5, infectiousness: "high" },
    { fromDay: 6, toDay: 9, infectiousness: "standard" }
  ],
  infectiousnessWhenOnsetUnknown: "standard",
  minimumWindowScore: 1,
  levelCutoffs: { low: 5, medium: 15, high: 30 },
  highVulnerabilityFactor: 0.5,
  defaultTxPowerDbm: -4,
  closeContactModel: null,
  scan: { scanMergeSeconds: 10, maxSecondsPerScan: 300, assumedScanIntervalSeconds: 255, windowGapSeconds: 1800 }
};

export const DEFAULT_PROFILE: WearerProfile = { vulnerability: "standard" };

const num = { type: "number" };
const nonNeg = { type: "number", minimum: 0 };
const infect = { enum: ["none", "standard", "high"] };
const reportType = { enum: ["confirmedTest", "clinicalDiagnosis", "selfReport", "recursive"] };
const obj = (props: Record<string, unknown>): object => ({ type: "object", additionalProperties: false, properties: props });

const configSchema = obj({
  $comment: { type: "string" },
  attenuationThresholdsDb: { type: "array", items: num, minItems: 3, maxItems: 3 },
  bucketWeights: obj({ immediate: nonNeg, near: nonNeg, medium: nonNeg, other: nonNeg }),
  reportTypeWeights: obj({ confirmedTest: nonNeg, clinicalDiagnosis: nonNeg, selfReport: nonNeg, recursive: nonNeg }),
  reportTypeWhenMissing: reportType,
  infectiousnessWeights: obj({ standard: nonNeg, high: nonNeg }),
  infectiousnessByDaysSinceOnset: {
    type: "array",
    items: {
      ...obj({ fromDay: { type: "integer" }, toDay: { type: "integer" }, infectiousness: infect }),
      required: ["fromDay", "toDay", "infectiousness"]
    }
  },
  infectiousnessWhenOnsetUnknown: infect,
  minimumWindowScore: nonNeg,
  levelCutoffs: obj({ low: nonNeg, medium: nonNeg, high: nonNeg }),
  highVulnerabilityFactor: { type: "number", exclusiveMinimum: 0, maximum: 1 },
  defaultTxPowerDbm: { type: "integer", minimum: -128, maximum: 127 },
  closeContactModel: {
    anyOf: [
      { type: "null" },
      {
        ...obj({
          $comment: { type: "string" },
          weights: { type: "array", items: num, minItems: CLOSE_CONTACT_FEATURES + 1, maxItems: CLOSE_CONTACT_FEATURES + 1 },
          cut: { type: "number", exclusiveMinimum: 0, exclusiveMaximum: 1 }
        }),
        required: ["weights", "cut"]
      }
    ]
  },
  scan: obj({
    scanMergeSeconds: nonNeg,
    maxSecondsPerScan: { type: "number", exclusiveMinimum: 0 },
    assumedScanIntervalSeconds: nonNeg,
    windowGapSeconds: { type: "number", exclusiveMinimum: 0 }
  })
});

const profileSchema = {
  ...obj({ $comment: { type: "string" }, vulnerability: { enum: ["standard", "high"] } }),
  required: ["vulnerability"]
};

const ajv = new Ajv({ allErrors: true, strict: false });
const validateConfig = ajv.compile(configSchema);
const validateProfile = ajv.compile(profileSchema);

function schemaErrors(errors: typeof validateConfig.errors): string {
  return (errors ?? [])
    .map((e) => {
      const extra =
        e.keyword === "additionalProperties" ? ` (unknown field "${(e.params as { additionalProperty: string }).additionalProperty}")` : "";
      return `${e.instancePath || "/"} ${e.message ?? ""}${extra}`;
    })
    .join("; ");
}

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    // A config is a few hundred bytes; the bound refuses a device or an endless FIFO given by mistake.
    text = readTextBounded(file, 1024 * 1024, { what: `a ${what}` });
  } catch (e) {
    throw new UserError(`cannot read ${what} ${file}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UserError(`${what} ${file} is not valid JSON: ${(e as Error).message}`);
  }
}

/** A partial config over the defaults, validated; cross-field rules included. */
export function riskConfigFrom(data: unknown, source = "risk config"): RiskConfig {
  if (!validateConfig(data)) throw new UserError(`${source} is invalid: ${schemaErrors(validateConfig.errors)}`);
  const p = data as Partial<RiskConfig>;
  const d = DEFAULT_RISK_CONFIG;
  const cfg: RiskConfig = {
    ...d,
    ...p,
    bucketWeights: { ...d.bucketWeights, ...p.bucketWeights },
    reportTypeWeights: { ...d.reportTypeWeights, ...p.reportTypeWeights },
    infectiousnessWeights: { ...d.infectiousnessWeights, ...p.infectiousnessWeights },
    levelCutoffs: { ...d.levelCutoffs, ...p.levelCutoffs },
    scan: { ...d.scan, ...p.scan }
  };
  const t = cfg.attenuationThresholdsDb;
  if (!(t[0] <= t[1] && t[1] <= t[2]))
    throw new UserError(`${source}: attenuationThresholdsDb must be ascending, got ${JSON.stringify(t)}`);
  const c = cfg.levelCutoffs;
  if (!(c.low <= c.medium && c.medium <= c.high))
    throw new UserError(`${source}: levelCutoffs must satisfy low ≤ medium ≤ high, got ${JSON.stringify(c)}`);
  const m = cfg.closeContactModel;
  // Scores are measured from p0, the model's probability for someone never heard: a cut at or below it grades nothing sensibly.
  if (m && !(m.cut > neverHeard(m)))
    throw new UserError(
      `${source}: closeContactModel/cut ${m.cut} is not above the model's probability for someone never heard (${neverHeard(m).toFixed(4)}); refit the model or raise the cut`
    );
  for (const r of cfg.infectiousnessByDaysSinceOnset) {
    if (r.fromDay > r.toDay) throw new UserError(`${source}: infectiousness range fromDay ${r.fromDay} is after toDay ${r.toDay}`);
  }
  return cfg;
}

export function loadRiskConfig(file: string): RiskConfig {
  return riskConfigFrom(readJson(file, "risk config"), `risk config ${file}`);
}

export function profileFrom(data: unknown, source = "wearer profile"): WearerProfile {
  if (!validateProfile(data)) throw new UserError(`${source} is invalid: ${schemaErrors(validateProfile.errors)}`);
  return data as unknown as WearerProfile;
}

export function loadProfile(file: string): WearerProfile {
  return profileFrom(readJson(file, "wearer profile"), `wearer profile ${file}`);
}
