import { Guard } from "./faults";
import { HeardAdvert, Platform } from "./platform-api";
import { EncounterLog } from "./log/store";
import { TABLE_SLOTS, WINDOW_PACKETS } from "./wire/scan-limits";

export { TABLE_SLOTS, WINDOW_PACKETS };
/** Free JsVars below which a window is skipped (counted as dropped) rather than risk running out mid-window. */
export var WINDOW_RESERVE_JSVARS = 150;

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
 * Rows are found through a 64-bucket index on the RPI's first byte, so a
 * packet costs one or two comparisons rather than a search of all 32 rows.
 * Packets below the board's logging floor (logMinRssiDbm) are ignored before
 * the table is searched. At the end of the window, one log record per RPI heard
 * at or above the floor, or only the strongest few while the log declares a
 * flood (log/store.ts).
 */
export function createScanner(
  p: Platform,
  log: EncounterLog,
  guard: Guard,
  beacon?: (keys: Uint8Array, k: number, t: number) => boolean
): Scanner {
  var keys = new Uint8Array(TABLE_SLOTS * 6);
  var sum = new Int32Array(TABLE_SLOTS);
  var peak = new Int16Array(TABLE_SLOTS);
  var cnt = new Uint16Array(TABLE_SLOTS);
  // head[bucket] and next[row]: the bucket's first / following row; 255 = none.
  var head = new Uint8Array(64);
  var next = new Uint8Array(TABLE_SLOTS);
  var used = 0;
  var packets = 0;
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
    // Over the limit: the radio stops now, the window's timer logs the table.
    if (++packets > WINDOW_PACKETS) {
      if (packets === WINDOW_PACKETS + 1) p.stopScan();
      return;
    }
    var b = d[0] & 63;
    var k;
    var i = head[b];
    for (; i < TABLE_SLOTS; i = next[i]) {
      for (k = 0; k < 5 && keys[i * 6 + k] === d[k]; k++);
      if (k === 5) break;
    }
    if (i >= TABLE_SLOTS) {
      if (used === TABLE_SLOTS) {
        overflow++;
        return;
      }
      i = used++;
      for (k = 0; k < 5; k++) keys[i * 6 + k] = d[k];
      keys[i * 6 + 5] = d[17];
      sum[i] = 0;
      peak[i] = -999;
      cnt[i] = 0;
      next[i] = head[b];
      head[b] = i;
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
    // The home kiosk's beacon is not an encounter: its row is neither logged nor counted towards a flood.
    var bi = -1;
    for (var i = 0; beacon && i < n; i++)
      if (beacon(keys, i * 6, t0)) {
        bi = i;
        cnt[i] = 0;
      }
    var rows = bi < 0 ? n : n - 1;
    var keep = log.window(t0, rows, overflow);
    overflow = 0;
    for (var j = 0, r = 0; j < keep; j++, r++) {
      if (r === bi) r++;
      var b = r;
      // A flood: the strongest rows heard more than once, by mean RSSI plus
      // 2 dB a packet. A phone close by is heard in most of the
      // window's packets, a flood of fresh RPIs once each; the rest are
      // counted as dropped.
      if (keep < rows) {
        b = -1;
        for (var s = -999, i = 0; i < n; i++) {
          var v = cnt[i] > 1 ? sum[i] / cnt[i] + 2 * cnt[i] : -999;
          if (v > s) {
            s = v;
            b = i;
          }
        }
        if (b < 0) {
          log.window(t0, 0, keep - j);
          break;
        }
      }
      log.add(keys, b * 6, t0, sum[b] / cnt[b], peak[b], cnt[b]);
      cnt[b] = 0;
    }
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
    packets = 0;
    head.fill(255);
    t0 = p.now();
    // Low on memory (a sync in progress, a leak): hear nothing rather than run
    // out mid-window, which would stop whatever timer was running. Counted.
    if (p.freeJsVars() < WINDOW_RESERVE_JSVARS) {
      log.window(t0, 0, 1);
      return;
    }
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
