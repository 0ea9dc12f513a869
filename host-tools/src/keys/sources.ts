import type { KeyObject } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { ExportFile, parseExportFile, readExportFile, verifyExportFile } from "./export-file";
import { ExportCache, fetchBytes } from "./fetch-cache";
import { ExportFormatError, KeySourceError, SignatureError } from "./errors";
import { parsePublicKey } from "./signing";
import { ExposureKey, ReportType } from "./types";

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
 * seen again keeps its first appearance; an entry in `revised_keys` replaces
 * it. Keys whose report type is REVOKED (5), as published or as revised, are
 * left out: nothing revoked ever reaches matching.
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
  /** Repeats of a key already seen (same key data and start interval). */
  duplicates: number;
  /** Exports taken from the cache instead of the network. */
  fromCache: number;
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
    text = fs.readFileSync(spec, "utf8");
  } catch (e) {
    throw new KeySourceError(`index ${spec} cannot be read: ${(e as Error).message}`);
  }
  const base = path.dirname(spec);
  return parseIndex(text).map((entry) => (isUrl(entry) || path.isAbsolute(entry) ? entry : path.join(base, entry)));
}

function keyId(k: ExposureKey): string {
  return `${Buffer.from(k.keyData).toString("hex")}:${k.rollingStartIntervalNumber}`;
}

export async function loadKeySourceDetailed(spec: string, opts: KeySourceOptions = {}): Promise<LoadedKeys> {
  const loader: Loader = { cache: opts.cacheDir ? new ExportCache(opts.cacheDir) : null, fromCache: 0 };
  const publicKey = opts.publicKeyPem !== undefined ? parsePublicKey(opts.publicKeyPem) : null;
  const files = await expand(spec);
  const byId = new Map<string, ExposureKey>();
  let duplicates = 0;
  for (const f of files) {
    let file: ExportFile;
    if (isUrl(f)) file = await loadUrlExport(f, loader, publicKey);
    else {
      file = await readExportFile(f);
      checkSignature(file, f, publicKey);
    }
    for (const k of file.export.keys) {
      const id = keyId(k);
      if (byId.has(id)) duplicates++;
      else byId.set(id, k);
    }
    for (const k of file.export.revisedKeys) byId.set(keyId(k), k);
  }
  const keys: ExposureKey[] = [];
  let revoked = 0;
  for (const k of byId.values()) {
    if (k.reportType === ReportType.Revoked) revoked++;
    else keys.push(k);
  }
  return { keys, files, revoked, duplicates, fromCache: loader.fromCache };
}

/** The published keys of a source, revoked keys left out (see the module comment). */
export async function loadKeySource(spec: string, opts: KeySourceOptions = {}): Promise<ExposureKey[]> {
  return (await loadKeySourceDetailed(spec, opts)).keys;
}
