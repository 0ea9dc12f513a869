import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { DEFAULT_LOG_MIN_RSSI_DBM, boardConstants, defineMap, listBoards, loadBoard, validateBoardData } from "../../host-tools/src/build/boards";
import { boardConfigDir } from "../../host-tools/src/paths";
import { UserError } from "../../host-tools/src/errors";

describe("board configs", () => {
  it("lists the four supported boards", () => {
    assert.deepEqual(listBoards(), ["banglejs2", "mdbt42q", "pixljs", "puckjs"]);
  });

  for (const id of ["banglejs2", "mdbt42q", "pixljs", "puckjs"]) {
    it(`${id}.json validates against the schema`, () => {
      const cfg = loadBoard(id);
      assert.equal(cfg.id, id);
    });
  }

  it("records the crypto each board has natively, as espruino.md states", () => {
    assert.deepEqual(loadBoard("puckjs").crypto, { sha256: true, aes: true });
    assert.deepEqual(loadBoard("mdbt42q").crypto, { sha256: true, aes: false });
    assert.deepEqual(loadBoard("pixljs").crypto, { sha256: false, aes: false });
    assert.deepEqual(loadBoard("banglejs2").crypto, { sha256: true, aes: false });
  });

  it("keeps non-connectable advertising at or above Espruino's 100 ms minimum", () => {
    for (const id of listBoards()) assert.ok(loadBoard(id).schedule.advertIntervalMs >= 100);
  });

  const puck = JSON.parse(fs.readFileSync(path.join(boardConfigDir, "puckjs.json"), "utf8"));

  it("rejects a config missing a required field, naming it", () => {
    const bad = { ...puck };
    delete bad.crypto;
    assert.throws(() => validateBoardData(bad, "puckjs.json"), (e: unknown) => e instanceof UserError && /crypto/.test(e.message));
  });

  it("rejects a tx power the radio does not offer", () => {
    const bad = { ...puck, radio: { ...puck.radio, txPowerDbm: 3 } };
    assert.throws(() => validateBoardData(bad, "puckjs.json"), /txPowerDbm 3 is not one of/);
  });

  it("rejects an advertising interval below 100 ms", () => {
    const bad = { ...puck, schedule: { ...puck.schedule, advertIntervalMs: 50 } };
    assert.throws(() => validateBoardData(bad, "puckjs.json"), /advertIntervalMs/);
  });

  it("rejects a scan jitter as long as the scan period", () => {
    const jitter = { ...puck, schedule: { ...puck.schedule, scanPeriodSec: 60, scanJitterSec: 60 } };
    assert.throws(() => validateBoardData(jitter, "puckjs.json"), /scanJitterSec must be shorter than scanPeriodSec/);
  });

  it("gives every shipped board the flood budget its schedule earns: 128 rows an hour at a window every 510 s", () => {
    for (const id of listBoards()) {
      const cfg = loadBoard(id);
      const constants = boardConstants(cfg, 1);
      const budget = constants.schedule.floodHourBudget;
      assert.equal(budget, Math.round((128 * 510) / (cfg.schedule.scanPeriodSec - cfg.schedule.scanJitterSec / 2)), id);
      assert.equal(defineMap(constants)["BOARD.schedule.floodHourBudget"], String(budget), id);
    }
  });

  it("inlines the logging floor, taking the schema's documented default when a config gives none", () => {
    const schema = JSON.parse(fs.readFileSync(path.join(boardConfigDir, "board.schema.json"), "utf8"));
    assert.equal(schema.properties.schedule.properties.logMinRssiDbm.default, DEFAULT_LOG_MIN_RSSI_DBM);
    const schedule = { ...puck.schedule };
    delete schedule.logMinRssiDbm;
    const cfg = validateBoardData({ ...puck, schedule }, "puckjs.json");
    assert.equal(defineMap(boardConstants(cfg, 1))["BOARD.schedule.logMinRssiDbm"], String(DEFAULT_LOG_MIN_RSSI_DBM));
    const set = validateBoardData({ ...puck, schedule: { ...puck.schedule, logMinRssiDbm: -80 } }, "puckjs.json");
    assert.equal(defineMap(boardConstants(set, 1))["BOARD.schedule.logMinRssiDbm"], "-80");
  });

  it("rejects a logging floor that is not a whole dBm between -127 and 0", () => {
    for (const v of [5, -128, -70.5, "-70"]) {
      const bad = { ...puck, schedule: { ...puck.schedule, logMinRssiDbm: v } };
      assert.throws(() => validateBoardData(bad, "puckjs.json"), (e: unknown) => e instanceof UserError && /logMinRssiDbm/.test(e.message), String(v));
    }
  });

  it("rejects an unknown board with the list of known ones", () => {
    assert.throws(() => loadBoard("arduino"), /unknown board "arduino"; known boards: banglejs2, mdbt42q, pixljs, puckjs/);
  });

  it("flattens board constants into bundler defines, absent LEDs as null", () => {
    const defs = defineMap(boardConstants(loadBoard("mdbt42q"), 1));
    assert.equal(defs["BOARD.crypto.aes"], "false");
    assert.equal(defs["BOARD.leds.red"], '"LED1"');
    assert.equal(defs["BOARD.leds.blue"], "null");
    assert.equal(defs["BOARD.buildTime"], "1");
  });
});
