/**
 * Running the world with a different advertising and scan schedule than
 * board-configs/ gives: the schedule is a set of BOARD constants inlined into
 * the bundle, so the firmware is rebuilt (into a private directory, never
 * dist/) from the modified board config. Used by `simulate --schedule` and
 * for the trade-off table in docs/scan-schedule.md.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { BoardConfig, validateBoardData } from "../../build/boards";
import { bundleBoard, compileFirmware } from "../../build/bundle";
import { UserError } from "../../errors";

export type Schedule = BoardConfig["schedule"];

/** Short names accepted by `--schedule`, e.g. "advert=250,window=1000,period=300,jitter=90". */
const FIELDS: Record<string, keyof Schedule> = {
  advert: "advertIntervalMs",
  window: "scanWindowMs",
  period: "scanPeriodSec",
  jitter: "scanJitterSec",
  rotmin: "rotationMinMinutes",
  rotmax: "rotationMaxMinutes"
};

export function parseSchedule(spec: string): Partial<Schedule> {
  const out: Partial<Schedule> = {};
  for (const part of spec
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([a-z]+)=(\d+)$/.exec(part);
    const field = m ? FIELDS[m[1]] : undefined;
    if (!m || !field) {
      throw new UserError(
        `--schedule: "${part}" is not NAME=whole number with NAME one of ${Object.keys(FIELDS).join(", ")} (e.g. advert=250,window=1000,period=300,jitter=90)`
      );
    }
    out[field] = Number(m[2]);
  }
  if (!Object.keys(out).length) throw new UserError("--schedule: give at least one of " + Object.keys(FIELDS).join(", "));
  return out;
}

/** A board config with its schedule changed, checked against the board schema like a file would be. */
export function withSchedule(board: BoardConfig, schedule: Partial<Schedule>): BoardConfig {
  const cfg = { ...board, schedule: { ...board.schedule, ...schedule } };
  if (cfg.schedule.scanJitterSec >= cfg.schedule.scanPeriodSec) {
    throw new UserError(
      `--schedule: scan jitter (${cfg.schedule.scanJitterSec} s) must be shorter than the scan period (${cfg.schedule.scanPeriodSec} s)`
    );
  }
  if (cfg.schedule.scanWindowMs >= cfg.schedule.scanPeriodSec * 1000) {
    throw new UserError(`--schedule: the scan window (${cfg.schedule.scanWindowMs} ms) must be shorter than the scan period`);
  }
  return validateBoardData(cfg, `${board.id}.json`);
}

/**
 * Bundles built from board configs that differ from board-configs/ (a changed
 * schedule), into a private directory that is removed afterwards; never dist/.
 */
export async function bundlesFor(boards: ReadonlyMap<string, BoardConfig>, buildTime: number): Promise<Map<string, string>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pt-schedule-"));
  const bundles = new Map<string, string>();
  try {
    const es5 = compileFirmware({ outDir: path.join(dir, "es5") });
    for (const [id, cfg] of boards) {
      const b = await bundleBoard(cfg, { es5Dir: es5, outDir: path.join(dir, "dist"), buildTime });
      if (b.lint.length) throw new UserError(`the firmware for ${id} with this schedule fails the Espruino lint: ${b.lint[0].message}`);
      bundles.set(id, b.code);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return bundles;
}
