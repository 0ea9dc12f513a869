import { ExportFormatError, KeyInputError } from "./errors";
import { ExportMessage, SignatureListMessage, WireExport, WireKey, WireLong, WireSignatureInfo, WireSignatureList } from "./proto";
import { ExposureKey, KeyExport, ReportType, SignatureInfo } from "./types";
import { keyProblem, keyWriteProblem } from "./validate";

/** Every export.bin starts with these 16 bytes (four trailing spaces). */
export const EXPORT_HEADER = Buffer.from("EK Export v1    ", "ascii");
/** ECDSA with SHA-256, the only algorithm GAEN exports use. */
export const ECDSA_SHA256_OID = "1.2.840.10045.4.3.2";

/** One entry of export.sig (TEKSignature). */
export interface TekSignature {
  signatureInfo: SignatureInfo;
  batchNum?: number;
  batchSize?: number;
  signature: Buffer;
}

function has(o: object, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}

/** The last second a JavaScript Date can hold (8.64e15 ms): anything later cannot be shown, compared or aged as a date. */
export const MAX_UNIX_SECONDS = 8.64e12;

function toUnixTime(v: WireLong | undefined, what: string, source: string): number {
  if (v === undefined) return 0;
  // A fixed64 may not fit a double exactly: unsigned, so it is never negative, and toString gives every digit.
  const n = typeof v === "number" ? v : v.toNumber();
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_UNIX_SECONDS) {
    const exact = typeof v === "number" ? String(v) : v.toString();
    throw new ExportFormatError(
      `${source}: ${what} ${exact} is not a usable unix time (0..${MAX_UNIX_SECONDS}, up to the year 275760); the publisher wrote a broken export`
    );
  }
  return n;
}

function sigInfoFromWire(w: WireSignatureInfo): SignatureInfo {
  const out: SignatureInfo = {};
  if (has(w, "verification_key_version")) out.verificationKeyVersion = w.verification_key_version;
  if (has(w, "verification_key_id")) out.verificationKeyId = w.verification_key_id;
  if (has(w, "signature_algorithm")) out.signatureAlgorithm = w.signature_algorithm;
  return out;
}

function sigInfoToWire(s: SignatureInfo): WireSignatureInfo {
  const out: WireSignatureInfo = {};
  if (s.verificationKeyVersion !== undefined) out.verification_key_version = s.verificationKeyVersion;
  if (s.verificationKeyId !== undefined) out.verification_key_id = s.verificationKeyId;
  if (s.signatureAlgorithm !== undefined) out.signature_algorithm = s.signatureAlgorithm;
  return out;
}

/** A key an export carries but no reader uses (keyProblem), with where it was and why. */
export interface SkippedKey {
  /** Which list of the export held it. */
  list: "keys" | "revisedKeys";
  /** 1-based position in that list. */
  key: number;
  /** Its key data in hex, when it has any. */
  keyData?: string;
  problem: string;
}

/** A key read from the wire, or why it is unusable (see keyProblem). */
function keyFromWire(w: WireKey): ExposureKey | { problem: string } {
  if (!has(w, "key_data")) return { problem: "it has no key_data" };
  if (!has(w, "rolling_start_interval_number")) return { problem: "it has no rolling_start_interval_number" };
  const k: ExposureKey = {
    keyData: Uint8Array.from(w.key_data as Uint8Array),
    rollingStartIntervalNumber: w.rolling_start_interval_number as number,
    rollingPeriod: has(w, "rolling_period") ? (w.rolling_period as number) : 144
  };
  if (has(w, "transmission_risk_level")) k.transmissionRiskLevel = w.transmission_risk_level;
  if (has(w, "report_type")) k.reportType = w.report_type as ReportType;
  if (has(w, "days_since_onset_of_symptoms")) k.daysSinceOnsetOfSymptoms = w.days_since_onset_of_symptoms;
  if (has(w, "variant_of_concern")) k.variantOfConcern = w.variant_of_concern;
  const problem = keyProblem(k);
  return problem ? { problem } : k;
}

/**
 * The valid keys of a list, and the rest as SkippedKey. One bad key does not
 * make the export unreadable: the signature covers the whole export.bin, bad
 * keys included, so skipping them changes nothing it vouches for, and
 * refusing the file would stop every good key in it from being matched.
 */
function keysFromWire(list: WireKey[] | undefined, name: SkippedKey["list"], skipped: SkippedKey[]): ExposureKey[] {
  const out: ExposureKey[] = [];
  (list ?? []).forEach((w, i) => {
    const k = keyFromWire(w);
    if (!("problem" in k)) {
      out.push(k);
      return;
    }
    const s: SkippedKey = { list: name, key: i + 1, problem: k.problem };
    if (w.key_data instanceof Uint8Array) s.keyData = Buffer.from(w.key_data).toString("hex");
    skipped.push(s);
  });
  return out;
}

/** Names a skipped key for a person: "key 3" or "revised key 1". */
export function skippedKeyName(s: SkippedKey): string {
  return `${s.list === "revisedKeys" ? "revised key" : "key"} ${s.key}`;
}

function keyToWire(k: ExposureKey, where: string): WireKey {
  const problem = keyWriteProblem(k);
  if (problem) throw new KeyInputError(`${where}: ${problem}`);
  const w: WireKey = {
    key_data: k.keyData,
    rolling_start_interval_number: k.rollingStartIntervalNumber,
    rolling_period: k.rollingPeriod
  };
  if (k.transmissionRiskLevel !== undefined) w.transmission_risk_level = k.transmissionRiskLevel;
  if (k.reportType !== undefined) w.report_type = k.reportType;
  if (k.daysSinceOnsetOfSymptoms !== undefined) w.days_since_onset_of_symptoms = k.daysSinceOnsetOfSymptoms;
  if (k.variantOfConcern !== undefined) w.variant_of_concern = k.variantOfConcern;
  return w;
}

/** Parses export.bin (header + TemporaryExposureKeyExport); `source` names the file in errors. Invalid keys are left out (see decodeExportBinChecked). */
export function decodeExportBin(bin: Uint8Array, source = "export.bin"): KeyExport {
  return decodeExportBinChecked(bin, source).export;
}

/**
 * Parses export.bin, leaving out keys that fail keyProblem and listing them
 * in `skipped`. A header, protobuf or timestamp that cannot be read is an
 * ExportFormatError: without them nothing in the file can be trusted.
 */
export function decodeExportBinChecked(bin: Uint8Array, source = "export.bin"): { export: KeyExport; skipped: SkippedKey[] } {
  if (bin.length < EXPORT_HEADER.length)
    throw new ExportFormatError(`${source}: export.bin is ${bin.length} bytes, too short for the 16-byte "EK Export v1" header`);
  if (!Buffer.from(bin.buffer, bin.byteOffset, EXPORT_HEADER.length).equals(EXPORT_HEADER))
    throw new ExportFormatError(`${source}: export.bin does not start with the header "EK Export v1    " (not a GAEN export)`);
  let wire: WireExport;
  try {
    wire = ExportMessage.decode(bin.subarray(EXPORT_HEADER.length)) as unknown as WireExport;
  } catch (e) {
    throw new ExportFormatError(`${source}: export.bin is not a valid TemporaryExposureKeyExport protobuf (${(e as Error).message})`);
  }
  const skipped: SkippedKey[] = [];
  const exp: KeyExport = {
    startTimestamp: toUnixTime(wire.start_timestamp, "start_timestamp", source),
    endTimestamp: toUnixTime(wire.end_timestamp, "end_timestamp", source),
    region: wire.region ?? "",
    batchNum: wire.batch_num ?? 0,
    batchSize: wire.batch_size ?? 0,
    signatureInfos: (wire.signature_infos ?? []).map(sigInfoFromWire),
    keys: keysFromWire(wire.keys, "keys", skipped),
    revisedKeys: keysFromWire(wire.revised_keys, "revisedKeys", skipped)
  };
  return { export: exp, skipped };
}

/** Serialises an export to export.bin bytes (header included). Bad keys throw KeyInputError. */
export function encodeExportBin(exp: KeyExport): Buffer {
  if (
    !Number.isSafeInteger(exp.startTimestamp) ||
    !Number.isSafeInteger(exp.endTimestamp) ||
    exp.startTimestamp < 0 ||
    exp.endTimestamp < exp.startTimestamp
  )
    throw new KeyInputError(`export time window ${exp.startTimestamp}..${exp.endTimestamp} is not a valid pair of unix times`);
  const wire: WireExport = {
    start_timestamp: exp.startTimestamp,
    end_timestamp: exp.endTimestamp,
    region: exp.region,
    batch_num: exp.batchNum,
    batch_size: exp.batchSize,
    signature_infos: exp.signatureInfos.map(sigInfoToWire),
    keys: exp.keys.map((k, i) => keyToWire(k, `key ${i + 1}`)),
    revised_keys: exp.revisedKeys.map((k, i) => keyToWire(k, `revised key ${i + 1}`))
  };
  const body = ExportMessage.encode(ExportMessage.fromObject(wire as Record<string, unknown>)).finish();
  return Buffer.concat([EXPORT_HEADER, body]);
}

/** Parses export.sig (TEKSignatureList). An empty file is a valid, empty list. */
export function decodeSignatureList(sig: Uint8Array, source = "export.sig"): TekSignature[] {
  let wire: WireSignatureList;
  try {
    wire = SignatureListMessage.decode(sig) as unknown as WireSignatureList;
  } catch (e) {
    throw new ExportFormatError(`${source}: export.sig is not a valid TEKSignatureList protobuf (${(e as Error).message})`);
  }
  return (wire.signatures ?? []).map((s) => {
    const out: TekSignature = {
      signatureInfo: sigInfoFromWire(s.signature_info ?? {}),
      signature: Buffer.from(s.signature ?? new Uint8Array(0))
    };
    if (has(s, "batch_num")) out.batchNum = s.batch_num;
    if (has(s, "batch_size")) out.batchSize = s.batch_size;
    return out;
  });
}

export function encodeSignatureList(sigs: TekSignature[]): Buffer {
  const wire: WireSignatureList = {
    signatures: sigs.map((s) => ({
      signature_info: sigInfoToWire(s.signatureInfo),
      batch_num: s.batchNum,
      batch_size: s.batchSize,
      signature: s.signature
    }))
  };
  return Buffer.from(SignatureListMessage.encode(SignatureListMessage.fromObject(wire as Record<string, unknown>)).finish());
}
