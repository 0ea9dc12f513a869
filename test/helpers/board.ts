import { boardConstants, loadBoard } from "../../host-tools/src/build/boards";

/**
 * Firmware modules read `BOARD.*`, which the bundler inlines. Specs that import
 * firmware modules directly under Node call this first to provide it.
 */
export function useBoard(id: string, buildTime = 1735689600): BoardConstants {
  const constants = boardConstants(loadBoard(id), buildTime);
  (globalThis as unknown as { BOARD: BoardConstants }).BOARD = constants;
  return constants;
}
