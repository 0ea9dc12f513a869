import { StoredTek, readTeks } from "../../../firmware/src/wire/tek-file";
import { TEK_ROLLING_PERIOD } from "../../../firmware/src/wire/gaen";
import type { ExposureKey } from "../keys/types";
import { storageReader } from "./read-only-storage";
import { TokenFiles } from "./token-files";

/**
 * The token's own TEKs (`pt.tek<rolling start>`), read with the token's own
 * TEK file reader so a damaged file is skipped exactly as the token skips it.
 * These are what a diagnosed wearer's kiosk uploads.
 */

/** Own TEKs as stored, newest first (the token's order). */
export function readOwnTeks(t: TokenFiles): StoredTek[] {
  return readTeks(storageReader(t.files));
}

/** Own keys, oldest first, as exposure keys valid for a whole day (the token rolls its TEK daily). */
export function readOwnKeys(t: TokenFiles): ExposureKey[] {
  return readOwnTeks(t)
    .map((k) => ({ keyData: k.tek, rollingStartIntervalNumber: k.rollingStart, rollingPeriod: TEK_ROLLING_PERIOD }))
    .sort((a, b) => a.rollingStartIntervalNumber - b.rollingStartIntervalNumber);
}
