/**
 * Where everybody is: a scenario's schedules turned into positions, minute by
 * minute. A pose is a pure function of (seed, person, minute), so the radio
 * and the ground truth see the same world, and a run can be repeated exactly.
 * Within one dwell period a person keeps the same spot; the way they face is
 * redrawn every FACING_MINUTES (people turn to talk, eat, look about), and
 * for each (spot, facing) a person keeps the same pose object, which lets the
 * radio cache what it computed for a link until somebody moves or turns.
 */
import { Scenario, ScheduleEntry } from "./scenario";
import { parseClock, startUnix } from "./scenario-load";
import { WalledRoom } from "./geometry";
import { Rng, hashString, mix } from "../prng";

export interface Pose {
  x: number;
  y: number;
  /** Index into `Movement.rooms`. */
  room: number;
  /** Direction the person faces, radians. */
  facing: number;
}

interface CompiledEntry {
  from: number;
  to: number;
  weekdays: boolean[] | null;
  days: Set<number> | null;
  chance: number;
  rooms: number[];
  at: [number, number] | null;
  dwell: number;
}

const DEFAULT_WALL_LOSS_DB = 6;
const DEFAULT_DWELL_MIN = 5;
/** Keep random spots this far from walls (people do not stand inside them). */
const MARGIN_M = 0.4;
/**
 * Minutes between re-drawing the facing within a dwell period (a dwell period
 * shorter than this redraws it with the spot). A wearer who keeps the same
 * facing for a whole stay makes a link's body loss persist over many scans,
 * and near and far contacts more separable than measured (docs/simulator.md).
 */
export const FACING_MINUTES = 3;
const TAG_CHANCE = hashString("chance");
const TAG_POSE = hashString("pose");
const TAG_FACING = hashString("facing");

export class Movement {
  readonly start: number;
  readonly rooms: WalledRoom[];
  readonly roomIds: string[];
  readonly personIds: string[];
  private readonly entries: CompiledEntry[][];
  private readonly startDay: number;
  /** Per person: the minute last asked for and the dwell period (day, entry, slot) its pose belongs to. */
  private readonly lastMinute: number[];
  private readonly lastKey: number[];
  private readonly lastPose: Array<Pose | null>;

  constructor(
    scenario: Scenario,
    private readonly seed: number
  ) {
    this.start = startUnix(scenario);
    this.startDay = Math.floor(this.start / 86400);
    this.rooms = scenario.rooms.map((r) => ({ x: r.x, y: r.y, w: r.w, h: r.h, wallLossDb: r.wallLossDb ?? DEFAULT_WALL_LOSS_DB }));
    this.roomIds = scenario.rooms.map((r) => r.id);
    const roomIndex = new Map(this.roomIds.map((id, i) => [id, i]));
    this.personIds = scenario.people.map((p) => p.id);
    this.entries = scenario.people.map((p) =>
      p.schedule.map((e: ScheduleEntry) => ({
        from: parseClock(e.from) ?? 0,
        to: parseClock(e.to) ?? 1440,
        weekdays: e.weekdays ? [0, 1, 2, 3, 4, 5, 6].map((d) => e.weekdays!.indexOf(d) >= 0) : null,
        days: e.days ? new Set(e.days) : null,
        chance: e.chance ?? 1,
        rooms: e.rooms.map((r) => roomIndex.get(r)!),
        at: e.at ?? null,
        dwell: e.dwellMinutes ?? DEFAULT_DWELL_MIN
      }))
    );
    this.lastMinute = this.personIds.map(() => -1);
    this.lastKey = this.personIds.map(() => -1);
    this.lastPose = this.personIds.map(() => null);
  }

  personIndex(id: string): number {
    const i = this.personIds.indexOf(id);
    if (i < 0) throw new RangeError(`no person "${id}" in the scenario`);
    return i;
  }

  /** Minute index since the scenario start for a true time. */
  minuteOf(trueTime: number): number {
    return Math.floor((trueTime - this.start) / 60);
  }

  poseAt(person: number, trueTime: number): Pose | null {
    return this.pose(person, this.minuteOf(trueTime));
  }

  /** Pose of `person` during minute `minute` since the start, or null when off site. */
  pose(person: number, minute: number): Pose | null {
    if (this.lastMinute[person] === minute) return this.lastPose[person];
    this.lastMinute[person] = minute;
    const day = Math.floor(minute / 1440);
    const mod = minute - day * 1440;
    const weekday = (this.startDay + day + 4) % 7; // 1970-01-01 was a Thursday
    const list = this.entries[person];
    for (let i = 0; i < list.length; i++) {
      const e = list[i];
      if (mod < e.from || mod >= e.to) continue;
      if (e.weekdays && !e.weekdays[weekday]) continue;
      if (e.days && !e.days.has(day)) continue;
      if (e.chance < 1 && mix(this.seed, TAG_CHANCE, person, day, i) / 4294967296 >= e.chance) continue;
      const slot = Math.floor((mod - e.from) / e.dwell);
      // The facing's period within the slot (0 when the dwell is no longer than FACING_MINUTES).
      const turn = e.dwell > FACING_MINUTES ? Math.floor((mod - e.from - slot * e.dwell) / FACING_MINUTES) : 0;
      const key = ((day * 256 + i) * 4096 + slot) * 1024 + turn;
      if (this.lastKey[person] === key) return this.lastPose[person];
      const prev = this.lastPose[person];
      const sameSpot = prev !== null && this.lastKey[person] >= 0 && Math.floor(this.lastKey[person] / 1024) === Math.floor(key / 1024);
      const pose = sameSpot ? { ...prev, facing: this.facing(person, day, i, slot, turn) } : this.draw(person, day, i, slot, turn, e);
      this.lastKey[person] = key;
      this.lastPose[person] = pose;
      return pose;
    }
    this.lastKey[person] = -1;
    this.lastPose[person] = null;
    return null;
  }

  /** Facing in turn `turn` (> 0) of a dwell period: the first turn's comes with the spot. */
  private facing(person: number, day: number, entry: number, slot: number, turn: number): number {
    return new Rng(mix(this.seed, TAG_FACING, person, day, entry, slot, turn)).uniform(0, 2 * Math.PI);
  }

  private draw(person: number, day: number, entry: number, slot: number, turn: number, e: CompiledEntry): Pose {
    const rng = new Rng(mix(this.seed, TAG_POSE, person, day, entry, slot));
    const room = e.rooms.length === 1 ? e.rooms[0] : e.rooms[rng.int(e.rooms.length)];
    const r = this.rooms[room];
    let x: number;
    let y: number;
    if (e.at) {
      x = e.at[0];
      y = e.at[1];
    } else {
      const mx = Math.min(MARGIN_M, r.w / 4);
      const my = Math.min(MARGIN_M, r.h / 4);
      x = rng.uniform(r.x + mx, r.x + r.w - mx);
      y = rng.uniform(r.y + my, r.y + r.h - my);
    }
    const facing = rng.uniform(0, 2 * Math.PI);
    return { x, y, room, facing: turn === 0 ? facing : this.facing(person, day, entry, slot, turn) };
  }
}
