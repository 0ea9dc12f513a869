import * as fs from "node:fs";

/**
 * Reading an input file with a bound on the bytes actually read. A size from
 * `stat` says nothing for `/dev/zero`, `/dev/urandom`, a FIFO or a pipe
 * (`/dev/stdin`): they report 0 bytes and then never end, so a reader that
 * trusted the size filled memory until the process aborted, or waited forever.
 * Here at most `limit + 1` bytes are read whatever the file is, and one byte
 * over the limit refuses the file.
 */

/** The file holds (or streams) more than the caller's limit. */
export class InputTooLargeError extends Error {
  constructor(
    readonly limit: number,
    what: string | undefined,
    kind: string
  ) {
    super(`over the ${limit}-byte limit${what ? ` for ${what}` : ""}${kind ? `; it is ${kind}, which may never end` : ""}`);
    this.name = "InputTooLargeError";
  }
}

export interface BoundedReadOptions {
  /** What the file is for, in the too-large message: "over the N-byte limit for WHAT". */
  what?: string;
  /** Refuse a symbolic link instead of reading what it points to (ELOOP), e.g. in a directory others can write to. */
  noFollow?: boolean;
  /** Refuse anything but a regular file (EINVAL), judged on the file opened, so it cannot be swapped after a check. */
  regularOnly?: boolean;
  /** How long a FIFO may stay without a writer before it is refused (default 10 s). */
  fifoWaitMs?: number;
}

const FIRST_STREAM_CHUNK = 64 * 1024;
const MAX_CHUNK = 16 * 1024 * 1024;
const POLL_MS = 10;

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function kindOf(st: fs.Stats): string {
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isFIFO()) return "a FIFO or pipe";
  if (st.isSocket()) return "a socket";
  return "";
}

/** An error shaped like node:fs's, so callers that wrap fs errors wrap these the same way. */
function fsError(code: string, message: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(message);
  e.code = code;
  return e;
}

/**
 * The bytes of `file`, at most `limit`: more throws InputTooLargeError after
 * reading `limit + 1`. A directory throws EISDIR. The file is opened without
 * blocking, so a FIFO nobody writes to is refused after `fifoWaitMs` instead
 * of hanging; a FIFO or terminal with a writer is read until it ends.
 * Other failures are node:fs's own errors: callers say which file and what it was for.
 */
export function readFileBounded(file: string, limit: number, opts: BoundedReadOptions = {}): Buffer {
  const flags = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | (opts.noFollow ? fs.constants.O_NOFOLLOW : 0);
  const fd = fs.openSync(file, flags);
  try {
    const st = fs.fstatSync(fd);
    if (st.isDirectory()) throw fsError("EISDIR", "it is a directory, not a file");
    const kind = kindOf(st);
    if (opts.regularOnly && !st.isFile()) throw fsError("EINVAL", `it is ${kind || "not a regular file"}, not a regular file`);
    const fifo = st.isFIFO();
    const fifoWaitMs = opts.fifoWaitMs ?? 10_000;
    const fifoDeadline = Date.now() + fifoWaitMs;
    let writerSeen = !fifo;
    const chunks: Buffer[] = [];
    let total = 0;
    // A regular file says its size: one read of that (plus a byte, to see it grew). A stream grows its buffer as it goes.
    let buf = Buffer.allocUnsafe(Math.min(st.isFile() ? st.size + 1 : FIRST_STREAM_CHUNK, limit + 1));
    let used = 0;
    for (;;) {
      let n: number;
      try {
        n = fs.readSync(fd, buf, used, buf.length - used, null);
      } catch (e) {
        // Opened without blocking: a FIFO or terminal with a writer that has not written yet.
        if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
        writerSeen = true;
        sleepMs(POLL_MS);
        continue;
      }
      if (n === 0) {
        // A FIFO opened without blocking reads as ended until a writer opens it.
        if (!writerSeen && total === 0) {
          if (Date.now() > fifoDeadline)
            throw fsError("ETIMEDOUT", `it is ${kind} and nothing wrote to it within ${Math.round(fifoWaitMs / 1000)} s`);
          sleepMs(POLL_MS);
          continue;
        }
        break;
      }
      writerSeen = true;
      used += n;
      total += n;
      if (total > limit) throw new InputTooLargeError(limit, opts.what, kind);
      if (used === buf.length) {
        chunks.push(buf);
        buf = Buffer.allocUnsafe(Math.min(Math.max(buf.length * 2, FIRST_STREAM_CHUNK), MAX_CHUNK, limit + 1 - total));
        used = 0;
      }
    }
    if (used > 0) chunks.push(buf.subarray(0, used));
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total);
  } finally {
    fs.closeSync(fd);
  }
}

/** readFileBounded as UTF-8 text. */
export function readTextBounded(file: string, limit: number, opts: BoundedReadOptions = {}): string {
  return readFileBounded(file, limit, opts).toString("utf8");
}
