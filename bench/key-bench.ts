import * as crypto from "node:crypto";
import type { ExposureKey } from "../host-tools/src/keys/types";
import { ReportType } from "../host-tools/src/keys/types";
import { paddedData, TEK_ROLLING_PERIOD } from "../host-tools/src/match/derive";

/**
 * What the matching benches (bench/match.ts, bench/kiosk.ts) share: their
 * command-line numbers, their published keys, and the bound they measure
 * against in the same run on the same machine: the least any matcher must
 * do per published key, timed on one core (the HKDF pair and one 144-block
 * AES-ECB call, nothing else).
 */

/** Where the benches' keys start (an EN interval number) and how many days they span. */
export const DAY0 = 2642976;
export const DAYS = 14;

const SALT = Buffer.alloc(32);
const RPIK_INFO = Buffer.from("EN-RPIK", "ascii");
const AEMK_INFO = Buffer.from("EN-AEMK", "ascii");

export interface Timing {
  /** Wall-clock seconds. */
  seconds: number;
  /** CPU seconds of this process: robust to other load when only one thread works. */
  cpu: number;
}

export function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** The bound for `keys`, whose starts are DAY0 + 144·d for d < DAYS. */
export function timeBound(keys: readonly ExposureKey[]): Timing {
  const padded = new Map<number, Buffer>();
  for (let d = 0; d < DAYS; d++) padded.set(DAY0 + TEK_ROLLING_PERIOD * d, paddedData(DAY0 + TEK_ROLLING_PERIOD * d, TEK_ROLLING_PERIOD));
  let sink = 0;
  const c0 = cpuNow();
  const t0 = process.hrtime.bigint();
  for (const k of keys) {
    const rpik = crypto.hkdfSync("sha256", k.keyData, SALT, RPIK_INFO, 16);
    const aemk = crypto.hkdfSync("sha256", k.keyData, SALT, AEMK_INFO, 16);
    const out = crypto.createCipheriv("aes-128-ecb", new Uint8Array(rpik), null).update(padded.get(k.rollingStartIntervalNumber) as Buffer);
    sink ^= out[0] ^ new Uint8Array(aemk)[0];
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = cpuNow() - c0;
  // Keeps the work from being optimised away.
  if (sink === 0x100) console.log("");
  return { seconds, cpu };
}

/** `--name N` from the command line, a positive integer, or `dflt`. */
export function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} needs a positive integer`);
  return v;
}

/** `n` random confirmed-test keys spread over DAYS days from DAY0. */
export function makeKeys(n: number): ExposureKey[] {
  const data = crypto.randomBytes(16 * n);
  const keys: ExposureKey[] = [];
  for (let i = 0; i < n; i++) {
    keys.push({
      // A Uint8Array as the export readers make them (an index gives keys back so).
      keyData: new Uint8Array(data.buffer, data.byteOffset + 16 * i, 16),
      rollingStartIntervalNumber: DAY0 + TEK_ROLLING_PERIOD * (i % DAYS),
      rollingPeriod: TEK_ROLLING_PERIOD,
      reportType: ReportType.ConfirmedTest,
      daysSinceOnsetOfSymptoms: 1
    });
  }
  return keys;
}
