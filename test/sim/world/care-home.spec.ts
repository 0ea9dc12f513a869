import { strict as assert } from "node:assert";
import * as crypto from "node:crypto";
import { careHome } from "../../../host-tools/src/sim/world/care-home";
import { validateScenario, loadScenario, parseClock } from "../../../host-tools/src/sim/world/scenario-load";
import { Movement } from "../../../host-tools/src/sim/world/movement";
import { UserError } from "../../../host-tools/src/errors";

function presentAt(m: Movement, role: (id: string) => boolean, day: number, hh: number, mm = 0): string[] {
  return m.personIds.filter((id, i) => role(id) && m.pose(i, day * 1440 + hh * 60 + mm) !== null);
}

describe("sim/world care home", () => {
  const s = careHome({ seed: 42 });
  const m = new Movement(s, 42);
  const room = (id: string, day: number, hh: number, mm = 0) => {
    const p = m.pose(m.personIndex(id), day * 1440 + hh * 60 + mm);
    return p ? m.roomIds[p.room] : null;
  };

  it("is a valid scenario with at least 30 residents, each in a bedroom of their own at night", () => {
    validateScenario(s);
    const residents = s.people.filter((p) => p.role === "resident");
    assert.ok(residents.length >= 30, `${residents.length} residents`);
    const bedrooms = new Set(residents.map((r) => room(r.id, 0, 3)));
    assert.equal(bedrooms.size, residents.length);
    for (const r of bedrooms) assert.match(String(r), /^bedroom-/);
  });

  it("has bedrooms, a corridor, a dining room, a lounge and an office", () => {
    const kinds = new Set(s.rooms.map((r) => r.kind));
    for (const k of ["bedroom", "corridor", "dining", "lounge", "office"]) assert.ok(kinds.has(k), `no ${k}`);
  });

  it("serves three meals a day with every resident seated in the dining room", () => {
    for (const [hh, mm] of [
      [8, 20],
      [12, 30],
      [17, 45]
    ]) {
      const residents = s.people.filter((p) => p.role === "resident");
      assert.ok(
        residents.every((r) => room(r.id, 3, hh, mm) === "dining"),
        `not all residents dine at ${hh}:${mm}`
      );
    }
  });

  it("has staff on three shifts, each staffed every day of a week, and nobody works every day", () => {
    const staff = (shift: string) => (id: string) => id.startsWith("staff-") && id.endsWith(shift);
    for (let day = 0; day < 7; day++) {
      assert.ok(presentAt(m, staff("early"), day, 10).length >= 3, `early shift on day ${day}`);
      assert.ok(presentAt(m, staff("late"), day, 19).length >= 3, `late shift on day ${day}`);
      assert.ok(presentAt(m, staff("night"), day, 3).length >= 3, `night shift on day ${day}`);
      assert.equal(presentAt(m, staff("early"), day, 19).length, 0, "early staff gone in the evening");
    }
    const staffIds = m.personIds.filter((id) => id.startsWith("staff-"));
    for (const id of staffIds) {
      const days = [0, 1, 2, 3, 4, 5, 6].filter(
        (d) => presentAt(m, (x) => x === id, d, id.endsWith("night") ? 23 : id.endsWith("late") ? 19 : 10, 30).length > 0
      );
      assert.ok(days.length < 7 && days.length >= 4, `${id} works ${days.length} days a week`);
    }
  });

  it("has visitors who come on some afternoons and are off site otherwise", () => {
    const visitors = s.people.filter((p) => p.role === "visitor");
    assert.equal(visitors.length, 8, "the default number of visitors");
    // Each visitor's one schedule entry says when they may come; on such a day they stay the whole visit or do not come.
    let offered = 0;
    let made = 0;
    let chance = 0;
    for (const v of visitors) {
      const [e] = v.schedule;
      const from = parseClock(e.from)!;
      const to = parseClock(e.to)!;
      chance = e.chance!;
      const i = m.personIndex(v.id);
      for (let day = 0; day < 14; day++) {
        const minutes: number[] = [];
        for (let minute = 0; minute < 1440; minute++) if (m.pose(i, day * 1440 + minute)) minutes.push(minute);
        const weekday = new Date((m.start + day * 86400) * 1000).getUTCDay();
        if (!e.weekdays!.includes(weekday)) {
          assert.deepEqual(minutes, [], `${v.id} on day ${day}: not a visiting day`);
          continue;
        }
        offered++;
        if (minutes.length) made++;
        assert.ok(
          minutes.length === 0 || (minutes.length === to - from && minutes[0] === from),
          `${v.id} on day ${day}: the whole visit or none`
        );
      }
    }
    // Whether a visit happens is drawn per day with the entry's chance: the count stays within 3 σ of it.
    const sd = Math.sqrt(offered * chance * (1 - chance));
    assert.ok(Math.abs(made - offered * chance) <= 3 * sd, `${made} of ${offered} visits at chance ${chance}`);
  });

  it("has 50 tokens by default, and phones for some staff and visitors", () => {
    assert.equal(s.people.filter((p) => p.device?.kind === "token").length, 50);
    assert.ok(s.people.some((p) => p.role === "staff" && p.device?.kind === "phone"));
    assert.ok(s.people.some((p) => p.role === "visitor" && p.device?.kind === "phone"));
  });

  it("is generated the same from the same seed and differently from another", () => {
    assert.deepEqual(careHome({ seed: 42 }), s);
    assert.notDeepEqual(careHome({ seed: 43 }), s);
  });

  it("rejects a scenario file with a clear list of problems", () => {
    const bad = { ...s, people: [{ id: "x", role: "r", schedule: [{ from: "23:00", to: "07:00", rooms: ["nowhere"] }] }] };
    assert.throws(
      () => validateScenario(bad),
      (e: unknown) => e instanceof UserError && /after "from"/.test(e.message) && /unknown room "nowhere"/.test(e.message)
    );
    assert.throws(
      () => loadScenario("no-such-scenario", 1),
      (e: unknown) => e instanceof UserError && /care-home/.test(e.message)
    );
  });
});

describe("sim/world care home with two wings (care-home-wings)", () => {
  const s = loadScenario("care-home-wings", 42);
  const m = new Movement(s, 42);
  const roomAt = (id: string, day: number, hh: number, mm = 0): string | null => {
    const p = m.pose(m.personIndex(id), day * 1440 + hh * 60 + mm);
    return p ? m.roomIds[p.room] : null;
  };
  const residents = s.people.filter((p) => p.role === "resident");
  const linkX = s.rooms.find((r) => r.id === "link")!.x;
  const wingOfRoom = (room: string): "west" | "east" => (s.rooms.find((r) => r.id === room)!.x < linkX ? "west" : "east");
  // A resident's wing is where their bedroom is.
  const bedroomWing = (id: string): "west" | "east" => wingOfRoom(roomAt(id, 0, 3)!);

  it("splits the residents between two wings, each with its own dining room and lounge, 20 m of corridor apart", () => {
    assert.equal(s.name, "care-home-wings");
    assert.equal(residents.length, 36);
    assert.equal(residents.filter((r) => bedroomWing(r.id) === "west").length, 18);
    for (const r of residents) {
      const wing = bedroomWing(r.id);
      assert.equal(roomAt(r.id, 3, 12, 30), `dining-${wing}`, `${r.id} has lunch in the ${wing} wing`);
    }
    const link = s.rooms.find((r) => r.id === "link")!;
    assert.ok(link.w >= 20);
    const westEnd = Math.max(...s.rooms.filter((r) => r.id.endsWith("-west")).map((r) => r.x + r.w));
    const eastStart = Math.min(...s.rooms.filter((r) => r.id.endsWith("-east")).map((r) => r.x));
    assert.ok(eastStart - westEnd >= 20, `${eastStart - westEnd} m between the wings`);
  });

  it("keeps each member of staff in their own wing, and each wing staffed on every shift", () => {
    for (let day = 0; day < 7; day++)
      for (const wing of ["west", "east"])
        for (const [shift, hh] of [
          ["early", 10],
          ["late", 19],
          ["night", 3]
        ] as const) {
          const on = presentAt(m, (id) => id.startsWith("staff-") && id.includes(`-${shift}-${wing}`), day, hh);
          assert.ok(on.length >= 3, `${shift} shift in the ${wing} wing on day ${day}`);
          for (const id of on) assert.equal(wingOfRoom(roomAt(id, day, hh)!), wing, `${id} in ${roomAt(id, day, hh)}`);
        }
  });

  it("diagnoses one west resident and has its one kiosk in the west lounge", () => {
    assert.equal(s.people.filter((p) => p.device?.kind === "token").length, 50);
    assert.equal(s.diagnoses!.length, 1);
    assert.equal(bedroomWing(s.diagnoses![0].person), "west");
    assert.equal(s.kiosk!.room, "lounge-west");
  });

  it("leaves the one-wing home as it was", () => {
    assert.deepEqual(careHome({ seed: 42, wings: 1 }), careHome({ seed: 42 }));
    // The one-wing home of seed 1 as generated before wings existed: every published figure of the demo comes from it.
    const hash = crypto
      .createHash("sha256")
      .update(JSON.stringify(careHome({ seed: 1 })))
      .digest("hex");
    assert.equal(hash.slice(0, 16), "bdb8b82444356fb9");
    assert.throws(() => careHome({ seed: 42, wings: 3 }), RangeError);
  });
});
