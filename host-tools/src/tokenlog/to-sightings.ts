import { formatSighting } from "../match/sightings";
import { LoggedRecord, TokenLog } from "./read-log";

/**
 * A token's placed records as the sightings interchange format (docs/risk.md):
 * the 5-byte RPI prefix, the mean RSSI (GAEN's "typical" attenuation comes
 * from it), the encrypted metadata byte 1 as `aemTx`, which the matcher
 * decrypts with the full RPI it re-derives from a matching key, and the
 * packets the mean is of. Records that could not be placed in time are not
 * here; TokenLog.skipped counts them.
 */
export function recordToSighting(r: LoggedRecord): { time: number; rpi: Uint8Array; rssi: number; aemTx: number; packets: number } {
  return { time: r.time, rpi: r.rpiPrefix, rssi: r.meanRssi, aemTx: r.aem1, packets: r.count };
}

/** JSON Lines text, one sighting a line, ending in a newline (empty for an empty log). */
export function logToSightingsText(log: TokenLog): string {
  return log.records.map((r) => formatSighting(recordToSighting(r)) + "\n").join("");
}
