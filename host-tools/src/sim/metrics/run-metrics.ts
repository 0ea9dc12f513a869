/**
 * The figures of one simulated run, per token and overall, from what the
 * tokens left in flash and the energy model: encounters logged, flash the log
 * uses, bytes per encounter, retention on the tightest board, average current,
 * battery days, faults, and close-contact detection from the logs alone.
 */
import type { BoardConfig } from "../../build/boards";
import type { WorldResult } from "../world/runner";
import {
  DetectionReport,
  ContactTruth,
  ExposureByPairDay,
  contactTruth,
  detectionReport,
  exposuresFromLogs,
  minutesWithin,
  nearMisses,
  trueCloseContacts
} from "./detection";
import { DetectionFigures, detectionFigures, pairDays } from "./detection-figures";
import { CLOSE_CONTACT_MINUTES } from "../world/ground-truth";
import { BoardBundle, bytesPerEncounter, retentionOn, tightestBoard } from "./retention";
import type { LogCollector } from "./log-collector";
import type { LoggedRecord } from "../../tokenlog/read-log";
import { StorageView, TokenFlash, readTokenFlash, storageOf } from "./token-flash";

import { scheduleFigures } from "../../match/token-crediting";
export interface TokenMetrics {
  person: string;
  board: string;
  /** Records the firmware wrote to its log over the run (collected hourly, evicted ones included). */
  encounters: number;
  encountersPerDay: number;
  /** Records still in the log at the end of the run. */
  retained: number;
  /** Sightings the firmware counted as dropped (full scan table or full flash). */
  dropped: number;
  segments: number;
  logBytes: number;
  bytesPerEncounter: number;
  /** Days of log that fit on the tightest board at this token's rate. */
  retentionDays: number;
  teks: number;
  avgCurrentUA: number;
  batteryDays: number;
  /** Faults the firmware's guards caught, as persisted in flash. */
  faults: number;
  /** Exceptions that escaped to Espruino's top level. */
  uncaught: number;
}

export interface RunMetrics {
  tokens: TokenMetrics[];
  /** Records logged over the run by all tokens. */
  encounters: number;
  /** Records still in the logs at the end. */
  retained: number;
  encountersPerTokenDay: number;
  maxEncountersPerDay: number;
  logBytes: number;
  bytesPerEncounter: number;
  /** Days of log on the tightest board at the busiest token's rate (the figure a design must meet). */
  retentionDays: number;
  /** The same at the mean rate. */
  retentionDaysAtMean: number;
  retentionBoard: {
    id: string;
    storageBytes: number;
    bundleBytes: number;
    bundleSource: "dist" | "budget";
    segments: number;
    encounters: number;
  };
  /** Mean average current over tokens, µA. */
  avgCurrentUA: number;
  /** Battery life of the token that draws most, days. */
  batteryDays: number;
  faults: number;
  uncaught: number;
  tokensWithFaults: number;
  detection: DetectionReport;
  /** The same detection as the figures the phone baseline is given (precision, recall, F1, AUC, near misses). */
  detectionFigures: DetectionFigures;
  /** Every credited scan per (receiver, sender, day), from everything logged: what a classifier of exposures is fitted on. */
  exposure: ExposureByPairDay;
}

export interface MetricsOptions {
  /** Attenuation threshold for detection, dB. */
  thresholdDb: number;
  /** The scan schedule the tokens ran (to credit scan time as the firmware scanned). */
  schedule: BoardConfig["schedule"];
  /** The board whose retention is reported; default: the tightest of board-configs/. */
  retentionBoard?: BoardBundle;
  /**
   * Every record each token logged (collected during the run). Without it the
   * logs at the end stand for what was logged, which undercounts once the
   * oldest segments have been evicted.
   */
  logs?: LogCollector;
}

function flashOf(token: unknown): StorageView {
  const s = storageOf(token);
  if (!s) throw new Error("run metrics need the emulated tokens' flash: run the world with keepTokens");
  return s;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export async function runMetrics(world: WorldResult, o: MetricsOptions): Promise<RunMetrics> {
  if (!world.emulated) throw new Error("run metrics need the emulated tokens' flash: run the world with keepTokens");
  const board = o.retentionBoard ?? tightestBoard();
  const flashes = new Map<string, TokenFlash>();
  for (const t of world.tokenResults) flashes.set(t.person, readTokenFlash(flashOf(world.emulated.get(t.person))));
  const otherFiles = Math.max(0, ...[...flashes.values()].map((f) => f.otherFileBytes));
  const days = world.virtualSeconds / 86400;

  const logged = new Map<string, LoggedRecord[]>();
  for (const t of world.tokenResults) {
    const all = o.logs?.logged(t.person);
    logged.set(t.person, all && all.length >= flashes.get(t.person)!.encounters.length ? all : flashes.get(t.person)!.encounters);
  }

  const tokens: TokenMetrics[] = world.tokenResults.map((t) => {
    const f = flashes.get(t.person)!;
    const n = logged.get(t.person)!.length;
    const rate = n / days;
    return {
      person: t.person,
      board: t.board,
      encounters: n,
      encountersPerDay: round(rate, 1),
      retained: f.records,
      dropped: f.dropped,
      segments: f.segments,
      logBytes: f.logBytes,
      bytesPerEncounter: round(bytesPerEncounter(f.logBytes, f.records), 2),
      retentionDays: round(retentionOn(board, otherFiles, rate).days, 1),
      teks: f.teks.length,
      avgCurrentUA: round(t.energy.totalUA, 1),
      batteryDays: round(t.energy.batteryDays, 1),
      faults: f.faults,
      uncaught: t.uncaught.length
    };
  });

  // Keys are read from the flash at the end: a token keeps its last 14 TEKs, every day of a ≤ 14-day run.
  const teks = (p: string) => flashes.get(p)!.teks;
  const schedule = scheduleFigures(o.schedule);
  const people = new Set(world.tokenResults.map((t) => t.person));
  const truth = trueCloseContacts(world.groundTruth, people);
  const near = nearMisses(world.groundTruth);
  const everything = await exposuresFromLogs(
    world.tokenResults.map((t) => ({ person: t.person, encounters: logged.get(t.person)!, teks: teks(t.person) })),
    schedule
  );
  const atEnd = await exposuresFromLogs(
    world.tokenResults.map((t) => ({ person: t.person, encounters: flashes.get(t.person)!.encounters, teks: teks(t.person) })),
    schedule
  );
  const detection = detectionReport(everything, truth, o.thresholdDb, { exposure: atEnd, truth }, near);
  const figures = tokenFigures(everything, o.thresholdDb, contactTruth(world.groundTruth, people), pairDays(people.size, world.days));

  const encounters = tokens.reduce((n, t) => n + t.encounters, 0);
  const retained = tokens.reduce((n, t) => n + t.retained, 0);
  const logBytes = tokens.reduce((n, t) => n + t.logBytes, 0);
  const meanRate = tokens.length ? encounters / tokens.length / days : 0;
  const maxRate = Math.max(0, ...tokens.map((t) => t.encounters / days));
  const atMax = retentionOn(board, otherFiles, maxRate);
  const worst = world.tokenResults.reduce<WorldResult["tokenResults"][number] | undefined>(
    (a, t) => (!a || t.energy.totalUA > a.energy.totalUA ? t : a),
    undefined
  );
  return {
    tokens,
    encounters,
    encountersPerTokenDay: round(meanRate, 1),
    maxEncountersPerDay: round(maxRate, 1),
    logBytes,
    retained,
    bytesPerEncounter: round(bytesPerEncounter(logBytes, retained), 2),
    retentionDays: round(atMax.days, 1),
    retentionDaysAtMean: round(retentionOn(board, otherFiles, meanRate).days, 1),
    retentionBoard: {
      id: board.board.id,
      storageBytes: board.board.storage.shared && board.board.storage.dataBytes ? board.board.storage.dataBytes : board.board.storage.bytes,
      bundleBytes: board.bundleBytes,
      bundleSource: board.source,
      segments: atMax.segments,
      encounters: atMax.encounters
    },
    avgCurrentUA: tokens.length ? round(world.tokenResults.reduce((n, t) => n + t.energy.totalUA, 0) / tokens.length, 1) : 0,
    batteryDays: worst ? round(worst.energy.batteryDays, 1) : 0,
    faults: tokens.reduce((n, t) => n + t.faults, 0),
    uncaught: tokens.reduce((n, t) => n + t.uncaught, 0),
    tokensWithFaults: tokens.filter((t) => t.faults > 0 || t.uncaught > 0).length,
    detection,
    detectionFigures: figures,
    exposure: everything
  };
}

/** Score of a pair-day for the tokens: minutes credited at or below the threshold, flagged at 15. */
function tokenFigures(exposure: ExposureByPairDay, thresholdDb: number, contacts: ContactTruth, universe: number): DetectionFigures {
  const scores = new Map<string, number>();
  for (const [key, scans] of exposure) scores.set(key, minutesWithin(scans, thresholdDb));
  return detectionFigures(scores, CLOSE_CONTACT_MINUTES, contacts, universe);
}
