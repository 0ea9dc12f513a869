import { strict as assert } from "node:assert";
import { EspruinoStorage, Flash, PowerCutError } from "../../../host-tools/src/sim/espruino";

/**
 * The Storage model keeps what it learnt from walking the journal between
 * calls. Whatever happens to the flash, every answer must be the one a
 * fresh walk gives (a new EspruinoStorage over the same flash knows nothing).
 */
function sameAsFreshWalk(s: EspruinoStorage, names: string[], step: string): void {
  const f = new EspruinoStorage(s.flash);
  assert.deepEqual(s.list(), f.list(), `list after ${step}`);
  assert.deepEqual(s.getStats(), f.getStats(), `stats after ${step}`);
  assert.equal(s.getFree(), f.getFree(), `free after ${step}`);
  assert.equal(s.isValid(), f.isValid(), `valid after ${step}`);
  for (const n of names) assert.deepEqual(s.read(n), f.read(n), `read ${JSON.stringify(n)} after ${step}`);
}

describe("sim Espruino Storage journal index", () => {
  it("answers as a fresh walk after any mix of writes, in-place writes, erases, compactions, power cuts and raw flash writes", () => {
    let x = 7;
    const rnd = (n: number): number => {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      return x % n;
    };
    // Names that collide after 28 characters, end in NUL, or start with bytes an erase zeroes.
    const names = ["a", "b", "pt.log1", "pt.log2", "pt.log10", "x".repeat(30), "x".repeat(28) + "yy", "c\u0000", "\u0100d", "abcd-1"];
    const s = new EspruinoStorage(new Flash(4 * 4096, 4096));
    for (let i = 0; i < 3000; i++) {
      const name = names[rnd(names.length)];
      const op = rnd(20);
      let step = `step ${i}`;
      try {
        if (op < 7) {
          step += ` write ${name}`;
          s.write(name, new Uint8Array(1 + rnd(300)).fill(rnd(256)), 0, rnd(2) ? 0 : 400);
        } else if (op < 11) {
          step += ` write ${name} in place`;
          s.write(name, new Uint8Array(1 + rnd(8)).fill(rnd(255)), rnd(400));
        } else if (op < 14) {
          step += ` erase ${name}`;
          s.erase(name);
        } else if (op === 14) {
          step += " compact";
          s.compact();
        } else if (op === 15) {
          step += ` cut while writing ${name}`;
          s.flash.cutAfterBytes(1 + rnd(60));
          s.write(name, new Uint8Array(50).fill(0x11));
        } else if (op === 16) {
          step += " raw flash write";
          const at = rnd(s.flash.size - 4);
          s.flash.program(at, new Uint8Array([rnd(256), rnd(256), rnd(256), rnd(256)]));
        } else if (op === 17) {
          step += " raw page erase";
          s.flash.erasePage(rnd(s.flash.pages));
        } else {
          step += ` read ${name}`;
          s.read(name);
        }
      } catch (e) {
        // Full flash, written bytes, and cut writes are part of the mix; only the model's own errors are expected.
        if (!(e instanceof PowerCutError) && !/Unable to find|already written|Too much data/.test(String(e))) throw e;
      }
      s.flash.cancelCut();
      sameAsFreshWalk(s, names, step);
      if (!s.isValid()) s.eraseAll();
    }
  });
});
