/**
 * A token's own clock. Between two `set`s the local clock runs linearly:
 *
 *   local(t) = anchorLocal + (t − anchorTrue) × (1 + ppm·10⁻⁶)
 *
 * A crystal drifts by a few tens of ppm, so after a week two tokens disagree
 * by seconds: the firmware must tolerate that, and the kiosk must correct it.
 */
import type { TokenClock } from "./types";

export interface ClockOptions {
  /** Drift in parts per million: +20 means the token's clock gains 20 µs per true second. */
  driftPpm?: number;
  /** True time at which the clock starts (default 0). */
  startTrue?: number;
  /** What the clock reads at `startTrue` (default `startTrue`: no offset). */
  startLocal?: number;
}

export class DriftingClock implements TokenClock {
  readonly driftPpm: number;
  private readonly rate: number;
  private anchorTrue: number;
  private anchorLocal: number;

  constructor(opts: ClockOptions = {}) {
    const ppm = opts.driftPpm ?? 0;
    if (!Number.isFinite(ppm) || ppm <= -1e6) throw new RangeError(`clock: driftPpm must be a finite number above -1e6, got ${ppm}`);
    this.driftPpm = ppm;
    this.rate = 1 + ppm * 1e-6;
    this.anchorTrue = opts.startTrue ?? 0;
    this.anchorLocal = opts.startLocal ?? this.anchorTrue;
  }

  local(trueTime: number): number {
    return this.anchorLocal + (trueTime - this.anchorTrue) * this.rate;
  }

  trueAt(localTime: number): number {
    return this.anchorTrue + (localTime - this.anchorLocal) / this.rate;
  }

  set(trueTime: number, localTime: number): void {
    this.anchorTrue = trueTime;
    this.anchorLocal = localTime;
  }

  /** Offset of the local clock against true time at `trueTime` (local − true), in seconds. */
  offset(trueTime: number): number {
    return this.local(trueTime) - trueTime;
  }

  /**
   * A battery change: the RTC lost power, so at `trueTime` the token's clock
   * restarts from `localTime` (Espruino starts at 0 until someone calls setTime).
   */
  reset(trueTime: number, localTime = 0): void {
    this.set(trueTime, localTime);
  }
}
