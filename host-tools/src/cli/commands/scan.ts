import { Command, Option } from "commander";
import { RunAction, Verdict } from "../command";
import { openBluezTransport } from "../../ble/bluez-transport";
import type { FoundToken, Transport } from "../../ble/transport";
import { DEFAULT_SIM_BOARD, openSimTokens } from "../../sync/sim-tokens";
import { TRANSPORT_HELP, checkTransportOptions, collect, wholeSeconds } from "./sync";

const DEFAULT_SECONDS = 5;

function text(found: FoundToken[], seconds: number): string {
  if (found.length === 0)
    return (
      `Nothing with a sync window open was heard in ${seconds} s. ` +
      "Hold the token's button for 2 seconds (its blue light then blips every 2 seconds), bring it close to this reader and scan again.\n"
    );
  const lines = found.map((f) => `  ${f.address}  ${f.rssi} dBm`);
  return [
    `${found.length} device(s) with a sync window open, strongest first:`,
    ...lines,
    "A scan cannot tell which token each one is, and some may be phones: `privatetracer sync --all` finds out by connecting.",
    ""
  ].join("\n");
}

export function register(program: Command, run: RunAction): void {
  program
    .command("scan")
    .description(
      "List what is nearby with a sync window open: each device's Bluetooth address and signal strength (RSSI, stronger is closer), strongest first. " +
        "A scan cannot say which token is which: a token's address changes with its identifiers and its adverts name nobody, and phones' " +
        "exposure-notification adverts look alike; only the handshake of `privatetracer sync` tells them apart. Needs no enrolment store. See docs/sync.md."
    )
    .addOption(new Option("--transport <name>", TRANSPORT_HELP).choices(["sim", "bluez"]).default("bluez"))
    .option("--adapter <name>", "with --transport bluez: the Bluetooth adapter, as `bluetoothctl list` shows it (default: the first one)")
    .option("--seconds <n>", "how long to listen", wholeSeconds("seconds", 1), DEFAULT_SECONDS)
    .option("--json", 'print one JSON object instead of text: {"seconds", "found": [{"address", "rssi"}]}')
    .option(
      "--sim-flash <file>",
      "with --transport sim: a token's flash image (simulate --out DIR writes DIR/flash/<token>.bin); repeat for more. " +
        "The emulated token's button is pressed to open its sync window; the image is not changed",
      collect
    )
    .option("--sim-board <id>", `with --transport sim: the board of the tokens in the images (default: ${DEFAULT_SIM_BOARD})`)
    .action(
      run(
        async (opts: {
          transport: "sim" | "bluez";
          adapter?: string;
          seconds: number;
          json?: boolean;
          simFlash?: string[];
          simBoard?: string;
        }): Promise<Verdict> => {
          checkTransportOptions(opts);
          let transport: Transport;
          if (opts.transport === "sim") {
            const sim = await openSimTokens({ images: opts.simFlash ?? [], board: opts.simBoard });
            for (const n of sim.notes) process.stderr.write(`note: ${n}\n`);
            sim.openWindows();
            transport = sim.transport;
          } else transport = await openBluezTransport({ adapter: opts.adapter });
          let found: FoundToken[];
          try {
            if (process.stderr.isTTY) process.stderr.write(`Listening for ${opts.seconds} s…\n`);
            found = await transport.scan(opts.seconds * 1000);
          } finally {
            await transport.close();
          }
          process.stdout.write(opts.json ? JSON.stringify({ seconds: opts.seconds, found }, null, 2) + "\n" : text(found, opts.seconds));
          return "ok";
        }
      )
    );
}
