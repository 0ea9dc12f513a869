import { StorageReader } from "./storage";

/**
 * Settings the kiosk writes at sync (`pt.cfg`): byte 0 the graded risk level
 * (0 none found, 1 low, 2 high; anything else: not known yet). The token
 * never evicts the file. Shared with host tools.
 */
export var SETTINGS_FILE = "pt.cfg";

/** The risk level last written by the kiosk, or -1 if there is none. */
export function riskLevel(st: StorageReader): number {
  var b = st.read(SETTINGS_FILE);
  return b && b.length && b[0] < 3 ? b[0] : -1;
}
