import type { KeyObject } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { ExportFile, MAX_EXPORT_BYTES, parseExportFile, readExportFile, verifyExportFile } from "./export-file";
import { readTextBounded } from "../read-bounded";
import { ExportCache, fetchBytes } from "./fetch-cache";
import { ExportFormatError, KeySourceError, NoKeysError, SignatureError } from "./errors";
import { parsePublicKey } from "./signing";
import { ExposureKey, ReportType } from "./types";
import { KeyMerger } from "./validate";
import { skippedKeyName } from "./export-codec";

/**
 * Where published keys come from, for matching. A spec is one of:
 * - a .zip or bare .bin export file (path or http(s) URL),
 * - a directory: every *.zip and *.bin in it (not sub-directories), by name,
 * - an index (any other path, or any URL not ending in .zip/.bin): one export
 *   path a line, relative to the index's own location (or an absolute URL);
 *   blank lines and lines starting with # are skipped.
 *
 * Files are read in order (index order, or name order in a directory: GAEN
 * names start with the window's start time, so that is oldest first). A key
 * is its key data: the same data seen again, whatever start it claims, is the
 * same key (one TEK yields one RPI per interval, so a second copy would only
 * count the same sightings again). It keeps its first appearance's fields
 * (an entry in `revised_keys` replaces them) and the widest valid window its
 * copies claim (KeyMerger). Keys whose report type is REVOKED (5), as
 * published or as revised, are left out: nothing revoked ever reaches matching.
 */

export interface KeySourceOptions {
  /** Fetched export files are kept here by URL and not fetched again. */
  cacheDir?: string;
  /** PEM of the publisher's public key: if given, every export must verify with it. */
  publicKeyPem?: string;
}

export interface LoadedKeys {
  keys: ExposureKey[];
  /** Every export read, in order (paths or URLs). */
  files: string[];
  /** Keys dropped because they were revoked. */
  revoked: number;
  /** Keys read from the exports, copies and revoked ones included. */
  entries: number;
  /** Copies of a key already seen (same key data, any start interval), merged into it. */
  duplicates: number;
  /** Merged keys whose window grew beyond their first copy's (copies that claimed other starts). */
  widened: number;
  /** Merged keys whose copies' windows spanned more than 144 intervals, cut to 144. */
  clipped: number;
  /** The latest end_timestamp of the exports read (unix seconds), or null if none was read. */
  newestExportEnd: number | null;
  /** Exports taken from the cache instead of the network. */
  fromCache: number;
  /** Keys the exports carry that are invalid (keyProblem) and were skipped; not counted in `entries`. */
  invalidKeysSkipped: number;
  /** Per export with invalid keys: how many, and the first one's problem, to say where they are. */
  invalidKeys: InvalidKeysInFile[];
}

export interface InvalidKeysInFile {
  file: string;
  count: number;
  /** The first skipped key and what is wrong with it, e.g. "key 3: key_data is 15 bytes, expected 16". */
  first: string;
}

const EXPORT_EXT = /\.(zip|bin)$/i;

function isUrl(s: string): boolean {
  return /^https?:\/\//i.test(s);
}

function urlPath(u: string): string {
  try {
    return new URL(u).pathname;
  } catch {
    throw new KeySourceError(`"${u}" is not a valid URL`);
  }
}

function parseIndex(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
}

interface Loader {
  cache: ExportCache | null;
  fromCache: number;
}

/** Throws a SignatureError naming `name` unless `file` verifies with `publicKey` (when one is given). */
function checkSignature(file: ExportFile, name: string, publicKey: KeyObject | null): void {
  if (!publicKey) return;
  const v = verifyExportFile(file, publicKey);
  if (!v.valid) throw new SignatureError(`${name}: ${v.reason}`);
}

/** Whether a cached copy still parses and verifies; a copy that does not is not trusted again. */
async function cachedExport(url: string, data: Buffer, publicKey: KeyObject | null): Promise<ExportFile | null> {
  try {
    const file = await parseExportFile(data, url);
    checkSignature(file, url, publicKey);
    return file;
  } catch (e) {
    if (e instanceof ExportFormatError || e instanceof SignatureError) return null;
    throw e;
  }
}

async function loadUrlExport(url: string, l: Loader, publicKey: KeyObject | null): Promise<ExportFile> {
  const cached = l.cache?.get(url);
  if (cached) {
    const file = await cachedExport(url, cached, publicKey);
    if (file) {
      l.fromCache++;
      return file;
    }
    // A copy cached before a key was given, or tampered with on disk: fetch afresh.
    l.cache?.drop(url);
  }
  const data = await fetchBytes(url);
  const file = await parseExportFile(data, url);
  checkSignature(file, url, publicKey);
  // Cached only once it parsed and verified: a broken or forged download is never kept.
  l.cache?.put(url, data);
  return file;
}

/** Whether a directory entry named like an export is a file; one that cannot be read (a dangling link) fails the load. */
function isExportFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch (e) {
    throw new KeySourceError(`${file} cannot be read (${(e as Error).message}); remove it or fix it so no published keys are skipped`);
  }
}

/** Lists the exports a spec stands for, as paths or URLs. */
async function expand(spec: string): Promise<string[]> {
  if (isUrl(spec)) {
    if (EXPORT_EXT.test(urlPath(spec))) return [spec];
    const text = (await fetchBytes(spec)).toString("utf8");
    return parseIndex(text).map((entry) => {
      try {
        return new URL(entry, spec).toString();
      } catch {
        throw new KeySourceError(`${spec}: index line "${entry}" is not a usable path`);
      }
    });
  }
  let stat: fs.Stats;
  try {
    stat = fs.statSync(spec);
  } catch (e) {
    throw new KeySourceError(`key source ${spec} cannot be read: ${(e as Error).message}`);
  }
  if (stat.isDirectory()) {
    return fs
      .readdirSync(spec)
      .filter((f) => EXPORT_EXT.test(f) && isExportFile(path.join(spec, f)))
      .sort()
      .map((f) => path.join(spec, f));
  }
  if (EXPORT_EXT.test(spec)) return [spec];
  let text: string;
  try {
    // The same bound as a fetched index: a path could be /dev/zero or a FIFO that never ends.
    text = readTextBounded(spec, MAX_EXPORT_BYTES, { what: "an index" });
  } catch (e) {
    throw new KeySourceError(`index ${spec} cannot be read: ${(e as Error).message}`);
  }
  const base = path.dirname(spec);
  return parseIndex(text).map((entry) => (isUrl(entry) || path.isAbsolute(entry) ? entry : path.join(base, entry)));
}

export async function loadKeySourceDetailed(spec: string, opts: KeySourceOptions = {}): Promise<LoadedKeys> {
  const loader: Loader = { cache: opts.cacheDir ? new ExportCache(opts.cacheDir) : null, fromCache: 0 };
  const publicKey = opts.publicKeyPem !== undefined ? parsePublicKey(opts.publicKeyPem) : null;
  const files = await expand(spec);
  const merger = new KeyMerger();
  const invalidKeys: InvalidKeysInFile[] = [];
  let entries = 0;
  let newestExportEnd: number | null = null;
  for (const f of files) {
    let file: ExportFile;
    if (isUrl(f)) file = await loadUrlExport(f, loader, publicKey);
    else {
      file = await readExportFile(f);
      checkSignature(file, f, publicKey);
    }
    for (const k of file.export.keys) merger.add(k);
    for (const k of file.export.revisedKeys) merger.add(k, true);
    entries += file.export.keys.length + file.export.revisedKeys.length;
    if (file.skipped.length) {
      const first = file.skipped[0];
      invalidKeys.push({ file: f, count: file.skipped.length, first: `${skippedKeyName(first)}: ${first.problem}` });
    }
    newestExportEnd = Math.max(newestExportEnd ?? -Infinity, file.export.endTimestamp);
  }
  const merged = merger.result();
  const keys: ExposureKey[] = [];
  let revoked = 0;
  for (const k of merged.keys) {
    if (k.reportType === ReportType.Revoked) revoked++;
    else keys.push(k);
  }
  return {
    keys,
    files,
    revoked,
    entries,
    duplicates: merged.duplicates,
    widened: merged.widened,
    clipped: merged.clipped,
    newestExportEnd,
    fromCache: loader.fromCache,
    invalidKeysSkipped: invalidKeys.reduce((n, x) => n + x.count, 0),
    invalidKeys
  };
}

/** The published keys of a source, revoked keys left out (see the module comment). */
export async function loadKeySource(spec: string, opts: KeySourceOptions = {}): Promise<ExposureKey[]> {
  return (await loadKeySourceDetailed(spec, opts)).keys;
}

/**
 * Refuses a source that gave nothing to match against: matching it would
 * print "no risk" when not one published key was checked. The message says
 * which of the three ways it happened and what to do, for the person at the kiosk.
 */
export function requireKeysToCheck(loaded: LoadedKeys, spec: string): void {
  if (loaded.keys.length > 0) return;
  const what =
    loaded.files.length === 0
      ? `the key source ${spec} lists no export files (an empty directory or an empty index)`
      : loaded.entries === 0
        ? loaded.invalidKeysSkipped
          ? `every one of the ${loaded.invalidKeysSkipped} key(s) in the ${loaded.files.length} export file(s) of ${spec} is invalid (${invalidKeysWhere(loaded)})`
          : `the ${loaded.files.length} export file(s) of ${spec} hold no keys`
        : `all ${loaded.revoked} key(s) of ${spec} were withdrawn (revoked)`;
  throw new NoKeysError(
    `no published keys were checked: ${what}. This is not a "no risk" result. ` +
      "Check that the kiosk uses the right key source and has downloaded the published keys, then match again; " +
      "if nobody has been reported ill yet, there is nothing to match against."
  );
}

/** Where the invalid keys of a source are, for a message: the first few files with their first problem. */
export function invalidKeysWhere(loaded: LoadedKeys): string {
  if (loaded.invalidKeys.length === 1) return `first ${loaded.invalidKeys[0].first}`;
  const shown = loaded.invalidKeys.slice(0, 3).map((x) => `${x.count} in ${x.file}, first ${x.first}`);
  if (loaded.invalidKeys.length > shown.length) shown.push(`and in ${loaded.invalidKeys.length - shown.length} more file(s)`);
  return shown.join("; ");
}

/**
 * A warning when a source carried invalid keys, or null. They are skipped,
 * not refused: each export's signature covers its invalid keys too, so
 * skipping them alters nothing the publisher vouched for, while refusing the
 * file would leave every good key in it unchecked. A skipped key's window or
 * report type is unknown, so a sighting of it is not counted: the warning
 * says the level leaves them out, and who can fix it.
 */
export function invalidKeysWarning(loaded: LoadedKeys): string | null {
  if (!loaded.invalidKeysSkipped) return null;
  const files = loaded.invalidKeys.length === 1 ? loaded.invalidKeys[0].file : `${loaded.invalidKeys.length} export files`;
  return (
    `WARNING: ${loaded.invalidKeysSkipped} published key(s) in ${files} were invalid and skipped (${invalidKeysWhere(loaded)}). ` +
    "The other keys were checked; any exposure to the skipped ones is not in the level. Tell the publisher, whose exports should hold only valid keys."
  );
}

export interface KeySourceFreshness {
  /** The latest end_timestamp of the exports read, or null if none was read. */
  newestExportEnd: number | null;
  ageSeconds: number | null;
  maxAgeSeconds: number;
  /** Older than maxAgeSeconds (or no export at all). */
  stale: boolean;
  /** One line a care worker can act on, when stale. */
  warning: string | null;
}

const DAY_SECONDS = 86400;

/** A date for people; an export's timestamp is whatever its publisher wrote, so one too large for a Date stays a number. */
function isoOrRaw(t: number): string {
  const d = new Date(t * 1000);
  return Number.isNaN(d.getTime()) ? `unix time ${t}` : d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * How old the newest export of a source is at `now`. A publisher writes an
 * export only when it has keys, so an old source may just mean nobody was
 * reported ill since; the warning says so rather than refusing, and says what
 * to check otherwise.
 */
export function keySourceFreshness(loaded: LoadedKeys, spec: string, now: number, maxAgeSeconds: number): KeySourceFreshness {
  const newest = loaded.newestExportEnd;
  const age = newest === null ? null : Math.max(0, now - newest);
  const stale = age === null || age > maxAgeSeconds;
  let warning: string | null = null;
  if (stale) {
    const days = (s: number): string => `${Number((s / DAY_SECONDS).toFixed(1))} day(s)`;
    const what =
      newest === null || age === null
        ? `the key source ${spec} has no export at all`
        : `the newest published keys in ${spec} are from ${isoOrRaw(newest)}, ${days(age)} ago (more than ${days(maxAgeSeconds)})`;
    warning =
      `WARNING: ${what}. Anyone reported ill since then was not checked, so the risk may be higher than shown. ` +
      "If nobody has been reported ill since, this is expected; otherwise check that the kiosk can download new keys, then match again.";
  }
  return { newestExportEnd: newest, ageSeconds: age, maxAgeSeconds, stale, warning };
}
