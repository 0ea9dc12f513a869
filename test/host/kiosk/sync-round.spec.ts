import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadBoard } from "../../../host-tools/src/build/boards";
import { SimSyncLink } from "../../../host-tools/src/ble/sim-transport";
import { SyncRoundStore, syncRound, SyncRoundResult } from "../../../host-tools/src/kiosk/sync-round";
import { ArchiveCommit, KioskStore } from "../../../host-tools/src/kiosk/store";
import { MasterKey } from "../../../host-tools/src/kiosk/master-key";
import { DriftingClock } from "../../../host-tools/src/sim/clock";
import { EspruinoToken, createEmulatedToken } from "../../../host-tools/src/sim/espruino";
import { EventScheduler } from "../../../host-tools/src/sim/scheduler";
import { ACK_FILE, HEADER_BYTES, LOG_PREFIX, RECORD_BYTES } from "../../../firmware/src/wire/log-record";
import { SETTINGS_FILE } from "../../../firmware/src/wire/settings";
import { RecordingRadio } from "../../sim/espruino/helpers";
import { testBundle } from "../../helpers/firmware";
import { KEYS, SECRET, T0, DAY, TOKEN_ID, writeExposedToken } from "./exposed-token";
import type { RiskConfig } from "../../../host-tools/src/match/risk-config";
import { classifierRiskConfig } from "../../../host-tools/src/sim/metrics/band-models";

/**
 * A kiosk's sync of one token (host-tools/src/kiosk/sync-round.ts) against
 * the real Puck.js bundle on the Espruino emulation over the simulated link:
 * the log goes into a sealed archive the kiosk cannot open without the token,
 * the whole history is matched while the token waits, and the level is
 * written back, with the kiosk's own SQLite store.
 */

const TRUE0 = 1000;

/** The kiosk's SQLite store with the token enrolled, and every archive commit the round makes, in order. */
function kioskStore(dir: string): { db: KioskStore; store: SyncRoundStore; commits: ArchiveCommit[] } {
  const db = KioskStore.open(path.join(dir, "kiosk.db"), MasterKey.random(), { now: () => T0 });
  db.addToken({ tokenId: TOKEN_ID, label: "Room 12", board: "puckjs", syncSecret: SECRET, enrolledAt: T0 - 10 * DAY });
  const commits: ArchiveCommit[] = [];
  const store: SyncRoundStore = {
    syncTargets: () => db.syncTargets(),
    archive: (id) => db.archive(id),
    storeArchive: (a) => {
      commits.push(a);
      db.storeArchive(a);
    },
    recordSync: (r) => db.recordSync(r)
  };
  return { db, store, commits };
}

const archived = (db: KioskStore): number[] => db.archive(TOKEN_ID).map((a) => a.seg);
const lastOutcome = (db: KioskStore): string | undefined => db.history(TOKEN_ID, 1)[0]?.outcome;

interface World {
  token: EspruinoToken;
  scheduler: EventScheduler;
  hostNow(): number;
}

async function world(archiveSecret = new Uint8Array(32).fill(2)): Promise<World> {
  const scheduler = new EventScheduler(TRUE0);
  const token = createEmulatedToken({
    id: "kiosk-round",
    board: loadBoard("puckjs"),
    bundle: (await testBundle("puckjs")).code,
    scheduler,
    clock: new DriftingClock({ driftPpm: 0, startTrue: TRUE0, startLocal: T0 - 30 }),
    radio: new RecordingRadio(),
    seed: 5
  });
  writeExposedToken(token.storage, archiveSecret);
  token.boot();
  scheduler.runUntil(TRUE0 + 60);
  return { token, scheduler, hostNow: () => Math.floor(T0 + scheduler.now - TRUE0) };
}

describe("kiosk sync round: a token's log into its sealed archive, matched whole, the level written back", function () {
  this.timeout(120_000);
  const dirs: string[] = [];
  const workDir = (): string => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), "pt-kiosk-round-"));
    dirs.push(d);
    return d;
  };
  before(() => testBundle("puckjs"));
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  async function round(
    w: World,
    store: SyncRoundStore,
    work: string,
    keys = KEYS,
    onLink?: (l: SimSyncLink) => void
  ): Promise<SyncRoundResult> {
    w.token.pressButton(2500);
    w.scheduler.runUntil(w.scheduler.now + 3);
    const link = SimSyncLink.connect(w.token, { scheduler: w.scheduler });
    onLink?.(link);
    return syncRound(link, { store, keys, workDir: work, now: w.hostNow, timer: link.timer });
  }

  it("first sync: every segment sealed into the archive before the ack, the exposure found, the token shows it; nothing readable left on disk", async () => {
    const w = await world();
    const work = workDir();
    const { db, store } = kioskStore(workDir());
    const r = await round(w, store, work);
    assert.equal(r.outcome, "ok", r.detail);
    assert.doesNotMatch(r.detail, /credited as a phone's/, "the token's board config was read");
    assert.equal(r.tokenId, TOKEN_ID);
    assert.deepEqual(archived(db), [1, 2, 3, 4, 5], "every segment the token held");
    assert.equal(db.token(TOKEN_ID)!.ackedTo, 5, "the next sync starts at the segment still being written");
    assert.equal(Buffer.from(w.token.storage.read(ACK_FILE)!).readUInt32LE(0), 5, "the token was told segments before 5 are stored");
    assert.ok(r.matched >= 30, `${r.matched} matched`);
    assert.notEqual(r.level, "none");
    assert.equal(r.lowerBound, false, "a whole log: the level is not a lower bound");
    assert.ok(r.written && r.written.level >= 1, "a warning was written");
    assert.deepEqual([...w.token.storage.read(SETTINGS_FILE)!], [r.written.level, r.written.reason]);
    assert.ok(r.historyDays >= 4.9, `history ${r.historyDays} days`);
    assert.deepEqual(fs.readdirSync(work), [], "the session's plain copy is gone");
    // The sealed archive holds no record in clear.
    const rec = w.token.storage.read(`${LOG_PREFIX}2`)!.subarray(HEADER_BYTES, HEADER_BYTES + RECORD_BYTES);
    for (const a of db.archive(TOKEN_ID)) assert.equal(Buffer.from(a.sealed).indexOf(Buffer.from(rec)), -1);
    assert.equal(lastOutcome(db), "ok");
    assert.deepEqual(
      [db.token(TOKEN_ID)!.riskLevel, db.token(TOKEN_ID)!.riskReason],
      [r.written.level, r.written.reason],
      "the kiosk's record says what the token shows"
    );
    // What staff are told with the level: the day of the 30 minutes near the diagnosed person, and about how long.
    // Credited with the Puck.js's own schedule: the first scan stands for its mean 510 s between scans
    // (a phone's 255 s would give 35), the other 29 for the minute since the one before: 38.5, shown as 40.
    const t = db.token(TOKEN_ID)!;
    assert.equal(t.exposureDay, new Date((T0 - 5 * DAY) * 1000).toISOString().slice(0, 10));
    assert.equal(t.exposureMinutes, 40);
    assert.equal(t.exposureMinutes % 5, 0, "rounded: no finer trace is kept");
  });

  it("grades with the risk config it is given: the close-contact classifier calls the 30 minutes medium where weighted minutes say high", async () => {
    const graded = async (riskConfig?: RiskConfig): Promise<SyncRoundResult> => {
      const w = await world();
      const { store } = kioskStore(workDir());
      w.token.pressButton(2500);
      w.scheduler.runUntil(w.scheduler.now + 3);
      const link = SimSyncLink.connect(w.token, { scheduler: w.scheduler });
      return syncRound(link, { store, keys: KEYS, workDir: workDir(), now: w.hostNow, timer: link.timer, riskConfig });
    };
    // 38.5 credited minutes at 40 dB: 58 weighted minutes (high); the model's p is below its cut (medium).
    const minutes = await graded();
    const classifier = await graded(classifierRiskConfig());
    assert.equal(minutes.level, "high", minutes.detail);
    assert.equal(classifier.level, "medium", classifier.detail);
    assert.equal(classifier.written?.level, 2, 'medium, like high, shows "ask staff" on the token');
  });

  it("the archive keeps what the token freed: after the token lost its old segments, the exposure in them is still found", async () => {
    const w = await world();
    const { store, commits } = kioskStore(workDir());
    await round(w, store, workDir());
    // Flash ran short: the token freed its acknowledged segments (1..4).
    for (let k = 1; k <= 4; k++) w.token.storage.erase(`${LOG_PREFIX}${k}`);
    w.scheduler.runUntil(w.scheduler.now + 600);
    const r = await round(w, store, workDir());
    assert.equal(r.outcome, "ok", r.detail);
    assert.ok(r.matched >= 30, "matched from the archive");
    assert.ok(r.historyDays >= 4.9);
    assert.deepEqual(
      commits.at(-1)!.segments.map((a) => a.seg),
      [5],
      "only the segment still being written was read again"
    );
  });

  it("a token provisioned again cannot open its old archive: what it still holds is read again, what it freed is gone and the level says so", async () => {
    const { db, store, commits } = kioskStore(workDir());
    await round(await world(), store, workDir());
    const again = await world(new Uint8Array(32).fill(9));
    // It freed its three oldest segments since.
    for (let k = 1; k <= 3; k++) again.token.storage.erase(`${LOG_PREFIX}${k}`);
    const r = await round(again, store, workDir());
    assert.equal(r.outcome, "ok", r.detail);
    assert.deepEqual([...commits.at(-1)!.dropSegments].sort(), [1, 2, 3, 4, 5], "no archived segment opens");
    assert.deepEqual(archived(db), [4, 5], "4 and 5, read again, are sealed under the new secret");
    assert.ok(r.lowerBound);
    assert.ok(r.written!.reason & 0x20, "the reason says history was lost");
  });

  it("a damaged archive segment the token still holds is read again from the token: nothing lost", async () => {
    const w = await world();
    const { db, store } = kioskStore(workDir());
    await round(w, store, workDir());
    const seg2 = db.archive(TOKEN_ID).find((a) => a.seg === 2)!;
    const bad = Uint8Array.from(seg2.sealed);
    bad[60] ^= 0x10;
    db.storeArchive({ tokenId: TOKEN_ID, segments: [{ seg: 2, day: seg2.day, sealed: bad }], dropSegments: [], beforeDay: 0, ackedTo: 5 });
    w.scheduler.runUntil(w.scheduler.now + 600);
    const r = await round(w, store, workDir());
    assert.equal(r.outcome, "ok", r.detail);
    assert.equal(r.lowerBound, false);
    assert.ok(r.matched >= 30);
    assert.deepEqual(archived(db), [1, 2, 3, 4, 5]);
    assert.notDeepEqual(db.archive(TOKEN_ID)[1].sealed, bad, "segment 2 sealed again from the token's copy");
  });

  it("a link lost mid-dump: nothing archived, nothing acknowledged, recorded as link-lost, no plain copy left", async () => {
    const w = await world();
    const { db, store } = kioskStore(workDir());
    const work = workDir();
    let chunks = 0;
    w.token.pressButton(2500);
    w.scheduler.runUntil(w.scheduler.now + 3);
    const link = SimSyncLink.connect(w.token, { scheduler: w.scheduler });
    const r = await syncRound(link, {
      store,
      keys: KEYS,
      workDir: work,
      now: w.hostNow,
      timer: link.timer,
      onProgress: (e) => {
        if (e.kind === "chunk" && ++chunks === 12) link.lose();
      }
    });
    assert.equal(r.outcome, "link-lost", r.detail);
    assert.deepEqual(archived(db), []);
    assert.equal(w.token.storage.read(ACK_FILE), undefined, "the token was told nothing is stored");
    assert.equal(lastOutcome(db), "link-lost");
    assert.deepEqual(fs.readdirSync(work), []);
  });

  it("with no published keys yet the log is still archived, and the token's level is left as it was", async () => {
    const w = await world();
    const { db, store } = kioskStore(workDir());
    const r = await round(w, store, workDir(), []);
    assert.equal(r.outcome, "ok", r.detail);
    assert.equal(r.written, null);
    assert.equal(r.level, null);
    assert.equal(archived(db).length, 5);
    assert.equal(w.token.storage.read(SETTINGS_FILE), undefined);
  });
});
