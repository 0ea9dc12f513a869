import * as fs from "node:fs";
import * as path from "node:path";
import { UserError } from "../errors";
import { DEFAULT_RISK_CONFIG, RiskConfig, loadRiskConfig } from "../match/risk-config";
import { createMasterKey, readMasterKey } from "./master-key";
import { KioskStore, StoreOptions } from "./store";

/**
 * A kiosk's directory (`kiosk init --dir DIR`):
 *
 *   DIR/kiosk.db      the store (store.ts): tokens, sync history, sealed archives
 *   DIR/master.key    32 bytes, mode 0600: seals the tokens' sync secrets in the store
 *   DIR/work/         each sync session's private plain copy, removed when it ends
 *   DIR/risk-config.json  optional: how matches are graded (docs/risk.md; any subset of
 *                     the fields, e.g. a close-contact model); read when the kiosk opens
 *   DIR/boards/       optional: board configs (as in board-configs/) for tokens built with
 *                     another schedule; a token's scans are credited with the one named
 *                     after its board here, else with the shipped one (docs/risk.md)
 *   DIR/outbox/       signed diagnosis uploads not yet delivered (mode 0700, each file 0600):
 *                     `kiosk diagnose` keeps one here until its target has it, and
 *                     `kiosk send-uploads` sends what is left. Never cleared on open:
 *                     the wearer's keys were released by one press and exist nowhere else.
 *
 * The master key protects the sync secrets at rest only against someone who
 * copies the database alone; a copy of the whole directory can sync the
 * tokens but still not read any archive (docs/threat-model.md).
 */
export const DB_FILE = "kiosk.db";
export const MASTER_KEY_FILE = "master.key";
export const WORK_DIR = "work";
export const OUTBOX_DIR = "outbox";
export const RISK_CONFIG_FILE = "risk-config.json";
export const BOARDS_DIR = "boards";

/** The kiosk's outbox in `dir`; created with mode 0700 when first needed (upload-deliver.ts). */
export function outboxDirOf(dir: string): string {
  return path.join(dir, OUTBOX_DIR);
}

export interface KioskDir {
  dir: string;
  store: KioskStore;
  workDir: string;
  /** DIR/risk-config.json over the defaults; the defaults without one. */
  riskConfig: RiskConfig;
  /** Whether DIR/risk-config.json set it. */
  riskConfigFromFile: boolean;
  /** DIR/boards when it is a directory: the kiosk's own board configs, before the shipped ones. */
  boardDir?: string;
}

function boardDirOf(dir: string): Pick<KioskDir, "boardDir"> {
  const d = path.join(dir, BOARDS_DIR);
  return fs.statSync(d, { throwIfNoEntry: false })?.isDirectory() ? { boardDir: d } : {};
}

function riskConfigOf(dir: string): Pick<KioskDir, "riskConfig" | "riskConfigFromFile"> {
  const file = path.join(dir, RISK_CONFIG_FILE);
  return fs.existsSync(file)
    ? { riskConfig: loadRiskConfig(file), riskConfigFromFile: true }
    : { riskConfig: DEFAULT_RISK_CONFIG, riskConfigFromFile: false };
}

/** Creates the kiosk's directory; refuses one that already holds a kiosk (its key would be lost). */
export function initKioskDir(dir: string, options: StoreOptions = {}): KioskDir {
  for (const f of [DB_FILE, MASTER_KEY_FILE])
    if (fs.existsSync(path.join(dir, f)))
      throw new UserError(`${dir} already holds a kiosk (${f}); nothing was changed. Use it as it is, or give a new directory.`);
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new UserError(`cannot create the kiosk directory ${dir}: ${(e as Error).message}`);
  }
  // Read first: a config that does not load leaves no half-made kiosk.
  const grading = riskConfigOf(dir);
  const key = createMasterKey(path.join(dir, MASTER_KEY_FILE));
  fs.mkdirSync(path.join(dir, WORK_DIR), { recursive: true, mode: 0o700 });
  return {
    dir,
    store: KioskStore.open(path.join(dir, DB_FILE), key, options),
    workDir: path.join(dir, WORK_DIR),
    ...grading,
    ...boardDirOf(dir)
  };
}

/**
 * Opens the kiosk in `dir`. Session copies left by a kiosk that was killed
 * mid-sync are removed first: they hold a token's log in the clear, and what
 * of them was acknowledged is in the archive already.
 */
export function openKioskDir(dir: string): KioskDir {
  if (!fs.existsSync(path.join(dir, DB_FILE)))
    throw new UserError(`there is no kiosk in ${dir}: create one with privatetracer kiosk init --dir ${dir}`);
  const workDir = path.join(dir, WORK_DIR);
  // First: the plain copies go even if what follows refuses to open the kiosk.
  fs.rmSync(workDir, { recursive: true, force: true });
  fs.mkdirSync(workDir, { recursive: true, mode: 0o700 });
  const grading = riskConfigOf(dir);
  const key = readMasterKey(path.join(dir, MASTER_KEY_FILE));
  return { dir, store: KioskStore.open(path.join(dir, DB_FILE), key), workDir, ...grading, ...boardDirOf(dir) };
}
