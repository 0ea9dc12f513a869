import type { PlatformStorage } from "../../../firmware/src/platform-api";

/**
 * A token's files behind the firmware's own Storage seam, read-only, so the
 * host reads them with the firmware's code (e.g. the TEK store) and skips a
 * damaged file exactly as the token does.
 */
export function readOnlyStorage(read: (name: string) => Uint8Array | undefined, names: () => string[]): PlatformStorage {
  const refuse = (): never => {
    throw new Error("a token's files are read-only here");
  };
  return {
    read,
    list: (prefix) => names().filter((n) => n.startsWith(prefix)),
    write: refuse,
    erase: refuse,
    getFree: () => 0,
    compact: refuse
  };
}
