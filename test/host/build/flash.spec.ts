import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { planFlash } from "../../../host-tools/src/build/flash-plan";
import { loadBoard } from "../../../host-tools/src/build/boards";
import { repoRoot } from "../../../host-tools/src/paths";
import { UserError } from "../../../host-tools/src/errors";

describe("flashing a token", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flash-"));
  const bundle = path.join(dir, "puckjs.bootcde");
  fs.writeFileSync(bundle, "print(1)");

  it("writes the pretokenised bundle byte for byte as boot code with our own board JSON, offline, sets the clock and boots it", () => {
    const plan = planFlash(loadBoard("puckjs"), bundle, "c1:22:33:44:55:66", { outDir: dir });
    const args = plan.argv.slice(2);
    assert.deepEqual(args, ["--board", plan.boardJsonPath, "-p", "c1:22:33:44:55:66", "-t", "--storage", `.bootcde:${bundle}`, "-e", "load()"]);
    const json = JSON.parse(fs.readFileSync(plan.boardJsonPath, "utf8"));
    assert.equal(json.BOARD, "PUCKJS");
    assert.ok(json.info.builtin_modules.includes("Storage"), "no module download for Storage");
    assert.ok(fs.existsSync(plan.argv[1]), "the espruino uploader is installed");
  });

  it("refuses a port that is neither a Bluetooth address nor a serial device", () => {
    assert.throws(() => planFlash(loadBoard("puckjs"), bundle, "puck-1", { outDir: dir }), (e: unknown) => e instanceof UserError && /neither a Bluetooth address/.test(e.message));
  });

  it("privatetracer flash --dry-run builds, checks and prints the uploader command", () => {
    const r = spawnSync(process.execPath, [path.join(repoRoot, "bin", "privatetracer.js"), "flash", "--board", "mdbt42q", "--port", "c1:22:33:44:55:66", "--dry-run"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /espruino-cli\.js --board \S+MDBT42Q\.json -p c1:22:33:44:55:66 -t --storage \.bootcde:\S+mdbt42q\.bootcde -e load\(\)/);
  });
});
