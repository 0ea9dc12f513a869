import { parentPort, workerData } from "node:worker_threads";
import { PackedKeys } from "./packed-keys";
import { PaddedDataCache, scanKeys } from "./scan-keys";
import { SightingIndex } from "./sighting-index";

/**
 * Worker-thread side of parallel matching. It receives the sighting index and
 * the (shared) packed keys once, at start; after that each message is a range
 * of key indices to scan, answered with that range's hits.
 */

export interface WorkerInit {
  index: SightingIndex;
  keys: PackedKeys;
}

export interface ChunkRequest {
  from: number;
  to: number;
}

export interface ChunkResult {
  from: number;
  to: number;
  derived: number;
  hits: Int32Array;
}

const port = parentPort;
if (!port) throw new Error("match-worker.ts runs only as a worker thread");
const { index, keys } = workerData as WorkerInit;
const padded = new PaddedDataCache();
port.on("message", (req: ChunkRequest) => {
  const hits: number[] = [];
  const derived = scanKeys(keys, index, req.from, req.to, hits, padded);
  const result: ChunkResult = { from: req.from, to: req.to, derived, hits: Int32Array.from(hits) };
  port.postMessage(result, [result.hits.buffer as ArrayBuffer]);
});
