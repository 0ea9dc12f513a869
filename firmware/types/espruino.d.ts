/**
 * Our declarations of the Espruino 2v2x API subset the firmware uses.
 * `@types/espruino` (1.95) predates setScan, Storage and setAddress, so we keep
 * our own. Only `firmware/src/platform.ts` may touch these globals: every other
 * module receives them through the `Platform` seam.
 */

type EspruinoPin = number | string;

interface EspruinoAdvertisingOptions {
  /** ms, 20..10240; non-connectable advertising must be >= 100 ms. */
  interval?: number;
  connectable?: boolean;
  scannable?: boolean;
  showName?: boolean;
  /** The device name (GAP, readable by a connected central), a setting of the stack that stays. */
  name?: string;
  discoverable?: boolean;
  manufacturer?: number | false;
  manufacturerData?: number[];
  whenConnected?: boolean;
}

interface EspruinoBluetoothDevice {
  /** "aa:bb:cc:dd:ee:ff random" or "... public". */
  id: string;
  rssi: number;
  data: ArrayBuffer;
  services?: string[];
  serviceData?: { [uuid: string]: ArrayBuffer };
  manufacturer?: number;
  manufacturerData?: ArrayBuffer;
  name?: string;
}

interface EspruinoScanFilter {
  services?: string[];
  serviceData?: { [uuid: string]: object };
  name?: string;
  namePrefix?: string;
  id?: string;
  manufacturerData?: { [id: number]: object };
}

interface EspruinoScanOptions {
  filters?: EspruinoScanFilter[];
  active?: boolean;
  /** ms */
  window?: number;
  /** ms */
  interval?: number;
  phy?: string;
}

interface EspruinoNRF {
  setAdvertising(data: number[] | Uint8Array | object, options?: EspruinoAdvertisingOptions): void;
  setScan(callback?: (device: EspruinoBluetoothDevice) => void, options?: EspruinoScanOptions): void;
  findDevices(
    callback: (devices: EspruinoBluetoothDevice[]) => void,
    options?: { timeout?: number; filters?: EspruinoScanFilter[]; active?: boolean }
  ): void;
  setAddress(address: string): void;
  getAddress(): string;
  setTxPower(dBm: number): void;
  setServices(services: object, options?: { uart?: boolean; advertise?: string[] }): void;
  setSecurity(options: object): void;
  on(event: "connect", cb: (address: string) => void): void;
  on(event: "disconnect", cb: (reason: number) => void): void;
  disconnect(): void;
  sleep(): void;
  wake(): void;
  getBattery(): number;
}

interface EspruinoE {
  hwRand(): number;
  getBattery(): number;
  setConsole(device: string | null, options?: { force?: boolean }): void;
  lockConsole(): void;
  setPassword(password: string): void;
  enableWatchdog(timeoutSec: number, isAuto?: boolean): void;
  kickWatchdog(): void;
  getTemperature(): number;
  toUint8Array(...data: Array<number | string | ArrayBuffer | Uint8Array | number[]>): Uint8Array;
  on(event: "kill" | "init", cb: () => void): void;
  on(event: "errorFlag", cb: (flags: string[]) => void): void;
  reboot(): void;
}

interface EspruinoStorageFile {
  read(length: number): string | undefined;
  readLine(): string | undefined;
  write(data: string): void;
  erase(): void;
  getLength(): number;
}

interface EspruinoStorage {
  /** Write a file; `size` reserves a fixed-size file on the first write so later writes can go in place at `offset`. */
  write(name: string, data: string | ArrayBuffer | Uint8Array, offset?: number, size?: number): boolean;
  read(name: string, offset?: number, length?: number): string | undefined;
  readArrayBuffer(name: string): ArrayBuffer | undefined;
  readJSON(name: string, noExceptions?: boolean): unknown;
  writeJSON(name: string, data: unknown): boolean;
  erase(name: string): void;
  list(regex?: RegExp | string, filter?: { sf?: boolean }): string[];
  getFree(checkInternalFlash?: boolean): number;
  getStats(): { totalBytes: number; freeBytes: number; fileBytes: number; fileCount: number; trashBytes: number; trashCount: number };
  compact(showMessage?: boolean): void;
  open(name: string, mode: "r" | "w" | "a"): EspruinoStorageFile;
}

interface EspruinoAES {
  encrypt(
    data: ArrayBuffer | Uint8Array | number[],
    key: ArrayBuffer | Uint8Array | number[],
    options?: { mode?: "ECB" | "CBC" | "CTR" | "OFB" | "CFB"; iv?: ArrayBuffer | Uint8Array | number[] }
  ): ArrayBuffer;
  decrypt(
    data: ArrayBuffer | Uint8Array | number[],
    key: ArrayBuffer | Uint8Array | number[],
    options?: { mode?: "ECB" | "CBC" | "CTR" | "OFB" | "CFB"; iv?: ArrayBuffer | Uint8Array | number[] }
  ): ArrayBuffer;
}

interface EspruinoCrypto {
  SHA1(data: ArrayBuffer | Uint8Array | string): ArrayBuffer;
  SHA256?(data: ArrayBuffer | Uint8Array | string): ArrayBuffer;
  AES?: EspruinoAES;
}

interface EspruinoBluetoothSerial {
  on(event: "data", cb: (data: string) => void): void;
  write(data: string | Uint8Array | number[]): void;
  removeAllListeners(event?: string): void;
}

interface EspruinoWatchEvent {
  state: boolean;
  time: number;
  lastTime: number;
}

interface EspruinoGraphics {
  /** Components 0..1. */
  setColor(r: number, g: number, b: number): EspruinoGraphics;
  fillRect(x1: number, y1: number, x2: number, y2: number): EspruinoGraphics;
  getWidth(): number;
  getHeight(): number;
  /** Present on boards with an off-screen buffer. */
  flip?(): void;
}

declare var NRF: EspruinoNRF;
/** The screen, on boards that have one. */
declare var g: EspruinoGraphics;
declare var E: EspruinoE;
declare var Bluetooth: EspruinoBluetoothSerial;
/** `process.memory(false)`: usage figures in JsVars without a garbage collection first. */
declare var process: { memory(gc?: boolean): { free: number; usage: number; total: number } };
declare function getTime(): number;
declare function setTime(seconds: number): void;
declare function digitalWrite(pin: EspruinoPin, value: boolean | number): void;
declare function setWatch(
  cb: (e: EspruinoWatchEvent) => void,
  pin: EspruinoPin,
  options: { repeat?: boolean; edge?: "rising" | "falling" | "both"; debounce?: number }
): number;
declare function clearWatch(id?: number): void;
declare function setTimeout(cb: () => void, ms: number): number;
declare function clearTimeout(id: number): void;
declare function setInterval(cb: () => void, ms: number): number;
declare function clearInterval(id: number): void;
declare function print(...args: unknown[]): void;
/** Espruino's global object: board pins such as LED1 or BTN are properties of it. */
declare var global: { [name: string]: unknown };
