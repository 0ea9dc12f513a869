/**
 * Average current and battery life of a token from the work it did. Each cost
 * is an estimate (not measured on hardware); docs/simulator.md explains where
 * each comes from. Radio figures are Puck.js's from Espruino's documentation:
 * a non-connectable advertising event ≈ 7.1 µC (so 375 ms advertising averages
 * ≈ 22 µA with sleep), scanning ≈ 12 mA, JS flat out ≈ 4 mA, asleep ≈ 3 µA.
 */
import type { EnergyCounters } from "../types";

export interface PowerFigures {
  batteryMah: number;
  sleepUA: number;
  scanMA: number;
  cpuMA: number;
  advertEventUC: number;
  /** Whether AES runs natively (crypto.AES) or in interpreted JS; changes the cost of a block. */
  nativeAes?: boolean;
}

/** CPU milliseconds per unit of work (at cpuMA). Estimates; see docs/simulator.md. */
export const CPU_COST_MS = {
  /**
   * Waking the interpreter, running a short callback, going back to sleep.
   * Measured for the commonest one, a scan packet: 0.6-1.1 ms (median 0.8) of
   * CPU on the real interpreter on an x86 host (token-scenario's timed crowd,
   * code run from Storage) × 11.8-13.5 (nRF52832 vs this host, from a
   * published timing: real-espruino/nrf52-speed.ts) ≈ 10 ms. `make
   * bench-memory` prints both.
   */
  callback: 10,
  /** One native crypto.SHA256 call on a short message, with the interpreter's call overhead. */
  sha256: 1,
  /** One AES-128 block through native crypto.AES, with call overhead. */
  aesNative: 1,
  /** One AES-128 block in interpreted JS ("tenths of a second"). */
  aesJs: 200,
  /** Writing one byte of flash (≈ 41 µs per 32-bit word on nRF52, CPU stalled). */
  flashByte: 0.011
} as const;

export interface EnergyReport {
  elapsedSeconds: number;
  /** Average current by cause, µA. */
  sleepUA: number;
  advertUA: number;
  scanUA: number;
  cpuUA: number;
  totalUA: number;
  batteryDays: number;
}

export function energyReport(c: EnergyCounters, elapsedSeconds: number, p: PowerFigures): EnergyReport {
  if (!(elapsedSeconds > 0)) throw new RangeError(`energy: elapsed time must be positive, got ${elapsedSeconds}`);
  const advertUA = (c.advertEvents * p.advertEventUC) / elapsedSeconds;
  // mA × ms / s = µA… scaled: (ms/1000 s) × mA × 1000 µA/mA = ms × mA / s.
  const scanUA = (c.scanMs * p.scanMA) / elapsedSeconds;
  const cpuMs =
    c.callbacks * CPU_COST_MS.callback +
    c.sha256Calls * CPU_COST_MS.sha256 +
    c.aesBlocks * (p.nativeAes === false ? CPU_COST_MS.aesJs : CPU_COST_MS.aesNative) +
    c.flashBytesWritten * CPU_COST_MS.flashByte;
  const cpuUA = (cpuMs * p.cpuMA) / elapsedSeconds;
  const totalUA = p.sleepUA + advertUA + scanUA + cpuUA;
  const batteryDays = (p.batteryMah * 1000) / totalUA / 24;
  return { elapsedSeconds, sleepUA: p.sleepUA, advertUA, scanUA, cpuUA, totalUA, batteryDays };
}

export function zeroCounters(): EnergyCounters {
  return { callbacks: 0, sha256Calls: 0, aesBlocks: 0, advertEvents: 0, scanMs: 0, flashBytesWritten: 0 };
}
