import { buildAdvert } from "../../../firmware/src/wire/advert";
import { BEACON_PERIOD_S, beaconData } from "../../../firmware/src/wire/beacon";
import { useHostCrypto } from "../sync/host-crypto";

/**
 * The kiosk's beacon as it goes on the air (firmware/src/wire/beacon.ts): a
 * GAEN-shaped advert whose 20 bytes of service data are the HMAC of the
 * current minute under the care home's key. A token of this home that hears
 * it during a scan opens its sync window quietly (unless it synced in the
 * last 4 hours); to anyone else it is one more phone. It must change every
 * minute: a token takes only the current minute's.
 */
export function beaconAdvert(homeKey: Uint8Array, unixSeconds: number): Uint8Array {
  const d = beaconData(useHostCrypto(), homeKey, Math.floor(unixSeconds / BEACON_PERIOD_S));
  return buildAdvert(d.subarray(0, 16), d.subarray(16, 20));
}
