/**
 * The contract between the simulated world (scheduler, clocks, radio,
 * scenarios: `world/`) and the Espruino emulation that runs one token's real
 * bundle (`espruino/`). Times called "true" are the simulator's own seconds
 * since 1970; a token only ever sees its local clock.
 */

/** One discrete-event queue for the whole world. */
export interface SimScheduler {
  /** True time now, in seconds (float). */
  readonly now: number;
  /** Run `fn` at true time `time` (≥ now). Returns an id for `cancel`. Ties run in insertion order. */
  at(time: number, fn: () => void): number;
  cancel(id: number): void;
  /**
   * Optional: move the clock to `time` so the caller can run its next piece
   * of work inline, if nothing else would run before it (see EventScheduler).
   * False means: queue it with `at`.
   */
  advanceTo?(time: number): boolean;
}

/** A token's own clock: offset and drift against true time; reset by a battery change. */
export interface TokenClock {
  /** What getTime() returns on the token at true time `trueTime`. */
  local(trueTime: number): number;
  /** True time at which the local clock will read `localTime` (to schedule a token's timers). */
  trueAt(localTime: number): number;
  /** setTime(): from now on the local clock reads `localTime` at `trueTime`. */
  set(trueTime: number, localTime: number): void;
}

/** What a token is transmitting; null when it is not advertising. */
export interface AdvertState {
  /** The exact bytes on the air (≤ 31). */
  packet: Uint8Array;
  intervalMs: number;
  /** "c1:22:33:44:55:66 random" */
  address: string;
  txPowerDbm: number;
  connectable: boolean;
  scannable: boolean;
}

export interface ScanState {
  active: boolean;
  /** Lower-case 16-bit service UUIDs a filter asks for (e.g. ["fd6f"]); empty = all. */
  services: string[];
}

/** A packet as one receiver heard it. */
export interface ReceivedAdvert {
  address: string;
  /** dBm at the receiver, after path loss, shadowing and fading. */
  rssi: number;
  packet: Uint8Array;
}

/** The world side of one token's radio: the emulated NRF reports state changes here. */
export interface RadioPort {
  advertising(state: AdvertState | null): void;
  scanning(state: ScanState | null): void;
}

/** Work counted for the energy model (see docs/simulator.md for the cost of each). */
export interface EnergyCounters {
  /** JS callbacks run (timers, scan callbacks, button watches). */
  callbacks: number;
  sha256Calls: number;
  aesBlocks: number;
  /** Advertising events put on the air. */
  advertEvents: number;
  /** Milliseconds the receiver was on. */
  scanMs: number;
  /** Flash bytes written. */
  flashBytesWritten: number;
}

/** One emulated token as the world drives it. */
export interface EmulatedToken {
  readonly id: string;
  readonly boardId: string;
  /** Hand a received packet to the token's scan callback (only while it scans). */
  deliver(advert: ReceivedAdvert): void;
  /** Press the button for `ms` milliseconds (press now, release after ms). */
  pressButton(ms: number): void;
  /** Cut power now: timers stop, RAM is lost, flash keeps what was written. */
  powerCut(): void;
  /** Boot the bundle again from flash (after a power cut or on first start). */
  boot(): void;
  /** LED states now, by colour. */
  leds(): { red: boolean; green: boolean; blue: boolean };
  readonly counters: EnergyCounters;
  /** Exceptions that escaped to Espruino's top level (Espruino prints these and carries on). */
  readonly uncaught: Error[];
}
