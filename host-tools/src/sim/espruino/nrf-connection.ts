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
 *   most one notification per connection event: 20 bytes at the default ATT
 *   MTU. A write that does not fit blocks the interpreter until the radio
 *   made room: here the bytes are queued at once (they reach the central at
 *   the same times) and the blocked time is counted in `txStalledMs`.
 * - Only for a central that asks (NegotiatingCentral; sources in
 *   docs/simulator-espruino.md, "Sync connections"): the ATT MTU exchange
 *   (the board's notifications and writes grow to MTU − 3 bytes from the
 *   second connection event) and Espruino's request for a 7.5 ms interval
 *   100 ms after the connection, in effect at the instant the central sets.
 */
import type { BoardConfig } from "../../build/boards";
import { type Central, type CentralLink, HCI_CONNECTION_TIMEOUT, HCI_LOCAL_HOST_TERMINATED, HCI_REMOTE_USER_TERMINATED } from "../types";
import type { ConsoleState } from "./e-module";
import type { TokenRuntime } from "./runtime";
import { bytesToString, flattenBytes } from "./values";

/** Espruino's transmit ring on nRF52 boards has 128 entries, one always left empty. */
export const TX_BUFFER_BYTES = 127;
/** One Nordic UART notification (or ATT write) at the default ATT MTU of 23. */
export const NUS_PAYLOAD_BYTES = 20;
/** The ATT MTU before an exchange; a notification or write carries MTU − 3 bytes (the ATT opcode and handle). */
export const DEFAULT_ATT_MTU = 23;
const ATT_HEADER_BYTES = 3;
/**
 * The largest ATT MTU each board's Espruino build answers an exchange with
 * (`NRF_BLE_MAX_MTU_SIZE` in its boards/*.py): 53 on Puck.js and Pixl.js, 131
 * on Bangle.js 2; MDBT42Q's build was not found with the define, so 23 there
 * (unconfirmed). docs/simulator-espruino.md, "ATT MTU and payload per notification".
 */
export const BOARD_MAX_ATT_MTU: Readonly<Record<string, number>> = { puckjs: 53, pixljs: 53, banglejs2: 131, mdbt42q: DEFAULT_ATT_MTU };
/** The connection intervals BLE allows; Espruino asks for the fastest as soon as a central connects. */
const MIN_INTERVAL_MS = 7.5;
const MAX_INTERVAL_MS = 4000;
/** Nordic's connection-parameters module sends Espruino's request this long after the connection (`FIRST_CONN_PARAMS_UPDATE_DELAY`). */
const PARAM_REQUEST_DELAY_S = 0.1;
/** The central's update takes effect at an instant at least this many connection events after it sent it (the Core spec's minimum). */
const UPDATE_INSTANT_EVENTS = 6;
/** Slack when comparing two times, seconds. */
const EVENT_EPSILON = 1e-6;
/**
 * Slack when finding the connection event due at "now", in events: a Unix
 * time near 2^31 s holds only ~2.4e-7 s of precision (3e-5 of a 7.5 ms
 * event), so "now is event k" can come out as k − 0.00003 and must still
 * count as k, or every later event is scheduled at now and a whole session
 * takes no time at all.
 */
const EVENT_SLACK = 1e-3;

/** What the connection needs from the rest of the stack (wired by nrf-module.ts). */
export interface ConnectionHooks {
  /** Connectable advertising is on the air (and the token is awake and powered). */
  acceptsConnection(): boolean;
  /** The link came up or went down: advertising pauses or resumes. */
  linkUp(): void;
  linkDown(): void;
}

/**
 * A central that negotiates what a BlueZ kiosk negotiates with a real token.
 * A plain Central (sim/types.ts) gets neither: the MTU stays 23 and the
 * interval the one it connected at.
 */
export interface NegotiatingCentral extends Central {
  /** The ATT MTU it asks for in an Exchange MTU Request as it connects (BlueZ: 517); absent, no exchange. */
  readonly attMtu?: number;
  /** It grants Espruino's request for a 7.5 ms interval (Linux does: 7.5 ms is within its 30–50 ms maximum). */
  readonly acceptsIntervalUpdate?: boolean;
  /** The exchange completed: notifications and writes now carry up to `payloadBytes` (MTU − 3). */
  mtuChanged?(mtu: number, payloadBytes: number): void;
  /** The connection interval changed at this connection event (the controller's LE Connection Update Complete). */
  intervalChanged?(intervalMs: number): void;
}

export interface ConnectionOptions {
  board: BoardConfig;
  rt: TokenRuntime;
  consoleState: ConsoleState;
  /** Run console input as JavaScript (console on Bluetooth). */
  evalConsole(code: string): void;
}

export interface Connection {
  /** The connected central's address, or null. */
  readonly connected: string | null;
  connect(central: NegotiatingCentral): CentralLink | null;
  /** The token ends the link (NRF.disconnect, NRF.sleep). */
  drop(): void;
  /** Power cut or reset: the central notices the silence. */
  shutdown(): void;
}

interface Link {
  readonly central: NegotiatingCentral;
  /** True time of connection event 0 (the connection, or the instant of the last interval change), and one interval, in seconds. */
  start: number;
  interval: number;
  /** Bytes a notification (or a central's ATT write) carries now: ATT MTU − 3. */
  payload: number;
  up: boolean;
  /** Bytes queued for the central; `head` is the next one to send. */
  tx: number[];
  head: number;
  drainEvent: number;
  /** True time drainEvent is due at. */
  drainTime: number;
  endEvent: number;
  endTime: number;
  /** The MTU exchange and the interval update, while pending. */
  paramEvents: number[];
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
  const nextEvent = (l: Link): number => Math.floor((rt.scheduler.now - l.start) / l.interval + EVENT_SLACK) + 1;

  const drainAt = (l: Link, k: number): void => {
    l.drainTime = eventAt(l, k);
    l.drainEvent = rt.schedule(l.drainTime, () => {
      l.drainEvent = 0;
      if (!l.up) return;
      const n = Math.min(l.payload, pending(l));
      const chunk = Uint8Array.from(l.tx.slice(l.head, l.head + n));
      l.head += n;
      if (l.head === l.tx.length) {
        l.tx = [];
        l.head = 0;
      }
      l.central.notified(chunk);
      // The central may have written back, and the firmware answered, meanwhile.
      // (From now, not from k: the interval may have changed since this event was set.)
      if (l.up && pending(l) > 0 && l.drainEvent === 0) drainAt(l, nextEvent(l));
    });
  };

  /** The link ends at its next connection event (the terminate request goes out then). */
  const endAt = (l: Link, k: number): void => {
    l.endTime = eventAt(l, k);
    l.endEvent = rt.schedule(l.endTime, () => {
      l.endEvent = 0;
      end(l, HCI_LOCAL_HOST_TERMINATED, HCI_REMOTE_USER_TERMINATED, false);
    });
  };

  /**
   * What a negotiating central and Espruino agree after the connection: the
   * MTU (request at event 1, the SoftDevice's answer at event 2, used from
   * then on by both ends) and, at a slower interval, 7.5 ms: Espruino's
   * request goes out at the first event 100 ms in, the central sends the
   * update at the next event and it takes effect UPDATE_INSTANT_EVENTS later
   * (0.45 s after connecting at 50 ms).
   */
  const negotiate = (l: Link): void => {
    const c = l.central;
    if (c.attMtu !== undefined) {
      const mtu = Math.min(Math.max(DEFAULT_ATT_MTU, c.attMtu), BOARD_MAX_ATT_MTU[o.board.id] ?? DEFAULT_ATT_MTU);
      l.paramEvents.push(
        rt.schedule(eventAt(l, 2), () => {
          if (!l.up) return;
          l.payload = mtu - ATT_HEADER_BYTES;
          c.mtuChanged?.(mtu, l.payload);
        })
      );
    }
    if (c.acceptsIntervalUpdate && l.interval > MIN_INTERVAL_MS / 1000 + EVENT_EPSILON) {
      const request = Math.ceil(PARAM_REQUEST_DELAY_S / l.interval - EVENT_EPSILON);
      const instant = eventAt(l, request + 1 + UPDATE_INSTANT_EVENTS);
      l.paramEvents.push(
        rt.schedule(instant, () => {
          if (!l.up) return;
          l.start = instant;
          l.interval = MIN_INTERVAL_MS / 1000;
          // What was due at the next event of the old interval goes at the next one of the new.
          if (l.drainEvent && l.drainTime > instant + EVENT_EPSILON) {
            rt.unschedule(l.drainEvent);
            drainAt(l, 1);
          }
          if (l.endEvent && l.endTime > instant + EVENT_EPSILON) {
            rt.unschedule(l.endEvent);
            endAt(l, 1);
          }
          c.intervalChanged?.(MIN_INTERVAL_MS);
        })
      );
    }
  };

  /** The link is gone: `local` is what the token's JS hears, `remote` what the central hears (null: it ended the link itself). */
  const end = (l: Link, local: number | null, remote: number | null, deferRemote: boolean): void => {
    if (!l.up) return;
    l.up = false;
    if (l.drainEvent) rt.unschedule(l.drainEvent);
    if (l.endEvent) rt.unschedule(l.endEvent);
    for (const id of l.paramEvents) rt.unschedule(id);
    l.drainEvent = l.endEvent = 0;
    l.paramEvents = [];
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
      const free = eventAt(l, k + Math.ceil(over / l.payload) - 1);
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
    endAt(l, nextEvent(l));
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
    connect(central: NegotiatingCentral): CentralLink | null {
      if (!(central.intervalMs >= MIN_INTERVAL_MS && central.intervalMs <= MAX_INTERVAL_MS))
        throw new RangeError(`connection interval ${central.intervalMs} ms is outside BLE's ${MIN_INTERVAL_MS}..${MAX_INTERVAL_MS} ms`);
      if (rt.dead || link !== null || !hooks.acceptsConnection()) return null;
      const l: Link = {
        central,
        start: rt.scheduler.now,
        interval: central.intervalMs / 1000,
        payload: NUS_PAYLOAD_BYTES,
        up: true,
        tx: [],
        head: 0,
        drainEvent: 0,
        drainTime: 0,
        endEvent: 0,
        endTime: 0,
        paramEvents: [],
        stalledMs: 0,
        stalledUntil: 0
      };
      link = l;
      negotiate(l);
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
          for (let i = 0; i < bytes.length && l.up; i += l.payload) receive(bytesToString(bytes.subarray(i, i + l.payload)));
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
