import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Scenario } from "../../../host-tools/src/sim/world/scenario";
import { simulateCli } from "../../helpers/cli";

const simulate = (args: string[]): ReturnType<typeof simulateCli> => simulateCli(args, 120_000);

/** A small ward: three token wearers and a nurse with a phone sharing one room (the care home takes longer to run). */
const ward: Scenario = {
  name: "ward",
  startDate: "2030-02-04",
  rooms: [
    { id: "ward", kind: "bedroom", x: 0, y: 0, w: 6, h: 4 },
    { id: "corridor", kind: "corridor", x: 0, y: 4, w: 12, h: 2 }
  ],
  people: ["a", "b", "c"]
    .map((id, i) => ({
      id,
      role: "resident",
      device: { kind: "token" as const },
      schedule: [{ from: "00:00", to: "24:00", rooms: ["ward"], at: [1 + 2 * i, 2] as [number, number] }]
    }))
    .concat([
      {
        id: "nurse",
        role: "staff",
        device: { kind: "phone" as const },
        schedule: [{ from: "08:00", to: "16:00", rooms: ["ward", "corridor"], dwellMinutes: 10 }]
      } as never
    ])
};

describe("privatetracer simulate", () => {
  it("--json prints one object with days, tokens, seed, wallSeconds, packets and close contacts; --out writes results", () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "sim-out-"));
    const file = path.join(out, "ward.json");
    fs.writeFileSync(file, JSON.stringify(ward));
    try {
      const r = simulate(["--scenario", file, "--days", "1", "--seed", "3", "--firmware", "stand-in", "--json", "--out", out]);
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stdout.trim().split("\n");
      assert.equal(lines.length, 1, "exactly one line on stdout");
      const j = JSON.parse(lines[0]);
      assert.equal(j.days, 1);
      assert.equal(j.seed, 3);
      assert.equal(j.tokens, 3);
      assert.equal(j.phones, 1);
      assert.equal(j.firmware, "stand-in");
      assert.equal(typeof j.wallSeconds, "number");
      // No progress bar when stderr is not a terminal.
      assert.doesNotMatch(r.stderr, /simulating/);
      const gt = JSON.parse(fs.readFileSync(path.join(out, "ground-truth.json"), "utf8"));
      assert.equal(gt.closeContactPairs, j.groundTruth.closeContactPairs);
      const sightings = fs
        .readFileSync(path.join(out, "sightings", "a.jsonl"), "utf8")
        .trim()
        .split("\n");
      assert.deepEqual(Object.keys(JSON.parse(sightings[0])), ["time", "rpi", "rssi", "aem"]);
      const tokens: Array<{ person: string; packetsHeard: number; sightings: number }> = JSON.parse(
        fs.readFileSync(path.join(out, "tokens.json"), "utf8")
      );
      const phones: Array<{ packetsHeard: number }> = JSON.parse(fs.readFileSync(path.join(out, "phones.json"), "utf8"));
      assert.deepEqual(
        tokens.map((t) => t.person),
        ["a", "b", "c"]
      );
      // Every packet the radio delivered reached one token or phone, and each sighting written is one the token logged.
      assert.equal(
        j.packets,
        [...tokens, ...phones].reduce((n, d) => n + d.packetsHeard, 0)
      );
      assert.equal(sightings.length, tokens[0].sightings);
      // The ward's definition: a, b and c sit 2 m apart in a row all day (a and c 4 m apart), so a-b and b-c are
      // within 2 m for all 1440 minutes and a-c is never within 3 m; the nurse can only add contacts.
      const pair = (x: string, y: string) => gt.days[0].pairs.find((p: { a: string; b: string }) => p.a === x && p.b === y);
      assert.equal(pair("a", "b").within2m, 1440);
      assert.equal(pair("b", "c").within2m, 1440);
      assert.equal(pair("a", "c"), undefined);
      assert.ok(j.groundTruth.closeContactPairs >= 2);
      assert.equal(j.groundTruth.closeContactPairs, gt.days[0].pairs.filter((p: { within2m: number }) => p.within2m >= 15).length);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  it("names the problem when the scenario is unknown or the options are bad", () => {
    const r = simulate(["--scenario", "no-such-place", "--days", "1"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown scenario "no-such-place".*care-home/);
    const d = simulate(["--days", "0"]);
    assert.equal(d.status, 2);
    assert.match(d.stderr, /--days must be a whole number ≥ 1/);
    const s = simulate(["--start", "tomorrow", "--days", "1"]);
    assert.equal(s.status, 2);
    assert.match(s.stderr, /startDate/);
  });
});
