/**
 * Reading and checking a scenario: a built-in name or a JSON file. Every
 * problem is reported with where it is, so a hand-written scenario can be fixed
 * without guessing.
 */
import * as fs from "node:fs";
import { UserError } from "../../errors";
import { readTextBounded } from "../../read-bounded";
import { parseIsoDay } from "../../iso-day";
import { Scenario, ScenarioPerson, ScheduleEntry } from "./scenario";
import { careHome } from "./care-home";
import { CARRIES } from "./propagation";

export const BUILT_IN_SCENARIOS = ["care-home", "care-home-wings"] as const;
/** A scenario is hand-written: a few KiB, at most 256 schedule entries a person. */
const MAX_SCENARIO_BYTES = 16 * 1024 * 1024;

/** "HH:MM" → minutes since midnight, or undefined if malformed. */
export function parseClock(s: string): number | undefined {
  const m = /^(\d{1,2}):(\d{2})$/.exec(s);
  if (!m) return undefined;
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (min > 59 || h > 24 || (h === 24 && min !== 0)) return undefined;
  return h * 60 + min;
}

export function startUnix(s: Scenario): number {
  return parseIsoDay(s.startDate) ?? NaN;
}

/**
 * The first and last start dates a scenario may have: GAEN began in 2020, and
 * later than 2099 the tokens' clocks and interval numbers are untested ground.
 */
export const FIRST_START_DATE = "2020-01-01";
export const LAST_START_DATE = "2099-12-31";

function checkEntry(where: string, e: ScheduleEntry, roomIds: Set<string>, problems: string[]): void {
  const from = typeof e.from === "string" ? parseClock(e.from) : undefined;
  const to = typeof e.to === "string" ? parseClock(e.to) : undefined;
  if (from === undefined) problems.push(`${where}.from: "${String(e.from)}" is not HH:MM`);
  if (to === undefined) problems.push(`${where}.to: "${String(e.to)}" is not HH:MM`);
  if (from !== undefined && to !== undefined && to <= from) {
    problems.push(`${where}: "to" (${e.to}) must be after "from" (${e.from}); split an entry that crosses midnight in two`);
  }
  if (!Array.isArray(e.rooms) || e.rooms.length === 0) problems.push(`${where}.rooms: give at least one room id`);
  else for (const r of e.rooms) if (!roomIds.has(r)) problems.push(`${where}.rooms: unknown room "${r}"`);
  if (e.weekdays && !e.weekdays.every((d) => Number.isInteger(d) && d >= 0 && d <= 6))
    problems.push(`${where}.weekdays: use 0 (Sunday) … 6 (Saturday)`);
  if (e.days && !e.days.every((d) => Number.isInteger(d) && d >= 0)) problems.push(`${where}.days: use day numbers from 0`);
  if (e.chance !== undefined && !(e.chance >= 0 && e.chance <= 1)) problems.push(`${where}.chance: must be between 0 and 1`);
  if (e.dwellMinutes !== undefined && !(Number.isInteger(e.dwellMinutes) && e.dwellMinutes >= 1))
    problems.push(`${where}.dwellMinutes: must be a whole number ≥ 1`);
  if (e.at !== undefined && !(Array.isArray(e.at) && e.at.length === 2 && e.at.every(Number.isFinite)))
    problems.push(`${where}.at: must be [x, y] in metres`);
}

function checkPerson(i: number, p: ScenarioPerson, roomIds: Set<string>, ids: Set<string>, problems: string[]): void {
  const where = `people[${i}]`;
  if (typeof p.id !== "string" || !p.id) problems.push(`${where}.id: missing`);
  else if (ids.has(p.id)) problems.push(`${where}.id: "${p.id}" is used twice`);
  else ids.add(p.id);
  if (p.device && p.device.kind !== "token" && p.device.kind !== "phone") problems.push(`${where}.device.kind: must be "token" or "phone"`);
  if (p.device && p.device.carry !== undefined && !CARRIES.includes(p.device.carry))
    problems.push(`${where}.device.carry: "${String(p.device.carry)}" is not one of ${CARRIES.map((c) => `"${c}"`).join(", ")}`);
  if (!Array.isArray(p.schedule)) problems.push(`${where}.schedule: must be a list of entries`);
  else if (p.schedule.length > 256) problems.push(`${where}.schedule: at most 256 entries`);
  else p.schedule.forEach((e, j) => checkEntry(`${where}.schedule[${j}]`, e, roomIds, problems));
}

function checkKiosk(s: Scenario, roomIds: Set<string>, problems: string[]): void {
  const k = s.kiosk;
  if (k !== undefined) {
    if (!k || typeof k !== "object") problems.push("kiosk: must be an object with room and at");
    else {
      if (!roomIds.has(k.room)) problems.push(`kiosk.room: unknown room "${String(k.room)}"`);
      if (!(Array.isArray(k.at) && k.at.length === 2 && k.at.every(Number.isFinite))) problems.push("kiosk.at: must be [x, y] in metres");
      if (k.staffRound !== undefined && parseClock(k.staffRound) === undefined)
        problems.push(`kiosk.staffRound: "${String(k.staffRound)}" is not HH:MM`);
    }
  }
  if (s.diagnoses === undefined) return;
  if (!Array.isArray(s.diagnoses)) {
    problems.push("diagnoses: must be a list");
    return;
  }
  if (s.diagnoses.length && k === undefined) problems.push("diagnoses: they are reported at a kiosk; give the scenario a kiosk");
  const people = new Map((Array.isArray(s.people) ? s.people : []).map((p) => [p.id, p]));
  const seen = new Set<string>();
  s.diagnoses.forEach((d, i) => {
    const where = `diagnoses[${i}]`;
    const p = people.get(d.person);
    if (!p) problems.push(`${where}.person: unknown person "${String(d.person)}"`);
    else if (p.device?.kind !== "token")
      problems.push(`${where}.person: "${d.person}" wears no token, so cannot release keys at the kiosk`);
    if (seen.has(d.person)) problems.push(`${where}.person: "${d.person}" is diagnosed twice`);
    seen.add(d.person);
    if (!(Number.isInteger(d.day) && d.day >= 0)) problems.push(`${where}.day: use a day number from 0`);
    if (!(Number.isInteger(d.onsetDaysBefore) && d.onsetDaysBefore >= 0 && d.onsetDaysBefore <= 14))
      problems.push(`${where}.onsetDaysBefore: a whole number of days, 0 to 14`);
    if (d.at !== undefined && parseClock(d.at) === undefined) problems.push(`${where}.at: "${String(d.at)}" is not HH:MM`);
  });
}

/** Throws a UserError listing every problem found. */
export function validateScenario(s: Scenario, source = "scenario"): Scenario {
  const problems: string[] = [];
  if (!s || typeof s !== "object") throw new UserError(`${source}: a scenario must be a JSON object`);
  if (typeof s.name !== "string") problems.push("name: missing");
  if (typeof s.startDate !== "string" || parseIsoDay(s.startDate) === null) {
    problems.push(`startDate: "${String(s.startDate)}" is not a real date YYYY-MM-DD`);
  } else if (s.startDate < FIRST_START_DATE || s.startDate > LAST_START_DATE) {
    problems.push(`startDate: ${s.startDate} is outside ${FIRST_START_DATE} .. ${LAST_START_DATE}`);
  }
  const roomIds = new Set<string>();
  if (!Array.isArray(s.rooms) || s.rooms.length === 0) problems.push("rooms: give at least one room");
  else
    s.rooms.forEach((r, i) => {
      if (roomIds.has(r.id)) problems.push(`rooms[${i}].id: "${r.id}" is used twice`);
      roomIds.add(r.id);
      if (![r.x, r.y, r.w, r.h].every(Number.isFinite) || r.w <= 0 || r.h <= 0)
        problems.push(`rooms[${i}] "${r.id}": x, y, w, h must be numbers with w, h > 0`);
    });
  const ids = new Set<string>();
  if (!Array.isArray(s.people)) problems.push("people: must be a list");
  else s.people.forEach((p, i) => checkPerson(i, p, roomIds, ids, problems));
  checkKiosk(s, roomIds, problems);
  if (problems.length) throw new UserError(`${source} is not a valid scenario:\n  ${problems.join("\n  ")}`);
  return s;
}

/** A built-in scenario by name, or a JSON file by path. */
export function loadScenario(nameOrPath: string, seed: number): Scenario {
  if (nameOrPath === "care-home") return careHome({ seed });
  if (nameOrPath === "care-home-wings") return validateScenario(careHome({ seed, wings: 2 }), "care-home-wings");
  if (!fs.existsSync(nameOrPath)) {
    throw new UserError(
      `unknown scenario "${nameOrPath}": use a built-in one (${BUILT_IN_SCENARIOS.join(", ")}) or the path of a scenario JSON file`
    );
  }
  let text: string;
  try {
    text = readTextBounded(nameOrPath, MAX_SCENARIO_BYTES, { what: "a scenario file" });
  } catch (e) {
    throw new UserError(`cannot read scenario file ${nameOrPath}: ${(e as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new UserError(`scenario file ${nameOrPath} is not valid JSON: ${(e as Error).message}`);
  }
  return validateScenario(data as Scenario, nameOrPath);
}
