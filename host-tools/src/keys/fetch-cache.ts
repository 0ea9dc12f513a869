import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { KeySourceError } from "./errors";
import { MAX_EXPORT_BYTES, writeFileAtomic } from "./export-file";

const FETCH_TIMEOUT_MS = 30_000;

/** Downloads a URL into memory, refusing bodies over `limit` bytes and slow servers. */
export async function fetchBytes(url: string, limit = MAX_EXPORT_BYTES): Promise<Buffer> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: "follow" });
  } catch (e) {
    const cause = (e as { cause?: Error }).cause;
    throw new KeySourceError(`cannot fetch ${url}: ${(e as Error).message}${cause ? ` (${cause.message})` : ""}`);
  }
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

  get(url: string): Buffer | null {
    try {
      return fs.readFileSync(this.fileFor(url));
    } catch {
      return null;
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
