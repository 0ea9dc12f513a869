import * as crypto from "node:crypto";
import type { SyncLink } from "../ble/transport";
import { LinkLostError } from "../ble/errors";
import { UserError } from "../errors";
import { FLAG_UTC, HEADER_ANCHOR_OFFSET, LOG_PREFIX, decodeHeader, floodMarked, isErased } from "../../../firmware/src/wire/log-record";
import { SyncSession, open, seal } from "../../../firmware/src/wire/sync-frame";
import {
  FAIL_VERSION,
  MSG_FAIL,
  MSG_PROVE,
  NONCE_BYTES,
  SECRET_BYTES,
  SYNC_VERSION,
  centralAuth,
  centralHello,
  identify,
  readProve
} from "../../../firmware/src/wire/sync-handshake";
import {
  CHUNK_GAP,
  CHUNK_LOG_END,
  CHUNK_SEGMENT_END,
  ERR_LENGTH,
  ERR_UNKNOWN,
  ERR_VALUE,
  LogChunk,
  REQ_INFO,
  REQ_LOG_ACK,
  REQ_LOG_READ,
  REQ_RISK_SET,
  REQ_TEK_GET,
  REQ_TIME_SET,
  REQ_ARCHIVE_GET,
  RESPONSE,
  RISK_LEVELS,
  TEK_NO_CONSENT,
  TEK_NO_KEY,
  TEK_OK,
  TekRelease,
  TokenInfo,
  decodeArchive,
  decodeChunk,
  decodeError,
  decodeInfo,
  decodePair,
  decodeTek,
  encodeRequest
} from "../../../firmware/src/wire/sync-messages";
import { AuthFailedError, SyncProtocolError } from "./errors";
import { useHostCrypto } from "./host-crypto";
import { LogCopy, LogGap, LogPosition } from "./log-copy";
import { FrameWire, Garbled, LinkDown, SyncTimer, realTimer } from "./wire";

/**
 * The kiosk's end of a sync session (docs/sync-protocol.md) over any
 * SyncLink: the handshake against the enrolled secrets, INFO, the clock, the
 * resumable log dump into the token's copy on disk (log-copy.ts), the
 * acknowledgement, the risk level and, with the wearer's consent, the TEKs.
 *
 * One request is outstanding at a time, as the protocol requires (the token
 * holds one frame in its transmit ring and nothing more). Every wait has a
 * deadline, so a token that walks away costs `responseTimeoutMs`, and the
 * copy on disk is always left at the last byte stored: running the sync again
 * resumes there.
 */

export interface EnrolledSecret {
  /** The token's id as the enrolment store holds it (hex). */
  tokenId: string;
  /** Its sync secret S, 32 bytes. */
  syncSecret: Uint8Array;
}

export interface RiskSetting {
  /** 0 none found, 1 low, 2 high (wire/settings.ts). */
  level: number;
  /** A code the kiosk chooses, kept with the level on the token (0..255). */
  reason: number;
}

export type SyncProgress =
  | { kind: "identified"; tokenId: string; dir: string }
  | { kind: "info"; info: TokenInfo }
  | { kind: "time-set"; to: number; before: number; after: number }
  /** A LOG_CHUNK arrived: `newBytes` of its `bytes` were not in the copy yet. */
  | { kind: "chunk"; seg: number; off: number; bytes: number; newBytes: number; flags: number }
  | { kind: "gap"; gap: LogGap }
  /** The copy on disk now reaches `next`. */
  | { kind: "stored"; next: LogPosition }
  /** LOG_ACK of `position` is about to be sent; the copy on disk reaches it already. */
  | { kind: "acking"; position: LogPosition }
  | { kind: "acked"; position: LogPosition }
  | { kind: "risk-set"; level: number; reason: number }
  /** The token wants the wearer's short press before it releases keys: show "press the button on the token". */
  | { kind: "consent-wait"; waitMs: number }
  | { kind: "tek"; index: number; count: number };

export interface SyncOptions {
  /** The enrolled tokens: the one that answers is found by its proof. */
  secrets: EnrolledSecret[];
  /**
   * Where the token's log copy lives: one directory per token. A function gets
   * the id of the token that answered (a kiosk does not know which token it
   * reached before the handshake); a string is used for whichever token
   * answers, and a directory holding another token's copy is refused.
   */
  outDir: string | ((tokenId: string) => string);
  /**
   * Where a new copy (a directory without one) starts reading: by default the
   * token's first segment ever. A kiosk that keeps what it acknowledged
   * elsewhere (its sealed archive) gives the segment after it; a token that
   * no longer holds some of what follows shows it as a gap.
   */
  from?: LogPosition | ((s: { tokenId: string; info: TokenInfo; archiveSecret: Uint8Array | null }) => LogPosition | Promise<LogPosition>);
  /**
   * Set the token's clock: true for the host's clock (`now`) as the request
   * goes out, or these Unix seconds. The former is what a kiosk wants: a
   * value read before connecting is late by however long the connection took.
   */
  setTime?: number | true;
  /**
   * The level to write: a setting, or a function the kiosk decides it with
   * once the log is stored and acknowledged (and the archive secret is in
   * hand): it runs while the token waits, which drops a session quiet for
   * 20 s, so it must be quick. A function that returns null writes nothing
   * (the token keeps the level it shows).
   */
  risk?: RiskSetting | ((s: RiskContext) => RiskSetting | null | Promise<RiskSetting | null>);
  /** Ask for the token's archive secret (SyncResult.archiveSecret): the key its log copy on a kiosk is sealed under, which the kiosk must not keep. */
  archive?: boolean;
  /**
   * Called once the log is in the copy and before it is acknowledged: a
   * kiosk stores the log where it keeps it (its sealed archive) here, so
   * that nothing the token then frees as stored exists only in the session's
   * copy. A throw ends the session unacknowledged.
   */
  beforeAck?: (s: RiskContext) => void | Promise<void>;
  /** Ask for the wearer's TEKs (released only if the wearer presses the button during this session). */
  releaseTeks?: boolean | ((tokenId: string) => boolean);
  /** With releaseTeks: keep asking this long for the wearer's press (default 0: ask once). */
  consentWaitMs?: number;
  /** How long to wait for each answer (default 10 s; a token answers within a second). */
  responseTimeoutMs?: number;
  onProgress?: (e: SyncProgress) => void;
  /** The host's clock, Unix seconds (default Date.now). */
  now?: () => number;
  /** The CSPRNG for the handshake nonce (default node:crypto). */
  random?: (n: number) => Uint8Array;
  /** Timers for the deadlines and the consent wait (default the host's; a simulated link brings its own). */
  timer?: SyncTimer;
}

/** What a risk decision made during the session has to go on. */
export interface RiskContext {
  tokenId: string;
  /** The token's log copy, now holding everything the token had. */
  dir: string;
  log: LogReport;
  /** With `archive`: the token's archive secret; null otherwise. */
  archiveSecret: Uint8Array | null;
}

export interface ClockReport {
  /** Host clock when INFO arrived. */
  hostTime: number;
  /** The token's clock then; null when it was never set or was lost (a reset). */
  tokenTime: number | null;
  /** tokenTime − hostTime, seconds. */
  offset: number | null;
  /** How fast the token's clock ran off since it was last set, parts per million (null: never set, or set less than an hour ago). */
  driftPpm: number | null;
  /** TIME_SET of this session: the value sent and the token's clock before and after. */
  set: { to: number; before: number; after: number } | null;
}

export interface LogReport {
  /** Log bytes that were new to the copy. */
  bytesReceived: number;
  /** Log bytes that came over the link, re-read headers included. */
  bytesRead: number;
  chunks: number;
  /** Segments that got new bytes. */
  segments: number[];
  /** The read reached the token's end of log (false never happens on return: a cut read throws). */
  complete: boolean;
  /** Where the next sync resumes: everything before it is on disk. */
  next: LogPosition;
  /** Log the token no longer held when asked, found in this session. */
  gaps: LogGap[];
}

export type TekOutcome =
  | { status: "released"; keys: Array<{ index: number; rollingStart: number; tek: Uint8Array }> }
  /** The wearer did not press the button during the session: nothing was released. */
  | { status: "no-consent" };

export interface SyncResult {
  tokenId: string;
  dir: string;
  info: TokenInfo;
  clock: ClockReport;
  log: LogReport;
  /** The position acknowledged to the token: the end of what is on disk. */
  acked: LogPosition;
  /** What the token recorded (LOG_ACKED): every segment numbered below it is stored on a kiosk, and may be freed first. */
  tokenAcked: number;
  risk: RiskSetting | null;
  teks: TekOutcome | null;
  /** With `archive`: the token's archive secret (the caller wipes it when done); null otherwise. */
  archiveSecret: Uint8Array | null;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const CONSENT_POLL_MS = 1000;
/** Below this the clock's one-second resolution swamps a drift rate. */
const DRIFT_MIN_SECONDS = 3600;
const OPEN_WINDOW = "bring the token close, open its sync window (hold its button for 2 seconds) and sync again";

/**
 * Ends a session with an error whose message says what the copy kept: made
 * only after the copy was flushed, so the message and the disk agree.
 */
class Stop extends Error {
  constructor(readonly make: (kept: string) => Error) {
    super("sync stopped");
  }
}

const REQUEST_NAMES: Record<number, string> = {
  [REQ_INFO]: "INFO_GET",
  [REQ_LOG_READ]: "LOG_READ",
  [REQ_LOG_ACK]: "LOG_ACK",
  [REQ_TIME_SET]: "TIME_SET",
  [REQ_RISK_SET]: "RISK_SET",
  [REQ_TEK_GET]: "TEK_GET",
  [REQ_ARCHIVE_GET]: "ARCHIVE_GET"
};
const ERROR_NAMES: Record<number, string> = {
  [ERR_UNKNOWN]: "unknown request",
  [ERR_LENGTH]: "wrong length",
  [ERR_VALUE]: "value out of range"
};

function request(type: number, fields: { seg?: number; off?: number; value?: number; reason?: number } = {}): Uint8Array {
  return encodeRequest({ type, seg: fields.seg ?? 0, off: fields.off ?? 0, value: fields.value ?? 0, reason: fields.reason ?? 0 });
}

function at(p: LogPosition): string {
  return `${LOG_PREFIX}${p.seg} byte ${p.off}`;
}

function checkOptions(o: SyncOptions): void {
  if (o.secrets.length === 0) throw new UserError("no enrolled tokens to sync: provision a token first (privatetracer provision)");
  for (const s of o.secrets)
    if (s.syncSecret.length !== SECRET_BYTES)
      throw new UserError(
        `the sync secret of token ${s.tokenId} is ${s.syncSecret.length} bytes, not ${SECRET_BYTES}: the enrolment store is damaged`
      );
  if (typeof o.setTime === "number" && !(Number.isInteger(o.setTime) && o.setTime > 0 && o.setTime < 2 ** 32))
    throw new UserError(`cannot set the clock to ${o.setTime}: give Unix seconds`);
  const problem = o.risk && typeof o.risk !== "function" ? riskProblem(o.risk) : null;
  if (problem) throw new UserError(problem);
}

/** Why a token cannot be given this setting, or null. */
function riskProblem(r: RiskSetting): string | null {
  if (!(Number.isInteger(r.level) && r.level >= 0 && r.level < RISK_LEVELS))
    return `risk level ${r.level} is not one a token shows (0 none found, 1 low, 2 high)`;
  if (!(Number.isInteger(r.reason) && r.reason >= 0 && r.reason <= 255)) return `risk reason ${r.reason} must be a code from 0 to 255`;
  return null;
}

/** What a session did so far: for the result, and for saying what was kept when it stops early. */
class Session {
  tokenId = "";
  copy: LogCopy | null = null;
  /** Where the read stands (in memory: may be inside a slot). */
  pos: LogPosition | null = null;
  bytesReceived = 0;
  bytesRead = 0;
  chunks = 0;
  segments = new Set<number>();
  gaps: LogGap[] = [];
  stored: LogPosition | null = null;
  acked: LogPosition | null = null;
  done: string[] = [];
  s: SyncSession | null = null;

  /** The copy's state, said for a person: what is kept and what a new sync does. */
  kept(): string {
    if (!this.copy) return "Nothing was read from the token's log yet";
    const where = this.stored ? ` (the copy now reaches ${at(this.stored)})` : "";
    const got = this.bytesReceived
      ? `${this.bytesReceived} new log bytes were stored in ${this.copy.dir}${where}`
      : `the copy in ${this.copy.dir} is as it was${where}`;
    const ack = this.acked
      ? `; the token was told the log up to ${at(this.acked)} is stored`
      : "; nothing more was acknowledged to the token, so nothing is lost and the next sync resumes there";
    return got + ack;
  }
}

/**
 * Sync one token over `link`. The link is ended when this returns or throws
 * (the session's keys die with it, so the link is of no further use).
 *
 * Throws AuthFailedError (no enrolled secret matches, or the token refused),
 * SyncProtocolError (a frame failing its check, an unexpected answer, a log
 * that no longer matches the copy), LinkLostError (the link ended or the
 * token stopped answering: the message says what was kept), UserError (bad
 * options, or the copy could not be written) or TokenFlashError (the copy
 * directory is not this token's copy).
 */
export async function syncToken(link: SyncLink, opts: SyncOptions): Promise<SyncResult> {
  checkOptions(opts);
  const p = useHostCrypto();
  const now = opts.now ?? (() => Math.floor(Date.now() / 1000));
  const random = opts.random ?? ((n: number) => new Uint8Array(crypto.randomBytes(n)));
  const timer = opts.timer ?? realTimer;
  const timeoutMs = opts.responseTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const progress = opts.onProgress ?? (() => undefined);
  const wire = new FrameWire(link, timer);
  const ss = new Session();

  const noAnswer = (what: string) => (): Error =>
    new Stop((kept) => new LinkLostError(`The token did not answer ${what} within ${timeoutMs / 1000} s. ${kept}; ${OPEN_WINDOW}.`));
  const protocol = (what: string): Stop => new Stop((kept) => new SyncProtocolError(`${what} ${kept}.`));

  /** One sealed request and its response (type checked); ERROR and a frame failing its check end the session. */
  const ask = async (type: number, msg: Uint8Array): Promise<Uint8Array> => {
    const s = ss.s!;
    await wire.send(seal(p, s, msg));
    const f = await wire.next(timeoutMs, noAnswer(REQUEST_NAMES[type]));
    const m = open(p, s, f);
    if (!m) {
      if (f.length === 3 && f[1] === MSG_FAIL)
        throw new AuthFailedError(
          `The token refused this kiosk's proof (FAIL ${f[2]}): it is not the token enrolled as ${ss.tokenId}, or it is backing off after failed handshakes; wait up to 10 minutes and sync again.`
        );
      throw new Stop(
        (kept) =>
          new SyncProtocolError(
            `A frame from the token failed its check (garbled on the air, or not from the token that authenticated), so the session was ended. ${kept}; ${OPEN_WINDOW}.`
          )
      );
    }
    const err = decodeError(m);
    if (err)
      throw protocol(
        `The token refused ${REQUEST_NAMES[type]} (error ${err}, ${ERROR_NAMES[err] ?? "unknown"}): its firmware and these host tools disagree on the sync protocol; update whichever is older.`
      );
    if (m[0] !== (type | RESPONSE))
      throw protocol(
        `The token answered ${REQUEST_NAMES[type]} with message type 0x${m[0].toString(16)}: its firmware and these host tools disagree on the sync protocol; update whichever is older.`
      );
    return m;
  };
  const malformed = (what: string): Stop =>
    protocol(
      `The token's ${what} is malformed: its firmware and these host tools disagree on the sync protocol; update whichever is older.`
    );

  const readAt = async (pos: LogPosition): Promise<LogChunk> => {
    const c = decodeChunk(await ask(REQ_LOG_READ, request(REQ_LOG_READ, pos)));
    if (!c) throw malformed("LOG_CHUNK");
    ss.chunks++;
    ss.bytesRead += c.data.length;
    return c;
  };

  try {
    // ---- handshake
    const nc = random(NONCE_BYTES);
    if (nc.length !== NONCE_BYTES) throw new UserError(`the random source gave ${nc.length} bytes, not ${NONCE_BYTES}`);
    await wire.send(centralHello(nc));
    const prove = await wire.next(timeoutMs, noAnswer("the handshake (HELLO)"));
    if (prove.length === 3 && prove[1] === MSG_FAIL)
      throw new AuthFailedError(
        prove[2] === FAIL_VERSION
          ? `The token does not speak sync protocol version ${SYNC_VERSION}: update the host tools or the token's firmware so they match.`
          : `The token refused the handshake (FAIL ${prove[2]}): it is not provisioned (no secrets), or not a PrivateTracer token; provision it.`
      );
    if (prove[1] === MSG_PROVE && prove.length > 2 && prove[2] !== SYNC_VERSION)
      throw new AuthFailedError(
        `The token speaks sync protocol version ${prove[2]}, these host tools ${SYNC_VERSION}: update whichever is older.`
      );
    const nt = readProve(prove);
    if (!nt)
      throw new SyncProtocolError("The token's answer to HELLO is not a PROVE: not a PrivateTracer token, or a garbled link; sync again.");
    const i = identify(
      p,
      opts.secrets.map((s) => s.syncSecret),
      nc,
      prove
    );
    if (i < 0)
      throw new AuthFailedError(
        "Authentication failed: the token is not enrolled here, or it is backing off after failed handshakes — wait up to 10 minutes and sync again. If it keeps failing, the token was provisioned in another home or again since; check it in the enrolment store."
      );
    ss.tokenId = opts.secrets[i].tokenId;
    const auth = centralAuth(p, opts.secrets[i].syncSecret, nc, nt);
    ss.s = auth.session;
    await wire.send(auth.frame);
    const dir = typeof opts.outDir === "function" ? opts.outDir(ss.tokenId) : opts.outDir;

    // ---- INFO (the token's first sealed frame; a wrong AUTH would get FAIL here)
    const info = decodeInfo(await ask(REQ_INFO, request(REQ_INFO)));
    if (!info) throw malformed("INFO");
    const hostTime = now();

    // ---- the archive secret, first: a kiosk opens its archive before it decides where the read starts
    let archiveSecret: Uint8Array | null = null;
    if (opts.archive) {
      archiveSecret = decodeArchive(await ask(REQ_ARCHIVE_GET, request(REQ_ARCHIVE_GET)));
      if (!archiveSecret) throw malformed("ARCHIVE");
    }
    const copy = LogCopy.open(
      dir,
      ss.tokenId,
      typeof opts.from === "function" ? await opts.from({ tokenId: ss.tokenId, info, archiveSecret }) : opts.from
    );
    ss.copy = copy;
    progress({ kind: "identified", tokenId: ss.tokenId, dir });
    progress({ kind: "info", info });

    // ---- clock, before the log: setting it anchors the segments this boot
    // logged against uptime (log/store.ts `anchor`), and only a read after
    // that gets the anchors; sent first, it is also not late by the dump.
    let set: ClockReport["set"] = null;
    if (opts.setTime !== undefined) {
      const to = opts.setTime === true ? now() : opts.setTime;
      const r = decodePair(REQ_TIME_SET, await ask(REQ_TIME_SET, request(REQ_TIME_SET, { value: to })));
      if (!r) throw malformed("TIME_DONE");
      set = { to, before: r[0], after: r[1] };
      ss.done.push("clock set");
      progress({ kind: "time-set", ...set });
    }

    // ---- the log
    const held = copy.held();
    const last = held.length ? held[held.length - 1] : 0;
    if (info.logLast > 0 && info.logLast < last)
      throw new SyncProtocolError(
        `The token's newest log segment is ${info.logLast} but the copy in ${dir} already holds ${LOG_PREFIX}${last}: the token's log restarted (it was provisioned again, or lost all its segments). Move ${dir} aside (it stays readable) and sync again to start a new copy.`
      );
    let pos: LogPosition = { seg: copy.state.next.seg, off: copy.have(copy.state.next.seg) };
    ss.pos = pos;
    ss.stored = copy.storedAt(pos);
    // Headers are the only bytes that change after they were read (flash only
    // goes from erased to written, a bit at a time): an uptime segment gets
    // its anchor when the clock is set, and the segment being written gets
    // the flood mark when a flood is declared. Read them again while they can.
    for (const seg of held) {
      if (seg < info.logFirst || seg > info.logLast) continue;
      const b = copy.bytes(seg);
      const h = decodeHeader(b);
      if (!h) continue;
      const anchorDue = !(h.flags & FLAG_UTC) && isErased(b, HEADER_ANCHOR_OFFSET, 5);
      const floodDue = seg === last && !floodMarked(b);
      if (!anchorDue && !floodDue) continue;
      const c = await readAt({ seg, off: 0 });
      if (c.flags & CHUNK_GAP || c.seg !== seg || c.off !== 0) continue; // freed meanwhile
      const added = copy.put(seg, 0, c.data);
      ss.bytesReceived += added;
      if (added) ss.segments.add(seg);
      if (seg === pos.seg) pos.off = copy.have(seg);
    }
    for (;;) {
      const c = await readAt(pos);
      if (c.flags & CHUNK_GAP) {
        if (!(c.seg > pos.seg && c.off === 0)) throw malformed(`LOG_CHUNK (a gap at ${at(c)} answering a read at ${at(pos)})`);
        const gap = { from: copy.storedAt(pos), to: { seg: c.seg, off: 0 }, at: now() };
        copy.addGap(gap);
        ss.gaps.push(gap);
        progress({ kind: "gap", gap });
        pos = { seg: c.seg, off: 0 };
      } else if (c.seg !== pos.seg || c.off !== pos.off) {
        if (c.seg === pos.seg && c.off < pos.off)
          throw new SyncProtocolError(
            `The token's ${LOG_PREFIX}${c.seg} ends at byte ${c.off} but the copy in ${dir} holds ${pos.off} bytes of it: the token's log restarted (it was provisioned again, or lost all its segments). Move ${dir} aside (it stays readable) and sync again to start a new copy.`
          );
        throw malformed(`LOG_CHUNK (from ${at(c)}, answering a read at ${at(pos)})`);
      }
      const added = copy.put(c.seg, c.off, c.data);
      ss.bytesReceived += added;
      if (added) ss.segments.add(c.seg);
      pos.off = c.off + c.data.length;
      ss.pos = pos;
      progress({ kind: "chunk", seg: c.seg, off: c.off, bytes: c.data.length, newBytes: added, flags: c.flags });
      if (c.flags & CHUNK_LOG_END) break;
      if (c.flags & CHUNK_SEGMENT_END) {
        // Written per segment, not per chunk: a chunk arrives every few tens of
        // ms and each durable write costs fsyncs (and SD-card wear on a kiosk);
        // a lost link still stores everything received (below), so only a
        // host crash can cost re-reading up to one segment.
        pos = { seg: pos.seg + 1, off: 0 };
        ss.pos = pos;
        ss.stored = copy.flush(pos, now());
        progress({ kind: "stored", next: ss.stored });
      } else if (c.data.length === 0) throw malformed(`LOG_CHUNK (no data and no end, at ${at(c)})`);
    }
    copy.setDropped(info.dropped);
    ss.stored = copy.flush(pos, now());
    progress({ kind: "stored", next: ss.stored });

    const logReport: LogReport = {
      bytesReceived: ss.bytesReceived,
      bytesRead: ss.bytesRead,
      chunks: ss.chunks,
      segments: [...ss.segments].sort((a, b) => a - b),
      complete: true,
      next: ss.stored,
      gaps: ss.gaps
    };
    if (opts.beforeAck) await opts.beforeAck({ tokenId: ss.tokenId, dir, log: logReport, archiveSecret });

    // ---- acknowledge exactly what is on disk (flush synced it)
    const ackAt = ss.stored;
    progress({ kind: "acking", position: ackAt });
    const ack = decodePair(REQ_LOG_ACK, await ask(REQ_LOG_ACK, request(REQ_LOG_ACK, ackAt)));
    // The token answers with what it now records, a segment number that never goes down: ours, or a later one another kiosk acknowledged.
    if (!ack || ack[0] < ackAt.seg) throw malformed(`LOG_ACKED (segment ${ack ? ack[0] : "?"} for an acknowledgement of ${at(ackAt)})`);
    copy.recordAck(ackAt, now());
    ss.acked = ackAt;
    progress({ kind: "acked", position: ackAt });

    // ---- risk
    let risk: RiskSetting | null = null;
    const want = typeof opts.risk === "function" ? await opts.risk({ tokenId: ss.tokenId, dir, log: logReport, archiveSecret }) : opts.risk;
    if (want) {
      const problem = riskProblem(want);
      // The caller's decision is wrong, not the token: nothing is written.
      if (problem) throw new UserError(problem);
      const r = decodePair(REQ_RISK_SET, await ask(REQ_RISK_SET, request(REQ_RISK_SET, { value: want.level, reason: want.reason })));
      if (!r || r[0] !== want.level || r[1] !== want.reason) throw malformed("RISK_DONE");
      risk = { level: r[0], reason: r[1] };
      ss.done.push("risk level set");
      progress({ kind: "risk-set", level: r[0], reason: r[1] });
    }

    // ---- TEKs, only with the wearer's press during this session
    let teks: TekOutcome | null = null;
    if (typeof opts.releaseTeks === "function" ? opts.releaseTeks(ss.tokenId) : opts.releaseTeks) {
      const tekAt = async (index: number): Promise<TekRelease> => {
        const t = decodeTek(await ask(REQ_TEK_GET, request(REQ_TEK_GET, { value: index })));
        if (!t || (t.status === TEK_OK && t.index !== index)) throw malformed("TEK");
        return t;
      };
      let t = await tekAt(0);
      const waitMs = opts.consentWaitMs ?? 0;
      if (t.status === TEK_NO_CONSENT && waitMs > 0) progress({ kind: "consent-wait", waitMs });
      // Asking again each second also keeps the session alive (the token drops a quiet one after 20 s).
      for (let waited = 0; t.status === TEK_NO_CONSENT && waited < waitMs; waited += CONSENT_POLL_MS) {
        await new Promise<void>((resolve) => timer(CONSENT_POLL_MS, resolve));
        t = await tekAt(0);
      }
      if (t.status === TEK_NO_CONSENT) teks = { status: "no-consent" };
      else {
        const keys: Array<{ index: number; rollingStart: number; tek: Uint8Array }> = [];
        for (let index = 0; t.status === TEK_OK;) {
          keys.push({ index, rollingStart: t.rollingStart, tek: t.tek });
          progress({ kind: "tek", index, count: t.count });
          // TEK_GET takes a one-byte index.
          if (++index > 255) break;
          t = await tekAt(index);
        }
        if (t.status !== TEK_OK && t.status !== TEK_NO_KEY) throw malformed(`TEK (status ${t.status})`);
        teks = { status: "released", keys };
      }
    }

    const offset = info.clock ? info.clock - hostTime : null;
    const since = hostTime - info.clockSetAt;
    return {
      tokenId: ss.tokenId,
      dir,
      info,
      clock: {
        hostTime,
        tokenTime: info.clock || null,
        offset,
        driftPpm: offset !== null && info.clockSetAt && since >= DRIFT_MIN_SECONDS ? Math.round((offset / since) * 1e7) / 10 : null,
        set
      },
      log: logReport,
      acked: ackAt,
      tokenAcked: ack[0],
      risk,
      teks,
      archiveSecret
    };
  } catch (e) {
    // Keep everything that arrived (the ack never covers it until a later sync stores and acknowledges it).
    if (ss.copy && ss.pos && !ss.acked) ss.stored = ss.copy.flush(ss.pos, now());
    if (e instanceof Stop) throw e.make(ss.kept());
    if (e instanceof Garbled) throw new SyncProtocolError(`${e.message} ${ss.kept()}; ${OPEN_WINDOW}.`);
    if (e instanceof LinkDown) {
      const notDone = [
        opts.setTime !== undefined && !ss.done.includes("clock set") ? "the clock was not set" : "",
        opts.risk && !ss.done.includes("risk level set") ? "the risk level was not set" : "",
        (typeof opts.releaseTeks === "function" ? ss.tokenId !== "" && opts.releaseTeks(ss.tokenId) : opts.releaseTeks)
          ? "no keys were released"
          : ""
      ]
        .filter(Boolean)
        .join(", ");
      throw new LinkLostError(
        `The link to the token ended (${e.reason}). ${ss.kept()}${notDone ? `; ${notDone}` : ""}. To finish, ${OPEN_WINDOW}.`
      );
    }
    throw e;
  } finally {
    wire.close();
    await link.disconnect().catch(() => undefined);
  }
}
