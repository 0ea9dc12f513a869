import { ExposureKey } from "../keys/types";
import { keyProblem } from "../keys/validate";

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

function buffer(bytes: number, shared: boolean): ArrayBufferLike {
  return shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
}

/**
 * Keys must pass keyProblem (matchExposures skips the rest): the hot loop
 * keeps interval numbers in Int32Arrays, which keyProblem's bounds fit. A key
 * that does not is a KeyFormatError here, for callers that pack directly.
 */
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
    const problem = keyProblem(k);
    if (problem) throw new KeyFormatError(i, problem);
    p.data.set(k.keyData, 16 * i);
    p.start[i] = k.rollingStartIntervalNumber;
    p.period[i] = k.rollingPeriod;
  }
  return p;
}
