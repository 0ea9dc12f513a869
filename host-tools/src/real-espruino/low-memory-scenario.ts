import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Burst, RealToken, TokenEvent } from "./token-session";
import { BOOT_LEAD, SCENARIO_START, scanDone, scenarioTimeScale, tokenWaitMs } from "./token-scenario";

/**
 * A token that runs short of memory (a leak, a sync buffer, a crowd at the
 * wrong moment) on its board's real interpreter: after a first scan, ballast
 * typed on the console leaves it `freeLeft` JsVars (once it advertises); it runs like that for
 * `lowSeconds` of token time; then the ballast goes and it runs one more scan
 * period with a crowd. What a spec checks: the main tick never stops (the
 * watchdog is kicked throughout), no scan window starts while memory is short
 * and each skipped one is counted, and everything resumes by itself.
 */

export interface LowMemoryOptions {
  /** JsVars left free by the ballast. */
  freeLeft: number;
  /** Token seconds to run short of memory. */
  lowSeconds: number;
}

export interface LowMemoryResult {
  events: TokenEvent[];
  errors: string[];
  /** Free JsVars right after the ballast went in. */
  freeWhileLow: number;
  /** Watchdog kicks before the ballast, when it went, and at the end. */
  kicks: { before: number; released: number; end: number };
  /** Event index where the ballast went in / was released. */
  lowFrom: number;
  lowUntil: number;
  flash: Uint8Array;
}

/** The crowd heard after the ballast is released (burst 2); burst 1 is the first window. */
export const LOW_MEMORY_BURSTS: Burst[] = [
  [11, 30, 2, 1],
  [12, 30, 2, 1]
];

export async function runLowMemoryScenario(interpreter: string, bundle: string, o: LowMemoryOptions): Promise<LowMemoryResult> {
  const timeScale = await scenarioTimeScale(interpreter);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pt-lowmem-"));
  const t = await RealToken.boot({
    interpreter,
    dir,
    bundle,
    time: SCENARIO_START - BOOT_LEAD,
    timeScale,
    bursts: LOW_MEMORY_BURSTS
  });
  try {
    // Scanning and advertising before memory runs short.
    await scanDone(t, LOW_MEMORY_BURSTS[0][0]);
    await t.waitFor((e) => e.type === "adv", tokenWaitMs(t));
    const before = await t.eval<number>("__h.kicks");
    const lowFrom = t.events.length;
    // Small numbers in an array: 1-2 JsVars each, so the ballast lands close to `freeLeft`.
    // Fifty at a time while far from it: a Bangle.js 2 has ~11,000 to fill, one
    // memory query per number took over 10 s on an emulated host.
    const freeWhileLow = await t.eval<number>(
      `(function(){ var b = __h.ballast = [], i; ` +
        `while (process.memory(false).free > ${o.freeLeft + 150}) for (i = 0; i < 50; i++) b.push(b.length); ` +
        `while (process.memory(false).free > ${o.freeLeft}) b.push(b.length); return process.memory(false).free; })()`,
      30000
    );
    await new Promise((r) => setTimeout(r, (o.lowSeconds * 1000) / timeScale));
    const released = await t.eval<number>("(function(){ __h.ballast = null; return __h.kicks; })()");
    const lowUntil = t.events.length;
    // The next window hears burst 2.
    await scanDone(t, LOW_MEMORY_BURSTS[1][0]);
    const end = await t.eval<number>("__h.kicks");
    const errors = t.errors();
    await t.quit();
    return { events: t.events, errors, freeWhileLow, kicks: { before, released, end }, lowFrom, lowUntil, flash: t.flash() };
  } catch (e) {
    await t.kill();
    throw e;
  }
}
