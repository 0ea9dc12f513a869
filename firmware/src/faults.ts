import { Platform } from "./platform-api";

/**
 * Runtime fault handling: every callback the firmware hands to the platform is
 * wrapped so that one bad packet or a full flash cannot stop the token, and
 * each caught exception is counted. The count is kept in flash (`pt.err`:
 * 16 slots of a cumulative uint32 LE, appended in place) at most once an hour,
 * so a fault that repeats every second cannot wear out the flash.
 */
export var FAULT_COUNT_FILE = "pt.err";
var SLOTS = 16;
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

/**
 * The persisted count and the first free slot of `pt.err`, as [count, slot]
 * (the kiosk reads the count the same way). A slot is free only if all four
 * bytes are 0xFF: a power cut after the first bytes leaves a torn slot (top
 * byte still 0xFF, never a value's, as bit 31 is kept clear) that must be
 * skipped, not written over.
 */
export function savedFaults(b: Uint8Array | undefined): number[] {
  var count = 0;
  var slot = 0;
  if (b)
    for (; slot < SLOTS && slot * 4 + 3 < b.length && (b[slot * 4] & b[slot * 4 + 1] & b[slot * 4 + 2] & b[slot * 4 + 3]) !== 255; slot++)
      if (b[slot * 4 + 3] !== 255) count = b[slot * 4] + b[slot * 4 + 1] * 256 + b[slot * 4 + 2] * 65536 + b[slot * 4 + 3] * 16777216;
  return [count, slot];
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
    if (!b || slot >= SLOTS) {
      st.write(FAULT_COUNT_FILE, w, 0, SLOTS * 4);
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
