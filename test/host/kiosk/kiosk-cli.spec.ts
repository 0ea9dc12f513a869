import { classifierRiskConfig } from "../../../host-tools/src/sim/metrics/band-models";
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { MASTER_KEY_FILE, RISK_CONFIG_FILE } from "../../../host-tools/src/kiosk/kiosk-dir";
import { boardConfigDir } from "../../../host-tools/src/paths";
import { generateKioskKey, kioskSecretToJson } from "../../../host-tools/src/keys/kiosk-identity";
import { PASSPHRASE_ENV } from "../../../host-tools/src/provision/store";
import { readStorageImage } from "../../../host-tools/src/tokenlog/storage-image";
import { SETTINGS_FILE } from "../../../firmware/src/wire/settings";
import { runCli } from "../../helpers/cli";
import { testBundle } from "../../helpers/firmware";
import { TOKEN_ID, publishedBatch, writeEnrolmentStore, writeExposedImage } from "./exposed-token";

/**
 * `privatetracer kiosk`: a kiosk made, the care home's tokens imported from
 * the enrolment store, a token in its sync window synced (over the simulated
 * radio, from its flash image), the exposure in its log found against a
 * published export and the warning written to the token's flash.
 */

const PASS = "correct horse battery staple";

describe("privatetracer kiosk: init, import, sync, status", function () {
  this.timeout(180_000);
  let root: string;
  const savedPass = process.env[PASSPHRASE_ENV];
  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "pt-kiosk-cli-"));
    process.env[PASSPHRASE_ENV] = PASS;
    await testBundle("puckjs");
  });
  after(() => {
    fs.rmSync(root, { recursive: true, force: true });
    if (savedPass === undefined) delete process.env[PASSPHRASE_ENV];
    else process.env[PASSPHRASE_ENV] = savedPass;
  });

  it("a kiosk is made once; the care home's tokens are enrolled; a token in its window is synced and shows the warning", async () => {
    const dir = path.join(root, "kiosk");
    let r = await runCli(["kiosk", "init", "--dir", dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.statSync(path.join(dir, MASTER_KEY_FILE)).mode & 0o777, 0o600);
    r = await runCli(["kiosk", "init", "--dir", dir]);
    assert.equal(r.code, 2, "a second init would lose the master key");
    assert.match(r.stderr, /already holds a kiosk/);

    const store = path.join(root, "home.ptstore");
    writeEnrolmentStore(store, PASS);
    r = await runCli(["kiosk", "import", "--dir", dir, "--store", store]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /1 token\(s\) enrolled, 0 already enrolled/);
    r = await runCli(["kiosk", "import", "--dir", dir, "--store", store]);
    assert.match(r.stdout, /0 token\(s\) enrolled, 1 already enrolled/);

    const image = path.join(root, "room12.bin");
    await writeExposedImage(image);
    const keys = path.join(root, "keys.zip");
    fs.writeFileSync(keys, await publishedBatch());
    r = await runCli(["kiosk", "sync", "--dir", dir, "--keys", keys, "--transport", "sim", "--sim-flash", image, "--json"]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const out = JSON.parse(r.stdout) as {
      rounds: Array<{ label: string; outcome: string; written: { level: number } | null; matched: number }>;
    };
    assert.equal(out.rounds.length, 1);
    assert.equal(out.rounds[0].label, "Room 12");
    assert.equal(out.rounds[0].outcome, "ok");
    assert.ok(out.rounds[0].matched >= 30);
    assert.ok(out.rounds[0].written && out.rounds[0].written.level >= 1);
    // The warning is in the token's flash, where its LEDs read it.
    const cfg = readStorageImage(new Uint8Array(fs.readFileSync(image))).files.get(SETTINGS_FILE);
    assert.ok(cfg && cfg[0] === out.rounds[0].written.level, "written to the token");

    r = await runCli(["kiosk", "status", "--dir", dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Room 12 .* (low|high — ask staff) +\d+ d/);
    r = await runCli(["kiosk", "status", "--dir", dir, "--json"]);
    const st = JSON.parse(r.stdout) as Array<{ tokenId: string; historyDays: number; lastOutcome: string }>;
    assert.equal(st[0].tokenId, TOKEN_ID);
    assert.equal(st[0].lastOutcome, "ok");
    assert.ok(st[0].historyDays >= 5, `${st[0].historyDays} days kept`);
    // Nothing of the token's log is readable in the kiosk's directory.
    assert.deepEqual(fs.readdirSync(path.join(dir, "work")), []);

    // The service, for one pass: one JSON line per event.
    r = await runCli([
      "kiosk",
      "serve",
      "--dir",
      dir,
      "--keys",
      keys,
      "--transport",
      "sim",
      "--sim-flash",
      image,
      "--passes",
      "1",
      "--json"
    ]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { kind: string; at: string; keys?: number });
    assert.deepEqual(
      lines.map((l) => l.kind),
      ["beacon", "keys", "index", "pass", "stopped"]
    );
    assert.equal((lines[0] as { on?: boolean }).on, true, "imported with the home's key: the beacon is on the air");
    assert.equal(lines[1].keys, 1);
    assert.ok(!Number.isNaN(Date.parse(lines[0].at)));
  });

  it("kiosk diagnose: without the wearer's press nothing is uploaded (exit 1); an unknown token is named (exit 2)", async () => {
    const dir = path.join(root, "diag");
    assert.equal((await runCli(["kiosk", "init", "--dir", dir])).code, 0);
    const store = path.join(root, "diag.ptstore");
    writeEnrolmentStore(store, PASS);
    assert.equal((await runCli(["kiosk", "import", "--dir", dir, "--store", store])).code, 0);
    const image = path.join(root, "diag.bin");
    await writeExposedImage(image);
    const key = path.join(root, "kiosk.key");
    fs.writeFileSync(key, kioskSecretToJson(generateKioskKey("common-room")), { mode: 0o600 });
    const uploads = path.join(root, "uploads");
    fs.mkdirSync(uploads);
    const args = [
      "--dir",
      dir,
      "--code",
      "ABCD-EFGH-JKMN-PQRS",
      "--kiosk-key",
      key,
      "--upload-dir",
      uploads,
      "--transport",
      "sim",
      "--sim-flash",
      image
    ];
    let r = await runCli(["kiosk", "diagnose", "--token", "Room 12", "--consent-seconds", "5", ...args]);
    assert.equal(r.code, 1, r.stderr + r.stdout);
    assert.match(r.stdout, /did not press the button.*nothing was released or uploaded/);
    assert.deepEqual(fs.readdirSync(uploads), []);
    r = await runCli(["kiosk", "diagnose", "--token", "Room 99", ...args]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Room 99.*not enrolled/);
  });

  it("a kiosk directory that is not one, and a world-readable master key, are refused with what to do", async () => {
    let r = await runCli(["kiosk", "status", "--dir", path.join(root, "nothing")]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /kiosk init/);
    const dir = path.join(root, "loose");
    assert.equal((await runCli(["kiosk", "init", "--dir", dir])).code, 0);
    fs.chmodSync(path.join(dir, MASTER_KEY_FILE), 0o644);
    r = await runCli(["kiosk", "status", "--dir", dir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /chmod 600/);
  });

  it("status says how warnings are graded; a risk-config.json that does not load stops the kiosk, naming the field", async () => {
    const dir = path.join(root, "graded");
    assert.equal((await runCli(["kiosk", "init", "--dir", dir])).code, 0);
    let r = await runCli(["kiosk", "status", "--dir", dir]);
    assert.match(r.stdout, /Warnings are graded by weighted minutes, the defaults/);
    const model = classifierRiskConfig().closeContactModel;
    fs.writeFileSync(path.join(dir, RISK_CONFIG_FILE), JSON.stringify({ closeContactModel: model }));
    r = await runCli(["kiosk", "status", "--dir", dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /graded by the close-contact classifier \(cut 0\.\d+\), as risk-config\.json in the kiosk's directory says/);
    fs.writeFileSync(path.join(dir, RISK_CONFIG_FILE), JSON.stringify({ closeContactModel: { ...model, cut: 2 } }));
    r = await runCli(["kiosk", "status", "--dir", dir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /risk-config\.json.*closeContactModel\/cut/);
  });

  it("status names the boards the kiosk credits with its own configs, and the ones that do not load", async () => {
    const dir = path.join(root, "own-boards");
    assert.equal((await runCli(["kiosk", "init", "--dir", dir])).code, 0);
    fs.mkdirSync(path.join(dir, "boards"));
    fs.copyFileSync(path.join(boardConfigDir, "puckjs.json"), path.join(dir, "boards", "puckjs.json"));
    fs.writeFileSync(path.join(dir, "boards", "pixljs.json"), '{"id": "pixljs"');
    const r = await runCli(["kiosk", "status", "--dir", dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Scans of puckjs tokens are credited with the schedule in the kiosk's boards\/ directory/);
    assert.match(r.stdout, /do not load.*\n {2}boards\/pixljs\.json: /);
  });
});
