/**
 * `E`, the console, `print`/`console.log`, `getTime`/`setTime`.
 *
 * Console model: it starts on no device and follows a Bluetooth connection
 * unless `E.setConsole(device, {force:true})` pinned it elsewhere; while it is
 * on Bluetooth, whatever a connected central writes is executed as
 * JavaScript (the hole espruino.md warns about). `E.lockConsole()` locks it
 * only when a password was set with `E.setPassword`.
 *
 * Watchdog: `E.enableWatchdog(sec, isAuto)`; with isAuto true (the default)
 * Espruino kicks it from its idle loop, so only code that never returns
 * would trip it (not modelled); with isAuto false the bundle must call
 * `E.kickWatchdog()` more often than `sec`, or the token resets.
 */
import type { HwRng } from "../prng";
import type { TokenRuntime } from "./runtime";
import { flattenBytes } from "./values";

export interface ConsoleState {
  /** "Bluetooth", "Serial1", … or null for the null device. */
  device: string | null;
  forced: boolean;
  password: string | null;
  locked: boolean;
}

export interface EHooks {
  /** A reset of the chip (E.reboot, watchdog); `kill` says whether the 'kill' event runs first. */
  reset(reason: "reboot" | "watchdog"): void;
  battery(): number;
  temperature(): number;
}

export interface EModule {
  E: Record<string, unknown>;
  console: ConsoleState;
  /** Emit E's 'init' event (after the boot code ran). */
  emitInit(): void;
  emitKill(): void;
  watchdog: { enabled: boolean; auto: boolean; timeoutSec: number };
}

export function installE(
  rt: TokenRuntime,
  prng: HwRng,
  hooks: EHooks,
  g: Record<string, unknown>,
  requireModule: (name: string) => unknown
): EModule {
  const R = rt.realm.intrinsics;
  const E = new R.Object() as Record<string, unknown>;
  const consoleState: ConsoleState = { device: null, forced: false, password: null, locked: false };
  const watchdog = { enabled: false, auto: true, timeoutSec: 0 };
  let watchdogEvent = 0;

  const armWatchdog = (): void => {
    if (watchdogEvent) rt.unschedule(watchdogEvent);
    watchdogEvent = 0;
    if (!watchdog.enabled || watchdog.auto) return;
    watchdogEvent = rt.schedule(rt.trueAfterMs(watchdog.timeoutSec * 1000), () => hooks.reset("watchdog"));
  };

  E.hwRand = (): number => {
    rt.guard();
    // Espruino returns the 32 random bits as a signed 32-bit integer.
    return prng.nextU32() | 0;
  };
  E.getBattery = (): number => {
    rt.guard();
    return Math.round(hooks.battery());
  };
  E.getTemperature = (): number => {
    rt.guard();
    return hooks.temperature();
  };
  E.setConsole = (device: unknown, options?: unknown): void => {
    rt.guard();
    consoleState.device = device === null || device === undefined ? null : String(device);
    consoleState.forced = options !== null && typeof options === "object" && (options as { force?: unknown }).force === true;
  };
  // The real 2v29 interpreter answers null (not undefined) for the null console.
  E.getConsole = (): string | null => {
    rt.guard();
    return consoleState.device;
  };
  E.setPassword = (pw: unknown): void => {
    rt.guard();
    consoleState.password = pw === undefined || pw === null ? null : String(pw);
  };
  E.lockConsole = (): void => {
    rt.guard();
    if (consoleState.password !== null) consoleState.locked = true;
  };
  E.enableWatchdog = (sec: unknown, isAuto?: unknown): void => {
    rt.guard();
    watchdog.enabled = true;
    watchdog.timeoutSec = Number(sec) > 0 ? Number(sec) : 1;
    watchdog.auto = isAuto !== false;
    armWatchdog();
  };
  E.kickWatchdog = (): void => {
    rt.guard();
    armWatchdog();
  };
  E.reboot = (): void => {
    rt.guard();
    hooks.reset("reboot");
  };
  E.toUint8Array = (...args: unknown[]): Uint8Array => {
    rt.guard();
    const bytes = flattenBytes(args);
    const u = new R.Uint8Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) u[i] = bytes[i];
    return u;
  };
  E.toString = (...args: unknown[]): string => {
    rt.guard();
    return String.fromCharCode(...flattenBytes(args));
  };
  g.E = E;

  const show = (v: unknown): string =>
    typeof v === "string"
      ? v
      : (() => {
          try {
            return R.JSON.stringify(v) ?? String(v);
          } catch {
            return String(v);
          }
        })();
  const print = (...args: unknown[]): void => {
    rt.guard();
    rt.print(args.map(show).join(" "));
  };
  g.print = print;
  const con = new R.Object() as Record<string, unknown>;
  con.log = print;
  con.warn = print;
  con.error = print;
  con.info = print;
  con.debug = print;
  g.console = con;

  g.getTime = (): number => {
    rt.guard();
    return rt.localNow();
  };
  g.setTime = (t: unknown): void => {
    rt.guard();
    rt.clock.set(rt.scheduler.now, Number(t));
  };
  g.require = (name: unknown): unknown => {
    rt.guard();
    return requireModule(String(name));
  };

  return {
    E,
    console: consoleState,
    watchdog,
    emitInit: () => rt.emit(E, "init", []),
    emitKill: () => rt.emit(E, "kill", [])
  };
}
