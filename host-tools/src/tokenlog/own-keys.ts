import { readTeks } from "../../../firmware/src/gaen/tek-store";
import { TEK_ROLLING_PERIOD } from "../match/derive";
import type { PlatformStorage } from "../../../firmware/src/platform-api";
import type { ExposureKey } from "../keys/types";
import { TokenFiles } from "./token-files";

/**
 * The token's own TEKs (`pt.tek<rolling start>`), read with the firmware's key
 * store so a damaged file is skipped exactly as the token skips it. These are
 * what a diagnosed wearer's kiosk uploads.
 */

function readOnly(t: TokenFiles): PlatformStorage {
  const refuse = (): never => {
    throw new Error("a token's files are read-only here");
  };
  return {
    read: (n) => t.files.get(n),
    list: (prefix) => [...t.files.keys()].filter((n) => n.startsWith(prefix)),
    write: refuse,
    erase: refuse,
    getFree: () => 0,
    compact: refuse
  };
}

/** Own keys, oldest first, as exposure keys valid for a whole day (the token rolls its TEK daily). */
export function readOwnKeys(t: TokenFiles): ExposureKey[] {
  return readTeks(readOnly(t))
    .map((k) => ({ keyData: k.tek, rollingStartIntervalNumber: k.rollingStart, rollingPeriod: TEK_ROLLING_PERIOD }))
    .sort((a, b) => a.rollingStartIntervalNumber - b.rollingStartIntervalNumber);
}
