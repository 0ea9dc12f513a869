import { strict as assert } from "node:assert";
import { EventScheduler } from "../../host-tools/src/sim/scheduler";

describe("sim scheduler", () => {
  it("runs events in time order and advances now to each event's time", () => {
    const s = new EventScheduler(100);
    const seen: Array<[string, number]> = [];
    s.at(103, () => seen.push(["c", s.now]));
    s.at(101, () => seen.push(["a", s.now]));
    s.at(102, () => seen.push(["b", s.now]));
    s.runAll();
    assert.deepEqual(seen, [
      ["a", 101],
      ["b", 102],
      ["c", 103]
    ]);
  });

  it("runs ties in insertion order", () => {
    const s = new EventScheduler();
    const seen: number[] = [];
    for (let i = 0; i < 50; i++) s.at(5, () => seen.push(i));
    s.runAll();
    assert.deepEqual(
      seen,
      Array.from({ length: 50 }, (_, i) => i)
    );
  });

  it("does not run a cancelled event", () => {
    const s = new EventScheduler();
    const seen: string[] = [];
    const id = s.at(1, () => seen.push("cancelled"));
    s.at(2, () => seen.push("kept"));
    s.cancel(id);
    s.runAll();
    assert.deepEqual(seen, ["kept"]);
    assert.equal(s.pending, 0);
  });

  it("runUntil stops at the horizon and leaves later events queued", () => {
    const s = new EventScheduler();
    const seen: number[] = [];
    s.at(1, () => seen.push(1));
    s.at(10, () => seen.push(10));
    assert.equal(s.runUntil(5), 1);
    assert.equal(s.now, 5);
    assert.deepEqual(seen, [1]);
    assert.equal(s.peekTime(), 10);
  });

  it("events scheduled from an event at the same time run after those already queued", () => {
    const s = new EventScheduler();
    const seen: string[] = [];
    s.at(1, () => {
      seen.push("first");
      s.at(1, () => seen.push("scheduled-inside"));
    });
    s.at(1, () => seen.push("second"));
    s.runAll();
    assert.deepEqual(seen, ["first", "second", "scheduled-inside"]);
  });

  it("an event asked for in the past runs now rather than going back in time", () => {
    const s = new EventScheduler(50);
    let at = -1;
    s.at(10, () => (at = s.now));
    s.runAll();
    assert.equal(at, 50);
  });

  it("keeps order through many random inserts and cancels", () => {
    const s = new EventScheduler();
    let x = 12345;
    const rnd = (): number => (x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const ran: number[] = [];
    const ids: number[] = [];
    for (let i = 0; i < 5000; i++) {
      const t = Math.floor(rnd() * 1000);
      ids.push(s.at(t, () => ran.push(t)));
    }
    for (let i = 0; i < 5000; i += 3) s.cancel(ids[i]);
    s.runAll();
    assert.equal(ran.length, 5000 - Math.ceil(5000 / 3));
    for (let i = 1; i < ran.length; i++) assert.ok(ran[i - 1] <= ran[i]);
  });

  it("advanceTo lets work run inline only when nothing else is due up to its time", () => {
    const s = new EventScheduler(0);
    const seen: Array<[string, number]> = [];
    s.at(2, () => {
      seen.push(["event", s.now]);
      // Due before the next queued event (at 5): runs inline, at its own time.
      assert.equal(s.advanceTo(3), true);
      seen.push(["inline", s.now]);
      // An event already queued for 5 was queued first: it must run first.
      assert.equal(s.advanceTo(5), false);
      // Beyond the run's horizon: must be queued.
      assert.equal(s.advanceTo(7), false);
    });
    s.at(5, () => seen.push(["queued", s.now]));
    assert.equal(s.runUntil(6), 3, "the inline work counts as an event");
    assert.deepEqual(seen, [
      ["event", 2],
      ["inline", 3],
      ["queued", 5]
    ]);
  });

  it("advanceTo refuses outside a run, into the past, and after stop()", () => {
    const s = new EventScheduler(10);
    assert.equal(s.advanceTo(11), false);
    let inside: boolean[] = [];
    s.at(12, () => {
      inside = [s.advanceTo(11), (s.stop(), s.advanceTo(13))];
    });
    s.runAll();
    assert.deepEqual(inside, [false, false]);
  });

  it("refuses a time that is not a finite number", () => {
    const s = new EventScheduler();
    assert.throws(() => s.at(NaN, () => undefined), /finite/);
  });
});
