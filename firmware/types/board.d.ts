/**
 * Board constants. Every `BOARD.x.y` leaf is replaced by its literal value from
 * `board-configs/<board>.json` when the bundle is built, so that a branch for a
 * feature the board lacks is removed from that board's bundle. Host-side tests
 * that import firmware modules set `globalThis.BOARD` instead (see
 * `test/helpers/board.ts`).
 */
interface BoardConstants {
  id: string;
  /** The board's code in the sync INFO message (BOARD_CODES in firmware/src/wire/sync-messages.ts). */
  syncCode: number;
  espruinoBoard: string;
  storage: { bytes: number; pageBytes: number; dataBytes: number };
  jsVars: { count: number; bytesPerVar: number };
  crypto: { sha256: boolean; aes: boolean };
  leds: { red: string | null; green: string | null; blue: string | null };
  button: string;
  /** No LEDs but a screen: the LED patterns are shown as full-screen colours. */
  screenLeds: boolean;
  radio: { txPowerDbm: number; radiatedTxPowerDbm: number; rssiCalibrationDb: number };
  schedule: {
    advertIntervalMs: number;
    rotationMinMinutes: number;
    rotationMaxMinutes: number;
    scanPeriodSec: number;
    scanJitterSec: number;
    scanWindowMs: number;
    /** Logging floor, dBm: an RPI whose strongest packet in a scan (calibrated) is weaker is not logged. */
    logMinRssiDbm: number;
    /** Derived by the build, not in the board config: new records an hour before a flood is declared (hourBudget in wire/scan-limits.ts). */
    floodHourBudget: number;
  };
  /** Unix seconds of the build: a clock earlier than this is a lost clock. */
  buildTime: number;
}
declare var BOARD: BoardConstants;
