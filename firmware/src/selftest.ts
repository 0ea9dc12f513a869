import { LedColour, Platform } from "./platform-api";
import { tekIdentifiers } from "./gaen/ids";
import { putLE } from "./wire/le-bytes";

/**
 * Boot-time known-answer test: Google's first GAEN test vector (gaen.md) run
 * through this board's crypto path (native or pure JS). A firmware or
 * interpreter update that silently breaks the crypto would otherwise make the
 * token broadcast identifiers nobody can ever match.
 */

/** Fault record in flash: failures so far (uint32 LE) ‖ unix time of the last (uint32 LE). */
export var FAULT_FILE = "pt.fault";

/** True when TEK 75c734c6… at ENIN 2642976 with metadata 40080000 gives the published RPI and AEM. */
export function runSelfTest(p: Platform): boolean {
  try {
    // TEK (16 bytes) ‖ metadata (4) ‖ the expected RPI (16) ‖ AEM (4).
    // As a byte string, which the pretokenised boot code stores as 40 raw bytes (hex would take 80 and a decoder).
    var vs =
      "\x75\xc7\x34\xc6\xdd\x1a\x78\x2d\xe7\xa9\x65\xda\x5e\xb9\x31\x25" +
      "\x40\x08\x00\x00" +
      "\x8b\xe6\xcd\x37\x1c\x5c\x89\x16\x04\xbf\xbe\x49\xdf\x84\x50\x96\x72\x03\x38\x74";
    var v = new Uint8Array(40);
    for (var i = 0; i < 40; i++) v[i] = vs.charCodeAt(i);
    var ids = tekIdentifiers(p, v.subarray(0, 16))(2642976, v.subarray(16, 20));
    for (i = 0; i < 20; i++) if ((i < 16 ? ids.rpi[i] : ids.aem[i - 16]) !== v[20 + i]) return false;
    return true;
  } catch (e) {
    return false;
  }
}

/**
 * What a token does when its self-test fails (the caller must not start
 * advertising): stop the default advert, count the failure in `pt.fault` and
 * blink red (green on a board without red) for 100 ms every 3 s, so staff
 * notice the token.
 */
export function onSelfTestFailure(p: Platform): void {
  try {
    var old = p.storage.read(FAULT_FILE);
    var rec = new Uint8Array(8);
    var n = old && old.length === 8 ? (old[0] | (old[1] << 8) | (old[2] << 16)) + 1 : 1;
    putLE(rec, 0, n, 4);
    putLE(rec, 4, Math.floor(p.now()), 4);
    p.storage.write(FAULT_FILE, rec);
  } catch (e) {
    // Flash full: the LED pattern still tells staff.
  }
  // Espruino's default advert (connectable, with the board's name) would
  // otherwise keep running: a constant identifier nobody needs.
  p.stopAdvertising();
  var led: LedColour = BOARD.screenLeds || BOARD.leds.red ? "red" : "green";
  p.setInterval(function () {
    p.led(led, true);
    p.setTimeout(function () {
      p.led(led, false);
    }, 100);
  }, 3000);
}
