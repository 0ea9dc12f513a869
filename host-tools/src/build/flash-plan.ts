import * as fs from "node:fs";
import * as path from "node:path";
import { BoardConfig } from "./boards";
import { buildDir, repoRoot } from "../paths";
import { UserError } from "../errors";

/** What `privatetracer flash` will run: the `espruino` uploader with our own board JSON, offline. */
export interface FlashPlan {
  /** Program and arguments (the Node binary first). */
  argv: string[];
  boardJsonPath: string;
  /** The boot code file (`<board>.bootcde`, pretokenised). */
  bundlePath: string;
}

/**
 * The board description the `espruino` CLI would otherwise download from the
 * web on connect. Listing the built-in modules keeps it from looking any up.
 */
export function espruinoBoardJson(cfg: BoardConfig): object {
  return {
    info: {
      name: cfg.name,
      binary_version: "2v29",
      builtin_modules: ["Storage", "crypto", "Flash", "heatshrink"]
    },
    BOARD: cfg.espruinoBoard
  };
}

/** Espruino BLE addresses as the uploader takes them: six hex octets. */
const ADDRESS = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

export function planFlash(cfg: BoardConfig, bundlePath: string, port: string, opts: { outDir?: string } = {}): FlashPlan {
  if (!ADDRESS.test(port) && !port.startsWith("/dev/")) {
    throw new UserError(`"${port}" is neither a Bluetooth address (aa:bb:cc:dd:ee:ff) nor a serial device (/dev/tty…)`);
  }
  if (!fs.existsSync(bundlePath)) throw new UserError(`no bundle at ${bundlePath}; run privatetracer build --board ${cfg.id}`);
  const dir = opts.outDir ?? path.join(buildDir, "espruino-board");
  fs.mkdirSync(dir, { recursive: true });
  const boardJsonPath = path.join(dir, `${cfg.espruinoBoard}.json`);
  fs.writeFileSync(boardJsonPath, JSON.stringify(espruinoBoardJson(cfg), null, 2) + "\n");
  const cli = path.join(repoRoot, "node_modules", "espruino", "bin", "espruino-cli.js");
  return {
    argv: [
      process.execPath,
      cli,
      "--board", boardJsonPath,
      "-p", port,
      // -t sets the token's clock from this computer: a token without time stays silent.
      "-t",
      // The pretokenised bundle becomes the boot code, written byte for byte
      // (a Storage data file: the uploader's own code path would read it as
      // text and run its transforms over it), so it runs after every reset.
      "--storage", `.bootcde:${bundlePath}`,
      // Boot it now, as a reset would.
      "-e", "load()"
    ],
    boardJsonPath,
    bundlePath
  };
}
