import * as fs from "node:fs";
import * as path from "node:path";
import { Command, CommanderError } from "commander";
import { UserError } from "../errors";
import { CommandModule, RunAction } from "./command";

/**
 * Builds the `privatetracer` program from every module in ./commands, so a
 * sub-command is added by adding one file.
 */
export function buildProgram(onExit: (code: number) => void): Command {
  const program = new Command();
  program
    .name("privatetracer")
    .description("Build and flash PrivateTracer token firmware, simulate a care home, and read, sign, publish and match GAEN key exports.")
    .showHelpAfterError()
    .exitOverride();
  const run: RunAction = (action) => async (...args) => {
    try {
      onExit(await action(...args));
    } catch (e) {
      if (e instanceof UserError) {
        process.stderr.write(`privatetracer: ${e.message}\n`);
        onExit(e.exitCode);
      } else {
        throw e;
      }
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

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = buildProgram((c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version exit 0; usage errors exit 2 like other bad input.
      return e.exitCode === 0 ? 0 : 2;
    }
    throw e;
  }
  return code;
}
