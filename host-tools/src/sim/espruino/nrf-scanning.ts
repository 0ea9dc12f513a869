/**
 * What the token hears: `NRF.setScan` and `NRF.findDevices`. The scan state
 * is reported to the world's RadioPort; received packets come back through
 * `deliver`.
 *
 * Facts modelled (see docs/simulator-espruino.md for each):
 * - setScan(cb, {filters}) delivers device objects with id, rssi, data,
 *   services, serviceData, manufacturer/manufacturerData, name; setScan()
 *   without a callback stops; findDevices scans for `timeout` ms then stops;
 * - a device passes the filters if any one filter matches all its conditions;
 * - window/interval set the receiver duty cycle counted in `scanMs`.
 */
import type { RadioPort, ReceivedAdvert, ScanState } from "../types";
import { ParsedAdvert, parseAdvert } from "./advert-packet";
import type { TokenRuntime } from "./runtime";
import { PacketBuffers } from "./scan-buffers";
import { toContextArray } from "./values";

interface Filter {
  services?: string[];
  serviceData?: string[];
  name?: string;
  namePrefix?: string;
  id?: string;
  manufacturerData?: number[];
}

/** What scanning needs from the rest of the stack (wired by nrf-module.ts). */
export interface ScanningHooks {
  /** Add radio time up to now to the energy counters, before the receiver state changes. */
  accrue(): void;
}

export interface Scanning {
  /** Whether the last state reported to the radio was a running scan (energy model). */
  readonly on: boolean;
  /** Fraction of the time the receiver is open (window / interval). */
  readonly duty: number;
  /** Hand a received packet to the scan callback (only while scanning). */
  deliver(advert: ReceivedAdvert): void;
  /** The stack restarted (address change): a running scan is reported again. */
  stackRestarted(): void;
  /** The scan callback and the filters it was given, as the bundle passed them (memory model). */
  held(): { cb: unknown; filters: unknown } | null;
  /** Power cut or reset: the receiver is off (nrf-module.ts tells the radio). */
  shutdown(): void;
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

export function installScanning(NRF: Record<string, unknown>, o: { rt: TokenRuntime; radio: RadioPort }, hooks: ScanningHooks): Scanning {
  const { rt, radio } = o;
  const R = rt.realm.intrinsics;

  let scanCb: unknown = undefined;
  let scanFiltersRaw: unknown = undefined;
  const packetBuffers = new PacketBuffers(R);
  let scanFilters: Filter[] = [];
  let scanActive = false;
  let scanDuty = 1;
  let findEvent = 0;
  let on = false;

  const state = (): ScanState | null => {
    if (rt.dead || scanCb === undefined) return null;
    const services: string[] = [];
    for (const f of scanFilters) {
      if (!f.services) return { active: scanActive, services: [] };
      for (const s of f.services) if (services.indexOf(s) < 0) services.push(s);
    }
    return { active: scanActive, services };
  };

  const report = (): void => {
    hooks.accrue();
    const s = state();
    on = s !== null;
    radio.scanning(s);
  };

  const stopScan = (): void => {
    scanCb = undefined;
    scanFilters = [];
    scanFiltersRaw = undefined;
    if (findEvent) rt.unschedule(findEvent);
    findEvent = 0;
    report();
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
    report();
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

  return {
    get on() {
      return on;
    },
    get duty() {
      return scanDuty;
    },
    held: () => (scanCb === undefined ? null : { cb: scanCb, filters: scanFiltersRaw }),
    stackRestarted(): void {
      if (scanCb !== undefined) report();
    },
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
    shutdown(): void {
      on = false;
      scanCb = undefined;
    }
  };
}
