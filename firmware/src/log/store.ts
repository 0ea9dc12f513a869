import { PlatformStorage } from "../platform-api";
import { DROP_FILE } from "../wire/drop-count";
import { openCounter } from "../counter-file";
import { FLOOD_KEEP } from "../wire/scan-limits";
import { getLE, putLE } from "../wire/le-bytes";
import {
  ACK_FILE,
  FLAG_FLOOD,
  FLAG_UTC,
  FLOOD_MARK,
  HEADER_ANCHOR_OFFSET,
  HEADER_FLOOD_OFFSET,
  HEADER_BYTES,
  LOG_CAP_BUNDLE_BYTES,
  LOG_PREFIX,
  MAX_MINUTE,
  RECORD_BYTES,
  RESERVE_BYTES,
  SEGMENT_BYTES,
  SEGMENT_FOOTPRINT,
  SEGMENT_RECORDS,
  SegmentHeader,
  decodeHeader,
  encodeAnchor,
  encodeHeader,
  encodeRecord,
  firstFreeSlot,
  utcBase
} from "../wire/log-record";

/**
 * The encounter log in flash: append-only segment files (format, names and
 * space rule in wire/log-record.ts, design in docs/encounter-log.md). Oldest
 * segments go first when flash is short, counted as dropped; segments older
 * than the retention go whatever the space. Only `pt.log*` files are ever
 * erased here, and RESERVE_BYTES stay free for the token's own keys and
 * settings.
 *
 * Flooding (docs/encounter-log.md, "Flooding"): a transmitter sending fresh
 * RPIs in every scan would otherwise push the whole history out of flash in a
 * day. Once an hour is offered more than BOARD.schedule.floodHourBudget new
 * records (table rows; hourBudget in wire/scan-limits.ts) a flood is declared:
 * windows log only their FLOOD_KEEP strongest RPIs heard more than once, the
 * segment being written gets a flood mark, and the log makes room only by
 * erasing segments created during a flood; with none left, new records are
 * dropped (counted) and history stays. Every lost sighting is
 * counted, and the count reaches flash within about an hour (wire/drop-count.ts).
 */
export var RETENTION_SECONDS = 14 * 86400;
// Still exported from here for real-espruino/token-scenario.ts, which imports it
// from this module; everything else takes it from wire/log-record.ts.

export interface EncounterLog {
  /**
   * Store one sighting heard at local time `t`; `key[k..k+5]` is the RPI
   * prefix, `key[k+5]` the AEM byte 1. False if it could not be stored (counted
   * as dropped).
   */
  add(key: Uint8Array, k: number, t: number, meanRssi: number, maxRssi: number, count: number): boolean;
  /**
   * A scan window started at `t` ended with `rows` RPIs in its table and
   * `lost` sightings it could not hold (counted as dropped). Returns how many
   * of the rows to log, the strongest first: all of them, or FLOOD_KEEP while
   * a flood is declared (the others counted as dropped). Also where the
   * dropped count is persisted, once an hour at most.
   */
  window(t: number, rows: number, lost: number): number;
  /** The clock was set from `oldLocal` to `newUtc`: re-anchor this boot's uptime segments. */
  anchor(oldLocal: number, newUtc: number): void;
  /** Sightings dropped since the log began (persisted at each new segment and within about an hour in DROP_FILE). */
  dropped(): number;
  /** Numbers of the segments kept, oldest first. */
  segments(): number[];
  /**
   * A kiosk stored every segment before `seg` (sync LOG_ACK): when flash is
   * short those go first, and not as dropped. Kept in ACK_FILE. Returns the
   * acknowledgement now recorded (never lower than before).
   */
  ack(seg: number): number;
}

export function openLog(st: PlatformStorage): EncounterLog {
  var seq = 0;
  var cur = "";
  var base = 0;
  var utc = false;
  var slot = 0;
  var dropped = 0;
  var bootFirst = 0;
  var fullFree = -1;
  var fullAt = 0;
  // Flood bookkeeping: the clock hour, sightings offered in it, whether a flood is declared.
  var hour = 0;
  var demand = 0;
  var flood = false;
  var dc = openCounter(st, DROP_FILE);
  var ab = st.read(ACK_FILE);
  var acked = ab && ab.length === 4 ? getLE(ab, 0, 4) : 0;
  // Cap for boards whose Storage is shared (see LOG_CAP_BUNDLE_BYTES). (Read
  // here, not at load: BOARD is inlined.)
  var maxSegs = Math.floor((BOARD.storage.dataBytes - LOG_CAP_BUNDLE_BYTES) / SEGMENT_FOOTPRINT);

  function name(n: number): string {
    return LOG_PREFIX + n;
  }
  function seqs(): number[] {
    var l = st.list(LOG_PREFIX);
    var out: number[] = [];
    for (var i = 0; i < l.length; i++) {
      var n = parseInt(l[i].substr(LOG_PREFIX.length), 10);
      if (n > 0) out.push(n);
    }
    return out.sort(function (a, b) {
      return a - b;
    });
  }
  function header(n: number): SegmentHeader | null {
    var b = st.read(name(n));
    return b ? decodeHeader(b) : null;
  }

  // Recovery: only the newest segment can hold a cut write. A torn header means
  // the cut came while creating it, so it holds nothing; a torn record is
  // skipped (its bytes are no longer erased) and writing resumes after it.
  var all = seqs();
  if (all.length) {
    seq = all[all.length - 1];
    var b = st.read(name(seq));
    var h = b ? decodeHeader(b) : null;
    // A cut during Espruino's own file header can leave a name that lists but
    // does not read: skip it, the next segment takes the next number.
    if (!h) {
      st.erase(name(seq));
      // The count goes on from the segment before, never back to 0.
      h = all.length > 1 ? header(all[all.length - 2]) : null;
      if (h) dropped = h.dropped;
    } else {
      dropped = h.dropped;
      if (h.flags & FLAG_UTC) {
        cur = name(seq);
        base = h.base;
        utc = true;
        slot = firstFreeSlot(b as Uint8Array);
      }
    }
  }
  // No kiosk stored a segment not yet begun: an ack past the newest is a cut
  // while pt.ack was written (erased bytes), taken as no ack at all.
  if (acked > (all.length ? all[all.length - 1] : 4e9) + 1) acked = 0;
  // Numbers never go back below the acknowledgement: with every segment gone
  // (erased, or lost in a cut) a new pt.log1 would read as already stored.
  if (seq < acked - 1) seq = acked - 1;
  // The drop file is newer than any header when records were lost since.
  if (dc.n > dropped) dropped = dc.n;
  var saved = dropped;

  function evict(t: number, isUtc: boolean): void {
    var all = seqs();
    var i: number;
    // Privacy first: a segment goes once a later one began before the retention.
    var cut = 0;
    if (isUtc)
      for (i = 1; i < all.length; i++) {
        var h = header(all[i]);
        var u = h ? utcBase(h) : null;
        if (u !== null && u < t - RETENTION_SECONDS) cut = i;
      }
    for (i = 0; i < cut; i++) st.erase(name(all[i]));
    all.splice(0, cut);
    var need = SEGMENT_FOOTPRINT + RESERVE_BYTES;
    if (st.getFree() < need) st.compact();
    while (all.length && (all.length >= maxSegs || st.getFree() < need)) {
      // Segments a kiosk already stored go first (they are not lost), then
      // those written during a flood, oldest first; while a flood is declared
      // nothing else goes: the flood's own records make room for it, never
      // the history before it.
      i = 0;
      if (all[0] >= acked)
        for (; i < all.length; i++) {
          h = header(all[i]);
          if (h && h.flags & FLAG_FLOOD) break;
        }
      if (i === all.length) {
        if (flood) throw new Error("flood: log full");
        i = 0;
      }
      var gone = all.splice(i, 1)[0];
      var n = name(gone);
      var b = st.read(n);
      if (b && gone >= acked) dropped += firstFreeSlot(b);
      st.erase(n);
      if (st.getFree() < need) st.compact();
    }
  }

  function start(t: number, isUtc: boolean): void {
    cur = "";
    evict(t, isUtc);
    base = Math.floor(t / 60) * 60;
    utc = isUtc;
    slot = 0;
    seq++;
    st.write(name(seq), encodeHeader(base, (isUtc ? FLAG_UTC : 0) | (flood ? FLAG_FLOOD : 0), dropped), 0, SEGMENT_BYTES);
    cur = name(seq);
    if (!bootFirst) bootFirst = seq;
  }

  return {
    add: function (key: Uint8Array, k: number, t: number, meanRssi: number, maxRssi: number, count: number) {
      var isUtc = t >= BOARD.buildTime;
      try {
        var m = Math.floor((t - base) / 60);
        if (!cur || isUtc !== utc || m < 0 || m > MAX_MINUTE || slot >= SEGMENT_RECORDS) {
          // A segment that did not fit (flash full of other files) is tried
          // again only once free space changed or an hour passed: each try
          // compacts, which is slow and wears the flash.
          if (st.getFree() === fullFree && t - fullAt < 3600 && t >= fullAt) {
            dropped++;
            return false;
          }
          start(t, isUtc);
          m = Math.floor((t - base) / 60);
        }
        var at = HEADER_BYTES + slot * RECORD_BYTES;
        // The slot is used up even if this write fails half way.
        slot++;
        st.write(cur, encodeRecord(key, k, m, meanRssi, maxRssi, count), at);
        return true;
      } catch (e) {
        // Only a lack of room (or a flood that may not evict) backs off;
        // another failure is retried at once.
        if (!cur && (flood || st.getFree() < SEGMENT_FOOTPRINT)) {
          fullFree = st.getFree();
          fullAt = t;
        }
        dropped++;
        return false;
      }
    },
    window: function (t: number, rows: number, lost: number) {
      var h = Math.floor(t / 3600);
      if (h !== hour) {
        // At most once an hour, so a lost sighting reaches flash within about
        // an hour and a scan period, 4 bytes a write (wire/drop-count.ts).
        if (dropped !== saved)
          try {
            dc.n = dropped;
            dc.save();
            saved = dropped;
          } catch (x) {
            // Flash full: the count stays in RAM and goes into the next segment header.
          }
        // A flood goes on while the hour before was over the budget.
        flood = h === hour + 1 && demand > BOARD.schedule.floodHourBudget;
        hour = h;
        demand = 0;
      }
      // Rows only: a crowd's overflow is counted as dropped but is no sign of a flood.
      demand += rows;
      if (demand > BOARD.schedule.floodHourBudget && !flood) {
        flood = true;
        // Declared: the segment being written gets the flood mark (in place;
        // writing it again changes no bit) and every segment created while it
        // lasts carries FLAG_FLOOD, so the flood shows even when the log has
        // no room for a new segment.
        try {
          if (cur) st.write(cur, new Uint8Array([FLOOD_MARK]), HEADER_FLOOD_OFFSET);
        } catch (x) {
          // The drops still count it.
        }
      }
      var keep = flood && rows > FLOOD_KEEP ? FLOOD_KEEP : rows;
      dropped += lost + rows - keep;
      return keep;
    },
    anchor: function (oldLocal: number, newUtc: number) {
      for (var n = bootFirst; n > 0 && n <= seq; n++) {
        var h = header(n);
        if (h && !(h.flags & FLAG_UTC) && h.anchor === null)
          st.write(name(n), encodeAnchor(h.base + newUtc - oldLocal), HEADER_ANCHOR_OFFSET);
      }
      cur = "";
    },
    dropped: function () {
      return dropped;
    },
    segments: seqs,
    ack: function (n: number) {
      if (n > acked && n <= seq + 1) {
        acked = n;
        var w = new Uint8Array(4);
        putLE(w, 0, n, 4);
        try {
          st.write(ACK_FILE, w);
        } catch (e) {
          // Flash full: the acknowledgement holds until a reboot; the kiosk acknowledges again at the next sync.
        }
      }
      return acked;
    }
  };
}
