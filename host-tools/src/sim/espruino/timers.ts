/**
 * setTimeout/setInterval/clearTimeout/clearInterval/changeInterval on the
 * shared scheduler. Delays are in the token's own milliseconds (its clock
 * drifts), converted to true time when scheduled, so a later setTime()
 * does not move a pending timer. Extra arguments are passed to the callback,
 * as Espruino does. Timeouts and intervals share one id space.
 */
import type { TokenRuntime } from "./runtime";

interface Timer {
  fn: unknown;
  args: unknown[];
  /** Interval period in the token's ms; 0 for a timeout. */
  intervalMs: number;
  eventId: number;
  /** True time the timer last fired or was armed. */
  lastTrue: number;
}

/** An interval below 1 ms would spin the event queue; Espruino itself cannot go that fast either. */
const MIN_INTERVAL_MS = 1;

export interface TimerList {
  clearAll(): void;
  count(): number;
  /** Pending timers (for the memory model). */
  list(): Array<{ fn: unknown; args: readonly unknown[]; interval: boolean }>;
}

export function installTimers(rt: TokenRuntime, g: Record<string, unknown>): TimerList {
  const timers = new Map<number, Timer>();
  let nextId = 1;

  const arm = (id: number, t: Timer, fromTrue: number, ms: number): void => {
    const delta = rt.trueAfterMs(ms) - rt.scheduler.now;
    t.eventId = rt.schedule(fromTrue + delta, () => fire(id));
  };
  const fire = (id: number): void => {
    const t = timers.get(id);
    if (!t) return;
    if (t.intervalMs > 0) {
      // Next period counts from when this one was due, so intervals do not slip.
      t.lastTrue = rt.scheduler.now;
      arm(id, t, t.lastTrue, t.intervalMs);
    } else timers.delete(id);
    rt.call(t.fn, undefined, t.args);
  };
  const add = (fn: unknown, ms: unknown, args: unknown[], repeat: boolean): number => {
    rt.guard();
    if (typeof fn !== "function") throw new rt.realm.intrinsics.TypeError("Function or String not supplied!");
    let delay = Number(ms);
    if (!(delay >= 0)) delay = 0;
    if (repeat && delay < MIN_INTERVAL_MS) delay = MIN_INTERVAL_MS;
    const id = nextId++;
    const t: Timer = { fn, args, intervalMs: repeat ? delay : 0, eventId: 0, lastTrue: rt.scheduler.now };
    timers.set(id, t);
    arm(id, t, rt.scheduler.now, delay);
    return id;
  };
  const clear = (id: unknown): void => {
    rt.guard();
    if (id === undefined) {
      clearAll();
      return;
    }
    const t = timers.get(Number(id));
    if (!t) return;
    rt.unschedule(t.eventId);
    timers.delete(Number(id));
  };
  const clearAll = (): void => {
    for (const t of timers.values()) rt.unschedule(t.eventId);
    timers.clear();
  };

  g.setTimeout = function (fn: unknown, ms?: unknown, ...args: unknown[]): number {
    return add(fn, ms, args, false);
  };
  g.setInterval = function (fn: unknown, ms?: unknown, ...args: unknown[]): number {
    return add(fn, ms, args, true);
  };
  g.clearTimeout = clear;
  g.clearInterval = clear;
  g.changeInterval = function (id: unknown, ms: unknown): void {
    rt.guard();
    const t = timers.get(Number(id));
    if (!t) return;
    let delay = Number(ms);
    if (!(delay >= MIN_INTERVAL_MS)) delay = MIN_INTERVAL_MS;
    rt.unschedule(t.eventId);
    if (t.intervalMs > 0) t.intervalMs = delay;
    t.lastTrue = rt.scheduler.now;
    arm(Number(id), t, t.lastTrue, delay);
  };
  return {
    clearAll,
    count: () => timers.size,
    list: () => [...timers.values()].map((t) => ({ fn: t.fn, args: t.args, interval: t.intervalMs > 0 }))
  };
}
