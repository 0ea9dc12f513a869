import * as crypto from "node:crypto";
import * as zlib from "node:zlib";
import JSZip from "jszip";
import {
  ECDSA_SHA256_OID,
  SkippedKey,
  TekSignature,
  decodeExportBinChecked,
  decodeSignatureList,
  encodeExportBin,
  encodeSignatureList
} from "./export-codec";
import { ExportFormatError } from "./errors";
import { signExportBin, verifyExportBin } from "./signing";
import { KeyExport, SignatureInfo } from "./types";
import { InputTooLargeError, readFileBounded } from "../read-bounded";

/**
 * Export files on disk: a .zip with export.bin and export.sig, or a bare
 * export.bin (which carries no signature).
 */

/** Refuse anything bigger: real exports hold at most tens of thousands of keys (~30 bytes each). */
export const MAX_EXPORT_BYTES = 16 * 1024 * 1024;
// "PK": any zip record (an empty zip starts with its end record, PK\x05\x06).
const ZIP_MAGIC = Buffer.from("PK", "ascii");

export interface ExportFile {
  /** The exact export.bin bytes (what the signature covers). */
  bin: Buffer;
  /** Signatures from export.sig; empty for a bare export.bin or an empty export.sig. */
  signatures: TekSignature[];
  /** True if the file was a zip that had an export.sig entry (even an empty one). */
  hasSigFile: boolean;
  /** Its valid keys (keyProblem): what `keys show`, `keys verify` and the matcher all use. */
  export: KeyExport;
  /** Keys the export carries that are invalid, left out of `export` (see decodeExportBinChecked). */
  skipped: SkippedKey[];
}

/** What JSZip keeps of an entry when loaded without checkCRC32: the raw bytes and the central directory's figures. */
interface ZipEntryData {
  _data?: {
    uncompressedSize?: number;
    crc32?: number;
    compression?: { magic?: string };
    compressedContent?: Uint8Array;
  };
}

const STORE = "\x00\x00";
const DEFLATE = "\x08\x00";

/**
 * Reads one entry without letting JSZip inflate it: JSZip would inflate every
 * entry whole (to check CRCs) before we could look at its size, so a small zip
 * could claim 100 bytes and inflate to gigabytes. Here the declared size is
 * checked first and inflating stops hard at MAX_EXPORT_BYTES whatever the
 * headers claim; the CRC is checked afterwards on the bounded output.
 */
async function readZipEntry(zip: JSZip, name: string, source: string): Promise<Buffer | null> {
  const entry = zip.file(name);
  if (!entry) return null;
  const d = (entry as unknown as ZipEntryData)._data;
  if (!d || !(d.compressedContent instanceof Uint8Array)) {
    // JSZip swaps an entry that declares 0 bytes for an in-memory empty
    // string: nothing from the zip is inflated on this path.
    let data: Uint8Array;
    try {
      data = await entry.async("uint8array");
    } catch (e) {
      throw new ExportFormatError(`${source}: ${name} inside the zip is corrupt (${(e as Error).message})`);
    }
    if (data.length > MAX_EXPORT_BYTES)
      throw new ExportFormatError(`${source}: ${name} is ${data.length} bytes, over the ${MAX_EXPORT_BYTES}-byte limit`);
    return Buffer.from(data);
  }
  if (typeof d.uncompressedSize !== "number" || typeof d.compression?.magic !== "string")
    throw new ExportFormatError(`${source}: ${name} inside the zip cannot be read`);
  if (d.uncompressedSize > MAX_EXPORT_BYTES)
    throw new ExportFormatError(`${source}: ${name} would be ${d.uncompressedSize} bytes, over the ${MAX_EXPORT_BYTES}-byte limit`);
  let data: Buffer;
  if (d.compression.magic === STORE) data = Buffer.from(d.compressedContent);
  else if (d.compression.magic === DEFLATE) {
    try {
      data = zlib.inflateRawSync(d.compressedContent, { maxOutputLength: MAX_EXPORT_BYTES });
    } catch (e) {
      if ((e as { code?: string }).code === "ERR_BUFFER_TOO_LARGE")
        throw new ExportFormatError(
          `${source}: ${name} inflates to over the ${MAX_EXPORT_BYTES}-byte limit (its header claims ${d.uncompressedSize} bytes)`
        );
      throw new ExportFormatError(`${source}: ${name} inside the zip is corrupt (${(e as Error).message})`);
    }
  } else throw new ExportFormatError(`${source}: ${name} uses a zip compression method other than deflate or store`);
  if (data.length !== d.uncompressedSize)
    throw new ExportFormatError(
      `${source}: ${name} inside the zip is corrupt (${data.length} bytes, its header says ${d.uncompressedSize})`
    );
  if (typeof d.crc32 === "number" && zlib.crc32(data) !== d.crc32 >>> 0)
    throw new ExportFormatError(`${source}: ${name} inside the zip is corrupt (CRC32 mismatch)`);
  return data;
}

/** Parses the bytes of a .zip export or a bare export.bin; `source` names it in errors. */
export async function parseExportFile(data: Uint8Array, source: string): Promise<ExportFile> {
  if (data.length > MAX_EXPORT_BYTES)
    throw new ExportFormatError(`${source}: ${data.length} bytes, over the ${MAX_EXPORT_BYTES}-byte limit for an export file`);
  const buf = Buffer.from(data.buffer, data.byteOffset, data.length);
  if (buf.length < 2 || !buf.subarray(0, 2).equals(ZIP_MAGIC)) {
    // Not a zip: it must be a bare export.bin, whose header check says so if not.
    const decoded = decodeExportBinChecked(buf, source);
    return { bin: Buffer.from(buf), signatures: [], hasSigFile: false, export: decoded.export, skipped: decoded.skipped };
  }
  let zip: JSZip;
  try {
    // No CRC check here: that would inflate every entry before its size is known (see readZipEntry).
    zip = await JSZip.loadAsync(buf, { checkCRC32: false });
  } catch (e) {
    throw new ExportFormatError(`${source}: not a readable zip (${(e as Error).message})`);
  }
  const bin = await readZipEntry(zip, "export.bin", source);
  if (!bin) throw new ExportFormatError(`${source}: the zip has no export.bin (entries: ${Object.keys(zip.files).join(", ") || "none"})`);
  const sig = await readZipEntry(zip, "export.sig", source);
  const decoded = decodeExportBinChecked(bin, source);
  return {
    bin,
    signatures: sig ? decodeSignatureList(sig, source) : [],
    hasSigFile: sig !== null,
    export: decoded.export,
    skipped: decoded.skipped
  };
}

export async function readExportFile(file: string): Promise<ExportFile> {
  let data: Buffer;
  try {
    data = readFileBounded(file, MAX_EXPORT_BYTES, { what: "an export file" });
  } catch (e) {
    if (e instanceof InputTooLargeError) throw new ExportFormatError(`${file}: ${e.message}`);
    throw new ExportFormatError(`cannot read ${file}: ${(e as Error).message}`);
  }
  return parseExportFile(data, file);
}

export type VerifyOutcome = { valid: true; signature: TekSignature } | { valid: false; reason: string };

/**
 * Valid if any signature in export.sig verifies over the whole export.bin with
 * the given key and names ECDSA-SHA256 (or names no algorithm).
 */
export function verifyExportFile(file: ExportFile, key: crypto.KeyObject): VerifyOutcome {
  if (!file.hasSigFile) return { valid: false, reason: "unsigned: there is no export.sig (a bare export.bin cannot be verified)" };
  if (file.signatures.length === 0) return { valid: false, reason: "unsigned: export.sig holds no signature" };
  const reasons: string[] = [];
  for (const s of file.signatures) {
    const alg = s.signatureInfo.signatureAlgorithm;
    if (alg !== undefined && alg !== ECDSA_SHA256_OID) {
      reasons.push(`signature algorithm ${alg} is not ECDSA-SHA256 (${ECDSA_SHA256_OID})`);
      continue;
    }
    if (s.signature.length === 0) {
      reasons.push("a signature entry is empty");
      continue;
    }
    if (verifyExportBin(file.bin, s.signature, key)) return { valid: true, signature: s };
    const id = s.signatureInfo.verificationKeyId;
    reasons.push(`the signature${id ? ` of key id "${id}"` : ""} does not verify with this public key`);
  }
  return { valid: false, reason: reasons.join("; ") };
}

export interface SignOptions {
  key: crypto.KeyObject;
  keyId: string;
  keyVersion: string;
}

/** Builds the zip bytes of an export: export.bin (with our SignatureInfo) and, if signed, export.sig. */
export async function buildExportZip(exp: KeyExport, sign?: SignOptions): Promise<Buffer> {
  const info: SignatureInfo | undefined = sign
    ? { verificationKeyId: sign.keyId, verificationKeyVersion: sign.keyVersion, signatureAlgorithm: ECDSA_SHA256_OID }
    : undefined;
  const withInfo: KeyExport = { ...exp, signatureInfos: info ? [info] : exp.signatureInfos };
  const bin = encodeExportBin(withInfo);
  const sigs: TekSignature[] =
    sign && info
      ? [{ signatureInfo: info, batchNum: exp.batchNum, batchSize: exp.batchSize, signature: signExportBin(bin, sign.key) }]
      : [];
  const zip = new JSZip();
  // A fixed entry date: the real one would only tell when the publisher ran.
  const date = new Date(Date.UTC(2020, 0, 1));
  zip.file("export.bin", bin, { date });
  zip.file("export.sig", encodeSignatureList(sigs), { date });
  return zip.generateAsync({ type: "nodebuffer", compression: "DEFLATE" });
}
