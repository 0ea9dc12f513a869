import { decodeRecord, encodeRecord, LogRecord } from "../../../firmware/src/wire/log-record";

/**
 * The host's copy of the crowd `stand-ins.js` delivers in a scan window (its
 * `__h.sd` and `__h.rssi`), and the log records the firmware must make of it:
 * one per GAEN device whose peak reaches the logging floor, in order of first
 * arrival, until the scan table is full; packets of devices that find no slot
 * are counted as dropped.
 */
export function crowdServiceData(k: number, seed: number): Uint8Array {
  const d = new Uint8Array(20);
  d[0] = k & 255;
  d[1] = (k >> 8) & 255;
  d[2] = seed & 255;
  for (let i = 3; i < 20; i++) d[i] = (k * 31 + i * 7 + seed * 13) & 255;
  return d;
}

export function crowdRssi(k: number, round: number): number {
  return k % 10 === 9 ? -75 - (round % 3) : -40 - (k % 20) - (round % 3);
}

export interface ExpectedScan {
  /** Records as the log stores them (prefix, AEM byte, quantised RSSI, count); minute 0. */
  records: LogRecord[];
  /** Packets the full table turned away. */
  dropped: number;
}

export function expectedScan(seed: number, devices: number, rounds: number, floorDbm: number, tableSlots: number): ExpectedScan {
  const records: LogRecord[] = [];
  let dropped = 0;
  for (let k = 0; k < devices; k++) {
    const rssi = Array.from({ length: rounds }, (_, r) => crowdRssi(k, r)).filter((x) => x >= floorDbm);
    if (!rssi.length) continue;
    if (records.length === tableSlots) {
      dropped += rssi.length;
      continue;
    }
    const key = crowdServiceData(k, seed);
    key[5] = key[17];
    const mean = rssi.reduce((a, b) => a + b, 0) / rssi.length;
    records.push(decodeRecord(encodeRecord(key, 0, 0, mean, Math.max(...rssi), rssi.length), 0)!);
  }
  return { records, dropped };
}
