import * as fs from "node:fs";
import * as path from "node:path";
import { Command } from "commander";
import { RunAction, Verdict } from "../command";
import { UserError } from "../../errors";
import { KeyAlreadyPublishedError } from "../../keys/errors";
import { namesStdout, writeFileAtomic, writeNewFileAtomic } from "../../atomic-write";
import { ExportFile, buildExportZip, readExportFile, verifyExportFile } from "../../keys/export-file";
import { keyToJson, readKeysJson } from "../../keys/keys-json";
import { generateSigningKeyPair, loadPrivateKey, loadPublicKey } from "../../keys/signing";
import { KeyExport } from "../../keys/types";
import { skippedKeyName } from "../../keys/export-codec";
import { REPORT_TYPE_NAMES } from "../../keys/validate";
import { readEnrolledKiosks } from "../../keys/kiosk-identity";
import { publishUploads } from "../../keys/publish";
import { RECEIVE_PATH, ReceiverEvent, createUploadReceiver } from "../../keys/upload-receiver";
import { isLoopbackHost } from "../../keys/upload-deliver";
import { INTERVAL_SECONDS } from "../../../../firmware/src/wire/gaen";

function showText(file: string, f: ExportFile): string {
  const e = f.export;
  const lines = [
    `${file}`,
    `  window    ${new Date(e.startTimestamp * 1000).toISOString()} .. ${new Date(e.endTimestamp * 1000).toISOString()} (${e.startTimestamp}-${e.endTimestamp})`,
    `  region    ${e.region || "(none)"}   batch ${e.batchNum} of ${e.batchSize}`,
    `  signed by ${e.signatureInfos.map((s) => `${s.verificationKeyId ?? "?"} v${s.verificationKeyVersion ?? "?"}`).join(", ") || "(no signature info)"}`,
    `  export.sig ${f.hasSigFile ? `${f.signatures.length} signature(s)` : "absent"}`,
    `  ${e.keys.length} key(s), ${e.revisedKeys.length} revised${f.skipped.length ? `, ${skippedCount(f)} (no reader uses them)` : ""}`
  ];
  const row = (k: KeyExport["keys"][number], revised: boolean): string =>
    [
      "  " + Buffer.from(k.keyData).toString("hex"),
      `start ${k.rollingStartIntervalNumber}`,
      `period ${k.rollingPeriod}`,
      k.reportType !== undefined ? REPORT_TYPE_NAMES[k.reportType] : "-",
      k.daysSinceOnsetOfSymptoms !== undefined ? `onset ${k.daysSinceOnsetOfSymptoms}d` : "",
      revised ? "(revised)" : ""
    ]
      .filter(Boolean)
      .join("  ");
  for (const k of e.keys) lines.push(row(k, false));
  for (const k of e.revisedKeys) lines.push(row(k, true));
  for (const k of f.skipped) lines.push(`  ${k.keyData ?? "(no key data)"}  SKIPPED ${skippedKeyName(k)}: ${k.problem}`);
  return lines.join("\n");
}

function skippedCount(f: ExportFile): string {
  return `${f.skipped.length} invalid key(s) skipped`;
}

/** The skipped keys in one line: the first few named, then how many more. */
function skippedList(f: ExportFile): string {
  const shown = f.skipped.slice(0, 3).map((k) => `${skippedKeyName(k)}: ${k.problem}`);
  if (f.skipped.length > shown.length) shown.push(`${f.skipped.length - shown.length} more`);
  return shown.join("; ");
}

/** Whether anything is at `file`, a dangling link included (which a new file would be written through). */
function pathTaken(file: string): boolean {
  try {
    fs.lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

function intOption(v: string, name: string): number {
  if (!/^\d+$/.test(v)) throw new UserError(`${name} must be a non-negative integer, got "${v}"`);
  return Number(v);
}

export function register(program: Command, run: RunAction): void {
  const keys = program
    .command("keys")
    .description("Read, verify, write, sign and publish GAEN key export files (export.zip = export.bin + export.sig).");

  keys
    .command("show")
    .description("Print an export file's header and keys (.zip or bare export.bin).")
    .argument("<file>", "export .zip or export.bin")
    .option("--json", "print one JSON object instead of text")
    .action(
      run(async (file: string, opts: { json?: boolean }): Promise<Verdict> => {
        const f = await readExportFile(file);
        if (opts.json) {
          const e = f.export;
          const out = {
            file,
            startTimestamp: e.startTimestamp,
            endTimestamp: e.endTimestamp,
            region: e.region,
            batchNum: e.batchNum,
            batchSize: e.batchSize,
            signatureInfos: e.signatureInfos,
            signatures: f.signatures.length,
            keys: e.keys.map(keyToJson),
            revisedKeys: e.revisedKeys.map(keyToJson),
            skippedKeys: f.skipped
          };
          process.stdout.write(JSON.stringify(out, null, 2) + "\n");
        } else process.stdout.write(showText(file, f) + "\n");
        return "ok";
      })
    );

  keys
    .command("verify")
    .description(
      "Check an export's signature over the whole export.bin. Exit 0 valid, 1 invalid or unsigned, 2 unreadable or malformed file."
    )
    .argument("<file>", "export .zip")
    .requiredOption("--public-key <pem>", "the publisher's ECDSA P-256 public key (PEM)")
    .action(
      run(async (file: string, opts: { publicKey: string }): Promise<Verdict> => {
        const key = loadPublicKey(opts.publicKey);
        const f = await readExportFile(file);
        const v = verifyExportFile(f, key);
        if (!v.valid) {
          process.stderr.write(`${file}: NOT VALID: ${v.reason}\n`);
          return "invalid";
        }
        const id = v.signature.signatureInfo.verificationKeyId;
        process.stdout.write(`${file}: valid signature${id ? ` (key id "${id}")` : ""}, ${f.export.keys.length} key(s)\n`);
        // The signature covers the invalid keys too; they are counted apart because no reader (match included) uses them.
        if (f.skipped.length) process.stderr.write(`${file}: warning: ${skippedCount(f)}, as match skips them (${skippedList(f)})\n`);
        return "ok";
      })
    );

  keys
    .command("export")
    .description("Write a signed export .zip from keys in JSON (see docs/keys.md for the JSON shape).")
    .requiredOption("--keys <file>", "keys JSON")
    .requiredOption("--out <file>", "export .zip to write")
    .requiredOption("--sign <pem>", "ECDSA P-256 private key (PEM) to sign with")
    .requiredOption("--key-id <id>", "verification_key_id written into the signature info")
    .requiredOption("--key-version <v>", "verification_key_version written into the signature info")
    .requiredOption("--region <r>", "region, e.g. an ISO country code")
    .option("--start <unix>", "window start (default: the start of the earliest key)")
    .option("--end <unix>", "window end (default: now)")
    .option("--batch-num <n>", "batch number", "1")
    .option("--batch-size <n>", "batch size", "1")
    .action(
      run(
        async (opts: {
          keys: string;
          out: string;
          sign: string;
          keyId: string;
          keyVersion: string;
          region: string;
          start?: string;
          end?: string;
          batchNum: string;
          batchSize: string;
        }): Promise<Verdict> => {
          const keyList = readKeysJson(opts.keys);
          const key = loadPrivateKey(opts.sign);
          const earliest = keyList.length
            ? Math.min(...keyList.map((k) => k.rollingStartIntervalNumber)) * INTERVAL_SECONDS
            : Math.floor(Date.now() / 1000);
          const end = opts.end !== undefined ? intOption(opts.end, "--end") : Math.floor(Date.now() / 1000);
          const start = opts.start !== undefined ? intOption(opts.start, "--start") : Math.min(earliest, end);
          const exp: KeyExport = {
            startTimestamp: start,
            endTimestamp: end,
            region: opts.region,
            batchNum: intOption(opts.batchNum, "--batch-num"),
            batchSize: intOption(opts.batchSize, "--batch-size"),
            signatureInfos: [],
            keys: keyList,
            revisedKeys: []
          };
          const zip = await buildExportZip(exp, { key, keyId: opts.keyId, keyVersion: opts.keyVersion });
          try {
            writeFileAtomic(opts.out, zip);
          } catch (e) {
            throw new UserError(`cannot write ${opts.out}: ${(e as Error).message}`);
          }
          // With the export on stdout, the note goes to stderr so the output stays one zip.
          (namesStdout(opts.out) ? process.stderr : process.stdout).write(
            `${opts.out}: ${keyList.length} key(s), signed by "${opts.keyId}" v${opts.keyVersion}\n`
          );
          return "ok";
        }
      )
    );

  keys
    .command("keygen")
    .description("Make an ECDSA P-256 key pair for signing exports (private key written with mode 600).")
    .requiredOption("--private-out <file>", "private key PEM to write (keep it secret)")
    .requiredOption("--public-out <file>", "public key PEM to write (give it to every kiosk)")
    .action(
      run((opts: { privateOut: string; publicOut: string }) => {
        // Both checked before either is written: a half-replaced pair (new private key, old
        // public key, or the reverse) would make every later export fail to verify.
        if (pathTaken(opts.privateOut)) throw new UserError(`${opts.privateOut} exists; refusing to overwrite a private key`);
        if (pathTaken(opts.publicOut))
          throw new UserError(`${opts.publicOut} exists; refusing to overwrite a public key (kiosks may already trust it)`);
        const pair = generateSigningKeyPair();
        // Each file appears whole or not at all: a full disk must not leave an empty key that a re-run refuses to replace.
        try {
          writeNewFileAtomic(opts.privateOut, Buffer.from(pair.privateKeyPem), 0o600);
        } catch (e) {
          throw new UserError(`cannot write ${opts.privateOut}: ${(e as Error).message}; nothing was written`);
        }
        try {
          writeNewFileAtomic(opts.publicOut, Buffer.from(pair.publicKeyPem), 0o644);
        } catch (e) {
          // Without its public half the new private key is useless; remove it so a re-run starts clean.
          fs.rmSync(opts.privateOut, { force: true });
          throw new UserError(`cannot write ${opts.publicOut}: ${(e as Error).message}; nothing was written`);
        }
        process.stdout.write(`wrote ${opts.privateOut} and ${opts.publicOut}\n`);
        return "ok";
      })
    );

  registerPublish(keys, run);
  registerReceive(keys, run);
}

const DEFAULT_RECEIVE_PORT = 8080;

function portOption(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) > 65535) throw new UserError(`--port must be a port number from 0 to 65535, got "${v}"`);
  return Number(v);
}

function receiverLine(e: ReceiverEvent): string {
  const at = new Date().toISOString();
  switch (e.kind) {
    case "stored":
      return `${at} stored ${e.file}: ${e.keys} key(s) from kiosk "${e.kioskId}" (sent by ${e.from})`;
    case "already-stored":
      return `${at} already stored ${e.file} (sent again by ${e.from})`;
    case "refused":
      return `${at} refused (${e.status}) from ${e.from}: ${e.reason}`;
    case "failed":
      return `${at} FAILED to store an upload from ${e.from} (told to send it again): ${e.reason}`;
  }
}

export function registerReceive(keys: Command, run: RunAction): void {
  keys
    .command("receive")
    .description(
      `Publisher: receive diagnosis uploads that kiosks POST to ${RECEIVE_PATH} (kiosk diagnose --upload-to URL) and write each well-formed one, once, into the uploads directory for \`keys publish\` ` +
        "(which checks the kiosk, the signature and the code). Plain HTTP on 127.0.0.1 unless --host says otherwise: kiosks send only over https, so terminate TLS in front of it. " +
        "Runs until stopped (Ctrl-C or SIGTERM); one line per request on standard output."
    )
    .requiredOption("--uploads <dir>", "the uploads directory that keys publish reads")
    .option("--port <n>", `port to listen on (0: any free one, printed)`, portOption, DEFAULT_RECEIVE_PORT)
    .option("--host <address>", "address to listen on; any but this machine's loopback needs TLS terminated in front", "127.0.0.1")
    .action(
      run(async (opts: { uploads: string; port: number; host: string }): Promise<Verdict> => {
        const app = createUploadReceiver({ uploadsDir: opts.uploads, onEvent: (e) => process.stdout.write(receiverLine(e) + "\n") });
        let address: string;
        try {
          address = await app.listen({ host: opts.host, port: opts.port });
        } catch (e) {
          await app.close();
          throw new UserError(`cannot listen on ${opts.host} port ${opts.port}: ${(e as Error).message}`);
        }
        if (!isLoopbackHost(opts.host))
          process.stderr.write(
            `privatetracer: warning: listening on ${address} in plain HTTP. Uploads carry wearers' keys and one-time codes: ` +
              "terminate TLS in front of it (a reverse proxy on this machine) and let nothing reach this port directly; kiosks refuse plain http to any other host.\n"
          );
        let onSignal: (signal: NodeJS.Signals) => void = () => undefined;
        const stopped = new Promise<NodeJS.Signals>((resolve) => {
          onSignal = resolve;
          process.once("SIGINT", onSignal);
          process.once("SIGTERM", onSignal);
        });
        // Only once a stop is handled: whoever reads this line may send one at once.
        process.stdout.write(`receiving uploads at ${address}${RECEIVE_PATH} into ${opts.uploads}; stop with Ctrl-C\n`);
        const signal = await stopped;
        // The other signal's listener would stay otherwise, and swallow that signal for good.
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
        await app.close();
        process.stdout.write(`stopped (${signal})\n`);
        return "ok";
      })
    );
}

export function registerPublish(keys: Command, run: RunAction): void {
  keys
    .command("publish")
    .description(
      "Publisher: check pending diagnosis uploads (enrolled kiosk, signature, one-time code) and publish the good ones' keys in a new signed export listed in OUT/index.txt. Processed uploads move to published/ or rejected/. Exit 0 if none was rejected, 1 if any was, 2 if an upload re-sent a key an earlier run published (refused; the rest is still published)."
    )
    .requiredOption("--uploads <dir>", "directory of pending upload JSON files")
    .requiredOption("--codes <file>", "authorisation code store (from `report issue-code`); used codes are marked in it")
    .requiredOption("--kiosks <file>", 'enrolled kiosks JSON: {"kiosks": [{"kioskId", "publicKey"}]}')
    .requiredOption("--sign <pem>", "ECDSA P-256 private key (PEM) to sign the export with")
    .requiredOption("--key-id <id>", "verification_key_id for the signature info")
    .requiredOption("--key-version <v>", "verification_key_version for the signature info")
    .requiredOption("--region <r>", "region of the export")
    .requiredOption("--out <dir>", "directory of published exports and index.txt")
    .option("--json", "print the outcome as one JSON object")
    .action(
      run(
        async (opts: {
          uploads: string;
          codes: string;
          kiosks: string;
          sign: string;
          keyId: string;
          keyVersion: string;
          region: string;
          out: string;
          json?: boolean;
        }): Promise<Verdict> => {
          const r = await publishUploads({
            uploadsDir: opts.uploads,
            codesFile: opts.codes,
            kiosks: readEnrolledKiosks(opts.kiosks),
            signingKey: loadPrivateKey(opts.sign),
            keyId: opts.keyId,
            keyVersion: opts.keyVersion,
            region: opts.region,
            outDir: opts.out,
            now: Math.floor(Date.now() / 1000),
            onNote: (line) => process.stderr.write(`privatetracer: ${line}\n`)
          });
          if (opts.json) process.stdout.write(JSON.stringify(r, null, 2) + "\n");
          else {
            process.stdout.write(
              r.exportFile
                ? `published ${r.keys} key(s) from ${r.accepted.length} upload(s) in ${opts.out}/${r.exportFile}\n`
                : "nothing published\n"
            );
            for (const a of r.accepted) for (const d of a.dropped) process.stdout.write(`  ${a.file}: left out ${d}\n`);
            for (const f of r.alreadyPublished)
              process.stdout.write(`moved ${f} to published/ (its keys were published by an earlier run)\n`);
          }
          for (const x of r.rejected) process.stderr.write(`rejected ${x.file}: ${x.reason}\n`);
          if (r.republished.length) {
            // Worse than a rejected upload: someone re-sent a published key, perhaps under a second code.
            const list = r.republished.map((x) => `${x.key} from ${path.basename(x.file)} (in ${x.publishedIn})`).join(", ");
            throw new KeyAlreadyPublishedError(
              `refused ${r.republished.length} key(s) that an earlier run already published: ${list}. ` +
                "A key is published once, whatever start it claims; the other keys were handled as listed above. " +
                "Find out why these keys were sent again (a second code for the same person, or a token whose clock moved) before publishing more for that person."
            );
          }
          return r.rejected.length ? "invalid" : "ok";
        }
      )
    );
}
