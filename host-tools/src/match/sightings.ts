import { PrivateTracerError, UserError } from "../errors";
import { readTextBounded } from "../read-bounded";

/**
 * The sightings interchange format: JSON Lines, one sighting a line,
 *   {"time": unix_seconds, "rpi": "hex", "rssi": dBm, "aem": "hex"}
 * where rpi is the full 16-byte RPI or a prefix of at least 5 bytes (a token
 * may store a truncated identifier) and aem, the 4-byte encrypted metadata, is
 * optional. A token keeps only the metadata byte it needs, byte 1 (the
 * sender's transmit power, still encrypted), so instead of aem a sighting may
 * give "aemTx": that one byte as hex; never both, since they could disagree.
 * "packets", optional, is how many packets of one scan the sighting's rssi
 * averages (a token's record: 1 to 8); the close-contact classifier weighs the
 * scan's attenuation by it, and takes 1 when it is absent.
 * Other tools' recordings and the token log export convert to it.
 *
 * Policy on bad lines: the whole file is rejected, listing every bad line with
 * its number. Matching part of a log would under-report risk without anyone
 * noticing, so a bad file is fixed (or re-exported) rather than half used.
 * Blank lines are allowed; unknown fields are ignored so newer writers can add
 * fields without breaking older readers.
 */

export const MIN_PREFIX_BYTES = 5;
/**
 * Latest accepted time, unix seconds (2096). Far beyond any real log, yet it
 * catches milliseconds (about 1.7e12 today), which would otherwise wrap in the
 * index's int32 interval numbers and silently match nothing.
 */
export const MAX_TIME_SECONDS = 4e9;
export const RPI_BYTES = 16;
export const AEM_BYTES = 4;
/** Which byte of the metadata `aemTx` is: GAEN's transmit power. */
export const AEM_TX_BYTE = 1;
/** Most packets one sighting may stand for: a scan's worth, far above a token's 8 or a phone's ~16. */
export const MAX_PACKETS = 255;

export interface Sighting {
  /** Unix seconds (fractions allowed). */
  time: number;
  /** The full RPI (16 bytes) or a prefix of at least 5 bytes. */
  rpi: Uint8Array;
  rssi: number;
  aem?: Uint8Array;
  /**
   * Byte 1 of the encrypted metadata alone (0–255), as a token logs it; never
   * together with `aem`. CTR mode lets it decrypt on its own.
   */
  aemTx?: number;
  /**
   * Packets the sighting stands for: a token's record averages up to 8 of one
   * scan. The close-contact classifier weighs a scan's attenuation by it; 1
   * when absent.
   */
  packets?: number;
  /** 1-based line in the source file, so output can point back at it. */
  line: number;
}

export interface SightingProblem {
  line: number;
  message: string;
}

/** Every bad line of a sightings file: unusable input, like any other unreadable file. */
export class SightingsFormatError extends PrivateTracerError {
  readonly code = "SIGHTINGS_MALFORMED";
  readonly kind = "unusable";

  constructor(
    readonly source: string,
    readonly problems: SightingProblem[]
  ) {
    super(SightingsFormatError.describe(source, problems));
  }

  private static describe(source: string, problems: SightingProblem[]): string {
    const shown = problems.slice(0, 20).map((p) => `  ${source}:${p.line}: ${p.message}`);
    if (problems.length > shown.length) shown.push(`  … and ${problems.length - shown.length} more`);
    return `${source}: ${problems.length} bad sighting line(s); nothing was matched. Fix or re-export the file:\n${shown.join("\n")}`;
  }
}

const HEX = /^[0-9a-fA-F]*$/;

function hexField(v: unknown, name: string, minBytes: number, maxBytes: number): Uint8Array {
  if (typeof v !== "string") throw new Error(`"${name}" must be a hex string`);
  if (!HEX.test(v) || v.length % 2 !== 0) throw new Error(`"${name}" is not an even-length hex string: ${JSON.stringify(v.slice(0, 40))}`);
  const n = v.length / 2;
  if (n < minBytes || n > maxBytes) {
    const want = minBytes === maxBytes ? `${minBytes}` : `${minBytes} to ${maxBytes}`;
    throw new Error(`"${name}" has ${n} byte(s), expected ${want}`);
  }
  return Uint8Array.from(Buffer.from(v, "hex"));
}

function isPacketCount(n: unknown): n is number {
  return typeof n === "number" && Number.isInteger(n) && n >= 1 && n <= MAX_PACKETS;
}

/** One line's object to a Sighting; throws a plain Error with the reason. */
function toSighting(obj: unknown, line: number): Sighting {
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) throw new Error("a sighting must be a JSON object");
  const o = obj as Record<string, unknown>;
  const time = o.time;
  if (typeof time !== "number" || !Number.isFinite(time) || time < 0)
    throw new Error(`"time" must be unix seconds (a non-negative number), got ${JSON.stringify(time)}`);
  if (time > MAX_TIME_SECONDS) {
    const hint = time >= 1e11 && time / 1000 <= MAX_TIME_SECONDS ? `; it looks like milliseconds (${time / 1000} s?) — divide by 1000` : "";
    throw new Error(`"time" ${time} is after ${MAX_TIME_SECONDS} (year 2096): it must be unix seconds${hint}`);
  }
  const rssi = o.rssi;
  if (typeof rssi !== "number" || !Number.isFinite(rssi) || rssi < -127 || rssi > 127)
    throw new Error(`"rssi" must be a number of dBm between -127 and 127, got ${JSON.stringify(rssi)}`);
  const rpi = hexField(o.rpi, "rpi", MIN_PREFIX_BYTES, RPI_BYTES);
  const s: Sighting = { time, rpi, rssi, line };
  const hasAem = o.aem !== undefined && o.aem !== null;
  const hasAemTx = o.aemTx !== undefined && o.aemTx !== null;
  if (hasAem && hasAemTx) throw new Error(`give either "aem" (all 4 bytes) or "aemTx" (byte 1 only), not both`);
  if (hasAem) s.aem = hexField(o.aem, "aem", AEM_BYTES, AEM_BYTES);
  if (hasAemTx) s.aemTx = hexField(o.aemTx, "aemTx", 1, 1)[0];
  if (o.packets !== undefined && o.packets !== null) {
    const n = o.packets;
    if (!isPacketCount(n))
      throw new Error(`"packets" must be a whole number of packets from 1 to ${MAX_PACKETS}, got ${JSON.stringify(n)}`);
    s.packets = n;
  }
  return s;
}

/** Parses sightings text; throws SightingsFormatError listing every bad line. */
export function parseSightings(text: string, source = "sightings"): Sighting[] {
  const out: Sighting[] = [];
  const problems: SightingProblem[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].trim();
    if (raw === "") continue;
    let obj: unknown;
    try {
      obj = JSON.parse(raw);
    } catch (e) {
      problems.push({ line: i + 1, message: `not valid JSON (${(e as Error).message})` });
      continue;
    }
    try {
      out.push(toSighting(obj, i + 1));
    } catch (e) {
      problems.push({ line: i + 1, message: (e as Error).message });
    }
  }
  if (problems.length) throw new SightingsFormatError(source, problems);
  return out;
}

/**
 * A sightings file is read with at most this many bytes: about three million
 * lines, far more than a token's flash can hold, and under the longest string
 * Node can make of the text.
 */
export const MAX_SIGHTINGS_BYTES = 256 * 1024 * 1024;

export function readSightingsFile(file: string): Sighting[] {
  let text: string;
  try {
    text = readTextBounded(file, MAX_SIGHTINGS_BYTES, { what: "a sightings file" });
  } catch (e) {
    throw new UserError(`cannot read sightings file ${file}: ${(e as Error).message}`);
  }
  return parseSightings(text, file);
}

/** The interchange line for a sighting (the writer side, for converters and tests). */
export function formatSighting(s: Omit<Sighting, "line">): string {
  const o: Record<string, unknown> = { time: s.time, rpi: Buffer.from(s.rpi).toString("hex"), rssi: s.rssi };
  if (s.aem && s.aemTx !== undefined) throw new RangeError("a sighting has either aem or aemTx, not both");
  if (s.aem) o.aem = Buffer.from(s.aem).toString("hex");
  if (s.aemTx !== undefined) {
    if (!Number.isInteger(s.aemTx) || s.aemTx < 0 || s.aemTx > 255) throw new RangeError(`aemTx is one byte (0–255), got ${s.aemTx}`);
    o.aemTx = s.aemTx.toString(16).padStart(2, "0");
  }
  if (s.packets !== undefined) {
    if (!isPacketCount(s.packets)) throw new RangeError(`packets is a whole number from 1 to ${MAX_PACKETS}, got ${s.packets}`);
    o.packets = s.packets;
  }
  return JSON.stringify(o);
}
