import * as crypto from "node:crypto";
import * as fs from "node:fs";

/**
 * Writes a file atomically (temp file in the same directory, then rename), so
 * a reader never sees half a file: a kiosk fetching exports, a publisher's
 * index.txt, a code store or a sightings file read while it is written.
 * Throws whatever node:fs throws; callers say which file and what it was for.
 */
export function writeFileAtomic(file: string, data: Uint8Array, mode?: number): void {
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`;
  fs.writeFileSync(tmp, data, mode !== undefined ? { mode } : undefined);
  fs.renameSync(tmp, file);
}
