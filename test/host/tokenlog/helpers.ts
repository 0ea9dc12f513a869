import { EspruinoStorage, Flash } from "../../../host-tools/src/sim/espruino";
import {
  FLAG_UTC,
  HEADER_ANCHOR_OFFSET,
  HEADER_BYTES,
  RECORD_BYTES,
  SEGMENT_BYTES,
  encodeAnchor,
  encodeHeader,
  encodeRecord
} from "../../../firmware/src/wire/log-record";

/** Test helpers: segment files built with the firmware's own encoders, and Storage images with the emulated journal. */

/** 2030-02-04T10:00:00Z, on a minute. */
export const BASE = Date.UTC(2030, 1, 4, 10, 0, 0) / 1000;

export interface Rec {
  prefix: number[];
  aem1: number;
  minute: number;
  mean: number;
  max?: number;
  count?: number;
}

export function rec(i: number, minute: number, o: Partial<Rec> = {}): Rec {
  return { prefix: [0xa0 + i, 1, 2, 3, 4], aem1: (0x30 + i) & 255, minute, mean: -50 - i, ...o };
}

export interface SegOptions {
  base?: number;
  utc?: boolean;
  dropped?: number;
  anchor?: number;
}

export function segment(records: Rec[], o: SegOptions = {}): Uint8Array {
  const b = new Uint8Array(SEGMENT_BYTES).fill(0xff);
  b.set(encodeHeader(o.base ?? BASE, o.utc === false ? 0 : FLAG_UTC, o.dropped ?? 0));
  if (o.anchor !== undefined) b.set(encodeAnchor(o.anchor), HEADER_ANCHOR_OFFSET);
  records.forEach((r, s) => {
    const key = Uint8Array.from([...r.prefix, r.aem1]);
    b.set(encodeRecord(key, 0, r.minute, r.mean, r.max ?? r.mean, r.count ?? 1), HEADER_BYTES + s * RECORD_BYTES);
  });
  return b;
}

/** Offset of slot `s` in a segment. */
export const slotAt = (s: number): number => HEADER_BYTES + s * RECORD_BYTES;

/** A Puck.js-sized Storage image holding these files, written in order through the emulated journal. */
export function image(files: Array<[string, Uint8Array]>, erase: string[] = []): Uint8Array {
  const st = new EspruinoStorage(new Flash(40960, 4096));
  for (const [n, d] of files) st.write(n, d);
  for (const n of erase) st.erase(n);
  return st.flash.bytes.slice();
}

/** Where a file's data starts in an image (after its 32-byte header). */
export function dataOffset(img: Uint8Array, name: string): number {
  const st = new EspruinoStorage(new Flash(img.length, 4096));
  st.flash.bytes.set(img);
  return st.locate(name)!.dataAddr;
}
