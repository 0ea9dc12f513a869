/**
 * Everything the demo report draws, as plain JSON: report-data.ts fills it
 * from a simulated run, report-html.ts turns it into one page (the numbers are
 * inlined in the page for its charts). Times are unix seconds.
 */
import type { ScenarioRoom } from "../world/scenario";

export type ReportRoom = Pick<ScenarioRoom, "id" | "kind" | "x" | "y" | "w" | "h">;

export interface ReportPerson {
  id: string;
  role: string;
  /** What the person wears or carries. */
  device: "token" | "phone" | "none";
  /** Where the person is most often (metres, scenario coordinates). */
  x: number;
  y: number;
  room: string;
  /** True when that spot is a fixed one of the scenario (a bed, a seat); false: a spot in the room they are most often in. */
  fixedSpot: boolean;
  diagnosed: boolean;
  /** Highest warning level written to the person's token (1 low, 2 high), 0 when none. */
  warnedLevel: number;
}

export interface ReportContact {
  a: string;
  b: string;
  /** Days on which the pair spent ≥ 15 minutes within 2 m. */
  days: number;
  /** Minutes within 2 m over those days. */
  minutes: number;
  /** Where the two were when within 2 m most often (metres): the contact is drawn there. */
  at: [number, number, number, number];
}

export interface FloorPlanData {
  rooms: ReportRoom[];
  people: ReportPerson[];
  contacts: ReportContact[];
  kiosk: { room: string; x: number; y: number } | null;
}

export interface RssiData {
  /** The propagation model: mean RSSI = txDbm − (pl0Db + 10·exponent·log10(d)) − bodyLossDb (same room, no walls). */
  model: {
    txDbm: number;
    pl0Db: number;
    exponent: number;
    minDistanceM: number;
    /** Mean loss of two wearers' bodies facing random ways (half the maximum each). */
    bodyLossDb: number;
    shadowingSigmaDb: number;
    receiveThresholdDbm: number;
  };
  /** The firmware logs only sightings at or above this RSSI, dBm (null when unknown). */
  logMinRssiDbm: number | null;
  /** Sampled logged sightings: [true distance m, RSSI dBm as logged, 1 when a wall was between them], by distance. */
  points: Array<[number, number, number]>;
  /** Logged sightings of a token by a token over the run, and how many of them the sample drew. */
  loggedTotal: number;
  sampled: number;
}

export interface DetectionData {
  thresholdDb: number;
  precision: number;
  recall: number;
  groundTruthContacts: number;
  curve: Array<{ thresholdDb: number; precision: number; recall: number }>;
  /** Other detectors scored on the same contacts (the tokens' band classifier, GAEN phones): one point each. */
  compare: DetectorPoint[];
  /** ROC curves of every detector scored on the same contacts, the tokens' rule first. */
  roc: RocSeries[];
}

export interface RocSeries {
  label: string;
  auc: number;
  /** [false-positive rate, true-positive rate] from the strictest cut to every heard pair-day flagged. */
  points: Array<[number, number]>;
  /** The figures at the cut the detector uses. */
  at: { falsePositiveRate: number; recall: number; precision: number; f1: number };
}

export interface DetectorPoint {
  label: string;
  precision: number;
  recall: number;
  f1: number;
}

export interface TimelineDiagnosis {
  person: string;
  /** Code entered at the kiosk. */
  at: number;
  onset: number;
  status: string;
  publishedAt: number | null;
  keysUploaded: number;
  /** Token wearers warned after these keys were published, with when and the level. */
  warned: Array<{ person: string; at: number; level: number; exposed: boolean }>;
  /** Exposed wearers with no warning at the end. */
  missed: string[];
  /** Exposed wearers already warned by an earlier diagnosis. */
  warnedBefore: string[];
  exposedWithoutToken: number;
}

export interface TimelineData {
  start: number;
  end: number;
  diagnoses: TimelineDiagnosis[];
}

export interface TokenRow {
  person: string;
  role: string;
  batteryDays: number;
  /** Days of log that fit in the tightest board's flash at this token's rate. */
  retentionDays: number;
  /** Days the kiosk could match at the end without a gap (archive + token); null without a kiosk. */
  historyDays: number | null;
  encountersPerDay: number;
}

export interface ReportData {
  title: string;
  scenario: string;
  description: string | null;
  seed: number;
  days: number;
  start: number;
  board: string;
  firmware: string;
  counts: { tokens: number; phones: number; people: number; closeContactPairDays: number };
  floor: FloorPlanData;
  rssi: RssiData;
  detection: DetectionData;
  timeline: TimelineData | null;
  tokens: TokenRow[];
  /** Days of history GAEN asks for (the retention chart's goal line). */
  historyGoalDays: number;
}
