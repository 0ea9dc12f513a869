import { Command, InvalidArgumentError } from "commander";
import { SingleBar } from "cli-progress";
import { RunAction, Verdict } from "../command";
import { UserError } from "../../errors";
import { loadScenario, validateScenario } from "../../sim/world/scenario-load";
import { FirmwareChoice } from "../../sim/world/simulate";
import { prepareOutput, summarise, writeOutput } from "../../sim/world/output";
import { parseSchedule } from "../../sim/metrics/schedule-override";
import { simulateForMetrics } from "../../sim/metrics/simulate-for-metrics";
import { DEFAULT_THRESHOLD_DB } from "../../sim/metrics/detection";
import { runMetrics } from "../../sim/metrics/run-metrics";
import { metricsSummary, tokenTable } from "../../sim/metrics/format";
import { kioskSummary } from "../../sim/kiosk/kiosk-figures";
import { checkReportTarget, rocSeries, writeRunReport } from "../../sim/report";
import { runPhoneBaseline } from "../../sim/phone/phone-baseline";
import { PhoneWarnings, phoneWarnings, phoneWarningsLine } from "../../sim/phone/phone-warnings";
import { warningLevelLines, warningLevels } from "../../sim/kiosk/warning-levels";
import { phoneDetection } from "../../sim/phone/phone-detection";
import { PhoneSummary, phoneSummary, roundFigures, sideBySideLines } from "../../sim/phone/side-by-side";
import { phoneClassifier, tokenClassifier } from "../../sim/metrics/band-report";
import { classifierRiskConfig } from "../../sim/metrics/band-models";

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/**
 * A whole number in min..max. Without the upper bound `--days 1e21` (written
 * out in digits) simulated until the machine was switched off, and a seed
 * past 2^32 silently gave another seed's run.
 */
function wholeNumber(name: string, min: number, max: number, why: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min || n > max)
      throw new InvalidArgumentError(`--${name} must be a whole number ≥ ${min} and ≤ ${max} (${why}), got "${v}"`);
    return n;
  };
}

/** A year of virtual time: more says nothing the figures of a year do not, and takes hours a month. */
const MAX_DAYS = 366;
/** Seeds are mixed as 32-bit numbers (sim/prng.ts). */
const MAX_SEED = 0xffffffff;
/** GAEN attenuation is one byte. */
const MAX_THRESHOLD_DB = 255;

export function register(program: Command, run: RunAction): void {
  program
    .command("simulate")
    .description(
      "Run tokens (the real firmware bundle, each in an emulated Espruino) and phones in a simulated building for N days; print what happened and the ground truth."
    )
    .option(
      "-s, --scenario <name|file>",
      "built-in scenario (care-home, or care-home-wings: two wings, each diagnosis reaching one) or a scenario JSON file",
      "care-home"
    )
    .option("-d, --days <n>", `virtual days to simulate (1 to ${MAX_DAYS})`, wholeNumber("days", 1, MAX_DAYS, "a year at most"), 14)
    .option("--seed <n>", "seed: the same seed gives the same run", wholeNumber("seed", 0, MAX_SEED, "seeds are 32-bit"), 1)
    .option("--start <date>", "first day, YYYY-MM-DD (UTC); default: the scenario's own")
    .option("-b, --board <id>", "board of tokens whose scenario entry names none", "puckjs")
    .option(
      "--firmware <which>",
      "real (dist/firmware/<board>.js, built if missing), stand-in (a tiny advertise-and-scan bundle), or auto (real if it scans)",
      "real"
    )
    .option("-o, --out <dir>", "write summary, ground truth, per-token results, sightings (JSON Lines) and flash images here")
    .option("--json", "print one JSON object instead of the summary text")
    .option(
      "--schedule <spec>",
      "override the boards' advertising/scan schedule and rebuild the firmware, e.g. advert=250,window=1000,period=300,jitter=90"
    )
    .option(
      "--threshold-db <n>",
      "attenuation threshold (dB) for close contacts found from the logs",
      wholeNumber("threshold-db", 0, MAX_THRESHOLD_DB, "an attenuation in dB"),
      DEFAULT_THRESHOLD_DB
    )
    .option(
      "--report <file>",
      "write a self-contained HTML report with pictures: floor plan and close contacts, RSSI against distance, detection, diagnosis to warning, battery and retention"
    )
    .option("--no-tokens", "leave the per-token table out of the text output")
    .option("--no-kiosk", "leave the scenario's kiosk (and its diagnoses) out: tokens keep only what fits in their flash")
    .option(
      "--kiosk-grading <how>",
      "how the kiosk grades matches: minutes (weighted minutes, the default) or classifier (the stored close-contact model; docs/risk.md)",
      "minutes"
    )
    .option("--no-phones", "leave out the GAEN phone baseline (every person also carrying a GAEN phone, scored like the tokens)")
    .action(
      run(
        async (opts: {
          scenario: string;
          days: number;
          seed: number;
          start?: string;
          board: string;
          firmware: string;
          out?: string;
          json?: boolean;
          schedule?: string;
          thresholdDb: number;
          tokens: boolean;
          kiosk: boolean;
          phones: boolean;
          report?: string;
          kioskGrading: string;
        }): Promise<Verdict> => {
          if (!["minutes", "classifier"].includes(opts.kioskGrading))
            throw new UserError(`--kiosk-grading must be minutes or classifier, got "${opts.kioskGrading}"`);
          if (!["real", "stand-in", "auto"].includes(opts.firmware))
            throw new UserError(`--firmware must be real, stand-in or auto, got "${opts.firmware}"`);
          let scenario = loadScenario(opts.scenario, opts.seed);
          if (opts.start !== undefined) scenario = validateScenario({ ...scenario, startDate: opts.start }, "--start");
          // Before the simulation, which may run for minutes: a wrong --out is found now, not after.
          if (opts.out) prepareOutput(opts.out);
          if (opts.report) checkReportTarget(opts.report);
          const schedule = opts.schedule !== undefined ? parseSchedule(opts.schedule) : undefined;
          let bar: SingleBar | undefined;
          let lastDay = -1;
          // Off a terminal (make demo in a log, CI) a line per virtual day instead of a bar.
          const dayLine = (f: number): void => {
            const day = Math.floor(f * opts.days + 1e-9);
            if (day > lastDay && day > 0) process.stderr.write(`simulated day ${day}/${opts.days}\n`);
            lastDay = day;
          };
          if (process.stderr.isTTY) {
            bar = new SingleBar({
              stream: process.stderr,
              format: "simulating {bar} {percentage}% | day {day}/{days} | ETA {eta_formatted}",
              hideCursor: true
            });
            bar.start(opts.days * 24, 0, { day: 0, days: opts.days });
          }
          const result = await simulateForMetrics({
            scenario,
            days: opts.days,
            seed: opts.seed,
            board: opts.board,
            firmware: opts.firmware as FirmwareChoice,
            record: !!opts.out,
            schedule,
            kiosk: opts.kiosk,
            kioskRiskConfig: opts.kioskGrading === "classifier" ? classifierRiskConfig() : undefined,
            onProgress: bar
              ? (f) => bar!.update(Math.round(f * opts.days * 24), { day: Math.floor(f * opts.days), days: opts.days })
              : opts.json
                ? undefined
                : dayLine
          }).finally(() => bar?.stop());
          const runBoard = result.boards.get(opts.board)!;
          const metrics = await runMetrics(result.world, { thresholdDb: opts.thresholdDb, schedule: runBoard.schedule, logs: result.logs });
          const base = summarise(result, opts.board);
          // The phones run after the tokens, on streams of their own: the tokens' figures are the same with or without them.
          let phone: PhoneSummary | undefined;
          let phoneWarned: PhoneWarnings | undefined;
          if (opts.phones) {
            const baseline = runPhoneBaseline({ scenario, days: opts.days, seed: opts.seed });
            const wearers = new Set(result.world.tokenResults.map((t) => t.person));
            const run = { scenario: scenario.name, seed: opts.seed };
            phone = phoneSummary(
              phoneDetection(baseline, result.world.groundTruth, wearers),
              baseline,
              phoneClassifier(baseline, result.world.groundTruth, wearers, run)
            );
            // The scenario's diagnoses, as phones would have warned for them (beside the kiosk's warnings on tokens).
            if (result.kiosk) phoneWarned = phoneWarnings(baseline, result.kiosk.warnings.perDiagnosis, wearers);
          }
          const byLevel = result.kiosk ? warningLevels(result.kiosk.warnings, phoneWarned) : undefined;
          const token = roundFigures(
            metrics.detectionFigures,
            tokenClassifier(
              metrics.exposure,
              result.world.groundTruth,
              result.world.tokenResults.map((t) => t.person),
              { scenario: scenario.name, seed: opts.seed }
            )
          );
          const summary = {
            ...base,
            schedule: runBoard.schedule,
            encounters: metrics.encounters,
            encountersRetained: metrics.retained,
            encountersPerTokenDay: metrics.encountersPerTokenDay,
            maxEncountersPerDay: metrics.maxEncountersPerDay,
            bytesPerEncounter: metrics.bytesPerEncounter,
            retentionDays: metrics.retentionDays,
            retentionBoard: metrics.retentionBoard,
            avgCurrentUA: metrics.avgCurrentUA,
            batteryDays: metrics.batteryDays,
            detection: {
              precision: round3(metrics.detection.precision),
              recall: round3(metrics.detection.recall),
              thresholdDb: metrics.detection.thresholdDb,
              truePositives: metrics.detection.truePositives,
              falsePositives: metrics.detection.falsePositives,
              falseNegatives: metrics.detection.falseNegatives,
              falsePositivesWithin3m: metrics.detection.falsePositivesWithin3m,
              groundTruthContacts: metrics.detection.groundTruthContacts,
              atEnd: { precision: round3(metrics.detection.atEnd.precision), recall: round3(metrics.detection.atEnd.recall) },
              curve: metrics.detection.curve.map((c) => ({
                thresholdDb: c.thresholdDb,
                precision: round3(c.precision),
                recall: round3(c.recall),
                falsePositivesWithin3m: c.falsePositivesWithin3m
              })),
              token,
              ...(phone ? { phone } : {})
            },
            faults: metrics.faults,
            perToken: metrics.tokens,
            ...(result.kiosk
              ? {
                  kiosk: {
                    grading: opts.kioskGrading,
                    ...result.kiosk,
                    warnings: { ...result.kiosk.warnings, ...(phoneWarned ? { phone: phoneWarned } : {}), byLevel }
                  }
                }
              : {})
          };
          const written = opts.out ? writeOutput(opts.out, result, summary) : [];
          if (opts.report) {
            const point = (label: string, f: { precision: number; recall: number; f1: number }) => ({
              label,
              precision: f.precision,
              recall: f.recall,
              f1: f.f1
            });
            const compare = [
              ...(token.classifier ? [point("tokens, band classifier", token.classifier)] : []),
              ...(phone ? [point(`GAEN phones, ${phone.buckets}`, phone)] : []),
              ...(phone?.classifier ? [point("GAEN phones, band classifier", phone.classifier)] : [])
            ];
            const roc = [
              rocSeries(`tokens, ≥ 15 min at ≤ ${metrics.detection.thresholdDb} dB`, token),
              ...(token.classifier ? [rocSeries("tokens, band classifier", token.classifier)] : []),
              ...(phone ? [rocSeries(`GAEN phones, ${phone.buckets}`, phone)] : []),
              ...(phone?.classifier ? [rocSeries("GAEN phones, band classifier", phone.classifier)] : [])
            ];
            const bytes = await writeRunReport(opts.report, {
              scenario,
              run: result,
              metrics,
              board: opts.board,
              seed: opts.seed,
              compare,
              roc
            });
            process.stderr.write(`report written to ${opts.report} (${Math.round(bytes / 1024)} KB)\n`);
          }
          if (opts.json) {
            process.stdout.write(JSON.stringify(summary) + "\n");
          } else {
            const lines = opts.tokens ? [tokenTable(metrics.tokens), ""] : [];
            lines.push(
              `scenario        ${summary.scenario} (seed ${summary.seed}, firmware ${summary.firmware}, board ${summary.board})`,
              `devices         ${summary.tokens} tokens, ${summary.phones} phones, ${summary.people} people`,
              `virtual time    ${summary.days} days (${summary.virtualSeconds} s)`,
              `packets         ${summary.packets} delivered in ${summary.radio.scanWindows} scan windows (${summary.radio.belowThreshold} below threshold, ${summary.radio.lost} lost)`,
              `ground truth    ${summary.groundTruth.closeContactPairs} close contacts (pair-days ≥ 15 min within 2 m)`,
              `energy          mean ${summary.energy.meanUA} µA, worst ${summary.energy.maxUA} µA, shortest battery ${summary.energy.minBatteryDays} days`,
              `schedule        advertise every ${runBoard.schedule.advertIntervalMs} ms; scan ${runBoard.schedule.scanWindowMs} ms every ${runBoard.schedule.scanPeriodSec} s minus 0–${runBoard.schedule.scanJitterSec} s`,
              ...metricsSummary(metrics),
              ...sideBySideLines(token, phone),
              ...(result.kiosk ? kioskSummary(result.kiosk) : []),
              ...(phoneWarned ? [phoneWarningsLine(phoneWarned)] : []),
              ...(byLevel ? warningLevelLines(byLevel) : []),
              `wall clock      ${summary.wallSeconds.toFixed(1)} s (${summary.events} events)`
            );
            if (opts.out) lines.push(`output          ${written.length} files in ${opts.out}`);
            process.stdout.write(lines.join("\n") + "\n");
          }
          if (summary.tokensWithErrors > 0) {
            process.stderr.write(
              `warning: the firmware threw uncaught exceptions on ${summary.tokensWithErrors} tokens (see tokens.json with --out)\n`
            );
          }
          return "ok";
        }
      )
    );
}
