import * as crypto from "node:crypto";
import * as fs from "node:fs";
import { KeyInputError } from "./errors";
import { acquireLockSync, releaseLock } from "./lock-file";
import { writeFileAtomic } from "../atomic-write";
import { readJsonFile } from "./keys-json";
import { ReportType } from "./types";

/**
 * Health-authority authorisation codes: one-time, with an expiry, stored only
 * as hashes. A code is 16 symbols of Crockford base32 (80 random bits), so a
 * plain SHA-256 is enough: nobody can run through 2^80 guesses, and a stolen
 * store reveals no code that could still be used.
 *
 * Store: {"format": "privatetracer-auth-codes/1", "codes": [{"hash": "<hex>",
 *   "issuedAt": unix, "expiresAt": unix, "reportType": 1, "symptomOnset"?: unix,
 *   "usedAt"?: unix, "usedBy"?: "<kiosk id>", "usedFor"?: "<sha-256 of the upload>"}]}
 */

export const CODES_FORMAT = "privatetracer-auth-codes/1";
/** About 250 bytes a code: room for 250,000 codes, used ones included. */
const MAX_CODE_STORE_BYTES = 64 * 1024 * 1024;
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CODE_SYMBOLS = 16;
const HASH_DOMAIN = "privatetracer-auth-code/1\n";

export interface CodeRecord {
  hash: string;
  issuedAt: number;
  expiresAt: number;
  reportType: ReportType;
  /** Unix time of symptom onset (or of the test, if none), for days-since-onset. */
  symptomOnset?: number;
  usedAt?: number;
  usedBy?: string;
  /**
   * SHA-256 (hex) of the upload file that used the code: a publish re-run
   * after a failure can tell that very upload (already in an export) from
   * another one replaying the code.
   */
  usedFor?: string;
}

export interface CodeStore {
  format: typeof CODES_FORMAT;
  codes: CodeRecord[];
}

/** Upper case, without the dashes and spaces people type; I, L and O read as 1, 1 and 0. */
export function normaliseCode(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, "").replace(/[IL]/g, "1").replace(/O/g, "0");
}

export function hashCode(code: string): string {
  return crypto
    .createHash("sha256")
    .update(HASH_DOMAIN + normaliseCode(code))
    .digest("hex");
}

export function isWellFormedCode(code: string): boolean {
  const n = normaliseCode(code);
  return n.length === CODE_SYMBOLS && [...n].every((c) => ALPHABET.includes(c));
}

export function newCode(): string {
  let s = "";
  for (let i = 0; i < CODE_SYMBOLS; i++) s += ALPHABET[crypto.randomInt(ALPHABET.length)];
  return s.replace(/(.{4})(?=.)/g, "$1-");
}

export function emptyStore(): CodeStore {
  return { format: CODES_FORMAT, codes: [] };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const isInt = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v);

export function readCodeStore(file: string, createIfMissing = false): CodeStore {
  if (createIfMissing && !fs.existsSync(file)) return emptyStore();
  const doc = readJsonFile(file, "code store", MAX_CODE_STORE_BYTES);
  if (!isRecord(doc) || doc.format !== CODES_FORMAT || !Array.isArray(doc.codes))
    throw new KeyInputError(`${file} is not a code store (expected "format": "${CODES_FORMAT}" and "codes": [...])`);
  doc.codes.forEach((c: unknown, i) => {
    const ok =
      isRecord(c) &&
      typeof c.hash === "string" &&
      /^[0-9a-f]{64}$/.test(c.hash) &&
      isInt(c.issuedAt) &&
      isInt(c.expiresAt) &&
      isInt(c.reportType) &&
      (c.symptomOnset === undefined || isInt(c.symptomOnset)) &&
      (c.usedAt === undefined || isInt(c.usedAt)) &&
      (c.usedFor === undefined || (typeof c.usedFor === "string" && /^[0-9a-f]{64}$/.test(c.usedFor)));
    if (!ok) throw new KeyInputError(`${file}: code ${i + 1} is malformed (needs hash, issuedAt, expiresAt, reportType)`);
  });
  return doc as unknown as CodeStore;
}

export function writeCodeStore(file: string, store: CodeStore): void {
  try {
    writeFileAtomic(file, Buffer.from(JSON.stringify(store, null, 2) + "\n"), 0o600);
  } catch (e) {
    throw new KeyInputError(`cannot write the code store ${file}: ${(e as Error).message}`);
  }
}

/** The lock file of a code store: `report issue-code` and the whole of `keys publish` hold it. */
export function codeStoreLockFile(file: string): string {
  return `${file}.lock`;
}

/**
 * Read, change and write the code store while its lock is already held
 * (`keys publish` holds it for its whole run).
 */
export function changeCodeStoreLocked<T>(file: string, change: (store: CodeStore) => T, createIfMissing = false): T {
  const store = readCodeStore(file, createIfMissing);
  const result = change(store);
  writeCodeStore(file, store);
  return result;
}

/**
 * Read, change and write the code store under its lock (lock-file.ts), so
 * `report issue-code` and `keys publish` running at the same time cannot drop
 * each other's changes. Waits up to `waitMs` for a run that holds it; a lock
 * left by a run that died is taken over (`onNote` hears so).
 */
export function updateCodeStore<T>(
  file: string,
  change: (store: CodeStore) => T,
  opts: { createIfMissing?: boolean; waitMs?: number; onNote?: (line: string) => void } = {}
): T {
  const lock = acquireLockSync(codeStoreLockFile(file), {
    waitMs: opts.waitMs ?? 10_000,
    what: `the code store ${file}`,
    onNote: opts.onNote
  });
  try {
    return changeCodeStoreLocked(file, change, opts.createIfMissing === true);
  } finally {
    releaseLock(lock);
  }
}

export interface IssueOptions {
  now: number;
  validSeconds: number;
  reportType: ReportType;
  symptomOnset?: number;
}

/** Adds a fresh code to the store and returns it; only its hash is kept. */
export function issueCode(store: CodeStore, o: IssueOptions): string {
  const code = newCode();
  const rec: CodeRecord = { hash: hashCode(code), issuedAt: o.now, expiresAt: o.now + o.validSeconds, reportType: o.reportType };
  if (o.symptomOnset !== undefined) rec.symptomOnset = o.symptomOnset;
  store.codes.push(rec);
  return code;
}

export type CodeCheck = { ok: true; record: CodeRecord } | { ok: false; reason: string };

/** Whether a code may be used now; does not consume it. */
export function checkCode(store: CodeStore, code: string, now: number): CodeCheck {
  if (!isWellFormedCode(code)) return { ok: false, reason: "the authorisation code is not a well-formed code" };
  const h = hashCode(code);
  const rec = store.codes.find((c) => c.hash === h);
  if (!rec) return { ok: false, reason: "the authorisation code was not issued by the health authority" };
  if (rec.usedAt !== undefined)
    return { ok: false, reason: `the authorisation code was already used (at ${new Date(rec.usedAt * 1000).toISOString()})` };
  if (now >= rec.expiresAt)
    return { ok: false, reason: `the authorisation code expired at ${new Date(rec.expiresAt * 1000).toISOString()}` };
  return { ok: true, record: rec };
}

export function consumeCode(rec: CodeRecord, now: number, kioskId: string, uploadSha256?: string): void {
  rec.usedAt = now;
  rec.usedBy = kioskId;
  if (uploadSha256 !== undefined) rec.usedFor = uploadSha256;
}

/** SHA-256 (hex) of an upload's text, as kept in `usedFor`. */
export function uploadDigest(text: string): string {
  return crypto.createHash("sha256").update(text, "utf8").digest("hex");
}

/** The record of a code, used or not; null if it was never issued (or is malformed). */
export function findCode(store: CodeStore, code: string): CodeRecord | null {
  if (!isWellFormedCode(code)) return null;
  const h = hashCode(code);
  return store.codes.find((c) => c.hash === h) ?? null;
}
