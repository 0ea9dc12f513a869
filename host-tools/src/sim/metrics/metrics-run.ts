/**
 * `simulate` for the figures: the same world and firmware choice as
 * world/simulate.ts, plus what the figures need — the tokens kept (their flash
 * is read at the end), every token's log collected each simulated hour, and
 * optionally every board's schedule overridden (firmware rebuilt).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { BoardConfig, loadBoard } from "../../build/boards";
import { UserError } from "../../errors";
import { distFirmwareDir } from "../../paths";
import { createEmulatedToken } from "../espruino";
import type { EmulatedToken } from "../types";
import { runWorld } from "../world/runner";
import { startUnix } from "../world/scenario-load";
import { SimulateOptions, SimulateResult, bundleScans, firmwareBundle } from "../world/simulate";
import { standInBundle } from "../world/stand-in-firmware";
import { LogCollector } from "./log-collector";
import { Schedule, bundlesFor, withSchedule } from "./schedule-override";
import type { StorageView } from "./token-flash";

export interface MetricsRunOptions extends SimulateOptions {
  /** Override every board's schedule (the firmware is rebuilt with it). */
  schedule?: Partial<Schedule>;
}

export interface MetricsRun extends SimulateResult {
  /** The board configs the tokens ran with. */
  boards: Map<string, BoardConfig>;
  /** Every record each token logged over the run, read hourly. */
  logs: LogCollector;
}

function storageOf(t: EmulatedToken): StorageView | undefined {
  const s = (t as unknown as { storage?: Partial<StorageView> }).storage;
  return s && typeof s.read === "function" && typeof s.list === "function" ? (s as StorageView) : undefined;
}

/** As world/simulate.ts: a run that starts before the bundle's build would see only lost clocks. */
function checkStart(o: SimulateOptions, board: string): void {
  const built = fs.statSync(path.join(distFirmwareDir, `${board}.js`)).mtimeMs / 1000;
  if (startUnix(o.scenario) < built) {
    throw new UserError(
      `scenario "${o.scenario.name}" starts on ${o.scenario.startDate}, before the ${board} firmware was built; its tokens would treat their clocks as lost and stay silent. Start later (--start YYYY-MM-DD).`
    );
  }
}

export async function simulateForMetrics(o: MetricsRunOptions): Promise<MetricsRun> {
  const ids = new Set<string>([o.board]);
  for (const p of o.scenario.people) if (p.device?.kind === "token" && p.device.board) ids.add(p.device.board);
  const boards = new Map<string, BoardConfig>();
  for (const id of ids) boards.set(id, o.schedule ? withSchedule(loadBoard(id), o.schedule) : loadBoard(id));
  let firmware: "real" | "stand-in" = o.firmware === "stand-in" ? "stand-in" : "real";
  let bundles = new Map<string, string>();
  if (o.schedule) {
    if (o.firmware !== "real") throw new UserError("--schedule rebuilds the real firmware; use it with --firmware real");
    // Built "before" the run starts, so no token takes its clock for lost.
    bundles = await bundlesFor(boards, Math.min(Math.floor(Date.now() / 1000), startUnix(o.scenario) - 86400));
  } else if (firmware === "real") {
    for (const id of ids) {
      bundles.set(id, await firmwareBundle(id));
      checkStart(o, id);
    }
    if (o.firmware === "auto" && ![...ids].every((id) => bundleScans(boards.get(id)!, bundles.get(id)!))) firmware = "stand-in";
  }
  if (firmware === "stand-in") for (const id of ids) bundles.set(id, standInBundle(boards.get(id)!));

  const logs = new LogCollector();
  const t0 = process.hrtime.bigint();
  const world = runWorld({
    scenario: o.scenario,
    days: o.days,
    seed: o.seed,
    defaultBoard: o.board,
    loadBoard: (id) => boards.get(id) ?? loadBoard(id),
    bundleFor: (id) => bundles.get(id)!,
    makeToken: (a) => {
      const t = createEmulatedToken(a);
      const s = storageOf(t);
      if (s) logs.track(a.id, s);
      return t;
    },
    record: o.record,
    keepTokens: true,
    onProgress: (f) => {
      logs.collect();
      o.onProgress?.(f);
    }
  });
  logs.collect();
  return { world, firmware, wallSeconds: Number(process.hrtime.bigint() - t0) / 1e9, boards, logs };
}
