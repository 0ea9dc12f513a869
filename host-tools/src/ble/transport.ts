/**
 * The one interface between the sync client (host-tools/src/sync) and a
 * radio. Two implementations: the simulated world (sim-transport.ts, a
 * central connecting to an emulated token running the real bundle) and BlueZ
 * over D-Bus with node-ble (bluez-transport.ts). The client only ever sees
 * bytes: the token's Nordic UART service carries the sync frames
 * (docs/sync-protocol.md), writes to its RX characteristic, notifications from
 * its TX characteristic.
 */

/** A token advertising a sync window, as a scan saw it. */
export interface FoundToken {
  /** The address to connect to ("c1:22:33:44:55:66"); random static and rotating, so never an identity. */
  address: string;
  /** Received signal strength of the last advert heard, dBm. */
  rssi: number;
}

/** One connection to one token. */
export interface SyncLink {
  /**
   * Send bytes to the token (the Nordic UART RX characteristic), in order;
   * split into writes of at most `writeBytes`, never interleaved with another
   * call's. Resolves when the radio took them; rejects with LinkLostError if
   * the link is down.
   */
  write(bytes: Uint8Array): Promise<void>;
  /** Called with the bytes of each notification from the token, in order (those that came before it was set are kept and delivered). */
  onData(cb: (bytes: Uint8Array) => void): void;
  /** Called once when the link ends for any reason other than `disconnect()` (token left, out of range, timeout). */
  onClose(cb: (reason: string) => void): void;
  /** End the link from this side. Resolves when it is down; safe to call twice. */
  disconnect(): Promise<void>;
  /** Largest write the link takes at once (20 at the default ATT MTU of 23). */
  readonly writeBytes: number;
}

export interface Transport {
  /**
   * Tokens heard in a sync window during `ms` milliseconds, strongest first,
   * one entry per address. A radio cannot tell a token's connectable window
   * from a phone's GAEN advert (both carry 0xFD6F data, and BlueZ does not
   * say which adverts are connectable): callers treat a ConnectFailedError
   * as "try the next one".
   */
  scan(ms: number): Promise<FoundToken[]>;
  /** Connect to an address a scan returned and subscribe to the token's notifications; the timeout covers service discovery and subscribing. */
  connect(address: string, timeoutMs: number): Promise<SyncLink>;
  /**
   * Put the care home's beacon on the air (kiosk/beacon.ts), remade from
   * `make(unixSeconds)` at least every minute, or take it off (null). Absent
   * where the transport cannot advertise (tokens then open their windows by
   * a press); it throws a PrivateTracerError when the radio refuses.
   */
  beacon?(make: ((unixSeconds: number) => Uint8Array) | null): Promise<void>;
  /** Disconnect any open links, then release the adapter / bus. */
  close(): Promise<void>;
}

/** Nordic UART service: the token's sync link (the console is forced off it, docs/sync-protocol.md). */
export const NUS_SERVICE = "6e400001-b5a3-f393-e0a9-e50e24dcca9e";
/** The central writes here. */
export const NUS_RX = "6e400002-b5a3-f393-e0a9-e50e24dcca9e";
/** The token notifies here. */
export const NUS_TX = "6e400003-b5a3-f393-e0a9-e50e24dcca9e";
/** GAEN's 16-bit service (0xFD6F) as BlueZ spells it: a token's window advert carries its service data. */
export const GAEN_SERVICE = "0000fd6f-0000-1000-8000-00805f9b34fb";
