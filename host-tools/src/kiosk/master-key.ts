import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { inspect } from "node:util";
import { PrivateTracerError } from "../errors";

/**
 * The kiosk's master key: what seals the secrets the kiosk keeps at rest (each
 * token's sync secret) in its database. It lives in its own owner-only file, so
 * a copy of the database alone (a backup, a stolen disk image of the data
 * folder) gives no secret away; back the two up separately.
 *
 * Sealed layout: version (1) ‖ IV (12) ‖ GCM tag (16) ‖ ciphertext. The caller's
 * `aad` names where the value belongs (a column and a row), so a sealed value
 * copied to another row or column no longer opens.
 */

export const MASTER_KEY_BYTES = 32;
const SEAL_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + IV_BYTES + TAG_BYTES;

/** The master key file is missing, unreadable, the wrong size, or readable by others. */
export class MasterKeyUnreadableError extends PrivateTracerError {
  readonly code = "MASTER_KEY_UNUSABLE";
  readonly kind = "unusable";
}

/** A master key file could not be created (one already exists, or the folder is not writable); nothing was overwritten. */
export class MasterKeyWriteError extends PrivateTracerError {
  readonly code = "MASTER_KEY_UNUSABLE";
  readonly kind = "unusable";
}

/**
 * A sealed value that does not open: another master key, another row (aad), or
 * altered bytes. GCM cannot tell these apart, and by design says nothing else.
 */
export class SealedValueError extends PrivateTracerError {
  readonly code = "KIOSK_SECRET_LOCKED";
  readonly kind = "invalid";
}

// The bytes sit outside the object so that no logging, spreading or JSON of a MasterKey can reach them.
const keyBytes = new WeakMap<MasterKey, Buffer>();

export class MasterKey {
  private constructor(bytes: Buffer) {
    keyBytes.set(this, bytes);
  }

  /** From 32 bytes already at hand (a test, or a key kept elsewhere); copied. */
  static fromBytes(bytes: Uint8Array): MasterKey {
    if (bytes.length !== MASTER_KEY_BYTES) throw new RangeError(`a master key is ${MASTER_KEY_BYTES} bytes, not ${bytes.length}`);
    return new MasterKey(Buffer.from(bytes));
  }

  static random(): MasterKey {
    return new MasterKey(crypto.randomBytes(MASTER_KEY_BYTES));
  }

  toJSON(): string {
    return "[MasterKey]";
  }

  [inspect.custom](): string {
    return "[MasterKey]";
  }
}

function bytesOf(key: MasterKey): Buffer {
  const b = keyBytes.get(key);
  // Only reachable by forging an object with MasterKey's prototype.
  if (!b) throw new TypeError("not a MasterKey made by this module");
  return b;
}

/**
 * Creates `file` holding a new random key, owner-only, and returns the key.
 * Never replaces an existing file: that would strand every secret sealed with it.
 * The key reaches the disk before the name does (temporary file, fsync, hard
 * link), so a crash leaves either no key file or a whole one.
 */
export function createMasterKey(file: string): MasterKey {
  const key = MasterKey.random();
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`);
  try {
    const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
    try {
      // The umask can only narrow the mode given to open; fchmod makes it exactly owner read/write.
      fs.fchmodSync(fd, 0o600);
      fs.writeSync(fd, bytesOf(key));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    // link(2), unlike rename(2), fails when the name exists: the refusal to overwrite is atomic.
    fs.linkSync(tmp, file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST")
      throw new MasterKeyWriteError(
        `${file} already exists and was left as it was: a master key is never replaced, since every secret sealed with it would be lost. ` +
          `Use it, or move it away only if every token is to be enrolled again`
      );
    if (code === "ENOENT") throw new MasterKeyWriteError(`cannot create the master key ${file}: the folder ${dir} does not exist`);
    throw new MasterKeyWriteError(`cannot create the master key ${file}: ${(e as Error).message}`);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  syncDir(dir);
  return key;
}

/** Reads the key from `file`, refusing one that others may read or that is not exactly a key. */
export function readMasterKey(file: string): MasterKey {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT")
      throw new MasterKeyUnreadableError(`the master key ${file} does not exist: create it once, when setting up the kiosk`);
    if (code === "ELOOP") throw new MasterKeyUnreadableError(`the master key ${file} is a symbolic link: give the key file itself`);
    throw new MasterKeyUnreadableError(`cannot read the master key ${file}: ${(e as Error).message}`);
  }
  try {
    // Checked on the open descriptor, not the path, so the file judged is the file read.
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new MasterKeyUnreadableError(`the master key ${file} is not a regular file`);
    if ((st.mode & 0o077) !== 0)
      throw new MasterKeyUnreadableError(
        `the master key ${file} is open to other users (mode ${(st.mode & 0o777).toString(8).padStart(3, "0")}): ` +
          `run "chmod 600 ${file}", and consider the key exposed if others could log in`
      );
    if (st.size !== MASTER_KEY_BYTES)
      throw new MasterKeyUnreadableError(
        `the master key ${file} is ${st.size} bytes, not ${MASTER_KEY_BYTES}: it is not a master key or was damaged; restore it from a backup`
      );
    const bytes = Buffer.alloc(MASTER_KEY_BYTES);
    const n = fs.readSync(fd, bytes, 0, MASTER_KEY_BYTES, 0);
    if (n !== MASTER_KEY_BYTES) throw new MasterKeyUnreadableError(`the master key ${file} changed while it was read: try again`);
    return MasterKey.fromBytes(bytes);
  } finally {
    fs.closeSync(fd);
  }
}

/** Seals `plaintext` under `key`, bound to `aad` (where the value belongs). A fresh random IV each time. */
export function seal(key: MasterKey, plaintext: Uint8Array, aad: Uint8Array | string): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header[0] = SEAL_VERSION;
  // 96-bit random IVs: the bound on messages per key (2^32) is far beyond the secrets one kiosk ever seals.
  crypto.randomFillSync(header, 1, IV_BYTES);
  const cipher = crypto.createCipheriv("aes-256-gcm", bytesOf(key), header.subarray(1, 1 + IV_BYTES));
  cipher.setAAD(fullAad(aad));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  cipher.getAuthTag().copy(header, 1 + IV_BYTES);
  return Buffer.concat([header, ciphertext]);
}

/** Opens what `seal` made with the same key and aad; anything else throws SealedValueError. */
export function open(key: MasterKey, sealed: Uint8Array, aad: Uint8Array | string): Buffer {
  if (sealed.length < HEADER_BYTES) throw new SealedValueError(`a sealed value is at least ${HEADER_BYTES} bytes, not ${sealed.length}`);
  if (sealed[0] !== SEAL_VERSION) throw new SealedValueError(`sealed with format ${sealed[0]}, which this release does not know`);
  const s = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.length);
  const decipher = crypto.createDecipheriv("aes-256-gcm", bytesOf(key), s.subarray(1, 1 + IV_BYTES));
  decipher.setAAD(fullAad(aad));
  decipher.setAuthTag(s.subarray(1 + IV_BYTES, HEADER_BYTES));
  const plaintext = decipher.update(s.subarray(HEADER_BYTES));
  try {
    return Buffer.concat([plaintext, decipher.final()]);
  } catch {
    plaintext.fill(0);
    throw new SealedValueError("the sealed value does not open with this master key: another key, another row, or altered bytes");
  }
}

/** The version byte is authenticated too, so no future format can be passed off as this one. */
function fullAad(aad: Uint8Array | string): Buffer {
  return Buffer.concat([Buffer.of(SEAL_VERSION), typeof aad === "string" ? Buffer.from(aad, "utf8") : aad]);
}

/** Makes a new name in `dir` survive a power cut: the directory entry is data of its own. */
function syncDir(dir: string): void {
  const fd = fs.openSync(dir, fs.constants.O_RDONLY);
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
