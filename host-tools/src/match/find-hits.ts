import * as path from "node:path";
import { Worker } from "node:worker_threads";
import type { ChunkRequest, ChunkResult, WorkerInit } from "./match-worker";
import { PackedKeys } from "./packed-keys";
import { PaddedDataCache, scanKeys } from "./scan-keys";
import { SightingIndex } from "./sighting-index";

/**
 * Runs the hot loop over all keys, in this thread or split across worker
 * threads, and returns the hits in one canonical order (key, sighting,
 * interval) so the result does not depend on how the work was split.
 */

export interface MatchHit {
  keyIndex: number;
  enin: number;
  sightingIndex: number;
}

export interface FindHitsOptions {
  /** 1 = this thread; more = that many worker threads. */
  workers?: number;
  /** Called as keys are done (done ≤ total). */
  onProgress?: (done: number, total: number) => void;
  /** Keys a work unit; small enough for smooth progress and load balance. */
  chunkKeys?: number;
  /** With workers, whether this thread scans keys too (default true; tests turn it off to make the workers do all of it). */
  useThisThread?: boolean;
}

export interface FindHitsResult {
  hits: MatchHit[];
  /** Keys actually derived (keys with no sighting in reach are skipped). */
  derived: number;
  /** Keys scanned on worker threads (the rest on this one). */
  workerKeys: number;
}

const DEFAULT_CHUNK = 4096;

function toHits(flat: ArrayLike<number>, into: MatchHit[]): void {
  for (let i = 0; i + 2 < flat.length; i += 3) into.push({ keyIndex: flat[i], enin: flat[i + 1], sightingIndex: flat[i + 2] });
}

function sortHits(hits: MatchHit[]): MatchHit[] {
  return hits.sort((a, b) => a.keyIndex - b.keyIndex || a.sightingIndex - b.sightingIndex || a.enin - b.enin);
}

/**
 * Keeps one hit a sighting, in the canonical order. A sighting is one hearing
 * of one identifier: two hits on it (two keys, or two intervals of one key,
 * whose RPIs share the stored prefix) would count its exposure twice. The hit
 * kept is the one whose RPI interval is nearest the sighting's own (`eninOf`),
 * then the lowest key index.
 */
export function oneHitPerSighting(hits: readonly MatchHit[], eninOf: ArrayLike<number>): { hits: MatchHit[]; sightingsHitTwice: number } {
  const best = new Map<number, MatchHit>();
  const twice = new Set<number>();
  for (const h of hits) {
    const b = best.get(h.sightingIndex);
    if (b === undefined) {
      best.set(h.sightingIndex, h);
      continue;
    }
    twice.add(h.sightingIndex);
    const own = eninOf[h.sightingIndex];
    const d = Math.abs(h.enin - own) - Math.abs(b.enin - own);
    if (d < 0 || (d === 0 && h.keyIndex < b.keyIndex)) best.set(h.sightingIndex, h);
  }
  if (best.size === hits.length) return { hits: [...hits], sightingsHitTwice: 0 };
  const kept = new Set(best.values());
  return { hits: hits.filter((h) => kept.has(h)), sightingsHitTwice: twice.size };
}

export async function findHits(keys: PackedKeys, index: SightingIndex, opts: FindHitsOptions = {}): Promise<FindHitsResult> {
  const workers = Math.max(1, Math.floor(opts.workers ?? 1));
  const chunk = Math.max(1, opts.chunkKeys ?? DEFAULT_CHUNK);
  if (workers === 1 || keys.count <= chunk) return findHitsHere(keys, index, chunk, opts.onProgress);
  return findHitsInWorkers(keys, index, workers, chunk, opts.useThisThread ?? true, opts.onProgress);
}

function findHitsHere(keys: PackedKeys, index: SightingIndex, chunk: number, onProgress?: (d: number, t: number) => void): FindHitsResult {
  const flat: number[] = [];
  const padded = new PaddedDataCache();
  let derived = 0;
  for (let from = 0; from < keys.count; from += chunk) {
    const to = Math.min(keys.count, from + chunk);
    derived += scanKeys(keys, index, from, to, flat, padded);
    onProgress?.(to, keys.count);
  }
  const hits: MatchHit[] = [];
  toHits(flat, hits);
  return { hits: sortHits(hits), derived, workerKeys: 0 };
}

let workerSource: string | null = null;

/**
 * Under ts-node the worker is a .ts source, which a fresh thread cannot load by
 * itself. Registering ts-node in every worker costs about half a second of CPU
 * (it loads the TypeScript compiler), so the worker and its few imports are
 * bundled once per process with esbuild (already our firmware bundler) and
 * each thread evaluates that. Compiled to .js, the worker file runs directly.
 */
function spawnWorker(init: WorkerInit): Worker {
  const file = path.join(__dirname, "match-worker" + path.extname(__filename));
  if (!file.endsWith(".ts")) return new Worker(file, { workerData: init });
  if (workerSource === null) {
    const esbuild = require("esbuild") as typeof import("esbuild"); // eslint-disable-line @typescript-eslint/no-require-imports
    // An IIFE keeps the bundle's top-level names (e.g. `crypto`) off the worker's globals.
    const out = esbuild.buildSync({
      entryPoints: [file],
      bundle: true,
      platform: "node",
      format: "iife",
      target: "node20",
      write: false,
      logLevel: "silent"
    });
    workerSource = out.outputFiles[0].text;
  }
  return new Worker(workerSource, { eval: true, workerData: init });
}

/**
 * `threads` − 1 worker threads plus this one. This thread takes chunks too: it
 * covers the workers' start-up (a fresh thread must load its code) and, as one
 * of the `threads`, keeps the count equal to the cores used. Between its chunks
 * it yields so worker results and progress get through.
 */
async function findHitsInWorkers(
  keys: PackedKeys,
  index: SightingIndex,
  threads: number,
  chunk: number,
  useThisThread: boolean,
  onProgress?: (d: number, t: number) => void
): Promise<FindHitsResult> {
  // Keys are shared memory, so each worker reads them in place; the index is small and copied once.
  const init: WorkerInit = { index, keys: keys.data.buffer instanceof SharedArrayBuffer ? keys : sharedCopy(keys) };
  const flat: number[] = [];
  const hits: MatchHit[] = [];
  let derived = 0;
  let nextFrom = 0;
  let done = 0;
  let workerKeys = 0;
  let inFlight = 0;
  let failure: Error | null = null;
  let finished = false;
  let wake: (() => void) | null = null;
  const poke = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  const take = (): ChunkRequest | null => {
    if (nextFrom >= keys.count) return null;
    const req = { from: nextFrom, to: Math.min(keys.count, nextFrom + chunk) };
    nextFrom = req.to;
    return req;
  };
  const progress = (n: number): void => {
    done += n;
    onProgress?.(done, keys.count);
  };
  const feed = (w: Worker): void => {
    const req = take();
    if (!req) return;
    w.postMessage(req);
    inFlight++;
  };
  const pool: Worker[] = [];
  const spawnCount = Math.min(useThisThread ? threads - 1 : threads, Math.ceil(keys.count / chunk));
  for (let i = 0; i < spawnCount; i++) {
    const w = spawnWorker(init);
    pool.push(w);
    w.on("error", (e: Error) => {
      failure = failure ?? e;
      poke();
    });
    w.on("exit", (code) => {
      if (!finished && code !== 0) failure = failure ?? new Error(`a matching worker thread stopped with exit code ${code}`);
      poke();
    });
    w.on("message", (r: ChunkResult) => {
      inFlight--;
      toHits(r.hits, hits);
      derived += r.derived;
      workerKeys += r.to - r.from;
      progress(r.to - r.from);
      feed(w);
      poke();
    });
    // Two chunks in flight per worker hide the message round trip.
    feed(w);
    feed(w);
  }
  try {
    const padded = new PaddedDataCache();
    for (let req = useThisThread ? take() : null; req; req = take()) {
      derived += scanKeys(keys, index, req.from, req.to, flat, padded);
      progress(req.to - req.from);
      await new Promise<void>((res) => setImmediate(res));
      if (failure) throw failure;
    }
    while (inFlight > 0 && !failure) await new Promise<void>((res) => (wake = res));
    if (failure) throw failure;
  } finally {
    finished = true;
    await Promise.all(pool.map((w) => w.terminate()));
  }
  toHits(flat, hits);
  return { hits: sortHits(hits), derived, workerKeys };
}

function sharedCopy(keys: PackedKeys): PackedKeys {
  const data = new Uint8Array(new SharedArrayBuffer(keys.data.byteLength));
  const start = new Int32Array(new SharedArrayBuffer(keys.start.byteLength));
  const period = new Int32Array(new SharedArrayBuffer(keys.period.byteLength));
  data.set(keys.data);
  start.set(keys.start);
  period.set(keys.period);
  return { count: keys.count, data, start, period };
}
