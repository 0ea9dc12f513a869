import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import { setTimeout as delay } from "node:timers/promises";
import { KeyInputError } from "./errors";
import { writeNewFileAtomic } from "../atomic-write";
import { readTextBounded } from "../read-bounded";

/**
 * An exclusive lock file between runs (`report issue-code`, `keys publish`),
 * possibly in different processes. The file is created whole with its
 * owner's pid, host name and a random nonce (linked into place, so nobody
 * ever reads it half-written). A lock whose owner is a process on this host
 * that no longer runs (a publish killed part-way) is taken over at once; a
 * live owner is waited for, however long it runs, because a lock taken from
 * a live run lets two runs accept one upload. A lock without an owner (left
 * by an older version, which wrote an empty file) is taken over after a minute.
 */

/** Age after which a lock that names no owner is taken to be left by a run that died. */
const OWNERLESS_STALE_MS = 60_000;
const POLL_MS = 50;

interface Owner {
  pid: number;
  host: string;
  nonce: string;
  since: string;
}

export interface HeldLock {
  file: string;
  nonce: string;
}

export interface LockOptions {
  /** How long to wait for a live owner before giving up. */
  waitMs: number;
  /** What the lock protects, for messages: "the code store codes.json". */
  what: string;
  /** Hears a line a person should see: a stale lock was taken over. */
  onNote?: (line: string) => void;
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function readOwner(text: string): Owner | null {
  try {
    const o = JSON.parse(text) as Partial<Owner>;
    if (Number.isSafeInteger(o.pid) && typeof o.host === "string" && typeof o.nonce === "string")
      return { pid: o.pid!, host: o.host, nonce: o.nonce, since: typeof o.since === "string" ? o.since : "?" };
  } catch {
    // An empty or foreign file: no owner to ask.
  }
  return null;
}

/** Whether process `pid` on this host is running; a process of another user counts as running. */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

type Attempt = { held: HeldLock } | { retry: true } | { busy: string };

/**
 * Moves a stale lock aside and removes it, unless the file moved is no longer
 * the one judged stale (another run took over first and made a fresh lock):
 * that one is put back. Returns whether the stale lock is gone.
 */
function breakStale(lock: string, judged: string): boolean {
  const aside = `${lock}.stale.${process.pid}.${crypto.randomBytes(4).toString("hex")}`;
  try {
    fs.renameSync(lock, aside);
  } catch {
    return true; // gone already: someone else removed it
  }
  let moved = "";
  try {
    moved = readTextBounded(aside, 4096, { noFollow: true });
  } catch {
    // Unreadable: treat as not the one judged, and put it back.
  }
  if (moved !== judged) {
    try {
      fs.linkSync(aside, lock);
    } catch {
      // A newer lock is in place already; the one moved is lost to its owner, who will find it gone on release.
    }
  }
  fs.rmSync(aside, { force: true });
  return moved === judged;
}

function attempt(lock: string, o: LockOptions): Attempt {
  const owner: Owner = {
    pid: process.pid,
    host: os.hostname(),
    nonce: crypto.randomBytes(8).toString("hex"),
    since: new Date().toISOString()
  };
  try {
    writeNewFileAtomic(lock, Buffer.from(JSON.stringify(owner) + "\n"), 0o600);
    return { held: { file: lock, nonce: owner.nonce } };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw new KeyInputError(`cannot lock ${o.what} (${lock}): ${(e as Error).message}`);
  }
  let text: string;
  let mtimeMs: number;
  try {
    text = readTextBounded(lock, 4096, { noFollow: true });
    mtimeMs = fs.lstatSync(lock).mtimeMs;
  } catch {
    return { retry: true }; // released meanwhile
  }
  const held = readOwner(text);
  if (!held) {
    if (Date.now() - mtimeMs <= OWNERLESS_STALE_MS) return { busy: "a run that did not say which (the lock file names no process)" };
    if (breakStale(lock, text))
      o.onNote?.(`took over the lock ${lock}, which named no process and was over a minute old (left by a run that died)`);
    return { retry: true };
  }
  const who = `process ${held.pid} on ${held.host}, since ${held.since}`;
  if (held.host !== os.hostname() || pidAlive(held.pid)) return { busy: who };
  if (breakStale(lock, text)) o.onNote?.(`took over the lock ${lock} left by ${who}, which is no longer running (stopped part-way)`);
  return { retry: true };
}

function busyError(lock: string, o: LockOptions, who: string): KeyInputError {
  return new KeyInputError(
    `${o.what} is locked by another publish or issue-code run; try again, or remove ${lock} if none is running (held by ${who})`
  );
}

/** Takes the lock, waiting (blocking this thread) up to `waitMs` for a live owner. */
export function acquireLockSync(lock: string, o: LockOptions): HeldLock {
  const deadline = Date.now() + o.waitMs;
  for (;;) {
    const a = attempt(lock, o);
    if ("held" in a) return a.held;
    if ("busy" in a) {
      if (Date.now() > deadline) throw busyError(lock, o, a.busy);
      sleepMs(POLL_MS);
    }
  }
}

/** Takes the lock, waiting (without blocking the event loop) up to `waitMs` for a live owner. */
export async function acquireLock(lock: string, o: LockOptions): Promise<HeldLock> {
  const deadline = Date.now() + o.waitMs;
  for (;;) {
    const a = attempt(lock, o);
    if ("held" in a) return a.held;
    if ("busy" in a) {
      if (Date.now() > deadline) throw busyError(lock, o, a.busy);
      await delay(POLL_MS);
    }
  }
}

/** Releases a lock taken here; one that is no longer ours (taken over as stale) is left to its new owner. */
export function releaseLock(h: HeldLock): void {
  let text: string;
  try {
    text = readTextBounded(h.file, 4096, { noFollow: true });
  } catch {
    return;
  }
  if (readOwner(text)?.nonce === h.nonce) fs.rmSync(h.file, { force: true });
}
