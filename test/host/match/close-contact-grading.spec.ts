import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { UserError } from "../../../host-tools/src/errors";
import { ReportType } from "../../../host-tools/src/keys/types";
import { BOARDS_DIR, initKioskDir, openKioskDir, RISK_CONFIG_FILE } from "../../../host-tools/src/kiosk/kiosk-dir";
import { loadBoard } from "../../../host-tools/src/build/boards";
import { riskConfigForToken } from "../../../host-tools/src/kiosk/sync-round";
import { predict, tokenFeatures } from "../../../host-tools/src/match/band-classifier";
import { DEFAULT_RISK_CONFIG, RiskConfig, riskConfigFrom } from "../../../host-tools/src/match/risk-config";
import { matchExposures } from "../../../host-tools/src/match/run-match";
import { riskConfigFor } from "../../../host-tools/src/match/token-crediting";
import { Sighting } from "../../../host-tools/src/match/sightings";
import { classifierRiskConfig } from "../../../host-tools/src/sim/metrics/band-models";
import { BOARD_CODES } from "../../../firmware/src/wire/sync-messages";
import { DAY0, plant, plantAt, randomKey } from "./plant";
import { INTERVAL_SECONDS } from "../../../host-tools/src/match/derive";

/** The Puck.js schedule's crediting (a scan every 420–600 s) with the shipped close-contact model. */
const TOKEN_SCHEDULE = { meanScanIntervalSeconds: 510, scanPeriodSec: 600 };
const withModel = (): RiskConfig => riskConfigFor(TOKEN_SCHEDULE, classifierRiskConfig());
const NOON = DAY0 * INTERVAL_SECONDS + 12 * 3600;

/** A token's scans of one person: one record each, `packets` packets at `rssi` (the sender radiates −4 dBm). */
function scans(key: ReturnType<typeof randomKey>, from: number, n: number, rssi: number, packets = 3): Sighting[] {
  return Array.from({ length: n }, (_, i) => ({ ...plantAt(key, from + i * 510, { rssi, txPower: -4 }), packets, line: i + 1 }));
}

describe("grading with the close-contact classifier (docs/risk.md)", () => {
  it("warns high for an hour side by side and not for a few minutes across the room", async () => {
    const key = randomKey(DAY0);
    // Two hours at 40 dB (a hand's breadth between lanyards reads about 44 dB in the simulator).
    const near = await matchExposures([key], scans(key, NOON, 16, -44), { config: withModel() });
    assert.equal(near.level, "high", near.reason);
    assert.match(near.reason, /close to someone who later reported being ill/);
    const far = await matchExposures([key], scans(key, NOON, 2, -66), { config: withModel() });
    assert.equal(far.level, "none", far.reason);
    assert.equal(far.matches.length, 2);
  });

  it("scores a person-day as high × (p − p0) / (cut − p0) × the key's weights, so the model's cut is the high cut-off", async () => {
    const key = randomKey(DAY0, { reportType: ReportType.SelfReport, daysSinceOnsetOfSymptoms: 0 });
    const cfg = withModel();
    const sightings = scans(key, NOON, 4, -62, 2);
    const r = await matchExposures([key], sightings, { config: cfg });
    const credits = r.windows.flatMap((w) =>
      w.window.scans.map((s) => ({ time: s.time, attenuationDb: s.typicalAttenuationDb, packets: 2, seconds: s.secondsSinceLastScan }))
    );
    const m = cfg.closeContactModel!;
    const p = predict(m, tokenFeatures(credits));
    const p0 = predict(m, tokenFeatures([]));
    assert.ok(p > p0);
    // A self report (0.8) on a day of high infectiousness (1.5).
    const want = ((30 * (p - p0)) / (m.cut - p0)) * 0.8 * 1.5;
    assert.equal(r.days.length, 1);
    assert.ok(Math.abs(r.days[0].score - want) < 1e-9, `${r.days[0].score} vs ${want}`);
    // Credited with the token's schedule: the first scan the mean interval, the rest the 510 s between them.
    assert.equal(Math.round(r.days[0].exposureMinutes), Math.round((4 * 510) / 60));
  });

  it("judges each UTC day of a person's scans on its own, and ignores keys whose weight is zero", async () => {
    const key = randomKey(DAY0);
    // Heard across midnight: the key's last RPI stays on the air until the sender rotates (the matcher allows ±2 h).
    const last = DAY0 + 143;
    const twoDays = [0, 510, 1020, 1530].map((dt, i) => ({
      ...plant(key, last, { offsetSeconds: dt, rssi: -50, txPower: -4 }),
      packets: 3,
      line: i + 1
    }));
    const r = await matchExposures([key], twoDays, { config: withModel() });
    assert.deepEqual(
      r.days.map((d) => d.day),
      ["2020-04-02", "2020-04-03"]
    );
    const recursive = randomKey(DAY0, { reportType: ReportType.Recursive });
    const none = await matchExposures([recursive], scans(recursive, NOON, 8, -50), { config: withModel() });
    assert.equal(none.matches.length, 8);
    assert.equal(none.days.length, 0);
    assert.equal(none.level, "none");
  });

  it("tells the carer the minutes of the graded person-days only, not of everyone heard far away that day", async () => {
    const close = randomKey(DAY0);
    const far = Array.from({ length: 5 }, () => randomKey(DAY0));
    const sightings = [...scans(close, NOON, 8, -50), ...far.flatMap((k, i) => scans(k, NOON + 60 + i * 7, 8, -75))];
    const r = await matchExposures([close, ...far], sightings, { config: withModel() });
    assert.equal(r.matches.length, 48);
    assert.equal(r.days.length, 1);
    assert.equal(Math.round(r.days[0].exposureMinutes), Math.round((8 * 510) / 60), "the close person's 68 minutes, not 6 × 68");
    assert.equal(r.days[0].windows, 1);
    assert.match(r.reason, /about 68 minutes/);
    // Two close people the same day: their scores and minutes add up, as windows do with weighted minutes.
    const other = randomKey(DAY0);
    const two = await matchExposures([close, other], [...scans(close, NOON, 8, -50), ...scans(other, NOON + 30, 8, -50)], {
      config: withModel()
    });
    const one = await matchExposures([close], scans(close, NOON, 8, -50), { config: withModel() });
    assert.ok(Math.abs(two.days[0].score - 2 * one.days[0].score) < 1e-9);
    assert.equal(Math.round(two.days[0].exposureMinutes), 2 * Math.round(one.days[0].exposureMinutes));
  });

  it("weighs a scan's attenuation by the packets its record averaged when smoothing across the stay", async () => {
    const key = randomKey(DAY0);
    // One close scan among far ones: counted as 8 packets, it pulls its neighbours' smoothed attenuation down.
    const mixed = (closePackets: number): Sighting[] =>
      scans(key, NOON, 6, -66, 1).map((s, i) => (i === 2 ? { ...s, rssi: -44, packets: closePackets } : s));
    const light = await matchExposures([key], mixed(1), { config: withModel() });
    const heavy = await matchExposures([key], mixed(8), { config: withModel() });
    const score = (r: typeof light): number => r.days[0]?.score ?? 0;
    assert.ok(score(heavy) > score(light), `${score(heavy)} > ${score(light)}`);
  });

  it("refuses a model of the wrong shape with a message naming the field", () => {
    const model = classifierRiskConfig().closeContactModel!;
    assert.throws(
      () => riskConfigFrom({ closeContactModel: { weights: model.weights.slice(1), cut: model.cut } }),
      (e: unknown) => e instanceof UserError && /closeContactModel\/weights/.test(e.message)
    );
    assert.throws(
      () => riskConfigFrom({ closeContactModel: { weights: model.weights, cut: 1 } }),
      (e: unknown) => e instanceof UserError && /closeContactModel\/cut/.test(e.message)
    );
    // A cut no higher than the model's probability for someone never heard (sigmoid of the intercept, about 0.013).
    assert.throws(
      () => riskConfigFrom({ closeContactModel: { weights: model.weights, cut: 0.01 } }),
      (e: unknown) => e instanceof UserError && /closeContactModel\/cut 0.01 is not above/.test(e.message)
    );
    assert.equal(riskConfigFrom({ closeContactModel: null }).closeContactModel, null);
    assert.equal(DEFAULT_RISK_CONFIG.closeContactModel, null, "weighted minutes unless a kiosk is configured otherwise");
  });
});

describe("the kiosk grades with the token's own schedule and its directory's risk config", () => {
  let root: string;
  before(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), "pt-grading-"))));
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it("credits a Puck.js's scans with its 510 s mean interval and 600 s period, not a phone's 255 s and 5 min", () => {
    const c = riskConfigForToken({ board: BOARD_CODES.indexOf("puckjs") });
    assert.deepEqual(c.config.scan, { ...DEFAULT_RISK_CONFIG.scan, assumedScanIntervalSeconds: 510, maxSecondsPerScan: 600 });
    assert.equal(c.fallback, null);
    const unknown = riskConfigForToken({ board: 0 });
    assert.deepEqual(unknown.config, DEFAULT_RISK_CONFIG, "a board the kiosk does not know keeps the config's own");
    assert.match(unknown.fallback ?? "", /credited as a phone's.*board code 0/);
    const base = classifierRiskConfig();
    assert.deepEqual(
      riskConfigForToken({ board: BOARD_CODES.indexOf("banglejs2") }, base).config.closeContactModel,
      base.closeContactModel
    );
  });

  it("keeps the config's crediting when the token's board config is damaged, and says which file to mend", () => {
    const boards = path.join(root, "boards");
    fs.mkdirSync(boards);
    fs.writeFileSync(path.join(boards, "puckjs.json"), '{"id": "puckjs", "schedule": ');
    const c = riskConfigForToken({ board: BOARD_CODES.indexOf("puckjs") }, DEFAULT_RISK_CONFIG, boards);
    assert.deepEqual(c.config, DEFAULT_RISK_CONFIG);
    assert.match(c.fallback ?? "", /could not read its puckjs board config/);
  });

  it("credits with the kiosk's own board config (a token built to scan every 300 s) before the shipped one", () => {
    const dir = path.join(root, "kiosk-own-boards");
    fs.mkdirSync(path.join(dir, BOARDS_DIR), { recursive: true });
    const puck = loadBoard("puckjs");
    const rebuilt = { ...puck, schedule: { ...puck.schedule, scanPeriodSec: 300, scanJitterSec: 90 } };
    fs.writeFileSync(path.join(dir, BOARDS_DIR, "puckjs.json"), JSON.stringify(rebuilt));
    const k = initKioskDir(dir);
    k.store.close();
    assert.equal(k.boardDir, path.join(dir, BOARDS_DIR));
    const own = riskConfigForToken({ board: BOARD_CODES.indexOf("puckjs") }, DEFAULT_RISK_CONFIG, k.boardDir);
    assert.equal(own.fallback, null);
    // The first scan of a window stands for the mean interval: 300 − 90 / 2.
    assert.equal(own.config.scan.assumedScanIntervalSeconds, 255);
    const shipped = riskConfigForToken({ board: BOARD_CODES.indexOf("banglejs2") }, DEFAULT_RISK_CONFIG, k.boardDir);
    assert.equal(shipped.config.scan.assumedScanIntervalSeconds, 510, "a board the kiosk has no config of: the shipped one");
    const plain = initKioskDir(path.join(root, "kiosk-shipped"));
    plain.store.close();
    assert.equal(plain.boardDir, undefined);
  });

  it("reads DIR/risk-config.json when it opens, and refuses one that does not load, naming the file", () => {
    const dir = path.join(root, "kiosk");
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, RISK_CONFIG_FILE), JSON.stringify({ closeContactModel: classifierRiskConfig().closeContactModel }));
    const k = initKioskDir(dir);
    k.store.close();
    assert.deepEqual(openKioskDir(dir).riskConfig.closeContactModel, classifierRiskConfig().closeContactModel);
    fs.writeFileSync(path.join(dir, RISK_CONFIG_FILE), JSON.stringify({ closeContactModel: { cut: 0.2 } }));
    // A session copy left by a kiosk killed mid-sync holds a token's log in the clear: it goes even when the config stops the kiosk.
    fs.mkdirSync(path.join(dir, "work", "session-1"), { recursive: true });
    assert.throws(
      () => openKioskDir(dir),
      (e: unknown) => e instanceof UserError && e.message.includes(RISK_CONFIG_FILE)
    );
    assert.deepEqual(fs.readdirSync(path.join(dir, "work")), []);
  });
});
