import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadBoard } from "../build/boards";
import { planFlash } from "../build/flash-plan";
import { PrivateTracerError, UserError } from "../errors";
import { SECRETS_BYTES, SECRETS_FILE, encodeSecrets } from "../../../firmware/src/wire/secrets";
import { StoreWriteError, UploadFailedError } from "./errors";
import { SecretsField, TEMP_DIR_PLACEHOLDER, formatArgv, provisionArgv, secretsLayout } from "./plan";
import { RandomBytes, newHomeKey, newTokenSecrets, tokenIdHex } from "./secrets";
import { addEnrolment, openStore } from "./store";

/** Runs the uploader (program first) and resolves to its exit status; specs pass their own to need no token. */
export type RunUploader = (argv: string[]) => Promise<number>;

export interface ProvisionRequest {
  board: string;
  port: string;
  label?: string;
  store: string;
  dryRun: boolean;
  /** The built bundle, already linted and size-checked (the CLI builds it as `flash` does). */
  bundlePath: string;
  /** The store's passphrase; asked only when it is needed (never for a dry run). `creating`: the store does not exist yet. */
  passphrase: (creating: boolean) => Promise<string>;
  run?: RunUploader;
  /** Where the uploader's board JSON goes (planFlash's default: build/espruino-board). */
  boardJsonDir?: string;
  /** Parent of the private temporary directory (the OS's temp dir by default). */
  tempParent?: string;
  random?: RandomBytes;
  now?: () => Date;
}

export interface ProvisionResult {
  dryRun: boolean;
  board: string;
  port: string;
  label: string;
  store: string;
  /** The store did not exist: it was (or, in a dry run, would be) created with a new home key. */
  storeCreated: boolean;
  /** The new token's id (hex); null in a dry run, where the secrets are thrown away. */
  tokenId: string | null;
  /** What ran (or would run), with the private temp dir shown as TEMP_DIR_PLACEHOLDER. */
  argv: string[];
  command: string;
  secretsFile: { name: string; bytes: number; fields: SecretsField[] };
}

/** Board ids are file names in board-configs/: refuse anything that could name another file. */
const BOARD_ID = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const LABEL_MAX = 64;

/** planFlash's rule for ports, repeated so the CLI can refuse a bad one before a build of several seconds (a spec keeps the two in step). */
const ADDRESS = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

/** Refuses a malformed board id or port and returns the trimmed label: everything that needs no build or store. */
export function checkTarget(board: string, port: string, label: string | undefined): string {
  if (!BOARD_ID.test(board)) throw new UserError(`"${board}" is not a board id (e.g. puckjs)`);
  if (!ADDRESS.test(port) && !port.startsWith("/dev/"))
    throw new UserError(`"${port}" is neither a Bluetooth address (aa:bb:cc:dd:ee:ff) nor a serial device (/dev/tty…)`);
  const trimmed = (label ?? "").trim();
  // A label is shown on kiosk screens and in logs: printable text only, so it cannot forge lines.
  if ([...trimmed].length > LABEL_MAX || /\p{Cc}/u.test(trimmed))
    throw new UserError(`a label is at most ${LABEL_MAX} printable characters`);
  return trimmed;
}

/** Spawns the uploader with the console inherited (it prints its own progress) and resolves to its exit status. */
export const spawnUploader: RunUploader = (argv) =>
  new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: "inherit" });
    child.on("error", () => resolve(127));
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });

/**
 * Writes `bytes` to a file in a new private directory (0700, file 0600), runs
 * `use` with its path and removes both whatever happens, including a Ctrl-C
 * or SIGTERM during the upload (the handlers remove the directory, then let
 * the signal end the process as it would have).
 */
async function withPrivateFile<T>(parent: string, name: string, bytes: Uint8Array, use: (file: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(parent, "privatetracer-provision-"));
  const file = path.join(dir, name);
  const cleanup = (): void => {
    try {
      // Overwrite before unlinking: cheap, and it keeps the bytes out of a file system that recycles blocks without zeroing.
      if (fs.existsSync(file)) fs.writeFileSync(file, new Uint8Array(bytes.length));
    } catch {
      // Removal below is what matters.
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  const onSignal = (sig: NodeJS.Signals): void => {
    cleanup();
    for (const s of signals) process.removeListener(s, onSignal);
    process.kill(process.pid, sig);
  };
  for (const s of signals) process.on(s, onSignal);
  try {
    fs.chmodSync(dir, 0o700);
    fs.writeFileSync(file, bytes, { mode: 0o600, flag: "wx" });
    return await use(file);
  } finally {
    for (const s of signals) process.removeListener(s, onSignal);
    cleanup();
  }
}

/**
 * Provisions one token (docs/provisioning.md): opens (or prepares) the
 * enrolment store first, so a wrong passphrase stops before the token is
 * touched; makes the token's secrets; uploads pt.sec with the bundle in one
 * uploader run; and records the enrolment only once the upload succeeded. A
 * dry run makes throw-away secrets only to show the layout, asks no
 * passphrase and writes nothing.
 */
export async function provisionToken(req: ProvisionRequest): Promise<ProvisionResult> {
  const label = checkTarget(req.board, req.port, req.label);
  const cfg = loadBoard(req.board);
  const flash = planFlash(cfg, req.bundlePath, req.port, { outDir: req.boardJsonDir });
  const now = req.now ?? (() => new Date());
  const storeExists = fs.existsSync(req.store);
  const shown = provisionArgv(flash, path.join(TEMP_DIR_PLACEHOLDER, SECRETS_FILE));
  const base = {
    board: cfg.id,
    port: req.port,
    label,
    store: req.store,
    storeCreated: !storeExists,
    argv: shown,
    command: formatArgv(shown)
  };

  if (req.dryRun) {
    const file = encodeSecrets(newTokenSecrets(newHomeKey(req.random), req.random));
    const fields = secretsLayout(file);
    file.fill(0);
    return { ...base, dryRun: true, tokenId: null, secretsFile: { name: SECRETS_FILE, bytes: SECRETS_BYTES, fields } };
  }

  const passphrase = await req.passphrase(!storeExists);
  const existing = storeExists ? openStore(req.store, passphrase) : undefined;
  const homeKey = existing ? new Uint8Array(Buffer.from(existing.homeKey, "hex")) : newHomeKey(req.random);
  const secrets = newTokenSecrets(homeKey, req.random);
  const tokenId = tokenIdHex(secrets);
  const file = encodeSecrets(secrets);
  const fields = secretsLayout(file);
  const run = req.run ?? spawnUploader;

  const status = await withPrivateFile(req.tempParent ?? os.tmpdir(), SECRETS_FILE, file, (p) => run(provisionArgv(flash, p)));
  file.fill(0);
  if (status !== 0)
    throw new UploadFailedError(
      `the espruino uploader failed (exit ${status}); nothing was recorded. Is the token in range and in recovery boot (docs/flashing.md)? ` +
        "Run provision again: the token gets new secrets, any half-written ones are overwritten."
    );

  try {
    addEnrolment(
      req.store,
      passphrase,
      homeKey,
      {
        tokenId,
        label,
        board: cfg.id,
        created: now().toISOString(),
        // The archive secret is not enrolled: it stays on the token alone.
        syncSecret: Buffer.from(secrets.syncSecret).toString("hex")
      },
      now()
    );
  } catch (e) {
    // The token now holds secrets nobody else has: it cannot sync until it is provisioned again.
    if (e instanceof PrivateTracerError)
      throw new StoreWriteError(`${e.message}. Token ${tokenId} was written but is not enrolled: provision it again.`);
    throw e;
  } finally {
    secrets.syncSecret.fill(0);
    secrets.archiveSecret.fill(0);
  }
  return { ...base, dryRun: false, tokenId, secretsFile: { name: SECRETS_FILE, bytes: SECRETS_BYTES, fields } };
}
