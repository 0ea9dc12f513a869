import { PlatformStorage } from "../platform-api";
import {
  FLAG_UTC,
  HEADER_ANCHOR_OFFSET,
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
  /** Count sightings lost elsewhere (e.g. a full scan table). */
  drop(n: number): void;
  /** The clock was set from `oldLocal` to `newUtc`: re-anchor this boot's uptime segments. */
  anchor(oldLocal: number, newUtc: number): void;
  /** Sightings dropped since the log began (persisted at each new segment). */
  dropped(): number;
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
      var n = name(all.shift() as number);
      var b = st.read(n);
      if (b) dropped += firstFreeSlot(b);
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
    st.write(name(seq), encodeHeader(base, isUtc ? FLAG_UTC : 0, dropped), 0, SEGMENT_BYTES);
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
        // Only a lack of room backs off; another failure is retried at once.
        if (!cur && st.getFree() < SEGMENT_FOOTPRINT) {
          fullFree = st.getFree();
          fullAt = t;
        }
        dropped++;
        return false;
      }
    },
    drop: function (n: number) {
      dropped += n;
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
    }
  };
}
