import * as fs from "node:fs";
import { Command } from "commander";
import { RunAction } from "../command";
import { UserError } from "../../errors";
import { issueCode, isWellFormedCode, updateCodeStore } from "../../keys/auth-codes";
import { enrolmentOf, generateKioskKey, kioskSecretToJson, readKioskSecret, writeNewFile } from "../../keys/kiosk-identity";
import { readKeysJson } from "../../keys/keys-json";
import { createUpload, MAX_UPLOAD_KEYS, uploadToJson, uploadableKeys } from "../../keys/upload";
import { parseReportType } from "../../keys/validate";
import { ReportType } from "../../keys/types";
import { parseIsoDay } from "../../iso-day";

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

export function register(program: Command, run: RunAction): void {
  const report = program
    .command("report")
    .description("Report a diagnosis: kiosk keys, authorisation codes, and signed uploads of a token's own keys (see docs/keys.md).");

  report
    .command("keygen")
    .description("Make a kiosk's Ed25519 key for signing uploads; prints the entry to add to the publisher's kiosk list.")
    .requiredOption("--kiosk-id <id>", "this kiosk's id (letters, digits, . _ -)")
    .requiredOption("--out <file>", "secret key file to write (mode 600; never leaves the kiosk)")
    .option("--public-out <file>", "also write the enrolment entry {kioskId, publicKey} to this file")
    .action(
      run((opts: { kioskId: string; out: string; publicOut?: string }) => {
        const k = generateKioskKey(opts.kioskId);
        writeNewFile(opts.out, kioskSecretToJson(k), 0o600);
        const entry = JSON.stringify(enrolmentOf(k), null, 2) + "\n";
        if (opts.publicOut) {
          try {
            writeNewFile(opts.publicOut, entry, 0o644);
          } catch (e) {
            // A secret key nobody can enrol is useless, and would make a re-run refuse to overwrite it: remove it.
            fs.rmSync(opts.out, { force: true });
            throw e;
          }
        }
        process.stdout.write(entry);
        return "ok";
      })
    );

  report
    .command("issue-code")
    .description("Health authority: issue a one-time authorisation code for one diagnosis; prints the code, stores only its hash.")
    .requiredOption("--codes <file>", "code store JSON (created if missing)")
    .option("--valid-hours <h>", "hours the code stays usable", "72")
    .option("--report-type <type>", "confirmed-test, clinical-diagnosis, self-report or recursive", "confirmed-test")
    .option("--onset <date>", "symptom onset (or test) date, YYYY-MM-DD, for days-since-onset")
    .action(
      run((opts: { codes: string; validHours: string; reportType: string; onset?: string }) => {
        const hours = Number(opts.validHours);
        if (!Number.isFinite(hours) || hours <= 0 || hours > 24 * 14)
          throw new UserError(`--valid-hours must be between 0 and ${24 * 14}, got "${opts.validHours}"`);
        const rt = parseReportType(opts.reportType);
        if (rt === null || rt === ReportType.Revoked || rt === ReportType.Unknown)
          throw new UserError(
            `--report-type "${opts.reportType}" is not one of confirmed-test, clinical-diagnosis, self-report, recursive`
          );
        let onset: number | undefined;
        if (opts.onset !== undefined) {
          const t = parseIsoDay(opts.onset);
          if (t === null) throw new UserError(`--onset must be a real date YYYY-MM-DD (e.g. 2024-02-29), got "${opts.onset}"`);
          onset = t;
        }
        const now = nowSeconds();
        const code = updateCodeStore(
          opts.codes,
          (store) => issueCode(store, { now, validSeconds: Math.round(hours * 3600), reportType: rt, symptomOnset: onset }),
          { createIfMissing: true, onNote: (line) => process.stderr.write(`privatetracer: ${line}\n`) }
        );
        process.stdout.write(code + "\n");
        return "ok";
      })
    );

  report
    .command("create")
    .description(
      "Kiosk: package a token's own keys (read with the wearer's consent) into an upload bound to an authorisation code and signed with this kiosk's key."
    )
    .requiredOption("--keys <file>", "the token's keys, JSON (see docs/keys.md)")
    .requiredOption("--code <code>", "authorisation code from the health authority")
    .requiredOption("--kiosk-key <file>", "this kiosk's secret key (from `report keygen`)")
    .requiredOption("--out <file>", "upload JSON to write")
    .action(
      run((opts: { keys: string; code: string; kioskKey: string; out: string }) => {
        if (!isWellFormedCode(opts.code))
          throw new UserError(`"${opts.code}" is not a well-formed authorisation code (16 letters and digits, e.g. ABCD-EFGH-JKMN-PQRS)`);
        const kiosk = readKioskSecret(opts.kioskKey);
        const now = nowSeconds();
        const all = readKeysJson(opts.keys);
        const { keys, left } = uploadableKeys(all, now);
        if (!keys.length)
          throw new UserError(
            `${opts.keys}: none of the ${all.length} key(s) is both expired and from the last 14 days; nothing to upload`
          );
        if (keys.length > MAX_UPLOAD_KEYS)
          throw new UserError(`${opts.keys}: ${keys.length} keys, more than the ${MAX_UPLOAD_KEYS} a token keeps`);
        const upload = createUpload(keys, opts.code, kiosk, now);
        writeNewFile(opts.out, uploadToJson(upload));
        process.stdout.write(
          `${opts.out}: ${keys.length} key(s) signed by kiosk "${kiosk.kioskId}"${left ? `, ${left} left out (still in use or older than 14 days)` : ""}\n`
        );
        return "ok";
      })
    );
}
