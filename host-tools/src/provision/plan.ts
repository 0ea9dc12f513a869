import { FlashPlan } from "../build/flash-plan";
import type { ProvisionResult } from "./provision";
import {
  SECRETS_BYTES,
  SECRETS_FILE,
  SEC_ARCHIVE,
  SEC_CRC,
  SEC_HOME,
  SEC_SYNC,
  SEC_TOKEN_ID,
  SECRET_KEY_BYTES,
  TOKEN_ID_BYTES
} from "../../../firmware/src/wire/secrets";

/**
 * Stands for the private temporary directory in what `--dry-run` prints: the
 * real one is made (mode 0700) only when the upload runs.
 */
export const TEMP_DIR_PLACEHOLDER = "<private-temp-dir>";

/**
 * The uploader command that provisions a token: `flash`'s command with the
 * secrets file added as one more Storage file, written before the boot code
 * over the same console session, and the token booted after both.
 */
export function provisionArgv(flash: FlashPlan, secretsPath: string): string[] {
  const argv = flash.argv.slice();
  const boot = argv.indexOf(`.bootcde:${flash.bundlePath}`) - 1;
  if (boot < 0 || argv[boot] !== "--storage") throw new Error("planFlash no longer writes the boot code as a Storage file");
  // After the boot code's: the uploader sends its Storage files in reverse order, so the secrets go first.
  argv.splice(boot + 2, 0, "--storage", `${SECRETS_FILE}:${secretsPath}`);
  return argv;
}

/** A command line as a shell would take it back (arguments with spaces quoted), as `flash --dry-run` prints it. */
export function formatArgv(argv: string[]): string {
  return argv.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(" ");
}

/** One field of pt.sec as the dry run shows it. */
export interface SecretsField {
  offset: number;
  bytes: number;
  name: string;
  /** The value when it is no secret (the version), else "masked". */
  value: number | "masked";
}

/**
 * The layout of pt.sec with every byte that depends on a secret masked: the
 * CRC too, since it is a function of the keys. Only the version shows.
 */
export function secretsLayout(file: Uint8Array): SecretsField[] {
  if (file.length !== SECRETS_BYTES) throw new Error(`${SECRETS_FILE} is ${SECRETS_BYTES} bytes`);
  return [
    { offset: 0, bytes: 1, name: "version", value: file[0] },
    { offset: SEC_TOKEN_ID, bytes: TOKEN_ID_BYTES, name: "token id", value: "masked" },
    { offset: SEC_SYNC, bytes: SECRET_KEY_BYTES, name: "sync secret", value: "masked" },
    { offset: SEC_ARCHIVE, bytes: SECRET_KEY_BYTES, name: "archive secret", value: "masked" },
    { offset: SEC_HOME, bytes: SECRET_KEY_BYTES, name: "home key", value: "masked" },
    { offset: SEC_CRC, bytes: 4, name: "CRC-32", value: "masked" }
  ];
}

/** The layout as text lines, e.g. `  [ 17] sync secret: ••••••••(32 bytes)`. */
export function formatLayout(fields: SecretsField[]): string[] {
  return fields.map(
    (f) =>
      `  [${String(f.offset).padStart(3)}] ${f.name}: ${f.value === "masked" ? `••••••••(${f.bytes} bytes)` : `${f.value} (${f.bytes} byte${f.bytes === 1 ? "" : "s"})`}`
  );
}

/** What `provision` prints: the command, the masked layout of pt.sec, and what happened to the store. */
export function formatResult(r: ProvisionResult): string {
  const lines: string[] = [];
  if (r.dryRun) {
    lines.push("would run:", `  ${r.command}`);
    lines.push(
      `with ${r.secretsFile.name} (${r.secretsFile.bytes} bytes, firmware/src/wire/secrets.ts) in a private temporary file (mode 0600), removed after the upload:`
    );
  } else {
    lines.push(`ran:`, `  ${r.command}`, `${r.secretsFile.name} (${r.secretsFile.bytes} bytes) written to the token:`);
  }
  lines.push(...formatLayout(r.secretsFile.fields));
  const store = r.storeCreated ? `${r.store} (${r.dryRun ? "would be created" : "created"} with a new home key)` : r.store;
  if (r.dryRun) lines.push(`enrolment store: ${store}; dry run: nothing uploaded, nothing recorded`);
  else lines.push(`token ${r.tokenId}${r.label ? ` "${r.label}"` : ""} (${r.board}) provisioned and enrolled in ${store}`);
  return lines.join("\n") + "\n";
}
