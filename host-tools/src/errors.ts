/**
 * Errors the host tools raise for problems a person can act on: a message that
 * says what went wrong and what to do, a stable `code` a program can branch on
 * (the kiosk service shows its own text for some), and a `kind` saying whether
 * the input was judged and found wanting or could not be judged at all.
 *
 * Nothing here knows about exit codes: `cli/main.ts` alone turns a kind into
 * one, so a long-running service can use the same modules.
 */

/**
 * "invalid": the input was read and fails a check (a signature that does not
 * verify, firmware that fails the lint). "unusable": the input could not be
 * read or used at all (a malformed file, a missing key, a failed write).
 */
export type ErrorKind = "invalid" | "unusable";

/** Every code a PrivateTracerError can carry; new errors add theirs here so callers can switch on all of them. */
export type ErrorCode =
  /** UserError: bad input with no more specific code (a command-line value, a board config, a scenario). */
  | "BAD_INPUT"
  /** UserError of kind "invalid": a check the input failed (firmware lint or size budget, a refused flash). */
  | "CHECK_FAILED"
  /** keys/errors.ts */
  | "EXPORT_MALFORMED"
  | "BAD_SIGNATURE"
  | "KEY_SOURCE_UNREADABLE"
  | "KEY_INPUT_UNUSABLE"
  | "PUBLISH_WRITE_FAILED"
  | "NO_KEYS_TO_CHECK"
  | "KEY_ALREADY_PUBLISHED"
  /** keys/upload-deliver.ts: a signed diagnosis upload that did not reach its target (it is kept in the kiosk's outbox). */
  | "UPLOAD_NOT_DELIVERED"
  /** tokenlog/errors.ts */
  | "TOKEN_FLASH_UNREADABLE"
  | "TOKEN_FLASH_DAMAGED"
  /** match/sightings.ts */
  | "SIGHTINGS_MALFORMED"
  /** provision/errors.ts */
  | "STORE_UNREADABLE"
  | "STORE_LOCKED"
  | "STORE_WRITE_FAILED"
  | "PASSPHRASE_UNAVAILABLE"
  | "UPLOAD_FAILED"
  /** ble/errors.ts */
  | "NO_ADAPTER"
  | "BLUEZ_UNAVAILABLE"
  | "CONNECT_FAILED"
  | "LINK_LOST"
  /** sync/errors.ts */
  | "AUTH_FAILED"
  | "SYNC_PROTOCOL"
  /** kiosk/archive.ts */
  | "ARCHIVE_UNREADABLE"
  /** kiosk/db.ts, master-key.ts, store.ts */
  | "KIOSK_DB_UNREADABLE"
  | "MASTER_KEY_UNUSABLE"
  | "KIOSK_SECRET_LOCKED"
  | "KIOSK_STORE_WRITE_FAILED"
  | "TOKEN_EXISTS"
  /** kiosk/radio-jobs.ts: a diagnosis already waits for that token */
  | "RADIO_JOB_PENDING"
  /** kiosk/dashboard: a request the dashboard refuses (login, forms), shown as a page */
  | "DASHBOARD_REFUSED"
  /** match/rpi-index.ts */
  | "RPI_INDEX_UNUSABLE";

/** The common base: catch this to tell a person's problem from a bug. */
export abstract class PrivateTracerError extends Error {
  abstract readonly code: ErrorCode;
  abstract readonly kind: ErrorKind;

  constructor(message: string) {
    super(message);
    // The subclass's own name, so a stack or a log line says which error it was without each class repeating it.
    this.name = new.target.name;
  }
}

/**
 * Bad input without a more specific error class: code "BAD_INPUT", or
 * "CHECK_FAILED" when `kind` is "invalid".
 */
export class UserError extends PrivateTracerError {
  readonly code: ErrorCode;
  readonly kind: ErrorKind;

  constructor(message: string, kind: ErrorKind = "unusable") {
    super(message);
    this.kind = kind;
    this.code = this.kind === "invalid" ? "CHECK_FAILED" : "BAD_INPUT";
  }
}
