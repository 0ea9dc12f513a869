import { PrivateTracerError } from "../errors";

/** A file that is not a readable GAEN export (bad zip, header, protobuf or key). */
export class ExportFormatError extends PrivateTracerError {
  readonly code = "EXPORT_MALFORMED";
  readonly kind = "unusable";
}

/** An export whose signature is missing or does not verify with the given key: read fine, and found wanting. */
export class SignatureError extends PrivateTracerError {
  readonly code = "BAD_SIGNATURE";
  readonly kind = "invalid";
}

/** A key source (directory, index, URL) that cannot be read or fetched. */
export class KeySourceError extends PrivateTracerError {
  readonly code = "KEY_SOURCE_UNREADABLE";
  readonly kind = "unusable";
}

/** A key, code, kiosk or upload file the user gave us that is malformed, missing, locked or cannot be written. */
export class KeyInputError extends PrivateTracerError {
  readonly code = "KEY_INPUT_UNUSABLE";
  readonly kind = "unusable";
}

/** Publishing could not write or move a file; the message names the path and what state was left. */
export class PublishWriteError extends PrivateTracerError {
  readonly code = "PUBLISH_WRITE_FAILED";
  readonly kind = "unusable";
}

/**
 * A key source (or key list) that gave no key to match against. Matching it
 * would print "no risk" when nothing was checked, so it is refused instead.
 */
export class NoKeysError extends PrivateTracerError {
  readonly code = "NO_KEYS_TO_CHECK";
  readonly kind = "unusable";
}

/**
 * `keys publish` refused key data that an earlier run already published: a
 * TEK is one key whatever start interval it claims, and a second copy would
 * be matched (and counted) again by readers that do not merge copies.
 */
export class KeyAlreadyPublishedError extends PrivateTracerError {
  readonly code = "KEY_ALREADY_PUBLISHED";
  readonly kind = "unusable";
}
