/**
 * One simulated world: a scenario's people moving about, each token running
 * its firmware on its own drifting clock, phones running GAEN, all on one
 * radio medium and one event queue. Returns what happened and the ground truth.
 */
import type { AdvertState, EmulatedToken, EnergyCounters, RadioPort, ReceivedAdvert, SimScheduler, TokenClock } from "../types";
import type { BoardConfig } from "../../build/boards";
import { EventScheduler } from "../scheduler";
import { DriftingClock } from "../clock";
import { Scenario } from "./scenario";
import { Movement } from "./movement";
import { RadioMedium, RadioStats } from "./radio";
import { CARRY_LOSS_DB, DEFAULT_PROPAGATION, PropagationParams } from "./propagation";
import { GroundTruth, computeGroundTruth } from "./ground-truth";
import { parseAdvert } from "../../../../firmware/src/wire/advert";
import { GaenPhone, Sighting } from "./phone";
import { EnergyReport, energyReport } from "./energy";
import { Rng, hashString, mix } from "../prng";

export interface TokenFactoryArgs {
  id: string;
  board: BoardConfig;
  bundle: string;
  scheduler: SimScheduler;
  clock: TokenClock;
  radio: RadioPort;
  seed: number;
  /** Files provisioning put in the token's Storage (its secrets), if any. */
  files?: ReadonlyMap<string, Uint8Array>;
}

export type TokenFactory = (args: TokenFactoryArgs) => EmulatedToken;

/** The world while it runs, as a driver (the kiosk) sees it. */
export interface LiveWorld {
  scheduler: EventScheduler;
  medium: RadioMedium;
  movement: Movement;
  start: number;
  end: number;
  /** Emulated tokens by the id of the person wearing them. */
  tokens: ReadonlyMap<string, EmulatedToken>;
  /** What a person's token advertises now (null: nothing). */
  advertOf(person: string): AdvertState | null;
}

/**
 * Something that moves the world's time itself instead of the plain hourly
 * loop: the kiosk service, whose radio passes and sessions run the scheduler
 * (sim/kiosk/). It provisions the tokens it will sync.
 */
export interface WorldDriver {
  /** Files a person's token holds from provisioning, before its first boot. */
  filesFor?(person: string): ReadonlyMap<string, Uint8Array> | undefined;
  /** An address on the air that is infrastructure (the kiosk's beacon): tokens hear it, the sightings do not count it. */
  ignoreAddress?: string;
  /** Run the world from its start to at least `world.end`, or return the time it stopped at early. */
  run(world: LiveWorld): Promise<number | void>;
}

export interface WorldOptions {
  scenario: Scenario;
  days: number;
  seed: number;
  /** Board for tokens whose scenario entry names none. */
  defaultBoard: string;
  loadBoard(id: string): BoardConfig;
  /** The firmware bundle (source text) for a board. */
  bundleFor(board: string): string;
  makeToken: TokenFactory;
  /** Keep every sighting (per scan and RPI) for output; costs memory. */
  record?: boolean;
  /** Return the emulated tokens too (to save their flash images). */
  keepTokens?: boolean;
  /** Called after each simulated hour with the fraction done. */
  onProgress?(fraction: number): void;
  /** Moves time instead of the hourly loop (the kiosk). */
  driver?: WorldDriver;
}

/** Phones whose scenario entry gives no figures: a typical handset. */
const PHONE_TX_DBM = -8;
/** Largest clock error of a token right after its last kiosk sync, seconds; and its crystal drift, ppm. */
const CLOCK_OFFSET_MAX_S = 2;
const CLOCK_DRIFT_MAX_PPM = 20;
/** Tokens are switched on over the first minute, not all at the same instant. */
const BOOT_SPREAD_S = 60;

export interface TokenResult {
  id: string;
  person: string;
  board: string;
  counters: EnergyCounters;
  energy: EnergyReport;
  /** Packets the radio handed to this token. */
  packetsHeard: number;
  /** Distinct RPIs per scan (what an encounter log would hold). */
  sightings: number;
  uncaught: string[];
  leds: { red: boolean; green: boolean; blue: boolean };
}

export interface PhoneResult {
  id: string;
  person: string;
  packetsHeard: number;
  sightings: number;
}

export interface WorldResult {
  scenario: string;
  days: number;
  seed: number;
  tokens: number;
  phones: number;
  people: number;
  virtualSeconds: number;
  events: number;
  radio: RadioStats;
  groundTruth: GroundTruth;
  tokenResults: TokenResult[];
  phoneResults: PhoneResult[];
  /** Only with `record`: per node id, the sightings as (time, rpi, rssi, aem). */
  sightings?: Map<string, Sighting[]>;
  /** Only with `keepTokens`: the tokens by person id. */
  emulated?: Map<string, EmulatedToken>;
}

/**
 * Per scan window, the strongest RSSI per RPI a node was handed. Packets are
 * told apart by the packet object the advertiser put on the air (one per
 * rotation), so nothing is decoded unless sightings are kept.
 */
class ScanRecorder {
  count = 0;
  packets = 0;
  readonly kept: Sighting[] = [];
  private open = false;
  private start = 0;
  private heard = new Map<Uint8Array, number>();

  constructor(
    private readonly keep: boolean,
    private readonly ignore: string | undefined
  ) {}

  scanning(active: boolean, now: number): void {
    if (active && !this.open) {
      this.open = true;
      this.start = now;
      this.heard.clear();
    } else if (!active && this.open) {
      this.open = false;
      this.count += this.heard.size;
      if (this.keep) {
        for (const [packet, rssi] of this.heard) {
          const g = parseAdvert(packet);
          if (g)
            this.kept.push({ time: this.start, rpi: Buffer.from(g.rpi).toString("hex"), rssi, aem: Buffer.from(g.aem).toString("hex") });
        }
      }
    }
  }

  heardPacket(a: ReceivedAdvert): void {
    if (a.address === this.ignore) return;
    this.packets++;
    const best = this.heard.get(a.packet);
    if (best === undefined || a.rssi > best) this.heard.set(a.packet, a.rssi);
  }
}

export async function runWorld(o: WorldOptions): Promise<WorldResult> {
  const { scenario, days, seed } = o;
  if (!(Number.isInteger(days) && days >= 1)) throw new RangeError(`days must be a whole number ≥ 1, got ${days}`);
  const params: PropagationParams = { ...DEFAULT_PROPAGATION, ...(scenario.propagation ?? {}) };
  const movement = new Movement(scenario, seed);
  const scheduler = new EventScheduler(movement.start);
  const medium = new RadioMedium(scheduler, movement, params, seed);
  const boards = new Map<string, BoardConfig>();
  const tokens: Array<{ token: EmulatedToken; person: string; board: BoardConfig; rec: ScanRecorder }> = [];
  const phones: Array<{ phone: GaenPhone; person: string }> = [];
  const adverts = new Map<string, AdvertState | null>();

  scenario.people.forEach((person, personIndex) => {
    const dev = person.device;
    if (!dev) return;
    // Where it is carried costs the same on the way out and on the way in.
    const carryDb = CARRY_LOSS_DB[dev.carry ?? (dev.kind === "token" ? "lanyard" : "hand")];
    const streamSeed = mix(seed, hashString(person.id));
    const rng = new Rng(streamSeed);
    if (dev.kind === "token") {
      const boardId = dev.board ?? o.defaultBoard;
      let board = boards.get(boardId);
      if (!board) {
        board = o.loadBoard(boardId);
        boards.set(boardId, board);
      }
      const rec = new ScanRecorder(!!o.record, o.driver?.ignoreAddress);
      let token: EmulatedToken | null = null;
      const port = medium.attach({
        id: person.id,
        person: personIndex,
        txGainDb: board.radio.radiatedTxPowerDbm - board.radio.txPowerDbm - carryDb,
        // The board's calibration is what the firmware adds to correct its radio, so the radio reads that much low.
        rxOffsetDb: -board.radio.rssiCalibrationDb - carryDb,
        deliver: (a) => {
          rec.heardPacket(a);
          token!.deliver(a);
        }
      });
      const radio: RadioPort = {
        advertising: (s) => {
          adverts.set(person.id, s);
          port.advertising(s);
        },
        scanning: (s) => {
          rec.scanning(!!s, scheduler.now);
          port.scanning(s);
        }
      };
      const offset = (rng.next() * 2 - 1) * CLOCK_OFFSET_MAX_S;
      const clock = new DriftingClock({
        driftPpm: (rng.next() * 2 - 1) * CLOCK_DRIFT_MAX_PPM,
        startTrue: movement.start,
        startLocal: movement.start + offset
      });
      const files = o.driver?.filesFor?.(person.id);
      token = o.makeToken({ id: person.id, board, bundle: o.bundleFor(boardId), scheduler, clock, radio, seed: rng.u32(), files });
      const t = token;
      scheduler.at(movement.start + rng.next() * BOOT_SPREAD_S, () => t.boot());
      tokens.push({ token, person: person.id, board, rec });
    } else {
      const phone = new GaenPhone({
        id: person.id,
        scheduler,
        seed: rng.u32(),
        txPowerDbm: dev.txPowerDbm ?? PHONE_TX_DBM,
        record: !!o.record
      });
      const port = medium.attach({
        id: person.id,
        person: personIndex,
        txGainDb: -carryDb,
        rxOffsetDb: (dev.rssiOffsetDb ?? 0) - carryDb,
        deliver: (a) => phone.deliver(a)
      });
      scheduler.at(movement.start + rng.next() * BOOT_SPREAD_S, () => phone.start(port));
      phones.push({ phone, person: person.id });
    }
  });

  const end = movement.start + days * 86400;
  let events = 0;
  const hours = days * 24;
  if (o.driver) {
    const progress = o.onProgress;
    if (progress) for (let h = 1; h <= hours; h++) scheduler.at(movement.start + h * 3600, () => progress(h / hours));
    const before = scheduler.executed;
    const stoppedAt = await o.driver.run({
      scheduler,
      medium,
      movement,
      start: movement.start,
      end,
      tokens: new Map(tokens.map((t) => [t.person, t.token])),
      advertOf: (p) => adverts.get(p) ?? null
    });
    scheduler.runUntil(typeof stoppedAt === "number" ? stoppedAt : end);
    events += scheduler.executed - before;
  } else {
    for (let h = 1; h <= hours; h++) {
      events += scheduler.runUntil(movement.start + h * 3600);
      if (o.onProgress) o.onProgress(h / hours);
    }
  }
  const elapsed = end - movement.start;
  const groundTruth = computeGroundTruth(new Movement(scenario, seed), days);

  const tokenResults: TokenResult[] = tokens.map(({ token, person, board, rec }) => ({
    id: token.id,
    person,
    board: board.id,
    counters: { ...token.counters },
    energy: energyReport(token.counters, elapsed, { ...board.power, nativeAes: board.crypto.aes }),
    packetsHeard: rec.packets,
    sightings: rec.count,
    uncaught: token.uncaught.map((e) => String(e && e.message ? e.message : e)),
    leds: token.leds()
  }));
  const phoneResults: PhoneResult[] = phones.map(({ phone, person }) => ({
    id: person,
    person,
    packetsHeard: phone.packetsHeard,
    sightings: phone.sightingCount
  }));
  let sightings: Map<string, Sighting[]> | undefined;
  if (o.record) {
    sightings = new Map();
    for (const t of tokens) sightings.set(t.person, t.rec.kept);
    for (const p of phones) sightings.set(p.person, p.phone.sightings);
  }
  return {
    scenario: scenario.name,
    days,
    seed,
    tokens: tokens.length,
    phones: phones.length,
    people: scenario.people.length,
    virtualSeconds: elapsed,
    events,
    radio: { ...medium.stats },
    groundTruth,
    tokenResults,
    phoneResults,
    sightings,
    emulated: o.keepTokens ? new Map(tokens.map((t) => [t.person, t.token])) : undefined
  };
}
