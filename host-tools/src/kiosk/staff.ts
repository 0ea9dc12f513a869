import * as crypto from "node:crypto";
import { UserError } from "../errors";

/**
 * Staff passwords for the dashboard: scrypt with a random salt, the costs
 * stored beside the hash so they can be raised later without locking anyone
 * out, compared in constant time. The kiosk's store keeps the result
 * (store.ts, table `staff`).
 */

export interface PasswordHash {
  readonly hash: Uint8Array;
  readonly salt: Uint8Array;
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

export interface ScryptCost {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/**
 * N = 2^15, r = 8 (32 MiB, ~0.1 s): the cost recommended for interactive
 * logins, as the enrolment store uses. With the lock-out after 5 failures an
 * online guesser gets nowhere; this cost is for a copied database.
 */
export const DEFAULT_SCRYPT: ScryptCost = { N: 1 << 15, r: 8, p: 1 };
/** Costs accepted from the store: more would let an altered row stall every login. */
const MAX_N = 1 << 20;
const HASH_BYTES = 32;
const SALT_BYTES = 16;
/** Short passwords are refused when set: a staff password guards every resident's warnings. */
export const MIN_PASSWORD_CHARS = 10;
/** Where `kiosk init --staff` and `kiosk staff add|passwd` read a password from when set. */
export const STAFF_PASSWORD_ENV = "PRIVATETRACER_STAFF_PASSWORD";

function scrypt(password: string, salt: Uint8Array, cost: ScryptCost): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    crypto.scrypt(
      password.normalize("NFC"),
      salt,
      HASH_BYTES,
      { N: cost.N, r: cost.r, p: cost.p, maxmem: 256 * cost.N * cost.r + (1 << 20) },
      (e, key) => (e ? reject(e) : resolve(key))
    )
  );
}

/** Refuses a password too short to set, with a message staff can act on. */
export function checkNewPassword(password: string): void {
  if ([...password].length < MIN_PASSWORD_CHARS)
    throw new UserError(
      `a staff password needs at least ${MIN_PASSWORD_CHARS} characters (a few words are easy to remember); nothing was changed`
    );
}

/** Hashes a new password (checked for length first). `cost` is for specs that cannot wait 0.1 s per hash. */
export async function hashPassword(password: string, cost: ScryptCost = DEFAULT_SCRYPT): Promise<PasswordHash> {
  checkNewPassword(password);
  const salt = crypto.randomBytes(SALT_BYTES);
  const hash = await scrypt(password, salt, cost);
  return { hash: new Uint8Array(hash), salt: new Uint8Array(salt), ...cost };
}

/** Whether `password` is the one `stored` was made from; false (never a throw) for a row with costs out of range. */
export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  if (stored.N > MAX_N || stored.r > 32 || stored.p > 16 || stored.hash.length !== HASH_BYTES) return false;
  let got: Buffer;
  try {
    got = await scrypt(password, stored.salt, stored);
  } catch {
    return false;
  }
  return crypto.timingSafeEqual(got, Buffer.from(stored.hash));
}

/** Hashed against when a name is unknown, so that a wrong name takes as long as a wrong password. */
export const DUMMY_HASH: PasswordHash = {
  hash: new Uint8Array(HASH_BYTES),
  salt: new Uint8Array(SALT_BYTES),
  ...DEFAULT_SCRYPT
};
