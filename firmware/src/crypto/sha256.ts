import { CryptoPlatform } from "./types";
import { sha256Pure } from "./sha256-pure";

/**
 * SHA-256 on the board's path. `BOARD.crypto.sha256` is inlined at build time,
 * so the bundle of a board with native SHA-256 does not contain the pure-JS one.
 */
export function sha256(p: CryptoPlatform, data: Uint8Array): Uint8Array {
  // A ternary, not `if … return; return …`: esbuild drops the import only
  // when the unused path sits in a branch it folds away.
  return BOARD.crypto.sha256 ? p.sha256(data) : sha256Pure(data);
}
