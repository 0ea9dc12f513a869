import { KeyInputError } from "./errors";
import { readTextBounded } from "../read-bounded";
import { ExposureKey, ReportType } from "./types";
import { keyWriteProblem, REPORT_TYPE_NAMES } from "./validate";

/**
 * Keys as JSON, for `keys export`, `report create` and `keys show --json`.
 *
 * Our shape (what `keys show --json` prints):
 *   {"keys": [{"keyData": "<32 hex>", "rollingStartIntervalNumber": N,
 *              "rollingPeriod": 144, "reportType": 1, "daysSinceOnsetOfSymptoms": 3,
 *              "transmissionRiskLevel": 2, "variantOfConcern": 1}]}
 * or just the array. Also read: the verification-server shape of Google's
 * test files, {"temporaryExposureKeys": [{"key": "<base64>",
 * "rollingStartNumber": N, "rollingPeriod": P, "transmissionRisk": R}]}.
 * keyData may be hex (32 digits) or base64 (of 16 bytes).
 */

export interface KeyJson {
  keyData: string;
  rollingStartIntervalNumber: number;
  rollingPeriod: number;
  reportType?: number;
  reportTypeName?: string;
  daysSinceOnsetOfSymptoms?: number;
  transmissionRiskLevel?: number;
  variantOfConcern?: number;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function decodeKeyData(v: unknown, where: string): Uint8Array {
  if (typeof v !== "string") throw new KeyInputError(`${where}: key data must be a string of hex or base64`);
  if (/^[0-9a-fA-F]{32}$/.test(v)) return Uint8Array.from(Buffer.from(v, "hex"));
  if (/^[A-Za-z0-9+/]{22}(==)?$/.test(v) || /^[A-Za-z0-9_-]{22}$/.test(v))
    return Uint8Array.from(Buffer.from(v, /[_-]/.test(v) ? "base64url" : "base64"));
  throw new KeyInputError(`${where}: key data "${v.slice(0, 40)}" is neither 32 hex digits nor base64 of 16 bytes`);
}

function optInt(o: Record<string, unknown>, names: string[], where: string): number | undefined {
  for (const n of names) {
    if (o[n] === undefined || o[n] === null) continue;
    const v = o[n];
    if (typeof v !== "number" || !Number.isInteger(v))
      throw new KeyInputError(`${where}: ${n} must be an integer, got ${JSON.stringify(v)}`);
    return v;
  }
  return undefined;
}

function keyFromJson(v: unknown, where: string): ExposureKey {
  if (!isRecord(v)) throw new KeyInputError(`${where}: expected an object`);
  const data = v.keyData ?? v.key ?? v.tek;
  const rsin = optInt(v, ["rollingStartIntervalNumber", "rollingStartNumber"], where);
  if (rsin === undefined) throw new KeyInputError(`${where}: rollingStartIntervalNumber is missing`);
  const k: ExposureKey = {
    keyData: decodeKeyData(data, where),
    rollingStartIntervalNumber: rsin,
    rollingPeriod: optInt(v, ["rollingPeriod"], where) ?? 144
  };
  const trl = optInt(v, ["transmissionRiskLevel", "transmissionRisk"], where);
  if (trl !== undefined) k.transmissionRiskLevel = trl;
  const rt = optInt(v, ["reportType"], where);
  if (rt !== undefined) k.reportType = rt as ReportType;
  const dso = optInt(v, ["daysSinceOnsetOfSymptoms"], where);
  if (dso !== undefined) k.daysSinceOnsetOfSymptoms = dso;
  const voc = optInt(v, ["variantOfConcern"], where);
  if (voc !== undefined) k.variantOfConcern = voc;
  // Keys given as JSON are written out (keys export), so they must be writable.
  const problem = keyWriteProblem(k);
  if (problem) throw new KeyInputError(`${where}: ${problem}`);
  return k;
}

/** Parses keys from already-parsed JSON; `source` names the file in errors. */
export function keysFromJson(doc: unknown, source: string): ExposureKey[] {
  let list: unknown;
  if (Array.isArray(doc)) list = doc;
  else if (isRecord(doc)) list = doc.keys ?? doc.temporaryExposureKeys;
  if (!Array.isArray(list))
    throw new KeyInputError(`${source}: expected a JSON array of keys or an object with "keys" (or "temporaryExposureKeys")`);
  return list.map((k, i) => keyFromJson(k, `${source}: key ${i + 1}`));
}

/** Larger than any keys file, kiosk list or kiosk key we write; the code store sets its own limit. */
export const MAX_JSON_BYTES = 16 * 1024 * 1024;

/** A JSON input file, read with at most `limit` bytes (so /dev/zero or a FIFO fed without end is refused, not read until memory runs out). */
export function readJsonFile(file: string, what: string, limit = MAX_JSON_BYTES): unknown {
  let text: string;
  try {
    text = readTextBounded(file, limit, { what: `a ${what}` });
  } catch (e) {
    throw new KeyInputError(`cannot read ${what} ${file}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new KeyInputError(`${what} ${file} is not valid JSON (${(e as Error).message})`);
  }
}

export function readKeysJson(file: string): ExposureKey[] {
  return keysFromJson(readJsonFile(file, "keys file"), file);
}

export function keyToJson(k: ExposureKey): KeyJson {
  const out: KeyJson = {
    keyData: Buffer.from(k.keyData).toString("hex"),
    rollingStartIntervalNumber: k.rollingStartIntervalNumber,
    rollingPeriod: k.rollingPeriod
  };
  if (k.reportType !== undefined) {
    out.reportType = k.reportType;
    out.reportTypeName = REPORT_TYPE_NAMES[k.reportType];
  }
  if (k.daysSinceOnsetOfSymptoms !== undefined) out.daysSinceOnsetOfSymptoms = k.daysSinceOnsetOfSymptoms;
  if (k.transmissionRiskLevel !== undefined) out.transmissionRiskLevel = k.transmissionRiskLevel;
  if (k.variantOfConcern !== undefined) out.variantOfConcern = k.variantOfConcern;
  return out;
}
