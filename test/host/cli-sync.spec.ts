import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadBoard } from "../../host-tools/src/build/boards";
import { DriftingClock } from "../../host-tools/src/sim/clock";
import { EspruinoStorage, EspruinoToken, Flash, createEmulatedToken } from "../../host-tools/src/sim/espruino";
import { EventScheduler } from "../../host-tools/src/sim/scheduler";
import type { AdvertState, CentralLink } from "../../host-tools/src/sim/types";
import { Enrolment, PASSPHRASE_ENV, writeStore } from "../../host-tools/src/provision/store";
import type { SyncJson } from "../../host-tools/src/sync/summary";
import { STATE_FILE } from "../../host-tools/src/sync/log-copy";
import { readStorageImage } from "../../host-tools/src/tokenlog/storage-image";
import { readTokenLog } from "../../host-tools/src/tokenlog/read-log";
import { loadTokenFiles } from "../../host-tools/src/tokenlog/token-files";
import {
  FLAG_UTC,
  HEADER_BYTES,
  LOG_PREFIX,
  RECORD_BYTES,
  SEGMENT_BYTES,
  encodeHeader,
  encodeRecord,
  firstFreeSlot
} from "../../firmware/src/wire/log-record";
import { SECRETS_FILE, encodeSecrets, readSecrets } from "../../firmware/src/wire/secrets";
import { runCli } from "../helpers/cli";
import { FakeBluez, FakePeripheral, startFakeBluez } from "../helpers/fake-bluez";
import { TEST_BUILD_TIME, testBundle } from "../helpers/firmware";

/**
 * `privatetracer sync` and `scan` end to end: the real Puck.js bundle on the
 * Espruino emulation, booted from a flash image (--transport sim), and over
 * node-ble against BlueZ-shaped objects on a private D-Bus (--transport
 * bluez, test/helpers/fake-bluez.ts) with an emulated token behind the fake
 * peripheral. Needs dbus-daemon for the BlueZ specs, as
 * test/host/ble/bluez-transport.spec.ts does.
 */

const PASS = "correct horse battery staple";
/** The newest log segment began an hour before this; older ones a day apart before it. */
const T0 = TEST_BUILD_TIME + 40 * 86400;
const SEGMENT_RECORDS_WRITTEN = [100, 100, 100, 100, 37];
const RECORDS = SEGMENT_RECORDS_WRITTEN.reduce((a, n) => a + n, 0);
const LOG_BYTES = SEGMENT_RECORDS_WRITTEN.reduce((a, n) => a + HEADER_BYTES + n * RECORD_BYTES, 0);

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const ROOM12: Enrolment = {
  tokenId: "00112233445566778899aabbccddeeff",
  label: "Room 12",
  board: "puckjs",
  created: "2025-01-02T00:00:00.000Z",
  syncSecret: hex(new Uint8Array(32).map((_, i) => 0xa0 ^ i))
};
const ROOM14: Enrolment = { ...ROOM12, tokenId: "ffeeddccbbaa99887766554433221100", label: "Room 14", syncSecret: "5a".repeat(32) };
/** Enrolled in another home's store: its token fails authentication here. */
const ELSEWHERE: Enrolment = { ...ROOM12, tokenId: "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f", label: "Elsewhere", syncSecret: "77".repeat(32) };
const HOME_KEY = "33".repeat(32);

const made: string[] = [];
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "pt-cli-sync-"));
  made.push(d);
  return d;
}

function secretsOf(e: Enrolment): Uint8Array {
  return encodeSecrets({
    tokenId: Buffer.from(e.tokenId, "hex"),
    syncSecret: Buffer.from(e.syncSecret, "hex"),
    archiveSecret: new Uint8Array(32).fill(0x22),
    homeKey: Buffer.from(HOME_KEY, "hex")
  });
}

/** The care home's store holding Room 12 and Room 14. */
function store(dir: string): string {
  const file = path.join(dir, "home.ptstore");
  writeStore(file, { homeKey: HOME_KEY, created: "2025-01-01T00:00:00.000Z", enrolments: [ROOM12, ROOM14] }, PASS);
  return file;
}

/** Header and records of segment `k` (1-based) of the pre-written log, as the firmware writes them. */
function writeLog(st: EspruinoStorage): void {
  for (let k = 1; k <= SEGMENT_RECORDS_WRITTEN.length; k++) {
    const base = k === SEGMENT_RECORDS_WRITTEN.length ? T0 - 3600 : T0 - (6 - k) * 86400;
    const n = SEGMENT_RECORDS_WRITTEN[k - 1];
    const records = new Uint8Array(n * RECORD_BYTES);
    for (let i = 0; i < n; i++)
      records.set(encodeRecord(new Uint8Array(6).fill(k * 16 + (i & 15)), 0, Math.min(i * 3, 59), -60, -50, 2), i * RECORD_BYTES);
    st.write(`${LOG_PREFIX}${k}`, encodeHeader(Math.floor(base / 60) * 60, FLAG_UTC, 0), 0, SEGMENT_BYTES);
    st.write(`${LOG_PREFIX}${k}`, records, HEADER_BYTES);
  }
}

/** A Puck.js with the test bundle as its boot code and a five-segment log, never booted, as an emulated token with its world. */
async function puck(
  secrets: Enrolment | null,
  seed = 7
): Promise<{ token: EspruinoToken; scheduler: EventScheduler; advert(): AdvertState | null }> {
  const scheduler = new EventScheduler(T0);
  let advert: AdvertState | null = null;
  const token = createEmulatedToken({
    id: `t${seed}`,
    board: loadBoard("puckjs"),
    bundle: (await testBundle("puckjs")).code,
    scheduler,
    clock: new DriftingClock({ startTrue: T0, startLocal: T0 }),
    radio: { advertising: (s) => (advert = s), scanning: () => undefined },
    seed
  });
  if (secrets) token.storage.write(SECRETS_FILE, secretsOf(secrets));
  writeLog(token.storage);
  return { token, scheduler, advert: () => advert };
}

/** A token's flash image file, as `simulate --out DIR` writes DIR/flash/<token>.bin. */
async function image(dir: string, name: string, secrets: Enrolment | null): Promise<string> {
  const file = path.join(dir, `${name}.bin`);
  fs.writeFileSync(file, (await puck(secrets)).token.flash.bytes);
  return file;
}

/** The image's log segments, by name. */
function imageSegments(file: string): Map<string, Uint8Array> {
  const files = readStorageImage(new Uint8Array(fs.readFileSync(file))).files;
  return new Map([...files].filter(([n]) => n.startsWith(LOG_PREFIX)));
}

/** Written bytes of a segment: header and slots before the first erased one (what the token sends). */
const written = (b: Uint8Array): number => HEADER_BYTES + firstFreeSlot(b) * RECORD_BYTES;

/** The token logs `n` more sightings (in its newest segment) between two syncs: written into its image in place, as flash takes them. */
function logMore(file: string, n: number): void {
  const bytes = new Uint8Array(fs.readFileSync(file));
  const flash = new Flash(bytes.length, 4096);
  flash.bytes.set(bytes);
  const st = new EspruinoStorage(flash);
  const newest = Math.max(
    ...st
      .list()
      .filter((f) => f.startsWith(LOG_PREFIX))
      .map((f) => Number(f.slice(LOG_PREFIX.length)))
  );
  const name = `${LOG_PREFIX}${newest}`;
  const slot = firstFreeSlot(st.read(name)!);
  const records = new Uint8Array(n * RECORD_BYTES);
  for (let i = 0; i < n; i++) records.set(encodeRecord(new Uint8Array(6).fill(0xe0 + i), 0, 60 + i, -55, -45, 3), i * RECORD_BYTES);
  assert.ok(st.write(name, records, HEADER_BYTES + slot * RECORD_BYTES));
  fs.writeFileSync(file, flash.bytes);
}

function simArgs(storeFile: string, out: string, flash: string[], ...more: string[]): string[] {
  return ["sync", "--transport", "sim", ...flash.flatMap((f) => ["--sim-flash", f]), "--store", storeFile, "--out", out, ...more];
}

describe("privatetracer sync and scan", function () {
  this.timeout(120_000);
  const savedPass = process.env[PASSPHRASE_ENV];
  const savedBus = process.env.DBUS_SYSTEM_BUS_ADDRESS;

  before(async function () {
    await testBundle("puckjs");
  });
  beforeEach(() => {
    process.env[PASSPHRASE_ENV] = PASS;
  });
  afterEach(() => {
    if (savedPass === undefined) delete process.env[PASSPHRASE_ENV];
    else process.env[PASSPHRASE_ENV] = savedPass;
    if (savedBus === undefined) delete process.env.DBUS_SYSTEM_BUS_ADDRESS;
    else process.env.DBUS_SYSTEM_BUS_ADDRESS = savedBus;
  });
  after(() => {
    for (const d of made) fs.rmSync(d, { recursive: true, force: true });
  });

  describe("--transport sim", () => {
    it("syncs a token booted from its flash image: installs the enrolled secrets it lacks, prints the summary, leaves a copy `log show` reads", async () => {
      const dir = tempDir();
      const storeFile = store(dir);
      const flash = await image(dir, "resident-3", null);
      const out = path.join(dir, "logs");

      const r = await runCli(simArgs(storeFile, out, [flash], "--token", "room 12"));
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /resident-3\.bin: had no secrets; installed those of token 00112233445566778899aabbccddeeff \(Room 12\)/);
      assert.match(r.stdout, /^Room 12 \(token 00112233445566778899aabbccddeeff\): synced, log complete$/m);
      assert.match(
        r.stdout,
        new RegExp(`received   ${LOG_BYTES} new bytes \\(${LOG_BYTES} read\\) in segments 1–5; the token keeps segments 1–5`)
      );
      assert.match(r.stdout, /lost {7}nothing/);
      assert.match(r.stdout, /clock {6}right$/m);
      assert.match(r.stdout, /battery {4}100 %/);
      assert.match(r.stdout, /faults {5}none/);
      assert.match(r.stdout, /Synced 1 token into /);

      // The copy is named by the label, and is what the log readers take.
      const copy = path.join(out, "Room 12");
      assert.match(r.stdout, new RegExp(`copy       ${copy.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
      const shown = await runCli(["log", "show", copy, "--json"]);
      assert.equal(shown.code, 0, shown.stderr);
      assert.equal((JSON.parse(shown.stdout) as { records: number }).records, RECORDS);
      const sightings = await runCli(["log", "to-sightings", copy]);
      assert.equal(sightings.code, 0, sightings.stderr);
      assert.equal(sightings.stdout.trim().split("\n").length, RECORDS);

      // The image is the token's flash: written back, with the secrets now in it.
      const sec = readSecrets(readStorageImage(new Uint8Array(fs.readFileSync(flash))).files.get(SECRETS_FILE));
      assert.equal(sec && hex(sec.tokenId), ROOM12.tokenId);
    });

    it("--json with --set-time: one object per token, the clock that was off set, and a second run reads only what was logged since", async () => {
      const dir = tempDir();
      const storeFile = store(dir);
      const flash = await image(dir, "resident-3", ROOM12);
      const out = path.join(dir, "logs");

      const first = await runCli(simArgs(storeFile, out, [flash], "--all", "--json", "--set-time", "--sim-clock-offset", "-42"));
      assert.equal(first.code, 0, first.stderr);
      const j = JSON.parse(first.stdout) as SyncJson;
      assert.deepEqual(Object.keys(j).sort(), ["failed", "outDir", "skipped", "synced"]);
      assert.equal(j.outDir, out);
      assert.deepEqual(j.failed, []);
      assert.deepEqual(j.skipped, []);
      assert.equal(j.synced.length, 1);
      const t = j.synced[0];
      assert.deepEqual(
        Object.keys(t).sort(),
        ["address", "batteryPercent", "board", "boots", "clock", "dir", "faults", "firmwareBuildTime", "label", "log", "tokenId"].sort()
      );
      assert.equal(t.tokenId, ROOM12.tokenId);
      assert.equal(t.label, "Room 12");
      assert.match(t.address, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      assert.equal(t.dir, path.join(out, "Room 12"));
      assert.equal(t.log.bytesReceived, LOG_BYTES);
      assert.deepEqual(t.log.segments, [1, 2, 3, 4, 5]);
      assert.deepEqual(t.log.tokenSegments, { first: 1, last: 5 });
      assert.equal(t.log.complete, true);
      assert.deepEqual(t.log.next, { seg: 5, off: HEADER_BYTES + 37 * RECORD_BYTES });
      assert.deepEqual(t.log.gaps, []);
      assert.equal(t.log.droppedRecords, 0);
      assert.equal(t.board, "puckjs");
      assert.equal(t.firmwareBuildTime, TEST_BUILD_TIME);
      assert.equal(t.batteryPercent, 100);
      assert.equal(t.faults, 0);
      // The clock was read 42 s slow, then set to the kiosk's: TIME_DONE's before is the slow clock, after is the value sent.
      assert.equal(t.clock.offsetSeconds, -42);
      assert.ok(t.clock.set, "the clock was set");
      assert.equal(t.clock.set.after, t.clock.set.to);
      assert.ok(Math.abs(t.clock.set.to - 42 - t.clock.set.before) <= 1, JSON.stringify(t.clock.set));
      assert.ok(Math.abs(t.clock.set.to - t.clock.hostTime) <= 2);

      // Between the two syncs the token logs 20 more sightings; the next sync reads only those.
      logMore(flash, 20);
      const second = await runCli(simArgs(storeFile, out, [flash], "--token", ROOM12.tokenId.slice(0, 8), "--json"));
      assert.equal(second.code, 0, second.stderr);
      const u = (JSON.parse(second.stdout) as SyncJson).synced[0];
      const copy = path.join(out, "Room 12");
      const onToken = imageSegments(flash);
      let grown = 0;
      for (const [name, bytes] of onToken) {
        // What the first sync copied: segments 1–4 whole, 5 as far as it was written; any newer one not at all.
        const seg = Number(name.slice(LOG_PREFIX.length));
        const before = seg < 5 ? written(bytes) : seg === 5 ? HEADER_BYTES + 37 * RECORD_BYTES : 0;
        grown += written(bytes) - before;
        assert.equal(
          hex(new Uint8Array(fs.readFileSync(path.join(copy, name)))),
          hex(bytes),
          `${name}: the copy is the token's file again`
        );
      }
      assert.ok(grown >= 20 * RECORD_BYTES);
      assert.equal(u.log.bytesReceived, grown, "only the bytes logged since the first sync");
      assert.ok(u.log.segments.includes(5));
      assert.ok(!u.log.segments.includes(1));
      assert.equal(u.dir, copy, "the same directory");
      const log = readTokenLog(loadTokenFiles(copy));
      assert.equal(log.records.length, RECORDS + 20);
      assert.ok(fs.existsSync(path.join(copy, STATE_FILE)));
    });

    it("a token not enrolled in the store: exit 2, naming the tokens the store holds", async () => {
      const dir = tempDir();
      const storeFile = store(dir);
      const flash = await image(dir, "resident-3", ROOM12);
      const r = await runCli(simArgs(storeFile, path.join(dir, "logs"), [flash], "--token", "Room 99"));
      assert.equal(r.code, 2);
      assert.equal(r.stdout, "");
      assert.match(
        r.stderr,
        /token "Room 99" is not enrolled in .*home\.ptstore, which holds Room 12 \(00112233445566778899aabbccddeeff\), Room 14 \(ffeedd/
      );
      assert.match(r.stderr, /privatetracer provision/);
      assert.ok(!fs.existsSync(path.join(dir, "logs")), "nothing written");
    });

    it("a token another home enrolled: authentication fails, exit 1 with --all, and the summary says what to do", async () => {
      const dir = tempDir();
      const storeFile = store(dir);
      const mine = await image(dir, "resident-3", ROOM12);
      const theirs = await image(dir, "visitor", ELSEWHERE);
      const r = await runCli(simArgs(storeFile, path.join(dir, "logs"), [mine, theirs], "--all"));
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /visitor\.bin: holds token 0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f, which is not enrolled in this store/);
      assert.match(r.stdout, /Room 12 \(token 00112233445566778899aabbccddeeff\): synced/);
      assert.match(r.stdout, /the device at [0-9a-f:]{17}: did not sync — Authentication failed: the token is not enrolled here/);
      assert.match(r.stdout, /Synced 1 of 2 tokens into .*; 1 did not sync/);
    });

    it("with --token, another enrolled token in its window is left alone", async () => {
      const dir = tempDir();
      const storeFile = store(dir);
      const twelve = await image(dir, "resident-3", ROOM12);
      const fourteen = await image(dir, "resident-4", ROOM14);
      const r = await runCli(simArgs(storeFile, path.join(dir, "logs"), [twelve, fourteen], "--token", "Room 14", "--json"));
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout) as SyncJson;
      assert.deepEqual(
        j.synced.map((t) => t.label),
        ["Room 14"]
      );
      // Both advertise at the same strength, so they are tried in the order given: Room 12 answers first, and is left before anything is read.
      assert.deepEqual(
        j.skipped.map((s) => [s.tokenId, s.reason]),
        [[ROOM12.tokenId, "another enrolled token (Room 12), left as it was"]]
      );
      assert.ok(!fs.existsSync(path.join(dir, "logs", "Room 12")));
    });

    it("a wrong passphrase: a clear error, the store left as it was, nothing synced", async () => {
      const dir = tempDir();
      const storeFile = store(dir);
      const before = fs.readFileSync(storeFile);
      const flash = await image(dir, "resident-3", ROOM12);
      process.env[PASSPHRASE_ENV] = "not the passphrase at all";
      const r = await runCli(simArgs(storeFile, path.join(dir, "logs"), [flash], "--all"));
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /home\.ptstore does not open with this passphrase .*Check the passphrase \(as typed, or in \$PRIVATETRACER_STORE_PASSPHRASE\).*nothing was synced/
      );
      assert.deepEqual(fs.readFileSync(storeFile), before);
      assert.ok(!fs.existsSync(path.join(dir, "logs")));
    });

    it("usage errors: neither --token nor --all, both, a sim without an image, bluez options with sim: exit 2", async () => {
      const dir = tempDir();
      const storeFile = store(dir);
      const none = await runCli(["sync", "--transport", "sim", "--sim-flash", "x.bin", "--store", storeFile]);
      assert.equal(none.code, 2);
      assert.match(none.stderr, /--token ID .* or --all/);
      const both = await runCli(["sync", "--all", "--token", "Room 12", "--store", storeFile]);
      assert.equal(both.code, 2);
      assert.match(both.stderr, /cannot be used with/);
      const noImage = await runCli(["sync", "--all", "--transport", "sim", "--store", storeFile]);
      assert.equal(noImage.code, 2);
      assert.match(noImage.stderr, /--transport sim needs a token's flash image: give --sim-flash FILE/);
      const adapter = await runCli([
        "sync",
        "--all",
        "--transport",
        "sim",
        "--sim-flash",
        "x.bin",
        "--adapter",
        "hci1",
        "--store",
        storeFile
      ]);
      assert.equal(adapter.code, 2);
      assert.match(adapter.stderr, /--adapter is for --transport bluez only/);
    });
  });

  describe("--transport bluez", () => {
    const fakes: FakeBluez[] = [];
    afterEach(async () => {
      for (const f of fakes.splice(0)) await f.stop();
    });

    it("sync with no D-Bus system bus: says BlueZ is not reachable and how to start it, exit 2", async () => {
      const dir = tempDir();
      const storeFile = store(dir);
      process.env.DBUS_SYSTEM_BUS_ADDRESS = `unix:path=${path.join(dir, "no-bus", "socket")}`;
      const r = await runCli(["sync", "--all", "--store", storeFile, "--out", path.join(dir, "logs")]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /BlueZ is not reachable: there is no D-Bus system bus at .*systemctl start dbus bluetooth/);
      assert.ok(!fs.existsSync(path.join(dir, "logs")));
    });

    it("scan lists the token in its sync window, with its signal strength", async () => {
      const token: FakePeripheral = {
        address: "C1:22:33:44:55:66",
        rssi: -48,
        serviceData: new Uint8Array(20).fill(7),
        connectable: true,
        accept: () => assert.fail("a scan connects to nothing")
      };
      const f = await startFakeBluez({ peripherals: [token] });
      fakes.push(f);
      process.env.DBUS_SYSTEM_BUS_ADDRESS = f.address;
      const j = await runCli(["scan", "--seconds", "1", "--json"]);
      assert.equal(j.code, 0, j.stderr);
      assert.deepEqual(JSON.parse(j.stdout), { seconds: 1, found: [{ address: "c1:22:33:44:55:66", rssi: -48 }] });
      const t = await runCli(["scan", "--transport", "bluez", "--adapter", "hci0", "--seconds", "1"]);
      assert.equal(t.code, 0, t.stderr);
      assert.match(t.stdout, /1 device\(s\) with a sync window open, strongest first:\n {2}c1:22:33:44:55:66 {2}-48 dBm\n/);
      assert.match(t.stdout, /privatetracer sync --all/);
      assert.ok(!f.calls.some((c) => c.startsWith("Connect")));
    });

    it("sync --all over BlueZ: an emulated token behind the fake adapter syncs; a phone in range is tried and left", async () => {
      const dir = tempDir();
      const storeFile = store(dir);
      const w = await puck(ROOM12);
      w.token.boot();
      w.scheduler.runUntil(T0 + 5);
      w.token.pressButton(2500);
      w.scheduler.runUntil(T0 + 8);
      const advert = w.advert();
      assert.ok(advert?.connectable, "sync window open");
      const links: CentralLink[] = [];
      const peripheral: FakePeripheral = {
        address: advert.address.split(" ")[0].toUpperCase(),
        rssi: -55,
        serviceData: advert.packet.subarray(advert.packet.length - 20),
        connectable: true,
        accept: (notify, drop) => {
          const link = w.token.connect({ address: "00:1a:7d:da:71:10 public", intervalMs: 7.5, notified: notify, disconnected: drop });
          assert.ok(link, "the token takes the connection");
          links.push(link);
          return { written: (bytes) => void link.write(bytes), closed: () => link.disconnect() };
        }
      };
      // Stronger, so tried first: it connects but has no sync service.
      const phone: FakePeripheral = {
        address: "D2:22:33:44:55:66",
        rssi: -40,
        serviceData: new Uint8Array(20).fill(9),
        connectable: true,
        nus: false,
        accept: () => ({ written: () => undefined, closed: () => undefined })
      };
      const f = await startFakeBluez({ peripherals: [phone, peripheral] });
      fakes.push(f);
      process.env.DBUS_SYSTEM_BUS_ADDRESS = f.address;
      // The token's world runs alongside real time while the command runs (the client's deadlines are real).
      const started = Date.now();
      const pump = setInterval(() => w.scheduler.runUntil(T0 + 8 + (Date.now() - started) / 1000), 2);
      let r;
      try {
        r = await runCli(["sync", "--all", "--seconds", "1", "--store", storeFile, "--out", path.join(dir, "logs"), "--json"]);
      } finally {
        clearInterval(pump);
      }
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout) as SyncJson;
      assert.equal(j.synced.length, 1);
      assert.equal(j.synced[0].tokenId, ROOM12.tokenId);
      assert.equal(j.synced[0].address, peripheral.address.toLowerCase());
      assert.equal(j.synced[0].log.bytesReceived, LOG_BYTES);
      assert.equal(j.skipped.length, 1);
      assert.equal(j.skipped[0].address, "d2:22:33:44:55:66");
      assert.match(j.skipped[0].reason, /not a PrivateTracer token \(it has no sync service\)/);
      assert.ok(links.length === 1 && !links[0].connected, "the token's link was ended");
      const log = readTokenLog(loadTokenFiles(j.synced[0].dir));
      assert.equal(log.records.length, RECORDS);
      assert.deepEqual(w.token.uncaught, []);
    });
  });

  it("--help of sync and scan says what each does, that a scan cannot tell tokens apart, and what --transport sim is", async () => {
    const sync = await runCli(["sync", "--help"]);
    assert.equal(sync.code, 0);
    for (const o of [
      "--token <id|label>",
      "--all",
      "--transport <name>",
      "--adapter <name>",
      "--out <dir>",
      "--set-time",
      "--json",
      "--store <file>",
      "--sim-flash <file>"
    ])
      assert.ok(sync.stdout.includes(o), `sync --help lists ${o}`);
    assert.match(sync.stdout, /choices: "sim", "bluez"/);
    assert.match(sync.stdout, /docs\/sync\.md/);
    assert.match(sync.stdout, /Exit status/);
    const scan = await runCli(["scan", "--help"]);
    assert.equal(scan.code, 0);
    for (const o of ["--transport <name>", "--adapter <name>", "--seconds <n>", "--json"])
      assert.ok(scan.stdout.includes(o), `scan --help lists ${o}`);
    assert.match(scan.stdout.replace(/\s+/g, " "), /cannot say which token is which/);
  });
});
