import { strict as assert } from "node:assert";
import { listBoards, loadBoard } from "../../../host-tools/src/build/boards";
import { DriftingClock } from "../../../host-tools/src/sim/clock";
import { EventScheduler } from "../../../host-tools/src/sim/scheduler";
import { BOOT_JSVARS, EspruinoToken, createEmulatedToken, jsVarLayout } from "../../../host-tools/src/sim/espruino";
import { runStation } from "../../../host-tools/src/sim/stress/station-stress";
import { WINDOW_PACKETS } from "../../../firmware/src/scanner";
import { instrumentScopes } from "../../../host-tools/src/sim/espruino/scope-instrument";
import { TEST_BUILD_TIME, testBundle } from "../../helpers/firmware";
import { RecordingRadio } from "./helpers";

function boot(
  bundle: string,
  opts: { board?: string; memory?: boolean; start?: number } = {}
): { token: EspruinoToken; scheduler: EventScheduler; radio: RecordingRadio } {
  const start = opts.start ?? 1000;
  const scheduler = new EventScheduler(start);
  const radio = new RecordingRadio();
  const token = createEmulatedToken({
    id: "t1",
    board: loadBoard(opts.board ?? "puckjs"),
    bundle,
    scheduler,
    clock: new DriftingClock({ startTrue: start }),
    radio,
    seed: 7,
    memory: opts.memory === false ? undefined : { sampleEvery: 1 }
  });
  token.boot();
  return { token, scheduler, radio };
}

/** JsVars the program's own data takes (the interpreter's boot share left out). */
const programVars = (t: EspruinoToken): number => t.memoryUsage().jsVars - BOOT_JSVARS;

describe("sim Espruino memory (JsVars)", () => {
  describe("the layout of a JsVar follows the board's variable count", () => {
    it("Puck.js (2630): 13-byte blocks, names of 4 chars, strings 8 + 9 per block, packed integers −2048…2047", () => {
      const l = jsVarLayout(2630);
      assert.deepEqual(
        {
          blockBytes: l.blockBytes,
          nameChars: l.nameChars,
          stringChars: l.stringChars,
          extChars: l.extChars,
          packedMin: l.packedMin,
          packedMax: l.packedMax
        },
        { blockBytes: 13, nameChars: 4, stringChars: 8, extChars: 9, packedMin: -2048, packedMax: 2047 }
      );
    });
    it("every board config's bytesPerVar is the block size its JsVar count gives", () => {
      for (const id of listBoards()) {
        const b = loadBoard(id);
        assert.equal(jsVarLayout(b.jsVars.count).blockBytes, b.jsVars.bytesPerVar, id);
      }
    });
  });

  describe("E.getSizeOf counts as Espruino lays values out", () => {
    const { token } = boot("var keep = 1;");
    const size = (expr: string): unknown => token.evaluate(`E.getSizeOf(${expr})`);
    it("an object with 3 short properties holding small integers: 1 + 3 names (values packed) = 4", () => {
      assert.equal(size("{a:1,b:2,c:3}"), 4);
    });
    it("a 100-element array of small integers: 1 + 100 index names = 101; of large ones 1 + 200 = 201", () => {
      assert.equal(size("(function(){for(var a=[],i=0;i<100;i++)a.push(i);return a})()"), 101);
      assert.equal(size("(function(){for(var a=[],i=0;i<100;i++)a.push(5000+i);return a})()"), 201);
    });
    it("a Uint8Array(1200): view + ArrayBuffer + flat string of 1 + ⌈1200/13⌉ = 96", () => {
      assert.equal(size("new Uint8Array(1200)"), 96);
    });
    it("a long name and a long string take extension blocks: {abcdefgh: 25 chars} = 1 + 2 + 3 = 6", () => {
      assert.equal(size('{abcdefgh:"hello world, long string!"}'), 6);
    });
  });

  describe("closures keep their whole defining scope", () => {
    it("a closure over (a = 1, b = Uint8Array(16)): global name 1, function 5 (itself, x, code, scope link), scope 8 = 14", () => {
      const { token } = boot("var f = (function(){ var a = 1, b = new Uint8Array(16); return function(x){ return a + b[x]; }; })();");
      assert.equal(programVars(token), 14);
    });
    it("a variable the closure never reads is still held (Espruino keeps the scope, V8 would not)", () => {
      const { token } = boot("var f = (function(){ var unused = new Uint8Array(1200); return function(){ return 1; }; })();");
      assert.ok(programVars(token) >= 96, String(programVars(token)));
    });
    it("measuring does not change what the code computes (instrumented program, same results)", () => {
      const src =
        '"use strict";var out=[];(function(){function a(x){var y=2;if(x){function c(){return 3}out.push(c())}return function n(q){return q*y}}out.push(a(1)(5),typeof a);})();out.join(",")';
      const plain = (0, eval)(src) as string;
      const { token } = boot("var nothing;");
      assert.ok(instrumentScopes(src).code.indexOf("__jsv$") >= 0);
      assert.equal(token.evaluate(src), plain);
      assert.equal(plain, "3,10,function");
    });
  });

  describe("process.memory()", () => {
    it("reports total/blocksize of the board, usage + free = total, and usage grows when the program allocates", () => {
      const { token } = boot("var small = {a:1};");
      const before = token.evaluate("process.memory()") as Record<string, number>;
      assert.equal(before.total, 2630);
      assert.equal(before.blocksize, 13);
      assert.equal(before.usage + before.free, before.total);
      token.evaluate("var big = []; for (var i = 0; i < 100; i++) big.push(5000 + i);");
      const after = token.evaluate("process.memory()") as Record<string, number>;
      // name "big" + array + 100 × (index name + integer too big to pack) + "i"
      assert.equal(after.usage - before.usage, 1 + 1 + 200 + 1);
    });
    it("timers hold their callback: a setInterval adds its timer record and the function", () => {
      const { token } = boot("var n = 0;");
      const before = token.processMemory().usage;
      token.evaluate("setInterval(function(){ n++; }, 1000);");
      assert.ok(token.processMemory().usage - before >= 9 + 4, String(token.processMemory().usage - before));
    });
  });

  describe("the real firmware (Puck.js)", function () {
    let bundle = "";
    const start = TEST_BUILD_TIME + 86400;
    before(async function () {
      this.timeout(120_000);
      bundle = (await testBundle("puckjs")).code;
    });

    it("measuring memory does not change what the firmware puts on the air or in flash", function () {
      this.timeout(30_000);
      const run = (memory: boolean): unknown => {
        const r = boot(bundle, { memory, start });
        r.scheduler.runUntil(start + 1800);
        assert.ok(r.radio.adverts.filter((a) => a !== null).length >= 2, "the firmware advertised and rotated");
        return {
          adverts: r.radio.adverts.map((a) => a && Buffer.from(a.packet).toString("hex")),
          flash: Buffer.from(r.token.flash.bytes).toString("base64"),
          uncaught: r.token.uncaught.length
        };
      };
      assert.deepEqual(run(true), run(false));
    });

    it("a station hearing 200 phones with distinct RPIs every scan stays within the board's 2630 JsVars, each window stopped at the firmware's packet limit", function () {
      this.timeout(60_000);
      const r = runStation({ board: loadBoard("puckjs"), bundle, phones: 200, seconds: 1500, startUnix: start });
      assert.deepEqual(r.uncaught, []);
      // 200 phones send ~1,600 packets in a window; the radio stops after the limit.
      assert.ok(
        r.scanWindows >= 2 && r.packetsDelivered >= r.scanWindows * WINDOW_PACKETS && r.packetsDelivered < r.scanWindows * 1600,
        JSON.stringify(r)
      );
      assert.ok(r.peak !== null);
      assert.ok(r.peak.jsVars < 2630, `peak ${r.peak.jsVars}`);
      // It measures something real: the firmware's closures and tables, not only the boot share.
      assert.ok(r.peak.jsVars > BOOT_JSVARS + 500, `peak ${r.peak.jsVars}`);
    });
  });
});
