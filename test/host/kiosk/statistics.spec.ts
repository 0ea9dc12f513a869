import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { FastifyInstance } from "fastify";
import * as sinon from "sinon";
import { buildDashboard } from "../../../host-tools/src/kiosk/dashboard";
import { EventHub, KioskEvent } from "../../../host-tools/src/kiosk/events";
import { DB_FILE, KioskDir, MASTER_KEY_FILE, initKioskDir } from "../../../host-tools/src/kiosk/kiosk-dir";
import { readMasterKey } from "../../../host-tools/src/kiosk/master-key";
import { hashPassword } from "../../../host-tools/src/kiosk/staff";
import {
  DEFAULT_EPSILON,
  QUERIES_PER_WEEK,
  RandomSource,
  addNoise,
  DiagnosisCounter,
  cryptoUniform,
  laplace,
  lastWholeWeeks,
  noiseScale,
  noisyCount,
  releaseWeeks,
  toCsv,
  toJson,
  weekDate,
  weekOf
} from "../../../host-tools/src/kiosk/statistics";
import { KioskStore, StatusUpdate } from "../../../host-tools/src/kiosk/store";
import { runCli } from "../../helpers/cli";
import { Browser, CHEAP } from "./dashboard-helpers";

/**
 * Opt-in statistics: only wearers who chose to take part are counted, per
 * week; every count gets Laplace noise of the documented scale from the
 * system's random generator; a week released once always comes back the
 * same; and nothing exported names a token. Through the CLI and the
 * dashboard as staff use them.
 */

const DAY = 86400;
const PASSWORD = "long enough password";
/** Wednesday 2030-03-13 noon UTC: its week starts on Monday 2030-03-11. */
const T = Date.UTC(2030, 2, 13, 12) / 1000;
const THIS_WEEK = weekOf(T);
const LAST_WEEK = THIS_WEEK - 7;
const id = (n: number): string => n.toString(16).padStart(2, "0").repeat(16);
/** No noise at all: a constant source gives ln u − ln u = 0. */
const NO_NOISE: RandomSource = () => 0.5;
/** A source that gives the numbers in turn. */
const sequence = (xs: number[]): RandomSource => {
  let i = 0;
  return () => xs[i++ % xs.length];
};

describe("opt-in statistics with differential privacy", function () {
  this.timeout(60_000);
  let root: string;
  let kiosk: KioskDir;
  let store: KioskStore;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "pt-stats-"));
    kiosk = initKioskDir(path.join(root, "kiosk"));
    store = kiosk.store;
  });
  afterEach(() => {
    store.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  function enrol(n: number, label = `Room ${n}`): string {
    store.addToken({ tokenId: id(n), label, board: "puckjs", syncSecret: new Uint8Array(32).fill(n), enrolledAt: T - 60 * DAY });
    return id(n);
  }
  /** A sync of the token ending at `at`; `level` is the level written, if any. */
  function sync(tokenId: string, at: number, level: number | null = null, outcome: "ok" | "link-lost" = "ok"): void {
    const status: StatusUpdate | undefined = level === null ? undefined : { riskLevel: level, riskReason: 0, riskAt: at, lastSyncAt: at };
    store.recordSync({ tokenId, startedAt: at - 10, endedAt: at, outcome, detail: "synced", segmentsRead: 0, bytesRead: 0, status });
  }
  const inWeek = (week: number, day: number, hour = 10): number => (week + day) * DAY + hour * 3600;

  describe("weeks", () => {
    it("start on Monday (UTC); only whole weeks before the current one are released", () => {
      assert.equal(weekDate(weekOf(T)), "2030-03-11");
      assert.equal(weekOf(Date.UTC(2030, 2, 11, 0) / 1000), THIS_WEEK, "Monday 00:00 is the week's first second");
      assert.equal(weekOf(Date.UTC(2030, 2, 10, 23, 59, 59) / 1000), THIS_WEEK - 7, "Sunday night is the week before");
      assert.equal(weekDate(weekOf(0)), "1969-12-29", "day 0 was a Thursday");
      assert.deepEqual(lastWholeWeeks(T, 3), [THIS_WEEK - 21, THIS_WEEK - 14, THIS_WEEK - 7]);
    });
  });

  describe("the Laplace sampler", () => {
    it("is deterministic with an injected random source: b·(ln u₁ − ln u₂)", () => {
      assert.equal(laplace(3, NO_NOISE), 0);
      assert.ok(Math.abs(laplace(3, sequence([0.5, 0.25])) - 3 * Math.LN2) < 1e-12);
      assert.ok(Math.abs(laplace(2, sequence([Math.exp(-1), 1])) + 2) < 1e-12);
      assert.throws(() => laplace(3, () => 0), RangeError, "0 would be ln 0");
      assert.throws(() => laplace(0, NO_NOISE), RangeError);
    });

    it("has mean ≈ 0 and mean |x| ≈ b over many draws, from node:crypto (never Math.random)", () => {
      const random = sinon.stub(Math, "random").throws(new Error("Math.random is not for noise"));
      try {
        const b = noiseScale(DEFAULT_EPSILON);
        assert.equal(b, QUERIES_PER_WEEK, "sensitivity 1 over ε/3");
        const n = 40_000;
        let sum = 0;
        let sumAbs = 0;
        for (let i = 0; i < n; i++) {
          const x = laplace(b);
          sum += x;
          sumAbs += Math.abs(x);
        }
        // Standard errors: b·√2/√n ≈ 0.02 for the mean, b/√n ≈ 0.015 for mean |x|.
        assert.ok(Math.abs(sum / n) < 0.12, `mean ${sum / n}`);
        assert.ok(Math.abs(sumAbs / n - b) < 0.1, `mean |x| ${sumAbs / n}, b ${b}`);
      } finally {
        random.restore();
      }
      for (let i = 0; i < 1000; i++) {
        const u = cryptoUniform();
        assert.ok(u > 0 && u <= 1);
      }
    });

    it("counts are rounded and never below 0 after noise; the scale is 3/ε on each count", () => {
      assert.equal(noisyCount(0, 3, sequence([1, 1e-9])), 62, "ln 1 − ln 1e-9 ≈ 20.7, times 3");
      assert.equal(noisyCount(2, 3, sequence([1e-9, 1])), 0, "clamped at 0");
      assert.equal(noisyCount(5, 1, sequence([0.3, 0.5])), 4, "5 − 0.51 rounds to 4");
      const up = sequence([1, Math.exp(-1)]); // +b on every count
      assert.deepEqual(addNoise({ synced: 10, warnedLow: 1, warnedHigh: 0, diagnoses: 2 }, 0.5, up), {
        epsilon: 0.5,
        synced: 16,
        warnedLow: 7,
        warnedHigh: 6,
        diagnoses: 8
      });
    });
  });

  describe("counting", () => {
    it("counts opted-in tokens only, per week, each token once by its highest level", () => {
      const a = enrol(1);
      const b = enrol(2);
      const c = enrol(3);
      store.setStatsOptIn(a, inWeek(LAST_WEEK - 7, 0));
      store.setStatsOptIn(b, inWeek(LAST_WEEK - 7, 0));
      // c never opts in: its syncs and warnings are never counted.
      for (const t of [a, b, c]) {
        sync(t, inWeek(LAST_WEEK, 1), 0);
        sync(t, inWeek(LAST_WEEK, 2), 2);
        sync(t, inWeek(LAST_WEEK, 3), 1);
      }
      sync(a, inWeek(LAST_WEEK - 7, 4), 1);
      sync(b, inWeek(LAST_WEEK - 7, 4), null, "link-lost");
      assert.deepEqual(store.statsCounts(LAST_WEEK), { synced: 2, warnedLow: 0, warnedHigh: 2, diagnoses: 0 });
      assert.deepEqual(
        store.statsCounts(LAST_WEEK - 7),
        { synced: 1, warnedLow: 1, warnedHigh: 0, diagnoses: 0 },
        "a failed sync is not one"
      );
      assert.deepEqual(store.statsCounts(THIS_WEEK), { synced: 0, warnedLow: 0, warnedHigh: 0, diagnoses: 0 });
      const rows = releaseWeeks(store, { weeks: 2, now: T, random: NO_NOISE });
      assert.deepEqual(
        rows.map((r) => [weekDate(r.week), r.synced, r.warnedLow, r.warnedHigh, r.epsilon]),
        [
          ["2030-02-25", 1, 1, 0, 1],
          ["2030-03-04", 2, 0, 2, 1]
        ]
      );
    });

    it("counts only what happened after the choice; a token that opts out stops counting from the next week", () => {
      const a = enrol(1);
      sync(a, inWeek(LAST_WEEK - 7, 1), 2);
      store.setStatsOptIn(a, inWeek(LAST_WEEK - 7, 3));
      sync(a, inWeek(LAST_WEEK - 7, 4), 1);
      assert.deepEqual(
        store.statsCounts(LAST_WEEK - 7),
        { synced: 1, warnedLow: 1, warnedHigh: 0, diagnoses: 0 },
        "the high before the choice is left out"
      );
      assert.equal(releaseWeeks(store, { weeks: 1, now: inWeek(LAST_WEEK, 0), random: NO_NOISE })[0].synced, 1);

      assert.equal(store.clearStatsOptIn(a), true);
      assert.equal(store.statsOptIn(a), null);
      sync(a, inWeek(LAST_WEEK, 2), 1);
      const [last] = releaseWeeks(store, { weeks: 1, now: T, random: NO_NOISE });
      assert.deepEqual([last.synced, last.warnedLow, last.warnedHigh], [0, 0, 0], "opted out: not counted the next week");
      assert.equal(releaseWeeks(store, { weeks: 2, now: T, random: NO_NOISE })[0].synced, 1, "the week released before stays as released");
      assert.equal(store.clearStatsOptIn(a), false);
      assert.equal(store.statsOptedIn(), 0);
    });

    it("opting in is the default-off flag with its time; a second opt-in keeps the first time; retiring forgets it", () => {
      const a = enrol(1);
      assert.equal(store.statsOptIn(a), null, "default: not taking part");
      store.setStatsOptIn(a, 1000);
      store.setStatsOptIn(a, 2000);
      assert.equal(store.statsOptIn(a), 1000);
      assert.throws(() => store.setStatsOptIn(id(9)), /not enrolled/);
      store.retireToken(a);
      assert.equal(store.statsOptedIn(), 0);
    });

    it("diagnoses delivered for opted-in tokens are counted per week, once per token, never whose", () => {
      const a = enrol(1);
      const b = enrol(2);
      store.setStatsOptIn(a, T - 30 * DAY);
      let now = inWeek(LAST_WEEK, 2);
      const counter = new DiagnosisCounter(store, () => now);
      counter.count(a);
      counter.count(a); // the same wearer twice in a week moves the count by one at most
      counter.count(b); // not taking part
      assert.equal(store.statsCounts(LAST_WEEK).diagnoses, 1);
      now = inWeek(THIS_WEEK, 1);
      counter.count(a);
      assert.equal(store.statsCounts(THIS_WEEK).diagnoses, 1);
      const [w] = releaseWeeks(store, { weeks: 1, now: T, random: NO_NOISE });
      assert.equal(w.diagnoses, 1);
      assert.equal(store.statsCounts(LAST_WEEK).diagnoses, 0, "the exact count is deleted once the week is released");
    });
  });

  describe("releasing", () => {
    it("a week is released once: asked again (even with another ε) it gives the same numbers", () => {
      const ids = [1, 2, 3, 4, 5].map((n) => enrol(n));
      for (const t of ids) {
        store.setStatsOptIn(t, T - 60 * DAY);
        for (let w = 1; w <= 4; w++) sync(t, inWeek(THIS_WEEK - 7 * w, 2), w % 3);
      }
      const first = releaseWeeks(store, { weeks: 4, now: T });
      const again = releaseWeeks(store, { weeks: 4, now: T + 3600, epsilon: 5 });
      assert.deepEqual(again, first);
      assert.ok(again.every((r) => r.epsilon === DEFAULT_EPSILON && r.releasedAt === T));
      const more = releaseWeeks(store, { weeks: 6, now: T, epsilon: 0.5 });
      assert.deepEqual(more.slice(2), first);
      assert.deepEqual(
        more.slice(0, 2).map((r) => r.epsilon),
        [0.5, 0.5],
        "only new weeks take the new ε"
      );
      assert.equal(store.statsReleases().length, 6);
      assert.throws(() => releaseWeeks(store, { epsilon: 0 }), /ε/);
      assert.throws(() => releaseWeeks(store, { epsilon: 100 }), /ε/);
      assert.throws(() => releaseWeeks(store, { weeks: 0 }), /weeks/);
    });

    it("the export names no token: no id, no label, no row per person", () => {
      const ids = [1, 2, 3].map((n) => enrol(n, `Mrs Label${n}`));
      for (const t of ids) {
        store.setStatsOptIn(t, T - 60 * DAY);
        sync(t, inWeek(LAST_WEEK, 1), 2);
      }
      const rows = releaseWeeks(store, { weeks: 3, now: T });
      const csv = toCsv(rows);
      const json = toJson(rows);
      for (const out of [csv, json]) {
        for (const t of ids) {
          assert.ok(!out.includes(t) && !out.includes(t.slice(0, 8)), "no token id");
          assert.ok(!/Label/.test(out), "no label");
        }
      }
      const lines = csv.trimEnd().split("\r\n");
      assert.equal(lines[0], "week_start,tokens_synced,warned_low,warned_high,diagnoses,epsilon,note");
      assert.equal(lines.length, 4, "one row per week, not per person");
      assert.match(lines[3], /^2030-03-04,\d+,\d+,\d+,\d+,1,"Weekly counts of the wearers who chose to take part only/);
      const parsed = JSON.parse(json) as { note: string; sensitivity: number; weeks: Array<Record<string, unknown>> };
      assert.equal(parsed.sensitivity, 1);
      assert.match(parsed.note, /Laplace/);
      assert.deepEqual(Object.keys(parsed.weeks[0]).sort(), [
        "diagnoses",
        "epsilon",
        "tokens_synced",
        "warned_high",
        "warned_low",
        "week_start"
      ]);
    });
  });

  describe("the CLI", () => {
    it("kiosk stats opt-in / opt-out / export", async () => {
      const a = enrol(1, "Room 12");
      enrol(2, "Room 14");
      store.close();
      let r = await runCli(["kiosk", "stats", "opt-in", "--dir", kiosk.dir, "--token", "Room 12"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Room 12 \(.+\) takes part/);
      r = await runCli(["kiosk", "stats", "opt-in", "--dir", kiosk.dir, "--token", "Room 99"]);
      assert.equal(r.code, 2);
      store = KioskStore.open(path.join(kiosk.dir, DB_FILE), readMasterKey(path.join(kiosk.dir, MASTER_KEY_FILE)));
      assert.ok(store.statsOptIn(a) !== null);
      assert.equal(store.statsOptIn(id(2)), null);
      // Taking part since before last week, and synced in it.
      store.clearStatsOptIn(a);
      const now = Math.floor(Date.now() / 1000);
      store.setStatsOptIn(a, (weekOf(now) - 14) * DAY);
      sync(a, (weekOf(now) - 7) * DAY + 3600, 1);
      store.close();

      r = await runCli(["kiosk", "stats", "export", "--dir", kiosk.dir, "--weeks", "2", "--json"]);
      assert.equal(r.code, 0, r.stderr);
      const first = JSON.parse(r.stdout) as { weeks: Array<{ week_start: string; epsilon: number }> };
      assert.deepEqual(
        first.weeks.map((w) => w.week_start),
        [weekDate(weekOf(now) - 14), weekDate(weekOf(now) - 7)]
      );
      assert.ok(!r.stdout.includes(a) && !r.stdout.includes("Room"));
      r = await runCli(["kiosk", "stats", "export", "--dir", kiosk.dir, "--weeks", "2", "--epsilon", "0.5"]);
      assert.equal(r.code, 0, r.stderr);
      const csv = r.stdout.trimEnd().split("\r\n");
      assert.equal(csv.length, 3);
      assert.deepEqual(
        csv.slice(1).map((l) => l.split(",").slice(0, 6).join(",")),
        (first.weeks as unknown as Array<Record<string, unknown>>).map((w) =>
          [w.week_start, w.tokens_synced, w.warned_low, w.warned_high, w.diagnoses, w.epsilon].join(",")
        ),
        "the same numbers and ε again"
      );
      r = await runCli(["kiosk", "stats", "export", "--dir", kiosk.dir, "--epsilon", "lots"]);
      assert.equal(r.code, 2);

      r = await runCli(["kiosk", "stats", "opt-out", "--dir", kiosk.dir, "--token", a]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /no longer takes part/);
      store = KioskStore.open(path.join(kiosk.dir, DB_FILE), readMasterKey(path.join(kiosk.dir, MASTER_KEY_FILE)));
      assert.equal(store.statsOptIn(a), null);
    });
  });

  describe("the dashboard", () => {
    let app: FastifyInstance | undefined;
    afterEach(async () => {
      await app?.close();
      app = undefined;
    });

    it("the token page's opt-in form, the statistics page and its export", async () => {
      store.addStaff("Ann", await hashPassword(PASSWORD, CHEAP));
      const a = enrol(1, "Room 12");
      sync(a, inWeek(LAST_WEEK, 2), 2);
      let now = inWeek(LAST_WEEK, 1);
      const hub = new EventHub<KioskEvent>();
      app = await buildDashboard({ kiosk, events: hub, now: () => now, idleSeconds: 30 * DAY });
      const b = new Browser(app);
      assert.equal((await b.get("/statistics")).statusCode, 303, "logged in only");
      await b.loggedIn("Ann", PASSWORD);

      const home = await b.get("/");
      assert.match(home.body, /<a href="\/statistics"[^>]*>Statistics<\/a>/);
      const handle = /href="\/tokens\/([^"/]+)"/.exec(home.body)![1];
      let r = await b.get(`/tokens/${handle}`);
      assert.match(r.body, /Not taking part in the care home's anonymous weekly statistics \(the default\)/);
      assert.match(r.body, /name="choice" value="in"/);

      r = await b.post(`/tokens/${handle}/statistics`, { choice: "in" }, null);
      assert.equal(r.statusCode, 403, "no CSRF token: refused");
      assert.equal(store.statsOptIn(a), null);
      await b.get(`/tokens/${handle}`);
      r = await b.post(`/tokens/${handle}/statistics`, { choice: "in" });
      assert.equal(r.statusCode, 303);
      assert.equal(r.headers.location, `/tokens/${handle}#statistics`);
      assert.equal(store.statsOptIn(a), now);
      r = await b.get(`/tokens/${handle}`);
      assert.match(r.body, /Taking part in the care home's anonymous weekly statistics since/);
      assert.match(r.body, /name="choice" value="out"/);
      assert.equal((await b.post(`/tokens/${handle}/statistics`, { choice: "maybe" })).statusCode, 400);

      // A diagnosis reported (kiosk/diagnose.ts counts it) shows in the week it was reported.
      new DiagnosisCounter(store, () => now).count(a);
      assert.equal(store.statsCounts(LAST_WEEK).diagnoses, 1);

      now = T;
      r = await b.get("/statistics");
      assert.equal(r.statusCode, 200);
      assert.match(r.body, /1 of 1 wearer\(s\)/);
      assert.match(r.body, /ε = 1 per week: each number may be off by about ±3/);
      assert.match(r.body, /None yet/);
      r = await b.get("/statistics.csv");
      assert.equal(r.body.trimEnd().split("\r\n").length, 1, "a GET releases nothing: only the header");

      assert.equal((await b.post("/statistics/export", { weeks: "4" }, null)).statusCode, 403);
      assert.equal(store.statsReleases().length, 0, "nothing released without the form's token");
      await b.get("/statistics");
      r = await b.post("/statistics/export", { weeks: "4" });
      assert.equal(r.statusCode, 200, r.body);
      assert.match(String(r.headers["content-type"]), /^text\/csv/);
      assert.match(String(r.headers["content-disposition"]), /^attachment; filename="privatetracer-statistics-2030-03-13\.csv"$/);
      const lines = r.body.trimEnd().split("\r\n");
      assert.equal(lines.length, 5);
      assert.ok(lines[4].startsWith("2030-03-04,"));
      for (const secret of [a, a.slice(0, 8), "Room 12", handle]) assert.ok(!r.body.includes(secret), `the export holds no ${secret}`);
      assert.equal(store.statsReleases().length, 4);

      const again = await b.get("/statistics.csv");
      assert.equal(again.body, r.body, "the released weeks, the same numbers");
      await b.get("/statistics");
      assert.equal((await b.post("/statistics/export", { weeks: "4" })).body, r.body, "exported again: the same numbers");
      assert.equal((await b.post("/statistics/export", { weeks: "3" })).statusCode, 400);
      r = await b.get("/statistics");
      assert.match(r.body, /<td><time datetime="2030-03-04">2030-03-04<\/time><\/td>/);

      await b.get(`/tokens/${handle}`);
      r = await b.post(`/tokens/${handle}/statistics`, { choice: "out" });
      assert.equal(r.statusCode, 303);
      assert.equal(store.statsOptIn(a), null);
    });
  });
});
