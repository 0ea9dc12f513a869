import { Command } from "commander";
import { RunAction } from "../command";
import { deriveKeys, deriveRpis, encryptMetadata } from "../../match/derive";
import { UserError } from "../../errors";

/** Metadata when --metadata is absent: version 1.0 (0x40), transmit power 0 dBm. */
export const DEFAULT_METADATA = "40000000";
/** Most intervals one call prints: a year of 10-minute intervals. */
export const MAX_COUNT = 52560;
const MAX_ENIN = 0xffffffff;

function parseHex(what: string, text: string, bytes: number): Buffer {
  if (!/^([0-9a-fA-F]{2})+$/.test(text)) {
    throw new UserError(`${what} must be hexadecimal digits in pairs (e.g. ${"00".repeat(bytes)}), got "${text}"`);
  }
  const b = Buffer.from(text, "hex");
  if (b.length !== bytes) throw new UserError(`${what} must be ${bytes} bytes (${2 * bytes} hex digits), got ${b.length} bytes`);
  return b;
}

function parseCount(what: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UserError(`${what} must be a whole number from ${min} to ${max}, got "${text}"`);
  }
  return Number(text);
}

interface DeriveOptions {
  tek: string;
  enin: string;
  count: string;
  metadata: string;
  json?: boolean;
}

/** One `ENIN RPI AEM` line (or JSON object) per interval, derived on node:crypto. */
export function deriveLines(opts: DeriveOptions): string[] {
  const tek = parseHex("--tek", opts.tek, 16);
  const enin = parseCount("--enin", opts.enin, 0, MAX_ENIN);
  const count = parseCount("--count", opts.count, 1, MAX_COUNT);
  if (enin + count - 1 > MAX_ENIN) throw new UserError(`--enin ${enin} with --count ${count} runs past interval ${MAX_ENIN} (uint32)`);
  const metadata = parseHex("--metadata", opts.metadata, 4);
  const keys = deriveKeys(tek);
  const rpis = deriveRpis(keys.rpik, enin, count);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const rpi = rpis.subarray(16 * i, 16 * i + 16);
    const row = { enin: enin + i, rpi: rpi.toString("hex"), aem: encryptMetadata(keys.aemk, rpi, metadata).toString("hex") };
    lines.push(opts.json ? JSON.stringify(row) : `${row.enin} ${row.rpi} ${row.aem}`);
  }
  return lines;
}

export function register(program: Command, run: RunAction): void {
  const gaen = program.command("gaen").description("GAEN v1.2 (Exposure Notification) identifiers, as every implementation derives them.");
  gaen
    .command("derive")
    .description("Print the RPI and AEM of a TEK for consecutive intervals: one `ENIN RPI AEM` line each, lower-case hex.")
    .requiredOption("--tek <hex>", "Temporary Exposure Key: 16 bytes as 32 hex digits")
    .requiredOption("--enin <n>", "first ENIntervalNumber = floor(unix seconds / 600)")
    .option("--count <k>", `number of consecutive intervals (1..${MAX_COUNT})`, "1")
    .option("--metadata <hex>", "the 4 metadata bytes to encrypt into the AEM (version 0x40, tx power as int8 dBm, 0, 0)", DEFAULT_METADATA)
    .option("--json", "one JSON object {enin, rpi, aem} per line instead")
    .action(
      run((opts: DeriveOptions) => {
        process.stdout.write(deriveLines(opts).join("\n") + "\n");
        return "ok";
      })
    );
}
