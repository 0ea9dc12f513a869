/**
 * How many days of encounter log fit on a board: the log's space rule, which
 * firmware/src/log/store.ts follows and wire/log-record.ts states (before a
 * new segment, free Storage must hold one segment plus RESERVE_BYTES; on
 * shared Storage at most `(dataBytes − LOG_CAP_BUNDLE_BYTES) /
 * SEGMENT_FOOTPRINT` segments), with the board's bundle and the token's other
 * files (TEKs, settings, fault counters) already in flash. The current segment
 * is counted as empty, so the figure is the lower bound of docs/encounter-log.md.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { BoardConfig, dataBytes, listBoards, loadBoard } from "../../build/boards";
import { distFirmwareDir } from "../../paths";
import { LOG_CAP_BUNDLE_BYTES, RESERVE_BYTES, SEGMENT_FOOTPRINT, SEGMENT_RECORDS } from "../../../../firmware/src/wire/log-record";
import { fileFootprint } from "../../../../firmware/src/wire/storage";

export interface RetentionInput {
  /** Storage the board gives us (the whole Storage, or our slice of shared Storage). */
  storageBytes: number;
  /** Shared Storage: the bundle lives elsewhere and the segment cap applies. */
  shared: boolean;
  bundleBytes: number;
  /** Footprint of the token's other files (TEKs, settings, fault counters). */
  otherFileBytes: number;
  encountersPerDay: number;
}

export interface Retention {
  /** Bytes left for log segments after bundle, other files and the reserve. */
  logBytes: number;
  segments: number;
  /** Encounters surely held (full segments, the current one counted as empty). */
  encounters: number;
  /** Days of log at the given rate (not capped: the firmware erases after 14 days anyway). */
  days: number;
}

export function retention(i: RetentionInput): Retention {
  const bundle = i.shared ? 0 : fileFootprint(i.bundleBytes);
  const logBytes = Math.max(0, i.storageBytes - bundle - i.otherFileBytes - RESERVE_BYTES);
  let segments = Math.floor(logBytes / SEGMENT_FOOTPRINT);
  if (i.shared) segments = Math.min(segments, Math.floor((i.storageBytes - LOG_CAP_BUNDLE_BYTES) / SEGMENT_FOOTPRINT));
  const encounters = Math.max(0, segments - 1) * SEGMENT_RECORDS;
  return { logBytes, segments, encounters, days: i.encountersPerDay > 0 ? encounters / i.encountersPerDay : Infinity };
}

/** Flash used per encounter: log footprint (headers included) over records held. */
export function bytesPerEncounter(logBytes: number, records: number): number {
  return records > 0 ? logBytes / records : 0;
}

export interface BoardBundle {
  board: BoardConfig;
  bundleBytes: number;
  /** "dist" when measured from dist/firmware/<board>.size.json, "budget" when that is missing (worst case). */
  source: "dist" | "budget";
}

/** The bundle size of a board as built (dist/firmware/<board>.size.json), else its budget. */
export function boardBundle(board: BoardConfig, dir: string = distFirmwareDir): BoardBundle {
  try {
    const size = JSON.parse(fs.readFileSync(path.join(dir, `${board.id}.size.json`), "utf8")) as { bytes?: unknown };
    if (typeof size.bytes === "number" && size.bytes > 0) return { board, bundleBytes: size.bytes, source: "dist" };
  } catch {
    // not built yet: fall through to the budget
  }
  return { board, bundleBytes: board.budget.bundleBytes, source: "budget" };
}

/** The board whose log has least room (smallest Storage after its bundle): the retention that can be promised everywhere. */
export function tightestBoard(boards: BoardConfig[] = listBoards().map((id) => loadBoard(id)), dir: string = distFirmwareDir): BoardBundle {
  const room = (b: BoardBundle) =>
    retention({
      storageBytes: dataBytes(b.board),
      shared: !!b.board.storage.shared,
      bundleBytes: b.bundleBytes,
      otherFileBytes: 0,
      encountersPerDay: 1
    }).logBytes;
  const all = boards.map((b) => boardBundle(b, dir));
  return all.reduce((a, b) => (room(b) < room(a) ? b : a));
}

export function retentionOn(b: BoardBundle, otherFileBytes: number, encountersPerDay: number): Retention {
  return retention({
    storageBytes: dataBytes(b.board),
    shared: !!b.board.storage.shared,
    bundleBytes: b.bundleBytes,
    otherFileBytes,
    encountersPerDay
  });
}
