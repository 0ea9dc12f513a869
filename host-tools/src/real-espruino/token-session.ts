import * as fs from "node:fs";
import * as path from "node:path";
import { ChildProcessWithoutNullStreams } from "node:child_process";
import { installFiles, spawnInterpreter } from "./interpreter";

/**
 * A token on the real interpreter: the firmware bundle, behind the stand-ins
 * of `stand-ins.js`, installed as `.bootcde` in a Storage of its own and booted
 * as a token boots (no file argument, standard input open). The firmware's
 * requests to the hardware arrive as events; JavaScript typed on the console
 * drives the stand-ins (scan crowds, button presses) and reads state back.
 */

export const STAND_INS_FILE = path.join(__dirname, "stand-ins.js");
/** Storage file the stand-ins read their scan crowds from (not "pt.": the firmware never touches it). */
export const BURSTS_FILE = "harness.q";

/** One "@PT [type, value]" line the stand-ins printed. */
export interface TokenEvent {
  type: string;
  value: unknown;
  /** Position in the session's event list. */
  index: number;
}

/** A scan crowd queued for the next scan window: [seed, devices, rounds of packets, sample memory (1) or time it (0)]. */
export type Burst = [number, number, number, number];

export interface BootOptions {
  interpreter: string;
  /** Directory of this token's Storage (`espruino.flash`); kept across reboots. */
  dir: string;
  /** The firmware bundle; only needed the first time (install). */
  bundle?: string;
  /** Unix seconds the clock starts at. */
  time: number;
  timeScale?: number;
  /** Crowds for the first scan windows after boot. */
  bursts?: Burst[];
  /** Extra JavaScript run after the stand-ins and before the firmware (e.g. ballast). */
  beforeFirmware?: string;
}

const EVENT = /@PT (\[.*\])\s*$/;

export class RealToken {
  readonly events: TokenEvent[] = [];
  output = "";
  private child: ChildProcessWithoutNullStreams;
  private pending = "";
  private waiters: Array<() => void> = [];
  private closed: Promise<void>;
  private nextId = 1;

  private constructor(readonly opts: BootOptions) {
    this.child = spawnInterpreter(opts.interpreter, [], { cwd: opts.dir, time: opts.time, timeScale: opts.timeScale });
    this.child.stdout.setEncoding("latin1").on("data", (d: string) => this.take(d));
    this.child.stderr.setEncoding("latin1").on("data", (d: string) => (this.output += d));
    this.closed = new Promise((resolve) => this.child.on("close", () => resolve()));
    this.closed.then(() => this.wake());
  }

  /** Install (when `bundle` is given) and boot. Resolves once the bundle's top level has run. */
  static async boot(o: BootOptions): Promise<RealToken> {
    const files: Record<string, string> = {};
    if (o.bundle !== undefined) {
      files[".bootcde"] = path.join(o.dir, "boot.js");
      fs.writeFileSync(
        files[".bootcde"],
        [
          fs.readFileSync(STAND_INS_FILE, "latin1"),
          o.beforeFirmware ?? "",
          o.bundle,
          ';__h.out("booted", process.memory().usage); __h.out("bootTime", getTime() - __h.t0); __h.phase = "idle";',
          ""
        ].join("\n"),
        "latin1"
      );
    }
    // The crowds go into a Storage file of their own, read by the stand-ins at
    // boot: the first scan window opens before the console takes input.
    files[BURSTS_FILE] = path.join(o.dir, "bursts.json");
    fs.writeFileSync(files[BURSTS_FILE], JSON.stringify(o.bursts ?? []));
    await installFiles(o.interpreter, o.dir, files);
    const t = new RealToken(o);
    await t.waitFor((e) => e.type === "booted" || e.type === "error", 20000);
    return t;
  }

  private take(d: string): void {
    this.output += d;
    this.pending += d;
    let nl: number;
    while ((nl = this.pending.indexOf("\n")) >= 0) {
      const line = this.pending.slice(0, nl);
      this.pending = this.pending.slice(nl + 1);
      const m = EVENT.exec(line);
      if (m) {
        try {
          const [type, value] = JSON.parse(m[1]) as [string, unknown];
          this.events.push({ type, value, index: this.events.length });
        } catch {
          // A line cut by other output: the raw output still has it.
        }
      } else if (/Uncaught|^ERROR|Out of Memory|removing it/i.test(line)) {
        this.events.push({ type: "error", value: line.trim(), index: this.events.length });
      }
    }
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** The first event from `from` on that satisfies `pred`, waiting up to `timeoutMs` real milliseconds. */
  waitFor(pred: (e: TokenEvent) => boolean, timeoutMs: number, from = 0): Promise<TokenEvent> {
    return new Promise((resolve, reject) => {
      let done = false;
      const timer = setTimeout(() => {
        done = true;
        reject(new Error(`no matching event within ${timeoutMs} ms; last output:\n${this.output.slice(-3000)}`));
      }, timeoutMs);
      const check = (): void => {
        if (done) return;
        const e = this.events.slice(from).find(pred);
        if (e) {
          done = true;
          clearTimeout(timer);
          resolve(e);
        } else if (this.child.exitCode !== null || this.child.signalCode !== null) {
          done = true;
          clearTimeout(timer);
          reject(new Error(`the interpreter ended; last output:\n${this.output.slice(-3000)}`));
        } else this.waiters.push(check);
      };
      check();
    });
  }

  /** Type one line on the token's console. */
  send(js: string): void {
    this.child.stdin.write(js.replace(/\n/g, " ") + "\n");
  }

  /** Evaluate an expression on the token and return its JSON value. */
  async eval<T>(expr: string, timeoutMs = 10000): Promise<T> {
    const id = this.nextId++;
    const from = this.events.length;
    this.send(`__h.ret(${id}, (${expr}))`);
    const e = await this.waitFor((x) => x.type === "ret" && (x.value as { id: number }).id === id, timeoutMs, from);
    return (e.value as { v: T }).v;
  }

  ofType(type: string): TokenEvent[] {
    return this.events.filter((e) => e.type === type);
  }

  errors(): string[] {
    return this.ofType("error").map((e) => String(e.value));
  }

  /** quit() the interpreter (Storage stays in `dir`), killing it if it does not end. */
  async quit(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.send("quit()");
      const t = setTimeout(() => this.child.kill("SIGKILL"), 5000);
      await this.closed;
      clearTimeout(t);
    }
  }

  kill(): Promise<void> {
    this.child.kill("SIGKILL");
    return this.closed;
  }

  /** The token's Storage area as the interpreter left it. */
  flash(): Uint8Array {
    return new Uint8Array(fs.readFileSync(path.join(this.opts.dir, "espruino.flash")));
  }
}
