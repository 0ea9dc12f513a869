import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/**
 * Writing output files so a reader never sees half a file (a kiosk fetching
 * exports, a publisher's index.txt, a code store or a sightings file read
 * while it is written) and a failure never leaves a partial one.
 *
 * What is at the target decides how (docs/keys.md, "Output files"):
 * - nothing, or a regular file: a temporary file in the same directory,
 *   written, flushed to disk, then renamed over the target (which keeps its mode);
 * - a symbolic link: the same rules applied to the file it points to, so the
 *   link is kept and its target is written (a dangling link's target is created);
 * - a character device or a FIFO (`/dev/stdout`, `/dev/null`, a named pipe),
 *   and the descriptor paths `/dev/stdout`, `/dev/stderr`, `/dev/fd/N`,
 *   `/proc/self/fd/N`: written directly, since renaming a file over them would
 *   lose the output and replace the node;
 * - a directory, a block device or a socket: refused.
 * A failed write removes its temporary file. Throws errors shaped like
 * node:fs's (a `code` and a message); callers say which file and what it was for.
 */

/** Paths that name an open descriptor of this process rather than a file to replace. */
const DESCRIPTOR_PATH = /^\/(?:dev\/(?:stdout|stderr|fd\/(\d+))|proc\/self\/fd\/(\d+))$/;
/** As the kernel's limit on links followed in one lookup. */
const MAX_LINKS = 40;

/** Whether `file` names this process's standard output, where a command's own messages must then not go. */
export function namesStdout(file: string): boolean {
  const d = DESCRIPTOR_PATH.exec(file);
  return d !== null && (file === "/dev/stdout" || Number(d[1] ?? d[2]) === 1);
}

function fsError(code: string, message: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(message);
  e.code = code;
  return e;
}

type Target =
  | { how: "descriptor"; fd: number }
  | { how: "direct"; file: string }
  | { how: "replace"; file: string; mode: number }
  | { how: "create"; file: string };

function kindProblem(st: fs.Stats): NodeJS.ErrnoException | null {
  if (st.isDirectory()) return fsError("EISDIR", "it is a directory; give a file name");
  if (st.isBlockDevice()) return fsError("EINVAL", "it is a block device; give a regular file, a character device or a FIFO");
  if (st.isSocket()) return fsError("EINVAL", "it is a socket; give a regular file, a character device or a FIFO");
  return null;
}

function isErrno(e: unknown, code: string): boolean {
  return (e as NodeJS.ErrnoException).code === code;
}

/** Where a dangling chain of links ends: the path to create. */
function danglingEnd(file: string): string {
  let cur = file;
  for (let hops = 0; hops < MAX_LINKS; hops++) {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(cur);
    } catch (e) {
      if (isErrno(e, "ENOENT")) return cur;
      throw e;
    }
    if (!st.isSymbolicLink()) return cur;
    cur = path.resolve(path.dirname(cur), fs.readlinkSync(cur));
  }
  throw fsError("ELOOP", `more than ${MAX_LINKS} symbolic links to follow`);
}

function targetOf(file: string): Target {
  const d = DESCRIPTOR_PATH.exec(file);
  // The descriptor itself, not a reopening of the path: a socket (how Node hands a child its stdout) cannot be reopened.
  if (d) return { how: "descriptor", fd: file === "/dev/stdout" ? 1 : file === "/dev/stderr" ? 2 : Number(d[1] ?? d[2]) };
  let lst: fs.Stats;
  try {
    lst = fs.lstatSync(file);
  } catch (e) {
    if (isErrno(e, "ENOENT")) return { how: "create", file };
    throw e;
  }
  let st = lst;
  let real = file;
  if (lst.isSymbolicLink()) {
    try {
      st = fs.statSync(file);
    } catch (e) {
      if (isErrno(e, "ENOENT")) return { how: "create", file: danglingEnd(file) };
      throw e;
    }
    real = st.isFile() ? fs.realpathSync(file) : file;
  }
  const problem = kindProblem(st);
  if (problem) throw problem;
  // Through the link's own path: opening it reaches the device or FIFO it names.
  if (st.isCharacterDevice() || st.isFIFO()) return { how: "direct", file };
  return { how: "replace", file: real, mode: st.mode & 0o7777 };
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function writeAll(fd: number, data: Uint8Array): void {
  for (let off = 0; off < data.length;) {
    try {
      off += fs.writeSync(fd, data, off, data.length - off);
    } catch (e) {
      // A pipe or terminal set non-blocking (Node does so for its own stdio) is full: wait for the reader.
      if (!isErrno(e, "EAGAIN")) throw e;
      sleepMs(5);
    }
  }
}

function writeDirect(file: string, data: Uint8Array): void {
  const fd = fs.openSync(file, "w");
  try {
    writeAll(fd, data);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Writes `data` to a new temporary file next to `file` with exactly `mode`
 * (from creation: a secret is never readable by others, even briefly), then
 * hands the temporary path to `publish`. Any failure removes the temporary file.
 */
function viaTemp(file: string, data: Uint8Array, mode: number | undefined, publish: (tmp: string) => void): void {
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`;
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, "wx", mode ?? 0o666);
    // The umask narrows a created file's mode; a mode asked for (or kept from the file replaced) is set exactly.
    if (mode !== undefined) fs.fchmodSync(fd, mode);
    writeAll(fd, data);
    // On disk before the rename: a crash then leaves the old file or the new one, never an empty one.
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    publish(tmp);
  } catch (e) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    // Said plainly, rather than as a failure to open a temporary file the person never named.
    const dir = path.dirname(file);
    if (isErrno(e, "ENOENT") && !fs.existsSync(dir)) throw fsError("ENOENT", `the directory ${dir} does not exist`);
    throw e;
  }
}

/** Whether anything is at `p`, a link included (existsSync follows links, and a dangling one reads as free). */
export function pathTaken(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes `data` to `file` as the module comment describes. `mode` applies to
 * a file created or replaced (default: a replaced file keeps its own).
 */
export function writeFileAtomic(file: string, data: Uint8Array, mode?: number): void {
  const t = targetOf(file);
  if (t.how === "descriptor") return writeAll(t.fd, data);
  if (t.how === "direct") return writeDirect(t.file, data);
  viaTemp(t.file, data, mode ?? (t.how === "replace" ? t.mode : undefined), (tmp) => fs.renameSync(tmp, t.file));
}

/**
 * Creates `file`, which must not exist (not even as a dangling link): EEXIST
 * otherwise, as with the "wx" flag. The file appears whole or not at all: a
 * full disk leaves nothing behind that a re-run would refuse to overwrite.
 */
export function writeNewFileAtomic(file: string, data: Uint8Array, mode?: number): void {
  const exists = (): boolean => {
    try {
      fs.lstatSync(file);
      return true;
    } catch (e) {
      if (isErrno(e, "ENOENT")) return false;
      throw e;
    }
  };
  if (exists()) throw fsError("EEXIST", `EEXIST: file already exists, open '${file}'`);
  viaTemp(file, data, mode, (tmp) => {
    try {
      // A hard link never replaces anything: a file made meanwhile by someone else stays, and this fails with EEXIST.
      fs.linkSync(tmp, file);
    } catch (e) {
      // File systems without hard links (FAT, some network shares): a rename after one more check.
      if (isErrno(e, "EEXIST") || !(isErrno(e, "EPERM") || isErrno(e, "ENOTSUP") || isErrno(e, "EOPNOTSUPP") || isErrno(e, "ENOSYS")))
        throw e;
      if (exists()) throw fsError("EEXIST", `EEXIST: file already exists, open '${file}'`);
      fs.renameSync(tmp, file);
      return;
    }
    fs.rmSync(tmp, { force: true });
  });
}
