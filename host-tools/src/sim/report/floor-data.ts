/**
 * The floor plan's people and lines: where each person is most often, and
 * which pairs were close contacts (ground truth: ≥ 15 minutes within 2 m on a
 * day) and where they were when close most often. Positions come from the
 * movement model itself, sampled every few minutes over the run, so they are
 * where the simulated people really were.
 */
import { Scenario } from "../world/scenario";
import { Movement, Pose } from "../world/movement";
import { CLOSE_CONTACT_METRES, CLOSE_CONTACT_MINUTES, GroundTruth } from "../world/ground-truth";
import { FloorPlanData, ReportContact, ReportPerson } from "./types";

/** Minutes between samples of everybody's position. */
const SAMPLE_MINUTES = 5;
/** Positions are compared on this grid, metres. */
const GRID_M = 0.25;
/** A spot held this share of a person's time on site or more is a fixed one (a bed, a seat at a table). */
const FIXED_SHARE = 0.15;

interface Tally {
  rooms: Map<number, number>;
  spots: Map<string, { n: number; x: number; y: number; room: number }>;
  samples: number;
}

export function floorPlanData(
  scenario: Scenario,
  seed: number,
  days: number,
  truth: GroundTruth,
  warnedLevel: ReadonlyMap<string, number>
): FloorPlanData {
  const movement = new Movement(scenario, seed);
  const tallies: Tally[] = scenario.people.map(() => ({ rooms: new Map(), spots: new Map(), samples: 0 }));
  const count = scenario.people.length;
  // Per pair (i < j): where they were within 2 m, on a 1 m grid of their midpoint, with the two positions.
  const near = new Map<number, Map<number, { n: number; at: [number, number, number, number] }>>();
  const poses: Array<Pose | null> = new Array(count).fill(null);
  for (let minute = 0; minute < days * 1440; minute += SAMPLE_MINUTES) {
    for (let i = 0; i < count; i++) poses[i] = movement.pose(i, minute);
    for (let i = 0; i < count; i++) {
      const a = poses[i];
      if (!a) continue;
      for (let j = i + 1; j < count; j++) {
        const b = poses[j];
        if (!b || (a.x - b.x) ** 2 + (a.y - b.y) ** 2 > CLOSE_CONTACT_METRES ** 2) continue;
        const cell = Math.round((a.x + b.x) / 2) * 100003 + Math.round((a.y + b.y) / 2);
        let spots = near.get(i * count + j);
        if (!spots) near.set(i * count + j, (spots = new Map()));
        const s = spots.get(cell);
        if (s) s.n++;
        else spots.set(cell, { n: 1, at: [a.x, a.y, b.x, b.y] });
      }
    }
    scenario.people.forEach((_, i) => {
      const p = poses[i];
      if (!p) return;
      const t = tallies[i];
      t.samples++;
      t.rooms.set(p.room, (t.rooms.get(p.room) ?? 0) + 1);
      const key = `${p.room}:${Math.round(p.x / GRID_M)}:${Math.round(p.y / GRID_M)}`;
      const s = t.spots.get(key);
      if (s) s.n++;
      else t.spots.set(key, { n: 1, x: p.x, y: p.y, room: p.room });
    });
  }
  const diagnosed = new Set((scenario.diagnoses ?? []).map((d) => d.person));
  // People without a fixed spot: laid out on a grid in the room they are most often in, so they do not pile up.
  const loose = new Map<number, number[]>();
  const placed: Array<{ x: number; y: number; room: number; fixed: boolean } | null> = tallies.map((t, i) => {
    if (!t.samples) return null;
    const best = [...t.spots.values()].reduce((a, b) => (b.n > a.n ? b : a));
    if (best.n >= FIXED_SHARE * t.samples) return { x: best.x, y: best.y, room: best.room, fixed: true };
    const room = [...t.rooms].reduce((a, b) => (b[1] > a[1] ? b : a))[0];
    const list = loose.get(room) ?? [];
    list.push(i);
    loose.set(room, list);
    return null;
  });
  for (const [room, list] of loose) {
    const r = movement.rooms[room];
    const cols = Math.max(1, Math.ceil(Math.sqrt((list.length * r.w) / r.h)));
    const rows = Math.ceil(list.length / cols);
    list.forEach((person, k) => {
      const c = k % cols;
      const row = Math.floor(k / cols);
      placed[person] = { x: r.x + ((c + 0.5) * r.w) / cols, y: r.y + r.h - ((row + 0.5) * r.h) / rows, room, fixed: false };
    });
  }
  const people: ReportPerson[] = [];
  scenario.people.forEach((p, i) => {
    const at = placed[i];
    if (!at) return; // never on site during the run
    people.push({
      id: p.id,
      role: p.role,
      device: p.device?.kind ?? "none",
      x: round2(at.x),
      y: round2(at.y),
      room: movement.roomIds[at.room],
      fixedSpot: at.fixed,
      diagnosed: diagnosed.has(p.id),
      warnedLevel: warnedLevel.get(p.id) ?? 0
    });
  });

  const index = new Map(movement.personIds.map((id, i) => [id, i]));
  const pairs = new Map<string, ReportContact>();
  for (const d of truth.days) {
    for (const p of d.pairs) {
      if (p.within2m < CLOSE_CONTACT_MINUTES) continue;
      const key = `${p.a}\u0000${p.b}`;
      const c = pairs.get(key);
      if (c) {
        c.days++;
        c.minutes += p.within2m;
        continue;
      }
      const i = index.get(p.a)!;
      const j = index.get(p.b)!;
      const spots = near.get(Math.min(i, j) * count + Math.max(i, j));
      const best = spots ? [...spots.values()].reduce((x, y) => (y.n > x.n ? y : x)) : null;
      // Positions in a's then b's order; a pair the 5-minute samples missed is drawn between the two people's usual spots.
      const at = best ? (i < j ? best.at : ([best.at[2], best.at[3], best.at[0], best.at[1]] as const)) : null;
      const pa = placed[i];
      const pb = placed[j];
      const where = at ?? [pa?.x ?? 0, pa?.y ?? 0, pb?.x ?? 0, pb?.y ?? 0];
      pairs.set(key, {
        a: p.a,
        b: p.b,
        days: 1,
        minutes: p.within2m,
        at: [round2(where[0]), round2(where[1]), round2(where[2]), round2(where[3])]
      });
    }
  }
  const k = scenario.kiosk;
  return {
    rooms: scenario.rooms.map((r) => ({ id: r.id, kind: r.kind, x: r.x, y: r.y, w: r.w, h: r.h })),
    people,
    contacts: [...pairs.values()],
    kiosk: k ? { room: k.room, x: k.at[0], y: k.at[1] } : null
  };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
