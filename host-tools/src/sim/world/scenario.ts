/**
 * The scenario format: a floor plan, people with weekly schedules, and what
 * each person wears or carries. Plain JSON, so a scenario can live in a file
 * (`--scenario path/to/file.json`) as well as be generated (`care-home`).
 * Times of day are UTC, like GAEN's days. See docs/simulator.md.
 */
import { Carry, PropagationParams } from "./propagation";

export interface ScenarioRoom {
  id: string;
  /** Free text for reports: "bedroom", "corridor", "dining", "lounge", "office"… */
  kind: string;
  /** Lower-left corner and size, metres. */
  x: number;
  y: number;
  w: number;
  h: number;
  /** Loss of one crossing of this room's boundary (default 6 dB, an interior wall). */
  wallLossDb?: number;
}

export type ScenarioDevice =
  | {
      kind: "token";
      /** board id from board-configs/ (default: the run's --board) */ board?: string;
      /** where it is worn (default "lanyard"); see CARRY_LOSS_DB */ carry?: Carry;
    }
  | {
      kind: "phone";
      /** radiated power, dBm (default −8) */ txPowerDbm?: number;
      /** receiver offset, dB (default 0) */ rssiOffsetDb?: number;
      /** where it is carried (default "hand": no carry loss, as before carry existed); see CARRY_LOSS_DB */ carry?: Carry;
    };

export interface ScheduleEntry {
  /** "HH:MM" UTC, inclusive. */
  from: string;
  /** "HH:MM" UTC, exclusive; "24:00" for the end of the day. Must be after `from`. */
  to: string;
  /** UTC weekdays this applies on, 0 = Sunday … 6 = Saturday (default: every day). */
  weekdays?: number[];
  /** Scenario days this applies on, 0 = the first day (default: every day). */
  days?: number[];
  /** Chance the entry applies on a given day (drawn once per person, entry and day; default 1). */
  chance?: number;
  /** Rooms the person is in; with several, one is drawn per dwell period. */
  rooms: string[];
  /** A fixed spot (bed, chair at a table) in metres; default: a random spot in the room per dwell period. */
  at?: [number, number];
  /** Minutes between re-drawing the room, spot and facing (default 5). */
  dwellMinutes?: number;
}

export interface ScenarioPerson {
  id: string;
  role: string;
  device?: ScenarioDevice;
  /** The first entry that applies wins; when none does, the person is off site. */
  schedule: ScheduleEntry[];
}

/** The care home's kiosk: where it stands, and when staff bring it the tokens it has not seen for a day. */
export interface ScenarioKiosk {
  room: string;
  /** Where in the room, metres. */
  at: [number, number];
  /** "HH:MM" UTC: the daily staff round (default "11:00"). */
  staffRound?: string;
}

/**
 * A person who tests positive: on `day` (0 = the first) at `at` staff enter
 * the health authority's code at the kiosk and the wearer presses their
 * token's button. Symptoms began `onsetDaysBefore` days earlier.
 */
export interface ScenarioDiagnosis {
  person: string;
  day: number;
  /** "HH:MM" UTC (default "10:00"). */
  at?: string;
  onsetDaysBefore: number;
}

export interface Scenario {
  name: string;
  description?: string;
  /** First day, "YYYY-MM-DD" (UTC midnight). */
  startDate: string;
  rooms: ScenarioRoom[];
  people: ScenarioPerson[];
  propagation?: Partial<PropagationParams>;
  /** A kiosk syncing the tokens (simulate runs the kiosk service when there is one). */
  kiosk?: ScenarioKiosk;
  /** Diagnoses, reported at the kiosk (they need a kiosk, and a token on each person). */
  diagnoses?: ScenarioDiagnosis[];
}
