import * as crypto from "node:crypto";
import * as fs from "node:fs";
import { writeFileAtomic } from "../atomic-write";
import { SECRET_KEY_BYTES, TOKEN_ID_BYTES } from "../../../firmware/src/wire/secrets";
import { StoreLockedError, StoreUnreadableError, StoreWriteError } from "./errors";
import { RandomBytes } from "./secrets";

/**
 * The enrolment store: a care home's home key and every token provisioned
 * for it, which the kiosk will import (docs/provisioning.md). On disk it is
 * one JSON envelope whose only secret-bearing field is AES-256-GCM
 * ciphertext under a key derived from a passphrase with scrypt:
 *
 *   { "format": STORE_FORMAT, "version": 1,
 *     "kdf": { "name": "scrypt", "N", "r", "p", "salt": base64 (16) },
 *     "cipher": { "name": "aes-256-gcm", "iv": base64 (12), "tag": base64 (16) },
 *     "ciphertext": base64 }
 *
 * The whole file is authenticated: the GCM additional data is the envelope
 * without tag and ciphertext, rebuilt in a fixed order, so a changed cost,
 * salt, IV or version fails to open just like a changed ciphertext. Every
 * write draws a new salt and IV, so no (key, IV) pair is ever used twice.
 */
export const STORE_FORMAT = "privatetracer-enrolment-store";
export const STORE_VERSION = 1;
/** The environment variable a passphrase may come from (docs/provisioning.md says when that is wise). */
export const PASSPHRASE_ENV = "PRIVATETRACER_STORE_PASSPHRASE";

/**
 * scrypt cost: N = 2^15, r = 8 (32 MiB, ~0.1 s on a laptop) is the cost
 * recommended for interactive logins; a stolen store then costs an attacker
 * that much per guess, which a passphrase of a few words makes hopeless.
 */
const KDF = { N: 1 << 15, r: 8, p: 1 };
/** Costs accepted when reading: a file asking for more would be a denial of service, less a downgrade. */
const KDF_LIMITS = { minN: 1 << 14, maxN: 1 << 20, maxR: 32, maxP: 16 };
const SALT_BYTES = 16;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** One provisioned token. Secrets are lower-case hex; they exist only inside the ciphertext. */
export interface Enrolment {
  /** 16 random bytes, hex: the token's name between host and kiosk, never on the air. */
  tokenId: string;
  label: string;
  /** The board id (board-configs/). */
  board: string;
  /** ISO 8601 UTC: when the token was provisioned. */
  created: string;
  syncSecret: string;
  /* No archive secret: it exists on the token only (a kiosk asks for it in each session, docs/sync-protocol.md). */
}

/** The decrypted contents. */
export interface EnrolmentStore {
  /** 32 bytes, hex: the care home's key, set once when the store was created, written to every token. */
  homeKey: string;
  /** ISO 8601 UTC: when the store (and so the home key) was created. */
  created: string;
  enrolments: Enrolment[];
}

interface Envelope {
  format: string;
  version: number;
  kdf: { name: "scrypt"; N: number; r: number; p: number; salt: string };
  cipher: { name: "aes-256-gcm"; iv: string; tag: string };
  ciphertext: string;
}

const csprng: RandomBytes = (n) => new Uint8Array(crypto.randomBytes(n));

/** A new, empty store for a care home, with its home key. */
export function newStore(homeKey: Uint8Array, now: Date): EnrolmentStore {
  if (homeKey.length !== SECRET_KEY_BYTES) throw new Error(`a home key is ${SECRET_KEY_BYTES} bytes`);
  return { homeKey: Buffer.from(homeKey).toString("hex"), created: now.toISOString(), enrolments: [] };
}

/** The additional authenticated data: every envelope field but tag and ciphertext, in a fixed order. */
function aad(e: Pick<Envelope, "format" | "version" | "kdf"> & { iv: string }): Buffer {
  return Buffer.from(JSON.stringify([e.format, e.version, "scrypt", e.kdf.N, e.kdf.r, e.kdf.p, e.kdf.salt, "aes-256-gcm", e.iv]), "utf8");
}

function deriveKey(passphrase: string, salt: Buffer, kdf: { N: number; r: number; p: number }): Buffer {
  // NFC so that the same passphrase typed on two keyboards gives the same key.
  return crypto.scryptSync(Buffer.from(passphrase.normalize("NFC"), "utf8"), salt, 32, {
    N: kdf.N,
    r: kdf.r,
    p: kdf.p,
    maxmem: 256 * kdf.N * kdf.r
  });
}

/** The file's bytes for `store` under `passphrase`. */
export function sealStore(store: EnrolmentStore, passphrase: string, random: RandomBytes = csprng): Buffer {
  const salt = Buffer.from(random(SALT_BYTES));
  const iv = Buffer.from(random(IV_BYTES));
  const head = { format: STORE_FORMAT, version: STORE_VERSION, kdf: { name: "scrypt" as const, ...KDF, salt: salt.toString("base64") } };
  const key = deriveKey(passphrase, salt, KDF);
  const plain = Buffer.from(JSON.stringify(store), "utf8");
  try {
    const c = crypto.createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
    c.setAAD(aad({ ...head, iv: iv.toString("base64") }));
    const ciphertext = Buffer.concat([c.update(plain), c.final()]);
    const env: Envelope = {
      ...head,
      cipher: { name: "aes-256-gcm", iv: iv.toString("base64"), tag: c.getAuthTag().toString("base64") },
      ciphertext: ciphertext.toString("base64")
    };
    return Buffer.from(JSON.stringify(env, null, 2) + "\n", "utf8");
  } finally {
    // Best effort: the JSON string itself cannot be wiped, but these buffers can.
    plain.fill(0);
    key.fill(0);
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;
function b64(v: unknown, bytes: number | undefined, what: string, file: string): Buffer {
  if (typeof v !== "string" || !B64.test(v)) throw new StoreUnreadableError(`${file} is not an enrolment store: ${what} is not base64`);
  const b = Buffer.from(v, "base64");
  if (bytes !== undefined && b.length !== bytes)
    throw new StoreUnreadableError(`${file} is not an enrolment store: ${what} is not ${bytes} bytes`);
  return b;
}

function parseEnvelope(text: string, file: string): Envelope {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new StoreUnreadableError(`${file} is not an enrolment store (not JSON)`);
  }
  if (!isObj(v) || v.format !== STORE_FORMAT)
    throw new StoreUnreadableError(`${file} is not an enrolment store (no "format": "${STORE_FORMAT}")`);
  if (v.version !== STORE_VERSION)
    throw new StoreUnreadableError(
      `${file} is an enrolment store of version ${String(v.version)}; this privatetracer reads version ${STORE_VERSION}`
    );
  const { kdf, cipher } = v;
  if (!isObj(kdf) || kdf.name !== "scrypt" || !isObj(cipher) || cipher.name !== "aes-256-gcm")
    throw new StoreUnreadableError(`${file}: only scrypt and aes-256-gcm are supported`);
  const { N, r, p } = kdf;
  if (
    typeof N !== "number" ||
    typeof r !== "number" ||
    typeof p !== "number" ||
    !Number.isInteger(Math.log2(N)) ||
    N < KDF_LIMITS.minN ||
    N > KDF_LIMITS.maxN ||
    !Number.isInteger(r) ||
    r < 1 ||
    r > KDF_LIMITS.maxR ||
    !Number.isInteger(p) ||
    p < 1 ||
    p > KDF_LIMITS.maxP
  )
    throw new StoreUnreadableError(`${file}: scrypt parameters out of range`);
  b64(kdf.salt, SALT_BYTES, "the salt", file);
  b64(cipher.iv, IV_BYTES, "the IV", file);
  b64(cipher.tag, TAG_BYTES, "the tag", file);
  b64(v.ciphertext, undefined, "the ciphertext", file);
  return v as unknown as Envelope;
}

const HEX = (bytes: number): RegExp => new RegExp(`^[0-9a-f]{${bytes * 2}}$`);

/** The decrypted JSON, checked field by field: a store that authenticates but is malformed is a bug somewhere, said plainly. */
function parseContents(v: unknown, file: string): EnrolmentStore {
  const bad = (what: string): never => {
    throw new StoreUnreadableError(`${file} opened, but its contents are malformed: ${what}`);
  };
  if (!isObj(v) || typeof v.homeKey !== "string" || !HEX(SECRET_KEY_BYTES).test(v.homeKey)) return bad("home key");
  if (typeof v.created !== "string") return bad("created");
  if (!Array.isArray(v.enrolments)) return bad("enrolments");
  const enrolments = v.enrolments.map((e: unknown, i): Enrolment => {
    if (
      !isObj(e) ||
      typeof e.tokenId !== "string" ||
      !HEX(TOKEN_ID_BYTES).test(e.tokenId) ||
      typeof e.label !== "string" ||
      typeof e.board !== "string" ||
      typeof e.created !== "string" ||
      typeof e.syncSecret !== "string" ||
      !HEX(SECRET_KEY_BYTES).test(e.syncSecret)
    )
      return bad(`enrolment ${i}`);
    return {
      tokenId: e.tokenId,
      label: e.label,
      board: e.board,
      created: e.created,
      // A store written before the archive secret stayed on the token holds one: it is not read, and the next write leaves it out.
      syncSecret: e.syncSecret
    };
  });
  return { homeKey: v.homeKey, created: v.created, enrolments };
}

/**
 * The decrypted JSON text of the store in `bytes`, as written, fields this
 * version no longer reads included (a spec checks what a write leaves out).
 * Throws StoreLockedError for a wrong passphrase or an altered file.
 */
export function storePlaintext(bytes: Uint8Array, passphrase: string, file = "the enrolment store"): string {
  const env = parseEnvelope(Buffer.from(bytes).toString("utf8"), file);
  const salt = Buffer.from(env.kdf.salt, "base64");
  const key = deriveKey(passphrase, salt, env.kdf);
  let plain: Buffer;
  try {
    const d = crypto.createDecipheriv("aes-256-gcm", key, Buffer.from(env.cipher.iv, "base64"), { authTagLength: TAG_BYTES });
    d.setAAD(aad({ ...env, iv: env.cipher.iv }));
    d.setAuthTag(Buffer.from(env.cipher.tag, "base64"));
    plain = Buffer.concat([d.update(Buffer.from(env.ciphertext, "base64")), d.final()]);
  } catch {
    throw new StoreLockedError(
      `${file} does not open with this passphrase (a wrong passphrase, or the file was altered); nothing was changed`
    );
  } finally {
    key.fill(0);
  }
  try {
    return plain.toString("utf8");
  } finally {
    plain.fill(0);
  }
}

/** The store in `bytes` (a file's contents) opened with `passphrase`. Throws StoreLockedError for a wrong passphrase or an altered file. */
export function unsealStore(bytes: Uint8Array, passphrase: string, file = "the enrolment store"): EnrolmentStore {
  const text = storePlaintext(bytes, passphrase, file);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new StoreUnreadableError(`${file} opened, but its contents are not JSON`);
  }
  return parseContents(json, file);
}

/** Reads and opens the store at `file`, or undefined if there is no such file. */
export function openStore(file: string, passphrase: string): EnrolmentStore | undefined {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new StoreUnreadableError(`cannot read the enrolment store ${file}: ${(e as Error).message}`);
  }
  return unsealStore(bytes, passphrase, file);
}

/** Seals and writes `store` to `file` atomically, readable by its owner only. */
export function writeStore(file: string, store: EnrolmentStore, passphrase: string, random?: RandomBytes): void {
  const bytes = sealStore(store, passphrase, random);
  try {
    writeFileAtomic(file, bytes, 0o600);
  } catch (e) {
    throw new StoreWriteError(`cannot write the enrolment store ${file}: ${(e as Error).message}`);
  }
}

/**
 * Adds `enrolment` to the store at `file` under `passphrase`, creating the
 * store with `homeKey` if there is none. Reads the file afresh, so an
 * enrolment another run recorded meanwhile is kept; refuses if the store now
 * holds another home key than the one written to the token.
 */
export function addEnrolment(file: string, passphrase: string, homeKey: Uint8Array, enrolment: Enrolment, now: Date): EnrolmentStore {
  const store = openStore(file, passphrase) ?? newStore(homeKey, now);
  if (store.homeKey !== Buffer.from(homeKey).toString("hex"))
    throw new StoreWriteError(
      `the enrolment store ${file} was replaced during provisioning and holds another home key; nothing was recorded`
    );
  if (store.enrolments.some((e) => e.tokenId === enrolment.tokenId))
    throw new StoreWriteError(`token ${enrolment.tokenId} is already enrolled in ${file}`);
  store.enrolments.push(enrolment);
  writeStore(file, store, passphrase);
  return store;
}
