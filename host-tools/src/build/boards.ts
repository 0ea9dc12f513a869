import * as fs from "node:fs";
import * as path from "node:path";
import Ajv from "ajv";
import { boardConfigDir } from "../paths";
import { UserError } from "../errors";
import { PrivateTracerBoardConfiguration } from "./board-config.generated";
import { BOARD_CODES } from "../../../firmware/src/wire/sync-messages";
import { hourBudget } from "../../../firmware/src/wire/scan-limits";

/** A board config as stored in `board-configs/<id>.json`: the type is generated from board.schema.json (board-type.ts). */
export type BoardConfig = PrivateTracerBoardConfiguration;

/**
 * Logging floor when a board config gives none (board.schema.json documents the
 * same default): an RPI whose strongest packet in a scan is weaker is not logged.
 */
export const DEFAULT_LOG_MIN_RSSI_DBM = -70;

const schemaPath = path.join(boardConfigDir, "board.schema.json");

let validator: ((data: unknown) => boolean) & { errors?: unknown } | undefined;

function validate(data: unknown, file: string): BoardConfig {
  if (!validator) {
    const ajv = new Ajv({ allErrors: true, strict: false });
    validator = ajv.compile(JSON.parse(fs.readFileSync(schemaPath, "utf8")));
  }
  if (!validator(data)) {
    const errs = (validator.errors as Array<{ instancePath: string; message?: string }>) || [];
    const text = errs.map((e) => `${e.instancePath || "/"} ${e.message ?? ""}`).join("; ");
    throw new UserError(`board config ${file} is invalid: ${text}`);
  }
  const cfg = data as BoardConfig;
  // Cross-field rules JSON Schema cannot say.
  if (cfg.radio.txPowers.indexOf(cfg.radio.txPowerDbm) < 0) {
    throw new UserError(`board config ${file}: radio.txPowerDbm ${cfg.radio.txPowerDbm} is not one of radio.txPowers`);
  }
  if (cfg.schedule.rotationMinMinutes > cfg.schedule.rotationMaxMinutes) {
    throw new UserError(`board config ${file}: schedule.rotationMinMinutes is larger than rotationMaxMinutes`);
  }
  // The scanner waits period − 0…jitter between windows, and the flood budget divides by the mean wait.
  if (cfg.schedule.scanJitterSec >= cfg.schedule.scanPeriodSec) {
    throw new UserError(`board config ${file}: schedule.scanJitterSec must be shorter than scanPeriodSec`);
  }
  if (path.basename(file, ".json") !== cfg.id) {
    throw new UserError(`board config ${file}: id "${cfg.id}" must match the file name`);
  }
  return cfg;
}

/** Ids of every board we support, from the files in board-configs/. */
export function listBoards(dir: string = boardConfigDir): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".json") && f !== "board.schema.json")
    .map((f) => f.slice(0, -5))
    .sort();
}

export function loadBoard(id: string, dir: string = boardConfigDir): BoardConfig {
  const file = path.join(dir, `${id}.json`);
  if (!fs.existsSync(file)) {
    throw new UserError(`unknown board "${id}"; known boards: ${listBoards(dir).join(", ")}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new UserError(`board config ${file} is not valid JSON: ${(e as Error).message}`);
  }
  return validate(data, file);
}

export function validateBoardData(data: unknown, file = "board.json"): BoardConfig {
  return validate(data, file);
}

/** Bytes the sighting log may use on this board (the whole Storage, or our slice of shared Storage). */
export function dataBytes(cfg: BoardConfig): number {
  return cfg.storage.shared && cfg.storage.dataBytes ? cfg.storage.dataBytes : cfg.storage.bytes;
}

/** The `BOARD` object the firmware sees (see firmware/types/board.d.ts). */
export function boardConstants(cfg: BoardConfig, buildTime: number): BoardConstants {
  return {
    id: cfg.id,
    syncCode: BOARD_CODES.indexOf(cfg.id),
    espruinoBoard: cfg.espruinoBoard,
    storage: { bytes: cfg.storage.bytes, pageBytes: cfg.storage.pageBytes, dataBytes: dataBytes(cfg) },
    jsVars: { count: cfg.jsVars.count, bytesPerVar: cfg.jsVars.bytesPerVar },
    crypto: { sha256: cfg.crypto.sha256, aes: cfg.crypto.aes },
    leds: { red: cfg.leds.red ?? null, green: cfg.leds.green ?? null, blue: cfg.leds.blue ?? null },
    button: cfg.button,
    // Only a board with no LED at all borrows its screen for the LED patterns.
    screenLeds: cfg.screen !== undefined && !cfg.leds.red && !cfg.leds.green && !cfg.leds.blue,
    radio: {
      txPowerDbm: cfg.radio.txPowerDbm,
      radiatedTxPowerDbm: cfg.radio.radiatedTxPowerDbm,
      rssiCalibrationDb: cfg.radio.rssiCalibrationDb
    },
    schedule: {
      ...cfg.schedule,
      logMinRssiDbm: cfg.schedule.logMinRssiDbm ?? DEFAULT_LOG_MIN_RSSI_DBM,
      floodHourBudget: hourBudget(cfg.schedule.scanPeriodSec, cfg.schedule.scanJitterSec)
    },
    buildTime
  };
}

/**
 * Flatten the constants into esbuild `define` entries (`BOARD.crypto.aes` →
 * `true`), so the minifier folds board branches away.
 */
export function defineMap(constants: BoardConstants): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (prefix: string, value: unknown): void => {
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) walk(`${prefix}.${k}`, v);
    } else {
      out[prefix] = JSON.stringify(value);
    }
  };
  walk("BOARD", constants);
  return out;
}
