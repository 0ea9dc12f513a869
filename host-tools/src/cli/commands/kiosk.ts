import * as fs from "node:fs";
import * as path from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { RunAction, Verdict } from "../command";
import { openBluezTransport } from "../../ble/bluez-transport";
import type { Transport } from "../../ble/transport";
import { invalidKeysWarning, keySourceFreshness, loadKeySourceDetailed } from "../../keys/sources";
import type { ExposureKey } from "../../keys/types";
import { readPem } from "../../keys/signing";
import {
  DB_FILE,
  KioskDir,
  MASTER_KEY_FILE,
  RISK_CONFIG_FILE,
  BOARDS_DIR,
  initKioskDir,
  openKioskDir,
  outboxDirOf
} from "../../kiosk/kiosk-dir";
import { listBoards, loadBoard } from "../../build/boards";
import { readMasterKey } from "../../kiosk/master-key";
import { KioskPassEvent, KioskPassReport, kioskPass } from "../../kiosk/kiosk-pass";
import { KioskStore, TokenRecord, importEnrolmentStore } from "../../kiosk/store";
import { STAFF_PASSWORD_ENV, checkNewPassword, hashPassword } from "../../kiosk/staff";
import { EventHub, KioskEvent } from "../../kiosk/events";
import { RadioJobQueue, diagnoseRunner } from "../../kiosk/radio-jobs";
import { buildDashboard } from "../../kiosk/dashboard";
import { serveLiveCareHome } from "../../sim/kiosk/live-home";
import { askOnTerminal } from "../../provision/passphrase";
import { ServiceEvent, runKioskService } from "../../kiosk/service";
import { DiagnoseOutcome, diagnose } from "../../kiosk/diagnose";
import { DEFAULT_EPSILON, DEFAULT_WEEKS, releaseWeeks, toCsv, toJson } from "../../kiosk/statistics";
import { readKioskSecret } from "../../keys/kiosk-identity";
import { UploadDeliveryError, parseUploadTarget, sendOutbox, targetText, uploadTargetProblem } from "../../keys/upload-deliver";
import { findEnrolment } from "../../sync/sync-nearby";
import { UserError } from "../../errors";
import { SimTokens, openSimTokens } from "../../sync/sim-tokens";
import {
  SIM_BOARD_HELP,
  SIM_FLASH_HELP,
  TRANSPORT_HELP,
  TransportChoice,
  checkTransportOptions,
  collect,
  loadStore,
  wholeSeconds
} from "./sync";

const DEFAULT_SCAN_SECONDS = 5;
const CONNECT_TIMEOUT_MS = 15_000;
/** As `match` warns: keys older than this are probably not being fetched any more. */
const KEY_AGE_WARN_DAYS = 3;
const DAY = 86400;

const say = (s: string): void => void process.stderr.write(s + "\n");

/**
 * The store alone, for commands that change accounts: opening the kiosk
 * directory would clear work/, which a running `kiosk serve` may be using.
 */
function withStore<T>(dir: string, f: (s: KioskStore) => T): T {
  if (!fs.existsSync(path.join(dir, DB_FILE)))
    throw new UserError(`there is no kiosk in ${dir}: create one with privatetracer kiosk init --dir ${dir}`);
  const s = KioskStore.open(path.join(dir, DB_FILE), readMasterKey(path.join(dir, MASTER_KEY_FILE)));
  try {
    return f(s);
  } finally {
    s.close();
  }
}

/** A new staff password: from the environment, or asked twice on the terminal; refused when too short. */
async function staffPassword(creating: boolean): Promise<string> {
  let p = process.env[STAFF_PASSWORD_ENV];
  if (p === undefined || p === "") {
    if (!(process.stdin.isTTY && process.stderr.isTTY))
      throw new UserError(
        `a staff password is needed: set ${STAFF_PASSWORD_ENV} or run on a terminal to be asked for it; nothing was changed`
      );
    p = await askOnTerminal("Staff password (at least 10 characters): ");
    if (creating && (await askOnTerminal("Repeat the password: ")) !== p)
      throw new UserError("the two passwords differ; nothing was changed");
  }
  checkNewPassword(p);
  return p;
}

function withKiosk<T>(dir: string, f: (k: KioskDir) => Promise<T> | T): Promise<T> {
  const k = openKioskDir(dir);
  return Promise.resolve()
    .then(() => f(k))
    .finally(() => k.store.close());
}

/** The level a token shows, as staff say it. */
function levelWords(level: number | null): string {
  return level === null ? "not set yet" : (["nothing found", "low", "high — ask staff"][level] ?? `level ${level}`);
}

function statusText(tokens: TokenRecord[], archiveDays: (id: string) => number): string {
  if (!tokens.length) return "No tokens enrolled yet: privatetracer kiosk import --dir DIR --store FILE\n";
  const rows = tokens.map((t) => [
    t.label || t.tokenId,
    t.lastSyncAt === null ? "never" : new Date(t.lastSyncAt * 1000).toISOString().replace(/\.\d+Z$/, "Z"),
    t.battery === null ? "?" : `${t.battery}%`,
    levelWords(t.riskLevel),
    `${archiveDays(t.tokenId)} d`
  ]);
  const head = ["token", "last sync", "battery", "shows", "history kept"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]): string =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  return [fmt(head), ...rows.map(fmt)].join("\n") + "\n";
}

/** Which grading the kiosk's warnings come from, so whoever runs it can tell a configured kiosk from a default one. */
function gradingLine(k: KioskDir): string {
  const c = k.riskConfig;
  const how = c.closeContactModel ? `the close-contact classifier (cut ${c.closeContactModel.cut})` : "weighted minutes";
  const own: string[] = [];
  const damaged: string[] = [];
  for (const id of k.boardDir ? listBoards(k.boardDir) : []) {
    try {
      loadBoard(id, k.boardDir);
      own.push(id);
    } catch (e) {
      damaged.push(`  ${BOARDS_DIR}/${id}.json: ${(e as Error).message}\n`);
    }
  }
  const crediting =
    (own.length
      ? `Scans of ${own.join(", ")} tokens are credited with the schedule in the kiosk's ${BOARDS_DIR}/ directory; other boards with the shipped one.\n`
      : "") +
    (damaged.length
      ? `These board configs do not load, so their tokens' minutes are credited as a phone's and may come out short; mend or remove them:\n${damaged.join("")}`
      : "");
  return `Warnings are graded by ${how}, ${k.riskConfigFromFile ? `as ${RISK_CONFIG_FILE} in the kiosk's directory says` : "the defaults"} (docs/risk.md).\n${crediting}`;
}

async function loadKeys(src: string | undefined, publicKey: string | undefined): Promise<ExposureKey[]> {
  if (!src) {
    say("note: no --keys given: logs are archived, but no level is checked or written (nothing checked is not “no risk”)");
    return [];
  }
  const loaded = await loadKeySourceDetailed(src, { publicKeyPem: publicKey ? readPem(publicKey, "public key") : undefined });
  const w = invalidKeysWarning(loaded);
  if (w) say(`warning: ${w}`);
  const fresh = keySourceFreshness(loaded, src, Math.floor(Date.now() / 1000), KEY_AGE_WARN_DAYS * DAY);
  if (fresh.warning) say(`warning: ${fresh.warning}`);
  if (!loaded.keys.length) say(`note: ${src} holds no published keys yet: levels are left as the tokens show them`);
  return loaded.keys;
}

function passText(r: KioskPassReport, labelOf: (id: string | null) => string): string {
  if (!r.found.length) return "No token with its sync window open was heard.\n";
  const out: string[] = [];
  for (const { address, result } of r.rounds) {
    const who = result.tokenId ? `${labelOf(result.tokenId) || "token"} (${result.tokenId})` : address;
    out.push(`${who}: ${result.outcome === "ok" ? "" : `${result.outcome}: `}${result.detail}`);
    if (result.written) out.push(`  the token now shows: ${levelWords(result.written.level)}`);
  }
  if (r.passedOver.length) out.push(`${r.passedOver.length} other device(s) heard took no sync session (phones, or tokens that left).`);
  return out.join("\n") + "\n";
}

/**
 * The kiosk's radio: BlueZ, or emulated tokens booted from flash images
 * (each pressed to open its sync window) when `--transport sim`.
 */
async function openRadio(o: TransportChoice): Promise<{ sim?: SimTokens; transport: Transport }> {
  if (o.transport !== "sim") return { transport: await openBluezTransport({ adapter: o.adapter }) };
  const sim = await openSimTokens({ images: o.simFlash ?? [], board: o.simBoard, requireSecrets: true });
  for (const n of sim.notes) say(`note: ${n}`);
  sim.openWindows();
  return { sim, transport: sim.transport };
}

/** Staff know tokens by their labels: id → label ("" when it has none or is unknown). */
function labelsOf(k: KioskDir): (id: string | null) => string {
  const labels = new Map(k.store.tokens().map((t) => [t.tokenId, t.label]));
  return (id) => (id ? (labels.get(id) ?? "") : "");
}

interface DiagnoseOpts extends TransportChoice {
  dir: string;
  token: string;
  code: string;
  kioskKey: string;
  uploadTo?: string;
  uploadDir?: string;
  keys?: string;
  publicKey?: string;
  consentSeconds: number;
  searchSeconds: number;
}

interface ServeOpts extends TransportChoice {
  dir?: string;
  simulate?: string;
  speed: number;
  simDays: number;
  seed: number;
  port: number;
  listen: string;
  dashboard: boolean;
  kioskKey?: string;
  uploadTo?: string;
  keys?: string;
  publicKey?: string;
  cacheDir?: string;
  refreshMinutes: number;
  seconds: number;
  passes?: number;
  json?: boolean;
}

/** `serve --simulate care-home`: the kiosk and its dashboard over a live simulated care home (sim/kiosk/live-home.ts). */
async function serveSimulated(o: ServeOpts): Promise<Verdict> {
  if (o.dir !== undefined) throw new UserError("--simulate runs a kiosk of its own: leave out --dir");
  if (!o.dashboard) throw new UserError("--simulate is there to be watched on the dashboard: leave out --no-dashboard");
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    await serveLiveCareHome({
      days: o.simDays,
      seed: o.seed,
      speed: o.speed,
      board: "puckjs",
      port: o.port,
      host: o.listen,
      signal: stop.signal,
      say,
      onEvent: (e) => {
        if (e.kind === "radio-job" && e.job.status.state === "done") say(`diagnosis from the dashboard: ${e.job.status.result.message}`);
      }
    });
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  return "ok";
}

/** The dashboard serves this machine only unless told otherwise (--listen, with a warning). */
const DASHBOARD_ADDRESS = "127.0.0.1";

function portNumber(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > 65535) throw new InvalidArgumentError(`--port must be a port number from 1 to 65535, got "${v}"`);
  return n;
}

/** Between passes that found nobody to sync. */
const PAUSE_MS = 10_000;

function serviceLine(e: ServiceEvent, labelOf: (id: string | null) => string): string | null {
  switch (e.kind) {
    case "keys":
      return `keys: ${e.keys} published key(s) from ${e.source}${e.warning ? ` (warning: ${e.warning})` : ""}`;
    case "keys-unreadable":
      return (
        `keys: ${e.source} could not be read: ${e.message}. ` +
        (e.since === null
          ? "No keys were ever read: logs are archived, no level is written."
          : `Still using the ${e.using} key(s) read at ${new Date(e.since * 1000).toISOString()}.`)
      );
    case "beacon":
      return e.on ? "beacon: on the air; this home's tokens open their sync window when they hear it" : `beacon: off: ${e.message}`;
    case "index":
      return e.message ? `index: ${e.message}` : `index: the published identifiers of ${e.keys} key(s) ready in ${e.seconds.toFixed(1)} s`;
    case "pass":
      return e.report.rounds.length ? passText(e.report, labelOf).trimEnd() : null;
    case "stopped":
      return `stopped after ${e.passes} pass(es)`;
    case "sync":
      // The pass's report says the same once it ends; step by step is for the dashboard's live view.
      return null;
  }
}

function serviceJson(e: ServiceEvent, labelOf: (id: string | null) => string): Record<string, unknown> | null {
  if (e.kind === "sync") return null;
  if (e.kind !== "pass") return { ...e };
  return {
    kind: "pass",
    heard: e.report.found.length,
    rounds: e.report.rounds.map(({ address, result }) => ({ address, label: labelOf(result.tokenId), ...result }))
  };
}

interface SyncOpts extends TransportChoice {
  dir: string;
  keys?: string;
  publicKey?: string;
  seconds: number;
  json?: boolean;
  store?: string;
}

export function register(program: Command, run: RunAction): void {
  const kiosk = program
    .command("kiosk")
    .description(
      "The care home's kiosk: syncs enrolled tokens, keeps their logs sealed for 14 days, matches them and writes the warning back (docs/kiosk.md)."
    );

  kiosk
    .command("init")
    .description(
      "Create a kiosk in DIR: its database and the master key that seals the tokens' sync secrets (mode 0600). Refuses a DIR that holds one."
    )
    .requiredOption("-d, --dir <dir>", "the kiosk's directory")
    .option("--staff <name>", `also create the dashboard's first staff account (password from $${STAFF_PASSWORD_ENV} or asked)`)
    .action(
      run(async (o: { dir: string; staff?: string }): Promise<Verdict> => {
        // Asked before anything is created: a refused password must not leave a kiosk without its account.
        const password = o.staff === undefined ? undefined : await staffPassword(true);
        const k = initKioskDir(o.dir);
        try {
          if (o.staff !== undefined && password !== undefined) k.store.addStaff(o.staff, await hashPassword(password));
        } finally {
          k.store.close();
        }
        if (o.staff) process.stdout.write(`Staff account ${o.staff} created for the dashboard.\n`);
        process.stdout.write(`Kiosk created in ${o.dir}. Next: privatetracer kiosk import --dir ${o.dir} --store <enrolment store>\n`);
        return "ok";
      })
    );

  const staff = kiosk.command("staff").description("The dashboard's staff accounts (passwords from $" + STAFF_PASSWORD_ENV + " or asked).");
  staff
    .command("add")
    .description("Add a staff account to the kiosk's dashboard.")
    .requiredOption("-d, --dir <dir>", "the kiosk's directory")
    .requiredOption("--staff <name>", "the staff member's name, as they type it to log in")
    .action(
      run(async (o: { dir: string; staff: string }): Promise<Verdict> => {
        const hash = await hashPassword(await staffPassword(true));
        withStore(o.dir, (s) => s.addStaff(o.staff, hash));
        process.stdout.write(`Staff account ${o.staff} added.\n`);
        return "ok";
      })
    );
  staff
    .command("passwd")
    .description("Set a staff account's password (and lift a lock-out after wrong passwords).")
    .requiredOption("-d, --dir <dir>", "the kiosk's directory")
    .requiredOption("--staff <name>", "the staff member's name")
    .action(
      run(async (o: { dir: string; staff: string }): Promise<Verdict> => {
        const hash = await hashPassword(await staffPassword(true));
        withStore(o.dir, (s) => s.setStaffPassword(o.staff, hash));
        process.stdout.write(`Password of ${o.staff} changed.\n`);
        return "ok";
      })
    );

  kiosk
    .command("import")
    .description(
      "Enrol the tokens of the care home's enrolment store (made by privatetracer provision; passphrase from the environment or asked) in the kiosk. Tokens already enrolled are left as they are."
    )
    .requiredOption("-d, --dir <dir>", "the kiosk's directory")
    .requiredOption("-s, --store <file>", "the care home's enrolment store")
    .action(
      run(async (o: { dir: string; store: string }): Promise<Verdict> => {
        const home = await loadStore(o.store);
        return withKiosk(o.dir, (k) => {
          // The kiosk's beacon opens this home's sync windows: importing keeps the home's key too.
          const r = importEnrolmentStore(k.store, home);
          process.stdout.write(`${r.added} token(s) enrolled, ${r.unchanged} already enrolled.\n`);
          if (r.conflicting.length)
            process.stdout.write(
              `${r.conflicting.length} token(s) are enrolled here with another sync secret and were left as they are: ${r.conflicting.join(", ")}. ` +
                "They were provisioned again after this kiosk imported them; remove them from the kiosk and import again.\n"
            );
          return r.conflicting.length ? "invalid" : "ok";
        });
      })
    );

  kiosk
    .command("sync")
    .description(
      "One pass of the kiosk's radio: every enrolled token heard with its sync window open is synced in turn. Its log goes into its sealed archive, " +
        "the whole 14-day history is matched against the published keys and the level is written back to the token."
    )
    .requiredOption("-d, --dir <dir>", "the kiosk's directory")
    .option(
      "--keys <src>",
      "published keys: an export .zip/.bin, a directory of them, or an index.txt (path or URL); without it, no level is written"
    )
    .option("--public-key <pem>", "require every export to verify with the health authority's public key")
    .addOption(new Option("--transport <name>", TRANSPORT_HELP).choices(["sim", "bluez"]).default("bluez"))
    .option("--adapter <name>", "with --transport bluez: the Bluetooth adapter (default: the first one)")
    .option("--seconds <n>", "how long to listen for tokens", wholeSeconds("seconds", 1), DEFAULT_SCAN_SECONDS)
    .option("--sim-flash <file>", SIM_FLASH_HELP, collect)
    .option("--sim-board <id>", SIM_BOARD_HELP)
    .option("--json", "print one JSON object instead of text")
    .addHelpText(
      "after",
      "\nExit status: 0 every token heard synced (or none was heard); 1 some did not (each line says why); 2 nothing could be done."
    )
    .action(
      run(async (o: SyncOpts): Promise<Verdict> => {
        checkTransportOptions(o);
        const keys = await loadKeys(o.keys, o.publicKey);
        return withKiosk(o.dir, async (k) => {
          const { sim, transport } = await openRadio(o);
          const labelOf = labelsOf(k);
          let report: KioskPassReport;
          try {
            report = await kioskPass({
              transport,
              store: k.store,
              keys,
              workDir: k.workDir,
              riskConfig: k.riskConfig,
              boardDir: k.boardDir,
              scanMs: o.seconds * 1000,
              connectTimeoutMs: CONNECT_TIMEOUT_MS,
              now: sim?.now,
              timerOf: sim?.timerOf,
              onEvent: (e: KioskPassEvent) => {
                if (!process.stderr.isTTY) return;
                if (e.kind === "scanning") say(`Listening for tokens with their sync window open (${e.ms / 1000} s)…`);
                if (e.kind === "progress" && e.progress.kind === "identified")
                  say(`Syncing ${labelOf(e.progress.tokenId) || "token"} (${e.progress.tokenId})…`);
              }
            });
          } finally {
            await transport.close();
            sim?.save();
          }
          if (o.json)
            process.stdout.write(
              JSON.stringify(
                {
                  heard: report.found.length,
                  rounds: report.rounds.map(({ address, result }) => ({ address, label: labelOf(result.tokenId), ...result })),
                  passedOver: report.passedOver
                },
                null,
                2
              ) + "\n"
            );
          else process.stdout.write(passText(report, labelOf));
          return report.rounds.every((r) => r.result.outcome === "ok") ? "ok" : "invalid";
        });
      })
    );

  kiosk
    .command("serve")
    .description(
      "Run the kiosk: radio passes one after another, syncing every enrolled token that opens its sync window, and the published keys read again every --refresh-minutes. " +
        "Runs until stopped (Ctrl-C or SIGTERM; a sync in progress is finished first). One line per event on standard output. " +
        "With --simulate care-home: the kiosk and its dashboard over a live simulated care home, no hardware needed."
    )
    .option("-d, --dir <dir>", "the kiosk's directory (required unless --simulate)")
    .addOption(
      new Option("--simulate <scenario>", "run over a live simulated care home instead of a radio (a staff login is printed)").choices([
        "care-home"
      ])
    )
    .option("--speed <n>", "with --simulate: simulated seconds per real second", wholeSeconds("speed", 1), 600)
    .option("--sim-days <n>", "with --simulate: days to simulate", wholeSeconds("sim-days", 1), 14)
    .option("--seed <n>", "with --simulate: the care home's seed", wholeSeconds("seed", 0), 1)
    .option(
      "--keys <src>",
      "published keys: an export .zip/.bin, a directory of them, or an index.txt (path or URL); without it, no level is written"
    )
    .option("--public-key <pem>", "require every export to verify with the health authority's public key")
    .option("--cache-dir <dir>", "keep exports fetched from URLs here (default: DIR/key-cache)")
    .option("--refresh-minutes <n>", "read the key source again this often", wholeSeconds("refresh-minutes", 1), 60)
    .addOption(new Option("--transport <name>", TRANSPORT_HELP).choices(["sim", "bluez"]).default("bluez"))
    .option("--adapter <name>", "with --transport bluez: the Bluetooth adapter (default: the first one)")
    .option("--seconds <n>", "how long each pass listens for tokens", wholeSeconds("seconds", 1), DEFAULT_SCAN_SECONDS)
    .option("--passes <n>", "stop after this many passes (default: run until stopped)", wholeSeconds("passes", 1))
    .option("--sim-flash <file>", SIM_FLASH_HELP, collect)
    .option("--sim-board <id>", SIM_BOARD_HELP)
    .option("--json", "one JSON object per event instead of text")
    .option("--port <n>", "the staff dashboard's port", portNumber, 8080)
    .option(
      "--listen <address>",
      "serve the dashboard on this address instead of 127.0.0.1 (only behind a TLS proxy on a trusted network: a warning is printed)",
      DASHBOARD_ADDRESS
    )
    .option("--no-dashboard", "run without the staff dashboard")
    .option("--kiosk-key <file>", "this kiosk's secret key (from `report keygen`): lets staff report a diagnosis from the dashboard")
    .option(
      "--upload-to <dir|url>",
      "with --kiosk-key: where diagnosis uploads go (the health authority's uploads directory, or its receiver's https:// URL)"
    )
    .action(
      run(async (o: ServeOpts): Promise<Verdict> => {
        if (o.simulate) return serveSimulated(o);
        const dir = o.dir;
        if (dir === undefined) throw new UserError("give the kiosk's directory with --dir (or try it with --simulate care-home)");
        checkTransportOptions(o);
        const publicKeyPem = o.publicKey ? readPem(o.publicKey, "public key") : undefined;
        if ((o.kioskKey === undefined) !== (o.uploadTo === undefined))
          throw new UserError("diagnoses from the dashboard need both --kiosk-key and --upload-to (or neither)");
        if (o.uploadTo !== undefined) {
          const problem = uploadTargetProblem(parseUploadTarget(o.uploadTo));
          if (problem) throw new UserError(`${problem}; the kiosk was not started`);
        }
        const kioskKey = o.kioskKey === undefined ? undefined : readKioskSecret(o.kioskKey);
        return withKiosk(dir, async (k): Promise<Verdict> => {
          const { sim, transport } = await openRadio(o);
          const hub = new EventHub<KioskEvent>();
          const jobs =
            kioskKey && o.uploadTo
              ? new RadioJobQueue(
                  diagnoseRunner({
                    kiosk: k,
                    transport,
                    kioskKey,
                    uploadTo: o.uploadTo,
                    searchMs: 120_000,
                    consentWaitMs: 60_000,
                    scanMs: DEFAULT_SCAN_SECONDS * 1000,
                    connectTimeoutMs: CONNECT_TIMEOUT_MS,
                    now: sim?.now,
                    timerOf: sim?.timerOf,
                    sleep: sim?.sleep
                  }),
                  (e) => hub.publish(e)
                )
              : undefined;
          let dashboard = o.dashboard
            ? await buildDashboard({ kiosk: k, events: hub, jobs, keysVerified: publicKeyPem !== undefined })
            : undefined;
          if (dashboard) {
            try {
              await dashboard.listen({ port: o.port, host: o.listen });
            } catch (e) {
              // The radio matters more than the screen: residents are still synced and warned without it.
              say(
                `warning: the dashboard cannot listen on ${o.listen}:${o.port} (${(e as Error).message}); the kiosk syncs on without it. ` +
                  "Give another --port to have it."
              );
              await dashboard.close();
              dashboard = undefined;
            }
          }
          if (dashboard) {
            if (o.listen !== DASHBOARD_ADDRESS)
              say(
                `warning: the dashboard listens on ${o.listen}, not only on this machine: anyone who can reach it can try to log in, ` +
                  "and it speaks plain HTTP. Put a TLS proxy in front of it on a network you trust."
              );
            say(`Dashboard: http://${o.listen.includes(":") ? `[${o.listen}]` : o.listen}:${o.port}/`);
          }
          const labelOf = labelsOf(k);
          const stop = new AbortController();
          const onSignal = (): void => stop.abort();
          process.once("SIGINT", onSignal);
          process.once("SIGTERM", onSignal);
          const print = (e: ServiceEvent): void => {
            if (o.json) {
              const j = serviceJson(e, labelOf);
              if (j) process.stdout.write(JSON.stringify({ at: new Date().toISOString(), ...j }) + "\n");
              return;
            }
            const line = serviceLine(e, labelOf);
            if (line) process.stdout.write(line + "\n");
          };
          hub.subscribe((e) => {
            if (e.kind === "radio-job" && e.job.status.state === "done" && !o.json)
              process.stdout.write(`diagnosis from the dashboard: ${e.job.status.result.message}\n`);
          });
          if (!o.keys)
            say("note: no --keys given: logs are archived, but no level is checked or written (nothing checked is not “no risk”)");
          try {
            await runKioskService({
              passSteps: dashboard !== undefined,
              between: jobs?.between,
              kiosk: k,
              transport,
              keys: o.keys ? { spec: o.keys, publicKeyPem, cacheDir: o.cacheDir ?? path.join(k.dir, "key-cache") } : undefined,
              keyRefreshSeconds: o.refreshMinutes * 60,
              scanMs: o.seconds * 1000,
              pauseMs: PAUSE_MS,
              connectTimeoutMs: CONNECT_TIMEOUT_MS,
              passes: o.passes,
              signal: stop.signal,
              now: sim?.now,
              sleep: sim?.sleep,
              timerOf: sim?.timerOf,
              onEvent: (e) => {
                print(e);
                hub.publish(e);
              }
            });
          } finally {
            await dashboard?.close();
            process.off("SIGINT", onSignal);
            process.off("SIGTERM", onSignal);
            await transport.close();
            sim?.save();
          }
          return "ok";
        });
      })
    );

  kiosk
    .command("diagnose")
    .description(
      "A wearer tested positive: with the health authority's code, sync the wearer's token and, if the wearer presses its button during the session, " +
        "sign their past keys with the code and deliver the upload (to the health authority's uploads directory, or by HTTPS POST to its receiver). " +
        "Nothing is released or uploaded without the press. An upload that cannot be delivered is kept in DIR/outbox for `kiosk send-uploads`."
    )
    .requiredOption("-d, --dir <dir>", "the kiosk's directory")
    .requiredOption("-t, --token <id|label>", "the wearer's token: its label (e.g. the room) or token id")
    .requiredOption("--code <code>", "the health authority's authorisation code for this diagnosis")
    .requiredOption("--kiosk-key <file>", "this kiosk's secret key (from `report keygen`)")
    .option(
      "--upload-to <dir|url>",
      "where the signed upload goes: the health authority's uploads directory, or its receiver's https:// URL (…/uploads; plain http only to this machine)"
    )
    .option("--upload-dir <dir|url>", "the same as --upload-to (its older name)")
    .option("--keys <src>", "published keys, to match the token's history in the same session as any sync")
    .option("--public-key <pem>", "require every export to verify with the health authority's public key")
    .option("--consent-seconds <n>", "how long the wearer has to press the button", wholeSeconds("consent-seconds", 5), 60)
    .option("--search-seconds <n>", "how long to look for the token with its sync window open", wholeSeconds("search-seconds", 5), 120)
    .addOption(new Option("--transport <name>", TRANSPORT_HELP).choices(["sim", "bluez"]).default("bluez"))
    .option("--adapter <name>", "with --transport bluez: the Bluetooth adapter (default: the first one)")
    .option("--sim-flash <file>", SIM_FLASH_HELP, collect)
    .option("--sim-board <id>", SIM_BOARD_HELP)
    .addHelpText(
      "after",
      "\nExit status: 0 uploaded; 1 the wearer did not press (nothing uploaded); 2 the token was not synced, the upload was not delivered " +
        "(it is kept in DIR/outbox: send it with `kiosk send-uploads`), or bad input."
    )
    .action(
      run(async (o: DiagnoseOpts): Promise<Verdict> => {
        if ((o.uploadTo === undefined) === (o.uploadDir === undefined))
          throw new UserError("give where the upload goes, once: --upload-to <dir|url> (or its older name --upload-dir)");
        const uploadTo = (o.uploadTo ?? o.uploadDir) as string;
        // Before the kiosk key, the keys or the radio: plain http to another host is refused before anything happens.
        parseUploadTarget(uploadTo);
        checkTransportOptions(o);
        const kioskKey = readKioskSecret(o.kioskKey);
        const keys = await loadKeys(o.keys, o.publicKey);
        return withKiosk(o.dir, async (k): Promise<Verdict> => {
          const token = findEnrolment(k.store.tokens(), o.token, `the kiosk in ${o.dir}`);
          const { sim, transport } = await openRadio(o);
          const who = token.label ? `${token.label} (${token.tokenId})` : token.tokenId;
          let out: DiagnoseOutcome;
          const notDelivered = (e: UploadDeliveryError): UploadDeliveryError =>
            new UploadDeliveryError(
              `${who}: the keys were signed with the code but not delivered: ${e.message}` +
                (e.keptIn
                  ? `. Send it once the target can be reached: privatetracer kiosk send-uploads --dir ${o.dir} --upload-to ${uploadTo}`
                  : ""),
              e.status,
              e.keptIn
            );
          try {
            out = await diagnose({
              kiosk: k,
              transport,
              tokenId: token.tokenId,
              code: o.code,
              kioskKey,
              uploadTo,
              keys,
              searchMs: o.searchSeconds * 1000,
              consentWaitMs: o.consentSeconds * 1000,
              scanMs: DEFAULT_SCAN_SECONDS * 1000,
              connectTimeoutMs: CONNECT_TIMEOUT_MS,
              now: sim?.now,
              timerOf: sim?.timerOf,
              sleep: sim?.sleep,
              onProgress: (e) => {
                if (e.kind === "consent-wait")
                  say(`Ask the wearer to press the token's button once now (${Math.round(e.waitMs / 1000)} s)…`);
              }
            });
          } catch (e) {
            throw e instanceof UploadDeliveryError ? notDelivered(e) : e;
          } finally {
            await transport.close();
            sim?.save();
          }
          if (out.status === "uploaded" || out.status === "posted") {
            const leftOut = out.left ? ` (${out.left} left out: still in use or older than 14 days)` : "";
            const where =
              out.status === "uploaded" ? `into ${out.file}` : `and sent to ${out.url}${out.duplicate ? " (it had them already)" : ""}`;
            process.stdout.write(`${who}: ${out.keys} key(s) signed with the code ${where}${leftOut}.\n`);
            if (out.warning) say(`warning: ${out.warning}`);
            return "ok";
          }
          if (out.status === "no-consent") {
            process.stdout.write(`${who}: the wearer did not press the button during the session; nothing was released or uploaded.\n`);
            return "invalid";
          }
          throw new UserError(`${who}: ${out.detail}; nothing was uploaded`);
        });
      })
    );

  kiosk
    .command("send-uploads")
    .description(
      "Send the signed diagnosis uploads waiting in the kiosk's outbox (DIR/outbox), left there when `kiosk diagnose` could not deliver them. " +
        "Each is removed from the outbox once the target has it; sending one twice is harmless."
    )
    .requiredOption("-d, --dir <dir>", "the kiosk's directory")
    .requiredOption(
      "--upload-to <dir|url>",
      "the health authority's uploads directory, or its receiver's https:// URL (plain http only to this machine)"
    )
    .addHelpText(
      "after",
      "\nExit status: 0 the outbox is empty (all sent, or nothing to send); 2 some uploads are still in it (each line says why)."
    )
    .action(
      run(async (o: { dir: string; uploadTo: string }): Promise<Verdict> => {
        const target = parseUploadTarget(o.uploadTo);
        const problem = uploadTargetProblem(target);
        if (problem) throw new UserError(`${problem}; nothing was sent`);
        // Not opened as a kiosk: opening clears work/, which a running `kiosk serve` may be using.
        if (!fs.existsSync(path.join(o.dir, DB_FILE)))
          throw new UserError(`there is no kiosk in ${o.dir}: give the directory of the kiosk whose outbox to send`);
        const outbox = outboxDirOf(o.dir);
        const r = await sendOutbox(outbox, target);
        for (const s of r.sent) process.stdout.write(`sent ${s.file} to ${s.to}${s.duplicate ? " (it had it already)" : ""}\n`);
        for (const w of r.warnings) say(`warning: ${w}`);
        const left = r.failed.length + r.untried.length;
        if (!left) {
          process.stdout.write(
            r.sent.length ? `${r.sent.length} upload(s) sent; the outbox is empty.\n` : "The outbox is empty: nothing to send.\n"
          );
          return "ok";
        }
        for (const f of r.failed) say(`not sent ${f.file}: ${f.reason}`);
        if (r.untried.length) say(`not tried: ${r.untried.length} more upload(s), since ${targetText(target)} did not answer`);
        throw new UploadDeliveryError(
          `${left} upload(s) are still in ${outbox}${r.sent.length ? ` (${r.sent.length} sent)` : ""}; nothing is lost. Run this again once the target can be reached.`,
          null,
          outbox
        );
      })
    );

  kiosk
    .command("status")
    .description(
      "Every enrolled token: when it last synced, its battery, the level it shows and how many days of its history the kiosk keeps."
    )
    .requiredOption("-d, --dir <dir>", "the kiosk's directory")
    .option("--json", "print JSON")
    .action(
      run((o: { dir: string; json?: boolean }) =>
        withKiosk(o.dir, (k): Verdict => {
          const tokens = k.store.tokens();
          const now = Math.floor(Date.now() / 1000 / DAY);
          const archiveDays = (id: string): number => {
            const days = k.store.archive(id).map((a) => a.day);
            return days.length ? now - Math.min(...days) + 1 : 0;
          };
          if (o.json)
            process.stdout.write(
              JSON.stringify(
                tokens.map((t) => ({
                  ...t,
                  historyDays: archiveDays(t.tokenId),
                  lastOutcome: k.store.history(t.tokenId, 1)[0]?.outcome ?? null
                })),
                null,
                2
              ) + "\n"
            );
          else process.stdout.write(statusText(tokens, archiveDays) + gradingLine(k));
          return "ok";
        })
      )
    );

  const stats = kiosk
    .command("stats")
    .description(
      "Opt-in statistics (docs/statistics.md): a wearer's choice to take part (default: not), and the weekly counts of those who do, with differential-privacy noise."
    );
  const choice = (name: string, what: string, take: boolean): void => {
    stats
      .command(name)
      .description(what)
      .requiredOption("-d, --dir <dir>", "the kiosk's directory")
      .requiredOption("-t, --token <id|label>", "the wearer's token: its label or token id")
      .action(
        run((o: { dir: string; token: string }): Verdict => {
          withStore(o.dir, (s) => {
            const t = findEnrolment(s.tokens(), o.token, `the kiosk in ${o.dir}`);
            const who = t.label ? `${t.label} (${t.tokenId})` : t.tokenId;
            if (take) {
              s.setStatsOptIn(t.tokenId);
              process.stdout.write(`${who} takes part in the weekly statistics from now on.\n`);
            } else {
              const was = s.clearStatsOptIn(t.tokenId);
              process.stdout.write(
                was ? `${who} no longer takes part in the weekly statistics.\n` : `${who} was not taking part; nothing was changed.\n`
              );
            }
          });
          return "ok";
        })
      );
  };
  choice("opt-in", "The wearer (or their proxy) agrees to be counted in the weekly statistics, from now on.", true);
  choice(
    "opt-out",
    "The wearer (or their proxy) no longer wants to be counted (the default); weeks not released yet no longer count them.",
    false
  );
  stats
    .command("export")
    .description(
      "Print the last whole weeks' counts (CSV, or JSON with --json), with Laplace noise. A week is released once: asked again, it gives the same numbers and its own ε."
    )
    .requiredOption("-d, --dir <dir>", "the kiosk's directory")
    .option("--weeks <n>", "how many whole weeks before this one", weeksValue, DEFAULT_WEEKS)
    .option("--epsilon <e>", "the privacy budget of each week not released yet (smaller: more noise)", epsilonValue, DEFAULT_EPSILON)
    .option("--json", "print JSON instead of CSV")
    .action(
      run((o: { dir: string; weeks: number; epsilon: number; json?: boolean }): Verdict => {
        const rows = withStore(o.dir, (s) => releaseWeeks(s, { weeks: o.weeks, epsilon: o.epsilon }));
        if (rows.some((r) => r.epsilon !== o.epsilon))
          say("note: weeks released before are given as they were released, with their own ε (never with fresh noise)");
        process.stdout.write(o.json ? toJson(rows) : toCsv(rows));
        return "ok";
      })
    );
}

function weeksValue(v: string): number {
  if (!/^\d+$/.test(v.trim())) throw new InvalidArgumentError(`--weeks must be a whole number of weeks, got "${v}"`);
  return Number(v);
}

function epsilonValue(v: string): number {
  const n = Number(v);
  if (!/^\d*\.?\d+$/.test(v.trim()) || !Number.isFinite(n))
    throw new InvalidArgumentError(`--epsilon must be a number such as 1 or 0.5, got "${v}"`);
  return n;
}
