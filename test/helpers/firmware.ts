import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { BundleResult, bundleBoard, compileFirmware } from "../../host-tools/src/build/bundle";
import { BoardConfig, listBoards, loadBoard } from "../../host-tools/src/build/boards";

/** The build time every test bundle is stamped with (2025-01-01T00:00:00Z). */
export const TEST_BUILD_TIME = 1735689600;

let es5: string | undefined;
const cache = new Map<string, Promise<BundleResult>>();
const root = fs.mkdtempSync(path.join(os.tmpdir(), "pt-firmware-"));
process.on("exit", () => fs.rmSync(root, { recursive: true, force: true }));

/**
 * The firmware compiled once per test run into a private directory (so a
 * concurrent `make firmware` cannot empty it), bundled per board on demand.
 * Pass `config` to bundle a variant of a board (e.g. without native AES).
 */
export function testBundle(boardId: string, config?: BoardConfig, variant = ""): Promise<BundleResult> {
  const key = `${boardId}${variant}`;
  let p = cache.get(key);
  if (!p) {
    es5 ??= compileFirmware({ outDir: path.join(root, "es5") });
    const outDir = path.join(root, key);
    p = bundleBoard(config ?? loadBoard(boardId), { es5Dir: es5, outDir, buildTime: TEST_BUILD_TIME });
    cache.set(key, p);
  }
  return p;
}

export async function allTestBundles(): Promise<Record<string, BundleResult>> {
  const out: Record<string, BundleResult> = {};
  for (const id of listBoards()) out[id] = await testBundle(id);
  return out;
}
