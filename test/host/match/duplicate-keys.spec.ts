import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { buildExportZip } from "../../../host-tools/src/keys/export-file";
import { loadKeySourceDetailed } from "../../../host-tools/src/keys/sources";
import { ExposureKey, ReportType } from "../../../host-tools/src/keys/types";
import { mergeKeyCopies } from "../../../host-tools/src/keys/validate";
import { MatchHit, oneHitPerSighting } from "../../../host-tools/src/match/find-hits";
import { matchExposures } from "../../../host-tools/src/match/run-match";
import { formatSighting, Sighting } from "../../../host-tools/src/match/sightings";
import { runCli } from "../../helpers/cli";
import { tempDir } from "../keys/helpers";
import { DAY0, plant, randomKey } from "./plant";

/**
 * Issue 15, item 2: the same key data published with shifted start intervals
 * was matched once per copy ("9 of 3 sighting(s) matched", LOW graded HIGH).
 * A TEK is one key whatever start it claims.
 */

async function writeExport(file: string, keys: ExposureKey[], revisedKeys: ExposureKey[] = []): Promise<void> {
  const zip = await buildExportZip({
    startTimestamp: DAY0 * 600,
    endTimestamp: DAY0 * 600 + 86400,
    region: "XX",
    batchNum: 1,
    batchSize: 1,
    signatureInfos: [],
    keys,
    revisedKeys
  });
  fs.writeFileSync(file, zip);
}

const at = (k: ExposureKey, start: number, period = k.rollingPeriod): ExposureKey => ({
  ...k,
  rollingStartIntervalNumber: start,
  rollingPeriod: period
});
const hex = (k: ExposureKey): string => Buffer.from(k.keyData).toString("hex");

describe("one TEK counts once, whatever start it claims (issue 15, item 2)", () => {
  const key = randomKey(DAY0);
  const rpiInterval = DAY0 + 60;
  // Three hearings of one RPI, 2 minutes apart, attenuation 58 dB ("near"):
  // (255 + 120 + 120) s = 8.25 min × 1.0 × high infectiousness 1.5 = 12.4 → LOW (5..15).
  const sightings: Sighting[] = [0, 120, 240].map((dt, i) => plant(key, rpiInterval, { offsetSeconds: 10 + dt, rssi: -62, line: i + 1 }));

  async function shiftedCopies(): Promise<{ dir: string; sightingsFile: string }> {
    const dir = tempDir("dup-keys");
    // Two publish runs, two codes: the key first as it is, then twice more with shifted starts.
    await writeExport(path.join(dir, "1-a.zip"), [key]);
    await writeExport(path.join(dir, "2-b.zip"), [at(key, DAY0 + 1), at(key, DAY0 + 2)]);
    const sightingsFile = path.join(tempDir("dup-sightings"), "sightings.jsonl");
    fs.writeFileSync(sightingsFile, sightings.map(formatSighting).join("\n") + "\n");
    return { dir, sightingsFile };
  }

  it("match: 3 sightings of one RPI are 3 of 3 matched at LOW, not 9 of 3 at HIGH, and the merge is said", async () => {
    const { dir, sightingsFile } = await shiftedCopies();
    const r = await runCli(["match", "--keys", dir, "--sightings", sightingsFile]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /9 of 3/);
    assert.match(r.stdout, /^3 of 3 sighting\(s\) matched 1 of 1 published key\(s\)\.$/m);
    assert.match(r.stdout, /^2 duplicate key\(s\) merged: the same key was published more than once/m);
    assert.match(r.stdout, /^Level: LOW /m);
    assert.equal(r.stdout.match(/^Exposure \d+:/gm)?.length, 1, "one exposure, not one per copy");

    const j = await runCli(["match", "--keys", dir, "--sightings", sightingsFile, "--json"]);
    assert.equal(j.code, 0, j.stderr);
    const out = JSON.parse(j.stdout) as {
      level: string;
      matches: unknown[];
      keys: number;
      duplicateKeysMerged: number;
      keySource: { duplicateKeysMerged: number; widenedKeys: number; clippedKeys: number };
    };
    assert.equal(out.level, "low");
    assert.equal(out.matches.length, 3);
    assert.equal(out.keys, 1);
    assert.equal(out.duplicateKeysMerged, 2);
    assert.equal(out.keySource.duplicateKeysMerged, 2);
    // DAY0..DAY0+146 is over a day: cut back to the first copy's own window.
    assert.deepEqual([out.keySource.widenedKeys, out.keySource.clippedKeys], [0, 1]);
  });

  it("loading keeps the widest valid span: a sighting only a later copy's window covers still matches", async () => {
    const dir = tempDir("dup-span");
    const half = randomKey(DAY0, { rollingPeriod: 72 });
    await writeExport(path.join(dir, "1.zip"), [half]);
    await writeExport(path.join(dir, "2.zip"), [at(half, DAY0 + 72)]);
    const loaded = await loadKeySourceDetailed(dir);
    assert.equal(loaded.keys.length, 1);
    assert.deepEqual([loaded.keys[0].rollingStartIntervalNumber, loaded.keys[0].rollingPeriod], [DAY0, 144]);
    assert.deepEqual([loaded.duplicates, loaded.widened, loaded.clipped], [1, 1, 0]);
    const late = plant(half, DAY0 + 100);
    const r = await matchExposures(loaded.keys, [late]);
    assert.equal(r.matches.length, 1);
  });

  it("copies spread over more than a day are cut to 144 intervals that hold the first-published copy whole", async () => {
    const dir = tempDir("dup-clip");
    const a = randomKey(DAY0);
    const b = randomKey(DAY0, { rollingPeriod: 72 });
    // A later copy claiming an earlier start cannot push the first copy's own intervals out.
    await writeExport(path.join(dir, "1.zip"), [a, b]);
    await writeExport(path.join(dir, "2.zip"), [at(a, DAY0 - 143), at(a, DAY0 + 100), at(b, DAY0 - 100)]);
    const loaded = await loadKeySourceDetailed(dir);
    const byHex = new Map(loaded.keys.map((k) => [hex(k), k]));
    assert.deepEqual([byHex.get(hex(a))?.rollingStartIntervalNumber, byHex.get(hex(a))?.rollingPeriod], [DAY0, 144]);
    // b: first copy DAY0..DAY0+72, union from DAY0-100: as far back as 144 intervals allow.
    assert.deepEqual([byHex.get(hex(b))?.rollingStartIntervalNumber, byHex.get(hex(b))?.rollingPeriod], [DAY0 - 72, 144]);
    assert.deepEqual([loaded.duplicates, loaded.widened, loaded.clipped], [3, 1, 2]);
    const r = await matchExposures(loaded.keys, [plant(a, DAY0 + 130)]);
    assert.equal(r.matches.length, 1, "the first copy's last hours still match");
  });

  it("a revision of any copy applies to the key: revoking one copy revokes the TEK", async () => {
    const dir = tempDir("dup-revoke");
    const k = randomKey(DAY0);
    await writeExport(path.join(dir, "1.zip"), [k]);
    await writeExport(path.join(dir, "2.zip"), [], [{ ...at(k, DAY0 + 3), reportType: ReportType.Revoked }]);
    const loaded = await loadKeySourceDetailed(dir);
    assert.deepEqual(loaded.keys, []);
    assert.equal(loaded.revoked, 1);
  });

  it("matchExposures merges copies it is given directly, so any caller counts a sighting once", async () => {
    const once = await matchExposures([key], sightings);
    const copies = await matchExposures([key, at(key, DAY0 + 1), at(key, DAY0 + 2)], sightings);
    assert.equal(copies.matches.length, 3);
    assert.equal(copies.keys, 1);
    assert.equal(copies.duplicateKeysMerged, 2);
    assert.equal(copies.level, "low");
    assert.equal(copies.level, once.level);
    assert.deepEqual(
      copies.days.map((d) => d.score),
      once.days.map((d) => d.score)
    );
  });

  it("mergeKeyCopies leaves distinct keys alone, in order, as the very same objects", () => {
    const ks = [randomKey(DAY0), randomKey(DAY0 + 144), randomKey(DAY0)];
    const m = mergeKeyCopies(ks);
    assert.deepEqual([m.duplicates, m.widened, m.clipped], [0, 0, 0]);
    assert.equal(m.keys.length, 3);
    m.keys.forEach((k, i) => assert.equal(k, ks[i]));
  });

  it("a sighting hit by two keys or two intervals counts once: the interval nearest its own, then the lowest key", () => {
    const eninOf = Int32Array.of(100, 200, 300);
    const hits: MatchHit[] = [
      { keyIndex: 0, enin: 95, sightingIndex: 0 },
      { keyIndex: 0, enin: 200, sightingIndex: 1 },
      { keyIndex: 1, enin: 101, sightingIndex: 0 },
      { keyIndex: 1, enin: 300, sightingIndex: 2 },
      { keyIndex: 2, enin: 299, sightingIndex: 2 }
    ];
    const r = oneHitPerSighting(hits, eninOf);
    assert.equal(r.sightingsHitTwice, 2);
    assert.deepEqual(r.hits, [hits[1], hits[2], hits[3]]);
    const tie = oneHitPerSighting(
      [
        { keyIndex: 3, enin: 99, sightingIndex: 0 },
        { keyIndex: 1, enin: 101, sightingIndex: 0 }
      ],
      eninOf
    );
    assert.deepEqual(
      tie.hits.map((h) => h.keyIndex),
      [1]
    );
  });
});
