/**
 * `simulate` for the figures: the same world and firmware choice as
 * world/simulate.ts, plus what the figures need — the tokens kept (their flash
 * is read at the end), every token's log collected each simulated hour, and
 * optionally every board's schedule overridden (firmware rebuilt).
 */
import { BoardConfig, loadBoard } from "../../build/boards";
import { UserError } from "../../errors";
import { createEmulatedToken } from "../espruino";
import { startUnix } from "../world/scenario-load";
import { SimulateOptions, SimulateResult, scenarioBoards, simulate } from "../world/simulate";
import { LogCollector } from "./log-collector";
import { Schedule, bundlesFor, withSchedule } from "./schedule-override";
import { storageOf } from "./token-flash";

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

export async function simulateForMetrics(o: MetricsRunOptions): Promise<MetricsRun> {
  const boards = new Map<string, BoardConfig>();
  for (const id of scenarioBoards(o)) boards.set(id, o.schedule ? withSchedule(loadBoard(id), o.schedule) : loadBoard(id));
  let bundles: Map<string, string> | undefined;
  if (o.schedule) {
    if (o.firmware !== "real") throw new UserError("--schedule rebuilds the real firmware; use it with --firmware real");
    // Built "before" the run starts, so no token takes its clock for lost.
    bundles = await bundlesFor(boards, Math.min(Math.floor(Date.now() / 1000), startUnix(o.scenario) - 86400));
  }
  const logs = new LogCollector();
  const run = await simulate({
    ...o,
    boards,
    rebuiltBoards: !!o.schedule,
    bundles,
    keepTokens: true,
    makeToken: (a) => {
      const t = createEmulatedToken(a);
      const s = storageOf(t);
      if (s) logs.track(a.id, s);
      return t;
    },
    onProgress: (f) => {
      logs.collect();
      o.onProgress?.(f);
    }
  });
  logs.collect();
  return { ...run, boards, logs };
}
