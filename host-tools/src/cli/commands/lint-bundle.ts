import * as fs from "node:fs";
import { Command } from "commander";
import { RunAction } from "../command";
import { formatProblems, lintSource } from "../../build/lint";
import { UserError } from "../../errors";

export function register(program: Command, run: RunAction): void {
  program
    .command("lint-bundle")
    .description("Check JavaScript files for constructs Espruino cannot run (exit 1 and line:column messages if any).")
    .argument("<files...>", "bundles to check, e.g. dist/firmware/puckjs.js")
    .action(
      run((files: string[]) => {
        let problems = 0;
        for (const file of files) {
          let src: string;
          try {
            src = fs.readFileSync(file, "latin1");
          } catch (e) {
            throw new UserError(`cannot read ${file}: ${(e as Error).message}`);
          }
          const found = lintSource(src);
          if (found.length) process.stderr.write(formatProblems(file, found) + "\n");
          problems += found.length;
        }
        if (problems) {
          process.stderr.write(`${problems} problem(s)\n`);
          return "invalid";
        }
        process.stdout.write(`${files.length} file(s) clean\n`);
        return "ok";
      })
    );
}
