import { strict as assert } from "node:assert";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { readExportFile } from "../../../host-tools/src/keys/export-file";
import { generateSigningKeyPair } from "../../../host-tools/src/keys/signing";
import { ExposureKey } from "../../../host-tools/src/keys/types";
import { matchExposures } from "../../../host-tools/src/match/run-match";
import { formatSighting } from "../../../host-tools/src/match/sightings";
import { noise, plantAt } from "../match/plant";
import { runCli, tempDir } from "./helpers";
import { RawKey, rawExportZip } from "./hardening-helpers";

/**
 * Issue 15, item 6: an export's header time that no date can hold gave a stack
 * trace (exit 70) in `keys show`; one bad key made `match` refuse the whole
 * export; and `keys show`/`verify` and the matcher disagreed on which keys are
 * valid (a start of 2^31-1 passed one and failed the other).
 */

const INT32_MAX = 0x7fffffff;
const nowS = (): number => Math.floor(Date.now() / 1000);

function keyPair(dir: string): { priv: crypto.KeyObject; pubFile: string } {
  const pair = generateSigningKeyPair();
  const pubFile = path.join(dir, "pub.pem");
  fs.writeFileSync(pubFile, pair.publicKeyPem);
  return { priv: crypto.createPrivateKey(pair.privateKeyPem), pubFile };
}

describe("hardening: reading exports (issue 15, item 6)", () => {
  it("keys show, verify and match refuse an export whose start_timestamp is past any date with exit 2 and a plain message", async () => {
    const dir = tempDir("ts");
    const { priv, pubFile } = keyPair(dir);
    const file = path.join(dir, "far.zip");
    const start = 9_000_000_000_000; // > 8.64e12 s, the last second a Date can hold
    fs.writeFileSync(
      file,
      await rawExportZip(
        {
          start_timestamp: start,
          end_timestamp: start + 1,
          keys: [{ key_data: crypto.randomBytes(16), rolling_start_interval_number: 2_800_000 }]
        },
        priv
      )
    );
    const sightings = path.join(dir, "s.jsonl");
    fs.writeFileSync(sightings, formatSighting(noise(nowS() - 60)) + "\n");
    for (const args of [
      ["keys", "show", file],
      ["keys", "verify", file, "--public-key", pubFile],
      ["match", "--keys", file, "--sightings", sightings]
    ]) {
      const r = await runCli(args);
      assert.equal(r.code, 2, `${args.slice(0, 2).join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /far\.zip: start_timestamp 9000000000000 is not a usable unix time/);
      assert.doesNotMatch(r.stderr, /RangeError|\n\s+at /);
    }
  });

  it("skips one bad key with a counted warning: show, verify and match agree, and the good keys still match", async () => {
    const dir = tempDir("skip");
    const { priv, pubFile } = keyPair(dir);
    const yesterday = Math.floor(nowS() / 86400 - 1) * 144;
    const good = crypto.randomBytes(16);
    const keys: RawKey[] = [
      { key_data: good, rolling_start_interval_number: yesterday, rolling_period: 144, report_type: 1 },
      // Runs past interval 2^31-1: an int32 cannot hold its last interval.
      { key_data: crypto.randomBytes(16), rolling_start_interval_number: INT32_MAX, rolling_period: 144, report_type: 1 },
      // The last interval an int32 holds: valid everywhere.
      { key_data: crypto.randomBytes(16), rolling_start_interval_number: INT32_MAX, rolling_period: 1, report_type: 1 },
      { key_data: crypto.randomBytes(15), rolling_start_interval_number: yesterday, report_type: 1 }
    ];
    const file = path.join(dir, "mixed.zip");
    fs.writeFileSync(file, await rawExportZip({ end_timestamp: nowS() - 3600, keys }, priv));

    const shown = await runCli(["keys", "show", file, "--json"]);
    assert.equal(shown.code, 0, shown.stderr);
    const doc = JSON.parse(shown.stdout) as { keys: unknown[]; skippedKeys: Array<{ key: number; problem: string }> };
    assert.equal(doc.keys.length, 2);
    assert.deepEqual(
      doc.skippedKeys.map((s) => s.key),
      [2, 4]
    );
    assert.match(doc.skippedKeys[0].problem, /runs past interval 2147483647/);
    assert.match(doc.skippedKeys[1].problem, /key_data is 15 bytes/);
    const text = await runCli(["keys", "show", file]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /2 key\(s\), 0 revised, 2 invalid key\(s\) skipped/);

    const verified = await runCli(["keys", "verify", file, "--public-key", pubFile]);
    assert.equal(verified.code, 0, verified.stderr);
    assert.match(verified.stdout, /valid signature .*, 2 key\(s\)/);
    assert.match(verified.stderr, /2 invalid key\(s\) skipped/);

    const sightings = path.join(dir, "s.jsonl");
    const key: ExposureKey = { keyData: good, rollingStartIntervalNumber: yesterday, rollingPeriod: 144 };
    fs.writeFileSync(sightings, formatSighting(plantAt(key, yesterday * 600 + 3600)) + "\n");
    const m = await runCli(["match", "--keys", file, "--sightings", sightings, "--public-key", pubFile]);
    assert.equal(m.code, 0, m.stderr);
    assert.match(m.stdout, /1 of 1 sighting\(s\) matched 1 of 2 published key\(s\)/);
    assert.match(m.stdout, /WARNING: 2 published key\(s\) in .*mixed\.zip were invalid and skipped/);
    const j = await runCli(["match", "--keys", file, "--sightings", sightings, "--json"]);
    assert.equal(j.code, 0, j.stderr);
    const report = JSON.parse(j.stdout) as { keySource: { invalidKeysSkipped: number }; warnings: string[] };
    assert.equal(report.keySource.invalidKeysSkipped, 2);
    assert.ok(report.warnings.some((w) => /2 published key\(s\) .* invalid and skipped/.test(w)));
  });

  describe("one validation for show, verify and the matcher", () => {
    const starts = [0, INT32_MAX - 288, INT32_MAX - 144, INT32_MAX - 143, INT32_MAX - 1, INT32_MAX];
    for (const start of starts)
      for (const period of [1, 144]) {
        it(`start ${start}, period ${period}: show lists it exactly when the matcher accepts it`, async () => {
          const dir = tempDir("agree");
          const file = path.join(dir, "k.zip");
          const data = crypto.randomBytes(16);
          fs.writeFileSync(
            file,
            await rawExportZip({ keys: [{ key_data: data, rolling_start_interval_number: start, rolling_period: period }] })
          );
          const shown = (await readExportFile(file)).export.keys.length === 1;
          let accepted: boolean;
          try {
            const r = await matchExposures(
              [{ keyData: data, rollingStartIntervalNumber: start, rollingPeriod: period }],
              [noise(1_700_000_000)]
            );
            accepted = r.keys === 1;
          } catch {
            accepted = false;
          }
          assert.equal(shown, accepted, `shown ${shown}, matcher ${accepted ? "accepts" : "refuses"}`);
          assert.equal(shown, start + period - 1 <= INT32_MAX);
        });
      }
  });
});
