/**
 * The one seam between firmware logic and the world. On a token it is backed by
 * Espruino's globals (`platform.ts`); in the simulator the same `platform.ts`
 * runs against emulated globals; in unit tests a fake implements it. Modules
 * take a `Platform` argument and never touch a global themselves.
 */

export type LedColour = "red" | "green" | "blue";

/** What the scanner hears of one GAEN advert: already filtered to service 0xFD6F. */
export interface HeardAdvert {
  /** Received signal strength in dBm, as reported by the radio (uncalibrated). */
  rssi: number;
  /** The 20 bytes of 0xFD6F service data: RPI (16) then AEM (4). */
  serviceData: Uint8Array;
}

/** Flash storage (Espruino's `require("Storage")`), binary only. */
export interface PlatformStorage {
  /** Whole file as bytes, or undefined if it does not exist. */
  read(name: string): Uint8Array | undefined;
  /**
   * Write `data` at `offset`. On the first write of a file, `size` reserves a
   * fixed-size file (unwritten bytes read as 0xFF) so later writes can go in
   * place. Throws when flash is full.
   */
  write(name: string, data: Uint8Array, offset?: number, size?: number): void;
  erase(name: string): void;
  /** Names of files starting with `prefix`. */
  list(prefix: string): string[];
  /** Bytes free for new files (without compacting). */
  getFree(): number;
  /** Reclaim space of erased/replaced files (slow; needs free RAM). */
  compact(): void;
}

export interface Platform {
  /** Seconds since 1970 as the token believes it (getTime()). */
  now(): number;
  /** Set the wall clock (kiosk sync). */
  setTime(unixSeconds: number): void;
  /** 32 random bits from the hardware RNG. */
  random32(): number;
  /** Switch one LED; a board without that colour ignores the call. */
  led(colour: LedColour, on: boolean): void;
  /** Call `cb` with the press duration in ms each time the button is released. */
  onButton(cb: (pressMs: number) => void): void;
  setTimeout(cb: () => void, ms: number): number;
  clearTimeout(id: number): void;
  setInterval(cb: () => void, ms: number): number;
  clearInterval(id: number): void;
  /** Battery level 0..100. */
  battery(): number;
  /** Take the JavaScript console off Bluetooth so nobody in range can run code. */
  lockConsole(): void;
  /** Start the hardware watchdog; `kickWatchdog` must then be called more often than `timeoutSec`. */
  enableWatchdog(timeoutSec: number): void;
  kickWatchdog(): void;
  /**
   * JsVars free now (without a garbage collection, so cheap). Work that
   * allocates checks it first: running out mid-call stops the timer that was
   * running for good on Espruino.
   */
  freeJsVars(): number;

  /** Native SHA-256 (only on boards whose config says crypto.sha256). */
  sha256(data: Uint8Array): Uint8Array;
  /** Native AES-128 of one 16-byte block in ECB mode (only where crypto.aes). */
  aes128Ecb(block: Uint8Array, key: Uint8Array): Uint8Array;

  /** Advertise a raw packet (≤ 31 bytes) non-connectable and non-scannable. */
  setAdvertising(packet: Uint8Array, intervalMs: number): void;
  /** Take the token off the air: no advert at all (not even Espruino's default one). */
  stopAdvertising(): void;
  /** Set a random static address ("c1:22:33:44:55:66 random"); restarts the radio. */
  setAddress(address: string): void;
  setTxPower(dBm: number): void;
  /** Passive scan for service 0xFD6F; `cb` runs once per received advert. */
  startScan(cb: (advert: HeardAdvert) => void): void;
  stopScan(): void;
  /**
   * Open (true) or close (false) the sync window: while open the token keeps
   * its current packet and address but advertises connectable and scannable
   * so the kiosk can connect; closing drops a central still connected and returns to non-connectable advertising.
   * A token with no packet (lost clock) advertises flags only while open, so
   * it can still be found and given the time.
   */
  setSyncWindow(open: boolean): void;

  /**
   * The sync link (a kiosk connected during a sync window). `cb` hears a
   * central connect (LINK_UP), bytes it wrote (LINK_DATA, with the bytes) and
   * the link end (LINK_DOWN). Called once, when sync starts listening.
   */
  onLink(cb: (event: number, data?: Uint8Array) => void): void;
  /**
   * Queue bytes for the central. Espruino's Bluetooth TX buffer holds
   * LINK_TX_BYTES and a write that does not fit blocks the interpreter until
   * the radio drains it (one 20-byte notification per connection interval),
   * with no way to ask how full it is: so this refuses (false) more than the
   * buffer holds, and the protocol keeps at most LINK_TX_BYTES unacknowledged.
   */
  linkWrite(data: Uint8Array): boolean;
  /** Drop the central (it hears a disconnect; LINK_DOWN follows). */
  linkClose(): void;

  storage: PlatformStorage;
}

/** onLink events. */
export var LINK_UP = 1;
export var LINK_DATA = 2;
export var LINK_DOWN = 3;
/** Bytes Espruino's Bluetooth TX ring holds on an nRF52 (128 entries, one kept free). */
export var LINK_TX_BYTES = 127;
