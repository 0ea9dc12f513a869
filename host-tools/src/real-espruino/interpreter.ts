import * as fs from "node:fs";
import * as path from "node:path";
import { ChildProcessWithoutNullStreams, spawn, spawnSync } from "node:child_process";
import { repoRoot } from "../paths";

/**
 * Where the real Espruino interpreters live: one Linux build per board,
 * configured like it (JsVars, block size, Storage, crypto), named
 * `espruino-<board id>`. `ESPRUINO_DIR` overrides the default, a `shared/espruino`
 * folder beside the repository.
 */
export function espruinoDir(): string {
  return process.env.ESPRUINO_DIR ? path.resolve(process.env.ESPRUINO_DIR) : path.resolve(repoRoot, "..", "shared", "espruino");
}

/** The interpreter built like `boardId`, or undefined when it is not there. */
export function interpreterFor(boardId: string): string | undefined {
  const p = path.join(espruinoDir(), `espruino-${boardId}`);
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return p;
  } catch {
    return undefined;
  }
}

/** The host can start no interpreter: what it lacks and how to get it. */
export class InterpreterUnrunnableError extends Error {
  constructor(interpreter: string) {
    super(
      `${interpreter} is a 32-bit x86 Linux program and this host's kernel cannot run it (no IA-32 support), ` +
        "and no qemu-i386-static or qemu-i386 is on the PATH to run it instead: install Debian's qemu-user-static " +
        "(`.ci/run` does so when it is needed)"
    );
    this.name = "InterpreterUnrunnableError";
  }
}

/** How to start one interpreter: the program and the arguments before its own. */
interface Launch {
  command: string;
  prefix: string[];
}

const launches = new Map<string, Launch | Error>();

/** Espruino's Linux build prints its usage for --help; nothing else does. */
function probe(command: string, args: string[]): { usage: boolean; said: string } {
  const r = spawnSync(command, [...args, "--help"], { encoding: "latin1", timeout: 30000 });
  const said = r.error ? r.error.message : `${r.stdout}${r.stderr}`;
  return { usage: !r.error && said.includes("Usage"), said };
}

/**
 * The interpreters are 32-bit builds (a JsVar is 13 bytes there, as on the
 * nRF52), and some 64-bit kernels are built without IA-32 support. There
 * they run under qemu's user-mode emulator, which executes the same binary
 * instruction by instruction: same JsVars, same Storage, only slower. The
 * native try goes through bash, which refuses a binary it cannot execute;
 * spawning it directly would have `execvp` hand it to /bin/sh as a script.
 */
function launchFor(interpreter: string): Launch {
  let l = launches.get(interpreter);
  if (!l) {
    const native = probe("bash", ["-c", 'exec "$0" "$@"', interpreter]);
    if (native.usage) l = { command: interpreter, prefix: [] };
    else if (!/Exec format error|cannot execute binary/.test(native.said))
      // Not the kernel refusing it (a timeout on a busy host, no bash): say what happened, do not guess qemu.
      l = new Error(`${interpreter} --help did not print Espruino's usage:\n${native.said.slice(-1000)}`);
    else {
      const qemu = ["qemu-i386-static", "qemu-i386"].find((q) => probe(q, [interpreter]).usage);
      l = qemu ? { command: qemu, prefix: [interpreter] } : new InterpreterUnrunnableError(interpreter);
    }
    launches.set(interpreter, l);
  }
  if (l instanceof Error) throw l;
  return l;
}

/** Start an interpreter with its standard streams piped, natively or under qemu. */
export function spawnInterpreter(
  interpreter: string,
  args: string[],
  o: { cwd: string; time?: number; timeScale?: number }
): ChildProcessWithoutNullStreams {
  const l = launchFor(interpreter);
  return spawn(l.command, [...l.prefix, ...args], { cwd: o.cwd, env: interpreterEnv(o), stdio: ["pipe", "pipe", "pipe"] });
}

export interface RunResult {
  /** Everything the interpreter printed (banner, echo and program output). */
  stdout: string;
  stderr: string;
  /** True when the interpreter ended on its own (quit()), false when it was killed at the time limit. */
  exited: boolean;
}

export interface RunOptions {
  /** Working directory: holds `espruino.flash` (the token's Storage). */
  cwd: string;
  /** Unix seconds the clock starts at (0: a board whose clock was never set). */
  time?: number;
  /** The clock and every timer run this many times faster than real time. */
  timeScale?: number;
  /** Kill the interpreter after this many real milliseconds. */
  timeoutMs: number;
}

function interpreterEnv(o: { time?: number; timeScale?: number }): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (o.time !== undefined) env.ESPRUINO_TIME = String(o.time);
  if (o.timeScale !== undefined) env.ESPRUINO_TIME_SCALE = String(o.timeScale);
  return env;
}

/**
 * Run one script file on the interpreter and collect its output. Standard
 * input stays open while it runs (without it the interpreter may stop early);
 * the script should end with quit(). SIGKILL, as it catches SIGTERM.
 */
export function runScript(interpreter: string, scriptFile: string, o: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawnInterpreter(interpreter, [scriptFile], o);
    let stdout = "";
    let stderr = "";
    let exited = true;
    child.stdout.setEncoding("latin1").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("latin1").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      exited = false;
      child.kill("SIGKILL");
    }, o.timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", () => {
      clearTimeout(timer);
      resolve({ stdout, stderr, exited });
    });
  });
}

/** Bytes per Storage write when installing a file. */
const INSTALL_CHUNK = 1024;

/**
 * Copy host files into the Storage of `cwd`/espruino.flash (created if
 * missing), as `privatetracer flash` puts a bundle on a token: Storage name →
 * host file.
 */
export async function installFiles(interpreter: string, cwd: string, files: Record<string, string>): Promise<void> {
  const lines = ['var S = require("Storage"), fs = require("fs");'];
  for (const [name, file] of Object.entries(files)) {
    // In chunks: the whole file read into the interpreter's RAM at once ran a
    // 2,630-JsVar build out of memory for a bundle over ~12.9 KB (with the
    // stand-ins), which a token's uploader never needs either.
    const bytes = fs.readFileSync(file);
    for (let at = 0, n = 0; at < bytes.length || at === 0; at += INSTALL_CHUNK, n++) {
      const chunk = `${file}.${n}`;
      fs.writeFileSync(chunk, bytes.subarray(at, at + INSTALL_CHUNK));
      const args = at === 0 ? `, 0, ${bytes.length}` : `, ${at}`;
      lines.push(
        `if (!S.write(${JSON.stringify(name)}, fs.readFileSync(${JSON.stringify(chunk)})${args})) print("@PT-INSTALL-FAILED " + ${JSON.stringify(name)});`
      );
      if (!bytes.length) break;
    }
  }
  lines.push('print("@PT-INSTALLED"); quit();');
  const script = path.join(cwd, "install.js");
  fs.writeFileSync(script, lines.join("\n") + "\n");
  const r = await runScript(interpreter, script, { cwd, timeoutMs: 20000 });
  if (!r.stdout.includes("@PT-INSTALLED") || r.stdout.includes("@PT-INSTALL-FAILED"))
    throw new Error(`installing ${Object.keys(files).join(", ")} into Storage failed:\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
}
