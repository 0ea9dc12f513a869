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

/**
 * Why a connection ended, as Bluetooth's HCI codes say it (the number
 * Espruino passes to `NRF.on('disconnect')`).
 */
export const HCI_CONNECTION_TIMEOUT = 0x08;
export const HCI_REMOTE_USER_TERMINATED = 0x13;
export const HCI_LOCAL_HOST_TERMINATED = 0x16;

/**
 * A central (the kiosk) as one token's connection sees it: the world
 * implements it and passes it to `EmulatedToken.connect`. Calls into it come
 * from the scheduler, never from inside the token's JavaScript.
 */
export interface Central {
  /** As `NRF.on('connect')` reports it: "aa:bb:cc:dd:ee:ff public". */
  readonly address: string;
  /**
   * The connection interval the central chose, in ms (BLE allows 7.5 to
   * 4000): the token sends at most one notification per interval.
   */
  readonly intervalMs: number;
  /** One notification on the token's Nordic UART TX characteristic (1 to 20 bytes), at the connection event that carried it. */
  notified(bytes: Uint8Array): void;
  /**
   * The token's side ended the link: HCI_REMOTE_USER_TERMINATED when its
   * firmware disconnected (or slept), HCI_CONNECTION_TIMEOUT when it lost
   * power or reset. Not called when the central ended the link itself.
   */
  disconnected(reason: number): void;
}

/** One connection, held by the central that made it. */
export interface CentralLink {
  /** False once either side ended this connection. */
  readonly connected: boolean;
  /**
   * Write to the token's Nordic UART RX characteristic, in order, as ATT
   * writes of at most 20 bytes. False (nothing written) when the link is down.
   */
  write(bytes: Uint8Array): boolean;
  /** End the link from the central's side; the token's `NRF.on('disconnect')` gets `reason` (default HCI_REMOTE_USER_TERMINATED). */
  disconnect(reason?: number): void;
  /** Bytes the token's firmware wrote that have not reached the central yet. */
  readonly txPending: number;
  /**
   * Milliseconds the token's interpreter spent blocked in `Bluetooth.write`
   * because its TX buffer was full, on this link (Espruino blocks there;
   * the emulation counts the time instead of stopping the token's clock).
   */
  readonly txStalledMs: number;
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
  /**
   * A central connects. Null when the token does not accept a connection
   * now: not advertising connectable, asleep, already connected, or off.
   */
  connect(central: Central): CentralLink | null;
}
