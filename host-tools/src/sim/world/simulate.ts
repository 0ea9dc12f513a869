/**
 * `privatetracer simulate` without the terminal: pick the firmware (the real
 * bundle, or the stand-in while the real one does not scan), run the world,
 * and time it. Shared by the command and bench/sim.ts.
 */
import type { RiskConfig } from "../../match/risk-config";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { BoardConfig, loadBoard } from "../../build/boards";
import { buildBoards } from "../../build/bundle";
import { distFirmwareDir } from "../../paths";
import { UserError } from "../../errors";
import { createEmulatedToken } from "../espruino";
import { EventScheduler } from "../scheduler";
import { DriftingClock } from "../clock";
import { Scenario } from "./scenario";
import { startUnix } from "./scenario-load";
import { TokenFactory, WorldResult, runWorld } from "./runner";
import { standInBundle } from "./stand-in-firmware";
import { LiveKiosk, WorldKiosk } from "../kiosk/world-kiosk";
import { KioskFigures, kioskFigures } from "../kiosk/kiosk-figures";

export type FirmwareChoice = "real" | "stand-in" | "auto";

export interface SimulateOptions {
  scenario: Scenario;
  days: number;
  seed: number;
  board: string;
  firmware: FirmwareChoice;
  record?: boolean;
  keepTokens?: boolean;
  onProgress?(fraction: number): void;
  /** Board configs to run with (e.g. with an overridden schedule); others are loaded. */
  boards?: Map<string, BoardConfig>;
  /** The boards differ from the shipped configs (a rebuilt schedule): the kiosk is given them too. */
  rebuiltBoards?: boolean;
  /** Bundles already built for those configs; boards without one get dist/'s. */
  bundles?: Map<string, string>;
  /** Wrap token creation (e.g. to watch each token's Storage). */
  makeToken?: TokenFactory;
  /** Run the scenario's kiosk (default: when the scenario has one). */
  kiosk?: boolean;
  /** How the scenario's kiosk grades matches (its directory's risk-config.json); the defaults without. */
  kioskRiskConfig?: RiskConfig;
  /** Run it for a person watching: paced to the wall clock, with a dashboard (`kiosk serve --simulate`). */
  live?: LiveKiosk;
}

export interface SimulateResult {
  world: WorldResult;
  firmware: "real" | "stand-in";
  wallSeconds: number;
  /** What the kiosk achieved, when one ran. */
  kiosk?: KioskFigures;
}

/** The shipped bundle for a board, built first if dist/ does not have it. */
export async function firmwareBundle(board: string): Promise<string> {
  const file = path.join(distFirmwareDir, `${board}.js`);
  if (!fs.existsSync(file)) {
    const [r] = await buildBoards([board]);
    if (r.lint.length)
      throw new UserError(`the firmware for ${board} fails the Espruino lint; run \`privatetracer build --board ${board}\` to see why`);
  }
  return fs.readFileSync(file, "utf8");
}

/** Does this bundle ever open a scan window? Boots one token alone for 20 virtual minutes. */
export function bundleScans(board: BoardConfig, bundle: string): boolean {
  const scheduler = new EventScheduler(1_700_000_000);
  let scans = false;
  const token = createEmulatedToken({
    id: "probe",
    board,
    bundle,
    scheduler,
    clock: new DriftingClock({ startTrue: scheduler.now }),
    radio: { advertising: () => undefined, scanning: (s) => (scans = scans || !!s) },
    seed: 1
  });
  token.boot();
  scheduler.runUntil(scheduler.now + 1200);
  token.powerCut();
  return scans;
}

/**
 * A token whose clock reads earlier than its bundle's build time considers the
 * clock lost and does not advertise: a run starting before the build would
 * silently measure nothing.
 */
function checkStart(scenario: Scenario, board: string): void {
  const file = path.join(distFirmwareDir, `${board}.js`);
  const built = fs.statSync(file).mtimeMs / 1000;
  if (startUnix(scenario) < built) {
    throw new UserError(
      `scenario "${scenario.name}" starts on ${scenario.startDate}, before the ${board} firmware was built; its tokens would treat their clocks as lost and stay silent. Start later (--start YYYY-MM-DD).`
    );
  }
}

/**
 * Where the simulated kiosk keeps its directory: in memory where Linux offers
 * it, since the kiosk syncs to disk after every session (a thousand times in
 * a 14-day run) and nothing of it outlives the run.
 */
function scratchDir(): string {
  try {
    fs.accessSync("/dev/shm", fs.constants.W_OK);
    return "/dev/shm";
  } catch {
    return os.tmpdir();
  }
}

/** Every board a run needs: the default one and any a scenario entry names. */
export function scenarioBoards(o: SimulateOptions): Set<string> {
  const ids = new Set<string>([o.board]);
  for (const p of o.scenario.people) if (p.device?.kind === "token" && p.device.board) ids.add(p.device.board);
  return ids;
}

export async function simulate(o: SimulateOptions): Promise<SimulateResult> {
  const rebuilt = o.rebuiltBoards ? [...(o.boards?.values() ?? [])] : [];
  const boards = o.boards ?? new Map<string, BoardConfig>();
  const board = (id: string) => {
    let b = boards.get(id);
    if (!b) boards.set(id, (b = loadBoard(id)));
    return b;
  };
  const boardIds = scenarioBoards(o);
  const bundles = new Map<string, string>(o.bundles ?? []);
  let firmware: "real" | "stand-in" = o.firmware === "stand-in" ? "stand-in" : "real";
  if (o.firmware !== "stand-in") {
    for (const id of boardIds) {
      if (bundles.has(id)) continue;
      bundles.set(id, await firmwareBundle(id));
      checkStart(o.scenario, id);
    }
    if (o.firmware === "auto" && ![...boardIds].every((id) => bundleScans(board(id), bundles.get(id)!))) firmware = "stand-in";
  }
  if (firmware === "stand-in") for (const id of boardIds) bundles.set(id, standInBundle(board(id)));
  const withKiosk = (o.kiosk ?? true) && !!o.scenario.kiosk;
  if (withKiosk && firmware === "stand-in")
    throw new UserError("the kiosk syncs the real firmware; run with --firmware real, or without the kiosk (--no-kiosk)");
  const kioskDir = withKiosk ? fs.mkdtempSync(path.join(scratchDir(), "privatetracer-kiosk-")) : null;
  const boardOf = (person: string): string => {
    const p = o.scenario.people.find((x) => x.id === person);
    return (p?.device?.kind === "token" && p.device.board) || o.board;
  };
  const kiosk = kioskDir ? new WorldKiosk(o.scenario, o.seed, kioskDir, boardOf, o.live, o.kioskRiskConfig, rebuilt) : undefined;
  try {
    return await runSimulation(o, bundles, board, firmware, kiosk);
  } finally {
    if (kiosk) kiosk.close();
    if (kioskDir) fs.rmSync(kioskDir, { recursive: true, force: true });
  }
}

async function runSimulation(
  o: SimulateOptions,
  bundles: Map<string, string>,
  board: (id: string) => BoardConfig,
  firmware: "real" | "stand-in",
  kiosk: WorldKiosk | undefined
): Promise<SimulateResult> {
  const t0 = process.hrtime.bigint();
  const world = await runWorld({
    scenario: o.scenario,
    days: o.days,
    seed: o.seed,
    defaultBoard: o.board,
    loadBoard: board,
    bundleFor: (id) => bundles.get(id)!,
    makeToken: o.makeToken ?? ((a) => createEmulatedToken(a)),
    record: o.record,
    keepTokens: o.keepTokens || !!kiosk,
    onProgress: o.onProgress,
    driver: kiosk
  });
  const wallSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (!kiosk) return { world, firmware, wallSeconds };
  const start = startUnix(o.scenario);
  const figures = kioskFigures({
    log: kiosk.result(),
    groundTruth: world.groundTruth,
    start,
    end: start + o.days * 86400,
    tokens: world.emulated!,
    wearers: new Set(o.scenario.people.filter((p) => p.device?.kind === "token").map((p) => p.id))
  });
  return { world, firmware, wallSeconds, kiosk: figures };
}
