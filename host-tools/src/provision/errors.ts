import { PrivateTracerError } from "../errors";

/** The enrolment store is missing where it must exist, malformed, of an unknown format, or cannot be read. */
export class StoreUnreadableError extends PrivateTracerError {
  readonly code = "STORE_UNREADABLE";
  readonly kind = "unusable";
}

/**
 * The store was read but does not open with this passphrase: AES-GCM's tag
 * does not verify. A wrong passphrase and an altered file look the same by
 * design (neither says anything about the contents); the file is left as it was.
 */
export class StoreLockedError extends PrivateTracerError {
  readonly code = "STORE_LOCKED";
  readonly kind = "invalid";
}

/** The store could not be written; the message says what state the token and the store were left in. */
export class StoreWriteError extends PrivateTracerError {
  readonly code = "STORE_WRITE_FAILED";
  readonly kind = "unusable";
}

/** No passphrase: neither the environment variable nor a terminal to ask on (or a new passphrase too short or not confirmed). */
export class PassphraseUnavailableError extends PrivateTracerError {
  readonly code = "PASSPHRASE_UNAVAILABLE";
  readonly kind = "unusable";
}

/** The `espruino` uploader failed: nothing was recorded. Same exit status as a failed `flash`. */
export class UploadFailedError extends PrivateTracerError {
  readonly code = "UPLOAD_FAILED";
  readonly kind = "invalid";
}
