import { spawnSync } from "node:child_process";
import { Command } from "commander";
import { RunAction, Verdict } from "../command";
import { buildBoards } from "../../build/bundle";
import { loadBoard } from "../../build/boards";
import { formatProblems } from "../../build/lint";
import { planFlash } from "../../build/flash-plan";
import { UserError } from "../../errors";

export function register(program: Command, run: RunAction): void {
  program
    .command("flash")
    .description(
      "Build, lint and size-check one board's firmware, then write it to a token as its boot code with the espruino uploader (sets the token's clock too). " +
        "A token already running PrivateTracer has its console off Bluetooth: hold its button while inserting the battery first (docs/flashing.md)."
    )
    .requiredOption("-b, --board <id>", "board id, e.g. puckjs")
    .requiredOption("-p, --port <address>", "the token's Bluetooth address (aa:bb:cc:dd:ee:ff) or a serial device")
    .option("--dry-run", "print the uploader command instead of running it")
    .action(
      run(async (opts: { board: string; port: string; dryRun?: boolean }): Promise<Verdict> => {
        const cfg = loadBoard(opts.board);
        const [built] = await buildBoards([cfg.id]);
        if (built.lint.length) {
          process.stderr.write(formatProblems(built.file, built.lint) + "\n");
          throw new UserError("refusing to flash a bundle that fails the Espruino lint", "invalid");
        }
        if (!built.size.withinBudget) {
          throw new UserError(
            `refusing to flash: bundle is ${built.size.bytes} bytes, over the ${cfg.name} budget of ${built.size.budgetBytes}`,
            "invalid"
          );
        }
        const plan = planFlash(cfg, built.bootFile, opts.port);
        if (opts.dryRun) {
          process.stdout.write(plan.argv.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(" ") + "\n");
          return "ok";
        }
        const r = spawnSync(plan.argv[0], plan.argv.slice(1), { stdio: "inherit" });
        if (r.status !== 0)
          throw new UserError(
            `the espruino uploader failed (exit ${r.status ?? r.signal}); is the token in range and in recovery boot?`,
            "invalid"
          );
        return "ok";
      })
    );
}
