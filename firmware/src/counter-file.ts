import { PlatformStorage } from "./platform-api";
import { FAULT_SLOTS, savedFaults } from "./wire/fault-count";
import { putLE } from "./wire/le-bytes";

/**
 * A cumulative count kept in flash in the fault-count layout
 * (wire/fault-count.ts): the faults, the dropped sightings and the boots all
 * use it, so the token carries one writer and one reader. `n` is the count in
 * RAM; `save()` appends it in the next free slot (4 bytes, written once each,
 * so no flash word is written twice) and starts the file anew when all are
 * used. `save` throws when flash is full; the count stays in RAM.
 */
export interface Counter {
  n: number;
  save(): void;
}

export function openCounter(st: PlatformStorage, name: string): Counter {
  var b = st.read(name);
  var s = savedFaults(b);
  // No file yet: the first save creates it at full size.
  var slot = b ? s[1] : FAULT_SLOTS;
  var c = {
    n: s[0],
    save: function () {
      var w = new Uint8Array(4);
      putLE(w, 0, c.n & 0x7fffffff, 4);
      if (slot >= FAULT_SLOTS) {
        st.write(name, w, 0, FAULT_SLOTS * 4);
        slot = 1;
      } else st.write(name, w, 4 * slot++);
    }
  };
  return c;
}
