import * as path from "node:path";

/** The repository root, found from this file so commands work from any directory. */
export const repoRoot = path.resolve(__dirname, "..", "..");
export const boardConfigDir = path.join(repoRoot, "board-configs");
export const firmwareDir = path.join(repoRoot, "firmware");
export const distFirmwareDir = path.join(repoRoot, "dist", "firmware");
export const buildDir = path.join(repoRoot, "build");
