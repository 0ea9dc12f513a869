import { ExposureKey } from "../keys/types";
import { TEK_ROLLING_PERIOD } from "./derive";

/**
 * Diagnosis keys as flat typed arrays for the hot loop. With `shared`, the
 * arrays live in SharedArrayBuffers so every worker thread reads the same
 * memory and no key is copied per worker.
 */
export interface PackedKeys {
  count: number;
  /** 16 bytes a key. */
  data: Uint8Array;
  start: Int32Array;
  period: Int32Array;
}

export class KeyFormatError extends RangeError {
  constructor(
    readonly keyIndex: number,
    message: string
  ) {
    super(`diagnosis key #${keyIndex}: ${message}`);
    this.name = "KeyFormatError";
  }
}

/** Rolling period as published: absent or 0 means the proto default of one day. */
export function effectivePeriod(k: ExposureKey): number {
  return k.rollingPeriod > 0 ? k.rollingPeriod : TEK_ROLLING_PERIOD;
}

function buffer(bytes: number, shared: boolean): ArrayBufferLike {
  return shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
}

export function packKeys(keys: readonly ExposureKey[], shared = false): PackedKeys {
  const n = keys.length;
  const p: PackedKeys = {
    count: n,
    data: new Uint8Array(buffer(16 * n, shared)),
    start: new Int32Array(buffer(4 * n, shared)),
    period: new Int32Array(buffer(4 * n, shared))
  };
  for (let i = 0; i < n; i++) {
    const k = keys[i];
    if (!k.keyData || k.keyData.length !== 16)
      throw new KeyFormatError(i, `key data must be 16 bytes, got ${k.keyData ? k.keyData.length : "none"}`);
    const start = k.rollingStartIntervalNumber;
    if (!Number.isInteger(start) || start < 0 || start > 0x7fffffff - 2 * TEK_ROLLING_PERIOD)
      throw new KeyFormatError(i, `rolling start interval ${start} is not a valid interval number`);
    const period = effectivePeriod(k);
    if (!Number.isInteger(period) || period > TEK_ROLLING_PERIOD)
      throw new KeyFormatError(i, `rolling period ${period} is outside 1…${TEK_ROLLING_PERIOD}`);
    p.data.set(k.keyData, 16 * i);
    p.start[i] = start;
    p.period[i] = period;
  }
  return p;
}
