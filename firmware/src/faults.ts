import { Platform } from "./platform-api";
import { FAULT_COUNT_FILE, FAULT_SLOTS, savedFaults } from "./wire/fault-count";

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
}

export interface Faults {
  guard: Guard;
  /** Faults since the token was first started. */
  count(): number;
  /** Persist the count if it changed and the last write is an hour old (called from the main tick). */
  flush(): void;
}

export function createFaults(p: Platform): Faults {
  var st = p.storage;
  var lastWrite = -WRITE_EVERY_SECONDS;
  var up = 0;
  var b = st.read(FAULT_COUNT_FILE);
  var s = savedFaults(b);
  var count = s[0];
  var saved = count;
  var slot = s[1];

  function flush(): void {
    // Uptime in ticks, not the wall clock, which jumps when the kiosk sets it.
    if (count === saved || up - lastWrite < WRITE_EVERY_SECONDS) return;
    var w = new Uint8Array(4);
    for (var i = 0; i < 4; i++) w[i] = (count >>> (8 * i)) & (i === 3 ? 127 : 255);
    lastWrite = up;
    saved = count;
    if (!b || slot >= FAULT_SLOTS) {
      st.write(FAULT_COUNT_FILE, w, 0, FAULT_SLOTS * 4);
      slot = 1;
      b = w;
    } else st.write(FAULT_COUNT_FILE, w, 4 * slot++);
  }

  return {
    guard: function (fn: (arg?: unknown) => void) {
      return function (arg?: unknown) {
        try {
          fn(arg);
        } catch (e) {
          count++;
          try {
            flush();
          } catch (e2) {
            // flash full: the count stays in RAM until a later flush works
          }
        }
      };
    },
    count: function () {
      return count;
    },
    flush: function () {
      up += 60;
      flush();
    }
  };
}
