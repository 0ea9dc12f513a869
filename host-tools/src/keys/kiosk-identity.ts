import nacl from "tweetnacl";
import { KeyInputError } from "./errors";
import { readJsonFile } from "./keys-json";
import { writeNewFileAtomic } from "../atomic-write";

/**
 * A kiosk's Ed25519 identity, which signs diagnosis uploads, and the
 * publisher's list of enrolled kiosks (id -> public key).
 *
 * Secret key file:  {"format": "privatetracer-kiosk-key/1", "kioskId": "...", "secretKey": "<base64, 64 bytes>"}
 * Enrolment entry:  {"kioskId": "...", "publicKey": "<base64, 32 bytes>"}
 * Enrolled list:    {"kiosks": [entry, ...]} or just the array.
 */

export const KIOSK_KEY_FORMAT = "privatetracer-kiosk-key/1";
const KIOSK_ID = /^[A-Za-z0-9._-]{1,64}$/;

export interface KioskSecret {
  kioskId: string;
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

export interface KioskEnrolment {
  kioskId: string;
  publicKey: string;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function checkKioskId(id: unknown, where: string): string {
  if (typeof id !== "string" || !KIOSK_ID.test(id))
    throw new KeyInputError(`${where}: kiosk id must be 1-64 letters, digits, ".", "_" or "-", got ${JSON.stringify(id)}`);
  return id;
}

function base64Bytes(v: unknown, len: number, what: string, where: string): Uint8Array {
  const b = typeof v === "string" && /^[A-Za-z0-9+/]+=*$/.test(v) ? Buffer.from(v, "base64") : null;
  if (!b || b.length !== len) throw new KeyInputError(`${where}: ${what} must be base64 of ${len} bytes`);
  return Uint8Array.from(b);
}

export function generateKioskKey(kioskId: string): KioskSecret {
  checkKioskId(kioskId, "--kiosk-id");
  const kp = nacl.sign.keyPair();
  return { kioskId, secretKey: kp.secretKey, publicKey: kp.publicKey };
}

export function kioskSecretToJson(k: KioskSecret): string {
  return (
    JSON.stringify({ format: KIOSK_KEY_FORMAT, kioskId: k.kioskId, secretKey: Buffer.from(k.secretKey).toString("base64") }, null, 2) + "\n"
  );
}

export function enrolmentOf(k: KioskSecret): KioskEnrolment {
  return { kioskId: k.kioskId, publicKey: Buffer.from(k.publicKey).toString("base64") };
}

export function readKioskSecret(file: string): KioskSecret {
  const doc = readJsonFile(file, "kiosk key");
  if (!isRecord(doc) || doc.format !== KIOSK_KEY_FORMAT)
    throw new KeyInputError(
      `${file} is not a kiosk key file (expected "format": "${KIOSK_KEY_FORMAT}"; make one with \`privatetracer report keygen\`)`
    );
  const kioskId = checkKioskId(doc.kioskId, file);
  const secretKey = base64Bytes(doc.secretKey, nacl.sign.secretKeyLength, "secretKey", file);
  return { kioskId, secretKey, publicKey: nacl.sign.keyPair.fromSecretKey(secretKey).publicKey };
}

/** Enrolled kiosks by id. Duplicate ids are refused: which key would count would be a guess. */
export function readEnrolledKiosks(file: string): Map<string, Uint8Array> {
  const doc = readJsonFile(file, "kiosk list");
  const list = Array.isArray(doc) ? doc : isRecord(doc) ? doc.kiosks : undefined;
  if (!Array.isArray(list)) throw new KeyInputError(`${file}: expected {"kiosks": [{"kioskId", "publicKey"}, ...]}`);
  const out = new Map<string, Uint8Array>();
  list.forEach((e: unknown, i) => {
    const where = `${file}: kiosk ${i + 1}`;
    if (!isRecord(e)) throw new KeyInputError(`${where}: expected an object`);
    const id = checkKioskId(e.kioskId, where);
    if (out.has(id)) throw new KeyInputError(`${where}: kiosk id "${id}" is listed twice`);
    out.set(id, base64Bytes(e.publicKey, nacl.sign.publicKeyLength, "publicKey", where));
  });
  return out;
}

/**
 * Creates `file` with `text`, refusing to overwrite anything there. The file
 * appears whole or not at all (writeNewFileAtomic): a full disk leaves no
 * empty key or upload that a re-run would then refuse to replace.
 */
export function writeNewFile(file: string, text: string, mode?: number): void {
  try {
    writeNewFileAtomic(file, Buffer.from(text, "utf8"), mode);
  } catch (e) {
    throw new KeyInputError(
      `cannot write ${file}: ${(e as Error).message}${(e as NodeJS.ErrnoException).code === "EEXIST" ? " (refusing to overwrite)" : ""}`
    );
  }
}
