/**
 * Runs several `privatetracer` commands in one child process (one start-up
 * instead of one per command), for specs whose inputs used to hang or fill
 * memory. argv[2] is a JSON array of argument lists; after each command one
 * JSON line {index, code, stdout, stderr} goes to the real stdout, so the
 * parent, which kills this process at its time limit, knows which commands
 * finished and which hung.
 */
import * as fs from "node:fs";
import { main } from "../../../host-tools/src/cli/main";

async function run(): Promise<void> {
  const cases = JSON.parse(process.argv[2]) as string[][];
  for (let index = 0; index < cases.length; index++) {
    let stdout = "";
    let stderr = "";
    const out = process.stdout.write;
    const err = process.stderr.write;
    process.stdout.write = ((s: string | Uint8Array) => (stdout += String(s)).length > 0) as typeof process.stdout.write;
    process.stderr.write = ((s: string | Uint8Array) => (stderr += String(s)).length > 0) as typeof process.stderr.write;
    let code: number;
    try {
      code = await main(["node", "privatetracer", ...cases[index]]);
    } catch (e) {
      // As bin/privatetracer.js reports a bug.
      stderr += `privatetracer: internal error: ${(e as Error).stack ?? String(e)}\n`;
      code = 70;
    } finally {
      process.stdout.write = out;
      process.stderr.write = err;
    }
    fs.writeSync(1, JSON.stringify({ index, code, stdout, stderr }) + "\n");
  }
}

void run();
