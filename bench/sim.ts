/**
 * The simulator budget: a 50-token care home for 14 virtual days (goal ≤ 60 s
 * of wall clock on a 2-core machine). Runs the real firmware bundle when it
 * scans, else the stand-in bundle (the output says which). Last line: one JSON
 * object.
 *
 *   npx ts-node bench/sim.ts [--days N] [--seed S] [--firmware real|stand-in|auto]
 */
import * as os from "node:os";
import { careHome } from "../host-tools/src/sim/world/care-home";
import { FirmwareChoice, simulate } from "../host-tools/src/sim/world/simulate";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  const days = Number(arg("days", "14"));
  const seed = Number(arg("seed", "1"));
  const firmware = arg("firmware", "auto") as FirmwareChoice;
  const scenario = careHome({ seed });
  const cpu0 = process.cpuUsage();
  // The goal is the world's own speed: the kiosk (a sync every few hours per token) is measured only on request.
  const kiosk = arg("kiosk", "off") === "on";
  const r = await simulate({ scenario, days, seed, board: "puckjs", firmware, kiosk });
  const cpu = process.cpuUsage(cpu0);
  const w = r.world;
  const mem = process.memoryUsage();
  const out = {
    bench: "sim",
    scenario: "care-home",
    days,
    seed,
    tokens: w.tokens,
    phones: w.phones,
    firmware: r.firmware,
    kiosk,
    wallSeconds: Number(r.wallSeconds.toFixed(2)),
    goalSeconds: 60,
    withinGoal: r.wallSeconds <= 60,
    // On a shared machine wall time depends on the neighbours: CPU time of simulate() (this process, GC threads included) and the load say how much.
    cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)),
    loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
    packets: w.radio.delivered,
    events: w.events,
    scanWindows: w.radio.scanWindows,
    packetsPerSecond: Math.round(w.radio.delivered / r.wallSeconds),
    closeContactPairs: w.groundTruth.closeContactPairs,
    tokensWithErrors: w.tokenResults.filter((t) => t.uncaught.length > 0).length,
    heapMB: Math.round(mem.heapUsed / 1e6),
    cpus: os.cpus().length,
    node: process.version
  };
  process.stdout.write(JSON.stringify(out) + "\n");
}

main().catch((e) => {
  process.stderr.write(`bench/sim: ${e && e.stack ? e.stack : e}\n`);
  process.exitCode = 1;
});
