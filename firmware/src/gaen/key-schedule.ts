import { Platform } from "../platform-api";
import { Identifiers, TekIdentifiers, tekIdentifiers } from "./ids";
import { writeTek } from "./tek-store";
import { StoredTek, readTek, readTeks } from "../wire/tek-file";
import { INTERVAL_SECONDS, TEK_ROLLING_PERIOD } from "../wire/gaen";

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

export function createKeySchedule(p: Platform): KeySchedule {
  var st = p.storage;
  var start = -1;
  var tek: Uint8Array | undefined;
  var ids: TekIdentifiers | undefined;
  var unsaved = false;
  // Metadata of our adverts: version 1.0, the board's radiated power in dBm as int8.
  var metadata = new Uint8Array([0x40, BOARD.radio.radiatedTxPowerDbm & 255, 0, 0]);

  return {
    identifiersAt: function (unixSeconds: number) {
      if (unixSeconds < BOARD.buildTime) return undefined;
      // ENIntervalNumber (10-minute intervals) and the rolling start of its
      // UTC day (a multiple of TEK_ROLLING_PERIOD).
      var enin = Math.floor(unixSeconds / INTERVAL_SECONDS);
      var rs = enin - (enin % TEK_ROLLING_PERIOD);
      var fresh = rs !== start;
      if (fresh) {
        start = rs;
        tek = readTek(st, rs);
        unsaved = !tek;
        if (!tek) {
          tek = new Uint8Array(16);
          // Each call gives 32 random bits; the array keeps the low 8.
          for (var i = 0; i < 16; i++) tek[i] = p.random32();
        }
        ids = tekIdentifiers(p, tek);
      }
      // Saved before its first identifier leaves. If flash was full, retry
      // once space has been freed (getFree() counts no garbage, so a retry
      // never forces a compaction, which would wear the flash).
      if (unsaved && (fresh || st.getFree() >= 64)) {
        try {
          writeTek(st, rs, tek!);
          unsaved = false;
        } catch (e) {
          // Flash full: keep advertising with a RAM-only key (teks() still
          // reports it) rather than go silent.
        }
      }
      return ids!(enin, metadata);
    },
    teks: function () {
      var all = readTeks(st);
      if (unsaved) all.unshift({ rollingStart: start, tek: tek! });
      return all;
    },
    unsaved: function () {
      return unsaved;
    }
  };
}
