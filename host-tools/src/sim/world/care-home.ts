/**
 * The built-in care home, generated from the seed: a long corridor with
 * bedrooms on both sides, a dining room with tables of four, a lounge, a staff
 * office. Residents sleep in their rooms, eat three meals at fixed seats, spend
 * part of the day in the lounge; staff work three shifts on a weekly rota and
 * do rounds; visitors come on some afternoons.
 */
import { Scenario, ScenarioPerson, ScenarioRoom, ScheduleEntry } from "./scenario";
import { Rng, mix, hashString } from "../prng";

export interface CareHomeOptions {
  seed: number;
  /** Residents, each with a bedroom and a token (default 36, at least 30). */
  residents?: number;
  /** Staff per shift and day (default 4); the rota employs more so everybody gets days off. */
  staffPerShift?: number;
  /** Staff who wear a token (the rest carry a GAEN phone); default 14, so the default home has 50 tokens. */
  staffTokens?: number;
  /** Visitors (default 8): most carry a phone. */
  visitors?: number;
  /** Board of every token (default: the run's board). */
  board?: string;
  /**
   * First day, "YYYY-MM-DD". The default lies in the future on purpose: a
   * token whose clock reads earlier than its firmware's build time treats the
   * clock as lost and stays silent.
   */
  startDate?: string;
  /** A kiosk in the lounge, and two diagnoses (default true). */
  kiosk?: boolean;
  /**
   * 1 (default): one corridor, dining room and lounge for everyone. 2: two such
   * wings WING_LINK_M apart, residents and staff each in their own wing, the
   * kiosk in the west lounge (the built-in scenario "care-home-wings").
   */
  wings?: number;
}

export const CARE_HOME_START = "2030-01-07";

const BED_W = 3.5;
const BED_D = 5;
const CORRIDOR_W = 2.5;
const TABLE_SPACING = 3.5;

const MEALS: Array<[string, string]> = [
  ["08:00", "08:45"],
  ["12:00", "13:00"],
  ["17:30", "18:15"]
];
const SHIFTS: Array<{ name: string; parts: Array<[string, string, number]> }> = [
  { name: "early", parts: [["07:00", "15:00", 0]] },
  { name: "late", parts: [["15:00", "23:00", 0]] },
  // A night shift crosses midnight: its second part falls on the next weekday.
  {
    name: "night",
    parts: [
      ["23:00", "24:00", 0],
      ["00:00", "07:00", 1]
    ]
  }
];

function shuffle<T>(rng: Rng, xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = xs[i];
    xs[i] = xs[j];
    xs[j] = t;
  }
  return xs;
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, "0");
}

/** One wing: bedrooms both sides of its corridor, its dining room (tables of four), lounge and staff office. */
interface Wing {
  rooms: ScenarioRoom[];
  beds: Array<{ room: string; bed: [number, number] }>;
  seats: Array<[number, number]>;
  dining: string;
  lounge: string;
  office: string;
  corridor: string;
  /** Where the common rooms start (x), the north side's y, and the wing's east end. */
  commonX: number;
  northY: number;
  eastX: number;
}

/**
 * A wing of `residents` bedrooms starting at x0, its bedrooms numbered from
 * firstBed; `suffix` names its common rooms apart ("" for a one-wing home,
 * whose rooms are "dining", "lounge", …).
 */
function wingPlan(residents: number, x0: number, firstBed: number, suffix: string): Wing {
  // Floor plan: bedrooms south (y 0..5) and north (y 7.5..12.5) of the corridor.
  const perSide = Math.ceil(residents / 2);
  const wingLen = perSide * BED_W;
  const corridorY = BED_D;
  const northY = BED_D + CORRIDOR_W;
  const rooms: ScenarioRoom[] = [];
  const beds: Wing["beds"] = [];
  for (let i = 0; i < residents; i++) {
    const side = i % 2;
    const k = Math.floor(i / 2);
    const x = x0 + k * BED_W;
    const y = side === 0 ? 0 : northY;
    const id = `bedroom-${pad(firstBed + i + 1)}`;
    rooms.push({ id, kind: "bedroom", x, y, w: BED_W, h: BED_D, wallLossDb: 7 });
    // The bed stands in the middle, away from the shared walls.
    beds.push({ room: id, bed: [x + BED_W / 2, side === 0 ? 1.5 : northY + BED_D - 1.5] });
  }
  const commonX = x0 + wingLen;
  const w: Wing = {
    rooms,
    beds,
    seats: [],
    dining: `dining${suffix}`,
    lounge: `lounge${suffix}`,
    office: `office${suffix}`,
    corridor: `corridor${suffix}`,
    commonX,
    northY,
    eastX: commonX + 16 + 5
  };
  rooms.push({ id: w.corridor, kind: "corridor", x: x0, y: corridorY, w: wingLen + 16 + 5, h: CORRIDOR_W, wallLossDb: 6 });
  const diningH = 15;
  const tablesX = 4;
  const tablesY = Math.ceil(Math.ceil(residents / 4) / tablesX);
  const diningW = Math.max(16, tablesX * TABLE_SPACING + 2);
  const diningHeight = Math.max(diningH, tablesY * TABLE_SPACING + 2);
  rooms.push({ id: w.dining, kind: "dining", x: commonX, y: corridorY - diningHeight, w: diningW, h: diningHeight, wallLossDb: 8 });
  rooms.push({ id: w.lounge, kind: "lounge", x: commonX, y: northY, w: 16, h: 12, wallLossDb: 8 });
  rooms.push({ id: w.office, kind: "office", x: commonX + 16, y: northY, w: 5, h: 5, wallLossDb: 8 });

  // Tables of four: seat positions around each table centre.
  for (let ty = 0; ty < tablesY; ty++) {
    for (let tx = 0; tx < tablesX; tx++) {
      const cx = commonX + 1 + TABLE_SPACING / 2 + tx * TABLE_SPACING;
      const cy = corridorY - diningHeight + 1 + TABLE_SPACING / 2 + ty * TABLE_SPACING;
      w.seats.push([cx - 0.6, cy - 0.5], [cx + 0.6, cy - 0.5], [cx - 0.6, cy + 0.5], [cx + 0.6, cy + 0.5]);
    }
  }
  return w;
}

/** Corridor between the wings of a two-wing home, m: far enough that a wing hears little of the other. */
export const WING_LINK_M = 20;

export function careHome(opts: CareHomeOptions): Scenario {
  const residents = opts.residents ?? 36;
  if (residents < 1) throw new RangeError("care home: residents must be at least 1");
  const wingCount = opts.wings ?? 1;
  if (wingCount !== 1 && wingCount !== 2) throw new RangeError("care home: wings must be 1 or 2");
  if (residents < wingCount) throw new RangeError("care home: every wing needs a resident");
  const staffPerShift = opts.staffPerShift ?? 4;
  const visitors = opts.visitors ?? 8;
  const rng = new Rng(mix(opts.seed, hashString("care-home")));
  const token = opts.board ? { kind: "token" as const, board: opts.board } : { kind: "token" as const };

  // Residents fill the west wing first; a second wing lies east, beyond a link corridor.
  const wings: Wing[] = [];
  const rooms: ScenarioRoom[] = [];
  const westResidents = Math.ceil(residents / wingCount);
  wings.push(wingPlan(westResidents, 0, 0, wingCount === 1 ? "" : "-west"));
  if (wingCount === 2) {
    const x0 = wings[0].eastX + WING_LINK_M;
    wings.push(wingPlan(residents - westResidents, x0, westResidents, "-east"));
  }
  for (const w of wings) rooms.push(...w.rooms);
  if (wingCount === 2)
    rooms.push({ id: "link", kind: "corridor", x: wings[0].eastX, y: BED_D, w: WING_LINK_M, h: CORRIDOR_W, wallLossDb: 6 });
  const beds = wings.flatMap((w) => w.beds);
  const seatOfWing = wings.map((w) =>
    shuffle(
      rng,
      w.seats.map((_, i) => i)
    )
  );

  const people: ScenarioPerson[] = [];
  for (let i = 0; i < residents; i++) {
    const { room, bed } = beds[i];
    const wi = i < westResidents ? 0 : 1;
    const w = wings[wi];
    const seat = w.seats[seatOfWing[wi][wi ? i - westResidents : i]];
    const loungeChance = 0.4 + 0.5 * rng.next();
    const schedule: ScheduleEntry[] = [
      { from: "00:00", to: "07:30", rooms: [room], at: bed, dwellMinutes: 60 },
      ...MEALS.map(([from, to]) => ({ from, to, rooms: [w.dining], at: seat, dwellMinutes: 15 })),
      { from: "10:00", to: "11:45", rooms: [w.lounge], chance: loungeChance, dwellMinutes: 30 },
      { from: "14:00", to: "17:15", rooms: [w.lounge], chance: loungeChance, dwellMinutes: 30 },
      { from: "20:30", to: "24:00", rooms: [room], at: bed, dwellMinutes: 60 },
      { from: "07:30", to: "20:30", rooms: [room], dwellMinutes: 20 }
    ];
    people.push({ id: `resident-${pad(i + 1)}`, role: "resident", device: token, schedule });
  }

  // Staff: per shift (and wing) a pool of staffPerShift + 2 people, each off two consecutive weekdays.
  // In a two-wing home each wing has its own staff; their numbers alternate between the wings, so tokens go to both.
  const poolPerShift = staffPerShift + 2;
  const staffTokens = opts.staffTokens ?? 14;
  let staffNo = 0;
  for (const shift of SHIFTS) {
    for (let k = 0; k < poolPerShift; k++) {
      for (const w of wings) {
        const bedroomIds = w.beds.map((b) => b.room);
        const offStart = (k * 7) / poolPerShift;
        const workdays = [0, 1, 2, 3, 4, 5, 6].filter((d) => (d - Math.floor(offStart) + 7) % 7 >= 2);
        const schedule: ScheduleEntry[] = [];
        for (const [from, to, dayShift] of shift.parts) {
          const weekdays = workdays.map((d) => (d + dayShift) % 7);
          if (shift.name !== "night") {
            for (const [mf, mt] of MEALS) {
              if (mf >= from && mt <= to) schedule.push({ from: mf, to: mt, weekdays, rooms: [w.dining], dwellMinutes: 3 });
            }
            schedule.push({ from, to, weekdays, rooms: [w.corridor, w.lounge, w.office, ...bedroomIds], dwellMinutes: 4 });
          } else {
            // Nights: mostly in the office, with rounds.
            schedule.push({
              from,
              to,
              weekdays,
              rooms: [w.office, w.office, w.office, w.corridor, ...bedroomIds.slice(0, 6)],
              dwellMinutes: 10
            });
          }
        }
        staffNo++;
        const device = staffNo <= staffTokens ? token : { kind: "phone" as const };
        const name = wings.length === 1 ? "" : w === wings[0] ? "-west" : "-east";
        people.push({ id: `staff-${pad(staffNo)}-${shift.name}${name}`, role: "staff", device, schedule });
      }
    }
  }

  // Visitors: each visits one resident on one or two weekdays, most afternoons, in the bedroom or lounge.
  for (let v = 0; v < visitors; v++) {
    const resident = rng.int(residents);
    const weekdays = [rng.int(7)];
    if (rng.next() < 0.5) weekdays.push((weekdays[0] + 3) % 7);
    const startH = 14 + rng.int(3);
    // A bed's visitor sits beside it, on the side away from the outer wall.
    const south = beds[resident].bed[1] < BED_D;
    const at: [number, number] = [beds[resident].bed[0], beds[resident].bed[1] + (south ? 1.2 : -1.2)];
    people.push({
      id: `visitor-${pad(v + 1)}`,
      role: "visitor",
      device: v % 4 === 3 ? undefined : { kind: "phone" },
      schedule: [
        { from: `${startH}:00`, to: `${startH + 1}:30`, weekdays, chance: 0.8, rooms: [beds[resident].room], at, dwellMinutes: 30 }
      ]
    });
  }

  // The kiosk stands in the (west) lounge by the door from the corridor, where residents pass on their way in;
  // an east wing's tokens come to it on the staff's round.
  const withKiosk = opts.kiosk ?? true;
  const west = wings[0];
  const firstStaffToken = people.find((p) => p.role === "staff" && p.device?.kind === "token");
  // One wing: a member of staff and a resident test positive, on days 8 and 11, with symptoms from 2 days
  // before. Two wings: a west resident alone, on day 8, so the east wing is there to be wrongly warned.
  const diagnoses =
    wingCount === 1
      ? [
          ...(firstStaffToken ? [{ person: firstStaffToken.id, day: 8, at: "10:00", onsetDaysBefore: 2 }] : []),
          { person: people[Math.min(4, residents - 1)].id, day: 11, at: "10:00", onsetDaysBefore: 2 }
        ]
      : [{ person: people[Math.min(4, westResidents - 1)].id, day: 8, at: "10:00", onsetDaysBefore: 2 }];
  return {
    name: wingCount === 1 ? "care-home" : "care-home-wings",
    ...(withKiosk
      ? {
          kiosk: { room: west.lounge, at: [west.commonX + 1.5, west.northY + 1] as [number, number], staffRound: "11:00" },
          diagnoses
        }
      : {}),
    description:
      wingCount === 1
        ? `${residents} residents, ${SHIFTS.length} shifts of ${staffPerShift} staff, ${visitors} visitors (seed ${opts.seed})`
        : `${residents} residents in two wings ${WING_LINK_M} m apart, ${SHIFTS.length} shifts of ${staffPerShift} staff a wing, ${visitors} visitors (seed ${opts.seed})`,
    startDate: opts.startDate ?? CARE_HOME_START,
    rooms,
    people
  };
}
