import { UserError } from "../errors";

/** A file that is not a readable GAEN export (bad zip, header, protobuf or key). Exit 2. */
export class ExportFormatError extends UserError {
  constructor(message: string) {
    super(message, 2);
    this.name = "ExportFormatError";
  }
}

/** An export whose signature is missing or does not verify with the given key. Exit 1. */
export class SignatureError extends UserError {
  constructor(message: string) {
    super(message, 1);
    this.name = "SignatureError";
  }
}

/** A key source (directory, index, URL) that cannot be read or fetched. Exit 2. */
export class KeySourceError extends UserError {
  constructor(message: string) {
    super(message, 2);
    this.name = "KeySourceError";
  }
}

/** A key, code, kiosk or upload file the user gave us that is malformed. Exit 2. */
export class KeyInputError extends UserError {
  constructor(message: string) {
    super(message, 2);
    this.name = "KeyInputError";
  }
}

/** Publishing could not write or move a file; the message names the path and what state was left. Exit 2. */
export class PublishWriteError extends UserError {
  constructor(message: string) {
    super(message, 2);
    this.name = "PublishWriteError";
  }
}
