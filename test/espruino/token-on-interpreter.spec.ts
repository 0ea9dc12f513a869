import { strict as assert } from "node:assert";
import { listBoards, loadBoard } from "../../host-tools/src/build/boards";
import { interpreterFor, espruinoDir } from "../../host-tools/src/real-espruino/interpreter";
import {
  runTokenScenario,
  ScenarioResult,
  FIRST_BOOT_BURSTS,
  REBOOT_BURSTS,
  SessionResult
} from "../../host-tools/src/real-espruino/token-scenario";
import { expectedScan } from "../../host-tools/src/real-espruino/synthetic-crowd";
import { tokenFilesFromImage } from "../../host-tools/src/tokenlog/token-files";
import { readTokenLog } from "../../host-tools/src/tokenlog/read-log";
import { readOwnKeys } from "../../host-tools/src/tokenlog/own-keys";
import { deriveKeys, deriveRpis, encryptMetadata, enIntervalNumber } from "../../host-tools/src/match/derive";
import { buildAdvert } from "../../firmware/src/wire/advert";
import { TABLE_SLOTS, WINDOW_PACKETS } from "../../firmware/src/scanner";
import { TokenEvent } from "../../host-tools/src/real-espruino/token-session";
import { testBundle } from "../helpers/firmware";
import { useBoard } from "../helpers/board";

/**
 * The shipped firmware of every board on its board's REAL Espruino
 * interpreter (the emulation is checked against it elsewhere): booted from
 * Storage as a token boots, with stand-ins for the radio, LEDs and button.
 * One scenario per board (token-scenario.ts) runs once; the specs read what it
 * recorded and what it left in flash.
 */

const boards = listBoards();
const missing = boards.filter((b) => !interpreterFor(b));
if (missing.length) {
  // Loud, once: CI always has the interpreters; a developer without them must know these specs did not run.
  console.warn(
    `\n  !!! real-interpreter specs SKIPPED for ${missing.join(", ")}: no espruino-<board> in ${espruinoDir()} (set ESPRUINO_DIR)\n`
  );
}

interface Adv {
  d: string;
  o: Record<string, unknown>;
  t: number;
}

// The boards' scenarios run two at a time (one per core), started by the first board's specs.
const runs = new Map<string, Promise<ScenarioResult>>();
function scenario(board: string): Promise<ScenarioResult> {
  if (!runs.size) {
    const queue = boards.filter((b) => !missing.includes(b));
    const next = (b: string) => testBundle(b).then((bundle) => runTokenScenario(b, interpreterFor(b)!, bundle.bootCode));
    const chain: Promise<unknown>[] = [Promise.resolve(), Promise.resolve()];
    queue.forEach((b, i) => {
      const p = chain[i % 2].then(() => next(b));
      chain[i % 2] = p.catch(() => undefined);
      runs.set(b, p);
    });
  }
  return runs.get(board)!;
}

const advs = (s: SessionResult): Adv[] => s.events.filter((e) => e.type === "adv").map((e) => e.value as Adv);
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

for (const board of boards) {
  const cfg = loadBoard(board);
  (missing.includes(board) ? describe.skip : describe)(`${board} firmware on the real interpreter`, function () {
    this.timeout(400000);
    let r: ScenarioResult;

    before(async function () {
      r = await scenario(board);
    });

    it("boots from Storage without an error, passes its self-test and takes the console off Bluetooth", () => {
      for (const s of [r.first, r.reboot]) {
        assert.deepEqual(s.errors, [], "errors printed by the interpreter");
        assert.deepEqual(s.events.find((e) => e.type === "console")?.value, { device: null, o: { force: true } });
      }
      const files = tokenFilesFromImage(r.reboot.flash, "flash").files;
      assert.equal(files.has("pt.fault"), false, "self-test failure record");
      assert.equal(files.has("pt.err"), false, "runtime fault count");
      assert.ok(r.first.watchdogKicks > 0, "main tick kicked the watchdog");
    });

    it("advertises within one interval, each packet the GAEN derivation of the TEK it stored, under a new address each time", () => {
      const a = advs(r.first);
      assert.ok(a.length > 0, "adverts");
      // Silent after boot until the next interval begins (an RPI of the boot's
      // interval may have gone out before a reset), then on the air at once.
      const started = (r.first.events.find((e) => e.type === "scan")!.value as { t: number }).t;
      assert.equal(enIntervalNumber(a[0].t), enIntervalNumber(started) + 1, `first advert ${a[0].t - started} s after the token started`);
      const keys = readOwnKeys(tokenFilesFromImage(r.reboot.flash, "flash"));
      assert.equal(keys.length, 1, "one TEK for the one UTC day, kept across the reboot");
      const k = deriveKeys(keys[0].keyData);
      const metadata = new Uint8Array([0x40, cfg.radio.radiatedTxPowerDbm & 255, 0, 0]);
      const seen = new Map<string, string>();
      for (const s of [r.first, r.reboot]) {
        let addr = "";
        for (const e of s.events) {
          if (e.type === "addr") addr = e.value as string;
          if (e.type !== "adv") continue;
          const v = e.value as Adv;
          // The interval of the rotation, which may have begun just before a boundary the packet went out after.
          const packet = (enin: number): string => {
            const rpi = deriveRpis(k.rpik, enin);
            return hex(buildAdvert(rpi, encryptMetadata(k.aemk, rpi, metadata)));
          };
          assert.ok(
            [packet(enIntervalNumber(v.t)), packet(enIntervalNumber(v.t) - 1)].includes(v.d),
            `advert at ${v.t} is not the GAEN packet of its interval`
          );
          // An RPI never goes out under a second address, not even across the reboot.
          if (seen.has(v.d)) assert.equal(seen.get(v.d), addr);
          seen.set(v.d, addr);
          assert.match(addr, /^[c-f][0-9a-f]:([0-9a-f]{2}:){4}[0-9a-f]{2} random$/);
        }
      }
      assert.equal(new Set(seen.values()).size, seen.size, "one address per RPI");
    });

    it("puts nothing identifying in the advert options: no name shown, no manufacturer data, connectable only in a sync window", () => {
      for (const v of [...advs(r.first), ...advs(r.reboot)]) {
        assert.deepEqual(Object.keys(v.o).sort(), ["connectable", "interval", "name", "scannable", "showName"]);
        assert.equal(v.o.showName, false);
        assert.equal(v.o.name, "Token", "the same name on every token");
        assert.equal(v.o.interval, cfg.schedule.advertIntervalMs);
      }
    });

    it("logs one record per GAEN device heard at or above the floor (30 and 200 per scan), ignores other packets and keeps them across a reboot", () => {
      // The floor applies to the calibrated RSSI; the crowd's RSSI is raw.
      const floor = useBoard(board).schedule.logMinRssiDbm - cfg.radio.rssiCalibrationDb;
      const log = readTokenLog(tokenFilesFromImage(r.reboot.flash, "flash"));
      const bursts = [...FIRST_BOOT_BURSTS, ...REBOOT_BURSTS];
      const want = bursts.flatMap((b) => expectedScan(b[0], b[1], b[2], floor, TABLE_SLOTS, WINDOW_PACKETS).records);
      const got = log.records.map((x) => [hex(x.rpiPrefix), x.aem1, x.meanRssi, x.maxRssi, x.count]);
      assert.deepEqual(
        got,
        want.map((x) => [hex(x.rpiPrefix), x.aem1, x.meanRssi, x.maxRssi, x.count])
      );
      // Each record is placed at the start of the scan window it was heard in
      // (minute resolution). The window's start, not the crowd's arrival: on a
      // loaded machine the crowd may come well into the window.
      const events = [...r.first.events, ...r.reboot.events];
      const windowStarts = events
        .filter((e) => e.type === "scan" && (e.value as { on?: number }).on === 1)
        .map((e) => (e.value as { t: number }).t);
      const starts = events
        .filter((e) => e.type === "burst")
        .map((e) => {
          const at = (e.value as { at: number }).at;
          return Math.max(...windowStarts.filter((t) => t <= at + 0.001));
        });
      let i = 0;
      bursts.forEach((b, n) => {
        for (let j = expectedScan(b[0], b[1], b[2], floor, TABLE_SLOTS, WINDOW_PACKETS).records.length; j > 0; j--) {
          const lag = starts[n] - log.records[i].time;
          assert.ok(lag >= 0 && lag < 61, `record ${i} placed ${lag} s before its scan window opened`);
          i++;
        }
      });
      // Unrelated packets reached the firmware's callback and left no record.
      for (const e of [...r.first.events, ...r.reboot.events].filter((x: TokenEvent) => x.type === "burst"))
        assert.ok((e.value as { unrelated: number }).unrelated > 0);
    });

    it("recovers a record torn by a power cut: skipped and counted, the log goes on after it into a new segment", () => {
      useBoard(board);
      const log = readTokenLog(tokenFilesFromImage(r.reboot.flash, "flash"));
      assert.equal(log.skipped.torn, 1);
      assert.ok(log.segments.some((s) => s.name === r.torn.segment));
      assert.equal(log.segments.length, 2, "the reboot's scan filled the first segment and started the next");
    });

    it("shows the wearer's status on a short press and opens and closes the sync window on long presses, identifiers held", () => {
      const ev = r.first.events;
      const lit = ev.filter(
        (e) => (e.type === "led" && (e.value as [string, number])[1] === 1) || (e.type === "screen" && (e.value as number[])[0] === 1)
      );
      // High risk: six red flashes (a one-LED board flashes its LED, the screen turns red).
      const pressAt = ev.findIndex((e) => e.type === "ret" && (e.value as { v: unknown }).v === true);
      assert.ok(lit.filter((e) => e.index > pressAt).length >= 6, "six flashes");
      const a = advs(r.first);
      const open = a.findIndex((v) => v.o.connectable === true);
      assert.ok(open > 0, "a connectable advert");
      assert.equal(a[open].d, a[open - 1].d, "same identifiers while the window is open");
      assert.equal(a[open].o.scannable, true);
      assert.equal(a[open + 1].o.connectable, false);
      assert.equal(a[open + 1].d, a[open].d);
      const openIdx = ev.findIndex((e) => e.type === "adv" && (e.value as Adv).o.connectable === true);
      const closeIdx = ev.findIndex((e, j) => j > openIdx && e.type === "adv");
      assert.equal(
        ev.slice(openIdx, closeIdx).some((e) => e.type === "addr"),
        false,
        "no address change in the window"
      );
      assert.equal(
        ev.slice(openIdx, closeIdx + 1).some((e) => e.type === "disconnect"),
        true,
        "a central is dropped as the window closes"
      );
    });

    it("stays within its board's memory with room to spare at boot, in a 200-device scan, at a segment roll and in a rotation", () => {
      for (const s of [r.first, r.reboot]) {
        assert.equal(s.total, cfg.jsVars.count);
        const peak = Math.max(...Object.values(s.peaks), s.booted, s.idle) - s.base;
        // Real figures for the budget (≤ 50 % on Puck.js) come from `make bench-memory`; this spec guards against running out.
        assert.ok(peak / s.total < 0.75, `peak ${peak} of ${s.total} JsVars`);
      }
    });
  });
}
