import { Command } from "commander";
import { RunAction } from "../command";
import { UserError } from "../../errors";
import { writeFileAtomic } from "../../atomic-write";
import { logJson, logText, lossLines, skippedLines } from "../../tokenlog/describe";
import { readTokenLog, TokenLog } from "../../tokenlog/read-log";
import { logToSightingsText } from "../../tokenlog/to-sightings";
import { loadTokenFiles } from "../../tokenlog/token-files";

const FLASH_HELP =
  "a token's flash image (simulate --out DIR writes DIR/flash/<token>.bin) or a directory of its Storage files (pt.log1, …)";
const PARTIAL_HELP = "use what is readable from a damaged (truncated or corrupt) image instead of refusing it";

function readLog(flash: string, partial: boolean | undefined): TokenLog {
  return readTokenLog(loadTokenFiles(flash), { partial: !!partial });
}

export function register(program: Command, run: RunAction): void {
  const log = program.command("log").description("Read the encounter log a token keeps in flash (docs/encounter-log.md).");

  log
    .command("show")
    .description(
      "Print a token's log: segments, records, records skipped and why, the token's dropped counter, every loss (missing segments with their cause, flash damage) and the time span."
    )
    .argument("<flash>", FLASH_HELP)
    .option("--json", "print one JSON object instead of text")
    .option("--partial", PARTIAL_HELP)
    .action(
      run((flash: string, opts: { json?: boolean; partial?: boolean }) => {
        const l = readLog(flash, opts.partial);
        process.stdout.write((opts.json ? JSON.stringify(logJson(l), null, 2) : logText(l)) + "\n");
        return "ok";
      })
    );

  log
    .command("to-sightings")
    .description(
      'Convert a token\'s log to sightings JSON Lines for `privatetracer match`: {"time", "rpi" (5-byte prefix), "rssi" (mean), "aemTx"} a record. Records that cannot be used, every loss and any flash damage are reported on stderr, not written.'
    )
    .argument("<flash>", FLASH_HELP)
    .option("-o, --out <file>", "write the sightings here (default: stdout)")
    .option("--partial", PARTIAL_HELP)
    .action(
      run((flash: string, opts: { out?: string; partial?: boolean }) => {
        const l = readLog(flash, opts.partial);
        const text = logToSightingsText(l);
        if (opts.out) {
          try {
            writeFileAtomic(opts.out, Buffer.from(text, "utf8"));
          } catch (e) {
            throw new UserError(`cannot write ${opts.out}: ${(e as Error).message}`);
          }
        } else process.stdout.write(text);
        // Every loss goes to stderr next to the count, so a converted file never hides what it lacks.
        const notes = [
          `${l.records.length} sighting(s) from ${l.segments.length} segment(s)${opts.out ? ` written to ${opts.out}` : ""}`,
          ...skippedLines(l),
          ...lossLines(l)
        ];
        for (const d of l.damage)
          notes.push(`damaged input (${d.kind}${d.file ? `, ${d.file}` : ""}): ${d.message}; converted what was readable`);
        for (const d of l.workedAround) notes.push(`damage read around (${d.file ?? `byte ${d.offset}`}): ${d.message}`);
        process.stderr.write(notes.map((n) => `${flash}: ${n}`).join("\n") + "\n");
        return "ok";
      })
    );
}
