import { Command } from "commander";
import { RunAction, Verdict } from "../command";
import { buildBoards, sizeTable } from "../../build/bundle";
import { listBoards } from "../../build/boards";
import { formatProblems } from "../../build/lint";
import { UserError } from "../../errors";

export function register(program: Command, run: RunAction): void {
  program
    .command("build")
    .description(
      "Build the firmware bundle for one board or all, lint it and report its size (dist/firmware/<board>.js, <board>.size.json)."
    )
    .option("-b, --board <id>", "board to build (default: every board in board-configs/)")
    .option("--json", "print the size reports as JSON instead of a table")
    .action(
      run(async (opts: { board?: string; json?: boolean }): Promise<Verdict> => {
        const boards = opts.board ? [opts.board] : listBoards();
        const results = await buildBoards(boards);
        if (opts.json)
          process.stdout.write(
            JSON.stringify(
              results.map((r) => r.size),
              null,
              2
            ) + "\n"
          );
        else process.stdout.write(sizeTable(results) + "\n");
        let failed = false;
        for (const r of results) {
          if (r.lint.length) {
            process.stderr.write(formatProblems(r.file, r.lint) + "\n");
            failed = true;
          }
          if (!r.size.withinBudget) {
            process.stderr.write(`${r.board}: bundle is ${r.size.bytes} bytes, over its budget of ${r.size.budgetBytes}\n`);
            failed = true;
          }
        }
        if (failed) throw new UserError("firmware build failed the Espruino lint or its size budget", "invalid");
        return "ok";
      })
    );
}
