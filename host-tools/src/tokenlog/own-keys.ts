import { readTeks } from "../../../firmware/src/gaen/tek-store";
import { TEK_ROLLING_PERIOD } from "../match/derive";
import type { ExposureKey } from "../keys/types";
import { readOnlyStorage } from "./read-only-storage";
import { TokenFiles } from "./token-files";

/**
 * The token's own TEKs (`pt.tek<rolling start>`), read with the firmware's key
 * store so a damaged file is skipped exactly as the token skips it. These are
 * what a diagnosed wearer's kiosk uploads.
 */

/** Own keys, oldest first, as exposure keys valid for a whole day (the token rolls its TEK daily). */
export function readOwnKeys(t: TokenFiles): ExposureKey[] {
  return readTeks(readOnlyStorage((n) => t.files.get(n), () => [...t.files.keys()]))
    .map((k) => ({ keyData: k.tek, rollingStartIntervalNumber: k.rollingStart, rollingPeriod: TEK_ROLLING_PERIOD }))
    .sort((a, b) => a.rollingStartIntervalNumber - b.rollingStartIntervalNumber);
}
