import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { UserError } from "../errors";
import { TokenFlashError } from "../tokenlog/errors";
import { DROP_FILE } from "../../../firmware/src/wire/drop-count";
import { FAULT_SLOTS, savedFaults } from "../../../firmware/src/wire/fault-count";
import { HEADER_BYTES, LOG_PREFIX, RECORD_BYTES, SEGMENT_BYTES, firstFreeSlot } from "../../../firmware/src/wire/log-record";
import { SyncProtocolError } from "./errors";

/**
 * The host's copy of one token's log, kept between syncs so a dump resumes
 * where the last one stopped (docs/sync-protocol.md, "Reading the log").
 *
 * The directory holds, per segment, `pt.log<n>`: the token's Storage file as
 * far as it was received, SEGMENT_BYTES long with the bytes not received yet
 * left erased (0xFF), as flash has them. That is exactly the token's file
 * once the segment is read to its end, and it is the "directory of Storage
 * files" shape `log show`, `log to-sightings` and `match --flash` read (a
 * file cut to the received length would read as damaged). Only whole record
 * slots go to disk: a slot cut by the end of a chunk would read as a torn
 * record; its bytes stay in memory and, if the link is lost before the rest
 * arrives, are asked for again (at most 9 bytes).
 *
 * Beside them `sync-state.json` (no `pt.` prefix, so the log readers skip it)
 * names the token and records where the next read starts, the gaps (log the
 * token no longer held when asked) and the last acknowledgement. `pt.drop`
 * holds the token's count of sightings it could not keep, as INFO reported
 * it, in the token's own layout, so the readers report those losses too.
 *
 * Every file is replaced atomically (temporary file, fsync, rename) and the
 * directory is synced before the state file is written: the state never
 * claims bytes that are not durably on disk, which is what makes it safe to
 * acknowledge its position to the token (the token may then erase them).
 */

export const STATE_FILE = "sync-state.json";
const STATE_FORMAT = "privatetracer-sync-copy";
const STATE_VERSION = 1;

/** A place in the token's log: segment `pt.log<seg>`, byte `off` in it. */
export interface LogPosition {
  seg: number;
  off: number;
}

/** Log the token no longer held when it was asked for: bytes from `from` up to `to` (exclusive), seen at host time `at`. */
export interface LogGap {
  from: LogPosition;
  to: LogPosition;
  at: number;
}

export interface CopyState {
  /** The token this copy belongs to (hex, as enrolled). */
  tokenId: string;
  /** Where the next read starts: everything before it is on disk (or was a gap). */
  next: LogPosition;
  gaps: LogGap[];
  /** The last position the token confirmed (LOG_ACKED), and the host time. */
  acked: (LogPosition & { at: number }) | null;
  /** Host time of the last sync that stored anything. */
  lastSync: number | null;
}

interface Segment {
  /** SEGMENT_BYTES, erased where nothing was received. */
  buf: Uint8Array;
  /** Bytes received (from 0): may end inside a slot while in memory. */
  have: number;
  dirty: boolean;
}

const SEGMENT_NAME = new RegExp(`^${LOG_PREFIX.replace(".", "\\.")}([1-9][0-9]*)$`);
/** Temporary files of writeDurable: hidden, and without the `pt.` prefix the log readers pick up. */
const TEMP_NAME = /^\..+\.[0-9]+\.[0-9a-f]{8}\.tmp$/;

/** Bytes of `have` that go to disk: the header and whole slots only. */
function wholeSlots(have: number): number {
  return have < HEADER_BYTES ? 0 : HEADER_BYTES + Math.floor((have - HEADER_BYTES) / RECORD_BYTES) * RECORD_BYTES;
}

/** Bytes of a segment file that are written: the header and the slots before the first erased one (as the token counts them). */
function writtenBytes(b: Uint8Array): number {
  let erased = true;
  for (let i = 0; i < HEADER_BYTES && erased; i++) erased = b[i] === 0xff;
  return erased ? 0 : HEADER_BYTES + firstFreeSlot(b) * RECORD_BYTES;
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
  } catch {
    // Some platforms cannot open or sync a directory; the renames are then as durable as that system makes them.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Replace `file` with `data`: a temporary file in the same directory, synced,
 * then renamed over it. Not atomic-write.ts: that one does not sync (a power
 * cut could lose bytes already acknowledged to the token), and its temporary
 * name starts with the file's, which for `pt.log3` is a name the log readers
 * would take for a token file if a crash left it behind.
 */
function writeDurable(file: string, data: Uint8Array): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`);
  const fd = fs.openSync(tmp, "w", 0o600);
  try {
    fs.writeSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

function isPosition(v: unknown): v is LogPosition {
  const p = v as LogPosition;
  return typeof v === "object" && v !== null && Number.isInteger(p.seg) && p.seg >= 0 && Number.isInteger(p.off) && p.off >= 0;
}

function parseState(text: string, file: string): CopyState {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new TokenFlashError(file, `not valid JSON (${(e as Error).message}); move the directory aside and sync again`);
  }
  const o = v as Record<string, unknown>;
  const ok =
    typeof v === "object" &&
    v !== null &&
    o.format === STATE_FORMAT &&
    o.version === STATE_VERSION &&
    typeof o.tokenId === "string" &&
    isPosition(o.next) &&
    Array.isArray(o.gaps) &&
    o.gaps.every((g: LogGap) => isPosition(g?.from) && isPosition(g?.to) && typeof g.at === "number") &&
    (o.acked === null || (isPosition(o.acked) && typeof (o.acked as unknown as { at: unknown }).at === "number")) &&
    (o.lastSync === null || typeof o.lastSync === "number");
  if (!ok)
    throw new TokenFlashError(
      file,
      `not a sync copy's state of a version these tools read (${STATE_FORMAT} version ${STATE_VERSION}); move the directory aside and sync again`
    );
  return {
    tokenId: o.tokenId as string,
    next: o.next as LogPosition,
    gaps: o.gaps as LogGap[],
    acked: o.acked as CopyState["acked"],
    lastSync: o.lastSync as number | null
  };
}

export class LogCopy {
  private readonly segments = new Map<number, Segment>();
  private dropped: number | null = null;
  private droppedDirty = false;

  private constructor(
    readonly dir: string,
    readonly state: CopyState
  ) {}

  /**
   * The copy of token `tokenId` in `dir`, created (with the directory) if
   * there is none. Refuses a directory that holds another token's copy, or
   * token files without a state file (not a copy made by a sync: writing into
   * it would mix two logs). A new copy starts reading at `start` (default the
   * first segment the token ever wrote): a kiosk that keeps older segments
   * elsewhere starts where its acknowledgement ended.
   */
  static open(dir: string, tokenId: string, start: LogPosition = { seg: 1, off: 0 }): LogCopy {
    const stateFile = path.join(dir, STATE_FILE);
    let names: string[];
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      names = fs.readdirSync(dir);
    } catch (e) {
      throw new UserError(`cannot use ${dir} for the token's log copy: ${(e as Error).message}`);
    }
    for (const n of names) if (TEMP_NAME.test(n)) fs.rmSync(path.join(dir, n), { force: true }); // left by a crash mid-write: never renamed, so never part of the copy
    if (!names.includes(STATE_FILE)) {
      if (names.some((n) => n.startsWith("pt.")))
        throw new TokenFlashError(
          dir,
          `holds token files but no ${STATE_FILE}, so it is not a copy made by a sync; give an empty or new directory for token ${tokenId}`
        );
      return new LogCopy(dir, {
        tokenId,
        next: { seg: Math.max(1, start.seg), off: start.seg >= 1 ? start.off : 0 },
        gaps: [],
        acked: null,
        lastSync: null
      });
    }
    let text: string;
    try {
      text = fs.readFileSync(stateFile, "utf8");
    } catch (e) {
      throw new TokenFlashError(stateFile, `cannot read: ${(e as Error).message}`);
    }
    const state = parseState(text, stateFile);
    if (state.tokenId !== tokenId)
      throw new TokenFlashError(
        dir,
        `holds the log copy of token ${state.tokenId}, but token ${tokenId} answered; give each token its own directory`
      );
    const copy = new LogCopy(dir, state);
    // The state is written after the segment files, so a file may hold more
    // than it says (a crash between the two), never less: resume after what
    // the file holds.
    const seg = copy.segment(state.next.seg);
    if (seg.have < state.next.off)
      throw new TokenFlashError(
        dir,
        `${LOG_PREFIX}${state.next.seg} holds ${seg.have} bytes but ${STATE_FILE} says ${state.next.off} were stored: the copy was changed outside a sync; move the directory aside and sync again`
      );
    const drop = copy.readFile(DROP_FILE);
    if (drop) copy.dropped = savedFaults(drop)[0];
    return copy;
  }

  /** Segment numbers with a file in the copy, ascending. */
  held(): number[] {
    const out = new Set<number>(this.segments.keys());
    for (const n of fs.readdirSync(this.dir)) {
      const m = SEGMENT_NAME.exec(n);
      if (m) out.add(Number(m[1]));
    }
    return [...out].filter((s) => this.segment(s).have > 0).sort((a, b) => a - b);
  }

  /** Bytes of segment `seg` received so far (in memory, so possibly ending inside a slot). */
  have(seg: number): number {
    return this.segment(seg).have;
  }

  /** The copy's bytes of segment `seg` (SEGMENT_BYTES, erased past what was received). */
  bytes(seg: number): Uint8Array {
    return this.segment(seg).buf;
  }

  /**
   * Take `data` that the token sent from (seg, off). Bytes the copy already
   * holds must agree with flash's rule (a bit only ever goes from 1 to 0: a
   * header's anchor or flood mark written after it was read) and are updated;
   * any other difference means the token's log is not the one this copy was
   * made of. Returns how many bytes were new (past what the copy held).
   */
  put(seg: number, off: number, data: Uint8Array): number {
    const s = this.segment(seg);
    if (off > s.have)
      throw new SyncProtocolError(
        `The token sent bytes ${off}..${off + data.length} of ${LOG_PREFIX}${seg} but only ${s.have} were received before them: the session was ended; sync again.`
      );
    if (off + data.length > SEGMENT_BYTES)
      throw new SyncProtocolError(
        `The token sent bytes up to ${off + data.length} of ${LOG_PREFIX}${seg}, past the ${SEGMENT_BYTES} a segment holds: its firmware and these host tools disagree on the log format; update them.`
      );
    const overlap = Math.min(data.length, s.have - off);
    // All checked before any is taken: a chunk that does not fit leaves the copy as it was.
    for (let i = 0; i < overlap; i++)
      if ((s.buf[off + i] & data[i]) !== data[i])
        throw new SyncProtocolError(
          `The token's ${LOG_PREFIX}${seg} differs from the copy in ${this.dir} at byte ${off + i}: the token's log restarted (it was provisioned again, or lost all its segments) since the copy was made. Move ${this.dir} aside (it stays readable) and sync again to start a new copy.`
        );
    for (let i = 0; i < overlap; i++)
      if (s.buf[off + i] !== data[i]) {
        s.buf[off + i] = data[i];
        s.dirty = true;
      }
    const end = off + data.length;
    const added = Math.max(0, end - s.have);
    if (added) {
      s.buf.set(data.subarray(data.length - added), s.have);
      s.have = end;
      s.dirty = true;
    }
    return added;
  }

  /** The count of sightings the token could not keep (INFO's `dropped`): kept as the copy's `pt.drop`. */
  setDropped(n: number): void {
    if (n === this.dropped || (this.dropped === null && n === 0)) return;
    this.dropped = n;
    this.droppedDirty = true;
  }

  /** The position a read from `pos` leaves on disk: the header and whole slots of the segment being read. */
  storedAt(pos: LogPosition): LogPosition {
    return { seg: pos.seg, off: pos.off > 0 ? wholeSlots(Math.min(pos.off, this.segment(pos.seg).have)) : 0 };
  }

  /**
   * Write what changed, durably, then the state with `next` = what is now on
   * disk of a read that reached `pos`. Returns that position: the one that
   * may be acknowledged.
   */
  flush(pos: LogPosition, now: number): LogPosition {
    const next = this.storedAt(pos);
    let wrote = false;
    for (const [n, s] of this.segments) {
      if (!s.dirty) continue;
      const keep = wholeSlots(s.have);
      if (keep > 0) {
        const out = s.buf.slice();
        out.fill(0xff, keep);
        this.write(`${LOG_PREFIX}${n}`, out);
        wrote = true;
      }
      s.dirty = false;
    }
    if (this.droppedDirty && this.dropped !== null) {
      const b = new Uint8Array(FAULT_SLOTS * 4).fill(0xff);
      const v = this.dropped & 0x7fffffff;
      for (let i = 0; i < 4; i++) b[i] = (v >>> (8 * i)) & 255;
      this.write(DROP_FILE, b);
      this.droppedDirty = false;
      wrote = true;
    }
    const moved = next.seg !== this.state.next.seg || next.off !== this.state.next.off;
    if (!wrote && !moved) return next;
    // The files must be durable before a state that points past them.
    fsyncDir(this.dir);
    this.state.next = next;
    this.state.lastSync = now;
    this.writeState();
    return next;
  }

  addGap(gap: LogGap): void {
    this.state.gaps.push(gap);
  }

  /** The token confirmed the acknowledgement of `pos`. */
  recordAck(pos: LogPosition, now: number): void {
    this.state.acked = { seg: pos.seg, off: pos.off, at: now };
    this.writeState();
  }

  private writeState(): void {
    const s = this.state;
    const json = {
      format: STATE_FORMAT,
      version: STATE_VERSION,
      tokenId: s.tokenId,
      next: s.next,
      gaps: s.gaps,
      acked: s.acked,
      lastSync: s.lastSync
    };
    this.write(STATE_FILE, Buffer.from(JSON.stringify(json, null, 2) + "\n", "utf8"));
    fsyncDir(this.dir);
  }

  private write(name: string, data: Uint8Array): void {
    const file = path.join(this.dir, name);
    try {
      writeDurable(file, data);
    } catch (e) {
      const acked = this.state.acked ? ` (the token was last told ${LOG_PREFIX}${this.state.acked.seg} byte ${this.state.acked.off})` : "";
      throw new UserError(
        `cannot write ${file}: ${(e as Error).message}. Nothing was acknowledged to the token beyond what is on disk${acked}, so no log is lost: fix the disk (space, permissions) and sync again.`
      );
    }
  }

  private readFile(name: string): Uint8Array | undefined {
    try {
      return new Uint8Array(fs.readFileSync(path.join(this.dir, name)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new TokenFlashError(path.join(this.dir, name), `cannot read: ${(e as Error).message}`);
    }
  }

  private segment(seg: number): Segment {
    let s = this.segments.get(seg);
    if (s) return s;
    const buf = new Uint8Array(SEGMENT_BYTES).fill(0xff);
    const b = this.readFile(`${LOG_PREFIX}${seg}`);
    if (b) {
      if (b.length !== SEGMENT_BYTES)
        throw new TokenFlashError(
          path.join(this.dir, `${LOG_PREFIX}${seg}`),
          `${b.length} bytes, where a segment copy is ${SEGMENT_BYTES}: the copy was changed outside a sync; move the directory aside and sync again`
        );
      buf.set(b);
    }
    s = { buf, have: writtenBytes(buf), dirty: false };
    this.segments.set(seg, s);
    return s;
  }
}
