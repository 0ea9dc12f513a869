import { Platform } from "../platform-api";
import { Identifiers, TekKeys, advertMetadata, deriveTekKeys, enIntervalNumber, identifiersFor, rollingStart } from "./ids";
import { StoredTek, readTek, readTeks, writeTek } from "./tek-store";

/**
 * The token's key schedule: one TEK per UTC day from the hardware RNG, kept in
 * flash before its first use, and its RPIK/AEMK derived once and cached.
 */
export interface KeySchedule {
  /**
   * RPI and AEM for the interval containing `unixSeconds`, making (and
   * persisting) the day's TEK on first use. Undefined while the clock is
   * earlier than the firmware's build: a lost clock must not mint keys.
   */
  identifiersAt(unixSeconds: number): Identifiers | undefined;
  /** Own TEKs newest first, for an authorised diagnosis upload. */
  teks(): StoredTek[];
  /** True if the current TEK could not be written to flash (it lives in RAM only). */
  unsaved(): boolean;
}

function newTek(p: Platform): Uint8Array {
  var t = new Uint8Array(16);
  for (var i = 0; i < 16; i += 4) {
    var r = p.random32();
    for (var j = 0; j < 4; j++) t[i + j] = r >>> (8 * j);
  }
  return t;
}

export function createKeySchedule(p: Platform): KeySchedule {
  var start = -1;
  var tek: Uint8Array | undefined;
  var keys: TekKeys | undefined;
  var unsaved = false;

  function use(rs: number): TekKeys {
    if (keys && rs === start) return keys;
    var t = readTek(p.storage, rs);
    unsaved = false;
    if (!t) {
      t = newTek(p);
      try {
        writeTek(p.storage, rs, t);
      } catch (e) {
        // Flash full even after compaction: keep advertising with a RAM-only
        // key (teks() still reports it) rather than go silent.
        unsaved = true;
      }
    }
    start = rs;
    tek = t;
    keys = deriveTekKeys(p, t);
    return keys;
  }

  return {
    identifiersAt: function (unixSeconds: number) {
      if (unixSeconds < BOARD.buildTime) return undefined;
      var enin = enIntervalNumber(unixSeconds);
      return identifiersFor(p, use(rollingStart(enin)), enin, advertMetadata());
    },
    teks: function () {
      var all = readTeks(p.storage);
      if (unsaved && tek) all.unshift({ rollingStart: start, tek: tek });
      return all;
    },
    unsaved: function () {
      return unsaved;
    }
  };
}
