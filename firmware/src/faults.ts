import { Platform } from "./platform-api";
import { FAULT_COUNT_FILE } from "./wire/fault-count";
import { openCounter } from "./counter-file";

/**
 * Runtime fault handling: every callback the firmware hands to the platform is
 * wrapped so that one bad packet or a full flash cannot stop the token, and
 * each caught exception is counted. The count is kept in flash (format in
 * wire/fault-count.ts) at most once an hour, so a fault that repeats every
 * second cannot wear out the flash.
 */
var WRITE_EVERY_SECONDS = 3600;

/** `fn` wrapped: exceptions are counted, never propagated. */
export interface Guard {
  (fn: () => void): () => void;
  <T>(fn: (arg: T) => void): (arg: T) => void;
  <T, U>(fn: (a: T, b: U) => void): (a: T, b: U) => void;
}

export interface Faults {
  guard: Guard;
  /** Faults since the token was first started. */
  count(): number;
  /** Persist the count if it changed and the last write is an hour old (called from the main tick). */
  flush(): void;
}

export function createFaults(p: Platform): Faults {
  var lastWrite = -WRITE_EVERY_SECONDS;
  var up = 0;
  var c = openCounter(p.storage, FAULT_COUNT_FILE);
  var saved = c.n;

  function flush(): void {
    // Uptime in ticks, not the wall clock, which jumps when the kiosk sets it.
    if (c.n === saved || up - lastWrite < WRITE_EVERY_SECONDS) return;
    lastWrite = up;
    saved = c.n;
    c.save();
  }

  return {
    guard: function (fn: (a?: unknown, b?: unknown) => void) {
      return function (a?: unknown, b?: unknown) {
        try {
          fn(a, b);
        } catch (e) {
          c.n++;
          try {
            flush();
          } catch (e2) {
            // flash full: the count stays in RAM until a later flush works
          }
        }
      };
    },
    count: function () {
      return c.n;
    },
    flush: function () {
      up += 60;
      flush();
    }
  };
}
