import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { classifierRiskConfig } from "../../../host-tools/src/sim/metrics/band-models";
import { loadBoard } from "../../../host-tools/src/build/boards";
import { runCli as cli } from "../../helpers/cli";
import { buildExportZip } from "../../../host-tools/src/keys/export-file";
import { ExposureKey, ReportType } from "../../../host-tools/src/keys/types";
import { createEmulatedToken } from "../../../host-tools/src/sim/espruino";
import { runWorld } from "../../../host-tools/src/sim/world/runner";
import { Scenario } from "../../../host-tools/src/sim/world/scenario";
import { readOwnKeys } from "../../../host-tools/src/tokenlog/own-keys";
import { tokenFilesFromImage } from "../../../host-tools/src/tokenlog/token-files";
import { testBundle } from "../../helpers/firmware";

/**
 * From a token's flash to a graded match, the way a kiosk would do it: a and
 * b sit 1 m apart for an hour, c sits in the same spot later that day (so a
 * never hears c). b's own keys, read from b's flash, go into an export; a's
 * flash image (as `simulate --out` writes it) goes through `log
 * to-sightings`; `match` must find b with b's real transmit power, decrypted
 * from the single AEM byte a logged, and must not find c.
 *
 * MDBT42Q radiates −6 dBm, not the matcher's default −4, so only a real
 * decryption gives the right power.
 */
const BOARD = "mdbt42q";
const sit = (id: string, x: number, from: string, to: string) => ({
  id,
  role: "resident",
  device: { kind: "token" as const },
  schedule: [{ from, to, rooms: ["hall"], at: [x, 3] as [number, number] }]
});
const scenario: Scenario = {
  name: "pair",
  startDate: "2030-02-04",
  rooms: [{ id: "hall", kind: "lounge", x: 0, y: 0, w: 20, h: 6 }],
  people: [sit("a", 2, "10:00", "11:00"), sit("b", 3, "10:00", "11:00"), sit("c", 3, "14:00", "15:00")]
};

async function writeExport(file: string, keys: ExposureKey[]): Promise<void> {
  const diagnosed = keys.map((k) => ({ ...k, reportType: ReportType.ConfirmedTest, daysSinceOnsetOfSymptoms: 0 }));
  const start = Math.min(...keys.map((k) => k.rollingStartIntervalNumber)) * 600;
  const zip = await buildExportZip({
    startTimestamp: start,
    endTimestamp: start + 86400,
    region: "XX",
    batchNum: 1,
    batchSize: 1,
    signatureInfos: [],
    keys: diagnosed,
    revisedKeys: []
  });
  fs.writeFileSync(file, zip);
}

describe("tokenlog end to end: token flash → sightings → match", function () {
  this.timeout(180_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tokenlog-e2e-"));
  const flashOf: Record<string, Uint8Array> = {};
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  before(async () => {
    const code = (await testBundle(BOARD)).code;
    const board = loadBoard(BOARD);
    const world = await runWorld({
      scenario,
      days: 1,
      seed: 11,
      defaultBoard: BOARD,
      loadBoard: () => board,
      bundleFor: () => code,
      makeToken: createEmulatedToken,
      keepTokens: true
    });
    for (const [id, t] of world.emulated!) flashOf[id] = (t as unknown as { flash: { bytes: Uint8Array } }).flash.bytes.slice();
    fs.writeFileSync(path.join(dir, "a.bin"), flashOf.a);
    await writeExport(path.join(dir, "b.zip"), readOwnKeys(tokenFilesFromImage(flashOf.b, "b.bin")));
    await writeExport(path.join(dir, "c.zip"), readOwnKeys(tokenFilesFromImage(flashOf.c, "c.bin")));
  });

  it("converts a's flash image to sightings with the CLI", async () => {
    const r = await cli(["log", "to-sightings", path.join(dir, "a.bin"), "--out", path.join(dir, "a.jsonl")]);
    assert.equal(r.code, 0, r.stderr);
    const lines = fs.readFileSync(path.join(dir, "a.jsonl"), "utf8").trim().split("\n");
    assert.ok(lines.length >= 4, `${lines.length} sightings in an hour 1 m apart`);
    for (const l of lines) assert.match(l, /^\{"time":\d+,"rpi":"[0-9a-f]{10}","rssi":-\d+,"aemTx":"[0-9a-f]{2}","packets":[1-8]\}$/);
    assert.ok(
      lines.some((l) => (JSON.parse(l) as { packets: number }).packets > 1),
      "a record that averaged more than one packet"
    );
  });

  it("matches b's keys, with b's transmit power (−6 dBm) decrypted from the one logged AEM byte", async () => {
    const r = await cli(["match", "--keys", path.join(dir, "b.zip"), "--sightings", path.join(dir, "a.jsonl"), "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as {
      level: string;
      matches: Array<{ tek: string; txPowerDbm: number; txPowerSource: string; time: number }>;
    };
    assert.ok(j.matches.length >= 4, `${j.matches.length} matched sightings`);
    const bKeys = new Set(readOwnKeys(tokenFilesFromImage(flashOf.b, "b.bin")).map((k) => Buffer.from(k.keyData).toString("hex")));
    for (const m of j.matches) {
      assert.ok(bKeys.has(m.tek), "matched one of b's keys");
      assert.equal(m.txPowerSource, "aem");
      assert.equal(m.txPowerDbm, loadBoard(BOARD).radio.radiatedTxPowerDbm);
    }
    const start = Date.parse("2030-02-04T10:00:00Z") / 1000;
    assert.ok(
      j.matches.every((m) => m.time >= start - 600 && m.time <= start + 3600 + 600),
      "matches lie in the hour a and b sat together"
    );
    assert.notEqual(j.level, "none", "an hour at 1 m is an exposure");
  });

  it("grades the export with the close-contact classifier exactly as the flash image itself", async () => {
    const config = path.join(dir, "classifier.json");
    fs.writeFileSync(config, JSON.stringify({ closeContactModel: classifierRiskConfig().closeContactModel }));
    const common = ["--keys", path.join(dir, "b.zip"), "--risk-config", config, "--board", BOARD, "--json"];
    const fromFlash = await cli(["match", "--flash", path.join(dir, "a.bin"), ...common]);
    const fromExport = await cli(["match", "--sightings", path.join(dir, "a.jsonl"), ...common]);
    assert.equal(fromFlash.code, 0, fromFlash.stderr);
    assert.equal(fromExport.code, 0, fromExport.stderr);
    const graded = (out: string) => {
      const j = JSON.parse(out) as { level: string; days: Array<{ day: string; score: number; exposureMinutes: number }> };
      return { level: j.level, days: j.days };
    };
    assert.ok(graded(fromFlash.stdout).days.length > 0, "a graded day");
    assert.deepEqual(graded(fromExport.stdout), graded(fromFlash.stdout));
  });

  it("does not match a third token's keys (same spot, other time)", async () => {
    const r = await cli(["match", "--keys", path.join(dir, "c.zip"), "--sightings", path.join(dir, "a.jsonl"), "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { level: string; matches: unknown[]; keys: number };
    assert.ok(j.keys >= 1, "c's key was in the export");
    assert.equal(j.matches.length, 0);
    assert.equal(j.level, "none");
  });
});
