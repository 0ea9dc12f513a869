/**
 * A RAM stress for one token: it sits where a crowd of phones is (a nurses'
 * station, a waiting room) and every scan window hears all of them, each
 * with its own RPI, every 250 ms. The firmware must keep its tables bounded
 * whatever the crowd; this measures its JsVar peak while it does.
 *
 * The crowd is generated here, not by the radio model: every phone is heard
 * at a usable RSSI in every window, the worst case for the scanner's table.
 * Phones rotate RPI and address every 15 minutes, as GAEN does.
 */
import type { BoardConfig } from "../../build/boards";
import { DriftingClock } from "../clock";
import { EventScheduler } from "../scheduler";
import { buildAdvert } from "../../../../firmware/src/wire/advert";
import { Rng } from "../prng";
import { createEmulatedToken } from "../espruino";
import type { MemoryPeak } from "../espruino";

export interface StationOptions {
  board: BoardConfig;
  bundle: string;
  /** Phones in range (default 200). */
  phones?: number;
  /** Virtual seconds to run (default 3600). */
  seconds?: number;
  /** Unix time the run starts (must be after the bundle's build time, or the token treats its clock as lost). */
  startUnix: number;
  seed?: number;
  /** Sample memory after every n-th callback (default 1). */
  sampleEvery?: number;
}

export interface StationResult {
  peak: MemoryPeak | null;
  samples: number;
  /** Packets handed to the token's scan callback. */
  packetsDelivered: number;
  scanWindows: number;
  callbacks: number;
  uncaught: string[];
}

const ADVERT_MS = 250;
const ROTATE_S = 900;

export function runStation(o: StationOptions): StationResult {
  const phones = o.phones ?? 200;
  const seconds = o.seconds ?? 3600;
  const rng = new Rng(o.seed ?? 1);
  const scheduler = new EventScheduler(o.startUnix);
  const crowd: Array<{ rssi: number; packet: Uint8Array; address: string }> = Array.from({ length: phones }, (_, i) => ({
    rssi: -50 - (i % 18),
    packet: new Uint8Array(0),
    address: ""
  }));
  const rotate = (): void => {
    for (const p of crowd) {
      const rpi = new Uint8Array(16);
      for (let i = 0; i < 16; i++) rpi[i] = rng.u32() & 0xff;
      const aem = new Uint8Array(4);
      for (let i = 0; i < 4; i++) aem[i] = rng.u32() & 0xff;
      p.packet = buildAdvert(rpi, aem);
      const a = [0xc0 | (rng.u32() & 0x3f), ...Array.from({ length: 5 }, () => rng.u32() & 0xff)];
      p.address = `${a.map((b) => b.toString(16).padStart(2, "0")).join(":")} random`;
    }
    scheduler.at(scheduler.now + ROTATE_S, rotate);
  };
  rotate();

  let scanning = false;
  let windows = 0;
  let delivered = 0;
  let tick = 0;
  const burst = (): void => {
    tick = 0;
    if (!scanning) return;
    for (const p of crowd) {
      if (!scanning) break;
      token.deliver({ address: p.address, rssi: p.rssi, packet: p.packet });
      delivered++;
    }
    tick = scheduler.at(scheduler.now + ADVERT_MS / 1000, burst);
  };
  const token = createEmulatedToken({
    id: "station",
    board: o.board,
    bundle: o.bundle,
    scheduler,
    clock: new DriftingClock({ startTrue: o.startUnix }),
    radio: {
      advertising: () => undefined,
      scanning: (s) => {
        const on = s !== null;
        if (on && !scanning) {
          windows++;
          // The first adverts land just after the receiver opens.
          if (!tick) tick = scheduler.at(scheduler.now + 0.01, burst);
        }
        scanning = on;
      }
    },
    seed: o.seed ?? 1,
    memory: { sampleEvery: o.sampleEvery ?? 1 }
  });
  token.boot();
  scheduler.runUntil(o.startUnix + seconds);
  const r: StationResult = {
    peak: token.memoryPeak,
    samples: token.memorySamples,
    packetsDelivered: delivered,
    scanWindows: windows,
    callbacks: token.counters.callbacks,
    uncaught: token.uncaught.map((e) => e.message)
  };
  token.powerCut();
  return r;
}
