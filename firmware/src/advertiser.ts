import { Guard } from "./faults";
import { Platform } from "./platform-api";
import { buildAdvert } from "./wire/advert";
import { INTERVAL_SECONDS, TEK_ROLLING_PERIOD } from "./wire/gaen";

/** RPI and AEM for the interval containing a time; undefined when none may be sent (lost clock). */
export type IdentifierSource = (unixSeconds: number) => { rpi: Uint8Array; aem: Uint8Array } | undefined;

export interface Advertiser {
  /** Change identifiers now (a new address with a new RPI) and schedule the next change. */
  rotate(): void;
  /** Whether a GAEN packet is on the air. */
  on(): boolean;
  /**
   * Hold identifiers while a sync window is open: an address change would
   * drop the kiosk's connection (Espruino defers it to the disconnect, when it
   * would no longer match the RPI). Releasing rotates if a change fell due.
   */
  hold(held: boolean): void;
}

/**
 * A new random static address (top two bits 11) from the hardware RNG, as
 * Espruino's `NRF.setAddress` wants it.
 */
export function randomAddress(p: Platform): string {
  var s = "";
  var r = 0;
  for (var i = 0; i < 6; i++) {
    if (!(i & 3)) r = p.random32();
    var b = (r >>> (8 * (i & 3))) & 255;
    if (!i) b |= 0xc0;
    s += (i ? ":" : "") + (b < 16 ? "0" : "") + b.toString(16);
  }
  return s + " random";
}

/**
 * The GAEN advertiser. Each change happens 10–20 minutes (board schedule,
 * uniformly random) after the previous one and puts the RPI of the interval
 * containing that moment on the air, together with a fresh address, in one
 * step: blank packet, new address (it restarts the radio), new packet, so no
 * advert ever pairs an old address with a new RPI or the reverse. As changes
 * are ≥ 10 minutes apart, every change moves to a new interval, and a sent RPI
 * is at most two intervals older than the receiver's clock: well inside the
 * ±12 intervals matching tolerates (docs/encounter-log.md).
 *
 * An RPI must never go out under a second address (that links the two). So
 * the advertiser remembers the highest interval it has sent (`last`); a change
 * asked for in that interval or up to a day before it (kiosk sync, a clock set
 * back) keeps what is on the air and waits for time to pass `last`. At boot
 * nothing is remembered: a reset that kept the clock may have sent the current
 * interval already, so the token stays silent until the next interval begins
 * (at most 10 minutes; see docs/threat-model.md).
 */
/** Free JsVars a rotation needs (≈ 85 measured at the peak of a new day's derivation on a Puck.js), with a margin. */
export var ROTATION_RESERVE_JSVARS = 200;

export function createAdvertiser(p: Platform, ids: IdentifierSource, guard: Guard): Advertiser {
  var timer = 0;
  var on = false;
  var held = false;
  var due = false;
  var last = Math.floor(p.now() / INTERVAL_SECONDS);
  p.setTxPower(BOARD.radio.txPowerDbm);

  function rotate(): void {
    if (held) {
      due = true;
      return;
    }
    if (timer) p.clearTimeout(timer);
    var now = p.now();
    var enin = Math.floor(now / INTERVAL_SECONDS);
    var back = last - enin;
    var wait =
      (BOARD.schedule.rotationMinMinutes +
        (p.random32() / 4294967296) * (BOARD.schedule.rotationMaxMinutes - BOARD.schedule.rotationMinMinutes)) *
      60000;
    // Past the interval already sent (+1 s against rounding).
    var pass = ((last + 1) * INTERVAL_SECONDS - now) * 1000 + 1000;
    var keep = back >= 0 && back < TEK_ROLLING_PERIOD;
    if (keep && (!on || pass > wait)) wait = pass;
    // Schedule first: a failure below cannot end the rotation.
    timer = p.setTimeout(guard(rotate), wait);
    if (keep) return;
    // Short of memory, the derivation could run out half-way, which on the
    // real interpreter can stop it for good: go silent rather than leave an
    // RPI on the air past its change; the main tick retries every minute.
    if (p.freeJsVars() < ROTATION_RESERVE_JSVARS) {
      if (on) p.stopAdvertising();
      on = false;
      return;
    }
    var id = ids(now);
    if (!id) {
      if (on) p.stopAdvertising();
      on = false;
      return;
    }
    // The radio keeps advertising across setAddress: blank the packet first so
    // the old RPI never goes out under the new address.
    p.stopAdvertising();
    p.setAddress(randomAddress(p));
    p.setAdvertising(buildAdvert(id.rpi, id.aem), BOARD.schedule.advertIntervalMs);
    on = true;
    last = enin;
  }

  return {
    rotate: rotate,
    on: function () {
      return on;
    },
    hold: function (h: boolean) {
      // With nothing on the air (lost clock, silence after boot) the window's
      // flags-only advert would go out under the chip's factory address,
      // which never changes: give it a fresh one.
      if (h && !on) p.setAddress(randomAddress(p));
      held = h;
      if (!h && due) {
        due = false;
        // Not at the moment the window closes: an observer of the window
        // would see its address turn into the next one and link the two.
        if (timer) p.clearTimeout(timer);
        timer = p.setTimeout(guard(rotate), (p.random32() % 120) * 1000);
      }
    }
  };
}
