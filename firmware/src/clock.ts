import { Platform } from "./platform-api";
import { EncounterLog } from "./log/store";

/**
 * Lost-clock handling. After a power cut Espruino's clock restarts near 0, so
 * any time before the firmware's build is a clock that was never set or was
 * lost: the token must not advertise (it would mint keys for 1970) and shows
 * "needs sync", while the log keeps recording against uptime.
 */
export function clockValid(p: Platform): boolean {
  return p.now() >= BOARD.buildTime;
}

/** Set the clock (kiosk sync) and re-anchor what was logged against uptime. */
export function setClock(p: Platform, log: EncounterLog, unixSeconds: number): void {
  var old = p.now();
  p.setTime(unixSeconds);
  log.anchor(old, unixSeconds);
}
