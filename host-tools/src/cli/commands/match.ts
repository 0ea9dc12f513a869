import * as fs from "node:fs";
import * as os from "node:os";
import { SingleBar } from "cli-progress";
import { Command } from "commander";
import { RunAction, Verdict } from "../command";
import { UserError } from "../../errors";
import { ExportFormatError, KeyInputError } from "../../keys/errors";
import { loadKeySource } from "../../keys/sources";
import { ExposureKey } from "../../keys/types";
import { MatchedSighting } from "../../match/matched-sightings";
import { KeyFormatError } from "../../match/packed-keys";
import { BUCKETS, DEFAULT_PROFILE, DEFAULT_RISK_CONFIG, loadProfile, loadRiskConfig } from "../../match/risk-config";
import { ScoredWindow } from "../../match/risk-score";
import { matchExposures, MatchReport } from "../../match/run-match";
import { readSightingsFile } from "../../match/sightings";

/** Below this many keys, starting worker threads costs more than it saves. */
const PARALLEL_FROM_KEYS = 20000;

interface MatchCliOptions {
  keys: string;
  sightings: string;
  riskConfig?: string;
  profile?: string;
  workers?: string;
  json?: boolean;
  publicKey?: string;
  cacheDir?: string;
}

const REPORT_TYPE_TEXT: Record<ScoredWindow["reportType"], string> = {
  confirmedTest: "confirmed test",
  clinicalDiagnosis: "clinical diagnosis",
  selfReport: "self report",
  recursive: "recursive"
};

function workerCount(opt: string | undefined, keys: number): number {
  if (opt === undefined) return keys >= PARALLEL_FROM_KEYS ? os.availableParallelism() : 1;
  if (!/^\d+$/.test(opt) || Number(opt) < 1) throw new UserError(`--workers must be a positive integer, got "${opt}"`);
  return Number(opt);
}

function iso(t: number): string {
  return new Date(t * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

const round = (x: number, places = 3): number => Number(x.toFixed(places));

/** One JSON entry a matched sighting, with its window's figures. */
function matchJson(m: MatchedSighting, w: ScoredWindow, windowIndex: number, bucket: string): Record<string, unknown> {
  const o: Record<string, unknown> = {
    tek: Buffer.from(m.key.keyData).toString("hex"),
    enin: m.enin,
    rpi: m.rpi.toString("hex"),
    time: m.sighting.time,
    line: m.sighting.line,
    storedRpiBytes: m.sighting.rpi.length,
    rssi: m.sighting.rssi
  };
  if (m.sighting.aem) o.aem = Buffer.from(m.sighting.aem).toString("hex");
  if (m.sighting.aemTx !== undefined) o.aemTx = m.sighting.aemTx.toString(16).padStart(2, "0");
  Object.assign(o, {
    txPowerDbm: m.txPowerDbm,
    txPowerSource: m.txPowerSource,
    attenuationDb: m.attenuationDb,
    bucket,
    reportType: w.reportType,
    daysSinceOnset: w.daysSinceOnset,
    infectiousness: w.infectiousness,
    window: windowIndex,
    windowStart: w.window.start,
    windowEnd: w.window.end,
    durationSeconds: w.window.durationSeconds,
    bucketSeconds: w.window.bucketSeconds,
    weightedSeconds: round(w.window.weightedSeconds),
    score: round(w.score),
    counted: w.counted,
    day: w.day
  });
  return o;
}

export function reportJson(r: MatchReport): Record<string, unknown> {
  const matches: Record<string, unknown>[] = [];
  r.windows.forEach((w, i) => {
    for (const scan of w.window.scans) for (const m of scan.sightings) matches.push(matchJson(m, w, i, scan.bucket));
  });
  return {
    level: r.level,
    reason: r.reason,
    matches,
    days: r.days.map((d) => ({ day: d.day, score: round(d.score), exposureMinutes: round(d.exposureMinutes, 1), windows: d.windows })),
    cutoffs: r.cutoffs,
    vulnerability: r.profile.vulnerability,
    keys: r.keys,
    sightings: r.sightings
  };
}

const minutes = (s: number): string => `${round(s / 60, 1)} min`;

export function reportText(r: MatchReport): string {
  const out: string[] = [];
  const keysHit = new Set(r.matches.map((m) => m.keyIndex)).size;
  out.push(`${r.matches.length} of ${r.sightings} sighting(s) matched ${keysHit} of ${r.keys} published key(s).`);
  r.windows.forEach((w, i) => {
    const onset = w.daysSinceOnset === null ? "onset unknown" : `${w.daysSinceOnset} day(s) since symptom onset`;
    const buckets = BUCKETS.map((b) => `${b} ${minutes(w.window.bucketSeconds[b])}`).join(", ");
    out.push("");
    out.push(`Exposure ${i + 1}: ${REPORT_TYPE_TEXT[w.reportType]}, ${onset} (${w.infectiousness} infectiousness), key ${Buffer.from(w.window.key.keyData).toString("hex")}`);
    out.push(`  ${iso(w.window.start)} to ${iso(w.window.end)}, about ${minutes(w.window.durationSeconds)}: ${buckets}`);
    out.push(`  score ${round(w.score, 2)} weighted min${w.counted ? "" : " (below the minimum: not counted)"}`);
    for (const scan of w.window.scans) {
      for (const m of scan.sightings) {
        const tx = `tx ${m.txPowerDbm} dBm (${m.txPowerSource === "aem" ? "AEM" : "assumed"})`;
        out.push(`    ${iso(m.sighting.time)}  line ${m.sighting.line}  rpi ${m.rpi.toString("hex")}  rssi ${m.sighting.rssi}  ${tx}  attenuation ${m.attenuationDb} dB  ${scan.bucket}`);
      }
    }
  });
  if (r.days.length) {
    out.push("");
    out.push("Daily scores (weighted minutes): " + r.days.map((d) => `${d.day} ${round(d.score, 2)}`).join(", "));
  }
  const c = r.cutoffs;
  out.push("");
  out.push(`Level: ${r.level.toUpperCase()}  (cut-offs low ${round(c.low, 2)}, medium ${round(c.medium, 2)}, high ${round(c.high, 2)}; vulnerability ${r.profile.vulnerability})`);
  out.push(r.reason);
  return out.join("\n");
}

async function runMatch(o: MatchCliOptions): Promise<Verdict> {
  // Local files first: a typo there should not wait for a download.
  const sightings = readSightingsFile(o.sightings);
  const config = o.riskConfig ? loadRiskConfig(o.riskConfig) : DEFAULT_RISK_CONFIG;
  const profile = o.profile ? loadProfile(o.profile) : DEFAULT_PROFILE;
  let publicKeyPem: string | undefined;
  if (o.publicKey) {
    try {
      publicKeyPem = fs.readFileSync(o.publicKey, "utf8");
    } catch (e) {
      throw new KeyInputError(`cannot read public key ${o.publicKey}: ${(e as Error).message}`);
    }
  }
  const keys: ExposureKey[] = await loadKeySource(o.keys, { cacheDir: o.cacheDir, publicKeyPem });
  const workers = workerCount(o.workers, keys.length);
  const bar = process.stderr.isTTY ? new SingleBar({ stream: process.stderr, format: "matching {bar} {percentage}% | {value}/{total} keys | {eta}s left", hideCursor: true }) : null;
  bar?.start(keys.length, 0);
  let report: MatchReport;
  try {
    report = await matchExposures(keys, sightings, { config, profile, workers, onProgress: bar ? (done) => bar.update(done) : undefined });
  } catch (e) {
    // Matching takes narrower key ranges than an export may carry; packKeys does not know which
    // source the keys came from, so the message gets it here.
    if (e instanceof KeyFormatError) throw new ExportFormatError(`${o.keys}: ${e.message}`);
    throw e;
  } finally {
    bar?.stop();
  }
  process.stdout.write(o.json ? JSON.stringify(reportJson(report)) + "\n" : reportText(report) + "\n");
  return "ok";
}

export function register(program: Command, run: RunAction): void {
  program
    .command("match")
    .description("Match a sightings log against published diagnosis keys and grade the risk (none, low, medium, high).")
    .requiredOption("--keys <src>", "published keys: an export .zip/.bin, a directory of them, or an index.txt (path or URL)")
    .requiredOption("--sightings <file>", "sightings, JSON Lines: {\"time\", \"rpi\", \"rssi\", \"aem\" or \"aemTx\"} a line (privatetracer log to-sightings makes them from a token)")
    .option("--risk-config <file>", "risk config JSON (any subset of the fields in docs/risk.md)")
    .option("--profile <file>", 'wearer profile JSON, e.g. {"vulnerability": "high"}')
    .option("--workers <n>", `matching threads (default: one per core from ${PARALLEL_FROM_KEYS} keys, else 1)`)
    .option("--public-key <pem>", "require every export to verify with this public key")
    .option("--cache-dir <dir>", "keep exports fetched from URLs here")
    .option("--json", "print one JSON object {level, reason, matches: [...]}")
    .action(run((o: MatchCliOptions) => runMatch(o)));
}
