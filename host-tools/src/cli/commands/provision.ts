import { Command } from "commander";
import { RunAction, Verdict } from "../command";
import { buildBoards } from "../../build/bundle";
import { loadBoard } from "../../build/boards";
import { formatProblems } from "../../build/lint";
import { UserError } from "../../errors";
import { getPassphrase, processPassphraseSource } from "../../provision/passphrase";
import { formatResult } from "../../provision/plan";
import { checkTarget, provisionToken } from "../../provision/provision";
import { PASSPHRASE_ENV } from "../../provision/store";

/** The store's default name, in the directory provisioning runs from (a care home keeps one per home). */
const DEFAULT_STORE = "enrolments.ptstore";

export function register(program: Command, run: RunAction): void {
  program
    .command("provision")
    .description(
      "Give a token its secrets (token id, sync secret, archive secret, the home key) and its firmware in one espruino upload, " +
        `then record the enrolment in the care home's encrypted store (passphrase from $${PASSPHRASE_ENV} or asked on the terminal). ` +
        "The token must be in recovery boot, as for flash (docs/provisioning.md)."
    )
    .requiredOption("-b, --board <id>", "board id, e.g. puckjs")
    .requiredOption("-p, --port <address>", "the token's Bluetooth address (aa:bb:cc:dd:ee:ff) or a serial device")
    .option("-l, --label <text>", "a name for staff, e.g. the resident's room (no personal data needed)")
    .option("-s, --store <file>", "the enrolment store (created with a new home key if missing)", DEFAULT_STORE)
    .option("--dry-run", "print the uploader command and the secrets file's layout (masked); upload and record nothing")
    .option("--json", "print the result as JSON")
    .action(
      run(
        async (opts: {
          board: string;
          port: string;
          label?: string;
          store: string;
          dryRun?: boolean;
          json?: boolean;
        }): Promise<Verdict> => {
          // Fail on a bad board or port before spending seconds on a build.
          checkTarget(opts.board, opts.port, opts.label);
          const cfg = loadBoard(opts.board);
          const [built] = await buildBoards([cfg.id]);
          if (built.lint.length) {
            process.stderr.write(formatProblems(built.file, built.lint) + "\n");
            throw new UserError("refusing to provision with a bundle that fails the Espruino lint", "invalid");
          }
          if (!built.size.withinBudget)
            throw new UserError(
              `refusing to provision: bundle is ${built.size.bytes} bytes, over the ${cfg.name} budget of ${built.size.budgetBytes}`,
              "invalid"
            );
          const source = processPassphraseSource();
          const result = await provisionToken({
            board: cfg.id,
            port: opts.port,
            label: opts.label,
            store: opts.store,
            dryRun: opts.dryRun === true,
            bundlePath: built.bootFile,
            passphrase: (creating) => getPassphrase(source, creating)
          });
          process.stdout.write(opts.json ? JSON.stringify(result, null, 2) + "\n" : formatResult(result));
          return "ok";
        }
      )
    );
}
