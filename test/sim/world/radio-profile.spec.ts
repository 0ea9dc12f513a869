import { strict as assert } from "node:assert";
import { EXPERIMENT_34, LEVELS, RadioProfile, radioProfile, separability } from "../../../host-tools/src/sim/radio-profile";
import { CARRY_LOSS_DB } from "../../../host-tools/src/sim/world/propagation";
import { FACING_MINUTES, Movement } from "../../../host-tools/src/sim/world/movement";
import { Scenario } from "../../../host-tools/src/sim/world/scenario";
import { validateScenario } from "../../../host-tools/src/sim/world/scenario-load";
import { UserError } from "../../../host-tools/src/errors";
import { Command } from "commander";
import { EXIT_CODES, Outcome } from "../../../host-tools/src/cli/main";
import { register } from "../../../host-tools/src/cli/commands/radio";
import { PrivateTracerError } from "../../../host-tools/src/errors";

/**
 * Run `privatetracer radio …` in this process, capturing stdout and stderr:
 * the command module registered on a program as cli/main.ts does (a spawned
 * CLI first spends seconds compiling every command).
 */
async function cli(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  try {
    let outcome: Outcome = "ok";
    const program = new Command().exitOverride();
    register(program, (action) => async (...a) => {
      try {
        outcome = await action(...a);
      } catch (e) {
        if (!(e instanceof PrivateTracerError)) throw e;
        process.stderr.write(`privatetracer: ${e.message}\n`);
        outcome = e.kind;
      }
    });
    await program.parseAsync(["node", "privatetracer", ...args]);
    return { status: EXIT_CODES[outcome], stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

describe("sim radio profile: the calibrated radio against DP-3T's experiment 34", function () {
  this.timeout(120_000);
  let p: RadioProfile;

  before(() => {
    p = radioProfile({ seed: 1 });
  });

  for (const level of LEVELS) {
    it(`${level}: separability of 1–2 m from 3–4 m within ±0.05 of the study (balanced accuracy and AUC)`, () => {
      const got = p.levels[level];
      const want = EXPERIMENT_34.levels[level];
      assert.ok(Math.abs(got.bacc - want.bacc) <= 0.05, `balanced accuracy ${got.bacc}, study ${want.bacc}`);
      assert.ok(Math.abs(got.auc - want.auc) <= 0.05, `AUC ${got.auc}, study ${want.auc}`);
    });

    it(`${level}: medians relative to 1 m within ±2 dB of the study at 1.5, 2, 3 and 4 m`, () => {
      const got = p.levels[level].median;
      const want = EXPERIMENT_34.levels[level].median;
      const at1 = got[p.distances.indexOf(1)];
      EXPERIMENT_34.distances.forEach((d, i) => {
        const rel = got[p.distances.indexOf(d)] - at1;
        const ref = want[i] - want[0];
        assert.ok(Math.abs(rel - ref) <= 2, `${d} m: ${rel.toFixed(1)} dB above 1 m, study ${ref} dB`);
      });
    });
  }

  it("averaging helps: spread shrinks and separability grows from packet to scan to several scans", () => {
    const [a, b, c] = LEVELS.map((l) => p.levels[l]);
    assert.ok(a.auc < b.auc && b.auc < c.auc, `AUC ${a.auc}, ${b.auc}, ${c.auc}`);
    const at1 = p.distances.indexOf(1);
    assert.ok(a.std[at1] > b.std[at1] && b.std[at1] > c.std[at1], `std at 1 m ${a.std[at1]}, ${b.std[at1]}, ${c.std[at1]}`);
    for (const l of LEVELS)
      assert.ok(
        p.levels[l].samples.every((n) => n >= 300),
        `${l}: ${p.levels[l].samples.join(", ")} samples`
      );
  });

  it("is the same for the same seed", () => {
    assert.deepEqual(radioProfile({ seed: 1, hoursPerDistance: 6 }), radioProfile({ seed: 1, hoursPerDistance: 6 }));
  });

  it("carrying both devices in a pocket raises the attenuation by twice the pocket's loss and leaves separability alone", () => {
    const lanyard = radioProfile({ seed: 5, hoursPerDistance: 24 });
    const pocket = radioProfile({ seed: 5, hoursPerDistance: 24, carry: "pocket" });
    const bag = radioProfile({ seed: 5, hoursPerDistance: 24, carry: "bag" });
    const i = lanyard.distances.indexOf(1);
    for (const [other, carry] of [
      [pocket, "pocket"],
      [bag, "bag"]
    ] as const) {
      const shift = other.levels.scan.median[i] - lanyard.levels.scan.median[i];
      const want = 2 * CARRY_LOSS_DB[carry];
      assert.ok(Math.abs(shift - want) <= 1, `${carry}: scan median at 1 m moved ${shift.toFixed(1)} dB, documented ${want} dB`);
      // The same seed draws the same radio: a constant shift changes no ranking (bar the integer rounding of RSSI).
      assert.ok(Math.abs(other.levels.scan.auc - lanyard.levels.scan.auc) < 0.02);
    }
    assert.equal(CARRY_LOSS_DB.lanyard, 0);
    assert.ok(
      2 * CARRY_LOSS_DB.pocket >= 14 && 2 * CARRY_LOSS_DB.pocket <= 16,
      "pocket-to-pocket vs hand-to-hand: 14–16 dB (Leith & Farrell)"
    );
  });

  it("separability: balanced accuracy and AUC of simple cases", () => {
    assert.deepEqual(separability([1, 2, 3], [4, 5, 6]), { bacc: 1, auc: 1 });
    assert.deepEqual(separability([1, 2], [1, 2]), { bacc: 0.5, auc: 0.5 });
    const s = separability([1, 3], [2, 4]);
    assert.equal(s.auc, 0.75);
    assert.equal(s.bacc, 0.75);
  });
});

describe("sim/world facing within a stay", () => {
  const stay: Scenario = {
    name: "stay",
    startDate: "2030-01-07",
    rooms: [{ id: "room", kind: "lounge", x: 0, y: 0, w: 10, h: 10 }],
    people: [{ id: "a", role: "resident", schedule: [{ from: "00:00", to: "24:00", rooms: ["room"], dwellMinutes: 30 }] }]
  };

  it(`keeps the spot for the dwell period, redraws the facing every ${FACING_MINUTES} minutes, and one pose object per (spot, facing)`, () => {
    const m = new Movement(stay, 9);
    const poses = Array.from({ length: 30 }, (_, t) => m.pose(0, t)!);
    assert.ok(poses.every((q) => q.x === poses[0].x && q.y === poses[0].y));
    const facings = new Set(poses.map((q) => q.facing));
    assert.equal(facings.size, 30 / FACING_MINUTES);
    for (let t = 1; t < 30; t++) assert.equal(poses[t] === poses[t - 1], t % FACING_MINUTES !== 0, `minute ${t}`);
    assert.notEqual(m.pose(0, 30)!.x, poses[0].x, "a new dwell period, a new spot");
  });

  it("a pose is a pure function of (seed, person, minute): asked in any order, the same values", () => {
    const inOrder = new Movement(stay, 9);
    const a = Array.from({ length: 200 }, (_, t) => ({ ...inOrder.pose(0, t)! }));
    const shuffled = new Movement(stay, 9);
    for (const t of [150, 7, 199, 0, 44, 45, 43, 120, 8, 6]) assert.deepEqual({ ...shuffled.pose(0, t)! }, a[t], `minute ${t}`);
  });

  it("checks device.carry", () => {
    const s = (carry: unknown) =>
      validateScenario({ ...stay, people: [{ ...stay.people[0], device: { kind: "token", carry } as never }] } as Scenario, "test");
    for (const c of ["lanyard", "pocket", "bag", "hand"]) assert.doesNotThrow(() => s(c));
    assert.throws(
      () => s("sock"),
      (e: Error) =>
        e instanceof UserError && /people\[0\]\.device\.carry: "sock" is not one of "lanyard", "pocket", "bag", "hand"/.test(e.message)
    );
  });
});

describe("privatetracer radio profile", function () {
  this.timeout(120_000);
  it("--json prints one object with distances and levels.{packet,scan,multiScan}.{median,std,bacc,auc}", async () => {
    const r = await cli(["radio", "profile", "--json", "--seed", "2", "--hours", "12"]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.equal(lines.length, 1);
    const j = JSON.parse(lines[0]);
    assert.deepEqual(j.distances, [0.5, 1, 1.5, 2, 3, 4]);
    for (const level of ["packet", "scan", "multiScan"]) {
      const l = j.levels[level];
      assert.equal(l.median.length, 6);
      assert.equal(l.std.length, 6);
      assert.ok(l.median.every(Number.isFinite) && l.std.every(Number.isFinite));
      assert.ok(l.bacc >= 0.5 && l.bacc <= 1 && l.auc >= 0 && l.auc <= 1);
    }
    assert.equal(j.settings.seed, 2);
  });

  it("prints the table beside the study, and names a bad --carry", async () => {
    const r = await cli(["radio", "profile", "--hours", "2"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /per packet[\s\S]*mean of one scan[\s\S]*mean of ≥ 2 scans in 10 min/);
    assert.match(r.stdout, /study median/);
    const bad = await cli(["radio", "profile", "--carry", "sock"]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--carry must be one of lanyard, pocket, bag, hand/);
  });
});
