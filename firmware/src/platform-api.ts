/**
 * The one seam between firmware logic and the world. On a token it is backed by
 * Espruino's globals (`platform.ts`); in unit tests by a fake; in the simulator
 * the real `platform.ts` runs against emulated globals. Modules take a
 * `Platform` argument and never touch a global themselves.
 */

export type LedColour = "red" | "green" | "blue";

export interface Platform {
  /** Seconds since 1970 as the token believes it (getTime()). */
  now(): number;
  /** Set the wall clock (kiosk sync). */
  setTime(unixSeconds: number): void;
  /** 32 random bits from the hardware RNG. */
  random32(): number;
  /** Switch one LED; a board without that colour ignores the call. */
  led(colour: LedColour, on: boolean): void;
  /** Call `cb` with the press duration in ms each time the button is released. */
  onButton(cb: (pressMs: number) => void): void;
  setTimeout(cb: () => void, ms: number): number;
  clearTimeout(id: number): void;
  setInterval(cb: () => void, ms: number): number;
  clearInterval(id: number): void;
  /** Battery level 0..100. */
  battery(): number;
  /** Take the JavaScript console off Bluetooth so nobody in range can run code. */
  lockConsole(): void;
}
