import * as fs from "node:fs";
import * as path from "node:path";
import { Command, CommanderError } from "commander";
import { ErrorKind, PrivateTracerError } from "../errors";
import { CommandModule, RunAction, Verdict } from "./command";

/** How a run ended: the verdict of a command that finished, or the kind of the error that stopped it. */
export type Outcome = Verdict | ErrorKind;

/**
 * The exit status of each outcome, as README.md and docs/ promise them: 0 ok,
 * 1 when the input was read and fails a check (e.g. `keys verify` on a bad
 * signature), 2 when it could not be used (malformed or unreadable input,
 * command-line usage errors). The only place in host-tools/src that knows exit
 * codes: every other module throws a PrivateTracerError with a kind, which a
 * long-running service can handle without exiting.
 */
export const EXIT_CODES: Readonly<Record<Outcome, number>> = { ok: 0, invalid: 1, unusable: 2 };

/**
 * Builds the `privatetracer` program from every module in ./commands, so a
 * sub-command is added by adding one file. `onOutcome` hears how each action ended.
 */
export function buildProgram(onOutcome: (outcome: Outcome) => void): Command {
  const program = new Command();
  program
    .name("privatetracer")
    .description("Build and flash PrivateTracer token firmware, simulate a care home, and read, sign, publish and match GAEN key exports.")
    .showHelpAfterError()
    .exitOverride();
  const run: RunAction =
    (action) =>
    async (...args) => {
      try {
        onOutcome(await action(...args));
      } catch (e) {
        // Anything else is a bug: let it reach bin/privatetracer.js, which prints the stack.
        if (!(e instanceof PrivateTracerError)) throw e;
        process.stderr.write(`privatetracer: ${e.message}\n`);
        onOutcome(e.kind);
      }
    };
  const dir = path.join(__dirname, "commands");
  for (const f of fs.readdirSync(dir).sort()) {
    if (!/\.(ts|js)$/.test(f) || f.endsWith(".d.ts")) continue;
    const mod = require(path.join(dir, f)) as Partial<CommandModule>; // eslint-disable-line @typescript-eslint/no-require-imports
    if (typeof mod.register !== "function") throw new Error(`${f} in cli/commands does not export register()`);
    mod.register(program, run);
  }
  return program;
}

/** Runs `privatetracer` with process-style argv and resolves to its exit code. */
export async function main(argv: string[]): Promise<number> {
  let outcome: Outcome = "ok";
  const program = buildProgram((o) => {
    outcome = o;
  });
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander has printed help or the usage problem already; --help and --version are "ok".
      return EXIT_CODES[e.exitCode === 0 ? "ok" : "unusable"];
    }
    throw e;
  }
  return EXIT_CODES[outcome];
}
