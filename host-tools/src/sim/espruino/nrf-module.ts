/**
 * `NRF` and `Bluetooth`: what the token puts on the air and what it hears.
 * Every change of what is on the air is reported to the world's RadioPort;
 * received packets come back through `deliver`.
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
 * - setScan(cb, {filters}) delivers device objects with id, rssi, data,
 *   services, serviceData, manufacturer/manufacturerData, name; setScan()
 *   without a callback stops; findDevices scans for `timeout` ms then stops;
 * - sleep() stops advertising and drops a connection; wake() resumes.
 */
import type { BoardConfig } from "../../build/boards";
import type { AdvertState, RadioPort, ReceivedAdvert, ScanState } from "../types";
import {
  BLE_ERROR_GAP_INVALID_BLE_ADDR,
  BleError,
  MAX_ADV_BYTES,
  NRF_ERROR_INVALID_PARAM,
  ParsedAdvert,
  buildAdvertisingData,
  parseAdvert
} from "./advert-packet";
import type { ConsoleState } from "./e-module";
import type { TokenRuntime } from "./runtime";
import { PacketBuffers } from "./scan-buffers";
import { bytesToString, toBytes, toContextArray } from "./values";

/** Espruino's default advertising interval. */
export const DEFAULT_ADVERT_INTERVAL_MS = 375;
/** BLE adds 0..10 ms of random delay to every advertising event: 5 ms on average. */
const MEAN_ADV_DELAY_MS = 5;

interface Filter {
  services?: string[];
  serviceData?: string[];
  name?: string;
  namePrefix?: string;
  id?: string;
  manufacturerData?: number[];
}

export interface NrfModule {
  deliver(advert: ReceivedAdvert): void;
  /** A central connects (the kiosk). False when the token is not connectable now. */
  connect(centralAddress: string): boolean;
  disconnect(reason: number): void;
  /** A connected central writes to the Nordic UART. */
  centralWrite(data: string): void;
  /** Add radio time up to now to the energy counters. */
  accrue(): void;
  /** Put the boot-time default advertising on the air. */
  start(): void;
  /** Stop everything on the air (power cut, reboot). */
  shutdown(): void;
  readonly connected: string | null;
  readonly address: string;
  readonly bluetoothSent: string[];
  /** The scan callback and the filters it was given, as the bundle passed them (memory model). */
  scanHeld(): { cb: unknown; filters: unknown } | null;
  /** The raw advertising data last set (memory model); undefined for the object form or none. */
  advertisingHeld(): unknown;
}

export interface NrfOptions {
  board: BoardConfig;
  rt: TokenRuntime;
  radio: RadioPort;
  factoryAddress: string;
  consoleState: ConsoleState;
  g: Record<string, unknown>;
  /** Run console input as JavaScript (console on Bluetooth). */
  evalConsole(code: string): void;
}

/**
 * Parsed packets by identity: the world hands the same (never mutated) packet
 * to every receiver of one advert, so it is parsed once, not once per token.
 */
const parsedCache = new WeakMap<Uint8Array, ParsedAdvert>();
function parsedOf(packet: Uint8Array): ParsedAdvert {
  let p = parsedCache.get(packet);
  if (!p) parsedCache.set(packet, (p = parseAdvert(packet)));
  return p;
}

const ADDRESS_RE = /^([0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5})(?: (public|random))?$/;

function lowerFilters(raw: unknown): Filter[] {
  if (!Array.isArray(raw)) return [];
  return raw.map((f: Record<string, unknown>) => ({
    services: Array.isArray(f.services) ? (f.services as unknown[]).map((s) => String(s).toLowerCase()) : undefined,
    serviceData: f.serviceData && typeof f.serviceData === "object" ? Object.keys(f.serviceData).map((s) => s.toLowerCase()) : undefined,
    name: typeof f.name === "string" ? f.name : undefined,
    namePrefix: typeof f.namePrefix === "string" ? f.namePrefix : undefined,
    id: typeof f.id === "string" ? f.id : undefined,
    manufacturerData: f.manufacturerData && typeof f.manufacturerData === "object" ? Object.keys(f.manufacturerData).map(Number) : undefined
  }));
}

export function installNrf(o: NrfOptions): NrfModule {
  const { board, rt, radio, g } = o;
  const R = rt.realm.intrinsics;
  const NRF = new R.Object() as Record<string, unknown>;
  const Bluetooth = new R.Object() as Record<string, unknown>;

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
  let connected: string | null = null;
  let consoleAuto = false;
  let consoleLine = "";
  const bluetoothSent: string[] = [];

  let scanCb: unknown = undefined;
  let scanFiltersRaw: unknown = undefined;
  let advRaw: unknown = undefined;
  const packetBuffers = new PacketBuffers(R);
  let scanFilters: Filter[] = [];
  let scanActive = false;
  let scanDuty = 1;
  let findEvent = 0;

  // Energy accrual: radio time is added up between state changes.
  let advSince = rt.scheduler.now;
  let advOnAir = false;
  let scanSince = rt.scheduler.now;
  let scanOn = false;

  const accrue = (): void => {
    const now = rt.scheduler.now;
    if (advOnAir) rt.counters.advertEvents += ((now - advSince) * 1000) / (intervalMs + MEAN_ADV_DELAY_MS);
    if (scanOn) rt.counters.scanMs += (now - scanSince) * 1000 * scanDuty;
    advSince = now;
    scanSince = now;
  };

  const advertState = (): AdvertState | null =>
    rt.dead || sleeping || (connected !== null && !whenConnected)
      ? null
      : { packet, intervalMs, address, txPowerDbm, connectable, scannable };

  const reportAdvertising = (): void => {
    accrue();
    const s = advertState();
    advOnAir = s !== null;
    radio.advertising(s);
  };

  const scanState = (): ScanState | null => {
    if (rt.dead || scanCb === undefined) return null;
    const services: string[] = [];
    for (const f of scanFilters) {
      if (!f.services) return { active: scanActive, services: [] };
      for (const s of f.services) if (services.indexOf(s) < 0) services.push(s);
    }
    return { active: scanActive, services };
  };

  const reportScanning = (): void => {
    accrue();
    const s = scanState();
    scanOn = s !== null;
    radio.scanning(s);
  };

  const bleError = (code: number, name: string): Error => new R.Error(new BleError(code, name).message);

  NRF.setAdvertising = (data: unknown, options?: unknown): void => {
    rt.guard();
    if (options !== undefined && (options === null || typeof options !== "object")) throw new R.TypeError(`Expecting 'options' to be object or undefined, got ${typeof options}`);
    const opt = (options ?? {}) as Record<string, unknown>;
    // The name is a setting of the stack: it stays for later object-form adverts too.
    if (typeof opt.name === "string") deviceName = opt.name;
    let next: Uint8Array;
    if (Array.isArray(data) || ArrayBuffer.isView(data) || Object.prototype.toString.call(data) === "[object ArrayBuffer]") {
      next = toBytes(data)!;
      if (next.length > MAX_ADV_BYTES) throw bleError(0xc, "DATA_SIZE");
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
      throw new R.Error("connectable:true with scannable:false selects directed advertising (ADV_DIRECT_IND), which needs a peer address; use connectable:false, scannable:false for ADV_NONCONN_IND");
    if (!nextConnectable && nextInterval < 100) throw bleError(NRF_ERROR_INVALID_PARAM, "INVALID_PARAM");
    packet = next;
    intervalMs = nextInterval;
    connectable = nextConnectable;
    scannable = nextScannable;
    if (opt.whenConnected !== undefined) whenConnected = Boolean(opt.whenConnected);
    reportAdvertising();
  };

  const restartStack = (): void => {
    if (pendingAddress !== null) {
      address = pendingAddress;
      pendingAddress = null;
    }
    reportAdvertising();
    if (scanCb !== undefined) reportScanning();
  };

  NRF.setAddress = (addr: unknown): void => {
    rt.guard();
    const m = ADDRESS_RE.exec(String(addr));
    if (!m) throw new R.Error("Expecting a mac address of the form aa:bb:cc:dd:ee:ff");
    const type = m[2] ?? "public";
    if (type === "random" && (parseInt(m[1].slice(0, 2), 16) & 0xc0) !== 0xc0) throw bleError(BLE_ERROR_GAP_INVALID_BLE_ADDR, "INVALID_BLE_ADDR");
    pendingAddress = `${m[1].toLowerCase()} ${type}`;
    if (connected !== null) {
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
    if (board.radio.txPowers.indexOf(v) < 0) throw bleError(NRF_ERROR_INVALID_PARAM, "INVALID_PARAM");
    txPowerDbm = v;
    reportAdvertising();
  };

  const stopScan = (): void => {
    scanCb = undefined;
    scanFilters = [];
    scanFiltersRaw = undefined;
    if (findEvent) rt.unschedule(findEvent);
    findEvent = 0;
    reportScanning();
  };
  const startScan = (cb: unknown, options: unknown): void => {
    const opt = (options !== null && typeof options === "object" ? options : {}) as Record<string, unknown>;
    scanCb = cb;
    scanFilters = lowerFilters(opt.filters);
    scanFiltersRaw = opt.filters;
    scanActive = opt.active === true;
    const win = Number(opt.window);
    const int = Number(opt.interval);
    scanDuty = win > 0 && int > 0 ? Math.min(1, win / int) : 1;
    reportScanning();
  };
  NRF.setScan = (cb?: unknown, options?: unknown): void => {
    rt.guard();
    if (findEvent) {
      rt.unschedule(findEvent);
      findEvent = 0;
    }
    if (typeof cb !== "function") stopScan();
    else startScan(cb, options);
  };
  NRF.findDevices = (cb: unknown, options?: unknown): void => {
    rt.guard();
    if (typeof cb !== "function") throw new R.TypeError("Expecting a callback function");
    const opt = typeof options === "number" ? { timeout: options } : ((options ?? {}) as Record<string, unknown>);
    const timeout = Number(opt.timeout) > 0 ? Number(opt.timeout) : 2000;
    const found: Record<string, unknown>[] = [];
    const collector = (d: Record<string, unknown>): void => {
      for (let i = 0; i < found.length; i++)
        if (found[i].id === d.id) {
          found[i] = d;
          return;
        }
      found.push(d);
    };
    if (findEvent) rt.unschedule(findEvent);
    startScan(collector, opt);
    findEvent = rt.schedule(rt.trueAfterMs(timeout), () => {
      findEvent = 0;
      stopScan();
      rt.call(cb, undefined, [toContextArray(R, found)]);
    });
  };

  NRF.sleep = (): void => {
    rt.guard();
    sleeping = true;
    if (connected !== null) disconnect(22);
    reportAdvertising();
  };
  NRF.wake = (): void => {
    rt.guard();
    sleeping = false;
    reportAdvertising();
  };
  NRF.disconnect = (): void => {
    rt.guard();
    if (connected !== null) disconnect(22);
  };
  NRF.restart = (): void => {
    rt.guard();
    if (connected !== null) rt.print("BLE Connected, queueing BLE restart for later");
    else restartStack();
  };
  NRF.setServices = (): void => rt.guard();
  NRF.setSecurity = (): void => rt.guard();
  NRF.setScanResponse = (): void => rt.guard();
  NRF.getBattery = (): number => {
    rt.guard();
    return 3.0;
  };
  g.NRF = NRF;

  Bluetooth.write = (data: unknown): void => {
    rt.guard();
    if (connected === null) return;
    const b = toBytes(typeof data === "number" ? [data] : data);
    if (b) bluetoothSent.push(bytesToString(b));
  };
  Bluetooth.print = (data: unknown): void => (Bluetooth.write as (d: unknown) => void)(String(data));
  Bluetooth.println = (data: unknown): void => (Bluetooth.write as (d: unknown) => void)(String(data) + "\r\n");
  g.Bluetooth = Bluetooth;

  // Index loops, no closures: this runs for every packet a scanning token hears.
  function hasAll(wanted: string[], have: string[] | undefined): boolean {
    for (let i = 0; i < wanted.length; i++) if (have === undefined || have.indexOf(wanted[i]) < 0) return false;
    return true;
  }
  function hasAllData(wanted: string[], have: Array<[string, Uint8Array]> | undefined): boolean {
    for (let i = 0; i < wanted.length; i++) {
      let found = false;
      for (let j = 0; have !== undefined && j < have.length && !found; j++) found = have[j][0] === wanted[i];
      if (!found) return false;
    }
    return true;
  }
  function matches(f: Filter, id: string, p: ParsedAdvert): boolean {
    if (f.services && !hasAll(f.services, p.services)) return false;
    if (f.serviceData && !hasAllData(f.serviceData, p.serviceData)) return false;
    if (f.name !== undefined && p.name !== f.name) return false;
    if (f.namePrefix !== undefined && (p.name === undefined || p.name.indexOf(f.namePrefix) !== 0)) return false;
    if (f.id !== undefined && id !== f.id) return false;
    if (f.manufacturerData && (p.manufacturer === undefined || f.manufacturerData.indexOf(p.manufacturer) < 0)) return false;
    return true;
  }

  function disconnect(reason: number): void {
    connected = null;
    if (consoleAuto) {
      consoleAuto = false;
      o.consoleState.device = null;
    }
    rt.emit(NRF, "disconnect", [reason]);
    if (pendingAddress !== null) restartStack();
    else reportAdvertising();
  }

  return {
    get connected() {
      return connected;
    },
    get address() {
      return address;
    },
    bluetoothSent,
    scanHeld: () => (scanCb === undefined ? null : { cb: scanCb, filters: scanFiltersRaw }),
    advertisingHeld: () => advRaw,
    accrue,
    deliver(advert: ReceivedAdvert): void {
      if (rt.dead || scanCb === undefined) return;
      const p = parsedOf(advert.packet);
      if (scanFilters.length) {
        let any = false;
        for (let i = 0; i < scanFilters.length && !any; i++) any = matches(scanFilters[i], advert.address, p);
        if (!any) return;
      }
      // A fresh object per delivery, as Espruino makes a new BluetoothDevice each time (its buffers: see scan-buffers.ts).
      const bufs = packetBuffers.get(advert.packet, p);
      const d = new R.Object() as Record<string, unknown>;
      d.id = advert.address;
      d.rssi = advert.rssi;
      d.data = bufs.data;
      if (p.services) d.services = toContextArray(R, p.services);
      if (p.serviceData) {
        const sd = new R.Object() as Record<string, unknown>;
        for (let i = 0; i < p.serviceData.length; i++) sd[p.serviceData[i][0]] = bufs.serviceData[i];
        d.serviceData = sd;
      }
      if (p.manufacturer !== undefined) {
        d.manufacturer = p.manufacturer;
        d.manufacturerData = bufs.manufacturerData;
      }
      if (p.name !== undefined) d.name = p.name;
      if (p.txPower !== undefined) d.txPower = p.txPower;
      rt.call(scanCb, undefined, [d]);
    },
    connect(central: string): boolean {
      if (rt.dead || sleeping || connected !== null || !connectable) return false;
      connected = central;
      if (!o.consoleState.forced) {
        o.consoleState.device = "Bluetooth";
        consoleAuto = true;
      }
      reportAdvertising();
      rt.emit(NRF, "connect", [central]);
      return true;
    },
    disconnect(reason: number): void {
      if (rt.dead || connected === null) return;
      disconnect(reason);
    },
    centralWrite(data: string): void {
      if (rt.dead || connected === null) return;
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
    },
    start(): void {
      reportAdvertising();
    },
    shutdown(): void {
      accrue();
      advOnAir = false;
      scanOn = false;
      connected = null;
      scanCb = undefined;
      radio.advertising(null);
      radio.scanning(null);
    }
  };
}
