/**
 * The token as a peripheral: a central connects, writes to the Nordic UART
 * RX characteristic, and receives what the bundle writes with
 * `Bluetooth.write` as notifications on the TX characteristic. Sources for
 * each fact: docs/simulator-espruino.md, "Connections in the emulation".
 *
 * - `NRF.on('connect', address)` when a central connects,
 *   `NRF.on('disconnect', reason)` when the link ends (22 when the token
 *   ended it, the central's reason otherwise). A disconnect the token asks
 *   for (`NRF.disconnect`, `NRF.sleep`) completes at the next connection
 *   event, after the calling code returned.
 * - The console follows a connection unless pinned with
 *   `E.setConsole(x, {force:true})`; while it is on Bluetooth every line a
 *   central writes is executed. Otherwise written bytes reach
 *   `Bluetooth.on('data')` as 8-bit strings, one event per ATT write.
 * - `Bluetooth.write` returns nothing. Not connected: the bytes are dropped.
 *   Connected: they join a transmit ring of 127 bytes; the radio takes at
 *   most 20 bytes (one notification) per connection event. A write that does
 *   not fit blocks the interpreter until the radio made room: here the bytes
 *   are queued at once (they reach the central at the same times) and the
 *   blocked time is counted in `txStalledMs`.
 */
import { type Central, type CentralLink, HCI_CONNECTION_TIMEOUT, HCI_LOCAL_HOST_TERMINATED, HCI_REMOTE_USER_TERMINATED } from "../types";
import type { ConsoleState } from "./e-module";
import type { TokenRuntime } from "./runtime";
import { bytesToString, flattenBytes } from "./values";

/** Espruino's transmit ring on nRF52 boards has 128 entries, one always left empty. */
export const TX_BUFFER_BYTES = 127;
/** One Nordic UART notification (or ATT write) at the default ATT MTU of 23. */
export const NUS_PAYLOAD_BYTES = 20;
/** The connection intervals BLE allows. */
const MIN_INTERVAL_MS = 7.5;
const MAX_INTERVAL_MS = 4000;
/** Slack when finding the connection event due at "now" (seconds are floats). */
const EVENT_EPSILON = 1e-6;

/** What the connection needs from the rest of the stack (wired by nrf-module.ts). */
export interface ConnectionHooks {
  /** Connectable advertising is on the air (and the token is awake and powered). */
  acceptsConnection(): boolean;
  /** The link came up or went down: advertising pauses or resumes. */
  linkUp(): void;
  linkDown(): void;
}

export interface ConnectionOptions {
  rt: TokenRuntime;
  consoleState: ConsoleState;
  /** Run console input as JavaScript (console on Bluetooth). */
  evalConsole(code: string): void;
}

export interface Connection {
  /** The connected central's address, or null. */
  readonly connected: string | null;
  connect(central: Central): CentralLink | null;
  /** The token ends the link (NRF.disconnect, NRF.sleep). */
  drop(): void;
  /** Power cut or reset: the central notices the silence. */
  shutdown(): void;
}

interface Link {
  readonly central: Central;
  /** True time of the connection, and of one interval, in seconds. */
  readonly start: number;
  readonly interval: number;
  up: boolean;
  /** Bytes queued for the central; `head` is the next one to send. */
  tx: number[];
  head: number;
  drainEvent: number;
  endEvent: number;
  stalledMs: number;
  /** True time until which the interpreter was (would have been) blocked. */
  stalledUntil: number;
}

export function installConnection(
  NRF: Record<string, unknown>,
  Bluetooth: Record<string, unknown>,
  o: ConnectionOptions,
  hooks: ConnectionHooks
): Connection {
  const { rt } = o;
  let link: Link | null = null;
  let consoleAuto = false;
  let consoleLine = "";

  const pending = (l: Link): number => l.tx.length - l.head;
  /** True time of connection event k (k ≥ 1 after the connection). */
  const eventAt = (l: Link, k: number): number => l.start + k * l.interval;
  /** Index of the first connection event after now. */
  const nextEvent = (l: Link): number => Math.floor((rt.scheduler.now - l.start) / l.interval + EVENT_EPSILON) + 1;

  const drainAt = (l: Link, k: number): void => {
    l.drainEvent = rt.schedule(eventAt(l, k), () => {
      l.drainEvent = 0;
      if (!l.up) return;
      const n = Math.min(NUS_PAYLOAD_BYTES, pending(l));
      const chunk = Uint8Array.from(l.tx.slice(l.head, l.head + n));
      l.head += n;
      if (l.head === l.tx.length) {
        l.tx = [];
        l.head = 0;
      }
      l.central.notified(chunk);
      // The central may have written back, and the firmware answered, meanwhile.
      if (l.up && pending(l) > 0 && l.drainEvent === 0) drainAt(l, k + 1);
    });
  };

  /** The link is gone: `local` is what the token's JS hears, `remote` what the central hears (null: it ended the link itself). */
  const end = (l: Link, local: number | null, remote: number | null, deferRemote: boolean): void => {
    if (!l.up) return;
    l.up = false;
    if (l.drainEvent) rt.unschedule(l.drainEvent);
    if (l.endEvent) rt.unschedule(l.endEvent);
    l.drainEvent = l.endEvent = 0;
    l.tx = [];
    l.head = 0;
    if (link === l) link = null;
    if (local !== null) {
      if (consoleAuto) {
        consoleAuto = false;
        o.consoleState.device = null;
      }
      rt.emit(NRF, "disconnect", [local]);
      hooks.linkDown();
    }
    if (remote === null) return;
    // From inside a dying token's JavaScript (a power cut in a flash write) the central must not run re-entrantly.
    if (deferRemote) rt.scheduler.at(rt.scheduler.now, () => l.central.disconnected(remote));
    else l.central.disconnected(remote);
  };

  const receive = (data: string): void => {
    if (o.consoleState.device !== "Bluetooth") {
      rt.emit(Bluetooth, "data", [data]);
      return;
    }
    consoleLine += data;
    let nl: number;
    while ((nl = consoleLine.search(/[\r\n]/)) >= 0) {
      const line = consoleLine.slice(0, nl);
      consoleLine = consoleLine.slice(nl + 1);
      if (!line) continue;
      if (o.consoleState.locked) {
        if (line === o.consoleState.password) o.consoleState.locked = false;
        continue;
      }
      o.evalConsole(line);
    }
  };

  const write = (...args: unknown[]): void => {
    rt.guard();
    const l = link;
    if (l === null) return;
    const bytes = flattenBytes(args);
    if (!bytes.length) return;
    for (let i = 0; i < bytes.length; i++) l.tx.push(bytes[i]);
    const k = nextEvent(l);
    if (l.drainEvent === 0) drainAt(l, k);
    const over = pending(l) - TX_BUFFER_BYTES;
    if (over > 0) {
      // The last byte enters the ring once enough notifications left: one per connection event from k on.
      const free = eventAt(l, k + Math.ceil(over / NUS_PAYLOAD_BYTES) - 1);
      const from = Math.max(rt.scheduler.now, l.stalledUntil);
      if (free > from) {
        l.stalledMs += (free - from) * 1000;
        l.stalledUntil = free;
      }
    }
  };
  Bluetooth.write = write;
  Bluetooth.print = (data: unknown): void => write(String(data));
  Bluetooth.println = (data: unknown): void => write(String(data) + "\r\n");

  const drop = (): void => {
    const l = link;
    if (l === null || l.endEvent) return;
    // The terminate request goes out at the next connection event; the JS event comes after the calling code.
    l.endEvent = rt.schedule(eventAt(l, nextEvent(l)), () => {
      l.endEvent = 0;
      end(l, HCI_LOCAL_HOST_TERMINATED, HCI_REMOTE_USER_TERMINATED, false);
    });
  };
  NRF.disconnect = (): void => {
    rt.guard();
    drop();
  };
  NRF.setServices = (): void => rt.guard();
  NRF.setSecurity = (): void => rt.guard();

  return {
    get connected() {
      return link === null ? null : link.central.address;
    },
    drop,
    connect(central: Central): CentralLink | null {
      if (!(central.intervalMs >= MIN_INTERVAL_MS && central.intervalMs <= MAX_INTERVAL_MS))
        throw new RangeError(`connection interval ${central.intervalMs} ms is outside BLE's ${MIN_INTERVAL_MS}..${MAX_INTERVAL_MS} ms`);
      if (rt.dead || link !== null || !hooks.acceptsConnection()) return null;
      const l: Link = {
        central,
        start: rt.scheduler.now,
        interval: central.intervalMs / 1000,
        up: true,
        tx: [],
        head: 0,
        drainEvent: 0,
        endEvent: 0,
        stalledMs: 0,
        stalledUntil: 0
      };
      link = l;
      if (!o.consoleState.forced) {
        o.consoleState.device = "Bluetooth";
        consoleAuto = true;
      }
      hooks.linkUp();
      rt.emit(NRF, "connect", [central.address]);
      return {
        get connected() {
          return l.up;
        },
        get txPending() {
          return l.up ? pending(l) : 0;
        },
        get txStalledMs() {
          return l.stalledMs;
        },
        write(bytes: Uint8Array): boolean {
          if (!l.up || rt.dead) return false;
          for (let i = 0; i < bytes.length && l.up; i += NUS_PAYLOAD_BYTES)
            receive(bytesToString(bytes.subarray(i, i + NUS_PAYLOAD_BYTES)));
          return true;
        },
        disconnect(reason = HCI_REMOTE_USER_TERMINATED): void {
          end(l, reason, null, false);
        }
      };
    },
    shutdown(): void {
      if (link !== null) end(link, null, HCI_CONNECTION_TIMEOUT, true);
    }
  };
}
