import { strict as assert } from "node:assert";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { NoKeysError } from "../../../host-tools/src/keys/errors";
import { ExposureKey, ReportType } from "../../../host-tools/src/keys/types";
import { keyProblem, mergeKeyCopies } from "../../../host-tools/src/keys/validate";
import { INTERVAL_SECONDS } from "../../../host-tools/src/match/derive";
import { findHits } from "../../../host-tools/src/match/find-hits";
import { packKeys } from "../../../host-tools/src/match/packed-keys";
import { buildRpiIndex, openRpiIndex, RPI_INDEX_VERSION, RpiIndex, RpiIndexError } from "../../../host-tools/src/match/rpi-index";
import { matchExposures } from "../../../host-tools/src/match/run-match";
import { matchWithIndex } from "../../../host-tools/src/match/run-match-indexed";
import { buildSightingIndex } from "../../../host-tools/src/match/sighting-index";
import { Sighting } from "../../../host-tools/src/match/sightings";
import { tempDir } from "../keys/helpers";
import { DAY0, plant } from "./plant";

/** Deterministic bytes (SHA-256 in counter mode), so a failure reproduces. */
class Rng {
  private pool = Buffer.alloc(0);
  private at = 0;
  private counter = 0;

  constructor(private readonly seed: string) {}

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      if (this.at === this.pool.length) {
        this.pool = crypto.createHash("sha256").update(`${this.seed}/${this.counter++}`).digest();
        this.at = 0;
      }
      out[i] = this.pool[this.at++];
    }
    return out;
  }

  /** 0 … n-1. */
  int(n: number): number {
    return Buffer.from(this.bytes(4)).readUInt32LE(0) % n;
  }
}

const DAYS = 14;
/** The export readers' key shape: keyData a Uint8Array, only the fields the export had. */
function key(rng: Rng, start: number, extra: Partial<ExposureKey> = {}): ExposureKey {
  return { keyData: rng.bytes(16), rollingStartIntervalNumber: start, rollingPeriod: 144, ...extra };
}

interface Batch {
  keys: ExposureKey[];
  /** What matchExposures matches: valid, merged, not revoked. */
  live: ExposureKey[];
  sightings: Sighting[];
  /** Sighting numbers the derive path must match, and ones it must not. */
  mustMatch: number[];
  mustNot: number[];
}

function makeBatch(seed: string): Batch {
  const rng = new Rng(seed);
  const keys: ExposureKey[] = [];
  for (let i = 0; i < 2500; i++) {
    const day = DAY0 + 144 * (i % DAYS);
    const extra: Partial<ExposureKey> = {};
    if (i % 3 === 0) extra.reportType = ReportType.ConfirmedTest;
    if (i % 5 === 1) extra.reportType = ReportType.SelfReport;
    if (i % 4 === 0) extra.daysSinceOnsetOfSymptoms = (i % 29) - 14;
    if (i % 7 === 0) extra.transmissionRiskLevel = i % 9;
    if (i % 97 === 0) extra.variantOfConcern = 1;
    // Values a key may carry that do not fit the index's int8 columns: they come back exactly.
    if (i === 10) extra.daysSinceOnsetOfSymptoms = 1000;
    if (i === 20) extra.variantOfConcern = 2 ** 31;
    if (i === 30) extra.transmissionRiskLevel = 2.5;
    if (i === 40) extra.daysSinceOnsetOfSymptoms = undefined;
    if (i % 50 === 3) keys.push(key(rng, day + 30, { ...extra, rollingPeriod: 90 }));
    else keys.push(key(rng, day, extra));
  }
  // Revoked keys never match; invalid ones are skipped and counted.
  for (let i = 0; i < 30; i++) keys.push(key(rng, DAY0 + 144 * (i % DAYS), { reportType: ReportType.Revoked }));
  keys.push(key(rng, DAY0, { rollingPeriod: 0 }), { ...key(rng, DAY0), keyData: rng.bytes(15) }, key(rng, -5));
  // Copies of one key data: merged, their windows joined (a sighting in the second half matches only because of that).
  for (let i = 0; i < 20; i++) {
    const k = keys[100 + i];
    k.rollingPeriod = 72;
    keys.push({ ...k, keyData: Uint8Array.from(k.keyData), rollingStartIntervalNumber: k.rollingStartIntervalNumber + 72 });
  }
  keys.push({ ...keys[200], keyData: Uint8Array.from(keys[200].keyData) });

  const valid = keys.filter((k) => keyProblem(k) === null);
  const live = mergeKeyCopies(valid).keys.filter((k) => k.reportType !== ReportType.Revoked);
  const sightings: Sighting[] = [];
  const mustMatch: number[] = [];
  const mustNot: number[] = [];
  const push = (s: Sighting, expect?: boolean): void => {
    if (expect !== undefined) (expect ? mustMatch : mustNot).push(sightings.length);
    s.line = sightings.length + 1;
    sightings.push(s);
  };
  // A token's 14 days of strangers: 5-byte prefixes as its log stores them, and some full RPIs from other recorders.
  for (let i = 0; i < 9000; i++) {
    const time = (DAY0 + rng.int(DAYS * 144)) * INTERVAL_SECONDS + rng.int(INTERVAL_SECONDS);
    push({ time, rpi: rng.bytes(i % 10 === 0 ? 16 : 5), rssi: -60 - rng.int(40), line: 0 });
  }
  const someLive = (): ExposureKey => live[rng.int(live.length)];
  const inPeriod = (k: ExposureKey): number => k.rollingStartIntervalNumber + rng.int(k.rollingPeriod);
  // Real sightings: runs of one key a few minutes apart (exposure windows), prefixes of 5, 16 and in between.
  for (let i = 0; i < 60; i++) {
    const k = someLive();
    const j = inPeriod(k);
    const prefixBytes = [5, 16, 5 + rng.int(12)][i % 3];
    const txPower = i % 4 === 0 ? null : -10 + rng.int(20);
    for (let n = 0; n < 1 + rng.int(5); n++) {
      const s = plant(k, j, { offsetSeconds: 60 * n + rng.int(60), prefixBytes, txPower, rssi: -45 - rng.int(40) });
      if (i % 5 === 2 && s.aem) {
        s.aemTx = s.aem[1];
        delete s.aem;
      }
      push(s);
    }
  }
  for (const d of [-13, -12, 12, 13]) {
    // Heard d intervals from the RPI's own: matched at ±12, not at ±13.
    for (let i = 0; i < 30; i++) {
      const k = someLive();
      push(plant(k, inPeriod(k), { offsetSeconds: d * INTERVAL_SECONDS + 1, prefixBytes: i % 2 ? 5 : 16 }), Math.abs(d) <= 12);
    }
  }
  for (let i = 0; i < 30; i++) {
    // The first 4 bytes of a real RPI at the right time, the rest not: the index alone cannot tell, the full-prefix check must.
    const k = someLive();
    const s = plant(k, inPeriod(k), { prefixBytes: i % 2 ? 5 : 16 });
    s.rpi[i % 2 ? 4 : 4 + (i % 12)] ^= 1 + (i % 255);
    push(s, false);
  }
  for (let i = 0; i < 10; i++) {
    const revoked = keys[2500 + i];
    push(plant(revoked, inPeriod(revoked)), false);
  }
  for (let i = 0; i < 20; i++) {
    // The second copy's half of a merged key.
    const k = keys[100 + i];
    push(plant(k, k.rollingStartIntervalNumber + 72 + rng.int(72), { prefixBytes: 5 }), true);
  }
  // Two sightings of one RPI, and a sighting of the same RPI at the edge of the key's day.
  const k0 = live[5];
  push(plant(k0, k0.rollingStartIntervalNumber + 10));
  push(plant(k0, k0.rollingStartIntervalNumber + 10, { offsetSeconds: 200 }));
  push(plant(k0, k0.rollingStartIntervalNumber, { offsetSeconds: -12 * INTERVAL_SECONDS + 1 }), true);
  return { keys, live, sightings, mustMatch, mustNot };
}

describe("RPI index: matching a sync by lookups", function () {
  this.timeout(300_000);
  const batch = makeBatch("rpi-index spec 1");
  let dir: string;
  let file: string;
  let index: RpiIndex;

  before(async () => {
    dir = tempDir("rpi-index");
    file = path.join(dir, "batch.rpix");
    // Small chunks and passes, on worker threads: the paths a million keys take.
    const stats = await buildRpiIndex(batch.keys, file, { workers: 2, chunkKeys: 64, passBytes: 16 * 1024 });
    assert.equal(stats.liveKeys, batch.live.length);
    index = openRpiIndex(file);
  });

  after(() => index?.close());

  it("gives the report matchExposures gives, field for field", async () => {
    const want = await matchExposures(batch.keys, batch.sightings);
    const got = await matchWithIndex(index, batch.sightings);
    assert.ok(want.matches.length >= 200, `only ${want.matches.length} matches planted`);
    assert.ok(want.invalidKeysSkipped === 3 && want.revokedKeys === 30 && want.duplicateKeysMerged === 21);
    assert.notEqual(want.level, "none");
    assert.deepStrictEqual(got, want);
  });

  it("gives the same report with a loss, a wearer profile and a sync of a single day", async () => {
    const losses = { sightings: 12, from: DAY0 * INTERVAL_SECONDS, to: (DAY0 + 300) * INTERVAL_SECONDS, flood: false };
    const oneDay = batch.sightings.filter((s) => Math.floor(s.time / INTERVAL_SECONDS / 144) === DAY0 / 144 + 3);
    // A sighting decades off makes keysInReach search rather than tabulate, as the derive path does.
    const strewn = [...batch.sightings.slice(0, 500), { time: 600 * 7, rpi: new Uint8Array(5), rssi: -80, line: 501 }];
    for (const sightings of [oneDay, [], batch.sightings.slice(0, 500), strewn]) {
      const opts = { losses, profile: { vulnerability: "high" as const } };
      assert.deepStrictEqual(await matchWithIndex(index, sightings, opts), await matchExposures(batch.keys, sightings, opts));
    }
  });

  it("finds exactly the hits findHits finds, in its order", async () => {
    const sIdx = buildSightingIndex(batch.sightings);
    const want = await findHits(packKeys(batch.live), sIdx);
    assert.deepStrictEqual(index.lookup(batch.sightings), want.hits);
  });

  it("matches at ±12 intervals and the merged half of a key; not at ±13, a 4-byte collision or a revoked key", () => {
    const hit = new Set(index.lookup(batch.sightings).map((h) => h.sightingIndex));
    assert.ok(batch.mustMatch.length >= 80 && batch.mustNot.length >= 100);
    for (const s of batch.mustMatch) assert.ok(hit.has(s), `sighting ${s} not matched`);
    for (const s of batch.mustNot) assert.ok(!hit.has(s), `sighting ${s} matched`);
  });

  it("writes the same bytes whatever the threads and the memory per pass, and leaves no temporary file", async () => {
    const again = path.join(dir, "again.rpix");
    const runs = tempDir("rpi-index-runs");
    await buildRpiIndex(batch.keys, again, { workers: 1, tempDir: runs });
    assert.ok(fs.readFileSync(again).equals(fs.readFileSync(file)));
    assert.deepEqual(fs.readdirSync(runs), []);
    assert.deepEqual(
      fs.readdirSync(dir).filter((f) => f.endsWith(".tmp")),
      []
    );
  });

  it("says which index it could not write, and why", async () => {
    const nowhere = path.join(dir, "no-such-dir", "batch.rpix");
    await assert.rejects(
      buildRpiIndex(batch.keys.slice(0, 10), nowhere),
      (e: unknown) => e instanceof RpiIndexError && e.problem === "write-failed" && e.message.includes(nowhere) && /ENOENT/.test(e.message)
    );
  });

  it("comes back with every key field as given, including ones that do not fit a byte", () => {
    for (let i = 0; i < batch.live.length; i++) assert.deepStrictEqual(index.key(i), batch.live[i], `key ${i}`);
  });

  it("refuses a batch with no live key as matchExposures refuses it", async () => {
    const rng = new Rng("no live keys");
    const cases: ExposureKey[][] = [[], [key(rng, DAY0, { reportType: ReportType.Revoked })], [key(rng, DAY0, { rollingPeriod: 500 })]];
    for (const keys of cases) {
      const f = path.join(dir, "empty.rpix");
      await buildRpiIndex(keys, f);
      const empty = openRpiIndex(f);
      try {
        const want = await matchExposures(keys, batch.sightings).then(
          () => assert.fail("matchExposures matched no keys"),
          (e: unknown) => e
        );
        assert.ok(want instanceof NoKeysError);
        await assert.rejects(
          matchWithIndex(empty, batch.sightings),
          (e: unknown) => e instanceof NoKeysError && e.message === want.message
        );
      } finally {
        empty.close();
      }
    }
  });

  describe("a file that is not a sound index of this version", () => {
    const variant = (name: string, edit: (b: Buffer) => Buffer): string => {
      const f = path.join(dir, name);
      fs.writeFileSync(f, edit(Buffer.from(fs.readFileSync(file))));
      return f;
    };
    const refused = (f: string, problem: RpiIndexError["problem"], words: RegExp): void => {
      assert.throws(
        () => openRpiIndex(f),
        (e: unknown) => {
          assert.ok(e instanceof RpiIndexError, `${String(e)}`);
          assert.equal(e.problem, problem);
          assert.equal(e.file, f);
          assert.ok(e.message.includes(f), e.message);
          assert.match(e.message, words);
          assert.equal(e.code, "RPI_INDEX_UNUSABLE");
          return true;
        }
      );
    };

    it("refuses one byte changed anywhere: in the directory, the entries, the keys or the header", () => {
      const size = fs.statSync(file).size;
      for (const at of [size - 3, Math.floor(size / 2), 130, 40]) {
        refused(
          variant(`flip-${at}.rpix`, (b) => {
            b[at] ^= 0x10;
            return b;
          }),
          "damaged",
          /damaged.*build it again/
        );
      }
    });

    it("refuses a truncated file, however short", () => {
      const size = fs.statSync(file).size;
      for (const keep of [size - 1, size - 4096, 200, 100])
        refused(
          variant(`cut-${keep}.rpix`, (b) => b.subarray(0, keep)),
          "truncated",
          /truncated/
        );
      refused(
        variant("cut-4.rpix", (b) => b.subarray(0, 4)),
        "not-an-index",
        /not an RPI index/
      );
    });

    it("refuses an index of another format version", () => {
      const f = variant("v2.rpix", (b) => {
        b.writeUInt32LE(RPI_INDEX_VERSION + 1, 8);
        return b;
      });
      refused(f, "version", new RegExp(`version ${RPI_INDEX_VERSION + 1}.*reads version ${RPI_INDEX_VERSION}`));
    });

    it("refuses a file that is not an index, and one that is not there", () => {
      refused(
        variant("other.rpix", () => Buffer.from('{"keys": []}\n')),
        "not-an-index",
        /not an RPI index/
      );
      refused(path.join(dir, "missing.rpix"), "unreadable", /cannot be opened/);
    });
  });
});
