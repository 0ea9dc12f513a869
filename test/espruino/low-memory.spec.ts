import { strict as assert } from "node:assert";
import { listBoards } from "../../host-tools/src/build/boards";
import { interpreterFor } from "../../host-tools/src/real-espruino/interpreter";
import { LOW_MEMORY_BURSTS, LowMemoryResult, runLowMemoryScenario } from "../../host-tools/src/real-espruino/low-memory-scenario";
import { tokenFilesFromImage } from "../../host-tools/src/tokenlog/token-files";
import { readTokenLog } from "../../host-tools/src/tokenlog/read-log";
import { ROTATION_RESERVE_JSVARS } from "../../firmware/src/advertiser";
import { WINDOW_RESERVE_JSVARS } from "../../firmware/src/scanner";
import { testBundle } from "../helpers/firmware";
import { useBoard } from "../helpers/board";

/**
 * A token short of memory on its board's real interpreter: running out in the
 * middle of a call makes Espruino drop the interval that was running, or stop
 * altogether (an assertion in jsvar.c, seen when a rotation's derivation ran
 * out). The firmware must degrade instead: skip scan windows (counted), go
 * silent rather than derive identifiers, keep its main tick, and resume when
 * memory comes back. (Missing interpreters: token-on-interpreter.spec.ts warns.)
 */

const LOW_SECONDS = 1500;
const FREE_LEFT = Math.min(WINDOW_RESERVE_JSVARS, ROTATION_RESERVE_JSVARS) - 30;

for (const board of listBoards().filter((b) => interpreterFor(b))) {
  describe(`${board} firmware short of memory on the real interpreter`, function () {
    // Hours of token time at the host's time scale (30 to 100 token seconds a second).
    this.timeout(300000);
    let r: LowMemoryResult;
    before(async function () {
      const bundle = await testBundle(board);
      r = await runLowMemoryScenario(interpreterFor(board)!, bundle.bootCode, { freeLeft: FREE_LEFT, lowSeconds: LOW_SECONDS });
    });

    it("keeps its main tick: the watchdog is kicked every minute while memory is short, and nothing is stopped", () => {
      assert.ok(r.freeWhileLow <= FREE_LEFT, `ballast left ${r.freeWhileLow} free`);
      // One kick a minute of token time, give or take the boundaries.
      assert.ok(r.kicks.released - r.kicks.before >= LOW_SECONDS / 60 - 2, JSON.stringify(r.kicks));
      assert.ok(r.kicks.end > r.kicks.released);
      assert.deepEqual(r.errors, []);
    });

    // The count of skipped windows lives in RAM until the next log segment
    // (token.spec.ts checks it is counted): here, that none opened.
    it("opens no scan window and derives no identifier while short", () => {
      const low = r.events.slice(r.lowFrom, r.lowUntil);
      assert.deepEqual(
        low.filter((e) => e.type === "scan" || e.type === "adv" || e.type === "addr").map((e) => e.type),
        [],
        "no scan, no advert, no address change"
      );
      // 1500 s spans at least two scan periods (600 s minus up to 180 s of jitter) and a rotation.
      assert.ok(low.filter((e) => e.type === "sleep").length >= 1, "off the air rather than an old RPI");
    });

    it("resumes by itself once memory is back: scans the next crowd and advertises again", () => {
      const after = r.events.slice(r.lowUntil);
      assert.ok(
        after.some((e) => e.type === "adv"),
        "advertising again"
      );
      useBoard(board);
      const log = readTokenLog(tokenFilesFromImage(r.flash, "flash"));
      const seeds = new Set(log.records.map((x) => x.rpiPrefix[2]));
      for (const b of LOW_MEMORY_BURSTS) assert.ok(seeds.has(b[0]), `records of crowd ${b[0]}`);
    });
  });
}
