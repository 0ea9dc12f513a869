import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { PrivateTracerError } from "../errors";
import { ExposureKey, ReportType } from "../keys/types";
import { keyProblem, MAX_ROLLING_PERIOD, MAX_ROLLING_START, mergeKeyCopies } from "../keys/validate";
import { deriveRpik, deriveRpis } from "./derive";
import type { MatchHit } from "./find-hits";
import { PackedKeys, packKeys } from "./packed-keys";
import { PaddedDataCache } from "./scan-keys";
import { anySightingIn, buildSightingIndex, first4, MATCH_TOLERANCE_INTERVALS, SightingIndex } from "./sighting-index";
import { RPI_BYTES, Sighting } from "./sightings";

/**
 * An on-disk index of the RPIs of one published key batch, so that matching a
 * token's 14-day history at each sync is ~10,000 lookups instead of deriving
 * 144 RPIs for each of up to a million keys. RPIs are public (anyone with the
 * keys can derive them), so the index holds nothing secret.
 *
 * What is indexed. The keys matchExposures would match: keyProblem failures
 * dropped, copies of one key data merged (mergeKeyCopies), revoked keys left
 * out, in that order; a key's number is its position in that list, the
 * `keyIndex` a MatchReport gives. For key k and each interval k.start + off of
 * its rolling period, one 4-byte entry.
 *
 * Lookup value. `u`, the RPI's first 4 bytes read as first4 reads them (every
 * stored prefix has at least 5 bytes, so every sighting has them). RPIs are
 * AES output, so any of u's bits is as good as any other; the top B bits pick
 * a bucket and the next F bits are a fingerprint.
 *
 * Entry. `r << F | fingerprint` as a uint32, with r = k × 144 + off (stride
 * 144 whatever the key's period, so k and off come back by one division). F is
 * what r leaves of 32 bits: 4 at a million keys, more for smaller batches, 0
 * at 29.8 million keys, the most one index holds. The interval is kept because
 * it is the sharpest filter there is: only entries within ±12 intervals of the
 * sighting go on, about 25 of the ~2,000 intervals of 14 days.
 *
 * Buckets. Entries sorted by bucket (stable: within one, in key order), and a
 * directory of 2^B + 1 uint32 bucket starts. B is chosen so a bucket holds 16
 * to 32 entries on average (B = 23 at a million keys: 32 MiB of directory);
 * one more bit would double the directory to save nothing that matters, since
 * a lookup reads a whole bucket in one go either way.
 *
 * So the index confirms B + F bits of the sighting's first 4 bytes (27 at a
 * million keys) and the interval; each candidate left then has its RPI
 * derived (one HKDF and one AES block) and compared on every byte the
 * sighting stored, as the derive path does. At a million keys spread over 14
 * days about one stranger in 75 costs that check (a few milliseconds a sync);
 * a true sighting always does.
 *
 * Size per key: 144 × 4 bytes of entries, 26 bytes of key (data, start,
 * period, report type and the other optional fields), and the directory, 16
 * to 32 bytes: about 636 bytes a key, 636 MB for a million.
 *
 * File (little-endian; the index is one immutable file per batch, written to a
 * temporary file, flushed and renamed, so a reader sees the old file or the
 * new one):
 *   0   magic "PTRPIIDX"          8  u32 version (1)       12 u32 header bytes (128)
 *   16  u32 live keys N           20 u32 entries E         24 u32 overflow records
 *   28  u8 B   29 u8 F   30 u16 stride (144)
 *   32  f64 keys given   40 f64 distinct keys   48 f64 duplicates merged   56 f64 invalid keys
 *   64  zero   96  SHA-256 of bytes 0–95 and of everything after the header
 *   128 key data 16·N | key starts i32·N | key meta 6·N (period, field states,
 *       report type, transmission risk, days since onset, variant: int8 each) |
 *       overflow 16·O (key u32, field u8, 3 zero, value f64: a field that is
 *       not a small integer) | entries u32·E | directory u32·(2^B + 1)
 * (the directory last because it is known only once the entries are placed,
 * so the file is written front to back, hashed as it goes).
 * The metadata keeps which optional fields a key has, so a key comes back
 * deep-equal to what matchExposures reports (with keyData a Uint8Array, as the
 * export readers make it).
 *
 * Building (buildRpiIndex). Every thread derives chunks of keys (RPIK by
 * HMAC, then one AES-ECB call per key, as the derive path) and writes each
 * chunk's (entry, tag) pairs, sorted by partition (the top 10 bucket bits), to
 * its own temporary run file. This thread then places the entries a group of
 * partitions at a time (placeEntries), writing the index front to back. Peak
 * memory is one group's pairs (at most `passBytes`, 256 MiB; 144 MB at a
 * million keys) plus the directory and the keys, instead of the 1.2 GB that
 * holding every pair would take; the price is temporary files of 8 bytes an
 * RPI (1.15 GB at a million keys), in `tempDir` (default: next to the index),
 * removed at the end. The output depends only on the keys, not on the threads
 * or the pass size.
 *
 * Opening (openRpiIndex). The whole file is read once to check its SHA-256 (a
 * damaged index would miss exposures without a sound): about half a second
 * for 636 MB from the page cache, longer from a cold SD card. Kept in memory:
 * the keys (26 bytes each) and the directory, about 58 MB at a million keys.
 * The entries stay on disk and each lookup reads one bucket with a positional
 * read (Node has no mmap), which the page cache serves after the first syncs;
 * 10,000 sightings are 10,000 reads of ~70 bytes. The descriptor stays open
 * until close(), so a newer batch renamed over the file does not disturb an
 * index in use.
 */

export const RPI_INDEX_VERSION = 1;
const MAGIC = Buffer.from("PTRPIIDX", "ascii");
const HEADER_BYTES = 128;
const DIGEST_AT = 96;
/** r = key × STRIDE + offset: one division gets both back, for any period up to GAEN's maximum. */
const STRIDE = MAX_ROLLING_PERIOD;
const KEY_DATA_BYTES = 16;
const KEY_META_BYTES = 6;
const OVERFLOW_BYTES = 16;
/** r must fit in 32 bits: the most keys one index holds. */
export const MAX_INDEX_KEYS = Math.floor(2 ** 32 / STRIDE);
const MAX_BUCKET_BITS = 28;
/** Big enough that placing reads few, large pieces of the runs; small enough to spread over the cores. */
const DEFAULT_CHUNK_KEYS = 8192;
const DEFAULT_PASS_BYTES = 256 * 1024 * 1024;
const HASH_BLOCK = 8 * 1024 * 1024;
/** Intervals (about 19 years) up to which keysInReach tabulates the sightings instead of searching them. */
const MAX_REACH_SPAN = 1 << 20;
/** Sightings one lookup takes: ten times what a 256 MiB sightings file can hold. */
const SIGHTING_SPAN = 2 ** 25;

/** The optional ExposureKey fields, in the order of their 2-bit states and int8 columns in the key meta. */
const OPTIONAL_FIELDS = ["reportType", "transmissionRiskLevel", "daysSinceOnsetOfSymptoms", "variantOfConcern"] as const;
type OptionalField = (typeof OPTIONAL_FIELDS)[number];
/** Each optional field's 2-bit state in a key's meta: whether it is there at all matters to a deep-equal report. */
const FieldState = { Absent: 0, Undefined: 1, Inline: 2, Overflow: 3 } as const;
type FieldState = (typeof FieldState)[keyof typeof FieldState];

/**
 * An index file that cannot be used: missing, not an index, another format
 * version, truncated or damaged. The index stands in for the key batch it was
 * built from: the message names the file and says to rebuild it from that batch.
 */
export class RpiIndexError extends PrivateTracerError {
  readonly code = "RPI_INDEX_UNUSABLE";
  readonly kind = "unusable";
  constructor(
    readonly file: string,
    readonly problem: "unreadable" | "not-an-index" | "version" | "truncated" | "damaged" | "too-many-keys" | "write-failed",
    detail: string
  ) {
    super(`RPI index ${file}: ${detail}`);
  }
}

export interface RpiIndexBuildOptions {
  /** Threads that derive, this one included (default: every core). */
  workers?: number;
  /** Called as keys are derived (done ≤ total). */
  onProgress?: (done: number, total: number) => void;
  /** Keys a work unit. */
  chunkKeys?: number;
  /** Bytes of (entry, tag) pairs placed at a time: the build's memory bound beyond the directory and keys (default 256 MiB). */
  passBytes?: number;
  /** Where the temporary run files go (default: the index's directory); 8 bytes an RPI. */
  tempDir?: string;
}

export interface RpiIndexStats {
  /** Keys given to the build, invalid ones and copies included. */
  givenKeys: number;
  /** Distinct key data among the valid keys, revoked ones included (MatchReport.keys). */
  keys: number;
  /** Keys indexed: distinct, valid, not revoked. */
  liveKeys: number;
  revokedKeys: number;
  duplicateKeysMerged: number;
  invalidKeysSkipped: number;
  /** RPIs indexed (the live keys' rolling periods summed). */
  entries: number;
  /** Size of the index file. */
  bytes: number;
}

interface Layout {
  liveKeys: number;
  entries: number;
  overflow: number;
  bucketBits: number;
  fpBits: number;
  keyData: number;
  keyStart: number;
  keyMeta: number;
  overflowAt: number;
  dir: number;
  entriesAt: number;
  size: number;
}

function layoutOf(liveKeys: number, entries: number, overflow: number, bucketBits: number, fpBits: number): Layout {
  const keyData = HEADER_BYTES;
  const keyStart = keyData + KEY_DATA_BYTES * liveKeys;
  const keyMeta = keyStart + 4 * liveKeys;
  const overflowAt = keyMeta + KEY_META_BYTES * liveKeys;
  const entriesAt = overflowAt + OVERFLOW_BYTES * overflow;
  const dir = entriesAt + 4 * entries;
  return {
    liveKeys,
    entries,
    overflow,
    bucketBits,
    fpBits,
    keyData,
    keyStart,
    keyMeta,
    overflowAt,
    dir,
    entriesAt,
    size: dir + 4 * (2 ** bucketBits + 1)
  };
}

function bitLength(n: number): number {
  return n <= 0 ? 0 : Math.floor(Math.log2(n)) + 1;
}

/** B and F for a batch (see the module comment). */
function bitsFor(liveKeys: number, entries: number): { bucketBits: number; fpBits: number } {
  const bucketBits = Math.min(MAX_BUCKET_BITS, Math.max(1, Math.floor(Math.log2(Math.max(entries, 1) / 16))));
  const rBits = Math.max(1, bitLength(liveKeys * STRIDE - 1));
  return { bucketBits, fpBits: Math.min(32 - rBits, 32 - bucketBits) };
}

function checkLittleEndian(): void {
  // Typed arrays are read and written in the host's byte order; the format is little-endian.
  if (os.endianness() !== "LE") throw new Error("the RPI index needs a little-endian host");
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function writeAllAt(fd: number, data: Uint8Array, position: number): void {
  for (let off = 0; off < data.length;) off += fs.writeSync(fd, data, off, data.length - off, position + off);
}

function readAllAt(fd: number, into: Uint8Array, position: number): number {
  let got = 0;
  while (got < into.length) {
    const n = fs.readSync(fd, into, got, into.length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

// ---------------------------------------------------------------------------
// Key records

interface EncodedKeys {
  meta: Buffer;
  overflow: Buffer;
  overflowCount: number;
}

function fieldState(v: unknown, has: boolean): FieldState {
  if (!has) return FieldState.Absent;
  if (v === undefined) return FieldState.Undefined;
  if (typeof v !== "number") throw new TypeError(`an optional key field must be a number, got ${typeof v}`);
  // -0 would come back as 0, which a deep-equal comparison tells apart.
  return Number.isInteger(v) && v >= -128 && v <= 127 && !Object.is(v, -0) ? FieldState.Inline : FieldState.Overflow;
}

function encodeKeys(keys: readonly ExposureKey[]): EncodedKeys {
  const meta = Buffer.alloc(KEY_META_BYTES * keys.length);
  const extra: Array<{ key: number; field: number; value: number }> = [];
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    const o = KEY_META_BYTES * i;
    meta[o] = k.rollingPeriod;
    let states = 0;
    OPTIONAL_FIELDS.forEach((name, f) => {
      const v: unknown = k[name];
      const st = fieldState(v, Object.prototype.hasOwnProperty.call(k, name));
      states |= st << (2 * f);
      if (st === FieldState.Inline) meta.writeInt8(v as number, o + 2 + f);
      else if (st === FieldState.Overflow) extra.push({ key: i, field: f, value: v as number });
    });
    meta[o + 1] = states;
  }
  const overflow = Buffer.alloc(OVERFLOW_BYTES * extra.length);
  extra.forEach((x, j) => {
    overflow.writeUInt32LE(x.key, OVERFLOW_BYTES * j);
    overflow[OVERFLOW_BYTES * j + 4] = x.field;
    overflow.writeDoubleLE(x.value, OVERFLOW_BYTES * j + 8);
  });
  return { meta, overflow, overflowCount: extra.length };
}

// ---------------------------------------------------------------------------
// Deriving (this thread and the workers)

/**
 * How a tag splits. tag = u >>> shift keeps the top B + F bits of the RPI's
 * first 4 bytes; tag >>> fpBits is the bucket; tag >>> partShift the
 * partition (1,024 at most); partition >>> groupShift the group.
 */
interface Split {
  shift: number;
  fpBits: number;
  partShift: number;
  partitions: number;
  groupShift: number;
}

interface DeriveJob extends Split {
  keys: PackedKeys;
  /** This thread's run file, by descriptor: worker threads share the process's descriptors. */
  fd: number;
}

interface BuildWorkerInit extends DeriveJob {
  kind: "rpi-index-build";
}

interface ChunkRequest {
  index: number;
  from: number;
  to: number;
}

/** Where a chunk's run went: its pairs sit at `offset` of the deriving thread's run file, partition after partition. */
interface ChunkRun {
  index: number;
  keys: number;
  offset: number;
  /** Entries per partition. */
  counts: Uint32Array;
}

interface WorkerFailure {
  failed: { message: string; code?: string; syscall?: string };
}

function isBuildInit(d: unknown): d is BuildWorkerInit {
  return typeof d === "object" && d !== null && (d as { kind?: unknown }).kind === "rpi-index-build";
}

/**
 * Derives chunks of keys into one thread's run file. A chunk's run is its
 * entries as (entry, tag) pairs sorted by partition, in key order within one,
 * so placing later reads a group's pairs in one go and copies each
 * partition's whole: the sorting happens here, on every core.
 */
class ChunkDeriver {
  private readonly padded = new PaddedDataCache();
  // node:crypto on a view of a SharedArrayBuffer takes a slow path (see scan-keys.ts).
  private readonly tek = Buffer.allocUnsafeSlow(16);
  private entries = new Uint32Array(0);
  private tags = new Uint32Array(0);
  private run = new Uint32Array(0);
  private end = 0;

  constructor(private readonly job: DeriveJob) {}

  derive(c: ChunkRequest): ChunkRun {
    const { keys, shift, fpBits, partShift } = this.job;
    const fpMask = fpBits === 0 ? 0 : (1 << fpBits) - 1;
    const counts = new Uint32Array(this.job.partitions);
    let total = 0;
    for (let k = c.from; k < c.to; k++) total += keys.period[k];
    if (this.entries.length < total) {
      this.entries = new Uint32Array(total);
      this.tags = new Uint32Array(total);
      this.run = new Uint32Array(2 * total);
    }
    const { entries, tags, run, tek } = this;
    const data = keys.data;
    let n = 0;
    for (let k = c.from; k < c.to; k++) {
      const start = keys.start[k];
      const period = keys.period[k];
      const base = k << 4;
      for (let b = 0; b < 16; b++) tek[b] = data[base + b];
      // When encrypting, update() emits every whole block; final() would only add padding.
      const out = crypto.createCipheriv("aes-128-ecb", deriveRpik(tek), null).update(this.padded.get(start, period));
      for (let i = 0; i < period; i++) {
        const t = (first4(out, i << 4) >>> 0) >>> shift;
        tags[n] = t;
        entries[n++] = ((k * STRIDE + i) << fpBits) | (t & fpMask);
        counts[t >>> partShift]++;
      }
    }
    const heads = new Float64Array(counts.length);
    for (let p = 1; p < counts.length; p++) heads[p] = heads[p - 1] + 2 * counts[p - 1];
    for (let j = 0; j < n; j++) {
      const p = tags[j] >>> partShift;
      const h = heads[p];
      heads[p] = h + 2;
      run[h] = entries[j];
      run[h + 1] = tags[j];
    }
    const offset = this.end;
    writeAllAt(this.job.fd, new Uint8Array(run.buffer, 0, 8 * n), offset);
    this.end += 8 * n;
    return { index: c.index, keys: c.to - c.from, offset, counts };
  }
}

if (!isMainThread && parentPort && isBuildInit(workerData)) {
  const port = parentPort;
  const deriver = new ChunkDeriver(workerData);
  port.on("message", (c: ChunkRequest) => {
    let r: ChunkRun;
    try {
      r = deriver.derive(c);
    } catch (e) {
      // A thrown error reaches the main thread without its code and syscall (a full disk would read as a bug).
      const x = e as NodeJS.ErrnoException;
      const failed: WorkerFailure = { failed: { message: x.message, code: x.code, syscall: x.syscall } };
      port.postMessage(failed);
      return;
    }
    port.postMessage(r, [r.counts.buffer as ArrayBuffer]);
  });
}

let workerSource: string | null = null;

/** As find-hits.ts: under ts-node this module is bundled once per process for the workers, which then run its worker branch above. */
function spawnWorker(init: BuildWorkerInit): Worker {
  if (!__filename.endsWith(".ts")) return new Worker(__filename, { workerData: init });
  if (workerSource === null) {
    const esbuild = require("esbuild") as typeof import("esbuild"); // eslint-disable-line @typescript-eslint/no-require-imports
    const out = esbuild.buildSync({
      entryPoints: [__filename],
      bundle: true,
      platform: "node",
      format: "iife",
      target: "node20",
      external: ["esbuild"],
      write: false,
      logLevel: "silent"
    });
    workerSource = out.outputFiles[0].text;
  }
  return new Worker(workerSource, { eval: true, workerData: init });
}

/** A derived chunk: its run and which thread's run file holds it. */
interface PlacedRun extends ChunkRun {
  file: number;
}

/**
 * Every chunk derived once, by `runFds.length` − 1 workers and this thread
 * (which yields between chunks so results get through); thread i writes to
 * runFds[i]. Returns the runs in chunk order, which is key order.
 */
async function deriveRuns(
  keys: PackedKeys,
  split: Split,
  runFds: number[],
  chunkKeys: number,
  onProgress?: (d: number, t: number) => void
): Promise<PlacedRun[]> {
  const chunks: ChunkRequest[] = [];
  for (let from = 0; from < keys.count; from += chunkKeys)
    chunks.push({ index: chunks.length, from, to: Math.min(keys.count, from + chunkKeys) });
  const runs: PlacedRun[] = new Array<PlacedRun>(chunks.length);
  let next = 0;
  let done = 0;
  let inFlight = 0;
  let failure: Error | null = null;
  let finished = false;
  let wake: (() => void) | null = null;
  const poke = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  const record = (r: ChunkRun, file: number): void => {
    runs[r.index] = { ...r, file };
    done += r.keys;
    onProgress?.(done, keys.count);
  };
  const feed = (w: Worker): void => {
    if (next >= chunks.length) return;
    w.postMessage(chunks[next++]);
    inFlight++;
  };
  const pool: Worker[] = [];
  const spawnCount = Math.min(runFds.length - 1, chunks.length - 1);
  for (let i = 0; i < spawnCount; i++) {
    const file = i + 1;
    const w = spawnWorker({ kind: "rpi-index-build", keys, ...split, fd: runFds[file] });
    pool.push(w);
    w.on("error", (e: Error) => {
      failure = failure ?? e;
      poke();
    });
    w.on("exit", (code) => {
      if (!finished && code !== 0) failure = failure ?? new Error(`an RPI index worker thread stopped with exit code ${code}`);
      poke();
    });
    w.on("message", (r: ChunkRun | WorkerFailure) => {
      inFlight--;
      if ("failed" in r) {
        const { message, code, syscall } = r.failed;
        failure = failure ?? Object.assign(new Error(message), syscall ? { code, syscall } : {});
        poke();
        return;
      }
      record(r, file);
      feed(w);
      poke();
    });
    // Two chunks in flight per worker hide the message round trip.
    feed(w);
    feed(w);
  }
  try {
    const here = new ChunkDeriver({ keys, ...split, fd: runFds[0] });
    while (next < chunks.length && !failure) {
      record(here.derive(chunks[next++]), 0);
      if (pool.length) await new Promise<void>((res) => setImmediate(res));
    }
    while (inFlight > 0 && !failure) await new Promise<void>((res) => (wake = res));
    if (failure) throw failure;
  } finally {
    finished = true;
    await Promise.all(pool.map((w) => w.terminate()));
  }
  return runs;
}

// ---------------------------------------------------------------------------
// Building

/** Writes sequentially from the header on, hashing what the digest covers. */
class IndexWriter {
  private pos = 0;
  private readonly hash = crypto.createHash("sha256");

  constructor(private readonly fd: number) {}

  header(h: Buffer): void {
    this.hash.update(h.subarray(0, DIGEST_AT));
    writeAllAt(this.fd, h, 0);
    this.pos = h.length;
  }

  write(b: Uint8Array): void {
    this.hash.update(b);
    writeAllAt(this.fd, b, this.pos);
    this.pos += b.length;
  }

  finish(): number {
    writeAllAt(this.fd, this.hash.digest(), DIGEST_AT);
    return this.pos;
  }
}

function headerFor(l: Layout, counts: { given: number; distinct: number; duplicates: number; invalid: number }): Buffer {
  const h = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(h, 0);
  h.writeUInt32LE(RPI_INDEX_VERSION, 8);
  h.writeUInt32LE(HEADER_BYTES, 12);
  h.writeUInt32LE(l.liveKeys, 16);
  h.writeUInt32LE(l.entries, 20);
  h.writeUInt32LE(l.overflow, 24);
  h[28] = l.bucketBits;
  h[29] = l.fpBits;
  h.writeUInt16LE(STRIDE, 30);
  h.writeDoubleLE(counts.given, 32);
  h.writeDoubleLE(counts.distinct, 40);
  h.writeDoubleLE(counts.duplicates, 48);
  h.writeDoubleLE(counts.invalid, 56);
  return h;
}

/**
 * Bits of the bucket number that pick a partition: small enough that a
 * chunk's 1,024 write heads stay in cache as a deriver sorts it, large enough
 * that a partition's scatter to its buckets does too.
 */
const PARTITION_BITS = 10;

/** The split for B and F, with groups small enough that one group's pairs (8 bytes each) fit `passBytes`. */
function splitFor(l: Layout, passBytes: number): Split {
  const partitionBits = Math.min(PARTITION_BITS, l.bucketBits);
  let groupBits = 0;
  while (groupBits < partitionBits && (8 * l.entries) / 2 ** groupBits > passBytes) groupBits++;
  return {
    shift: 32 - l.bucketBits - l.fpBits,
    fpBits: l.fpBits,
    partShift: l.bucketBits + l.fpBits - partitionBits,
    partitions: 2 ** partitionBits,
    groupShift: partitionBits - groupBits
  };
}

/**
 * Sorts the runs into bucket order, handing each partition's entries to
 * `write` in turn, and returns the directory. Scattering 144 million entries
 * straight to their buckets would be a cache and TLB miss each (a quarter of a
 * minute at a million keys), so it goes in steps whose writes stay in cache:
 * the derivers sorted each chunk by partition; here a group of partitions is
 * read chunk by chunk (one read each) and each partition's pairs copied to its
 * place in the group's staging, then each partition (~140,000 entries at a
 * million keys) is counted and scattered to its buckets on its own. Chunks
 * come in key order and every step is stable, so a bucket lists its entries
 * in key order. Each pair is read once; memory is one group's staging.
 */
function placeEntries(l: Layout, split: Split, runs: PlacedRun[], runFds: number[], write: (entries: Uint32Array) => void): Uint32Array {
  const { fpBits, partitions, groupShift } = split;
  const subBits = l.bucketBits - Math.log2(partitions);
  const subMask = 2 ** subBits - 1;
  const partStart = new Float64Array(partitions + 1);
  for (const r of runs) for (let p = 0; p < partitions; p++) partStart[p + 1] += r.counts[p];
  for (let p = 0; p < partitions; p++) partStart[p + 1] += partStart[p];
  const dir = new Uint32Array(2 ** l.bucketBits + 1);
  dir[dir.length - 1] = l.entries;
  const perGroup = 2 ** groupShift;
  let maxGroup = 0;
  for (let p0 = 0; p0 < partitions; p0 += perGroup) maxGroup = Math.max(maxGroup, partStart[p0 + perGroup] - partStart[p0]);
  const stage = new Uint32Array(2 * maxGroup);
  const heads = new Float64Array(partitions);
  const subCount = new Uint32Array(subMask + 2);
  let block = new Uint32Array(0);
  let out = new Uint32Array(0);
  for (let p0 = 0; p0 < partitions; p0 += perGroup) {
    const p1 = p0 + perGroup;
    for (let p = p0; p < p1; p++) heads[p] = 2 * (partStart[p] - partStart[p0]);
    for (const r of runs) {
      let before = 0;
      for (let p = 0; p < p0; p++) before += r.counts[p];
      let n = 0;
      for (let p = p0; p < p1; p++) n += r.counts[p];
      if (n === 0) continue;
      if (block.length < 2 * n) block = new Uint32Array(2 * n);
      const bytes = new Uint8Array(block.buffer, 0, 8 * n);
      if (readAllAt(runFds[r.file], bytes, r.offset + 8 * before) !== 8 * n)
        throw new Error("a temporary run file is shorter than written");
      for (let p = p0, at = 0; p < p1; p++) {
        const len = 2 * r.counts[p];
        stage.set(block.subarray(at, at + len), heads[p]);
        heads[p] += len;
        at += len;
      }
    }
    for (let p = p0; p < p1; p++) {
      const s0 = 2 * (partStart[p] - partStart[p0]);
      const n = partStart[p + 1] - partStart[p];
      const s1 = s0 + 2 * n;
      subCount.fill(0);
      for (let i = s0 + 1; i < s1; i += 2) subCount[((stage[i] >>> fpBits) & subMask) + 1]++;
      const firstBucket = p * (subMask + 1);
      for (let j = 0; j <= subMask; j++) {
        dir[firstBucket + j] = partStart[p] + subCount[j];
        subCount[j + 1] += subCount[j];
      }
      if (out.length < n) out = new Uint32Array(n);
      for (let i = s0; i < s1; i += 2) out[subCount[(stage[i + 1] >>> fpBits) & subMask]++] = stage[i];
      if (n > 0) write(out.subarray(0, n));
    }
  }
  return dir;
}

function tempName(file: string, what: string): string {
  return `${file}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.${what}.tmp`;
}

/**
 * Builds the index of `keys` (one published batch, as loaded) into `file`,
 * replacing it whole. Invalid, duplicate and revoked keys are handled as
 * matchExposures handles them; a batch with no live key still gets an index,
 * and matching against it is refused as matchExposures refuses it.
 */
export async function buildRpiIndex(keys: readonly ExposureKey[], file: string, opts: RpiIndexBuildOptions = {}): Promise<RpiIndexStats> {
  checkLittleEndian();
  const valid = keys.filter((k) => keyProblem(k) === null);
  const merged = mergeKeyCopies(valid);
  const live = merged.keys.filter((k) => k.reportType !== ReportType.Revoked);
  if (live.length > MAX_INDEX_KEYS)
    throw new RpiIndexError(
      file,
      "too-many-keys",
      `${live.length} keys are more than one index holds (${MAX_INDEX_KEYS}); index the batch in parts`
    );
  const threads = Math.max(1, Math.floor(opts.workers ?? os.availableParallelism()));
  const packed = packKeys(live, threads > 1);
  let entries = 0;
  for (let k = 0; k < packed.count; k++) entries += packed.period[k];
  const { bucketBits, fpBits } = bitsFor(live.length, entries);
  const enc = encodeKeys(live);
  const l = layoutOf(live.length, entries, enc.overflowCount, bucketBits, fpBits);
  const split = splitFor(l, Math.max(1, opts.passBytes ?? DEFAULT_PASS_BYTES));

  const temps: string[] = [];
  const fds: number[] = [];
  const create = (name: string, mode: number): number => {
    try {
      const fd = fs.openSync(name, "wx+", mode);
      // Only a file this call made is ours to remove.
      temps.push(name);
      fds.push(fd);
      return fd;
    } catch (e) {
      throw new RpiIndexError(
        file,
        "write-failed",
        `cannot create ${name} (${(e as Error).message}); check the directory exists and is writable`
      );
    }
  };
  try {
    const outFd = create(tempName(file, "index"), 0o644);
    const runBase = opts.tempDir === undefined ? file : path.join(opts.tempDir, path.basename(file));
    const runFds = Array.from({ length: threads }, (_, i) => create(tempName(runBase, `run${i}`), 0o600));
    const runs = await deriveRuns(packed, split, runFds, Math.max(1, opts.chunkKeys ?? DEFAULT_CHUNK_KEYS), opts.onProgress);
    const w = new IndexWriter(outFd);
    w.header(
      headerFor(l, { given: keys.length, distinct: merged.keys.length, duplicates: merged.duplicates, invalid: keys.length - valid.length })
    );
    w.write(bytesOf(packed.data));
    w.write(bytesOf(packed.start));
    w.write(enc.meta);
    w.write(enc.overflow);
    const dir = placeEntries(l, split, runs, runFds, (e) => w.write(bytesOf(e)));
    w.write(bytesOf(dir));
    const size = w.finish();
    if (size !== l.size) throw new Error(`wrote ${size} bytes of index, expected ${l.size}`);
    fs.fsyncSync(outFd);
    fs.renameSync(temps[0], file);
    return {
      givenKeys: keys.length,
      keys: merged.keys.length,
      liveKeys: live.length,
      revokedKeys: merged.keys.length - live.length,
      duplicateKeysMerged: merged.duplicates,
      invalidKeysSkipped: keys.length - valid.length,
      entries,
      bytes: l.size
    };
  } catch (e) {
    // node:fs errors (a full disk, no permission) say which call failed; anything else is not about the file.
    if (!(e instanceof Error) || !("syscall" in e) || e instanceof RpiIndexError) throw e;
    throw new RpiIndexError(
      file,
      "write-failed",
      `cannot be written (${e.message}); free some space or pick another directory, then build it again`
    );
  } finally {
    for (const fd of fds) fs.closeSync(fd);
    for (const t of temps) fs.rmSync(t, { force: true });
  }
}

// ---------------------------------------------------------------------------
// Reading

const REBUILD = "build it again from the key batch";

/** An index opened for lookups; close() when done with it. */
export class RpiIndex {
  private closed = false;
  private scratch = new Uint32Array(256);
  private readonly fpMask: number;
  private readonly shift: number;
  private readonly extra = new Map<number, number>();

  /** @internal use openRpiIndex */
  constructor(
    readonly file: string,
    private readonly fd: number,
    private readonly layout: Layout,
    readonly stats: RpiIndexStats,
    private readonly keyData: Uint8Array,
    private readonly keyStart: Int32Array,
    private readonly keyMeta: Uint8Array,
    overflow: Buffer,
    private readonly dir: Uint32Array
  ) {
    this.fpMask = layout.fpBits === 0 ? 0 : (1 << layout.fpBits) - 1;
    this.shift = 32 - layout.bucketBits - layout.fpBits;
    for (let j = 0; j < layout.overflow; j++)
      this.extra.set(
        overflow.readUInt32LE(OVERFLOW_BYTES * j) * 4 + overflow[OVERFLOW_BYTES * j + 4],
        overflow.readDoubleLE(OVERFLOW_BYTES * j + 8)
      );
  }

  get liveKeys(): number {
    return this.layout.liveKeys;
  }

  /** Key `i` of the indexed (live) keys, as matchExposures would report it. */
  key(i: number): ExposureKey {
    if (!(Number.isInteger(i) && i >= 0 && i < this.layout.liveKeys))
      throw new RangeError(`key ${i} is not in the index (${this.layout.liveKeys} keys)`);
    const m = KEY_META_BYTES * i;
    const k: ExposureKey = {
      keyData: this.keyData.slice(KEY_DATA_BYTES * i, KEY_DATA_BYTES * (i + 1)),
      rollingStartIntervalNumber: this.keyStart[i],
      rollingPeriod: this.keyMeta[m]
    };
    const states = this.keyMeta[m + 1];
    OPTIONAL_FIELDS.forEach((name: OptionalField, f) => {
      const st = (states >>> (2 * f)) & 3;
      if (st === FieldState.Absent) return;
      const v =
        st === FieldState.Undefined
          ? undefined
          : st === FieldState.Inline
            ? (this.keyMeta[m + 2 + f] << 24) >> 24
            : this.extra.get(i * 4 + f);
      (k as unknown as Record<OptionalField, number | undefined>)[name] = v;
    });
    return k;
  }

  /** How many indexed keys have a sighting within ±12 intervals of their validity: the keys matchExposures derives. */
  keysInReach(idx: SightingIndex): number {
    const iv = idx.intervals;
    if (iv.length === 0) return 0;
    const lo = iv[0];
    const span = iv[iv.length - 1] - lo + 1;
    const keys = this.layout.liveKeys;
    let n = 0;
    if (span > MAX_REACH_SPAN) {
      // Sightings strewn over years: anySightingIn's binary search, as the derive path does.
      for (let k = 0; k < keys; k++) {
        const start = this.keyStart[k];
        if (anySightingIn(idx, start - MATCH_TOLERANCE_INTERVALS, start + this.keyMeta[KEY_META_BYTES * k] - 1 + MATCH_TOLERANCE_INTERVALS))
          n++;
      }
      return n;
    }
    // A million binary searches take longer than the lookups; sightings per interval summed up front make each key two reads.
    const upTo = new Uint32Array(span + 1);
    for (let i = 0; i < iv.length; i++) upTo[iv[i] - lo + 1] = 1;
    for (let i = 1; i <= span; i++) upTo[i] += upTo[i - 1];
    for (let k = 0; k < keys; k++) {
      const start = this.keyStart[k];
      const a = Math.max(0, start - MATCH_TOLERANCE_INTERVALS - lo);
      const b = Math.min(span - 1, start + this.keyMeta[KEY_META_BYTES * k] - 1 + MATCH_TOLERANCE_INTERVALS - lo);
      if (a <= b && upTo[b + 1] > upTo[a]) n++;
    }
    return n;
  }

  /** Every (key, interval, sighting) whose RPI the sighting heard, as findHits finds them and in its order. */
  lookup(sightings: readonly Sighting[]): MatchHit[] {
    return this.lookupIndexed(buildSightingIndex(sightings));
  }

  lookupIndexed(idx: SightingIndex): MatchHit[] {
    if (this.closed) throw new Error(`RPI index ${this.file} is closed`);
    const { fpMask, shift } = this;
    const fpBits = this.layout.fpBits;
    if (idx.count > SIGHTING_SPAN) throw new RangeError(`${idx.count} sightings are more than one lookup takes (${SIGHTING_SPAN})`);
    const tags = new Uint32Array(idx.count);
    // Bucket then sighting in one exact number (bucket < 2^28, sighting < 2^25), so a native sort orders them.
    const order = new Float64Array(idx.count);
    for (let s = 0; s < idx.count; s++) {
      tags[s] = (first4(idx.prefixes, s * RPI_BYTES) >>> 0) >>> shift;
      order[s] = (tags[s] >>> fpBits) * SIGHTING_SPAN + s;
    }
    // In bucket order the reads go forward through the file, which read-ahead favours on a cold cache.
    order.sort();
    const hits: MatchHit[] = [];
    const rpiks = new Map<number, Buffer>();
    let loaded = -1;
    let n = 0;
    for (let o = 0; o < order.length; o++) {
      const s = order[o] % SIGHTING_SPAN;
      const t = tags[s];
      const b = t >>> fpBits;
      const fp = t & fpMask;
      if (b !== loaded) {
        n = this.readBucket(b);
        loaded = b;
      }
      const e = this.scratch;
      for (let i = 0; i < n; i++) {
        if ((e[i] & fpMask) !== fp) continue;
        const r = e[i] >>> fpBits;
        const k = Math.floor(r / STRIDE);
        const off = r - k * STRIDE;
        if (k >= this.layout.liveKeys || off >= this.keyMeta[KEY_META_BYTES * k])
          throw new RpiIndexError(this.file, "damaged", `is damaged (bucket ${b} names RPI ${r}, which no key has); ${REBUILD}`);
        const enin = this.keyStart[k] + off;
        const d = idx.enin[s] - enin;
        if (d > MATCH_TOLERANCE_INTERVALS || d < -MATCH_TOLERANCE_INTERVALS) continue;
        if (this.heard(k, enin, idx, s, rpiks)) hits.push({ keyIndex: k, enin, sightingIndex: s });
      }
    }
    // findHits's canonical order, so the hits compare equal to the derive path's.
    return hits.sort((a, b) => a.keyIndex - b.keyIndex || a.sightingIndex - b.sightingIndex || a.enin - b.enin);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    fs.closeSync(this.fd);
  }

  private readBucket(b: number): number {
    const lo = this.dir[b];
    const n = this.dir[b + 1] - lo;
    if (this.scratch.length < n) this.scratch = new Uint32Array(n);
    const want = 4 * n;
    if (readAllAt(this.fd, new Uint8Array(this.scratch.buffer, 0, want), this.layout.entriesAt + 4 * lo) !== want)
      throw new RpiIndexError(this.file, "truncated", `is truncated (bucket ${b} runs past its end); ${REBUILD}`);
    return n;
  }

  /** The full-prefix check: the sighting's every stored byte against the RPI derived from the key, as the derive path compares. */
  private heard(k: number, enin: number, idx: SightingIndex, s: number, rpiks: Map<number, Buffer>): boolean {
    let rpik = rpiks.get(k);
    if (rpik === undefined) {
      rpik = deriveRpik(this.keyData.subarray(KEY_DATA_BYTES * k, KEY_DATA_BYTES * (k + 1)));
      rpiks.set(k, rpik);
    }
    const rpi = deriveRpis(rpik, enin);
    const p = s * RPI_BYTES;
    const len = idx.prefixLen[s];
    for (let i = 0; i < len; i++) if (idx.prefixes[p + i] !== rpi[i]) return false;
    return true;
  }
}

function readSection(fd: number, at: number, bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  readAllAt(fd, b, at);
  return b;
}

/** The stored SHA-256 against the file's bytes, read in blocks so memory does not grow with the file. */
function digestMatches(fd: number, header: Buffer, size: number): boolean {
  const hash = crypto.createHash("sha256").update(header.subarray(0, DIGEST_AT));
  const block = Buffer.allocUnsafe(HASH_BLOCK);
  for (let at = HEADER_BYTES; at < size;) {
    const n = readAllAt(fd, block.subarray(0, Math.min(HASH_BLOCK, size - at)), at);
    if (n === 0) return false;
    hash.update(block.subarray(0, n));
    at += n;
  }
  return hash.digest().equals(header.subarray(DIGEST_AT, DIGEST_AT + 32));
}

/**
 * Opens an index built by buildRpiIndex, after checking all of it (see the
 * module comment for what that costs). Throws RpiIndexError, naming the file,
 * for a file that is missing, not an index, of another format version,
 * truncated or damaged.
 */
export function openRpiIndex(file: string): RpiIndex {
  checkLittleEndian();
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (e) {
    throw new RpiIndexError(file, "unreadable", `cannot be opened (${(e as Error).message}); ${REBUILD}`);
  }
  try {
    return openFd(file, fd);
  } catch (e) {
    fs.closeSync(fd);
    if (e instanceof RpiIndexError) throw e;
    throw new RpiIndexError(file, "unreadable", `cannot be read (${(e as Error).message})`);
  }
}

function openFd(file: string, fd: number): RpiIndex {
  const st = fs.fstatSync(fd);
  if (!st.isFile()) throw new RpiIndexError(file, "unreadable", "is not a regular file");
  const size = st.size;
  const header = readSection(fd, 0, HEADER_BYTES);
  if (size < MAGIC.length || !header.subarray(0, MAGIC.length).equals(MAGIC))
    throw new RpiIndexError(file, "not-an-index", `is not an RPI index (it does not start with "${MAGIC.toString("ascii")}")`);
  if (size < HEADER_BYTES) throw new RpiIndexError(file, "truncated", `is truncated (${size} bytes, less than its header); ${REBUILD}`);
  const version = header.readUInt32LE(8);
  if (version !== RPI_INDEX_VERSION)
    throw new RpiIndexError(
      file,
      "version",
      `is in index format version ${version}; this program reads version ${RPI_INDEX_VERSION}: ${REBUILD}`
    );
  const liveKeys = header.readUInt32LE(16);
  const entries = header.readUInt32LE(20);
  const overflow = header.readUInt32LE(24);
  const bucketBits = header[28];
  const fpBits = header[29];
  const sane =
    header.readUInt32LE(12) === HEADER_BYTES &&
    header.readUInt16LE(30) === STRIDE &&
    bucketBits >= 1 &&
    bucketBits <= MAX_BUCKET_BITS &&
    bucketBits + fpBits <= 32 &&
    liveKeys <= MAX_INDEX_KEYS &&
    (liveKeys === 0 || bitLength(liveKeys * STRIDE - 1) <= 32 - fpBits) &&
    entries <= liveKeys * STRIDE &&
    overflow <= 4 * liveKeys;
  if (!sane) throw new RpiIndexError(file, "damaged", `is damaged (its header does not add up); ${REBUILD}`);
  const l = layoutOf(liveKeys, entries, overflow, bucketBits, fpBits);
  if (size < l.size) throw new RpiIndexError(file, "truncated", `is truncated (${size} bytes of ${l.size}); ${REBUILD}`);
  if (size > l.size) throw new RpiIndexError(file, "damaged", `is damaged (${size} bytes where its header says ${l.size}); ${REBUILD}`);
  if (!digestMatches(fd, header, size))
    throw new RpiIndexError(file, "damaged", `is damaged (its checksum does not match its contents); ${REBUILD}`);

  const keyData = new Uint8Array(readSection(fd, l.keyData, KEY_DATA_BYTES * liveKeys));
  const keyStart = new Int32Array(liveKeys);
  readAllAt(fd, bytesOf(keyStart), l.keyStart);
  const keyMeta = new Uint8Array(readSection(fd, l.keyMeta, KEY_META_BYTES * liveKeys));
  const over = readSection(fd, l.overflowAt, OVERFLOW_BYTES * overflow);
  const dir = new Uint32Array(2 ** bucketBits + 1);
  readAllAt(fd, bytesOf(dir), l.dir);
  // A checksum that matches says the bytes are as written; these say the writer was sane, so a lookup can trust them.
  let ok = dir[0] === 0 && dir[dir.length - 1] === entries;
  for (let b = 1; ok && b < dir.length; b++) ok = dir[b] >= dir[b - 1];
  let sum = 0;
  for (let k = 0; ok && k < liveKeys; k++) {
    const start = keyStart[k];
    const period = keyMeta[KEY_META_BYTES * k];
    ok = start >= 0 && period >= 1 && period <= MAX_ROLLING_PERIOD && start + period - 1 <= MAX_ROLLING_START;
    sum += period;
  }
  if (!ok || sum !== entries) throw new RpiIndexError(file, "damaged", `is damaged (its keys or directory are inconsistent); ${REBUILD}`);
  const distinct = header.readDoubleLE(40);
  const stats: RpiIndexStats = {
    givenKeys: header.readDoubleLE(32),
    keys: distinct,
    liveKeys,
    revokedKeys: distinct - liveKeys,
    duplicateKeysMerged: header.readDoubleLE(48),
    invalidKeysSkipped: header.readDoubleLE(56),
    entries,
    bytes: size
  };
  return new RpiIndex(file, fd, l, stats, keyData, keyStart, keyMeta, over, dir);
}
