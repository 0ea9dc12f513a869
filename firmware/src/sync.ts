import { Guard } from "./faults";
import { LINK_DATA, LINK_UP, Platform } from "./platform-api";
import { EncounterLog } from "./log/store";
import { KeySchedule } from "./gaen/key-schedule";
import { clockValid } from "./clock";
import { SETTINGS_FILE } from "./wire/settings";
import { SECRETS_FILE, SEC_ARCHIVE, SEC_CRC, SEC_HOME, SEC_SYNC, secretsValid } from "./wire/secrets";
import { beaconData } from "./wire/beacon";
import { getLE } from "./wire/le-bytes";
import { HEADER_BYTES, LOG_PREFIX, RECORD_BYTES, firstFreeSlot } from "./wire/log-record";
import { SyncSession, TOKEN_RX_BODY_MAX, createReader, feed, open, seal } from "./wire/sync-frame";
import { FAIL_AUTH, TokenPending, failFrame, mayHandshake, readHello, tokenAccept, tokenProve } from "./wire/sync-handshake";
import {
  CHUNK_DATA_MAX,
  CHUNK_GAP,
  CHUNK_LOG_END,
  CHUNK_SEGMENT_END,
  REQ_INFO,
  REQ_LOG_ACK,
  REQ_LOG_READ,
  REQ_RISK_SET,
  REQ_TIME_SET,
  REQ_ARCHIVE_GET,
  TEK_NO_CONSENT,
  TEK_NO_KEY,
  TEK_OK,
  CHUNK_SIZES,
  INFO_SIZES,
  RESPONSE,
  RSP_ERROR,
  TEK_SIZES,
  clampDrift,
  checkRequest,
  encodeFields
} from "./wire/sync-messages";

/** After a session that succeeded, the kiosk's beacon opens no window for this long: an unattended kiosk syncs a token a few times a day, not at every scan. */
var BEACON_QUIET_S = 4 * 3600;
/** A central must authenticate within this long after connecting, and an open session dies after this long without a request. */
var IDLE_MS = 20000;

export interface SyncHooks {
  /** TIME_SET: set the clock (re-anchors the log, starts advertising). */
  setTime(t: number): void;
  /** RISK_SET wrote a new level: show it. */
  riskChanged(): void;
  /** The kiosk's beacon was heard: open the sync window (quietly). */
  openWindow(): void;
  /** The central left (the window may close now if its time is up). */
  linkDown(): void;
  faults(): number;
  /** Boots since provisioning (the boot counter, counter-file.ts). */
  boots: { n: number };
}

export interface Sync {
  /** A short press: taken as the wearer's consent to release their keys if a session is open (true), else false. */
  consent(): boolean;
  /** A central is connected (the window must not close under it). */
  linked(): boolean;
  /**
   * Scanner, at the end of a window: true if the row `keys[k..k+6)` (RPI
   * prefix and AEM byte 1) is the home kiosk's beacon for the minute of `t`
   * (wire/beacon.ts): the row is then not logged, and the window opens
   * unless a session succeeded in the last BEACON_QUIET_S.
   */
  beacon(keys: Uint8Array, k: number, t: number): boolean;
}

/**
 * The token's end of the sync link (docs/sync-protocol.md): the handshake,
 * the backoff, then one response per authenticated request. Frames come
 * through one fixed reader; a bad length, a frame that fails its tag or a
 * failed handshake closes the link, and a central that goes quiet is dropped.
 * Nothing here runs unless a central connected in a sync window, except the
 * beacon check the scanner makes once a window.
 */
export function createSync(p: Platform, log: EncounterLog, keys: KeySchedule, hooks: SyncHooks, guard: Guard): Sync {
  var st = p.storage;
  var sb = st.read(SECRETS_FILE);
  // The sync secret S and the home key (wire/secrets.ts); null: not provisioned, no sync.
  var S = secretsValid(sb) ? sb.subarray(SEC_SYNC, SEC_ARCHIVE) : null;
  var home = S && sb!.subarray(SEC_HOME, SEC_CRC);
  // Beacons open no window before this time on the token's clock (a session just succeeded).
  var quiet = 0;
  var bMinute = -1;
  var bData: Uint8Array | null = null;
  var reader = createReader(TOKEN_RX_BODY_MAX);
  // 0 waiting for HELLO, 1 PROVE sent, 2 session open
  var state = 0;
  // The key this connection's PROVE was made with: S, or while backing off a random one (the decoy).
  var key: Uint8Array | null = null;
  var pend: TokenPending | null = null;
  // The segment numbers, listed once a session.
  var segs: number[] | null = null;
  var s: SyncSession | null = null;
  var up = false;
  var consent = false;
  var released = false;
  var failures = 0;
  var lastFail = 0;
  var idle = 0;
  var drift = 0;
  var setAt = 0;

  function random(n: number): Uint8Array {
    var b = new Uint8Array(n);
    for (var i = 0; i < n; i++) b[i] = p.random32();
    return b;
  }

  // Made once: touch() runs at every request.
  var drop = guard(function () {
    p.linkClose();
  });
  function touch(): void {
    if (idle) p.clearTimeout(idle);
    idle = p.setTimeout(drop, IDLE_MS);
  }

  // After the link is gone, whatever happened on it.
  function reset(): void {
    if (idle) p.clearTimeout(idle);
    idle = state = 0;
    reader.have = 0;
    reader.bad = false;
    pend = s = segs = null;
    consent = false;
    // Released keys are the wearer's diagnosis keys now: broadcast under a fresh one from here on.
    if (released) keys.roll();
    released = false;
  }

  // Each request costs the token interpreter time, which is what bounds a
  // dump's speed: the segment list is taken once a session (a segment begun
  // during it is read at the next sync), and a chunk looks at its own slots only.
  function chunk(seg: number, off: number): Uint8Array {
    var all = segs || (segs = log.segments());
    for (var i = 0; i < all.length && all[i] < seg; i++);
    var flags = 0;
    if (i === all.length) return encodeFields(REQ_LOG_READ | RESPONSE, [seg, off, CHUNK_LOG_END], CHUNK_SIZES);
    if (all[i] !== seg) {
      flags = CHUNK_GAP;
      seg = all[i];
      off = 0;
    }
    var b = st.read(LOG_PREFIX + seg) || new Uint8Array(0);
    // Written bytes, looking at most one chunk past `off` (12 slots hold more
    // than CHUNK_DATA_MAX bytes): the end is known once an erased slot (or the
    // segment's last) is within them.
    var s0 = off > HEADER_BYTES ? ((off - HEADER_BYTES) / RECORD_BYTES) | 0 : 0;
    var k = firstFreeSlot(b, s0, s0 + 12);
    // An erased slot at `off` itself: the end may be earlier (a position past it was asked for).
    if (k === s0) k = firstFreeSlot(b, 0, s0);
    var end = b.length < HEADER_BYTES ? 0 : HEADER_BYTES + k * RECORD_BYTES;
    if (off > end) off = end;
    var to = Math.min(end, off + CHUNK_DATA_MAX);
    if (to === end && (k < s0 + 12 || !end)) flags |= CHUNK_SEGMENT_END | (i === all.length - 1 ? CHUNK_LOG_END : 0);
    return encodeFields(REQ_LOG_READ | RESPONSE, [seg, off, flags], CHUNK_SIZES, b.subarray(off, to));
  }

  function respond(m: Uint8Array): Uint8Array {
    var err = checkRequest(m);
    if (err) return encodeFields(RSP_ERROR, [err], [1]);
    // Fields where the request table puts them (wire/sync-messages.ts): a u32 at 1 (seg, time), a u16 at 5 (off), bytes at 1 and 2.
    var t = m[0];
    var rt = t | RESPONSE;
    var v = m.length > 4 ? getLE(m, 1, 4) : m[1];
    if (t === REQ_INFO) {
      // INFO starts a session's reading: it takes the segment list the reads then use.
      var sl = (segs = log.segments());
      var last = sl.length ? sl[sl.length - 1] : 0;
      // Bytes written in the newest segment: its header and the records up to the first erased slot.
      var lb = st.read(LOG_PREFIX + last);
      return encodeFields(
        rt,
        [
          BOARD.buildTime,
          BOARD.syncCode,
          p.battery(),
          clockValid(p) ? p.now() : 0,
          drift,
          setAt,
          hooks.faults(),
          hooks.boots.n,
          sl.length ? sl[0] : 0,
          last,
          lb ? HEADER_BYTES + firstFreeSlot(lb) * RECORD_BYTES : 0,
          log.dropped()
        ],
        INFO_SIZES
      );
    }
    if (t === REQ_LOG_READ) return chunk(v, getLE(m, 5, 2));
    // Recorded per segment: LOG_ACKED says which segments the token now treats as stored (those before it).
    if (t === REQ_LOG_ACK) return encodeFields(rt, [log.ack(v), 0], [4, 2]);
    if (t === REQ_TIME_SET) {
      var before = p.now();
      hooks.setTime(v);
      drift = clampDrift(Math.round(v - before));
      setAt = v;
      // The quiet time counts on the clock just set, not on the uptime a lost clock had.
      quiet = v + BEACON_QUIET_S;
      return encodeFields(rt, [before, p.now()], [4, 4]);
    }
    if (t === REQ_RISK_SET) {
      st.write(SETTINGS_FILE, m.subarray(1, 3));
      hooks.riskChanged();
      return encodeFields(rt, [v, m[2]], [1, 1]);
    }
    // The archive secret: the kiosk opens this token's log copy with it, for this session only.
    if (t === REQ_ARCHIVE_GET) return encodeFields(rt, [], [], sb!.subarray(SEC_ARCHIVE, SEC_HOME));
    // TEK_GET: only with the wearer's press in this session.
    if (!consent) return encodeFields(rt, [TEK_NO_CONSENT], [1]);
    var all = keys.teks();
    var k = all[v];
    if (!k) return encodeFields(rt, [TEK_NO_KEY], [1]);
    released = true;
    return encodeFields(rt, [TEK_OK, all.length, v, k.rollingStart], TEK_SIZES, k.tek);
  }

  // One complete frame; false ends the reading (the link is being closed).
  function frame(f: Uint8Array): boolean {
    var now = p.now();
    if (state === 2) {
      var m = open(p, s!, f);
      if (m) {
        touch();
        p.linkWrite(seal(p, s!, respond(m)));
        return true;
      }
    } else if (state === 0) {
      var nc = readHello(f);
      if (typeof nc !== "number" && S) {
        // Backing off, the token answers with a decoy: a PROVE under a random
        // key, made and later checked exactly like a real one, so neither its
        // bytes nor the time it takes say that this token is backing off.
        key = mayHandshake(failures, lastFail, now) ? S : random(32);
        pend = { nc: nc, nt: random(16) };
        p.linkWrite(tokenProve(p, key, pend));
        // Counted now: a central that never answers is a failure too.
        if (key === S) {
          failures++;
          lastFail = now;
        }
        state = 1;
        return true;
      }
      p.linkWrite(failFrame(typeof nc === "number" ? nc : FAIL_AUTH));
    } else {
      s = tokenAccept(p, key!, pend!, f);
      pend = null;
      if (s) {
        failures = 0;
        state = 2;
        quiet = now + BEACON_QUIET_S;
        touch();
        return true;
      }
      p.linkWrite(failFrame(FAIL_AUTH));
    }
    // Nothing more is read on this link: the disconnect completes only at the next connection event.
    reader.bad = true;
    p.linkClose();
    return false;
  }

  p.onLink(
    guard(function (e: number, d?: Uint8Array) {
      if (e === LINK_UP) {
        reset();
        up = true;
        touch();
      } else if (e === LINK_DATA) {
        if (up && !feed(reader, d!, frame)) p.linkClose();
      } else {
        up = false;
        reset();
        hooks.linkDown();
      }
    })
  );

  return {
    consent: function () {
      return state === 2 && (consent = true);
    },
    linked: function () {
      return up;
    },
    beacon: function (kb: Uint8Array, k: number, t: number) {
      if (!home || !clockValid(p)) return false;
      var minute = Math.floor(t / 60);
      if (minute !== bMinute) {
        bMinute = minute;
        bData = beaconData(p, home, minute);
      }
      for (var i = 0; i < 5 && kb[k + i] === bData![i]; i++);
      if (i < 5 || kb[k + 5] !== bData![17]) return false;
      // A clock set back since counts as the quiet time having passed.
      if (t >= quiet || t < quiet - BEACON_QUIET_S) hooks.openWindow();
      return true;
    }
  };
}
