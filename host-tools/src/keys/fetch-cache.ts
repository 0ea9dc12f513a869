import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { KeySourceError } from "./errors";
import { writeFileAtomic } from "../atomic-write";
import { MAX_EXPORT_BYTES } from "./export-file";
import { readFileBounded } from "../read-bounded";

const FETCH_TIMEOUT_MS = 30_000;
const MAX_REDIRECTS = 5;

/**
 * Fetches `url`, following redirects only within its own origin: the
 * publisher's server may move a file, but a redirect elsewhere would hand
 * the choice of key source (and, for an index, of every export) to another host.
 */
async function fetchSameOrigin(url: string): Promise<Response> {
  const origin = new URL(url).origin;
  let current = url;
  for (let hops = 0; ; hops++) {
    let res: Response;
    try {
      res = await fetch(current, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: "manual" });
    } catch (e) {
      const cause = (e as { cause?: Error }).cause;
      throw new KeySourceError(`cannot fetch ${url}: ${(e as Error).message}${cause ? ` (${cause.message})` : ""}`);
    }
    const location = res.status >= 300 && res.status < 400 ? res.headers.get("location") : null;
    if (location === null) return res;
    await res.body?.cancel().catch(() => undefined);
    const next = new URL(location, current);
    if (next.origin !== origin) {
      throw new KeySourceError(
        `cannot fetch ${url}: it redirects to another server (${next.origin}); give that URL directly if it is trusted`
      );
    }
    if (hops >= MAX_REDIRECTS) throw new KeySourceError(`cannot fetch ${url}: more than ${MAX_REDIRECTS} redirects`);
    current = next.toString();
  }
}

/** Downloads a URL into memory, refusing bodies over `limit` bytes, slow servers and redirects to other servers. */
export async function fetchBytes(url: string, limit = MAX_EXPORT_BYTES): Promise<Buffer> {
  const res = await fetchSameOrigin(url);
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw new KeySourceError(`cannot fetch ${url}: HTTP ${res.status} ${res.statusText}`);
  }
  const declared = Number(res.headers.get("content-length"));
  if (declared > limit) {
    await res.body?.cancel().catch(() => undefined);
    throw new KeySourceError(`${url} is ${declared} bytes, over the ${limit}-byte limit`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    if (res.body) {
      for await (const chunk of res.body) {
        total += chunk.length;
        if (total > limit) throw new KeySourceError(`${url} is over the ${limit}-byte limit`);
        chunks.push(Buffer.from(chunk));
      }
    }
  } catch (e) {
    if (e instanceof KeySourceError) throw e;
    throw new KeySourceError(`cannot fetch ${url}: ${(e as Error).message}`);
  }
  return Buffer.concat(chunks);
}

/**
 * Export files are immutable once published (their names carry their time
 * window), so a copy fetched once is kept by URL and never fetched again.
 * Index files change, so they are never cached.
 */
export class ExportCache {
  constructor(readonly dir: string) {}

  private fileFor(url: string): string {
    return path.join(this.dir, crypto.createHash("sha256").update(url).digest("hex") + ".export");
  }

  /** The cached copy, or null when there is none or it cannot be read (then it is fetched again). */
  get(url: string): Buffer | null {
    try {
      return readFileBounded(this.fileFor(url), MAX_EXPORT_BYTES);
    } catch {
      return null;
    }
  }

  /** Forgets the copy of `url` (one that no longer parses or verifies). */
  drop(url: string): void {
    try {
      fs.rmSync(this.fileFor(url), { force: true });
    } catch (e) {
      throw new KeySourceError(`cannot remove a bad copy from the key cache ${this.dir}: ${(e as Error).message}`);
    }
  }

  put(url: string, data: Uint8Array): void {
    try {
      fs.mkdirSync(this.dir, { recursive: true });
      writeFileAtomic(this.fileFor(url), data);
    } catch (e) {
      throw new KeySourceError(`cannot write the key cache ${this.dir}: ${(e as Error).message}`);
    }
  }
}
