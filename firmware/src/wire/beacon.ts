import { CryptoPlatform } from "../crypto/types";
import { hmacSha256 } from "../crypto/hmac";
import { putLE } from "./le-bytes";

/**
 * The home kiosk's beacon (docs/sync-protocol.md, "The kiosk's beacon"): an
 * advert shaped like any GAEN advert (service 0xFD6F, 20 bytes of service
 * data) whose data is the first 20 bytes of HMAC-SHA256(home key, "B" ‖
 * minute), minute = floor(Unix seconds / 60) as uint32 LE. Only a holder of
 * the home key (set at provisioning, one per care home) can make it; it
 * changes every minute and a token accepts only the current minute's, so a
 * recording replays for at most a minute. To anyone else it is one more
 * phone. Shared: the kiosk makes it, the token checks it.
 */
export var BEACON_PERIOD_S = 60;

/** The 20 bytes of service data the kiosk advertises during `minute`. */
export function beaconData(p: CryptoPlatform, homeKey: Uint8Array, minute: number): Uint8Array {
  var m = new Uint8Array(5);
  m[0] = 0x42;
  putLE(m, 1, minute, 4);
  return hmacSha256(p, homeKey, m).subarray(0, 20);
}
