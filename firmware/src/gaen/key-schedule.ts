import { Platform } from "../platform-api";
import { Identifiers, TekIdentifiers, tekIdentifiers } from "./ids";
import { writeTek } from "./tek-store";
import { StoredTek, readTeks } from "../wire/tek-file";
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
  /**
   * The wearer's keys were released (a diagnosis): from the next interval
   * on, broadcast under a fresh TEK, whose rolling start is that interval.
   * A reboot later that day finds it again (the newest key of the day).
   */
  roll(): void;
}

export function createKeySchedule(p: Platform): KeySchedule {
  var st = p.storage;
  // The UTC day in use (rolling start of its first interval), and the rolling start of the key in use: the day's, or later if it was rolled.
  var day = -1;
  var start = -1;
  var tek: Uint8Array | undefined;
  var ids: TekIdentifiers | undefined;
  // After a roll: the released key's identifiers, still used until the new key's start (what is on the air this interval).
  var prev: TekIdentifiers | null = null;
  var unsaved = false;
  // Metadata of our adverts: version 1.0, the board's radiated power in dBm as int8.
  var metadata = new Uint8Array([0x40, BOARD.radio.radiatedTxPowerDbm & 255, 0, 0]);

  function fresh(rs: number): void {
    start = rs;
    unsaved = true;
    tek = new Uint8Array(16);
    // Each call gives 32 random bits; the array keeps the low 8.
    for (var i = 0; i < 16; i++) tek[i] = p.random32();
    ids = tekIdentifiers(p, tek);
  }

  return {
    identifiersAt: function (unixSeconds: number) {
      if (unixSeconds < BOARD.buildTime) return undefined;
      // ENIntervalNumber (10-minute intervals) and the rolling start of its
      // UTC day (a multiple of TEK_ROLLING_PERIOD).
      var enin = Math.floor(unixSeconds / INTERVAL_SECONDS);
      var rs = enin - (enin % TEK_ROLLING_PERIOD);
      var isNew = rs !== day;
      if (isNew) {
        day = rs;
        prev = null;
        // The day's newest key: one rolled after a release outranks the day's first.
        var all = readTeks(st);
        for (var i = 0; i < all.length && all[i].rollingStart >= rs + TEK_ROLLING_PERIOD; i++);
        var k = all[i];
        if (k && k.rollingStart >= rs) {
          start = k.rollingStart;
          tek = k.tek;
          unsaved = false;
          ids = tekIdentifiers(p, tek);
        } else fresh(rs);
      }
      // Saved before its first identifier leaves. If flash was full, retry
      // once space has been freed (getFree() counts no garbage, so a retry
      // never forces a compaction, which would wear the flash).
      if (unsaved && (isNew || st.getFree() >= 64)) {
        try {
          writeTek(st, start, tek!);
          unsaved = false;
        } catch (e) {
          // Flash full: keep advertising with a RAM-only key (teks() still
          // reports it) rather than go silent.
        }
      }
      if (prev && enin < start) return prev(enin, metadata);
      prev = null;
      return ids!(enin, metadata);
    },
    teks: function () {
      var all = readTeks(st);
      if (unsaved) all.unshift({ rollingStart: start, tek: tek! });
      return all;
    },
    unsaved: function () {
      return unsaved;
    },
    roll: function () {
      var t = p.now();
      if (t < BOARD.buildTime) return;
      // From the next interval: the identifiers of this one may already be on
      // the air (the advertiser changes them at the interval's end), and two
      // keys never share a start. The released key covers up to here.
      var next = Math.floor(t / INTERVAL_SECONDS) + 1;
      prev = prev || ids || null;
      fresh(next > start ? next : start + 1);
      try {
        writeTek(st, start, tek!);
        unsaved = false;
      } catch (e) {
        // Flash full: identifiersAt retries.
      }
    }
  };
}
