import { Guard } from "./faults";
import { LedColour, Platform } from "./platform-api";

/**
 * The wearer interface on LEDs and one button (docs/wearer-interface.md).
 * Every signal differs in colour AND rhythm, so it reads on a one-LED board and
 * for someone who cannot tell the colours apart. A pattern is one integer:
 * colours (1 red, 2 green, 4 blue) | on ms/10 << 3 | off ms/10 << 11 | repeats << 19
 * (one JsVar, where a 4-number array costs six; the bundler folds each
 * expression into a literal).
 */
export var PATTERN = {
  riskNone: 2 | ((1500 / 10) << 3) | ((500 / 10) << 11) | (1 << 19),
  riskLow: 3 | ((500 / 10) << 3) | ((500 / 10) << 11) | (2 << 19),
  riskHigh: 1 | ((150 / 10) << 3) | ((150 / 10) << 11) | (6 << 19),
  needsSync: 4 | ((100 / 10) << 3) | ((900 / 10) << 11) | (3 << 19),
  batteryLow: 1 | ((80 / 10) << 3) | ((250 / 10) << 11) | (2 << 19),
  fault: 5 | ((1000 / 10) << 3) | ((300 / 10) << 11) | (3 << 19),
  syncOpen: 4 | ((60 / 10) << 3) | ((900 / 10) << 11) | (1 << 19),
  /** The wearer's press was taken as consent to release their keys: three quick green blinks. */
  consent: 2 | ((100 / 10) << 3) | ((150 / 10) << 11) | (3 << 19)
};

/** A pattern's fields: [colours, on ms, off ms, repeats]. */
export function patternParts(pattern: number): number[] {
  return [pattern & 7, ((pattern >> 3) & 255) * 10, ((pattern >> 11) & 255) * 10, pattern >> 19];
}

/** Press length (ms) from which a press opens (or closes) the sync window. */
export var LONG_PRESS_MS = 2000;
export var SYNC_WINDOW_MS = 120000;

export interface TokenStatus {
  /** A short press during an authenticated sync session: the wearer's consent to release their keys (true if taken). */
  consent(): boolean;
  risk(): number;
  needsSync(): boolean;
  batteryLow(): boolean;
  fault(): boolean;
}

export interface Ui {
  /** Play patterns one after another (a new call replaces what is playing). */
  play(patterns: number[]): void;
  /** The wearer's status: problems first, then the risk level. */
  showStatus(): void;
  syncOpen(): boolean;
  /** Open the sync window for SYNC_WINDOW_MS; `show` blinks it to the wearer (a long press), the kiosk's beacon opens it quietly (no argument). */
  openSync(show?: boolean): void;
}

var COLOURS: LedColour[] = ["red", "green", "blue"];

export function createUi(p: Platform, status: TokenStatus, setSync: (open: boolean) => void, guard: Guard): Ui {
  var queue: number[] = [];
  var step = 0;
  var timer = 0;
  var syncTimer = 0;
  var blink = 0;
  // A colour the board lacks falls back to the board's one LED: rhythm still
  // tells. A screen shown as the light has every colour.
  var have = [BOARD.screenLeds || BOARD.leds.red, BOARD.screenLeds || BOARD.leds.green, BOARD.screenLeds || BOARD.leds.blue];

  function set(mask: number, on: boolean): void {
    var lit = false;
    for (var i = 0; i < 3; i++)
      if (mask & (1 << i) && have[i]) {
        p.led(COLOURS[i], on);
        lit = true;
      }
    if (!lit) for (i = 0; i < 3; i++) if (have[i]) return p.led(COLOURS[i], on);
  }

  // Each pattern runs 2 × repeats steps (on, off), then a 1 s gap to the next.
  function next(): void {
    timer = 0;
    var pt = queue[0];
    if (!pt) return;
    var on = !(step & 1);
    set(pt & 7, on);
    var ms = ((pt >> (on ? 3 : 11)) & 255) * 10;
    if (++step >= 2 * (pt >> 19)) {
      queue.shift();
      step = 0;
      ms += 1000;
    }
    timer = p.setTimeout(guard(next), ms);
  }

  function play(patterns: number[]): void {
    if (timer) p.clearTimeout(timer);
    set(7, false);
    queue = patterns;
    step = 0;
    next();
  }

  function closeSync(): void {
    if (syncTimer) p.clearTimeout(syncTimer);
    if (blink) p.clearInterval(blink);
    syncTimer = blink = 0;
    setSync(false);
  }

  function openSync(show?: boolean): void {
    if (syncTimer) return;
    setSync(true);
    syncTimer = p.setTimeout(guard(closeSync), SYNC_WINDOW_MS);
    if (!show) return;
    // The heartbeat waits for whatever else is showing (a level the kiosk wrote, the consent blinks) to end.
    blink = p.setInterval(
      guard(function () {
        if (!timer) play([PATTERN.syncOpen]);
      }),
      2000
    );
    play([PATTERN.syncOpen]);
  }

  p.onButton(
    guard(function (ms: number) {
      if (ms < LONG_PRESS_MS) return status.consent() ? play([PATTERN.consent]) : ui.showStatus();
      if (syncTimer) return closeSync();
      openSync(true);
    })
  );

  var ui: Ui = {
    play: play,
    showStatus: function () {
      var q: number[] = [];
      if (status.fault()) q.push(PATTERN.fault);
      if (status.batteryLow()) q.push(PATTERN.batteryLow);
      if (status.needsSync()) q.push(PATTERN.needsSync);
      var r = status.risk();
      if (r >= 0) q.push([PATTERN.riskNone, PATTERN.riskLow, PATTERN.riskHigh][r]);
      play(q);
    },
    syncOpen: function () {
      return syncTimer !== 0;
    },
    openSync: openSync
  };
  return ui;
}
