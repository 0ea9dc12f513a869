import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { main } from "../../../host-tools/src/cli/main";
import { repoRoot } from "../../../host-tools/src/paths";

/** Copies of Google's published test exports, kept in the repo. */
export const gaenFixtures = path.join(repoRoot, "test", "fixtures", "gaen");
export const fixture = (name: string): string => path.join(gaenFixtures, name);

const made: string[] = [];
process.on("exit", () => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

/** A fresh temporary directory, removed when the test process exits. */
export function tempDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `pt-${prefix}-`));
  made.push(d);
  return d;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `privatetracer ARGS` in this process, capturing its output. */
export async function runCli(args: string[]): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string | Uint8Array): boolean => {
    stdout += s.toString();
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array): boolean => {
    stderr += s.toString();
    return true;
  }) as typeof process.stderr.write;
  try {
    const code = await main(["node", "privatetracer", ...args]);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

/** A small deterministic PRNG (mulberry32) so failures can be replayed from the seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
