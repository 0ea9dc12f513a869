import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { UserError } from "../../../host-tools/src/errors";
import { Scenario } from "../../../host-tools/src/sim/world/scenario";
import { validateScenario } from "../../../host-tools/src/sim/world/scenario-load";
import { SimulateResult, simulate } from "../../../host-tools/src/sim/world/simulate";
import { KioskFigures } from "../../../host-tools/src/sim/kiosk/kiosk-figures";

/**
 * The kiosk in the simulated world: the real kiosk service, on the world's
 * radio and clock, syncing tokens that run the real firmware. A small home:
 * a lounge with the kiosk by the door, where Ann and Bob sit side by side
 * all day; Cat stays in a room at the far end of the building, out of the
 * kiosk's reach; Ann tests positive on day 2.
 */
const home: Scenario = {
  name: "small-home",
  startDate: "2030-03-04",
  rooms: [
    { id: "lounge", kind: "lounge", x: 0, y: 0, w: 10, h: 8 },
    { id: "far-room", kind: "bedroom", x: 80, y: 0, w: 4, h: 5 }
  ],
  kiosk: { room: "lounge", at: [1, 1], staffRound: "11:00" },
  diagnoses: [{ person: "ann", day: 2, at: "09:00", onsetDaysBefore: 1 }],
  people: [
    { id: "ann", room: "lounge", at: [5, 4] as [number, number] },
    { id: "bob", room: "lounge", at: [5.8, 4] as [number, number] },
    { id: "cat", room: "far-room", at: [82, 2.5] as [number, number] }
  ].map((p) => ({
    id: p.id,
    role: "resident",
    device: { kind: "token" as const },
    schedule: [{ from: "00:00", to: "24:00", rooms: [p.room], at: p.at, dwellMinutes: 60 }]
  }))
};

const cli = path.join(__dirname, "..", "..", "..", "bin", "privatetracer.js");

describe("the kiosk in the simulated care home (kiosk service, real firmware, simulated radio)", function () {
  this.timeout(600_000);
  let run: SimulateResult;
  let k: KioskFigures;

  before(async () => {
    run = await simulate({ scenario: home, days: 3, seed: 4, board: "puckjs", firmware: "real" });
    k = run.kiosk!;
  });

  it("syncs the tokens in the lounge through the beacon alone, and the one out of its reach when staff bring it", () => {
    assert.ok(k, "a scenario with a kiosk runs the kiosk");
    assert.deepEqual(k.syncs.neverSynced, []);
    assert.equal(k.syncs.failed, 0, "no sync failed");
    assert.deepEqual(k.syncs.broughtByStaff, ["cat"], "only the far token needed the staff round");
    // Ann and Bob open their windows for the beacon several times a day (4 hours apart at most), never waiting for staff.
    assert.ok(k.syncs.ok >= 2 * 3 + 2, `${k.syncs.ok} syncs`);
    assert.ok(k.syncSeconds.p50! > 0 && k.syncSeconds.p95! < 30, `a sync takes seconds: ${JSON.stringify(k.syncSeconds)}`);
  });

  it("the diagnosis goes through code, press, upload and publication, and warns the one really exposed", () => {
    const [d] = k.warnings.perDiagnosis;
    assert.equal(d.person, "ann");
    assert.equal(d.status, "uploaded", "Ann pressed, so her keys were uploaded");
    assert.ok(d.keysUploaded >= 2, `${d.keysUploaded} keys (days 0 and 1)`);
    assert.ok(d.hoursToPublication !== null, "the health authority published them");
    assert.deepEqual(d.exposed, ["bob"], "Bob sat next to Ann all day; Cat was never near");
    assert.deepEqual(d.warned, ["bob"], "Bob's token got the warning, Cat's did not");
    assert.equal(d.precision, 1);
    assert.equal(d.recall, 1);
    assert.ok(d.hoursToWarning[0] > 0 && d.hoursToWarning[0] < 24, `warned ${d.hoursToWarning[0]} h after the diagnosis`);
    // A whole day side by side with someone infectious: "high — ask staff" on Bob's token.
    assert.deepEqual(
      k.warnings.tokens.map((t) => [t.person, t.level]),
      [["bob", 2]]
    );
  });

  it("keeps every token's history matchable from the first day, on the token or in its sealed archive", () => {
    for (const [person, days] of Object.entries(k.historyDaysAtEnd.perToken))
      assert.ok(days >= 2.9, `${person}: ${days} days of history at the end of 3`);
  });

  it("runs the same again from the same seed", async () => {
    const again = await simulate({ scenario: home, days: 3, seed: 4, board: "puckjs", firmware: "real" });
    assert.deepEqual(again.kiosk!.warnings, k.warnings);
    assert.deepEqual(again.kiosk!.syncs, k.syncs);
  });

  it("`simulate --json` carries the kiosk's figures; `--no-kiosk` leaves the kiosk out", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "world-kiosk-"));
    try {
      const file = path.join(dir, "home.json");
      fs.writeFileSync(file, JSON.stringify(home));
      const withKiosk = spawnSync(process.execPath, [cli, "simulate", "--scenario", file, "--days", "3", "--seed", "4", "--json"], {
        encoding: "utf8"
      });
      assert.equal(withKiosk.status, 0, withKiosk.stderr);
      const j = JSON.parse(withKiosk.stdout);
      assert.ok(j.kiosk.syncs.ok > 0);
      // The same diagnosis as GAEN phones would have warned for it: Bob, beside Ann all day; not Cat, rooms away.
      assert.deepEqual(
        [j.kiosk.warnings.phone.warned, j.kiosk.warnings.phone.exposed, j.kiosk.warnings.phone.precision, j.kiosk.warnings.phone.recall],
        [1, 1, 1, 1]
      );
      // Per level: Bob's token showed "high", the one warning a phone gives him too.
      const { tokensHigh, tokensAny, phones } = j.kiosk.warnings.byLevel;
      assert.deepEqual(
        [tokensHigh.warned, tokensHigh.truePositives, tokensHigh.recall, tokensAny.warned, phones.warned, phones.recall],
        [1, 1, 1, 1, 1, 1]
      );
      assert.equal(typeof j.kiosk.historyDaysAtEnd.min, "number");
      assert.ok("p50" in j.kiosk.syncSeconds && "p95" in j.kiosk.syncSeconds);
      const without = spawnSync(
        process.execPath,
        [cli, "simulate", "--scenario", file, "--days", "1", "--seed", "4", "--json", "--no-kiosk"],
        { encoding: "utf8" }
      );
      assert.equal(without.status, 0, without.stderr);
      assert.equal(JSON.parse(without.stdout).kiosk, undefined);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a diagnosis the kiosk could not take, saying where", () => {
    const bad = (s: Partial<Scenario>) => () => validateScenario({ ...home, ...s } as Scenario, "home.json");
    assert.throws(bad({ kiosk: undefined }), (e: Error) => e instanceof UserError && /give the scenario a kiosk/.test(e.message));
    assert.throws(
      bad({ diagnoses: [{ person: "dan", day: 1, onsetDaysBefore: 2 }] }),
      (e: Error) => e instanceof UserError && /diagnoses\[0\]\.person: unknown person "dan"/.test(e.message)
    );
    assert.throws(
      bad({ kiosk: { room: "attic", at: [0, 0] } }),
      (e: Error) => e instanceof UserError && /kiosk\.room: unknown room "attic"/.test(e.message)
    );
  });
});
