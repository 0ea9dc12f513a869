import { SpawnSyncReturns, spawnSync } from "node:child_process";
import * as path from "node:path";
import { main } from "../../host-tools/src/cli/main";
import type { Scenario } from "../../host-tools/src/sim/world/scenario";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `privatetracer ARGS…` in this process, its output captured (quicker than a
 * child process: no ts-node start-up per run).
 */
export async function runCli(args: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = process.stdout.write;
  const stderr = process.stderr.write;
  process.stdout.write = ((chunk: string | Uint8Array) => out.push(String(chunk)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => err.push(String(chunk)) > 0) as typeof process.stderr.write;
  try {
    const code = await main(["node", "privatetracer", ...args]);
    return { code, stdout: out.join(""), stderr: err.join("") };
  } finally {
    process.stdout.write = stdout;
    process.stderr.write = stderr;
  }
}

/**
 * `privatetracer simulate ARGS…` as a child process, as a user runs it (the
 * simulator's runs are long and hold module state; a child keeps them apart).
 */
export function simulateCli(args: string[], timeoutMs = 240_000): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI_SCRIPT, "simulate", ...args], { encoding: "utf8", timeout: timeoutMs });
}

const CLI_SCRIPT = path.join(__dirname, "..", "..", "bin", "privatetracer.js");

/**
 * Token wearers sharing a 20 × 8 m day room from 09:00 to 17:00, each at
 * their own spot along it for lunch (12:00–13:00): two spots a metre apart
 * make one close contact a day, the rest stay metres apart.
 */
export function dayRoomWearers(spots: ReadonlyArray<{ id: string; x: number }>): Scenario["people"] {
  return spots.map((p) => ({
    id: p.id,
    role: "resident",
    device: { kind: "token" as const },
    schedule: [
      { from: "12:00", to: "13:00", rooms: ["room"], at: [p.x, 4] as [number, number] },
      { from: "09:00", to: "17:00", rooms: ["room"], dwellMinutes: 20 }
    ]
  }));
}

/** The room `dayRoomWearers` puts people in. */
export const DAY_ROOM: Scenario["rooms"] = [{ id: "room", kind: "lounge", x: 0, y: 0, w: 20, h: 8 }];
