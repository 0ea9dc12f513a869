import nacl from "tweetnacl";
import { KeyInputError } from "./errors";
import { checkKioskId, KioskSecret } from "./kiosk-identity";
import { ExposureKey } from "./types";
import { keyProblem } from "./validate";
import { INTERVAL_SECONDS, TEK_ROLLING_PERIOD } from "../../../firmware/src/wire/gaen";
import { TEK_KEEP } from "../../../firmware/src/wire/tek-file";

/**
 * A diagnosis upload: a token's own TEKs, bound to one health-authority code,
 * signed by the kiosk that read them (Ed25519).
 *
 * {"format": "privatetracer-diagnosis-upload/1", "kioskId": "...",
 *  "authorisationCode": "XXXX-XXXX-XXXX-XXXX", "timestamp": unix,
 *  "keys": [{"keyData": "<32 hex>", "rollingStartIntervalNumber": N, "rollingPeriod": P}],
 *  "signature": "<base64 Ed25519 over canonicalBytes>"}
 *
 * The kiosk signs only what it knows; report type and symptom onset come from
 * the health authority's code record, so a kiosk cannot upgrade a report.
 */

export const UPLOAD_FORMAT = "privatetracer-diagnosis-upload/1";
/** A token keeps 14 days of keys, plus the one of the day of the upload. */
export const MAX_UPLOAD_KEYS = 15;
const FIELDS = ["format", "kioskId", "authorisationCode", "timestamp", "keys", "signature"];
const KEY_FIELDS = ["keyData", "rollingStartIntervalNumber", "rollingPeriod"];

export interface UploadKey {
  keyData: Uint8Array;
  rollingStartIntervalNumber: number;
  rollingPeriod: number;
}

export interface Upload {
  kioskId: string;
  authorisationCode: string;
  timestamp: number;
  keys: UploadKey[];
  signature: Uint8Array;
}

/**
 * The signed bytes: a JSON array of every field in a fixed order, with the
 * format string first (so a signature can never be taken for one over other
 * data). Rebuilt from parsed values, never taken from the received text.
 */
/** An upload holds at most 15 keys, about 2 KiB of JSON: anything over this is not one. */
export const MAX_UPLOAD_BYTES = 64 * 1024;

export function canonicalBytes(u: Omit<Upload, "signature">): Buffer {
  const keys = u.keys.map((k) => [Buffer.from(k.keyData).toString("hex"), k.rollingStartIntervalNumber, k.rollingPeriod]);
  return Buffer.from(JSON.stringify([UPLOAD_FORMAT, u.kioskId, u.authorisationCode, u.timestamp, keys]), "utf8");
}

/**
 * Until when a key may still be on the air: a token uses its TEK for the whole
 * day it starts, whatever rollingPeriod an upload claims, so a claimed period
 * of 1 for today's key must not pass it off as expired (publishing a live key
 * lets anyone replay the wearer's identifiers for the rest of the day).
 */
export function inUseUntil(k: { rollingStartIntervalNumber: number; rollingPeriod: number }): number {
  return k.rollingStartIntervalNumber + Math.max(k.rollingPeriod, TEK_ROLLING_PERIOD);
}

/**
 * The keys of `all` a diagnosis may upload at `now` (Unix seconds): expired,
 * and from the last 14 days. The key in use today is left out: publishing a
 * live key would let anyone replay the token's identifiers for the rest of
 * the day ("in use" from the start and today, not the claimed period:
 * inUseUntil).
 */
export function uploadableKeys<K extends ExposureKey>(all: readonly K[], now: number): { keys: K[]; left: number } {
  const nowEnin = Math.floor(now / INTERVAL_SECONDS);
  const keys = all.filter(
    (k) => inUseUntil(k) <= nowEnin && k.rollingStartIntervalNumber + k.rollingPeriod >= nowEnin - TEK_KEEP * TEK_ROLLING_PERIOD
  );
  return { keys, left: all.length - keys.length };
}

export function createUpload(keys: ExposureKey[], code: string, kiosk: KioskSecret, timestamp: number): Upload {
  const body: Omit<Upload, "signature"> = {
    kioskId: kiosk.kioskId,
    authorisationCode: code,
    timestamp,
    keys: keys.map((k) => ({
      keyData: k.keyData,
      rollingStartIntervalNumber: k.rollingStartIntervalNumber,
      rollingPeriod: k.rollingPeriod
    }))
  };
  return { ...body, signature: nacl.sign.detached(canonicalBytes(body), kiosk.secretKey) };
}

export function uploadToJson(u: Upload): string {
  return (
    JSON.stringify(
      {
        format: UPLOAD_FORMAT,
        kioskId: u.kioskId,
        authorisationCode: u.authorisationCode,
        timestamp: u.timestamp,
        keys: u.keys.map((k) => ({
          keyData: Buffer.from(k.keyData).toString("hex"),
          rollingStartIntervalNumber: k.rollingStartIntervalNumber,
          rollingPeriod: k.rollingPeriod
        })),
        signature: Buffer.from(u.signature).toString("base64")
      },
      null,
      2
    ) + "\n"
  );
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function onlyFields(o: Record<string, unknown>, allowed: string[], where: string): void {
  const extra = Object.keys(o).filter((k) => !allowed.includes(k));
  // Unsigned extra fields are refused rather than ignored: nothing in an upload goes unsigned.
  if (extra.length) throw new KeyInputError(`${where}: unexpected field(s) ${extra.join(", ")}`);
}

/** Parses an upload's JSON text strictly; does not check the signature. */
export function parseUpload(text: string, source: string): Upload {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new KeyInputError(`${source} is not valid JSON (${(e as Error).message})`);
  }
  if (!isRecord(doc) || doc.format !== UPLOAD_FORMAT)
    throw new KeyInputError(`${source} is not a diagnosis upload (expected "format": "${UPLOAD_FORMAT}")`);
  onlyFields(doc, FIELDS, source);
  const kioskId = checkKioskId(doc.kioskId, source);
  if (typeof doc.authorisationCode !== "string" || doc.authorisationCode.length > 64)
    throw new KeyInputError(`${source}: authorisationCode must be a string`);
  if (typeof doc.timestamp !== "number" || !Number.isSafeInteger(doc.timestamp) || doc.timestamp < 0)
    throw new KeyInputError(`${source}: timestamp must be unix seconds`);
  if (!Array.isArray(doc.keys) || doc.keys.length === 0 || doc.keys.length > MAX_UPLOAD_KEYS)
    throw new KeyInputError(`${source}: keys must be a list of 1 to ${MAX_UPLOAD_KEYS} keys`);
  const keys = doc.keys.map((k: unknown, i): UploadKey => {
    const where = `${source}: key ${i + 1}`;
    if (!isRecord(k)) throw new KeyInputError(`${where}: expected an object`);
    onlyFields(k, KEY_FIELDS, where);
    if (typeof k.keyData !== "string" || !/^[0-9a-f]{32}$/.test(k.keyData))
      throw new KeyInputError(`${where}: keyData must be 32 lower-case hex digits`);
    const key: UploadKey = {
      keyData: Uint8Array.from(Buffer.from(k.keyData, "hex")),
      rollingStartIntervalNumber: k.rollingStartIntervalNumber as number,
      rollingPeriod: k.rollingPeriod as number
    };
    const problem = keyProblem(key);
    if (problem) throw new KeyInputError(`${where}: ${problem}`);
    return key;
  });
  const sig = typeof doc.signature === "string" && /^[A-Za-z0-9+/]+=*$/.test(doc.signature) ? Buffer.from(doc.signature, "base64") : null;
  if (!sig || sig.length !== nacl.sign.signatureLength)
    throw new KeyInputError(`${source}: signature must be base64 of ${nacl.sign.signatureLength} bytes`);
  return { kioskId, authorisationCode: doc.authorisationCode, timestamp: doc.timestamp, keys, signature: Uint8Array.from(sig) };
}

export function uploadSignatureValid(u: Upload, kioskPublicKey: Uint8Array): boolean {
  return nacl.sign.detached.verify(canonicalBytes(u), u.signature, kioskPublicKey);
}
