import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { NoKeysError } from "../../../host-tools/src/keys/errors";
import { buildExportZip } from "../../../host-tools/src/keys/export-file";
import { keySourceFreshness, loadKeySourceDetailed, requireKeysToCheck } from "../../../host-tools/src/keys/sources";
import { ExposureKey, ReportType } from "../../../host-tools/src/keys/types";
import { matchExposures } from "../../../host-tools/src/match/run-match";
import { formatSighting } from "../../../host-tools/src/match/sightings";
import { runCli } from "../../helpers/cli";
import { tempDir } from "../keys/helpers";
import { noise, plantAt, randomKey } from "./plant";

/**
 * Issue 15, item 3: `match` against an empty key directory or an empty
 * index.txt printed "0 of 0 published key(s) … Level: NONE" and exited 0, so
 * "nothing checked" read as "no risk"; a source weeks old did the same silently.
 */

const DAY = 86400;
const nowS = (): number => Math.floor(Date.now() / 1000);

async function writeExport(file: string, keys: ExposureKey[], endTimestamp: number): Promise<void> {
  fs.writeFileSync(
    file,
    await buildExportZip({
      startTimestamp: endTimestamp - DAY,
      endTimestamp,
      region: "XX",
      batchNum: 1,
      batchSize: 1,
      signatureInfos: [],
      keys,
      revisedKeys: []
    })
  );
}

/** A key of yesterday, published `ageDays` ago, and a sightings file with one hearing of it. */
async function sourceAged(ageDays: number): Promise<{ dir: string; sightings: string }> {
  const dir = tempDir("aged");
  const yesterday = Math.floor(nowS() / DAY - 1) * 144;
  const key = randomKey(yesterday);
  await writeExport(path.join(dir, "1.zip"), [key], nowS() - ageDays * DAY);
  const sightings = path.join(dir, "s.jsonl");
  fs.writeFileSync(sightings, formatSighting(plantAt(key, yesterday * 600 + 3600)) + "\n");
  return { dir, sightings };
}

function sightingsFile(): string {
  const f = path.join(tempDir("no-keys"), "s.jsonl");
  fs.writeFileSync(f, [noise(nowS() - 3600), noise(nowS() - 60)].map(formatSighting).join("\n") + "\n");
  return f;
}

const REFUSAL =
  /^privatetracer: no published keys were checked: .*This is not a "no risk" result\. Check that the kiosk uses the right key source/;

describe('"no keys" is not "no risk" (issue 15, item 3)', () => {
  it("match refuses an empty key directory with exit 2 and a message a carer can act on, printing no level", async () => {
    const dir = tempDir("empty-dir");
    const r = await runCli(["match", "--keys", dir, "--sightings", sightingsFile()]);
    assert.equal(r.code, 2, r.stdout);
    assert.equal(r.stdout, "", "no level is printed");
    assert.match(r.stderr, REFUSAL);
    assert.match(r.stderr, /lists no export files \(an empty directory or an empty index\)/);
    assert.doesNotMatch(r.stderr, /Level: NONE|0 of 0/);
  });

  it("match refuses an empty index.txt (blank and comment lines only), with --json too", async () => {
    const dir = tempDir("empty-index");
    const index = path.join(dir, "index.txt");
    fs.writeFileSync(index, "# nothing published yet\n\n");
    for (const extra of [[], ["--json"]]) {
      const r = await runCli(["match", "--keys", index, "--sightings", sightingsFile(), ...extra]);
      assert.equal(r.code, 2);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, REFUSAL);
    }
  });

  it("match refuses exports that hold no keys, and a source whose every key is revoked", async () => {
    const empty = tempDir("no-keys-in-exports");
    await writeExport(path.join(empty, "1.zip"), [], nowS());
    const r1 = await runCli(["match", "--keys", empty, "--sightings", sightingsFile()]);
    assert.equal(r1.code, 2);
    assert.match(r1.stderr, /no published keys were checked: the 1 export file\(s\) of .* hold no keys/);

    const revoked = tempDir("all-revoked");
    await writeExport(path.join(revoked, "1.zip"), [randomKey(undefined, { reportType: ReportType.Revoked })], nowS());
    const r2 = await runCli(["match", "--keys", revoked, "--sightings", sightingsFile()]);
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /no published keys were checked: all 1 key\(s\) of .* were withdrawn \(revoked\)/);
  });

  it("the library refuses too: requireKeysToCheck and matchExposures throw a NoKeysError (NO_KEYS_TO_CHECK, unusable)", async () => {
    const loaded = await loadKeySourceDetailed(tempDir("lib-empty"));
    assert.throws(
      () => requireKeysToCheck(loaded, "keys/"),
      (e: unknown) => e instanceof NoKeysError && e.code === "NO_KEYS_TO_CHECK" && e.kind === "unusable"
    );
    await assert.rejects(
      matchExposures([], [noise(nowS())]),
      (e: unknown) => e instanceof NoKeysError && /the list of published keys is empty/.test(e.message)
    );
    const revoked = randomKey(undefined, { reportType: ReportType.Revoked });
    await assert.rejects(
      matchExposures([revoked], [noise(nowS())]),
      (e: unknown) => e instanceof NoKeysError && /all 1 key\(s\) given are revoked/.test(e.message)
    );
  });

  it("match warns loudly, next to the level and in JSON, when the newest export is older than --max-key-age-days (default 3)", async () => {
    const { dir, sightings } = await sourceAged(4);
    const r = await runCli(["match", "--keys", dir, "--sightings", sightings]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    const level = lines.findIndex((l) => l.startsWith("Level: "));
    assert.match(
      lines[level - 1],
      /^WARNING: the newest published keys in .* are from \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, 4 day\(s\) ago \(more than 3 day\(s\)\)\. .*risk may be higher than shown/
    );

    const j = await runCli(["match", "--keys", dir, "--sightings", sightings, "--json"]);
    assert.equal(j.code, 0, j.stderr);
    assert.equal(j.stdout.trim().split("\n").length, 1, "stdout is still one JSON object");
    const out = JSON.parse(j.stdout) as {
      warnings: string[];
      keySource: { stale: boolean; ageDays: number; maxAgeDays: number; newestExportEnd: number; files: number };
    };
    assert.equal(out.warnings.length, 1);
    assert.match(out.warnings[0], /^WARNING: /);
    assert.equal(out.keySource.stale, true);
    assert.ok(Math.abs(out.keySource.ageDays - 4) < 0.01, String(out.keySource.ageDays));
    assert.equal(out.keySource.maxAgeDays, 3);
    assert.equal(out.keySource.files, 1);
    assert.match(j.stderr, /^privatetracer: WARNING: /m, "a person running --json sees it too");
  });

  it("no warning for a fresh source, nor for an older one within a larger --max-key-age-days; a bad value is exit 2", async () => {
    const fresh = await sourceAged(1);
    const r = await runCli(["match", "--keys", fresh.dir, "--sightings", fresh.sightings, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { warnings: string[]; level: string; matches: unknown[]; keySource: { stale: boolean } };
    assert.deepEqual(out.warnings, []);
    assert.equal(out.keySource.stale, false);
    assert.equal(out.matches.length, 1);
    assert.equal(r.stderr, "");

    const old = await sourceAged(4);
    const t = await runCli(["match", "--keys", old.dir, "--sightings", old.sightings, "--max-key-age-days", "7"]);
    assert.equal(t.code, 0, t.stderr);
    assert.doesNotMatch(t.stdout, /WARNING/);

    for (const bad of ["-1", "three", "1e3", ""]) {
      const b = await runCli(["match", "--keys", old.dir, "--sightings", old.sightings, "--max-key-age-days", bad]);
      assert.equal(b.code, 2, bad);
      assert.match(b.stderr, /--max-key-age-days must be a number of days/);
    }
  });

  it("keySourceFreshness: the age is that of the newest export read", async () => {
    const dir = tempDir("freshness");
    const now = nowS();
    await writeExport(path.join(dir, "1.zip"), [randomKey()], now - 10 * DAY);
    await writeExport(path.join(dir, "2.zip"), [randomKey()], now - 2 * DAY);
    const f = keySourceFreshness(await loadKeySourceDetailed(dir), dir, now, 3 * DAY);
    assert.equal(f.newestExportEnd, now - 2 * DAY);
    assert.equal(f.ageSeconds, 2 * DAY);
    assert.equal(f.stale, false);
    assert.equal(f.warning, null);
  });
});
