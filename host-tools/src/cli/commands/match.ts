import * as os from "node:os";
import { SingleBar } from "cli-progress";
import { Command } from "commander";
import { RunAction, Verdict } from "../command";
import { UserError } from "../../errors";
import { readPem } from "../../keys/signing";
import {
  invalidKeysWarning,
  keySourceFreshness,
  KeySourceFreshness,
  LoadedKeys,
  loadKeySourceDetailed,
  requireKeysToCheck
} from "../../keys/sources";
import { MatchedSighting } from "../../match/matched-sightings";
import { BUCKETS, DEFAULT_PROFILE, DEFAULT_RISK_CONFIG, loadProfile, loadRiskConfig } from "../../match/risk-config";
import { incompleteSentence, LostSightings, ScoredWindow } from "../../match/risk-score";
import { matchExposures, MatchReport } from "../../match/run-match";
import { readSightingsFile, Sighting } from "../../match/sightings";
import { readTokenLog, recentLosses } from "../../tokenlog/read-log";
import { recordToSighting } from "../../tokenlog/to-sightings";
import { loadTokenFiles } from "../../tokenlog/token-files";
import { loadBoard } from "../../build/boards";
import { riskConfigFor, scheduleFigures } from "../../match/token-crediting";

/** Below this many keys, starting worker threads costs more than it saves. */
const PARALLEL_FROM_KEYS = 20000;
/** Why 3 days: docs/keys.md, "Nothing checked is not "no risk"". */
const DEFAULT_MAX_KEY_AGE_DAYS = "3";

interface MatchCliOptions {
  keys: string;
  sightings?: string;
  flash?: string;
  partial?: boolean;
  riskConfig?: string;
  board?: string;
  profile?: string;
  workers?: string;
  json?: boolean;
  publicKey?: string;
  cacheDir?: string;
  maxKeyAgeDays: string;
}

/** What the key source gave, for the report: where the "N published key(s)" came from and how fresh they are. */
export interface KeySourceSummary {
  spec: string;
  loaded: LoadedKeys;
  freshness: KeySourceFreshness;
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

function maxKeyAgeSeconds(opt: string): number {
  const days = Number(opt);
  if (!/^\d+(\.\d+)?$/.test(opt) || !Number.isFinite(days))
    throw new UserError(`--max-key-age-days must be a number of days (e.g. 3 or 0.5), got "${opt}"`);
  return days * 86400;
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

function sourceJson(src: KeySourceSummary, r: MatchReport): Record<string, unknown> {
  const { loaded, freshness } = src;
  return {
    spec: src.spec,
    files: loaded.files.length,
    revokedKeys: loaded.revoked,
    duplicateKeysMerged: loaded.duplicates + r.duplicateKeysMerged,
    widenedKeys: loaded.widened,
    clippedKeys: loaded.clipped,
    invalidKeysSkipped: loaded.invalidKeysSkipped + r.invalidKeysSkipped,
    newestExportEnd: freshness.newestExportEnd,
    ageDays: freshness.ageSeconds === null ? null : round(freshness.ageSeconds / 86400, 2),
    maxAgeDays: round(freshness.maxAgeSeconds / 86400, 2),
    stale: freshness.stale
  };
}

/** Lines that qualify the level: they go next to it in text and into `warnings` in JSON. */
function warnings(src: KeySourceSummary | undefined, r?: MatchReport): string[] {
  const out = src?.freshness.warning ? [src.freshness.warning] : [];
  const invalid = src ? invalidKeysWarning(src.loaded) : null;
  if (invalid) out.push(invalid);
  if (r?.incomplete) out.push(`INCOMPLETE LOG: ${incompleteSentence(r.incomplete)}`);
  return out;
}

/** After the level: "(incomplete: …)" whenever the log lost records, so a NONE never reads as a clean one. */
function levelQualifier(r: MatchReport): string {
  const l = r.incomplete;
  const missing = l?.missingSegments ? `, ${l.missingSegments} log segment(s) missing` : "";
  return l ? ` (incomplete: ${l.sightings.toLocaleString("en-GB")} sighting(s) not kept${l.flood ? ", log flooded" : ""}${missing})` : "";
}

/** Notes on what was merged, so a count that shrank against the export is explained. */
function notes(r: MatchReport, src: KeySourceSummary | undefined): string[] {
  const out: string[] = [];
  const merged = (src?.loaded.duplicates ?? 0) + r.duplicateKeysMerged;
  if (merged) {
    const clipped = src?.loaded.clipped
      ? `; ${src.loaded.clipped} key(s) had copies whose windows together span more than a day, which cannot all be true, and were cut to one day around the first-published copy`
      : "";
    out.push(
      `${merged} duplicate key(s) merged: the same key was published more than once (some with a different start); each key and each sighting counts once${clipped}.`
    );
  }
  if (r.sightingsMatchedTwice) out.push(`${r.sightingsMatchedTwice} sighting(s) matched more than one key or interval; each counts once.`);
  return out;
}

export function reportJson(r: MatchReport, src?: KeySourceSummary): Record<string, unknown> {
  const matches: Record<string, unknown>[] = [];
  r.windows.forEach((w, i) => {
    for (const scan of w.window.scans) for (const m of scan.sightings) matches.push(matchJson(m, w, i, scan.bucket));
  });
  return {
    level: r.level,
    reason: r.reason,
    complete: r.incomplete === null,
    incomplete: r.incomplete,
    matches,
    days: r.days.map((d) => ({ day: d.day, score: round(d.score), exposureMinutes: round(d.exposureMinutes, 1), windows: d.windows })),
    cutoffs: r.cutoffs,
    vulnerability: r.profile.vulnerability,
    keys: r.keys,
    sightings: r.sightings,
    duplicateKeysMerged: (src?.loaded.duplicates ?? 0) + r.duplicateKeysMerged,
    sightingsMatchedTwice: r.sightingsMatchedTwice,
    ...(src ? { keySource: sourceJson(src, r) } : {}),
    warnings: warnings(src, r)
  };
}

const minutes = (s: number): string => `${round(s / 60, 1)} min`;

export function reportText(r: MatchReport, src?: KeySourceSummary): string {
  const out: string[] = [];
  const keysHit = new Set(r.matches.map((m) => m.keyIndex)).size;
  out.push(`${r.matches.length} of ${r.sightings} sighting(s) matched ${keysHit} of ${r.keys} published key(s).`);
  out.push(...notes(r, src));
  r.windows.forEach((w, i) => {
    const onset = w.daysSinceOnset === null ? "onset unknown" : `${w.daysSinceOnset} day(s) since symptom onset`;
    const buckets = BUCKETS.map((b) => `${b} ${minutes(w.window.bucketSeconds[b])}`).join(", ");
    out.push("");
    out.push(
      `Exposure ${i + 1}: ${REPORT_TYPE_TEXT[w.reportType]}, ${onset} (${w.infectiousness} infectiousness), key ${Buffer.from(w.window.key.keyData).toString("hex")}`
    );
    out.push(`  ${iso(w.window.start)} to ${iso(w.window.end)}, about ${minutes(w.window.durationSeconds)}: ${buckets}`);
    // With the classifier, windows are not scored one by one: their person-day is (the daily scores below).
    if (!r.closeContact) out.push(`  score ${round(w.score, 2)} weighted min${w.counted ? "" : " (below the minimum: not counted)"}`);
    for (const scan of w.window.scans) {
      for (const m of scan.sightings) {
        const tx = `tx ${m.txPowerDbm} dBm (${m.txPowerSource === "aem" ? "AEM" : "assumed"})`;
        out.push(
          `    ${iso(m.sighting.time)}  line ${m.sighting.line}  rpi ${m.rpi.toString("hex")}  rssi ${m.sighting.rssi}  ${tx}  attenuation ${m.attenuationDb} dB  ${scan.bucket}`
        );
      }
    }
  });
  if (r.days.length) {
    out.push("");
    const unit = r.closeContact ? "close-contact classifier, scaled to the cut-offs" : "weighted minutes";
    out.push(`Daily scores (${unit}): ` + r.days.map((d) => `${d.day} ${round(d.score, 2)}`).join(", "));
  }
  const c = r.cutoffs;
  out.push("");
  // Next to the level, where it is read: a stale source can hide risk the level does not show.
  out.push(...warnings(src, r));
  out.push(
    `Level: ${r.level.toUpperCase()}${levelQualifier(r)}  (cut-offs low ${round(c.low, 2)}, medium ${round(c.medium, 2)}, high ${round(c.high, 2)}; vulnerability ${r.profile.vulnerability})`
  );
  out.push(r.reason);
  return out.join("\n");
}

async function runMatch(o: MatchCliOptions): Promise<Verdict> {
  // Local files first: a typo there should not wait for a download.
  if (!o.sightings === !o.flash) throw new UserError("give exactly one of --sightings FILE and --flash FLASH");
  let sightings: Sighting[];
  let losses: LostSightings | null = null;
  if (o.flash) {
    // Straight from the token's log: the losses come with it, so the level can say it is incomplete.
    const log = readTokenLog(loadTokenFiles(o.flash), { partial: !!o.partial });
    sightings = log.records.map((r, i) => ({ ...recordToSighting(r), line: i + 1 }));
    losses = recentLosses(log);
  } else sightings = readSightingsFile(o.sightings!);
  const given = o.riskConfig ? loadRiskConfig(o.riskConfig) : DEFAULT_RISK_CONFIG;
  // A token's scans stand for its board's scan period, not a phone's (docs/risk.md, "duration estimate").
  const config = o.board ? riskConfigFor(scheduleFigures(loadBoard(o.board).schedule), given) : given;
  const profile = o.profile ? loadProfile(o.profile) : DEFAULT_PROFILE;
  const publicKeyPem = o.publicKey ? readPem(o.publicKey, "public key") : undefined;
  const maxAge = maxKeyAgeSeconds(o.maxKeyAgeDays);
  const loaded = await loadKeySourceDetailed(o.keys, { cacheDir: o.cacheDir, publicKeyPem });
  requireKeysToCheck(loaded, o.keys);
  const src: KeySourceSummary = {
    spec: o.keys,
    loaded,
    freshness: keySourceFreshness(loaded, o.keys, Math.floor(Date.now() / 1000), maxAge)
  };
  const keys = loaded.keys;
  const workers = workerCount(o.workers, keys.length);
  const bar = process.stderr.isTTY
    ? new SingleBar({
        stream: process.stderr,
        format: "matching {bar} {percentage}% | {value}/{total} keys | {eta}s left",
        hideCursor: true
      })
    : null;
  bar?.start(keys.length, 0);
  let report: MatchReport;
  try {
    // Every key here passed keyProblem when its export was read, the check the matcher makes too.
    report = await matchExposures(keys, sightings, {
      config,
      profile,
      workers,
      losses,
      onProgress: bar ? (done) => bar.update(done) : undefined
    });
  } finally {
    bar?.stop();
  }
  if (o.json) {
    // stdout stays one JSON object; a person watching still sees the warning.
    for (const w of warnings(src, report)) process.stderr.write(`privatetracer: ${w}\n`);
    process.stdout.write(JSON.stringify(reportJson(report, src)) + "\n");
  } else process.stdout.write(reportText(report, src) + "\n");
  return "ok";
}

export function register(program: Command, run: RunAction): void {
  program
    .command("match")
    .description(
      'Match a sightings log against published diagnosis keys and grade the risk (none, low, medium, high). A key source with no keys is refused (exit 2): nothing checked is not "no risk".'
    )
    .requiredOption("--keys <src>", "published keys: an export .zip/.bin, a directory of them, or an index.txt (path or URL)")
    .option(
      "--sightings <file>",
      'sightings, JSON Lines: {"time", "rpi", "rssi", "aem" or "aemTx"} a line (privatetracer log to-sightings makes them from a token)'
    )
    .option(
      "--flash <flash>",
      "instead of --sightings: a token's flash image or directory of its Storage files; records the log lost are then reported with the level"
    )
    .option("--partial", "with --flash: use what is readable from a damaged image (the damage counts as lost records)")
    .option("--risk-config <file>", "risk config JSON (any subset of the fields in docs/risk.md)")
    .option(
      "--board <board>",
      "the token's board (puckjs, pixljs, …): its scans are credited with that board's scan schedule, as the kiosk does; without it, a phone's"
    )
    .option("--profile <file>", 'wearer profile JSON, e.g. {"vulnerability": "high"}')
    .option("--workers <n>", `matching threads (default: one per core from ${PARALLEL_FROM_KEYS} keys, else 1)`)
    .option("--public-key <pem>", "require every export to verify with this public key")
    .option("--cache-dir <dir>", "keep exports fetched from URLs here")
    .option("--max-key-age-days <days>", "warn when the newest published export is older than this", DEFAULT_MAX_KEY_AGE_DAYS)
    .option("--json", "print one JSON object {level, reason, matches: [...]}")
    .action(run((o: MatchCliOptions) => runMatch(o)));
}
