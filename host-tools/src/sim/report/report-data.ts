/**
 * The demo report's numbers, taken from one `simulate` run: its result (the
 * world, the kiosk's figures, every token's log) and its metrics. What the
 * run does not hold ready-made (most frequent positions, measured RSSI
 * against true distance) is computed here from what it does hold.
 */
import type { KioskFigures } from "../kiosk/kiosk-figures";
import type { DetectionFigures } from "../metrics/detection-figures";
import type { RunMetrics } from "../metrics/run-metrics";
import type { MetricsRun } from "../metrics/simulate-for-metrics";
import { readTokenFlash, storageOf } from "../metrics/token-flash";
import { Movement } from "../world/movement";
import { DEFAULT_PROPAGATION } from "../world/propagation";
import { Scenario } from "../world/scenario";
import { parseClock, startUnix } from "../world/scenario-load";
import { floorPlanData } from "./floor-data";
import { rssiSample } from "./rssi-sample";
import { DetectorPoint, ReportData, RocSeries, TimelineData, TokenRow } from "./types";

export interface ReportInput {
  scenario: Scenario;
  run: MetricsRun;
  metrics: RunMetrics;
  /** The run's default board (its radio gives the model's transmit power). */
  board: string;
  seed: number;
  /** RSSI points wanted at most (default 3000). */
  rssiPoints?: number;
  /** Other detectors on the same contacts, drawn beside the tokens' threshold curve. */
  compare?: DetectorPoint[];
  /** ROC curves of every detector on the same contacts. */
  roc?: RocSeries[];
}

/** A detector's figures as the report's ROC chart takes them. */
export function rocSeries(
  label: string,
  f: Pick<DetectionFigures, "auc" | "roc" | "falsePositiveRate" | "recall" | "precision" | "f1">
): RocSeries {
  return {
    label,
    auc: f.auc,
    points: f.roc.map((p) => [p.falsePositiveRate, p.truePositiveRate]),
    at: { falsePositiveRate: f.falsePositiveRate, recall: f.recall, precision: f.precision, f1: f.f1 }
  };
}

const DAY = 86400;
/** GAEN matches 14 days of history. */
export const HISTORY_GOAL_DAYS = 14;

export function timelineData(scenario: Scenario, start: number, days: number, k: KioskFigures): TimelineData {
  const firstAt = new Map(k.warnings.tokens.map((t) => [t.person, t]));
  const diagnoses = k.warnings.perDiagnosis.map((d) => {
    const s = (scenario.diagnoses ?? []).find((x) => x.person === d.person);
    const at = start + d.day * DAY + (parseClock(s?.at ?? "10:00") ?? 600) * 60;
    const exposed = new Set(d.exposed);
    return {
      person: d.person,
      at,
      onset: start + (d.day - (s?.onsetDaysBefore ?? 0)) * DAY,
      status: d.status,
      publishedAt: d.hoursToPublication === null ? null : at + Math.round(d.hoursToPublication * 3600),
      keysUploaded: d.keysUploaded,
      warned: d.warned
        .map((p) => ({ person: p, at: firstAt.get(p)?.firstAt ?? at, level: firstAt.get(p)?.level ?? 0, exposed: exposed.has(p) }))
        .sort((a, b) => a.at - b.at),
      missed: d.exposed.filter((p) => !firstAt.has(p)),
      warnedBefore: d.warnedBefore,
      exposedWithoutToken: d.exposedWithoutToken
    };
  });
  return { start, end: start + days * DAY, diagnoses };
}

export async function reportData(i: ReportInput): Promise<ReportData> {
  const { scenario, run, metrics } = i;
  const world = run.world;
  const start = startUnix(scenario);
  const params = { ...DEFAULT_PROPAGATION, ...(scenario.propagation ?? {}) };
  const board = run.boards.get(i.board);
  const roles = new Map(scenario.people.map((p) => [p.id, p.role]));
  const warnedLevel = new Map((run.kiosk?.warnings.tokens ?? []).map((t) => [t.person, t.level]));

  const tokens = world.tokenResults.map((t) => {
    const storage = storageOf(world.emulated?.get(t.person));
    const flash = storage ? readTokenFlash(storage) : null;
    const logged = run.logs.logged(t.person);
    return { person: t.person, logged: logged.length ? logged : (flash?.encounters ?? []), teks: flash?.teks ?? [] };
  });
  const sample = await rssiSample({
    movement: new Movement(scenario, i.seed),
    tokens,
    max: i.rssiPoints ?? 3000,
    seed: i.seed
  });

  const history = run.kiosk?.historyDaysAtEnd.perToken;
  const tokenRows: TokenRow[] = metrics.tokens.map((t) => ({
    person: t.person,
    role: roles.get(t.person) ?? "",
    batteryDays: t.batteryDays,
    retentionDays: t.retentionDays,
    historyDays: history ? (history[t.person] ?? null) : null,
    encountersPerDay: t.encountersPerDay
  }));

  const d = metrics.detection;
  return {
    title: `Simulated ${scenario.name}: ${world.days} days`,
    scenario: scenario.name,
    description: scenario.description ?? null,
    seed: i.seed,
    days: world.days,
    start,
    board: i.board,
    firmware: run.firmware,
    counts: { tokens: world.tokens, phones: world.phones, people: world.people, closeContactPairDays: world.groundTruth.closeContactPairs },
    floor: floorPlanData(scenario, i.seed, world.days, world.groundTruth, warnedLevel),
    rssi: {
      model: {
        txDbm: board?.radio.radiatedTxPowerDbm ?? 0,
        pl0Db: params.pl0Db,
        exponent: params.exponent,
        minDistanceM: params.minDistanceM,
        bodyLossDb: params.bodyLossMaxDb,
        shadowingSigmaDb: params.shadowingSigmaDb,
        receiveThresholdDbm: params.receiveThresholdDbm
      },
      logMinRssiDbm: board?.schedule.logMinRssiDbm ?? null,
      points: sample.points,
      loggedTotal: sample.loggedTotal,
      sampled: sample.sampled
    },
    detection: {
      thresholdDb: d.thresholdDb,
      precision: d.precision,
      recall: d.recall,
      groundTruthContacts: d.groundTruthContacts,
      curve: d.curve.map((c) => ({ thresholdDb: c.thresholdDb, precision: c.precision, recall: c.recall })),
      compare: i.compare ?? [],
      roc: i.roc ?? []
    },
    timeline: run.kiosk ? timelineData(scenario, start, world.days, run.kiosk) : null,
    tokens: tokenRows,
    historyGoalDays: HISTORY_GOAL_DAYS
  };
}
