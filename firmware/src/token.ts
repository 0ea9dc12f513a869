import { Platform } from "./platform-api";
import { createFaults } from "./faults";
import { openLog } from "./log/store";
import { createKeySchedule } from "./gaen/key-schedule";
import { createAdvertiser } from "./advertiser";
import { createScanner } from "./scanner";
import { createUi, PATTERN } from "./ui";
import { clockValid, setClock } from "./clock";
import { riskLevel } from "./wire/settings";
import { createSync, Sync } from "./sync";
import { openCounter } from "./counter-file";
import { BOOT_COUNT_FILE } from "./wire/fault-count";

/** Battery percentage under which the status shows "battery low". */
export var BATTERY_LOW = 15;
var TICK_MS = 60000;
/** Longer than a few missed ticks, so only a stalled interpreter trips it. */
var WATCHDOG_SECONDS = 300;

export interface Token {
  /** Set the clock (called by the sync link): re-anchors the log, starts advertising. */
  setTime(unixSeconds: number): void;
}

/**
 * The running token: log, key schedule, advertiser, scanner, wearer interface
 * and a one-minute main tick that kicks the watchdog, persists the fault count
 * and restarts anything that stalled. The watchdog is enabled last, so a token
 * whose start-up throws stays up (console-less but not rebooting in a loop).
 */
export function startToken(p: Platform): Token {
  var faults = createFaults(p);
  var g = faults.guard;
  var faultsAtBoot = faults.count();
  var log = openLog(p.storage);
  var keys = createKeySchedule(p);
  var adv = createAdvertiser(
    p,
    function (t: number) {
      return keys.identifiersAt(t);
    },
    g
  );
  var boots = openCounter(p.storage, BOOT_COUNT_FILE);
  boots.n++;
  g(boots.save)();
  // Assigned below; the scanner and the wearer's interface reach it only from later events.
  var sync: Sync;
  var scan = createScanner(p, log, g, function (k: Uint8Array, j: number, t: number) {
    return sync.beacon(k, j, t);
  });
  // The window the wearer or the kiosk's beacon asked for; a connected central keeps it open until it leaves.
  var wanted = false;
  function applyWindow(): void {
    p.setSyncWindow(wanted || sync.linked());
  }
  var ui = createUi(
    p,
    {
      consent: function () {
        return sync.consent();
      },
      risk: function () {
        return riskLevel(p.storage);
      },
      needsSync: function () {
        return !clockValid(p);
      },
      batteryLow: function () {
        return p.battery() < BATTERY_LOW;
      },
      fault: function () {
        return faults.count() > faultsAtBoot || keys.unsaved();
      }
    },
    function (open: boolean) {
      wanted = open;
      // Hold identifiers before the window opens; release after it closed, so
      // a due change never goes out connectable.
      if (open) adv.hold(true);
      applyWindow();
      if (!open && !sync.linked()) adv.hold(false);
    },
    g
  );
  // Declared before its first use: Espruino does not hoist function declarations.
  function setTime(t: number): void {
    setClock(p, log, t);
    // Only a token that was silent (lost clock) starts now; one already on the
    // air keeps its schedule, so a kiosk's sync does not mark a rotation.
    if (!adv.on()) adv.rotate();
  }
  sync = createSync(
    p,
    log,
    keys,
    {
      setTime: setTime,
      riskChanged: ui.showStatus,
      // Called with no argument: quietly, no heartbeat.
      openWindow: ui.openSync,
      linkDown: function () {
        if (!wanted) {
          applyWindow();
          adv.hold(false);
        }
      },
      faults: faults.count,
      boots: boots
    },
    g
  );
  var ticks = 0;
  // Guarded: a throw here must not skip the tick and the watchdog below (the
  // tick restarts both).
  g(adv.rotate)();
  g(scan.start)();
  // A timeout that books its successor first, not setInterval: Espruino drops
  // an interval for good when a call runs out of memory ("removing it"); a
  // successor booked before the work survives (checked on the real interpreter).
  var tick = g(function () {
    p.setTimeout(tick, TICK_MS);
    p.kickWatchdog();
    scan.watch();
    var ok = clockValid(p);
    if (ok && !adv.on()) adv.rotate();
    // A lost clock reminds every 5 minutes, without a press.
    if (!ok && !(++ticks % 5)) ui.play([PATTERN.needsSync]);
    // Last: its write throws on a full flash, which must not cost the rest.
    faults.flush();
  });
  p.setTimeout(tick, TICK_MS);
  p.enableWatchdog(WATCHDOG_SECONDS);
  return { setTime: setTime };
}
