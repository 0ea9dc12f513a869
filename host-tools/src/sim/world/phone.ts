/**
 * A phone running a GAEN app, modelled in TypeScript (no bundle): a new TEK at
 * each UTC midnight, a new RPI and random address on each 10-minute boundary
 * plus a random delay, advertising every ~250 ms, and a 4 s scan every
 * 210–300 s that aggregates what it heard per RPI (gaen.md, "On the air").
 */
import type { RadioPort, ReceivedAdvert, SimScheduler } from "../types";
import { buildAdvert, parseAdvert } from "../../../../firmware/src/wire/advert";
import { INTERVAL_SECONDS, TEK_ROLLING_PERIOD } from "../../../../firmware/src/wire/gaen";
import { deriveKeys, deriveRpis, encryptMetadata, enIntervalNumber } from "../../match/derive";
import { Rng } from "../prng";

export const PHONE_ADVERT_INTERVAL_MS = 250;
export const PHONE_SCAN_MS = 4000;
export const PHONE_SCAN_PERIOD_S = 300;
export const PHONE_SCAN_JITTER_S = 90;
/** A rotation happens this long (at most) after a 10-minute boundary. */
const ROTATION_DELAY_MAX_S = 60;

/** One RPI heard in one scan: the strongest RSSI of that scan. */
export interface Sighting {
  /** True unix seconds of the scan start. */
  time: number;
  rpi: string;
  rssi: number;
  aem: string;
}

export interface PhoneOptions {
  id: string;
  scheduler: SimScheduler;
  seed: number;
  /** Configured tx power written into the AEM metadata, dBm. */
  txPowerDbm: number;
  /** Keep sightings (for --out); otherwise only count them. */
  record: boolean;
}

// Phones send the token's own advert layout (wire/advert.ts); this name stays
// only while espruino/station-stress.ts imports it from here.

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
}

export class GaenPhone {
  readonly sightings: Sighting[] = [];
  sightingCount = 0;
  packetsHeard = 0;
  /** TEKs by rolling start interval number, so a test can derive what the phone sent. */
  readonly teks = new Map<number, Buffer>();
  private port: RadioPort | null = null;
  private readonly rng: Rng;
  private day = -1;
  private rpis: Buffer = Buffer.alloc(0);
  private aemk: Buffer = Buffer.alloc(16);
  private scanStart = 0;
  private scanHeard = new Map<string, Sighting>();

  constructor(private readonly o: PhoneOptions) {
    this.rng = new Rng(o.seed);
  }

  start(port: RadioPort): void {
    this.port = port;
    this.rotate();
    const s = this.o.scheduler;
    s.at(s.now + this.rng.next() * PHONE_SCAN_PERIOD_S, () => this.startScan());
  }

  private rotate(): void {
    const s = this.o.scheduler;
    const enin = enIntervalNumber(s.now);
    const day = Math.floor(enin / TEK_ROLLING_PERIOD);
    if (day !== this.day) {
      this.day = day;
      const tek = Buffer.alloc(16);
      for (let i = 0; i < 16; i += 4) tek.writeUInt32LE(this.rng.u32(), i);
      this.teks.set(day * TEK_ROLLING_PERIOD, tek);
      const keys = deriveKeys(tek);
      this.aemk = keys.aemk;
      this.rpis = deriveRpis(keys.rpik, day * TEK_ROLLING_PERIOD, TEK_ROLLING_PERIOD);
    }
    const k = enin - day * TEK_ROLLING_PERIOD;
    const rpi = this.rpis.subarray(16 * k, 16 * k + 16);
    const meta = new Uint8Array([0x40, this.o.txPowerDbm & 0xff, 0, 0]);
    const aem = encryptMetadata(this.aemk, rpi, meta);
    // A non-resolvable private address: random, top two bits 00.
    const a: string[] = [];
    for (let i = 0; i < 6; i++) a.push((i === 0 ? this.rng.int(64) : this.rng.int(256)).toString(16).padStart(2, "0"));
    this.port!.advertising({
      packet: buildAdvert(rpi, aem),
      intervalMs: PHONE_ADVERT_INTERVAL_MS,
      address: `${a.join(":")} random`,
      txPowerDbm: this.o.txPowerDbm,
      connectable: false,
      scannable: false
    });
    const nextBoundary = (enin + 1) * INTERVAL_SECONDS;
    s.at(nextBoundary + this.rng.next() * ROTATION_DELAY_MAX_S, () => this.rotate());
  }

  private startScan(): void {
    const s = this.o.scheduler;
    this.scanStart = s.now;
    this.scanHeard.clear();
    this.port!.scanning({ active: false, services: ["fd6f"] });
    s.at(s.now + PHONE_SCAN_MS / 1000, () => this.stopScan());
  }

  private stopScan(): void {
    const s = this.o.scheduler;
    this.port!.scanning(null);
    this.sightingCount += this.scanHeard.size;
    if (this.o.record) for (const v of this.scanHeard.values()) this.sightings.push(v);
    s.at(this.scanStart + PHONE_SCAN_PERIOD_S - this.rng.next() * PHONE_SCAN_JITTER_S, () => this.startScan());
  }

  /** The medium calls this for each packet heard while scanning. */
  deliver(advert: ReceivedAdvert): void {
    this.packetsHeard++;
    const g = parseAdvert(advert.packet);
    if (!g) return;
    const rpi = hex(g.rpi);
    const seen = this.scanHeard.get(rpi);
    if (seen) {
      if (advert.rssi > seen.rssi) seen.rssi = advert.rssi;
    } else this.scanHeard.set(rpi, { time: this.scanStart, rpi, rssi: advert.rssi, aem: hex(g.aem) });
  }
}
