/**
 * A token written in TypeScript that behaves like the firmware on the air
 * (rotate, advertise, scan on the board schedule) without running a bundle:
 * lets the world be tested on its own.
 */
import type { CentralLink, EmulatedToken, EnergyCounters, ReceivedAdvert } from "../../../host-tools/src/sim/types";
import type { TokenFactory, TokenFactoryArgs } from "../../../host-tools/src/sim/world/runner";
import { buildAdvert } from "../../../firmware/src/wire/advert";
import { Rng } from "../../../host-tools/src/sim/prng";

export class ScriptedToken implements EmulatedToken {
  readonly id: string;
  readonly boardId: string;
  readonly counters: EnergyCounters = { callbacks: 0, sha256Calls: 0, aesBlocks: 0, advertEvents: 0, scanMs: 0, flashBytesWritten: 0 };
  readonly uncaught: Error[] = [];
  heard = 0;
  private readonly rng: Rng;
  private scanning = false;
  private advertSince = 0;

  constructor(private readonly a: TokenFactoryArgs) {
    this.id = a.id;
    this.boardId = a.board.id;
    this.rng = new Rng(a.seed);
  }

  deliver(advert: ReceivedAdvert): void {
    if (!this.scanning) throw new Error("delivered while not scanning");
    this.counters.callbacks++;
    void advert;
    this.heard++;
  }

  pressButton(): void {}
  powerCut(): void {}
  leds(): { red: boolean; green: boolean; blue: boolean } {
    return { red: false, green: false, blue: false };
  }

  /** It only ever advertises non-connectable, as the firmware outside a sync window. */
  connect(): CentralLink | null {
    return null;
  }

  boot(): void {
    this.advertSince = this.a.scheduler.now;
    this.rotate();
    this.a.scheduler.at(this.a.scheduler.now + this.rng.next() * this.a.board.schedule.scanPeriodSec, () => this.scan());
  }

  private rotate(): void {
    const s = this.a.board.schedule;
    const rpi = new Uint8Array(16).map(() => this.rng.int(256));
    const aem = new Uint8Array(4).map(() => this.rng.int(256));
    const now = this.a.scheduler.now;
    this.counters.advertEvents += Math.round(((now - this.advertSince) * 1000) / (s.advertIntervalMs + 5));
    this.advertSince = now;
    this.a.radio.advertising({
      packet: buildAdvert(rpi, aem),
      intervalMs: s.advertIntervalMs,
      address: `c${this.rng.int(4)}:00:00:00:00:${this.rng.int(256).toString(16).padStart(2, "0")} random`,
      txPowerDbm: this.a.board.radio.txPowerDbm,
      connectable: false,
      scannable: false
    });
    const minutes = s.rotationMinMinutes + this.rng.next() * (s.rotationMaxMinutes - s.rotationMinMinutes);
    this.a.scheduler.at(now + minutes * 60, () => this.rotate());
  }

  private scan(): void {
    const s = this.a.board.schedule;
    const sch = this.a.scheduler;
    this.scanning = true;
    this.a.radio.scanning({ active: false, services: ["fd6f"] });
    sch.at(sch.now + s.scanWindowMs / 1000, () => {
      this.scanning = false;
      this.counters.scanMs += s.scanWindowMs;
      this.a.radio.scanning(null);
    });
    sch.at(sch.now + s.scanPeriodSec - this.rng.next() * s.scanJitterSec, () => this.scan());
  }
}

export const scriptedTokens: TokenFactory = (args) => new ScriptedToken(args);
