import { Command, InvalidArgumentError, Option } from "commander";
import { SingleBar } from "cli-progress";
import { RunAction, Verdict } from "../command";
import { PrivateTracerError, UserError } from "../../errors";
import { openBluezTransport } from "../../ble/bluez-transport";
import { ConnectFailedError } from "../../ble/errors";
import type { Transport } from "../../ble/transport";
import { StoreLockedError, StoreUnreadableError } from "../../provision/errors";
import { getPassphrase, processPassphraseSource } from "../../provision/passphrase";
import { Enrolment, EnrolmentStore, PASSPHRASE_ENV, openStore } from "../../provision/store";
import { DEFAULT_SIM_BOARD, SimTokens, openSimTokens } from "../../sync/sim-tokens";
import { NearbyEvent, NearbyReport, findEnrolment, syncNearby, wantedNotSynced } from "../../sync/sync-nearby";
import { reportJson, reportText } from "../../sync/summary";
import { SEGMENT_BYTES } from "../../../../firmware/src/wire/log-record";

/** As provision names it: the store sits in the directory staff run the tools from. */
const DEFAULT_STORE = "enrolments.ptstore";
const DEFAULT_OUT = "token-logs";
/** A token in its window advertises several times a second; a few seconds hear every one in range. */
const DEFAULT_SCAN_SECONDS = 5;
/** Connecting, discovering the sync service and subscribing: about a second when the token is near. */
const CONNECT_TIMEOUT_MS = 15_000;

export const TRANSPORT_HELP =
  "bluez: this computer's Bluetooth adapter, through BlueZ; sim: no radio, tokens emulated from flash images given with --sim-flash (docs/sync.md)";
export const SIM_FLASH_HELP =
  "with --transport sim: a token's flash image (simulate --out DIR writes DIR/flash/<token>.bin); repeat for more tokens. The emulated token boots from it, " +
  "its button is pressed to open its sync window, and its flash is written back after the session";
export const SIM_BOARD_HELP = `with --transport sim: the board of an image whose token the enrolment store does not name (default: ${DEFAULT_SIM_BOARD})`;

export function wholeSeconds(name: string, min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min) throw new InvalidArgumentError(`--${name} must be a whole number of seconds ≥ ${min}, got "${v}"`);
    return n;
  };
}

function signedSeconds(v: string): number {
  if (!/^[-+]?\d+$/.test(v)) throw new InvalidArgumentError(`--sim-clock-offset must be whole seconds (e.g. -90), got "${v}"`);
  return Number(v);
}

export function collect(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v];
}

export interface TransportChoice {
  transport: "sim" | "bluez";
  adapter?: string;
  /** Absent when none was given (commander would print an empty list as the default in --help). */
  simFlash?: string[];
  simBoard?: string;
}

/** The options of one transport only make sense with it: say so rather than ignore them. */
export function checkTransportOptions(o: TransportChoice): void {
  if (o.transport === "bluez" && o.simFlash !== undefined) throw new UserError("--sim-flash is for --transport sim only");
  if (o.transport === "bluez" && o.simBoard !== undefined) throw new UserError("--sim-board is for --transport sim only");
  if (o.transport === "sim" && o.adapter !== undefined) throw new UserError("--adapter is for --transport bluez only");
  if (o.transport === "sim" && o.simFlash === undefined)
    throw new UserError(
      "--transport sim needs a token's flash image: give --sim-flash FILE (simulate --out DIR writes DIR/flash/<token>.bin)"
    );
}

/** The enrolment store, opened with the passphrase from the environment or the terminal; refuses one that is missing or empty. */
export async function loadStore(file: string): Promise<EnrolmentStore> {
  const passphrase = await getPassphrase(processPassphraseSource(), false);
  let store: EnrolmentStore | undefined;
  try {
    store = openStore(file, passphrase);
  } catch (e) {
    if (e instanceof StoreLockedError)
      throw new StoreLockedError(
        `${e.message}. Check the passphrase (as typed, or in $${PASSPHRASE_ENV}) and that ${file} is this care home's store, then try again; nothing was synced.`
      );
    throw e;
  }
  if (!store)
    throw new StoreUnreadableError(
      `there is no enrolment store at ${file}: give the care home's store with --store FILE (it is made when the first token is provisioned: privatetracer provision)`
    );
  if (store.enrolments.length === 0)
    throw new StoreUnreadableError(`the enrolment store ${file} holds no tokens yet: provision one first (privatetracer provision)`);
  return store;
}

/** Progress on a terminal only: a bar per token while its log is read, a line for the rest. */
class ProgressView {
  private bar: SingleBar | undefined;
  private start: { seg: number; off: number } | undefined;
  private last = 0;
  private bytes = 0;

  constructor(private readonly labelOf: (tokenId: string) => string) {}

  event(e: NearbyEvent): void {
    const say = (s: string): void => void process.stderr.write(s + "\n");
    switch (e.kind) {
      case "scanning":
        say(`Looking for tokens with their sync window open (${e.ms / 1000} s)…`);
        break;
      case "found":
        say(e.found.length ? `Heard ${e.found.length} device(s) in a sync window.` : "No token with its sync window open was heard.");
        break;
      case "connecting":
        say(`Connecting to ${e.address}…`);
        break;
      case "progress":
        this.progress(e.progress);
        break;
      case "synced":
      case "failed":
      case "skipped":
        this.stop();
        break;
    }
  }

  private progress(p: ProgressOf): void {
    if (p.kind === "identified") {
      const label = this.labelOf(p.tokenId);
      process.stderr.write(`Syncing ${label ? `${label} (token ${p.tokenId})` : `token ${p.tokenId}`}…\n`);
    } else if (p.kind === "info") {
      this.last = p.info.logLast;
    } else if (p.kind === "acked") {
      // The read reached the token's end of log: the estimate's total was high (its newest segment is not full).
      this.bar?.update(this.bar.getTotal());
    } else if (p.kind === "chunk") {
      this.start ??= { seg: p.seg, off: p.off };
      this.bytes += p.newBytes;
      // Whole segments from where this read began to the token's newest: an estimate (a segment need not be full), so the bar may end early.
      const total = Math.max(1, (this.last - this.start.seg + 1) * SEGMENT_BYTES - this.start.off);
      const done = Math.min(total, (p.seg - this.start.seg) * SEGMENT_BYTES + p.off + p.bytes - this.start.off);
      if (!this.bar) {
        this.bar = new SingleBar({
          stream: process.stderr,
          format: "reading the log {bar} {percentage}% | segment {seg} of {last} | {bytes} new bytes",
          hideCursor: true
        });
        this.bar.start(total, 0, { seg: p.seg, last: this.last, bytes: 0 });
      }
      this.bar.setTotal(total);
      this.bar.update(done, { seg: p.seg, last: this.last, bytes: this.bytes });
    }
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
    this.start = undefined;
    this.bytes = 0;
  }
}
type ProgressOf = Extract<NearbyEvent, { kind: "progress" }>["progress"];

interface SyncOpts extends TransportChoice {
  token?: string;
  all?: boolean;
  out: string;
  setTime?: boolean;
  json?: boolean;
  store: string;
  seconds: number;
  simClockOffset: number;
}

export function register(program: Command, run: RunAction): void {
  program
    .command("sync")
    .description(
      "Copy the encounter log from tokens whose sync window is open (hold the token's button for 2 seconds) into a directory per token, " +
        "which `log show` and `log to-sightings` read; a later sync resumes where this one stopped. Prints per token what was copied, " +
        "anything lost, its clock, battery and faults. The tokens must be enrolled in the care home's store " +
        `(passphrase from $${PASSPHRASE_ENV} or asked on the terminal). See docs/sync.md.`
    )
    .option("-t, --token <id|label>", "sync only this enrolled token: its label (e.g. the room) or token id")
    .addOption(new Option("-a, --all", "sync every enrolled token found with its sync window open").conflicts("token"))
    .addOption(new Option("--transport <name>", TRANSPORT_HELP).choices(["sim", "bluez"]).default("bluez"))
    .option("--adapter <name>", "with --transport bluez: the Bluetooth adapter, as `bluetoothctl list` shows it (default: the first one)")
    .option("-o, --out <dir>", "put each token's log copy in DIR/<label or token id>/", DEFAULT_OUT)
    .option("--set-time", "set each token's clock to this computer's (keep this computer's clock right)")
    .option("-s, --store <file>", "the care home's enrolment store", DEFAULT_STORE)
    .option("--seconds <n>", "how long to look for tokens before syncing", wholeSeconds("seconds", 1), DEFAULT_SCAN_SECONDS)
    .option("--json", "print one JSON object instead of text")
    .option("--sim-flash <file>", SIM_FLASH_HELP, collect)
    .option("--sim-board <id>", SIM_BOARD_HELP)
    .option(
      "--sim-clock-offset <seconds>",
      "with --transport sim: the tokens' clocks run this far ahead of the kiosk's (negative: behind)",
      signedSeconds,
      0
    )
    .addHelpText(
      "after",
      `
With --transport sim nothing is sent on the air: each --sim-flash image boots as
an emulated token running the firmware the image holds (with --token, the
enrolled token's secrets are installed into an image that has none), its button
is pressed to open its sync window, and the image is written back after the
session, so syncing it again resumes like a real token. Simulated time starts
just after the newest entry in the image's log.

Exit status: 0 the token (or every token found) synced; 1 with --all, some did
not (the summary says what was kept and what to do), or the token failed
authentication; 2 nothing could be synced (no adapter, BlueZ not running, store
or token not found, link lost).`
    )
    .action(
      run(async (opts: SyncOpts): Promise<Verdict> => {
        if (!opts.token && !opts.all) throw new UserError("say which tokens to sync: --token ID (or its label) for one, or --all");
        checkTransportOptions(opts);
        if (opts.transport === "bluez" && opts.simClockOffset !== 0) throw new UserError("--sim-clock-offset is for --transport sim only");
        const store = await loadStore(opts.store);
        const wanted: Enrolment | undefined = opts.token ? findEnrolment(store.enrolments, opts.token, opts.store) : undefined;

        let sim: SimTokens | undefined;
        let transport: Transport;
        if (opts.transport === "sim") {
          sim = await openSimTokens({
            images: opts.simFlash ?? [],
            store,
            install: wanted,
            board: opts.simBoard,
            clockOffsetS: opts.simClockOffset,
            requireSecrets: true
          });
          for (const n of sim.notes) process.stderr.write(`note: ${n}\n`);
          sim.openWindows();
          transport = sim.transport;
        } else {
          transport = await openBluezTransport({ adapter: opts.adapter });
        }

        const tty = process.stderr.isTTY === true;
        const labelOf = (id: string): string => store.enrolments.find((e) => e.tokenId === id)?.label ?? "";
        const view = tty ? new ProgressView(labelOf) : undefined;
        const partial: NearbyReport = { found: [], synced: [], failed: [], skipped: [] };
        let report: NearbyReport;
        try {
          report = await syncNearby({
            transport,
            enrolments: store.enrolments,
            only: wanted?.tokenId,
            outRoot: opts.out,
            setTime: opts.setTime,
            scanMs: opts.seconds * 1000,
            connectTimeoutMs: CONNECT_TIMEOUT_MS,
            now: sim?.now,
            timerOf: sim?.timerOf,
            onEvent: (e) => {
              view?.event(e);
              if (e.kind === "synced") partial.synced.push(e.token);
              if (e.kind === "failed") partial.failed.push(e.token);
            }
          });
        } catch (e) {
          view?.stop();
          // Stopped for every token (adapter gone, BlueZ stopped): still say what the tokens before it got.
          if (e instanceof PrivateTracerError && partial.synced.length + partial.failed.length > 0)
            process.stdout.write(opts.json ? JSON.stringify(reportJson(partial, opts.out), null, 2) + "\n" : reportText(partial, opts.out));
          throw e;
        } finally {
          await transport.close();
          sim?.save();
        }

        const anything = report.synced.length + report.failed.length > 0;
        if (opts.json) process.stdout.write(JSON.stringify(reportJson(report, opts.out), null, 2) + "\n");
        if (wanted) {
          if (report.synced.length === 0) throw wantedNotSynced(report, wanted);
          if (!opts.json) process.stdout.write(reportText(report, opts.out));
          return "ok";
        }
        if (!anything)
          throw new ConnectFailedError(
            report.found.length === 0
              ? "No token with its sync window open was found nearby. Hold each token's button for 2 seconds (its blue light then blips every 2 seconds), bring it close to this reader and sync again."
              : `${report.found.length} device(s) were heard but none took a sync session (phones and other Bluetooth devices do not). Hold each token's button for 2 seconds to open its sync window and sync again.`
          );
        if (!opts.json) process.stdout.write(reportText(report, opts.out));
        return report.failed.length ? "invalid" : "ok";
      })
    );
}
