import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { Scenario } from "../../host-tools/src/sim/world/scenario";
import { tempDir } from "./keys/helpers";
import { BatchResult, cliBatch } from "./keys/hardening-helpers";

/**
 * Issue 15, item 6: `simulate --days` with a huge number ran forever (no
 * upper bound), a seed past 2^32 silently gave another seed's run, an
 * impossible `--start` date rolled over to the next month, and `--out` gave a
 * stack trace (exit 70) on a full disk or when an output path was the wrong
 * kind. The commands run in one child process with a time limit, so a run
 * that never ends fails this spec instead of stopping the test run.
 */

/** Two tokens side by side for a day: the smallest run that writes every kind of output. */
const ward: Scenario = {
  name: "ward",
  startDate: "2030-02-04",
  rooms: [{ id: "ward", kind: "bedroom", x: 0, y: 0, w: 6, h: 4 }],
  people: ["a", "b"].map((id, i) => ({
    id,
    role: "resident",
    device: { kind: "token" as const },
    schedule: [{ from: "00:00", to: "24:00", rooms: ["ward"], at: [1 + 2 * i, 2] as [number, number] }]
  }))
};

interface Case {
  name: string;
  args: string[];
  code: number;
  stderr: RegExp;
  /** Checked after the run: what was (not) left in the output directory. */
  after?: () => void;
}

describe("hardening: simulate's ranges and output (issue 15, item 6)", function () {
  this.timeout(600_000);
  const dir = tempDir("sim-hard");
  const scenario = path.join(dir, "ward.json");
  const base = ["simulate", "--scenario", scenario, "--firmware", "stand-in", "--json"];
  const out = (name: string): string => path.join(dir, name);
  const tmpLeft = (d: string): string[] => fs.readdirSync(d).filter((f) => f.endsWith(".tmp"));
  const cases: Case[] = [
    {
      name: "--seed past 2^32 is refused",
      args: [...base, "--days", "1", "--seed", "99999999999999999999"],
      code: 2,
      stderr: /--seed must be a whole number ≥ 0 and ≤ 4294967295/
    },
    {
      name: "--threshold-db past one byte is refused",
      args: [...base, "--days", "1", "--threshold-db", "100000"],
      code: 2,
      stderr: /--threshold-db must be a whole number ≥ 0 and ≤ 255/
    },
    {
      name: "--days 1e20 is refused with the range",
      args: [...base, "--days", "1e20"],
      code: 2,
      stderr: /--days must be a whole number ≥ 1 and ≤ 366/
    },
    {
      name: "--start 2024-02-30 is refused, not read as 2024-03-01",
      args: [...base, "--days", "1", "--start", "2024-02-30"],
      code: 2,
      stderr: /startDate: "2024-02-30" is not a real date/
    },
    {
      name: "--start before 2020 is refused",
      args: [...base, "--days", "1", "--start", "1970-01-01"],
      code: 2,
      stderr: /startDate: 1970-01-01 is outside 2020-01-01 \.\. 2099-12-31/
    },
    {
      name: "--out where summary.json is a directory: exit 2 before simulating",
      args: [...base, "--days", "1", "--out", out("o-dir")],
      code: 2,
      stderr: /o-dir\/summary\.json is a directory; move it away or choose another --out/
    },
    {
      name: "--out on a full disk (tokens.json a link to /dev/full): exit 2 naming the file, no temporary file left",
      args: [...base, "--days", "1", "--out", out("o-full")],
      code: 2,
      stderr: /cannot write .*o-full\/tokens\.json: ENOSPC.*results in .* are incomplete/,
      after: () => {
        assert.deepEqual(tmpLeft(out("o-full")), []);
        assert.ok(fs.lstatSync(path.join(out("o-full"), "tokens.json")).isSymbolicLink());
      }
    },
    {
      name: "--out naming a regular file: exit 2",
      args: [...base, "--days", "1", "--out", out("o-file")],
      code: 2,
      stderr: /cannot create output directory .*o-file/
    },
    {
      name: "a day written out in 21 digits is refused, not simulated for ever",
      args: [...base, "--days", "100000000000000000000"],
      code: 2,
      stderr: /--days must be a whole number ≥ 1 and ≤ 366/
    }
  ];
  let results: BatchResult[] = [];

  before(() => {
    fs.writeFileSync(scenario, JSON.stringify(ward));
    fs.mkdirSync(path.join(out("o-dir"), "summary.json"), { recursive: true });
    fs.mkdirSync(out("o-full"));
    if (fs.existsSync("/dev/full")) fs.symlinkSync("/dev/full", path.join(out("o-full"), "tokens.json"));
    fs.writeFileSync(out("o-file"), "not a directory\n");
    results = cliBatch(
      cases.map((c) => c.args),
      420_000
    );
  });

  cases.forEach((c, i) => {
    it(c.name, function () {
      if (c.name.includes("/dev/full") && !fs.existsSync("/dev/full")) this.skip();
      const r = results[i];
      assert.ok(r, "did not finish: it ran (or hung) until the time limit");
      assert.doesNotMatch(r.stderr, /internal error/);
      assert.equal(r.code, c.code, r.stderr);
      assert.match(r.stderr, c.stderr);
      c.after?.();
    });
  });
});
