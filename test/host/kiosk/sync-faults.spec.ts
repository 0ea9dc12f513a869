import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadBoard } from "../../../host-tools/src/build/boards";
import { SimSyncLink } from "../../../host-tools/src/ble/sim-transport";
import type { SyncLink } from "../../../host-tools/src/ble/transport";
import { archiveKey, openSegment } from "../../../host-tools/src/kiosk/archive";
import { initKioskDir, openKioskDir } from "../../../host-tools/src/kiosk/kiosk-dir";
import { syncRound, SyncRoundResult } from "../../../host-tools/src/kiosk/sync-round";
import type { KioskStore } from "../../../host-tools/src/kiosk/store";
import { DriftingClock } from "../../../host-tools/src/sim/clock";
import { EspruinoToken, createEmulatedToken } from "../../../host-tools/src/sim/espruino";
import { Rng } from "../../../host-tools/src/sim/prng";
import { EventScheduler } from "../../../host-tools/src/sim/scheduler";
import type { SyncTimer } from "../../../host-tools/src/sync/wire";
import { ACK_FILE, HEADER_BYTES, LOG_PREFIX, RECORD_BYTES, firstFreeSlot } from "../../../firmware/src/wire/log-record";
import { RecordingRadio } from "../../sim/espruino/helpers";
import { testBundle } from "../../helpers/firmware";
import { DAY, KEYS, SECRET, SEGMENTS, T0, TOKEN_ID, writeExposedToken } from "./exposed-token";

/**
 * A kiosk killed at any point of a sync, and links lost at any point: after
 * the kiosk restarts and syncs the token again, its archive holds exactly
 * the token's log (nothing lost), the exposure is counted once (nothing
 * counted twice), the token was never told more is stored than the kiosk
 * stored, and no plain copy of the log is left.
 *
 * A kill is played by a link that, from its n-th event on (a write or a
 * notification), delivers nothing, answers nothing and lets no deadline of
 * the session fire: the session's promise never settles and its clean-up
 * never runs, as in a process that died there. The token goes on (its
 * central vanished: it drops the link after 20 s of silence).
 */

const ARCHIVE_SECRET = new Uint8Array(32).fill(2);

class KillableLink implements SyncLink {
  readonly writeBytes: number;
  killed = false;
  events = 0;
  readonly timer: SyncTimer;
  constructor(
    private readonly l: SimSyncLink,
    private readonly killAt: number
  ) {
    this.writeBytes = l.writeBytes;
    this.timer = (ms, fn) => l.timer(ms, () => (this.killed ? undefined : fn()));
  }
  private dead(): boolean {
    if (!this.killed && ++this.events > this.killAt) {
      this.killed = true;
      void this.l.disconnect();
    }
    return this.killed;
  }
  write(b: Uint8Array): Promise<void> {
    return this.dead() ? new Promise<void>(() => undefined) : this.l.write(b);
  }
  onData(cb: (b: Uint8Array) => void): void {
    this.l.onData((b) => (this.dead() ? undefined : cb(b)));
  }
  onClose(cb: (reason: string) => void): void {
    this.l.onClose((r) => (this.killed ? undefined : cb(r)));
  }
  disconnect(): Promise<void> {
    return this.killed ? Promise.resolve() : this.l.disconnect();
  }
}

interface World {
  token: EspruinoToken;
  radio: RecordingRadio;
  scheduler: EventScheduler;
  hostNow(): number;
}

async function world(): Promise<World> {
  const scheduler = new EventScheduler(1000);
  const radio = new RecordingRadio();
  const token = createEmulatedToken({
    id: "faults",
    board: loadBoard("puckjs"),
    bundle: (await testBundle("puckjs")).code,
    scheduler,
    clock: new DriftingClock({ driftPpm: 0, startTrue: 1000, startLocal: T0 - 30 }),
    radio,
    seed: 3
  });
  writeExposedToken(token.storage, ARCHIVE_SECRET);
  token.boot();
  scheduler.runUntil(1060);
  return { token, radio, scheduler, hostNow: () => Math.floor(T0 + scheduler.now - 1000) };
}

function connect(w: World): SimSyncLink {
  // A long press opens the window, or closes one still open.
  if (!w.radio.advert?.connectable) {
    w.token.pressButton(2500);
    w.scheduler.runUntil(w.scheduler.now + 3);
  }
  return SimSyncLink.connect(w.token, { scheduler: w.scheduler });
}

const written = (b: Uint8Array): number => HEADER_BYTES + firstFreeSlot(b) * RECORD_BYTES;

/** The archive, opened with the token's key, holds every segment and equals what the token still holds; the token's ack is never past the kiosk's. */
function checkArchive(w: World, db: KioskStore, what: string): void {
  const key = archiveKey(ARCHIVE_SECRET, TOKEN_ID);
  const archived = db.archive(TOKEN_ID);
  assert.deepEqual(
    archived.map((a) => a.seg),
    SEGMENTS.map((_, i) => i + 1),
    `${what}: every segment archived`
  );
  for (const a of archived) {
    const mine = openSegment(key, TOKEN_ID, a.seg, a.sealed);
    const theirs = w.token.storage.read(`${LOG_PREFIX}${a.seg}`);
    // Freed by the token since it was told the segment is stored: the archive's copy is the only one (the match count checks it).
    if (!theirs) continue;
    const n = written(theirs);
    assert.ok(written(mine) <= n, `${what}: segment ${a.seg} holds nothing the token did not write`);
    // The newest segment grows after a sync: compare what the copy holds.
    assert.deepEqual(
      Buffer.from(mine.subarray(0, written(mine))),
      Buffer.from(theirs.subarray(0, written(mine))),
      `${what}: segment ${a.seg} byte for byte`
    );
  }
  const ack = w.token.storage.read(ACK_FILE);
  if (ack)
    assert.ok(
      Buffer.from(ack).readUInt32LE(0) <= db.token(TOKEN_ID)!.ackedTo!,
      `${what}: the token was never told more is stored than the kiosk stored`
    );
}

describe("kiosk sync faults: killed at any point, or the link lost at any point, nothing is lost or counted twice", function () {
  this.timeout(600_000);
  const dirs: string[] = [];
  const tmp = (): string => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), "pt-kiosk-faults-"));
    dirs.push(d);
    return d;
  };
  before(() => testBundle("puckjs"));
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  /** A clean sync's events and its result, to know where the kills can land. */
  async function cleanRun(): Promise<{ events: number; result: SyncRoundResult }> {
    const w = await world();
    const k = initKioskDir(path.join(tmp(), "kiosk"));
    k.store.addToken({ tokenId: TOKEN_ID, label: "Room 12", board: "puckjs", syncSecret: SECRET, enrolledAt: T0 - 10 * DAY });
    const link = new KillableLink(connect(w), Infinity);
    const result = await syncRound(link, { store: k.store, keys: KEYS, workDir: k.workDir, now: w.hostNow, timer: link.timer });
    k.store.close();
    return { events: link.events, result };
  }

  it("kills at 24 points spread over a session (the ack's neighbourhood among them): after a restart and a sync, the archive is the token's log", async () => {
    const clean = await cleanRun();
    assert.equal(clean.result.outcome, "ok");
    const rng = new Rng(11);
    const points = new Set<number>([
      1,
      2,
      5,
      clean.events - 1,
      clean.events - 2,
      clean.events - 3,
      clean.events - 4,
      clean.events - 6,
      clean.events - 8
    ]);
    while (points.size < 24) points.add(1 + rng.int(clean.events - 1));
    for (const at of [...points].sort((a, b) => a - b)) {
      const w = await world();
      const dir = path.join(tmp(), "kiosk");
      const first = initKioskDir(dir);
      first.store.addToken({ tokenId: TOKEN_ID, label: "Room 12", board: "puckjs", syncSecret: SECRET, enrolledAt: T0 - 10 * DAY });
      const killed = new KillableLink(connect(w), at);
      let settled = false;
      void syncRound(killed, { store: first.store, keys: KEYS, workDir: first.workDir, now: w.hostNow, timer: killed.timer }).finally(
        () => (settled = true)
      );
      // Let the world run until the kill (the dead session's link pumps no more).
      for (let i = 0; i < 2000 && !killed.killed; i++) await new Promise((r) => setImmediate(r));
      assert.ok(killed.killed, `killed at event ${at}`);
      // What the token was told is stored must be stored: it frees those segments first when its flash runs short.
      const ack = w.token.storage.read(ACK_FILE);
      const told = ack ? Buffer.from(ack).readUInt32LE(0) : 0;
      assert.ok(
        told <= (first.store.token(TOKEN_ID)!.ackedTo ?? 0),
        `kill at ${at}: the token was told more is stored than the kiosk stored`
      );
      for (let seg = 1; seg < told; seg++) w.token.storage.erase(`${LOG_PREFIX}${seg}`);
      first.store.close();
      // The token gives up on its vanished central.
      w.scheduler.runUntil(w.scheduler.now + 30);
      // The kiosk restarts: a plain copy left by the dead session is removed.
      const again = openKioskDir(dir);
      assert.deepEqual(fs.readdirSync(again.workDir), [], `kill at ${at}: no plain copy survives a restart`);
      const link = connect(w);
      const r = await syncRound(link, { store: again.store, keys: KEYS, workDir: again.workDir, now: w.hostNow, timer: link.timer });
      assert.equal(r.outcome, "ok", `kill at ${at}: ${r.detail}`);
      assert.equal(r.matched, clean.result.matched, `kill at ${at}: the exposure counted once`);
      assert.equal(r.lowerBound, false, `kill at ${at}: nothing lost`);
      checkArchive(w, again.store, `kill at ${at}`);
      assert.equal(settled, false, "the killed session never went on");
      again.store.close();
    }
  });

  it("the link lost at 24 points: each time recorded, and the next sync leaves the archive equal to the token's log", async () => {
    const clean = await cleanRun();
    const rng = new Rng(12);
    const points = new Set<number>();
    while (points.size < 24) points.add(1 + rng.int(clean.events - 1));
    const w = await world();
    const k = initKioskDir(path.join(tmp(), "kiosk"));
    k.store.addToken({ tokenId: TOKEN_ID, label: "Room 12", board: "puckjs", syncSecret: SECRET, enrolledAt: T0 - 10 * DAY });
    for (const at of [...points].sort((a, b) => a - b)) {
      const sim = connect(w);
      let n = 0;
      const r = await syncRound(sim, {
        store: k.store,
        keys: KEYS,
        workDir: k.workDir,
        now: w.hostNow,
        timer: sim.timer,
        onProgress: () => {
          if (++n === Math.max(1, Math.floor(at / 8))) sim.lose();
        }
      });
      assert.ok(r.outcome === "link-lost" || r.outcome === "ok", `${r.outcome}: ${r.detail}`);
      assert.deepEqual(fs.readdirSync(k.workDir), []);
      w.scheduler.runUntil(w.scheduler.now + 30);
    }
    const link = connect(w);
    const r = await syncRound(link, { store: k.store, keys: KEYS, workDir: k.workDir, now: w.hostNow, timer: link.timer });
    assert.equal(r.outcome, "ok", r.detail);
    assert.equal(r.matched, clean.result.matched);
    checkArchive(w, k.store, "after the drops");
    assert.ok(
      k.store.history(TOKEN_ID, 100).some((h) => h.outcome === "link-lost"),
      "the drops are in the history"
    );
    k.store.close();
  });
});
