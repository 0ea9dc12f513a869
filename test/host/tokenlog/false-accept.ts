/**
 * How often random bytes in a record slot pass the host's record check
 * (host-tools/src/tokenlog/record-check.ts), in the slots flash damage or a
 * torn write actually hits: after real records. Used by
 * record-check.spec.ts, and run on its own over real flash images for the
 * full figure (docs/encounter-log.md, "Reading the log on the host"):
 *
 *   node -r ts-node/register test/host/tokenlog/false-accept.ts TRIALS IMAGE|DIR…
 *
 * Two positions: "append", the slot after the last real record of a
 * segment cut back to a random length (the newest slot: a damaged or torn
 * last write), and "replace", a slot between real records (damage in the
 * middle of a segment). Each figure is computed two ways: exactly, and by
 * trials.
 *
 * Exactly: for fixed bytes 0..8, exactly one of the 256 values of byte 9 is
 * the check byte, and bytes 0..5 (RPI prefix, AEM byte) are never looked at
 * beyond it; the record fields (mean, spread, count) and the minute are
 * judged apart (the fields by plausibleFields, the minute only by the time
 * order). So the chance for a slot is 1/256 × (share of the 8192 field
 * values plausibleFields accepts) × (share of the 2048 minutes the whole
 * segment check accepts there: minuteWindow, which the spec checks against
 * running checkSegment for each minute).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { HEADER_BYTES, LOG_PREFIX, RECORD_BYTES, SEGMENT_BYTES, decodeRecord, encodeRecord } from "../../../firmware/src/wire/log-record";
import { Rng } from "../../../host-tools/src/sim/prng";
import { checkSegment, logFloorDbm, plausibleFields } from "../../../host-tools/src/tokenlog/record-check";
import { loadTokenFiles } from "../../../host-tools/src/tokenlog/token-files";

export type Position = "append" | "replace";

/** Segments whose slots 0..n-1 all hold records the check accepts, n ≥ 3: real records in a row to put a bad slot among. */
export function cleanSegments(files: Iterable<[string, Uint8Array]>): Array<{ seg: Uint8Array; n: number }> {
  const out: Array<{ seg: Uint8Array; n: number }> = [];
  for (const [name, b] of files) {
    if (!name.startsWith(LOG_PREFIX) || b.length !== SEGMENT_BYTES) continue;
    const c = checkSegment(b);
    if (!c || c.torn || c.rejected) continue;
    let n = 0;
    while (n < c.slots.length && c.slots[n] === n) n++;
    if (n >= 3 && n === c.slots.length) out.push({ seg: b, n });
  }
  return out;
}

/** Share of the 2^13 stored (mean, spread, count) values a record may have. */
export function plausibleFieldShare(floorDbm: number = logFloorDbm()): number {
  let ok = 0;
  for (let mean = 0; mean < 128; mean++)
    for (let spread = 0; spread < 8; spread++)
      for (let count = 1; count <= 8; count++)
        if (
          plausibleFields(
            { rpiPrefix: new Uint8Array(5), aem1: 0, minute: 0, meanRssi: -mean - 20, maxRssi: -mean - 20 + 2 * spread, count },
            floorDbm
          )
        )
          ok++;
  return ok / 8192;
}

/** The segment `seg` with slot `slot` as the trial sees it: real records before (and, replacing, after), erased after (appending). */
function context(seg: Uint8Array, n: number, slot: number, position: Position): Uint8Array {
  const b = seg.slice();
  if (position === "append") b.fill(0xff, HEADER_BYTES + slot * RECORD_BYTES);
  else b.fill(0xff, HEADER_BYTES + n * RECORD_BYTES);
  return b;
}

/**
 * Minutes checkSegment accepts for a plausible record put in `slot`, the
 * rest of the segment as `context` leaves it: by running it for each of the
 * 2048 (slow: the spec uses it to confirm minuteWindow).
 */
export function acceptedMinutes(seg: Uint8Array, n: number, slot: number, position: Position): number {
  const b = context(seg, n, slot, position);
  const key = Uint8Array.of(0x11, 0x22, 0x33, 0x44, 0x55, 0x66);
  let minutes = 0;
  for (let m = 0; m < 2048; m++) {
    // Fields plausibleFields accepts (1 packet at −50 dBm), so only the minute is being judged.
    b.set(encodeRecord(key, 0, m, -50, -50, 1), HEADER_BYTES + slot * RECORD_BYTES);
    if (checkSegment(b)!.slots.includes(slot)) minutes++;
  }
  return minutes;
}

/**
 * The same count from the minutes around the slot: among records in time
 * order, one more is kept iff its minute is between its neighbours' (it then
 * lengthens the only longest run; outside, it is on no longest run or ties
 * with a neighbour, and is set aside).
 */
export function minuteWindow(seg: Uint8Array, n: number, slot: number, position: Position): number {
  const minute = (k: number): number => {
    const o = HEADER_BYTES + k * RECORD_BYTES;
    return (seg[o + 6] | (seg[o + 7] << 8)) & 2047;
  };
  const lo = minute(slot - 1);
  const hi = position === "append" ? 2047 : minute(slot + 1);
  return hi - lo + 1;
}

/** Exact chance that 10 random bytes in `slot` are accepted. */
export function exactRate(seg: Uint8Array, n: number, slot: number, position: Position, fieldShare: number): number {
  return (fieldShare * (minuteWindow(seg, n, slot, position) / 2048)) / 256;
}

export interface TrialResult {
  trials: number;
  /** Random slots the check accepted. */
  accepted: number;
  /** Real records the check set aside because of a random slot (a tie in the time order). */
  realSetAside: number;
}

/**
 * `trials` random slots in random positions of random segments, each judged
 * by checkSegment on the whole segment. (A slot failing its check byte, 255
 * times in 256, is rejected by the first step of that check whatever the rest
 * holds, so the segment is decoded in full only for the others.)
 */
export function trialRate(
  segs: ReadonlyArray<{ seg: Uint8Array; n: number }>,
  trials: number,
  position: Position,
  seed: number
): TrialResult {
  const rng = new Rng(seed);
  let accepted = 0;
  let realSetAside = 0;
  const bytes = new Uint8Array(RECORD_BYTES);
  const probe = new Uint8Array(RECORD_BYTES);
  for (let t = 0; t < trials; t++) {
    const { seg, n } = segs[rng.int(segs.length)];
    const slot = position === "append" ? 1 + rng.int(Math.min(n, 99)) : 1 + rng.int(n - 2);
    for (let i = 0; i < RECORD_BYTES; i++) bytes[i] = rng.int(256);
    const o = HEADER_BYTES + slot * RECORD_BYTES;
    // The check's first step: a slot failing its check byte is torn, whatever the rest holds.
    probe.set(bytes, 0);
    if (!decodeRecord(probe, 0)) continue;
    const b = context(seg, n, slot, position);
    b.set(bytes, o);
    const c = checkSegment(b)!;
    if (c.slots.includes(slot)) accepted++;
    const real = position === "append" ? slot : n - 1;
    realSetAside += real - (c.slots.length - (c.slots.includes(slot) ? 1 : 0));
  }
  return { trials, accepted, realSetAside };
}

function filesOf(p: string): Array<[string, Uint8Array]> {
  if (fs.statSync(p).isDirectory() && !fs.readdirSync(p).some((f) => f.startsWith("pt.")))
    return fs.readdirSync(p).flatMap((f) => filesOf(path.join(p, f)));
  return [...loadTokenFiles(p).files];
}

if (require.main === module) {
  const [trialsArg, ...inputs] = process.argv.slice(2);
  const trials = Number(trialsArg);
  if (!(trials > 0) || !inputs.length) {
    process.stderr.write("usage: false-accept.ts TRIALS IMAGE|DIR…\n");
    process.exit(2);
  }
  const segs = cleanSegments(inputs.flatMap(filesOf));
  const share = plausibleFieldShare();
  const out: Record<string, unknown> = {
    segments: segs.length,
    floorDbm: logFloorDbm(),
    plausibleFieldShare: share,
    checkByteOnly: 1 / 256
  };
  for (const position of ["append", "replace"] as const) {
    let sum = 0;
    let count = 0;
    for (const { seg, n } of segs) {
      // Every position of every segment for the exact mean (the trials draw segments evenly, then slots).
      let s = 0;
      const slots = position === "append" ? Math.min(n, 99) : n - 2;
      for (let k = 1; k <= slots; k++) s += exactRate(seg, n, k, position, share);
      sum += s / slots;
      count++;
    }
    const t0 = Date.now();
    const r = trialRate(segs, trials, position, 1);
    out[position] = { exact: sum / count, ...r, measured: r.accepted / r.trials, seconds: (Date.now() - t0) / 1000 };
  }
  process.stdout.write(JSON.stringify(out, null, 2) + "\n");
}
