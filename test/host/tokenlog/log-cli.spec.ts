import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runCli } from "../../helpers/cli";
import { parseSightings } from "../../../host-tools/src/match/sightings";
import { BASE, image, rec, segment, slotAt } from "./helpers";

/** `privatetracer log …` in this process. */
const logCli = (args: string[]) => runCli(["log", ...args]);

describe("privatetracer log (CLI)", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "log-cli-"));
  const flash = path.join(dir, "a.bin");
  const torn = segment([rec(0, 0), rec(1, 3), rec(2, 9)], { dropped: 2 });
  torn.fill(0xff, slotAt(1) + 9, slotAt(2)); // slot 1 cut before its check byte
  const img = image([
    ["pt.tek2642976", new Uint8Array(24)],
    ["pt.log1", torn],
    ["pt.log2", segment([rec(3, 0)], { utc: false, base: 30 })]
  ]);
  fs.writeFileSync(flash, img);
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("show: segments, records placed, what was skipped and why, dropped counter and time span", async () => {
    const r = await logCli(["show", flash]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Storage image, 2 log segment\(s\)/);
    assert.match(r.stdout, /pt\.log1\s+ok\s+2030-02-04T10:00:00Z\s+2\s+1\s+2/);
    assert.match(r.stdout, /pt\.log2\s+unplaced\s+uptime 30 s\s+1/);
    assert.match(r.stdout, /records: 2 placed in time/);
    assert.match(r.stdout, /1 torn record\(s\) skipped: failed the check byte/);
    assert.match(r.stdout, /1 record\(s\) not placed in time/);
    assert.match(r.stdout, /dropped \(counted by the token\): 2/);
    assert.match(r.stdout, /time span: 2030-02-04T10:00:00Z to 2030-02-04T10:09:00Z/);
  });

  it("show --json: one object with the same figures", async () => {
    const r = await logCli(["show", flash, "--json"]);
    assert.equal(r.code, 0);
    const j = JSON.parse(r.stdout);
    assert.equal(j.records, 2);
    assert.deepEqual(j.skipped, { torn: 1, rejected: 0, unplaced: 1, unreadableSegment: 0, cutOff: 0 });
    assert.equal(j.dropped, 2);
    assert.deepEqual(j.span, { first: BASE, last: BASE + 540 });
    assert.equal(j.segments.length, 2);
  });

  it("to-sightings --out writes JSON Lines the matcher reads, and counts what it left out on stderr", async () => {
    const out = path.join(dir, "a.jsonl");
    const r = await logCli(["to-sightings", flash, "--out", out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "");
    const s = parseSightings(fs.readFileSync(out, "utf8"));
    assert.deepEqual(
      s.map((x) => [x.time, x.rpi.length, x.rssi, x.aemTx]),
      [
        [BASE, 5, -50, 0x30],
        [BASE + 540, 5, -52, 0x32]
      ]
    );
    assert.match(r.stderr, /2 sighting\(s\) from 2 segment\(s\) written to/);
    assert.match(r.stderr, /1 torn record\(s\) skipped/);
    assert.match(r.stderr, /1 record\(s\) not placed in time/);
  });

  it("to-sightings without --out writes the sightings to stdout", async () => {
    const r = await logCli(["to-sightings", flash]);
    assert.equal(r.code, 0);
    assert.equal(parseSightings(r.stdout).length, 2);
  });

  it("--help describes each sub-command", async () => {
    for (const sub of ["show", "to-sightings"]) {
      const r = await logCli([sub, "--help"]);
      assert.equal(r.code, 0);
      assert.match(r.stdout, new RegExp(`Usage: privatetracer log ${sub} \\[options\\] <flash>`));
      assert.match(r.stdout, /flash image/);
    }
  });

  it("exits 2 with a message for a missing file, a file that is no image and a missing argument", async () => {
    const missing = await logCli(["show", path.join(dir, "nope.bin")]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope\.bin: cannot read: no such file or directory/);
    const text = path.join(dir, "s.jsonl");
    fs.writeFileSync(text, '{"time": 1, "rpi": "0102030405", "rssi": -60}\n');
    const notImage = await logCli(["to-sightings", text]);
    assert.equal(notImage.code, 2);
    assert.match(notImage.stderr, /not an Espruino Storage image/);
    assert.equal(notImage.stdout, "");
    const noArg = await logCli(["show"]);
    assert.equal(noArg.code, 2);
    assert.match(noArg.stderr, /missing required argument 'flash'/);
  });

  it("exits 2 for a truncated image and writes nothing; --partial converts what was readable", async () => {
    const cut = path.join(dir, "cut.bin");
    fs.writeFileSync(cut, img.subarray(0, 1000));
    const out = path.join(dir, "cut.jsonl");
    const r = await logCli(["to-sightings", cut, "--out", out]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /truncated/);
    assert.match(r.stderr, /--partial/);
    assert.ok(!fs.existsSync(out), "nothing written");
    const p = await logCli(["to-sightings", cut, "--out", out, "--partial"]);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stderr, /damaged input \(truncated, pt\.log1\)/);
    assert.ok(parseSightings(fs.readFileSync(out, "utf8")).length >= 1);
  });
});
