import { Guard } from "./faults";
import { HeardAdvert, Platform } from "./platform-api";
import { EncounterLog } from "./log/store";

/** Distinct RPIs one scan can aggregate; more are counted as dropped, never stored in RAM. */
export var TABLE_SLOTS = 32;

export interface Scanner {
  /** Start the scan cycle (idempotent: restarts it). */
  start(): void;
  /** Called every minute by the main loop: restarts a cycle that has stalled. */
  watch(): void;
}

/**
 * Duty-cycled passive scanning (board schedule: a window of scanWindowMs every
 * scanPeriodSec minus up to scanJitterSec at random, as phones do). During a
 * window each packet updates one row of a fixed table (RPI prefix + AEM byte
 * 1, RSSI sum, peak, count): no allocation, bounded work, whatever the crowd.
 * Packets below the board's logging floor (logMinRssiDbm) are ignored before
 * the table is searched. At the end of the window, one log record per RPI heard
 * at or above the floor.
 */
export function createScanner(p: Platform, log: EncounterLog, guard: Guard): Scanner {
  var keys = new Uint8Array(TABLE_SLOTS * 6);
  var sum = new Int32Array(TABLE_SLOTS);
  var peak = new Int16Array(TABLE_SLOTS);
  var cnt = new Uint16Array(TABLE_SLOTS);
  var used = 0;
  var overflow = 0;
  var t0 = 0;
  var timer = 0;
  var idle = 0;
  var win = 0;

  var heard = guard(function (a: HeardAdvert) {
    var d = a.serviceData;
    if (d.length < 20) return;
    var r = a.rssi + BOARD.radio.rssiCalibrationDb;
    // Logging floor, before the table search: in a crowd most packets are far
    // away, and they cost one comparison. An RPI is logged iff its peak in the
    // scan reaches the floor; its mean is over the packets that did.
    if (r < BOARD.schedule.logMinRssiDbm) return;
    var i = 0;
    var k = 0;
    for (; i < used; i++) {
      for (k = 0; k < 5 && keys[i * 6 + k] === d[k]; k++);
      if (k === 5) break;
    }
    if (i === used) {
      if (used === TABLE_SLOTS) {
        overflow++;
        return;
      }
      for (k = 0; k < 5; k++) keys[i * 6 + k] = d[k];
      keys[i * 6 + 5] = d[17];
      sum[i] = 0;
      peak[i] = -999;
      cnt[i] = 0;
      used++;
    }
    sum[i] += r;
    if (r > peak[i]) peak[i] = r;
    if (cnt[i] < 65535) cnt[i]++;
  });

  function end(): void {
    win = 0;
    p.stopScan();
    var n = used;
    used = 0;
    for (var i = 0; i < n; i++) log.add(keys, i * 6, t0, sum[i] / cnt[i], peak[i], cnt[i]);
    if (overflow) log.drop(overflow);
    overflow = 0;
  }

  function cycle(): void {
    idle = 0;
    // A window still open here had its end held up behind a busy interpreter
    // (Espruino does not run overdue timers in due order): log it now rather
    // than reset its table below.
    if (win) {
      p.clearTimeout(win);
      end();
    }
    if (timer) p.clearTimeout(timer);
    // The next cycle is booked before this one runs, so no exception can end scanning.
    timer = p.setTimeout(guard(cycle), (BOARD.schedule.scanPeriodSec - (p.random32() % (BOARD.schedule.scanJitterSec + 1))) * 1000);
    used = 0;
    overflow = 0;
    t0 = p.now();
    p.startScan(heard);
    win = p.setTimeout(guard(end), BOARD.schedule.scanWindowMs);
  }

  return {
    start: cycle,
    watch: function () {
      if (++idle > BOARD.schedule.scanPeriodSec / 30 + 2) cycle();
    }
  };
}
