/**
 * What the token transmits: `NRF.setAdvertising`, the address, the TX power,
 * `sleep`/`wake`. Every change of what is on the air is reported to the
 * world's RadioPort.
 *
 * Facts modelled (see docs/simulator-espruino.md for each):
 * - raw advertising data (array/Uint8Array ≤ 31 bytes) is sent verbatim; the
 *   object form is built as advert-packet.ts describes; the interval is
 *   clamped to 20..10240 ms in 0.625 ms units; non-connectable advertising
 *   below 100 ms is refused by the radio (INVALID_PARAM);
 * - connectable:true + scannable:false selects directed advertising, which
 *   needs a peer address: the emulation refuses it outright so that the
 *   mistake shows in a test rather than as a token nobody hears;
 * - setAddress restarts the stack (advertising carries on with the new
 *   address); while connected the restart is queued until the disconnect;
 *   a "random" address must be random static (top two bits 11);
 * - advertising pauses while a central is connected (unless whenConnected);
 * - sleep() stops advertising and drops a connection; wake() resumes.
 */
import type { BoardConfig } from "../../build/boards";
import type { AdvertState, RadioPort } from "../types";
import { BLE_ERROR_GAP_INVALID_BLE_ADDR, MAX_ADV_BYTES, NRF_ERROR_INVALID_PARAM, buildAdvertisingData } from "./advert-packet";
import type { TokenRuntime } from "./runtime";
import { toBytes } from "./values";

/** Espruino's default advertising interval. */
export const DEFAULT_ADVERT_INTERVAL_MS = 375;

const ADDRESS_RE = /^([0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5})(?: (public|random))?$/;

/** What advertising needs from the rest of the stack (wired by nrf-module.ts). */
export interface AdvertisingHooks {
  /** A central is connected now. */
  connected(): boolean;
  /** NRF.sleep() drops the connection (the token ends it). */
  dropConnection(): void;
  /** The stack restarted under a new address: a running scan is reported again. */
  stackRestarted(): void;
  /** Add radio time up to now to the energy counters, before what is on the air changes. */
  accrue(): void;
  /** A BLE error as Espruino throws it, made in the token's realm. */
  bleError(code: number, name: string): Error;
}

export interface Advertising {
  /** The address on the air now ("c1:…:66 random"). */
  readonly address: string;
  readonly intervalMs: number;
  /** Whether the last state reported to the radio was an advert (energy model). */
  readonly onAir: boolean;
  /** A central could connect now: connectable advertising, awake, powered. */
  acceptsConnection(): boolean;
  /** Report what is on the air now (after a connect or a state change elsewhere). */
  report(): void;
  /** After a disconnect: a queued address change restarts the stack, else advertising resumes. */
  resumeAfterDisconnect(): void;
  /** The raw advertising data last set (memory model); undefined for the object form or none. */
  held(): unknown;
  /** Power cut or reset: nothing is on the air any more (nrf-module.ts tells the radio). */
  shutdown(): void;
}

export interface AdvertisingOptions {
  board: BoardConfig;
  rt: TokenRuntime;
  radio: RadioPort;
  factoryAddress: string;
}

export function installAdvertising(NRF: Record<string, unknown>, o: AdvertisingOptions, hooks: AdvertisingHooks): Advertising {
  const { board, rt, radio } = o;
  const R = rt.realm.intrinsics;

  let address = `${o.factoryAddress} random`;
  let pendingAddress: string | null = null;
  let txPowerDbm = 0;
  let deviceName = `${board.name} ${o.factoryAddress.slice(12, 14)}${o.factoryAddress.slice(15, 17)}`;
  let packet = buildAdvertisingData(undefined, undefined, deviceName);
  let intervalMs = DEFAULT_ADVERT_INTERVAL_MS;
  let connectable = true;
  let scannable = true;
  let whenConnected = false;
  let sleeping = false;
  let advRaw: unknown = undefined;
  let onAir = false;

  const state = (): AdvertState | null =>
    rt.dead || sleeping || (hooks.connected() && !whenConnected)
      ? null
      : { packet, intervalMs, address, txPowerDbm, connectable, scannable };

  const report = (): void => {
    hooks.accrue();
    const s = state();
    onAir = s !== null;
    radio.advertising(s);
  };

  const restartStack = (): void => {
    if (pendingAddress !== null) {
      address = pendingAddress;
      pendingAddress = null;
    }
    report();
    hooks.stackRestarted();
  };

  NRF.setAdvertising = (data: unknown, options?: unknown): void => {
    rt.guard();
    if (options !== undefined && (options === null || typeof options !== "object"))
      throw new R.TypeError(`Expecting 'options' to be object or undefined, got ${typeof options}`);
    const opt = (options ?? {}) as Record<string, unknown>;
    // The name is a setting of the stack: it stays for later object-form adverts too.
    if (typeof opt.name === "string") deviceName = opt.name;
    let next: Uint8Array;
    if (Array.isArray(data) || ArrayBuffer.isView(data) || Object.prototype.toString.call(data) === "[object ArrayBuffer]") {
      next = toBytes(data)!;
      if (next.length > MAX_ADV_BYTES) throw hooks.bleError(0xc, "DATA_SIZE");
      advRaw = data;
    } else if (data === undefined || (data !== null && typeof data === "object")) {
      try {
        next = buildAdvertisingData(data as Record<string, unknown> | undefined, opt, deviceName);
        advRaw = data;
      } catch (e) {
        throw e instanceof TypeError ? new R.TypeError(e.message) : new R.Error((e as Error).message);
      }
    } else throw new R.TypeError(`Expecting object, array or undefined, got ${typeof data}`);
    let nextInterval = intervalMs;
    if (opt.interval !== undefined) {
      // The softdevice takes 0.625 ms units, clamped to 0x20..0x4000.
      const units = Math.min(0x4000, Math.max(0x20, Math.floor((Number(opt.interval) * 1000) / 625)));
      nextInterval = (units * 625) / 1000;
    }
    const nextConnectable = opt.connectable === undefined ? connectable : Boolean(opt.connectable);
    const nextScannable = opt.scannable === undefined ? scannable : Boolean(opt.scannable);
    if (nextConnectable && !nextScannable)
      throw new R.Error(
        "connectable:true with scannable:false selects directed advertising (ADV_DIRECT_IND), which needs a peer address; use connectable:false, scannable:false for ADV_NONCONN_IND"
      );
    if (!nextConnectable && nextInterval < 100) throw hooks.bleError(NRF_ERROR_INVALID_PARAM, "INVALID_PARAM");
    packet = next;
    intervalMs = nextInterval;
    connectable = nextConnectable;
    scannable = nextScannable;
    if (opt.whenConnected !== undefined) whenConnected = Boolean(opt.whenConnected);
    report();
  };

  NRF.setAddress = (addr: unknown): void => {
    rt.guard();
    const m = ADDRESS_RE.exec(String(addr));
    if (!m) throw new R.Error("Expecting a mac address of the form aa:bb:cc:dd:ee:ff");
    const type = m[2] ?? "public";
    if (type === "random" && (parseInt(m[1].slice(0, 2), 16) & 0xc0) !== 0xc0)
      throw hooks.bleError(BLE_ERROR_GAP_INVALID_BLE_ADDR, "INVALID_BLE_ADDR");
    pendingAddress = `${m[1].toLowerCase()} ${type}`;
    if (hooks.connected()) {
      rt.print("BLE Connected, queueing BLE restart for later");
      return;
    }
    restartStack();
  };
  NRF.getAddress = (current?: unknown): string => {
    rt.guard();
    return current === true ? address : o.factoryAddress;
  };
  NRF.setTxPower = (dbm: unknown): void => {
    rt.guard();
    const v = Number(dbm);
    if (board.radio.txPowers.indexOf(v) < 0) throw hooks.bleError(NRF_ERROR_INVALID_PARAM, "INVALID_PARAM");
    txPowerDbm = v;
    report();
  };
  NRF.sleep = (): void => {
    rt.guard();
    sleeping = true;
    if (hooks.connected()) hooks.dropConnection();
    report();
  };
  NRF.wake = (): void => {
    rt.guard();
    sleeping = false;
    report();
  };
  NRF.restart = (): void => {
    rt.guard();
    if (hooks.connected()) rt.print("BLE Connected, queueing BLE restart for later");
    else restartStack();
  };
  NRF.setScanResponse = (): void => rt.guard();

  return {
    get address() {
      return address;
    },
    get intervalMs() {
      return intervalMs;
    },
    get onAir() {
      return onAir;
    },
    acceptsConnection: () => !rt.dead && !sleeping && connectable,
    report,
    resumeAfterDisconnect(): void {
      if (pendingAddress !== null) restartStack();
      else report();
    },
    held: () => advRaw,
    shutdown(): void {
      onAir = false;
    }
  };
}
