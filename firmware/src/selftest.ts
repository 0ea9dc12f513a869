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

function fromHex(s: string): Uint8Array {
  var b = new Uint8Array(s.length / 2);
  for (var i = 0; i < b.length; i++) b[i] = parseInt(s.substr(2 * i, 2), 16);
  return b;
}

/** True when TEK 75c734c6… at ENIN 2642976 with metadata 40080000 gives the published RPI and AEM. */
export function runSelfTest(p: Platform): boolean {
  try {
    // TEK (16 bytes) ‖ metadata (4) ‖ the expected RPI (16) ‖ AEM (4).
    var v = fromHex("75c734c6dd1a782de7a965da5eb93125" + "40080000" + "8be6cd371c5c891604bfbe49df84509672033874");
    var ids = tekIdentifiers(p, v.subarray(0, 16))(2642976, v.subarray(16, 20));
    for (var i = 0; i < 20; i++) if ((i < 16 ? ids.rpi[i] : ids.aem[i - 16]) !== v[20 + i]) return false;
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
