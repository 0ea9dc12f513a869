import { strict as assert } from "node:assert";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ExposureKey } from "../host-tools/src/keys/types";
import { deriveKeys, deriveRpis, encryptMetadata, INTERVAL_SECONDS, TEK_ROLLING_PERIOD } from "../host-tools/src/match/derive";
import { buildRpiIndex, openRpiIndex } from "../host-tools/src/match/rpi-index";
import { matchExposures, MatchReport } from "../host-tools/src/match/run-match";
import { matchWithIndex } from "../host-tools/src/match/run-match-indexed";
import { Sighting } from "../host-tools/src/match/sightings";
import { arg, cpuNow, DAY0, DAYS, makeKeys, timeBound } from "./key-bench";

/**
 * The kiosk's matching at a large country's scale: index N published keys
 * (TEKs) once, then match one token's 14-day history against them as a sync
 * would, while the token waits.
 *
 *   node -r ts-node/register/transpile-only bench/kiosk.ts [--teks N] [--sightings S] [--workers W] [--no-compare]
 *
 * Keys are spread over 14 days. Indexing is timed end to end on all cores
 * (deriving, placing, writing and flushing the file) against the node:crypto
 * bound measured in this run exactly as bench/match.ts measures it (the HKDF
 * pair and one 144-block AES-ECB call a key, nothing else; best of 3 rounds on
 * one core) times the cores. The index derives RPIK alone, so it may beat
 * the bound. The sync is timed from sightings in to report out (opening the
 * index is once per key batch and reported apart), worst of 3 runs. Other
 * load on the machine takes cores from the build but not from the one-core
 * bound, so buildCoresUsed says how many the build got, and indexRatioPerCpu
 * compares keys per CPU second, which other load hardly moves. The
 * history is ~10,000 sightings as the token logs them (5-byte prefixes, the
 * transmit-power byte alone), 20 of them real sightings of published keys.
 * Unless --no-compare, the derive path (matchExposures on all cores) then
 * matches the same history, timed, and its report must equal the index's.
 * peakRssMB is the process's high-water mark up to the indexed sync (the
 * bench's own million key objects included; the compare comes after).
 *
 * On a 2-core machine the default million keys takes about a minute (up to
 * two with other work on the machine): the build and the compare are most of
 * it. The temporary files need about 1.8 GB free in the system's temp dir.
 * Last line: one JSON object.
 */

const BOUND_KEYS = 20000;
const PLANTED = 20;

/** A token's log: strangers heard all fortnight, and `PLANTED` hearings of published keys, with the power byte it keeps. */
function makeHistory(n: number, keys: ExposureKey[]): Sighting[] {
  const out: Sighting[] = [];
  for (let i = 0; i < n - PLANTED; i++) {
    const time = (DAY0 + crypto.randomInt(DAYS * TEK_ROLLING_PERIOD)) * INTERVAL_SECONDS + crypto.randomInt(INTERVAL_SECONDS);
    out.push({ time, rpi: crypto.randomBytes(5), rssi: -60 - crypto.randomInt(40), aemTx: crypto.randomInt(256), line: i + 1 });
  }
  for (let p = 0; p < PLANTED; p++) {
    const key = keys[crypto.randomInt(keys.length)];
    const enin = key.rollingStartIntervalNumber + crypto.randomInt(TEK_ROLLING_PERIOD);
    const k = deriveKeys(key.keyData);
    const rpi = deriveRpis(k.rpik, enin);
    const aem = encryptMetadata(k.aemk, rpi, Uint8Array.of(0x40, -8 & 0xff, 0, 0));
    out.push({ time: enin * INTERVAL_SECONDS + 30, rpi: rpi.subarray(0, 5), rssi: -55, aemTx: aem[1], line: out.length + 1 });
  }
  return out;
}

function secondsSince(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function main(): Promise<void> {
  const teks = arg("teks", 1_000_000);
  const nSightings = arg("sightings", 10_000);
  const cores = os.availableParallelism();
  const workers = arg("workers", cores);
  const compare = !process.argv.includes("--no-compare");
  const keys = makeKeys(teks);
  const sightings = makeHistory(nSightings, keys);

  const sample = keys.slice(0, Math.min(BOUND_KEYS, teks));
  timeBound(sample.slice(0, 2000));
  let bound = Infinity;
  let boundCpu = Infinity;
  for (let r = 0; r < 3; r++) {
    const b = timeBound(sample);
    bound = Math.min(bound, b.seconds);
    boundCpu = Math.min(boundCpu, b.cpu);
  }
  const boundKeysPerSec = Math.round((sample.length / bound) * cores);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pt-bench-kiosk-"));
  try {
    const file = path.join(dir, "batch.rpix");
    // A small build first, so the one-off worker bundle is not charged to the timed build.
    await buildRpiIndex(keys.slice(0, Math.min(5000, teks)), file, { workers });
    let lastShown = 0;
    const c0 = cpuNow();
    const t0 = process.hrtime.bigint();
    const stats = await buildRpiIndex(keys, file, {
      workers,
      onProgress: (done, total) => {
        if (done - lastShown >= total / 10 || done === total) {
          lastShown = done;
          process.stderr.write(`indexing: ${done} of ${total} keys, ${secondsSince(t0).toFixed(1)} s\n`);
        }
      }
    });
    const buildSeconds = secondsSince(t0);
    const buildCpu = cpuNow() - c0;
    const buildCores = buildCpu / buildSeconds;
    const indexKeysPerSec = Math.round(teks / buildSeconds);

    const t1 = process.hrtime.bigint();
    const index = openRpiIndex(file);
    const openSeconds = secondsSince(t1);
    let report: MatchReport | null = null;
    let matchSecondsPerSync = 0;
    try {
      for (let r = 0; r < 3; r++) {
        const t2 = process.hrtime.bigint();
        report = await matchWithIndex(index, sightings);
        matchSecondsPerSync = Math.max(matchSecondsPerSync, secondsSince(t2));
      }
    } finally {
      index.close();
    }
    if (!report || report.matches.length < PLANTED)
      throw new Error(`the index matched ${report?.matches.length} of ${PLANTED} planted sightings`);
    const peakRssMB = Math.round(process.resourceUsage().maxRSS / 1024);

    let deriveSecondsPerSync: number | null = null;
    if (compare) {
      const t3 = process.hrtime.bigint();
      const derived = await matchExposures(keys, sightings, { workers });
      deriveSecondsPerSync = Number(secondsSince(t3).toFixed(2));
      // Keys come back from the index as the export readers make them; these were views of one buffer.
      assert.deepStrictEqual(report, derived, "the index's report differs from matchExposures's");
    }

    console.log(
      `indexed ${teks} keys (${stats.entries} RPIs) in ${buildSeconds.toFixed(1)} s on ${buildCores.toFixed(2)} cores; ` +
        `file ${(stats.bytes / 1e6).toFixed(0)} MB; opened (and checked) in ${openSeconds.toFixed(2)} s`
    );
    console.log(
      `bound ${Math.round(sample.length / bound)} keys/s a core × ${cores} cores; ${report.matches.length} matches, level ${report.level}`
    );
    if (deriveSecondsPerSync !== null)
      console.log(`the derive path took ${deriveSecondsPerSync} s for the same sync, and gave the same report`);
    console.log(
      `load average ${os
        .loadavg()
        .map((x) => x.toFixed(2))
        .join(" ")}; ${os.cpus().length} CPU(s), ${os.cpus()[0]?.model ?? "?"}; node ${process.version}`
    );
    console.log(
      JSON.stringify({
        teks,
        indexKeysPerSec,
        boundKeysPerSec,
        indexRatio: Number((indexKeysPerSec / boundKeysPerSec).toFixed(3)),
        // Keys a CPU second, index over bound: what the ratio would be with every core free of other work.
        indexRatioPerCpu: Number((teks / buildCpu / (sample.length / boundCpu)).toFixed(3)),
        buildCoresUsed: Number(buildCores.toFixed(2)),
        workers,
        buildSeconds: Number(buildSeconds.toFixed(2)),
        openSeconds: Number(openSeconds.toFixed(2)),
        sightings: nSightings,
        matches: report.matches.length,
        matchSecondsPerSync: Number(matchSecondsPerSync.toFixed(3)),
        deriveSecondsPerSync,
        indexBytesPerTek: Number((stats.bytes / teks).toFixed(1)),
        peakRssMB
      })
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
