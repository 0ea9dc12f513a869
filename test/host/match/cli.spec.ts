import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runCli } from "../../helpers/cli";
import { buildExportZip } from "../../../host-tools/src/keys/export-file";
import { ExposureKey, ReportType } from "../../../host-tools/src/keys/types";
import { loadKeySource } from "../../../host-tools/src/keys/sources";
import { formatSighting } from "../../../host-tools/src/match/sightings";
import { repoRoot } from "../../../host-tools/src/paths";
import { DAY0, handExample, noise, plantAt, randomKey, T } from "./plant";

const bin = path.join(__dirname, "..", "..", "..", "bin", "privatetracer.js");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `privatetracer match …` in this process. */
const cli = (args: string[]) => runCli(["match", ...args]);

/** The real command in a child process: start-up included, as a user runs it. */
function cliProcess(args: string[]): Run {
  const r = spawnSync(process.execPath, [bin, "match", ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function writeExport(file: string, keys: ExposureKey[]): Promise<void> {
  const zip = await buildExportZip({
    startTimestamp: DAY0 * 600,
    endTimestamp: DAY0 * 600 + 86400,
    region: "XX",
    batchNum: 1,
    batchSize: 1,
    signatureInfos: [],
    keys,
    revisedKeys: []
  });
  fs.writeFileSync(file, zip);
}

describe("privatetracer match (CLI)", function () {
  this.timeout(60000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "match-cli-"));
  const exportZip = path.join(dir, "export.zip");
  const sightingsFile = path.join(dir, "sightings.jsonl");
  const { key, sightings } = handExample();
  const stranger = randomKey(DAY0, { reportType: ReportType.SelfReport });

  before(async () => {
    await writeExport(exportZip, [stranger, key, ...Array.from({ length: 20 }, () => randomKey())]);
    const lines = [noise(T - 100), ...sightings, noise(T + 50, 5)].map(formatSighting);
    fs.writeFileSync(sightingsFile, lines.join("\n") + "\n");
  });

  it("--board credits each scan with the token's scan period, as the kiosk does; an unknown board is refused", async () => {
    type Out = { days: Array<{ exposureMinutes: number }> };
    const minutes = async (extra: string[]): Promise<number> => {
      const r = await cli(["--keys", exportZip, "--sightings", sightingsFile, "--json", ...extra]);
      assert.equal(r.code, 0, r.stderr);
      return (JSON.parse(r.stdout) as Out).days.reduce((m, d) => m + d.exposureMinutes, 0);
    };
    // Scans at T, T+240, T+840, T+2540, then T+4341 (a new window). A phone's crediting: 255 s for a window's
    // first scan, gaps capped at 300 s. A Puck.js's: 510 s, and gaps up to its 600 s period.
    assert.equal(await minutes([]), (255 + 240 + 300 + 300 + 255) / 60);
    assert.equal(await minutes(["--board", "puckjs"]), (510 + 240 + 600 + 600 + 510) / 60);
    const r = await cli(["--keys", exportZip, "--sightings", sightingsFile, "--board", "puck"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown board "puck".*puckjs/);
  });

  it("--json prints one object: level, reason and one entry per matched sighting", () => {
    const r = cliProcess(["--keys", exportZip, "--sightings", sightingsFile, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.equal(lines.length, 1, "exactly one JSON object on stdout");
    const out = JSON.parse(lines[0]);
    assert.equal(out.level, "medium");
    assert.equal(typeof out.reason, "string");
    assert.equal(out.matches.length, sightings.length);
    const tek = Buffer.from(key.keyData).toString("hex");
    for (const [i, m] of out.matches.entries()) {
      assert.equal(m.tek, tek);
      assert.equal(m.rpi, Buffer.from(sightings[i].rpi).toString("hex"));
      assert.equal(m.enin, Math.floor(sightings[i].time / 600));
      assert.equal(m.line, i + 2);
      assert.equal(m.txPowerDbm, -4);
      assert.equal(m.reportType, "confirmedTest");
      assert.equal(m.daysSinceOnset, 0);
    }
    assert.deepEqual(
      out.matches.map((m: { window: number }) => m.window),
      [0, 0, 0, 0, 0, 1]
    );
    assert.equal(out.matches[0].bucket, "immediate");
    assert.equal(out.matches[0].score, 19.313);
    assert.deepEqual(out.days, [{ day: "2020-04-02", score: 25.688, exposureMinutes: 22.5, windows: 2 }]);
  });

  it("grades higher for a vulnerable wearer's profile and reads a risk config", async () => {
    const profile = path.join(dir, "profile.json");
    fs.writeFileSync(profile, '{"vulnerability": "high"}');
    const r = await cli(["--keys", exportZip, "--sightings", sightingsFile, "--profile", profile, "--json"]);
    assert.equal(JSON.parse(r.stdout).level, "high");
    const config = path.join(dir, "risk.json");
    fs.writeFileSync(config, '{"levelCutoffs": {"low": 30, "medium": 60, "high": 90}}');
    const r2 = await cli(["--keys", exportZip, "--sightings", sightingsFile, "--risk-config", config, "--json"]);
    assert.equal(JSON.parse(r2.stdout).level, "none");
  });

  it("prints each exposure for a person: report type, onset, time, duration, buckets, score, then the level", async () => {
    const r = await cli(["--keys", exportZip, "--sightings", sightingsFile, "--workers", "2"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /6 of 8 sighting\(s\) matched 1 of 22 published key\(s\)/);
    assert.match(r.stdout, /Exposure 1: confirmed test, 0 day\(s\) since symptom onset \(high infectiousness\)/);
    assert.match(
      r.stdout,
      /2020-04-02T10:00:10Z to 2020-04-02T10:42:30Z, about 18\.3 min: immediate 4\.3 min, near 4 min, medium 5 min, other 5 min/
    );
    assert.match(r.stdout, /score 19\.31 weighted min/);
    assert.match(r.stdout, /Level: MEDIUM/);
  });

  it("exits 2 with line numbers for a malformed sightings file", async () => {
    const bad = path.join(dir, "bad.jsonl");
    fs.writeFileSync(bad, formatSighting(plantAt(key, T)) + '\n{"time": 1, "rpi": "abcd", "rssi": -60}\n');
    const r = await cli(["--keys", exportZip, "--sightings", bad, "--json"]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /bad\.jsonl:2: "rpi" has 2 byte\(s\)/);
  });

  it("exits 2 with a clear message for a missing or unreadable input", async () => {
    for (const args of [
      ["--keys", exportZip, "--sightings", path.join(dir, "nope.jsonl")],
      ["--keys", path.join(dir, "nope.zip"), "--sightings", sightingsFile],
      ["--keys", exportZip, "--sightings", sightingsFile, "--profile", sightingsFile],
      ["--keys", exportZip, "--sightings", sightingsFile, "--workers", "0"],
      ["--sightings", sightingsFile]
    ]) {
      const r = await cli(args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /internal error| {4}at /, r.stderr);
      assert.ok(r.stderr.trim().length > 0);
    }
  });

  it("matches sightings planted from keys of a real published export (Google's 50-key fixture)", async () => {
    const fixture = path.join(repoRoot, "test", "fixtures", "gaen", "1605818700-1605819000-0001-ff23e2.zip");
    const keys = await loadKeySource(fixture);
    const infectious = keys.find((k) => k.daysSinceOnsetOfSymptoms === -1)!;
    const late = keys.find((k) => (k.daysSinceOnsetOfSymptoms ?? 0) >= 10)!;
    const t1 = (infectious.rollingStartIntervalNumber + 60) * 600;
    const t2 = (late.rollingStartIntervalNumber + 60) * 600;
    const planted = [
      ...[0, 240, 480, 720].map((dt) => plantAt(infectious, t1 + dt, { rssi: -50, prefixBytes: 6 })),
      plantAt(late, t2, { rssi: -50 })
    ];
    const file = path.join(dir, "fixture-sightings.jsonl");
    fs.writeFileSync(file, planted.map(formatSighting).join("\n"));
    const r = await cli(["--keys", fixture, "--sightings", file, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.matches.length, 5);
    const byTek = (k: ExposureKey) => out.matches.filter((m: { tek: string }) => m.tek === Buffer.from(k.keyData).toString("hex"));
    assert.equal(byTek(infectious).length, 4);
    assert.ok(byTek(infectious).every((m: { infectiousness: string; counted: boolean }) => m.infectiousness === "high" && m.counted));
    assert.deepEqual(
      byTek(late).map((m: { infectiousness: string; counted: boolean }) => [m.infectiousness, m.counted]),
      [["none", false]]
    );
    // 975 s immediate × 1.5 = 24.4 weighted min × high infectiousness 1.5 = 36.6 ≥ 30.
    assert.equal(out.level, "high");
  });
});
