/**
 * The board's pins (LEDs and the button, named as in the board config),
 * digitalWrite/digitalRead and setWatch with Espruino's edge, repeat and
 * debounce semantics. A watch event is `{state, time, lastTime}` where
 * `lastTime` is the time of the previous accepted edge of that pin, so a
 * falling-edge watch on a button gets the press start in `lastTime`.
 * With `debounce` > 0 an edge is accepted only if the level is still the same
 * `debounce` ms later, and `time` is when it was accepted.
 */
import type { BoardConfig } from "../../build/boards";
import type { TokenRuntime } from "./runtime";

export type LedColour = "red" | "green" | "blue";

interface Watch {
  fn: unknown;
  pin: string;
  edge: "rising" | "falling" | "both";
  repeat: boolean;
  debounceMs: number;
  /** Last accepted level and when. */
  level: boolean;
  lastTime: number;
  pendingId: number;
  fired: boolean;
}

export interface Pins {
  /** Level of each output pin, by name. */
  level(name: string): boolean;
  /** The world presses or releases the button (physical: survives reboots). */
  setButton(down: boolean): void;
  /** Install the pin globals and functions for a new boot (outputs start low). */
  install(g: Record<string, unknown>): void;
  ledColour(colour: LedColour): boolean;
  /** Watches set now (for the memory model); `fired` once an edge was accepted. */
  watchList(): Array<{ fn: unknown; fired: boolean }>;
}

export function createPins(board: BoardConfig, rt: TokenRuntime): Pins {
  const button = board.button;
  const aliases = button === "BTN" ? ["BTN", "BTN1"] : button === "BTN1" ? ["BTN1", "BTN"] : [button];
  const levels = new Map<string, boolean>();
  let buttonDown = false;
  let watches = new Map<number, Watch>();
  let nextWatch = 1;
  let pinObjects = new Map<object, string>();

  const canonical = (name: string): string => (aliases.indexOf(name) >= 0 ? button : name);
  const read = (name: string): boolean => (name === button ? buttonDown : levels.get(name) === true);

  const resolve = (pin: unknown): string => {
    if (pin !== null && typeof pin === "object" && pinObjects.has(pin)) return pinObjects.get(pin)!;
    if (typeof pin === "string" && (levels.has(pin) || aliases.indexOf(pin) >= 0)) return canonical(pin);
    throw new rt.realm.intrinsics.Error(`Invalid pin: ${String(pin)}`);
  };

  const edge = (name: string, level: boolean): void => {
    const t = rt.localNow();
    for (const [id, w] of watches) {
      if (w.pin !== name) continue;
      if (w.debounceMs <= 0) accept(id, w, level, t);
      else {
        if (w.pendingId) rt.unschedule(w.pendingId);
        w.pendingId = rt.schedule(rt.trueAfterMs(w.debounceMs), () => {
          w.pendingId = 0;
          if (read(name) === level && level !== w.level) accept(id, w, level, rt.localNow());
        });
      }
    }
  };

  const accept = (id: number, w: Watch, level: boolean, time: number): void => {
    const lastTime = w.lastTime;
    w.level = level;
    w.lastTime = time;
    w.fired = true;
    const wanted = w.edge === "both" || (w.edge === "rising" ? level : !level);
    if (!wanted) return;
    if (!w.repeat) watches.delete(id);
    const R = rt.realm.intrinsics;
    const ev = new R.Object() as Record<string, unknown>;
    ev.state = level;
    ev.time = time;
    ev.lastTime = lastTime;
    rt.call(w.fn, undefined, [ev]);
  };

  const write = (name: string, v: unknown): void => {
    rt.guard();
    if (name === button) return; // an input: writing it does nothing we model
    levels.set(name, Boolean(typeof v === "number" ? v & 1 : v));
  };

  return {
    level: read,
    ledColour(colour) {
      const pin = board.leds[colour];
      return pin !== undefined && !rt.dead && read(pin);
    },
    setButton(down) {
      if (down === buttonDown) return;
      buttonDown = down;
      if (!rt.dead) edge(button, down);
    },
    watchList() {
      return [...watches.values()].map((w) => ({ fn: w.fn, fired: w.fired }));
    },
    install(g) {
      watches = new Map();
      pinObjects = new Map();
      levels.clear();
      const R = rt.realm.intrinsics;
      const names = [...Object.values(board.leds).filter((n): n is string => typeof n === "string"), ...aliases];
      for (const n of names) {
        if (n !== button) levels.set(n, false);
        const p = new R.Object() as Record<string, unknown>;
        const c = canonical(n);
        p.write = (v: unknown) => write(c, v);
        p.set = () => write(c, 1);
        p.reset = () => write(c, 0);
        p.read = () => read(c);
        p.toggle = () => {
          write(c, !read(c));
          return read(c);
        };
        p.toString = () => n;
        pinObjects.set(p, c);
        g[n] = p;
      }
      g.digitalWrite = (pin: unknown, v: unknown): void => {
        if (Array.isArray(pin)) {
          // Espruino writes the bits of v to the pins, last pin = bit 0.
          const n = pin.length;
          pin.forEach((p, i) => write(resolve(p), (Number(v) >> (n - 1 - i)) & 1));
        } else write(resolve(pin), v);
      };
      g.digitalRead = (pin: unknown): number => {
        rt.guard();
        return read(resolve(pin)) ? 1 : 0;
      };
      g.setWatch = (fn: unknown, pin: unknown, options?: unknown): number => {
        rt.guard();
        if (typeof fn !== "function") throw new R.TypeError("Function or String not supplied!");
        const name = resolve(pin);
        const o = (options !== null && typeof options === "object" ? options : {}) as {
          edge?: unknown;
          repeat?: unknown;
          debounce?: unknown;
        };
        const e = o.edge === "rising" || o.edge === 1 ? "rising" : o.edge === "falling" || o.edge === -1 ? "falling" : "both";
        const id = nextWatch++;
        watches.set(id, {
          fn,
          pin: name,
          edge: e,
          repeat: o.repeat === true,
          debounceMs: Number(o.debounce) > 0 ? Number(o.debounce) : 0,
          level: read(name),
          lastTime: rt.localNow(),
          pendingId: 0,
          fired: false
        });
        return id;
      };
      g.clearWatch = (id?: unknown): void => {
        rt.guard();
        if (id === undefined) {
          for (const w of watches.values()) if (w.pendingId) rt.unschedule(w.pendingId);
          watches.clear();
          return;
        }
        const w = watches.get(Number(id));
        if (w && w.pendingId) rt.unschedule(w.pendingId);
        watches.delete(Number(id));
      };
    }
  };
}
