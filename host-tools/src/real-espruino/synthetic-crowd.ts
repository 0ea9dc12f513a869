import { decodeRecord, encodeRecord, LogRecord } from "../../../firmware/src/wire/log-record";

/**
 * The host's copy of the crowd `stand-ins.js` delivers in a scan window (its
 * `__h.sd` and `__h.rssi`), and the log records the firmware must make of it:
 * one per GAEN device whose peak reaches the logging floor, in order of first
 * arrival, until the scan table is full; packets of devices that find no slot
 * are counted as dropped; the window ends after the firmware's packet limit.
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

/**
 * Packet by packet, in the order the stand-ins deliver them (round after
 * round): the first `windowPackets` at or above the floor are processed, the
 * next one ends the window.
 */
export function expectedScan(
  seed: number,
  devices: number,
  rounds: number,
  floorDbm: number,
  tableSlots: number,
  windowPackets: number
): ExpectedScan {
  const rows = new Map<number, number[]>();
  let dropped = 0;
  let packets = 0;
  for (let r = 0; r < rounds; r++)
    for (let k = 0; k < devices; k++) {
      const rssi = crowdRssi(k, r);
      if (rssi < floorDbm) continue;
      if (++packets > windowPackets) return records(rows, seed, dropped);
      const row = rows.get(k);
      if (row) row.push(rssi);
      else if (rows.size === tableSlots) dropped++;
      else rows.set(k, [rssi]);
    }
  return records(rows, seed, dropped);
}

function records(rows: Map<number, number[]>, seed: number, dropped: number): ExpectedScan {
  const out: LogRecord[] = [];
  for (const [k, rssi] of rows) {
    const key = crowdServiceData(k, seed);
    key[5] = key[17];
    const mean = rssi.reduce((a, b) => a + b, 0) / rssi.length;
    out.push(decodeRecord(encodeRecord(key, 0, 0, mean, Math.max(...rssi), rssi.length), 0)!);
  }
  return { records: out, dropped };
}
