/**
 * What `simulate --out DIR` leaves behind, and the one-object summary that
 * `--json` prints. Sightings are JSON Lines, one per RPI heard in one scan:
 * {"time": true unix seconds of the scan start, "rpi": hex, "rssi": strongest
 * dBm in that scan, "aem": hex}.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { UserError } from "../../errors";
import { writeFileAtomic } from "../../atomic-write";
import { SimulateResult } from "./simulate";

export interface SimulateSummary {
  scenario: string;
  days: number;
  seed: number;
  board: string;
  firmware: "real" | "stand-in";
  tokens: number;
  phones: number;
  people: number;
  virtualSeconds: number;
  wallSeconds: number;
  events: number;
  /** Packets the radio delivered to a scanning token or phone. */
  packets: number;
  radio: { scanWindows: number; candidates: number; belowThreshold: number; lost: number; delivered: number };
  groundTruth: { closeContactPairs: number; pairDaysWithin3m: number };
  energy: { meanUA: number; maxUA: number; minBatteryDays: number };
  /** Tokens whose firmware threw an uncaught exception at least once. */
  tokensWithErrors: number;
}

export function summarise(r: SimulateResult, board: string): SimulateSummary {
  const w = r.world;
  const ua = w.tokenResults.map((t) => t.energy.totalUA);
  return {
    scenario: w.scenario,
    days: w.days,
    seed: w.seed,
    board,
    firmware: r.firmware,
    tokens: w.tokens,
    phones: w.phones,
    people: w.people,
    virtualSeconds: w.virtualSeconds,
    wallSeconds: Math.round(r.wallSeconds * 1000) / 1000,
    events: w.events,
    packets: w.radio.delivered,
    radio: w.radio,
    groundTruth: {
      closeContactPairs: w.groundTruth.closeContactPairs,
      pairDaysWithin3m: w.groundTruth.days.reduce((n, d) => n + d.pairs.length, 0)
    },
    energy: {
      meanUA: ua.length ? round1(ua.reduce((a, b) => a + b, 0) / ua.length) : 0,
      maxUA: ua.length ? round1(Math.max(...ua)) : 0,
      minBatteryDays: w.tokenResults.length ? round1(Math.min(...w.tokenResults.map((t) => t.energy.batteryDays))) : 0
    },
    tokensWithErrors: w.tokenResults.filter((t) => t.uncaught.length > 0).length
  };
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/** A person id as a file name (ids are the scenario's own, so keep them readable). */
function fileName(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, "_");
}

/** The files every run writes, and the directories it writes into. */
const FIXED_FILES = ["summary.json", "ground-truth.json", "tokens.json", "phones.json"];
const SUB_DIRS = ["sightings", "flash"];

/**
 * Makes the output directory and checks that nothing in it is of the wrong
 * kind (a directory where a file goes, a file where a directory goes), so a
 * run that would fail to write its results fails before it simulates.
 */
export function prepareOutput(dir: string): void {
  try {
    fs.mkdirSync(path.join(dir, "sightings"), { recursive: true });
  } catch (e) {
    throw new UserError(`cannot create output directory ${dir}: ${(e as Error).message}; give --out a directory that can be made`);
  }
  for (const sub of SUB_DIRS) {
    const p = path.join(dir, sub);
    if (fs.existsSync(p) && !fs.statSync(p).isDirectory())
      throw new UserError(`cannot write the results into ${dir}: ${p} is not a directory; move it away or choose another --out`);
  }
  for (const f of FIXED_FILES) {
    const p = path.join(dir, f);
    if (fs.existsSync(p) && fs.statSync(p).isDirectory())
      throw new UserError(`cannot write the results into ${dir}: ${p} is a directory; move it away or choose another --out`);
  }
}

/**
 * Writes the results into `dir` (prepared by prepareOutput). Each file is
 * written atomically (atomic-write.ts): a full disk or a file of the wrong
 * kind stops with a UserError naming the file, and leaves no partial file.
 */
export function writeOutput(dir: string, r: SimulateResult, summary: SimulateSummary): string[] {
  prepareOutput(dir);
  const written: string[] = [];
  const put = (rel: string, data: string | Uint8Array) => {
    const file = path.join(dir, rel);
    try {
      writeFileAtomic(file, typeof data === "string" ? Buffer.from(data, "utf8") : data);
    } catch (e) {
      throw new UserError(
        `cannot write ${file}: ${(e as Error).message}. The simulation finished but its results in ${dir} are incomplete ` +
          `(${written.length} file(s) written); free some space or choose another --out, then run again`
      );
    }
    written.push(rel);
  };
  const w = r.world;
  put("summary.json", JSON.stringify(summary, null, 2) + "\n");
  put("ground-truth.json", JSON.stringify(w.groundTruth) + "\n");
  put("tokens.json", JSON.stringify(w.tokenResults, null, 2) + "\n");
  put("phones.json", JSON.stringify(w.phoneResults, null, 2) + "\n");
  for (const [id, list] of w.sightings ?? []) {
    put(
      path.join("sightings", `${fileName(id)}.jsonl`),
      list.map((s) => JSON.stringify({ time: s.time, rpi: s.rpi, rssi: s.rssi, aem: s.aem })).join("\n") + (list.length ? "\n" : "")
    );
  }
  if (w.emulated) {
    try {
      fs.mkdirSync(path.join(dir, "flash"), { recursive: true });
    } catch (e) {
      throw new UserError(`cannot create ${path.join(dir, "flash")}: ${(e as Error).message}; move it away or choose another --out`);
    }
    for (const [id, t] of w.emulated) {
      const flash = (t as { flash?: { bytes?: unknown } }).flash;
      if (flash && flash.bytes instanceof Uint8Array) put(path.join("flash", `${fileName(id)}.bin`), flash.bytes);
    }
  }
  return written;
}
