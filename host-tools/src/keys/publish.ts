import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  changeCodeStoreLocked,
  checkCode,
  CodeRecord,
  CodeStore,
  codeStoreLockFile,
  consumeCode,
  findCode,
  readCodeStore,
  uploadDigest
} from "./auth-codes";
import { KeyInputError, PublishWriteError } from "./errors";
import { pathTaken, writeFileAtomic } from "../atomic-write";
import { acquireLock, releaseLock } from "./lock-file";
import { readFileBounded, readTextBounded } from "../read-bounded";
import { buildExportZip, MAX_EXPORT_BYTES, readExportFile } from "./export-file";
import { inUseUntil, MAX_UPLOAD_BYTES, parseUpload, Upload, uploadSignatureValid } from "./upload";
import { ExposureKey, KeyExport } from "./types";
import { keyDataId } from "./validate";
import { INTERVAL_SECONDS, TEK_ROLLING_PERIOD } from "../../../firmware/src/wire/gaen";

/**
 * The publisher's side of a diagnosis: check every pending upload (enrolled
 * kiosk, signature, unused and unexpired code, sane keys), put the keys of
 * the good ones into one new signed export, mark their codes used, and move
 * each upload to published/ or rejected/ (with its reason) so none is lost
 * and none is processed twice. Key data that an earlier run published is
 * refused, whatever start it claims now: a TEK is one key, and a second copy
 * would count its sightings again wherever copies are not merged.
 *
 * The whole run holds the code store's lock (lock-file.ts), from before it
 * lists the uploads until the last one is moved: two publishes (or a publish
 * and `report issue-code`) never interleave, so no upload is accepted twice
 * and no index.txt line is lost. Publishes that share an OUTDIR must share
 * the code store, which they do when they publish for one health authority.
 *
 * The uploads directory is where others deliver files, so nothing in it is
 * trusted to be what its name says: only regular files are read (a symbolic
 * link is not followed, so no rejection reason can quote another file), and
 * `published/` and `rejected/` must be real directories.
 */

const KEEP_DAYS = 14;
/** How long a publish waits for another run to release the code store. */
const DEFAULT_LOCK_WAIT_MS = 120_000;
/** An upload dated further ahead than this is refused: the kiosk's clock is wrong. */
const MAX_CLOCK_AHEAD_S = 600;

export interface PublishOptions {
  uploadsDir: string;
  /** The code store; codes of accepted uploads are marked used in it. */
  codesFile: string;
  kiosks: Map<string, Uint8Array>;
  signingKey: crypto.KeyObject;
  keyId: string;
  keyVersion: string;
  region: string;
  outDir: string;
  now: number;
  /** How long to wait for another run holding the code store's lock (default 2 minutes). */
  lockWaitMs?: number;
  /** Hears lines a person should see while the run goes on, e.g. that a stale lock was taken over. */
  onNote?: (line: string) => void;
}

export interface AcceptedUpload {
  file: string;
  kioskId: string;
  keys: number;
  /** Keys left out of the export, with why (still in use, too old, repeated). */
  dropped: string[];
}

export interface RejectedUpload {
  file: string;
  reason: string;
}

/** A key refused because an earlier run published the same key data. */
export interface RepublishedKey {
  file: string;
  /** Key data, hex. */
  key: string;
  /** The export (relative to outDir) that already holds it. */
  publishedIn: string;
  reason: string;
}

export interface PublishResult {
  /** The export written (relative to outDir), or null if no upload was accepted. */
  exportFile: string | null;
  keys: number;
  accepted: AcceptedUpload[];
  rejected: RejectedUpload[];
  /**
   * Uploads published by an earlier run that failed before moving them (their
   * code is marked used by this very upload): moved to published/ now.
   */
  alreadyPublished: string[];
  /**
   * Keys refused because an earlier run published their key data (listed in
   * outDir/index.txt). Non-empty means an upload re-sent a published key, with
   * another code or another start: the CLI ends with exit 2 after the run.
   */
  republished: RepublishedKey[];
}

/** Days from the onset day to the key's day, clamped to the -14..14 GAEN range. */
function daysSinceOnset(k: { rollingStartIntervalNumber: number }, onset: number): number {
  const d = Math.floor((k.rollingStartIntervalNumber * INTERVAL_SECONDS) / 86400) - Math.floor(onset / 86400);
  return Math.max(-KEEP_DAYS, Math.min(KEEP_DAYS, d));
}

interface Checked {
  file: string;
  digest: string;
  upload: Upload;
  record: CodeRecord;
  keys: ExposureKey[];
  dropped: string[];
  republished: RepublishedKey[];
}

interface Published {
  /** The export it is in, relative to outDir. */
  exportFile: string;
  start: number;
  period: number;
}

/**
 * Every key data in the exports listed in outDir/index.txt, by keyDataId.
 * Only listed exports count: an export written by a run that stopped before
 * listing it was never seen by readers, and its keys are published again.
 */
async function publishedKeys(outDir: string): Promise<Map<string, Published>> {
  const index = path.join(outDir, "index.txt");
  const out = new Map<string, Published>();
  let text: string;
  try {
    text = readTextBounded(index, MAX_EXPORT_BYTES, { what: "an index" });
  } catch (e) {
    // No index yet (or no directory: creating it reports that) means nothing was published.
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return out;
    throw new KeyInputError(
      `cannot read ${index} to check which keys are already published: ${(e as Error).message}. Nothing was published.`
    );
  }
  const entries = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  for (const entry of entries) {
    const file = path.isAbsolute(entry) ? entry : path.join(outDir, entry);
    let exp: KeyExport;
    try {
      exp = (await readExportFile(file)).export;
    } catch (e) {
      throw new KeyInputError(
        `cannot read ${file}, listed in ${index}, to check which keys are already published: ${(e as Error).message}. Nothing was published.`
      );
    }
    for (const k of [...exp.keys, ...exp.revisedKeys]) {
      const id = keyDataId(k);
      if (!out.has(id)) out.set(id, { exportFile: entry, start: k.rollingStartIntervalNumber, period: k.rollingPeriod });
    }
  }
  return out;
}

function republishReason(k: ExposureKey, p: Published): string {
  const same = p.start === k.rollingStartIntervalNumber && p.period === k.rollingPeriod;
  const claim = same
    ? "with the same start"
    : `with start ${p.start} and period ${p.period} (this upload claims start ${k.rollingStartIntervalNumber} and period ${k.rollingPeriod})`;
  return `already published in ${p.exportFile} ${claim}; a key is published once, whatever start it claims`;
}

interface AlreadyPublished {
  file: string;
  already: true;
}

interface Refused extends RejectedUpload {
  republished?: RepublishedKey[];
}

function checkUpload(
  text: string,
  file: string,
  o: PublishOptions,
  codes: CodeStore,
  seenKeys: Set<string>,
  published: Map<string, Published>
): Checked | Refused | AlreadyPublished {
  let upload: Upload;
  try {
    upload = parseUpload(text, file);
  } catch (e) {
    return { file, reason: (e as Error).message };
  }
  const pub = o.kiosks.get(upload.kioskId);
  if (!pub) return { file, reason: `kiosk "${upload.kioskId}" is not enrolled` };
  // The signature is checked before the code, so nobody outside the enrolled kiosks can probe codes.
  if (!uploadSignatureValid(upload, pub))
    return {
      file,
      reason: `the signature does not verify with kiosk "${upload.kioskId}"'s enrolled key (upload altered or signed by another key)`
    };
  if (upload.timestamp > o.now + MAX_CLOCK_AHEAD_S)
    return {
      file,
      reason: `the upload is dated ${new Date(upload.timestamp * 1000).toISOString()}, in the future: check the kiosk's clock`
    };
  const digest = uploadDigest(text);
  // The identical upload used this code in an earlier run that stopped before moving it.
  if (findCode(codes, upload.authorisationCode)?.usedFor === digest) return { file, already: true };
  const code = checkCode(codes, upload.authorisationCode, o.now);
  if (!code.ok) return { file, reason: code.reason };

  const nowEnin = Math.floor(o.now / INTERVAL_SECONDS);
  const oldest = nowEnin - KEEP_DAYS * TEK_ROLLING_PERIOD;
  const keys: ExposureKey[] = [];
  const dropped: string[] = [];
  const republished: RepublishedKey[] = [];
  for (const k of upload.keys) {
    const hex = Buffer.from(k.keyData).toString("hex");
    const end = k.rollingStartIntervalNumber + k.rollingPeriod;
    // First: a published key claiming a later start must not pass as "still in use" or new.
    const earlier = published.get(keyDataId(k));
    if (earlier) {
      const reason = republishReason(k, earlier);
      republished.push({ file, key: hex, publishedIn: earlier.exportFile, reason });
      dropped.push(`${hex}: ${reason}`);
    } else if (inUseUntil(k) > nowEnin)
      dropped.push(`${hex}: still in use until interval ${inUseUntil(k)}; published only once it has expired`);
    else if (end < oldest) dropped.push(`${hex}: older than ${KEEP_DAYS} days`);
    else if (seenKeys.has(hex)) dropped.push(`${hex}: repeated`);
    else {
      seenKeys.add(hex);
      const key: ExposureKey = { ...k, reportType: code.record.reportType };
      if (code.record.symptomOnset !== undefined) key.daysSinceOnsetOfSymptoms = daysSinceOnset(k, code.record.symptomOnset);
      keys.push(key);
    }
  }
  // Refused without using the code: the kiosk can send the keys again once they can be published,
  // and a code is not spent on keys that are out already.
  if (!keys.length)
    return { file, reason: `no key can be published${republished.length ? "" : " yet"}: ${dropped.join("; ")}`, republished };
  return { file, digest, upload, record: code.record, keys, dropped, republished };
}

/** Runs a file-system step, turning its failure into a PublishWriteError that names the path and what to do. */
function writeStep<T>(what: string, file: string, after: string, step: () => T): T {
  try {
    return step();
  } catch (e) {
    throw new PublishWriteError(`cannot ${what} ${file}: ${(e as Error).message}. ${after}`);
  }
}

/**
 * What is wrong with `published/` or `rejected/`, or null: a symbolic link
 * there would move uploads (and their reasons) out of the uploads directory,
 * to wherever whoever planted it chose. Absent is fine: made when first needed.
 */
function subdirProblem(dir: string, uploadsDir: string): string | null {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(dir);
  } catch {
    return null;
  }
  if (st.isSymbolicLink())
    return `${dir} is a symbolic link; processed uploads are moved only into real directories inside ${uploadsDir}. Replace it with a directory (and check who made it)`;
  if (!st.isDirectory()) return `${dir} is not a directory; processed uploads are moved into it. Move it away`;
  return null;
}

/** Refuses a symlinked `published/` or `rejected/` before anything is read or written. */
function refuseLinkedSubdir(dir: string, uploadsDir: string): void {
  if (!fs.lstatSync(dir, { throwIfNoEntry: false })?.isSymbolicLink()) return;
  throw new KeyInputError(`${subdirProblem(dir, uploadsDir)}, then run again. Nothing was published.`);
}

function moveTo(dir: string, uploadsDir: string, file: string, after: string, note?: string): void {
  writeStep("move", file, after, () => {
    if (!pathTaken(dir)) fs.mkdirSync(dir);
    // Again after making it: nothing may have been put in its place meanwhile.
    const problem = subdirProblem(dir, uploadsDir);
    if (problem) throw new Error(problem);
    const base = path.basename(file, ".json");
    let dest = path.join(dir, path.basename(file));
    // Never overwrite an earlier upload of the same name, nor anything at its reason's name.
    for (let n = 2; pathTaken(dest) || pathTaken(`${dest}.reason.txt`); n++) dest = path.join(dir, `${base}.${n}.json`);
    fs.renameSync(file, dest);
    // "wx": never through a link someone placed at that name.
    if (note !== undefined) fs.writeFileSync(`${dest}.reason.txt`, note + "\n", { flag: "wx" });
  });
}

/**
 * An upload's text, or why it cannot be read. Read without following a link
 * and only from a regular file, bounded: the reason names what the entry is,
 * never what it points to.
 */
function readUpload(file: string): { text: string } | { reason: string } {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch (e) {
    return { reason: `cannot read: ${(e as Error).message}` };
  }
  if (st.isSymbolicLink())
    return {
      reason: "it is a symbolic link; uploads are read only from regular files in the uploads directory, and links are not followed"
    };
  if (!st.isFile()) return { reason: "it is not a regular file; uploads are read only from regular files in the uploads directory" };
  try {
    const bytes = readFileBounded(file, MAX_UPLOAD_BYTES, { noFollow: true, regularOnly: true, what: "an upload" });
    return { text: bytes.toString("utf8") };
  } catch (e) {
    // Swapped for a link after the check above: say so, quoting nothing of it (node:fs messages name only the path).
    if ((e as NodeJS.ErrnoException).code === "ELOOP")
      return { reason: "it became a symbolic link while being read; links are not followed" };
    return { reason: `cannot read: ${(e as Error).message}` };
  }
}

/** The export's name: `<start>-<end>-<n>.zip`, with the first number not yet used (two runs may end in the same second). */
function freeExportName(outDir: string, start: number, end: number): string {
  for (let n = 1; ; n++) {
    const name = `${start}-${end}-${String(n).padStart(5, "0")}.zip`;
    if (!pathTaken(path.join(outDir, name))) return name;
  }
}

/**
 * Marks the accepted uploads' codes used in a fresh read of the store, merged
 * by code hash (the run holds the store's lock; the fresh read keeps anything
 * written to the store without the lock meanwhile).
 */
function saveUsedCodes(o: PublishOptions, accepted: Checked[]): void {
  changeCodeStoreLocked(o.codesFile, (fresh) => {
    for (const a of accepted) {
      let rec = fresh.codes.find((c) => c.hash === a.record.hash);
      if (!rec) {
        // Removed from the store meanwhile: keep it, used, so it cannot be used again.
        rec = { ...a.record };
        fresh.codes.push(rec);
      }
      consumeCode(rec, o.now, a.upload.kioskId, a.digest);
    }
  });
}

export async function publishUploads(o: PublishOptions): Promise<PublishResult> {
  // First, before reading anything: what this run reads must not change under it until it has written everything.
  const lock = await acquireLock(codeStoreLockFile(o.codesFile), {
    waitMs: o.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS,
    what: `the code store ${o.codesFile}`,
    onNote: o.onNote
  });
  try {
    return await publishLocked(o);
  } finally {
    releaseLock(lock);
  }
}

async function publishLocked(o: PublishOptions): Promise<PublishResult> {
  const publishedDir = path.join(o.uploadsDir, "published");
  const rejectedDir = path.join(o.uploadsDir, "rejected");
  refuseLinkedSubdir(publishedDir, o.uploadsDir);
  refuseLinkedSubdir(rejectedDir, o.uploadsDir);
  let names: string[];
  try {
    names = fs
      .readdirSync(o.uploadsDir)
      .filter((f) => f.endsWith(".json"))
      .sort();
  } catch (e) {
    throw new KeyInputError(`cannot read the uploads directory ${o.uploadsDir}: ${(e as Error).message}`);
  }
  const codes = readCodeStore(o.codesFile);
  const published = await publishedKeys(o.outDir);
  const accepted: Checked[] = [];
  const republished: RepublishedKey[] = [];
  const rejected: RejectedUpload[] = [];
  const seenKeys = new Set<string>();
  const usedInBatch = new Set<CodeRecord>();
  const alreadyPublished: string[] = [];
  for (const name of names) {
    const file = path.join(o.uploadsDir, name);
    const read = readUpload(file);
    if ("reason" in read) {
      rejected.push({ file, reason: read.reason });
      continue;
    }
    const r = checkUpload(read.text, file, o, codes, seenKeys, published);
    if ("already" in r) alreadyPublished.push(r.file);
    else if ("reason" in r) {
      rejected.push({ file: r.file, reason: r.reason });
      republished.push(...(r.republished ?? []));
    } else if (usedInBatch.has(r.record))
      rejected.push({ file, reason: "the authorisation code was already used (by another upload in this batch)" });
    else {
      usedInBatch.add(r.record);
      accepted.push(r);
      republished.push(...r.republished);
    }
  }

  let exportFile: string | null = null;
  const keys = accepted.flatMap((a) => a.keys);
  if (accepted.length) {
    // Sorted by key data (random bytes): one person's keys are not grouped or in upload order.
    keys.sort((a, b) => Buffer.compare(Buffer.from(a.keyData), Buffer.from(b.keyData)));
    const start = Math.min(o.now, ...accepted.map((a) => a.upload.timestamp));
    const zip = await buildExportZip(
      {
        startTimestamp: start,
        endTimestamp: o.now,
        region: o.region,
        batchNum: 1,
        batchSize: 1,
        signatureInfos: [],
        keys,
        revisedKeys: []
      },
      { key: o.signingKey, keyId: o.keyId, keyVersion: o.keyVersion }
    );
    const nothingChanged = "Nothing was published; fix this and run again.";
    writeStep("create", o.outDir, nothingChanged, () => fs.mkdirSync(o.outDir, { recursive: true }));
    exportFile = freeExportName(o.outDir, start, o.now);
    const out = path.join(o.outDir, exportFile);
    // Order matters for a failure: export, then index, then codes, then uploads.
    // A failure before the codes are saved can only publish the same keys twice
    // (readers drop repeats); after, a re-run recognises each upload by the
    // digest kept with its code and just moves it. No upload is ever lost.
    writeStep("write", out, nothingChanged, () => writeFileAtomic(out, zip));
    const index = path.join(o.outDir, "index.txt");
    const unlisted = `${out} is written but not listed; fix this and run again (the keys are published once more, and readers drop repeats).`;
    const before = writeStep("read", index, unlisted, () =>
      pathTaken(index) ? readTextBounded(index, MAX_EXPORT_BYTES, { what: "an index" }) : ""
    );
    writeStep("write", index, unlisted, () =>
      writeFileAtomic(index, Buffer.from(before + (before && !before.endsWith("\n") ? "\n" : "") + exportFile + "\n"))
    );
    saveUsedCodes(o, accepted);
  }
  const afterMove =
    "The keys are published and the codes marked used; fix this and run again to move the remaining uploads (each is recognised as already published).";
  for (const a of accepted) moveTo(publishedDir, o.uploadsDir, a.file, afterMove);
  for (const f of alreadyPublished) moveTo(publishedDir, o.uploadsDir, f, afterMove);
  for (const r of rejected) if (pathTaken(r.file)) moveTo(rejectedDir, o.uploadsDir, r.file, "Fix this and run again.", r.reason);
  return {
    exportFile,
    keys: keys.length,
    accepted: accepted.map((a) => ({ file: a.file, kioskId: a.upload.kioskId, keys: a.keys.length, dropped: a.dropped })),
    rejected,
    alreadyPublished,
    republished
  };
}
