import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { initKioskDir } from "../../../host-tools/src/kiosk/kiosk-dir";
import { ServiceEvent, runKioskService } from "../../../host-tools/src/kiosk/service";
import { openSimTokens } from "../../../host-tools/src/sync/sim-tokens";
import { readStorageImage } from "../../../host-tools/src/tokenlog/storage-image";
import { SETTINGS_FILE } from "../../../firmware/src/wire/settings";
import { testBundle } from "../../helpers/firmware";
import { SECRET, T0, TOKEN_ID, publishedBatch, writeExposedImage } from "./exposed-token";

/**
 * `kiosk serve`'s loop (host-tools/src/kiosk/service.ts) on the simulated
 * radio and clock: a token synced while no key has been published yet gets
 * its log archived and no level; once the health authority publishes, the
 * next read of the key source and the token's next sync warn it from its
 * archived history. A token is not synced again at once while its window
 * (and address) stay open after a session.
 */
describe("kiosk service: passes one after another, keys read again on schedule", function () {
  this.timeout(240_000);
  let root: string;
  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "pt-kiosk-serve-"));
    await testBundle("puckjs");
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it("syncs without keys, then warns the token once the keys are published; an unreadable source keeps what it had and says so", async () => {
    const kiosk = initKioskDir(path.join(root, "kiosk"));
    kiosk.store.addToken({ tokenId: TOKEN_ID, label: "Room 12", board: "puckjs", syncSecret: SECRET, enrolledAt: T0 - 10 * 86400 });
    const image = path.join(root, "room12.bin");
    await writeExposedImage(image);
    const sim = await openSimTokens({ images: [image], requireSecrets: true });
    sim.openWindows();
    const keysDir = path.join(root, "published");
    const events: ServiceEvent[] = [];
    const stop = new AbortController();
    let oks = 0;
    const batch = await publishedBatch();
    try {
      await runKioskService({
        kiosk,
        transport: sim.transport,
        keys: { spec: keysDir },
        keyRefreshSeconds: 120,
        scanMs: 5000,
        pauseMs: 60_000,
        connectTimeoutMs: 15_000,
        passes: 40,
        signal: stop.signal,
        now: sim.now,
        sleep: sim.sleep,
        timerOf: sim.timerOf,
        onEvent: (e) => {
          events.push(e);
          if (e.kind !== "pass") return;
          for (const r of e.report.rounds) if (r.result.outcome === "ok") oks++;
          if (e.report.rounds.some((r) => r.result.written)) stop.abort();
          if (oks === 1 && !fs.existsSync(keysDir)) {
            // The health authority publishes after the first sync.
            fs.mkdirSync(keysDir);
            fs.writeFileSync(path.join(keysDir, "batch1.zip"), batch);
          }
          // The wearer keeps the window open (a press opens it for 2 minutes).
          sim.openWindows();
        }
      });
    } finally {
      await sim.transport.close();
    }
    const kinds = events.map((e) => e.kind).filter((k) => k !== "beacon");
    assert.equal(kinds[0], "keys-unreadable", "no keys published yet: said, not hidden");
    const passes = events.filter((e): e is Extract<ServiceEvent, { kind: "pass" }> => e.kind === "pass");
    const rounds = passes.flatMap((p) => p.report.rounds.map((r) => r.result));
    const last = rounds[rounds.length - 1];
    assert.ok(rounds.length >= 2, `syncs: ${rounds.map((r) => r.detail).join(" | ")}`);
    assert.equal(rounds[0].written, null, "first sync: no keys, no level written");
    assert.ok(kinds.indexOf("keys") > kinds.indexOf("keys-unreadable"), "the key source was read again on schedule");
    const built = events.find((e): e is Extract<ServiceEvent, { kind: "index" }> => e.kind === "index");
    assert.ok(built && built.message === null && built.keys === 1, "the published identifiers indexed once, when the keys came");
    assert.deepEqual(fs.readdirSync(path.join(kiosk.dir, "index")).filter((f) => f.endsWith(".rpi")).length, 1);
    assert.ok(last.written && last.written.level >= 1, "a sync after the keys were read: the warning");
    assert.ok(last.matched >= 30, "found in the archive kept since the first sync");
    // Not synced again at every pass while its window (and address) stayed open after a session.
    assert.ok(
      passes.some((p) => p.report.found.length > 0 && p.report.rounds.length === 0),
      "a pass that heard it and let it be"
    );
    sim.save();
    const cfg = readStorageImage(new Uint8Array(fs.readFileSync(image))).files.get(SETTINGS_FILE);
    assert.equal(cfg?.[0], last.written.level, "the token shows it");
    assert.deepEqual(
      kiosk.store.history(TOKEN_ID, 10).map((h) => h.outcome),
      rounds.map(() => "ok")
    );
    kiosk.store.close();
  });

  it("the beacon opens a token's window with no press: the kiosk syncs it unattended", async () => {
    const kiosk = initKioskDir(path.join(root, "beacon-kiosk"));
    kiosk.store.addToken({ tokenId: TOKEN_ID, label: "Room 12", board: "puckjs", syncSecret: SECRET, enrolledAt: T0 - 10 * 86400 });
    // The care home's key, as `kiosk import` takes it from the enrolment store (the image's token holds the same).
    kiosk.store.setHomeKey(new Uint8Array(32).fill(0x33));
    const image = path.join(root, "beacon-room12.bin");
    await writeExposedImage(image);
    const sim = await openSimTokens({ images: [image], requireSecrets: true });
    const events: ServiceEvent[] = [];
    const stop = new AbortController();
    try {
      await runKioskService({
        kiosk,
        transport: sim.transport,
        scanMs: 5000,
        pauseMs: 10_000,
        connectTimeoutMs: 15_000,
        passes: 120,
        signal: stop.signal,
        now: sim.now,
        sleep: sim.sleep,
        timerOf: sim.timerOf,
        onEvent: (e) => {
          events.push(e);
          if (e.kind === "pass" && e.report.rounds.length) stop.abort();
        }
      });
    } finally {
      await sim.transport.close();
    }
    assert.deepEqual(
      events.find((e) => e.kind === "beacon"),
      { kind: "beacon", on: true, message: null }
    );
    const rounds = events.flatMap((e) => (e.kind === "pass" ? e.report.rounds : []));
    assert.equal(rounds.length, 1, "synced once the token heard the beacon");
    assert.equal(rounds[0].result.outcome, "ok", rounds[0].result.detail);
    assert.equal(rounds[0].result.tokenId, TOKEN_ID);
    kiosk.store.close();
  });

  it("without the home key, or on a radio that cannot send it, the beacon is off and says why", async () => {
    const kiosk = initKioskDir(path.join(root, "no-beacon"));
    const events: ServiceEvent[] = [];
    const quiet = { scan: async () => [], connect: async () => Promise.reject(new Error("no")), close: async () => undefined };
    await runKioskService({
      kiosk,
      transport: quiet,
      scanMs: 1,
      pauseMs: 1,
      connectTimeoutMs: 1,
      passes: 1,
      onEvent: (e) => events.push(e)
    });
    kiosk.store.setHomeKey(new Uint8Array(32).fill(0x33));
    await runKioskService({
      kiosk,
      transport: quiet,
      scanMs: 1,
      pauseMs: 1,
      connectTimeoutMs: 1,
      passes: 1,
      onEvent: (e) => events.push(e)
    });
    const why = events.filter((e): e is Extract<ServiceEvent, { kind: "beacon" }> => e.kind === "beacon").map((e) => e.message);
    assert.equal(why.length, 2);
    assert.match(why[0]!, /no care home's key yet/);
    assert.match(why[1]!, /cannot send the beacon/);
    kiosk.store.close();
  });
});
