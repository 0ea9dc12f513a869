/**
 * Advertising packets: building the object form of `NRF.setAdvertising` and
 * parsing a received packet into the fields of Espruino's BluetoothDevice.
 *
 * Object-form layout, as espruino.md records for 2v26+: flags (0x06 unless
 * `discoverable:false` → 0x05), service data (0x16) for each key with a
 * value, the complete 16-bit UUID list (0x03) for keys whose value is
 * undefined, manufacturer data (0xFF, company 0x0590 unless `manufacturer`
 * says otherwise), then the name (0x09, or shortened 0x08 to fit). A packet
 * that cannot fit 31 bytes without its name fails like the softdevice does
 * (DATA_SIZE).
 */
import { AD_SERVICE_DATA_16, forEachAdStructure } from "../../../../firmware/src/wire/advert";
import { toBytes } from "./values";

export const MAX_ADV_BYTES = 31;
export const ESPRUINO_COMPANY_ID = 0x0590;

export class BleError extends Error {
  constructor(
    readonly code: number,
    readonly codeName: string
  ) {
    super(`Got BLE error 0x${code.toString(16)} ${codeName}`);
    this.name = "BleError";
  }
}

export const NRF_ERROR_INVALID_PARAM = 0x7;
export const NRF_ERROR_DATA_SIZE = 0xc;
export const BLE_ERROR_GAP_INVALID_BLE_ADDR = 0x3202;

export interface AdvertisingOptions {
  showName?: unknown;
  discoverable?: unknown;
  manufacturer?: unknown;
  manufacturerData?: unknown;
}

/** A service UUID key: "180f"/"180F"/6159 → 16-bit; a 36-char string → 128-bit bytes (little-endian). */
export function uuidBytes(key: string | number): Uint8Array {
  if (typeof key === "number" || (/^\d+$/.test(key) && key.length !== 4)) {
    const n = Number(key);
    if (!(n >= 0 && n <= 0xffff)) throw new Error(`Invalid Service UUID: ${key}`);
    return new Uint8Array([n & 0xff, n >> 8]);
  }
  if (/^[0-9a-fA-F]{4}$/.test(key)) {
    const n = parseInt(key, 16);
    return new Uint8Array([n & 0xff, n >> 8]);
  }
  const hex = key.replace(/-/g, "");
  if (/^[0-9a-fA-F]{32}$/.test(hex)) {
    const out = new Uint8Array(16);
    for (let i = 0; i < 16; i++) out[15 - i] = parseInt(hex.substr(i * 2, 2), 16);
    return out;
  }
  throw new Error(`Invalid Service UUID: ${key}`);
}

function field(type: number, data: Uint8Array): number[] {
  return [data.length + 1, type, ...data];
}

/** The packet Espruino builds for the object form of setAdvertising. */
export function buildAdvertisingData(
  data: Record<string, unknown> | undefined,
  options: AdvertisingOptions | undefined,
  deviceName: string
): Uint8Array {
  const o = options ?? {};
  const out: number[] = [];
  out.push(...field(0x01, new Uint8Array([o.discoverable === false ? 0x05 : 0x06])));
  const listed: Uint8Array[] = [];
  if (data) {
    for (const key of Object.keys(data)) {
      const uuid = uuidBytes(key);
      const value = data[key];
      if (value === undefined) {
        listed.push(uuid);
        continue;
      }
      const bytes = typeof value === "number" ? new Uint8Array([value & 0xff]) : (toBytes(value) ?? new Uint8Array(0));
      if (uuid.length !== 2) throw new BleError(NRF_ERROR_INVALID_PARAM, "INVALID_PARAM");
      const sd = new Uint8Array(2 + bytes.length);
      sd.set(uuid, 0);
      sd.set(bytes, 2);
      out.push(...field(0x16, sd));
    }
  }
  const short = listed.filter((u) => u.length === 2);
  const long = listed.filter((u) => u.length === 16);
  if (short.length) {
    const b = new Uint8Array(short.length * 2);
    short.forEach((u, i) => b.set(u, i * 2));
    out.push(...field(0x03, b));
  }
  if (long.length) {
    const b = new Uint8Array(long.length * 16);
    long.forEach((u, i) => b.set(u, i * 16));
    out.push(...field(0x07, b));
  }
  if (o.manufacturerData !== undefined) {
    const md = toBytes(o.manufacturerData) ?? new Uint8Array(0);
    if (md.length) {
      const company = typeof o.manufacturer === "number" ? o.manufacturer : ESPRUINO_COMPANY_ID;
      const b = new Uint8Array(2 + md.length);
      b[0] = company & 0xff;
      b[1] = (company >> 8) & 0xff;
      b.set(md, 2);
      out.push(...field(0xff, b));
    }
  } else if (o.manufacturer !== undefined) {
    throw new TypeError("'manufacturer' specified without 'manufacturerdata'");
  }
  if (out.length > MAX_ADV_BYTES) throw new BleError(NRF_ERROR_DATA_SIZE, "DATA_SIZE");
  if (o.showName !== false && deviceName.length > 0) {
    const room = MAX_ADV_BYTES - out.length - 2;
    if (room > 0) {
      const full = deviceName.length <= room;
      const name = toBytes(full ? deviceName : deviceName.slice(0, room))!;
      out.push(...field(full ? 0x09 : 0x08, name));
    }
  }
  return new Uint8Array(out);
}

/** What a scanner learns from one advertising packet (host values; the NRF binding wraps them). */
export interface ParsedAdvert {
  services?: string[];
  serviceData?: Array<[string, Uint8Array]>;
  manufacturer?: number;
  manufacturerData?: Uint8Array;
  name?: string;
  txPower?: number;
}

const hex2 = (n: number): string => (n < 16 ? "0" : "") + n.toString(16);

function uuid16(b: Uint8Array, i: number): string {
  return hex2(b[i + 1]) + hex2(b[i]);
}

function uuid128(b: Uint8Array, i: number): string {
  let s = "";
  for (let k = 15; k >= 0; k--) {
    s += hex2(b[i + k]);
    if (k === 12 || k === 10 || k === 8 || k === 6) s += "-";
  }
  return s;
}

/**
 * The fields Espruino's BluetoothDevice gives for a packet. The AD structures
 * are walked by the token's own wire code (so the emulated scanner and the
 * host agree on which packets carry what); a malformed tail is ignored, as a
 * scanner does.
 */
export function parseAdvert(p: Uint8Array): ParsedAdvert {
  const r: ParsedAdvert = {};
  forEachAdStructure(p, (type, start, end) => {
    switch (type) {
      case 0x02:
      case 0x03:
        for (let k = start; k + 1 < end; k += 2) (r.services ??= []).push(uuid16(p, k));
        break;
      case 0x06:
      case 0x07:
        for (let k = start; k + 15 < end; k += 16) (r.services ??= []).push(uuid128(p, k));
        break;
      case 0x08:
      case 0x09: {
        let s = "";
        for (let k = start; k < end; k++) s += String.fromCharCode(p[k]);
        r.name = s;
        break;
      }
      case 0x0a:
        if (end > start) r.txPower = (p[start] << 24) >> 24;
        break;
      case AD_SERVICE_DATA_16:
        if (end - start >= 2) (r.serviceData ??= []).push([uuid16(p, start), p.slice(start + 2, end)]);
        break;
      case 0xff:
        if (end - start >= 2) {
          r.manufacturer = p[start] | (p[start + 1] << 8);
          r.manufacturerData = p.slice(start + 2, end);
        }
        break;
      default:
        break;
    }
  });
  return r;
}
