import { strict as assert } from "node:assert";
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Database from "better-sqlite3";
import { UserError } from "../../../host-tools/src/errors";
import { DatabaseTooNewError, DatabaseUnreadableError, Migration, Schema, openDatabase } from "../../../host-tools/src/kiosk/db";
import {
  MASTER_KEY_BYTES,
  MasterKey,
  MasterKeyUnreadableError,
  MasterKeyWriteError,
  SealedValueError,
  createMasterKey,
  open,
  readMasterKey,
  seal
} from "../../../host-tools/src/kiosk/master-key";
import {
  KioskStore,
  StatusUpdate,
  SyncSecretError,
  TokenEnrolment,
  TokenExistsError,
  TokenRecord,
  UnknownTokenError,
  KIOSK_SCHEMA
} from "../../../host-tools/src/kiosk/store";
import { KILL_BASE_TIME, KILL_TOKENS, RunPlan, SEGS_PER_RUN, planRun } from "./store-kill-plan";
// A seeded PRNG, so a failure replays with the same kill moments.
import { prng } from "../keys/helpers";

const ROOT = path.resolve(__dirname, "../../..");
const T0 = 1_780_000_000;

const id = (n: number): string => n.toString(16).padStart(2, "0").repeat(16);
const secret = (n: number): Uint8Array => new Uint8Array(32).fill(n);
const token = (n: number, extra: Partial<TokenEnrolment> = {}): TokenEnrolment => ({
  tokenId: id(n),
  label: `Room ${n}`,
  board: "puckjs",
  syncSecret: secret(n),
  enrolledAt: T0,
  ...extra
});
const mode = (file: string): number => fs.statSync(file).mode & 0o777;

/** Whether any file of the database (main, WAL) holds `bytes` as they are or in hex. */
function onDisk(dbFile: string, bytes: Uint8Array): boolean {
  const b = Buffer.from(bytes);
  return [dbFile, `${dbFile}-wal`]
    .filter((f) => fs.existsSync(f))
    .some((f) => {
      const d = fs.readFileSync(f);
      return d.includes(b) || d.includes(b.toString("hex"));
    });
}

describe("the kiosk store", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pt-kiosk-"));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  /** A fresh folder for one test: a database path and a master key. */
  const fresh = (): { dbFile: string; key: MasterKey; keyFile: string; sub: string } => {
    const sub = path.join(dir, String(n++));
    fs.mkdirSync(sub);
    const keyFile = path.join(sub, "master.key");
    return { dbFile: path.join(sub, "kiosk.db"), key: createMasterKey(keyFile), keyFile, sub };
  };

  describe("master key", () => {
    it("is created owner-only and reads back as the same key", () => {
      const { key, keyFile } = fresh();
      assert.equal(mode(keyFile), 0o600);
      assert.equal(fs.statSync(keyFile).size, MASTER_KEY_BYTES);
      const sealed = seal(key, Buffer.from("hello"), "row 1");
      assert.equal(open(readMasterKey(keyFile), sealed, "row 1").toString(), "hello");
      assert.equal(JSON.stringify({ key }), '{"key":"[MasterKey]"}', "a logged key shows no byte of it");
    });

    it("is never overwritten, and leaves no temporary file behind", () => {
      const { keyFile, sub } = fresh();
      const before = fs.readFileSync(keyFile);
      assert.throws(() => createMasterKey(keyFile), MasterKeyWriteError);
      assert.deepEqual(fs.readFileSync(keyFile), before);
      assert.deepEqual(fs.readdirSync(sub), ["master.key"]);
    });

    it("is refused when others may read it, or when it is not 32 bytes", () => {
      const { keyFile } = fresh();
      fs.chmodSync(keyFile, 0o640);
      assert.throws(
        () => readMasterKey(keyFile),
        (e: Error) => e instanceof MasterKeyUnreadableError && /chmod 600/.test(e.message)
      );
      fs.chmodSync(keyFile, 0o600);
      fs.truncateSync(keyFile, 31);
      assert.throws(
        () => readMasterKey(keyFile),
        (e: Error) => e instanceof MasterKeyUnreadableError && /31 bytes, not 32/.test(e.message)
      );
      assert.throws(() => readMasterKey(`${keyFile}.missing`), MasterKeyUnreadableError);
    });

    it("seals so that only the same key and the same aad open it, and nothing altered opens", () => {
      const key = MasterKey.random();
      const sealed = seal(key, secret(7), "tokens.sync_secret:x");
      assert.deepEqual(new Uint8Array(open(key, sealed, "tokens.sync_secret:x")), secret(7));
      assert.notDeepEqual(seal(key, secret(7), "tokens.sync_secret:x"), sealed, "a fresh IV every time");
      assert.throws(() => open(key, sealed, "tokens.sync_secret:y"), SealedValueError);
      assert.throws(() => open(MasterKey.random(), sealed, "tokens.sync_secret:x"), SealedValueError);
      for (const at of [0, 1, 13, 29, sealed.length - 1]) {
        const altered = Buffer.from(sealed);
        altered[at] ^= 1;
        assert.throws(() => open(key, altered, "tokens.sync_secret:x"), SealedValueError, `byte ${at} altered`);
      }
      assert.throws(() => open(key, sealed.subarray(0, 28), "tokens.sync_secret:x"), SealedValueError);
    });
  });

  describe("database file", () => {
    const counting = (): { schema: Schema; runs: number[] } => {
      const runs = [0, 0, 0];
      const m = (version: number, sql: string): Migration => ({
        version,
        up: (db) => {
          runs[version - 1]++;
          db.exec(sql);
        }
      });
      return {
        runs,
        schema: {
          name: "test database",
          applicationId: 0x1234,
          migrations: [m(1, "CREATE TABLE a (x INTEGER)"), m(2, "CREATE TABLE b (y INTEGER)"), m(3, "ALTER TABLE a ADD COLUMN z TEXT")]
        }
      };
    };
    const upTo = (s: Schema, v: number): Schema => ({ ...s, migrations: s.migrations.slice(0, v) });

    it("applies each migration once, records the version, and keeps WAL, FULL sync and foreign keys on", () => {
      const { dbFile } = fresh();
      const { schema, runs } = counting();
      openDatabase(dbFile, upTo(schema, 2)).close();
      const db = openDatabase(dbFile, schema);
      assert.deepEqual(runs, [1, 1, 1]);
      assert.equal(db.pragma("user_version", { simple: true }), 3);
      assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
      assert.equal(db.pragma("synchronous", { simple: true }), 2, "FULL");
      assert.equal(db.pragma("foreign_keys", { simple: true }), 1);
      db.close();
      openDatabase(dbFile, schema).close();
      assert.deepEqual(runs, [1, 1, 1], "nothing runs again");
    });

    it("leaves a file at its last good version when a migration fails", () => {
      const { dbFile } = fresh();
      const { schema } = counting();
      const failing: Schema = {
        ...schema,
        migrations: [
          schema.migrations[0],
          {
            version: 2,
            up: (db) => {
              db.exec("CREATE TABLE b (y INTEGER)");
              throw new Error("disk on fire");
            }
          }
        ]
      };
      assert.throws(
        () => openDatabase(dbFile, failing),
        (e: Error) => e instanceof DatabaseUnreadableError && /disk on fire/.test(e.message) && /left at version 1/.test(e.message)
      );
      const raw = new Database(dbFile);
      assert.equal(raw.pragma("user_version", { simple: true }), 1);
      assert.deepEqual(raw.prepare("SELECT name FROM sqlite_schema ORDER BY name").pluck().all(), ["a"]);
      raw.close();
      openDatabase(dbFile, upTo(schema, 2)).close();
    });

    it("refuses a file written by a newer release and leaves it as it was", () => {
      const { dbFile } = fresh();
      const { schema } = counting();
      openDatabase(dbFile, schema).close();
      const before = fs.readFileSync(dbFile);
      assert.throws(
        () => openDatabase(dbFile, upTo(schema, 2)),
        (e: Error) => e instanceof DatabaseTooNewError && e.found === 3 && e.known === 2 && /newer release/.test(e.message)
      );
      assert.deepEqual(fs.readFileSync(dbFile), before);

      const kiosk = fresh();
      KioskStore.open(kiosk.dbFile, kiosk.key).close();
      const raw = new Database(kiosk.dbFile);
      raw.pragma(`user_version = ${KIOSK_SCHEMA.migrations.length + 1}`);
      raw.close();
      assert.throws(() => KioskStore.open(kiosk.dbFile, kiosk.key), DatabaseTooNewError);
    });

    it("refuses a file that is not one of its databases, adding nothing to it", () => {
      const { dbFile, sub } = fresh();
      const { schema } = counting();
      const other = new Database(dbFile);
      other.exec("CREATE TABLE photos (id INTEGER)");
      other.close();
      assert.throws(
        () => openDatabase(dbFile, schema),
        (e: Error) => e instanceof DatabaseUnreadableError && /another program/.test(e.message)
      );
      const raw = new Database(dbFile);
      assert.deepEqual(raw.prepare("SELECT name FROM sqlite_schema").pluck().all(), ["photos"]);
      raw.close();

      const text = path.join(sub, "notes.db");
      fs.writeFileSync(text, "not a database at all, just some text that is long enough to be a header ".repeat(10));
      assert.throws(
        () => openDatabase(text, schema),
        (e: Error) => e instanceof DatabaseUnreadableError && /not a test database/.test(e.message)
      );
    });

    it("creates the database and its log owner-only", () => {
      const { dbFile, key } = fresh();
      const store = KioskStore.open(dbFile, key);
      store.addToken(token(1));
      assert.equal(mode(dbFile), 0o600);
      assert.equal(mode(`${dbFile}-wal`), 0o600);
      store.close();
    });
  });

  describe("tokens", () => {
    it("keep their labels and secrets across a restart, with no secret readable on disk", () => {
      const { dbFile, key, keyFile } = fresh();
      const store = KioskStore.open(dbFile, key);
      store.addToken(token(1, { label: "  Room 1  " }));
      store.addToken(token(2, { label: "" }));
      store.close();

      const again = KioskStore.open(dbFile, readMasterKey(keyFile));
      const records = again.tokens();
      assert.deepEqual(
        records.map((r) => [r.tokenId, r.label, r.board, r.enrolledAt, r.lastSyncAt, r.ackedTo]),
        [
          [id(2), "", "puckjs", T0, null, null],
          [id(1), "Room 1", "puckjs", T0, null, null]
        ]
      );
      assert.ok(records.every((r) => !("syncSecret" in r) && !Object.values(r).some((v) => v instanceof Uint8Array)));
      assert.equal(again.token(id(1))?.label, "Room 1");
      assert.equal(again.token(id(9)), undefined);
      assert.deepEqual(again.syncSecret(id(1)), secret(1));
      assert.deepEqual(again.syncSecret(id(2)), secret(2));
      assert.deepEqual(
        again.syncTargets().map((t) => [t.tokenId, t.syncSecret, t.ackedTo]),
        [
          [id(2), secret(2), null],
          [id(1), secret(1), null]
        ]
      );
      assert.throws(() => again.syncSecret(id(9)), UnknownTokenError);
      again.close();
      assert.ok(!onDisk(dbFile, secret(1)) && !onDisk(dbFile, secret(2)));
    });

    it("the care home's key: kept sealed across a restart, and another home's refused", () => {
      const { dbFile, key, keyFile } = fresh();
      const store = KioskStore.open(dbFile, key);
      assert.equal(store.homeKey(), null, "none before the first import");
      const home = new Uint8Array(32).fill(0x33);
      store.setHomeKey(home);
      store.setHomeKey(home);
      assert.throws(() => store.setHomeKey(new Uint8Array(32).fill(0x34)), /already serves a care home with another home key/);
      store.close();
      const again = KioskStore.open(dbFile, readMasterKey(keyFile));
      assert.deepEqual(again.homeKey(), home);
      again.close();
      assert.ok(!onDisk(dbFile, home), "sealed");
      assert.throws(() => KioskStore.open(dbFile, MasterKey.random()).homeKey(), /does not open with this master key/);
    });

    it("a sealed secret copied to another token's row does not open", () => {
      const { dbFile, key } = fresh();
      const store = KioskStore.open(dbFile, key);
      store.addToken(token(1));
      store.addToken(token(2));
      const raw = new Database(dbFile);
      raw.exec(`UPDATE tokens SET sync_secret = (SELECT sync_secret FROM tokens WHERE token_id = '${id(1)}') WHERE token_id = '${id(2)}'`);
      raw.close();
      assert.deepEqual(store.syncSecret(id(1)), secret(1));
      assert.throws(
        () => store.syncSecret(id(2)),
        (e: Error) => e instanceof SyncSecretError && e.tokenId === id(2) && e.message.includes(id(2))
      );
      store.close();
    });

    it("with another master key, say which token's secret does not open", () => {
      const { dbFile, key } = fresh();
      const store = KioskStore.open(dbFile, key);
      store.addToken(token(3));
      store.close();
      const wrong = KioskStore.open(dbFile, MasterKey.random());
      assert.equal(wrong.tokens().length, 1, "what needs no secret still works");
      assert.throws(
        () => wrong.syncSecret(id(3)),
        (e: Error) =>
          e instanceof SyncSecretError && e.code === "KIOSK_SECRET_LOCKED" && e.message.includes(id(3)) && /master key/.test(e.message)
      );
      assert.throws(() => wrong.syncTargets(), SyncSecretError);
      wrong.close();
    });

    it("refuse a duplicate or malformed enrolment and write nothing", () => {
      const { dbFile, key } = fresh();
      const store = KioskStore.open(dbFile, key);
      store.addToken(token(1));
      assert.throws(
        () => store.addToken(token(1, { syncSecret: secret(9) })),
        (e: Error) => e instanceof TokenExistsError && e.message.includes(id(1))
      );
      const bad: Partial<TokenEnrolment>[] = [
        { tokenId: id(0xab).toUpperCase() },
        { tokenId: id(2).slice(2) },
        { syncSecret: new Uint8Array(31) },
        { label: "Room 2\nok" },
        { label: "x".repeat(65) },
        { board: "Puck.js" },
        { enrolledAt: -1 }
      ];
      for (const b of bad) assert.throws(() => store.addToken(token(2, b)), UserError, JSON.stringify(b));
      assert.deepEqual(
        store.tokens().map((t) => t.tokenId),
        [id(1)]
      );
      assert.deepEqual(store.syncSecret(id(1)), secret(1));
      store.close();
    });

    it("import all or nothing, and report new, unchanged and conflicting tokens", () => {
      const { dbFile, key } = fresh();
      const store = KioskStore.open(dbFile, key);
      assert.throws(() => store.importTokens([token(1), token(2), token(3, { board: "" })]), /entry 3/);
      assert.deepEqual(store.tokens(), []);

      assert.deepEqual(store.importTokens([token(1), token(2)]), { added: 2, addedTokens: [id(1), id(2)], unchanged: 0, conflicting: [] });
      assert.deepEqual(store.importTokens([token(1), token(2, { syncSecret: secret(99) }), token(3)]), {
        added: 1,
        addedTokens: [id(3)],
        unchanged: 1,
        conflicting: [id(2)]
      });
      assert.deepEqual(store.syncSecret(id(2)), secret(2), "a conflicting import does not replace the secret the token holds");
      assert.deepEqual(store.syncSecret(id(3)), secret(3));
      store.close();
    });
  });

  describe("syncs", () => {
    const status: StatusUpdate = {
      lastSyncAt: T0 + 60,
      battery: 80,
      clockDriftS: -4,
      faults: 1,
      boots: 3,
      riskLevel: 2,
      riskReason: 0x13,
      riskAt: T0 + 55,
      ackedTo: 3
    };
    const seg = (s: number, day: number, fill: number): { seg: number; day: number; sealed: Uint8Array } => ({
      seg: s,
      day,
      sealed: new Uint8Array(100).fill(fill)
    });

    it("record history, status and archive; a segment read again replaces the stored copy", () => {
      const { dbFile, key } = fresh();
      let clock = T0 + 61;
      const store = KioskStore.open(dbFile, key, { now: () => clock });
      store.addToken(token(1));
      const base = { tokenId: id(1), detail: "synced", segmentsRead: 2, bytesRead: 200 };
      store.recordSync({ ...base, startedAt: T0, endedAt: T0 + 60, outcome: "ok", status, segments: [seg(1, 100, 1), seg(2, 101, 2)] });
      clock = T0 + 261;
      store.recordSync({
        ...base,
        startedAt: T0 + 100,
        endedAt: T0 + 101,
        outcome: "link-lost",
        detail: "the link was lost",
        status: { battery: 79 }
      });
      store.recordSync({ ...base, startedAt: T0 + 200, endedAt: T0 + 260, outcome: "ok", segments: [seg(3, 102, 3), seg(2, 101, 22)] });
      store.close();

      const again = KioskStore.open(dbFile, key);
      const t = again.token(id(1)) as TokenRecord;
      assert.deepEqual(
        [t.lastSyncAt, t.battery, t.clockDriftS, t.faults, t.boots, t.riskLevel, t.riskReason, t.riskAt, t.ackedTo],
        [T0 + 60, 79, -4, 1, 3, 2, 0x13, T0 + 55, 3],
        "fields a later sync did not report keep their values"
      );
      assert.deepEqual(
        again.archive(id(1)).map((a) => [a.seg, a.day, a.sealed[0], a.storedAt]),
        [
          [1, 100, 1, T0 + 61],
          [2, 101, 22, T0 + 261],
          [3, 102, 3, T0 + 261]
        ]
      );
      assert.deepEqual(
        again.history(id(1), 2).map((h) => [h.outcome, h.startedAt, h.detail]),
        [
          ["ok", T0 + 200, "synced"],
          ["link-lost", T0 + 100, "the link was lost"]
        ]
      );
      assert.equal(again.history(id(1), 10).length, 3);
      again.close();
    });

    it("the exposure behind a level: kept with it, replaced by the next level, never without one", () => {
      const { dbFile, key } = fresh();
      const store = KioskStore.open(dbFile, key);
      store.addToken(token(1));
      const run = { tokenId: id(1), startedAt: T0, endedAt: T0 + 1, outcome: "ok" as const, detail: "", segmentsRead: 0, bytesRead: 0 };
      const level = { riskLevel: 2, riskReason: 3, riskAt: T0 };
      const exposure = (t: TokenRecord | undefined): unknown[] => [t?.exposureDay, t?.exposureMinutes];
      store.recordSync({ ...run, status: { ...level, exposureDay: "2030-01-14", exposureMinutes: 40 } });
      assert.deepEqual(exposure(store.token(id(1))), ["2030-01-14", 40]);
      store.recordSync({ ...run, status: { battery: 50 } });
      assert.deepEqual(exposure(store.token(id(1))), ["2030-01-14", 40], "a sync that wrote no level keeps it");
      store.recordSync({ ...run, status: { riskLevel: 0, riskReason: 0, riskAt: T0 + 9 } });
      assert.deepEqual(exposure(store.token(id(1))), [null, null], "a new level without an exposure clears the old one");
      for (const [bad, why] of [
        [{ exposureDay: "2030-01-14", exposureMinutes: 40 }, /with the level they explain/],
        [{ ...level, exposureDay: "2030-01-14" }, /together or not at all/],
        [{ ...level, exposureDay: "14/01/2030", exposureMinutes: 40 }, /YYYY-MM-DD/],
        [{ ...level, exposureDay: "2030-01-14", exposureMinutes: 2000 }, /exposure's minutes/]
      ] as const)
        assert.throws(() => store.recordSync({ ...run, status: bad }), why);
      store.close();
    });

    it("record all of a sync or none of it", () => {
      const { dbFile, key } = fresh();
      const store = KioskStore.open(dbFile, key);
      store.addToken(token(1));
      // Fails the second segment's insert, after the history row, the status and the first segment were written.
      const raw = new Database(dbFile);
      raw.exec(
        `CREATE TRIGGER refuse_13 BEFORE INSERT ON archive_segments WHEN NEW.seg = 13 BEGIN SELECT RAISE(ABORT, 'disk says no'); END`
      );
      raw.close();
      const run = {
        tokenId: id(1),
        startedAt: T0,
        endedAt: T0 + 1,
        outcome: "ok" as const,
        detail: "",
        segmentsRead: 2,
        bytesRead: 200,
        status
      };
      assert.throws(() => store.recordSync({ ...run, segments: [seg(12, 100, 1), seg(13, 100, 2)] }), /disk says no/);
      assert.deepEqual(store.history(id(1), 10), []);
      assert.deepEqual(store.archive(id(1)), []);
      assert.equal(store.token(id(1))?.battery, null);

      assert.throws(() => store.recordSync({ ...run, tokenId: id(5) }), UnknownTokenError);
      assert.throws(() => store.recordSync({ ...run, status: { riskLevel: 1 } }), /together/);
      assert.throws(() => store.recordSync({ ...run, segments: [seg(4, 100, 1), seg(4, 100, 2)] }), /given twice/);
      assert.deepEqual(store.history(id(1), 10), []);
      store.close();
    });

    it("drop segments that no longer open before storing fresh copies", () => {
      const { dbFile, key } = fresh();
      const store = KioskStore.open(dbFile, key);
      store.addToken(token(1));
      const run = { tokenId: id(1), startedAt: T0, endedAt: T0, outcome: "ok" as const, detail: "", segmentsRead: 0, bytesRead: 0 };
      store.recordSync({ ...run, segments: [seg(1, 100, 1), seg(2, 100, 2), seg(3, 100, 3)] });
      store.recordSync({ ...run, dropSegments: [1, 2], segments: [seg(2, 100, 9)] });
      assert.deepEqual(
        store.archive(id(1)).map((a) => [a.seg, a.sealed[0]]),
        [
          [2, 9],
          [3, 3]
        ]
      );
      store.close();
    });

    it("store a token's archive and acknowledgement together, ageing out only that token's old segments", () => {
      const { dbFile, key } = fresh();
      const store = KioskStore.open(dbFile, key, { now: () => T0 });
      store.addToken(token(1));
      store.addToken(token(2));
      const run = { startedAt: T0, endedAt: T0, outcome: "ok" as const, detail: "", segmentsRead: 0, bytesRead: 0 };
      store.recordSync({ ...run, tokenId: id(1), segments: [seg(1, 90, 1), seg(2, 100, 2), seg(3, 101, 3)] });
      store.recordSync({ ...run, tokenId: id(2), segments: [seg(1, 90, 1)] });
      const commit = { tokenId: id(1), segments: [seg(3, 101, 33), seg(4, 102, 4)], dropSegments: [2], beforeDay: 95, ackedTo: 4 };
      store.storeArchive(commit);
      assert.deepEqual(
        store.archive(id(1)).map((a) => [a.seg, a.sealed[0]]),
        [
          [3, 33],
          [4, 4]
        ]
      );
      assert.deepEqual(
        store.archive(id(2)).map((a) => a.seg),
        [1]
      );
      assert.equal(store.token(id(1))?.ackedTo, 4);
      assert.equal(store.token(id(2))?.ackedTo, null);
      assert.throws(() => store.storeArchive({ ...commit, tokenId: id(7) }), UnknownTokenError);
      assert.throws(() => store.storeArchive({ ...commit, ackedTo: 5, segments: [seg(5, -1, 5)] }), UserError);
      assert.equal(store.token(id(1))?.ackedTo, 4, "a refused commit changes nothing");
      store.close();
    });

    it("age archived segments out by day", () => {
      const { dbFile, key } = fresh();
      const store = KioskStore.open(dbFile, key);
      store.addToken(token(1));
      store.addToken(token(2));
      const run = { startedAt: T0, endedAt: T0, outcome: "ok" as const, detail: "", segmentsRead: 0, bytesRead: 0 };
      store.recordSync({ ...run, tokenId: id(1), segments: [seg(1, 100, 1), seg(2, 101, 1), seg(3, 102, 1)] });
      store.recordSync({ ...run, tokenId: id(2), segments: [seg(1, 99, 1), seg(2, 102, 1)] });
      assert.equal(store.pruneArchive(102), 3);
      assert.deepEqual(
        [id(1), id(2)].map((t) => store.archive(t).map((a) => a.seg)),
        [[3], [2]]
      );
      assert.equal(store.pruneArchive(102), 0);
      store.close();
    });
  });

  describe("killed with SIGKILL at random moments", () => {
    const KILLS = 30;
    const WORKER = path.join(__dirname, "store-kill-worker.ts");
    /** The next workers, already loaded and waiting for "go": loading ts-node is most of a worker's second. */
    const STANDBY = 2;

    interface Worker {
      child: ChildProcess;
      lines: string[];
      exited: Promise<void>;
      waitFor: (line: string) => Promise<void>;
    }

    function spawnWorker(dbFile: string, keyFile: string): Worker {
      const child = spawn(process.execPath, ["-r", "ts-node/register", WORKER, dbFile, keyFile], {
        cwd: ROOT,
        stdio: ["pipe", "pipe", "pipe"]
      });
      const lines: string[] = [];
      let partial = "";
      let stderr = "";
      const waiters: Array<() => void> = [];
      child.stdout?.on("data", (d: Buffer) => {
        const parts = (partial + d.toString()).split("\n");
        partial = parts.pop() ?? "";
        lines.push(...parts);
        waiters.splice(0).forEach((w) => w());
      });
      child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
      // "close", not "exit": the lines the worker wrote before it died are all read by then.
      const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
      const waitFor = (line: string): Promise<void> =>
        new Promise((resolve, reject) => {
          const check = (): void => {
            if (lines.includes(line)) resolve();
            else if (child.exitCode !== null || child.signalCode !== null)
              reject(new Error(`the worker ended before "${line}": ${stderr}`));
            else waiters.push(check);
          };
          child.once("exit", check);
          check();
        });
      return { child, lines, exited, waitFor };
    }

    const plans = new Map<number, RunPlan>();
    const plan = (run: number): RunPlan => {
      let p = plans.get(run);
      if (!p) plans.set(run, (p = planRun(run)));
      return p;
    };

    /** Every invariant a kill must not break; returns the number of runs found. */
    function checkInvariants(dbFile: string, key: MasterKey, reported: number): number {
      const store = KioskStore.open(dbFile, key);
      try {
        assert.deepEqual(store.check(), [], "integrity and foreign keys");
        const history = KILL_TOKENS.flatMap((t) => store.history(t, 1e9));
        const runs = history.map((h) => h.startedAt - KILL_BASE_TIME).sort((a, b) => a - b);
        // Runs commit one after another: a gap would be a lost commit, a repeat a run recorded twice.
        assert.deepEqual(
          runs,
          runs.map((_, i) => i),
          "runs 0…N each once"
        );
        assert.ok(runs.length - 1 >= reported, `run ${reported} returned before the kill but is not in the database`);
        for (const h of history) {
          const p = plan(h.startedAt - KILL_BASE_TIME);
          assert.deepEqual(
            [h.tokenId, h.outcome, h.detail, h.segmentsRead, h.bytesRead],
            [p.tokenId, p.outcome, p.detail, p.segments.length, p.bytesRead]
          );
        }
        const present = new Set(runs);
        for (const t of KILL_TOKENS) {
          const mine = runs.filter((r) => plan(r).tokenId === t);
          // Each stored segment names its run: that run must be recorded, and its bytes must be that run's.
          const archived = store.archive(t);
          for (const a of archived) {
            const p = plan(Math.floor(a.seg / SEGS_PER_RUN));
            assert.ok(present.has(p.run), `segment ${a.seg} stored without the run that wrote it`);
            const planned = p.segments.find((s) => s.seg === a.seg);
            assert.ok(
              planned && Buffer.from(planned.sealed).equals(Buffer.from(a.sealed)) && planned.day === a.day,
              `segment ${a.seg}'s bytes`
            );
          }
          assert.equal(
            archived.length,
            mine.map((r) => plan(r).segments.length).reduce((x, y) => x + y, 0),
            `every segment of ${t}'s runs`
          );
          // The status is what applying every recorded run's update in order gives: none lost, none half applied.
          const expected: Record<string, number | null> = {};
          for (const f of ["lastSyncAt", "battery", "clockDriftS", "faults", "boots", "riskLevel", "riskReason", "riskAt", "ackedTo"])
            expected[f] = null;
          for (const r of mine)
            for (const [f, v] of Object.entries(plan(r).status ?? {})) if (v !== undefined && v !== null) expected[f] = v;
          const rec = store.token(t) as TokenRecord;
          const got: Record<string, number | null> = {};
          for (const f of Object.keys(expected)) got[f] = rec[f as keyof TokenRecord] as number | null;
          assert.deepEqual(got, expected, `status of ${t}`);
        }
        return runs.length;
      } finally {
        store.close();
      }
    }

    it("leaves every recorded sync whole, every committed one kept, and the file sound", async function () {
      this.timeout(120_000);
      const sub = fs.mkdtempSync(path.join(dir, "kill-"));
      const dbFile = path.join(sub, "kiosk.db");
      const keyFile = path.join(sub, "master.key");
      const key = createMasterKey(keyFile);
      const store = KioskStore.open(dbFile, key);
      KILL_TOKENS.forEach((t, i) =>
        store.addToken({ tokenId: t, label: `Room ${i}`, board: "puckjs", syncSecret: secret(i), enrolledAt: T0 })
      );
      store.close();

      const random = prng(20260301);
      const standby: Worker[] = [];
      let spawned = 0;
      const refill = (): void => {
        while (standby.length < STANDBY && spawned < KILLS) {
          standby.push(spawnWorker(dbFile, keyFile));
          spawned++;
        }
      };
      refill();
      let reported = -1;
      let runs = 0;
      try {
        for (let k = 0; k < KILLS; k++) {
          const w = standby.shift() as Worker;
          refill();
          w.child.stdin?.write("go\n");
          await w.waitFor("ready");
          // From the very first run to several dozen: the moment lands in a commit, between commits, or in a checkpoint.
          await new Promise((r) => setTimeout(r, Math.floor(random() * 120)));
          w.child.kill("SIGKILL");
          await w.exited;
          const done = w.lines.filter((l) => /^\d+$/.test(l)).map(Number);
          if (done.length) reported = Math.max(reported, ...done);
          runs = checkInvariants(dbFile, key, reported);
        }
      } finally {
        for (const w of standby) w.child.kill("SIGKILL");
      }
      // Not vacuous: the workers got past their first runs, across the kills (about 3 a kill on an idle machine, 2 under load).
      assert.ok(runs >= KILLS, `only ${runs} runs were recorded in ${KILLS} kills`);
    });
  });
});
