import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { SyncProgress, SyncResult, syncToken } from "../sync/client";
import { useHostCrypto } from "../sync/host-crypto";
import { FrameWire, realTimer } from "../sync/wire";
import { tokenFilesFromImage } from "../tokenlog/token-files";
import { LOG_PREFIX, SEGMENT_RECORDS } from "../../../firmware/src/wire/log-record";
import { TABLE_SLOTS, hourBudget } from "../../../firmware/src/wire/scan-limits";
import { loadBoard } from "../build/boards";
import { SECRETS_FILE, encodeSecrets } from "../../../firmware/src/wire/secrets";
import { centralAuth, centralHello, readProve } from "../../../firmware/src/wire/sync-handshake";
import { installFiles } from "./interpreter";
import { RealSyncLink } from "./sync-link";
import { Burst, RealToken, TokenEvent } from "./token-session";
import { BOOT_LEAD, SCENARIO_START, scanDone } from "./token-scenario";

/**
 * A kiosk syncing a token on its board's real interpreter, over RealSyncLink
 * (sync-link.ts), with the host's own sync client (sync/client.ts):
 *
 *  1. provisioning: `pt.sec` written into the token's Storage before its
 *     first boot, as `privatetracer provision` puts it there;
 *  2. logging, fast (LOG_TIME_SCALE): a crowd in every scan window until
 *     the log has LOG_SEGMENTS segments;
 *  3. a reset, then real time (a central's link runs on the host's clock):
 *     the wearer's long press opens the sync window;
 *  4. two centrals with a wrong secret: the sync client, which finds no
 *     enrolled secret in the token's PROVE and leaves, and a raw central that
 *     sends AUTH under its wrong secret and must get FAIL and lose the link;
 *  5. the enrolled kiosk's full session: handshake, INFO, TIME_SET, the log
 *     dump to LOG_END, LOG_ACK, RISK_SET. The stand-ins sample memory inside
 *     the firmware's calls under phase "sync" (the session) and "dump" (from
 *     the first LOG_READ to the last LOG_CHUNK); under WRONG_PHASE for step 4.
 */

/** Token clock seconds per real second while logging: a 10-minute scan period passes in 0.6 s. */
export const LOG_TIME_SCALE = 1000;
/** Segments the dump crosses (two segment ends and the log's end). */
export const LOG_SEGMENTS = 3;

/** Devices of a stand-in crowd heard above the −70 dBm logging floor: all but every tenth (stand-ins.js h.rssi). */
function aboveFloor(devices: number): number {
  return devices - Math.floor(devices / 10);
}

/**
 * The crowd of every logging window, from the board's schedule: as many new
 * table rows a window as keep any clock hour within the flood budget
 * (BOARD.schedule.floodHourBudget, wire/scan-limits.ts hourBudget), wherever
 * the windows fall in it. Windows start at least scanPeriodSec −
 * scanJitterSec apart, so at most 3600 / that + 1 fall in one hour: at the
 * shipped schedule 9 windows of 14 rows (15 devices), 126 of 128. Where the
 * windows fall depends on the host's speed (the clock runs LOG_TIME_SCALE
 * times fast from boot), so a crowd that could cross the budget made the
 * log's size depend on the host: a flood keeps FLOOD_KEEP records a window
 * while it lasts, and the log could end with two segments (the sync spec
 * failed so on some hosts). `windows` make LOG_SEGMENTS segments; a window
 * the firmware cut short logs less, so up to `maxWindows` are queued one at a
 * time until the log has them. Not timed, not sampled: this is only the log
 * to dump.
 */
export function logCrowd(s: { scanPeriodSec: number; scanJitterSec: number }): { devices: number; windows: number; maxWindows: number } {
  const perHour = Math.floor(3600 / (s.scanPeriodSec - s.scanJitterSec)) + 1;
  const rows = Math.min(TABLE_SLOTS, Math.floor(hourBudget(s.scanPeriodSec, s.scanJitterSec) / perHour));
  let devices = rows;
  while (aboveFloor(devices + 1) <= rows) devices++;
  const windows = Math.ceil(((LOG_SEGMENTS - 1) * SEGMENT_RECORDS + 1) / rows);
  return { devices, windows, maxWindows: windows + 9 };
}
/** The kiosk's clock runs this far ahead of the token's: TIME_SET moves the token's clock by it. */
export const KIOSK_AHEAD_S = 42;
/** What the kiosk writes with RISK_SET: high, and a reason code of its choosing. */
export const SYNC_RISK = { level: 2, reason: 7 };

export const SYNC_SECRETS = {
  tokenId: Buffer.from("5a17ce0000000000000000000000c0de", "hex"),
  syncSecret: new Uint8Array(32).map((_, i) => 0x5c ^ (i * 7)),
  archiveSecret: new Uint8Array(32).fill(0x22),
  homeKey: new Uint8Array(32).fill(0x33)
};
/** A central enrolled elsewhere: one bit off the token's secret. */
export const WRONG_SECRET = SYNC_SECRETS.syncSecret.map((b, i) => (i === 31 ? b ^ 1 : b));
export const TOKEN_ID_HEX = Buffer.from(SYNC_SECRETS.tokenId).toString("hex");
/** Memory is sampled under this phase while a wrong central is connected, apart from the enrolled kiosk's "sync" and "dump". */
export const WRONG_PHASE = "refused";

export interface WrongCentralResult {
  /** The sync client with the wrong secret: what it threw. */
  clientError: unknown;
  /** The raw central: the token's answer to AUTH under the wrong secret (hex), and how the link ended. */
  failFrame: string;
  ended: { reason: number; by: string } | null;
  /** The token's pt.* files before and after both centrals (name → hex). */
  filesBefore: Record<string, string>;
  filesAfter: Record<string, string>;
  /** The token's clock just after both, and the host's estimate of it (no change expected). */
  clockAfter: number;
  clockExpected: number;
}

export interface SyncScenarioResult {
  board: string;
  dir: string;
  /** The kiosk's copy of the token's log. */
  copyDir: string;
  /** Errors the interpreter printed while logging / while syncing. */
  errors: { logging: string[]; sync: string[] };
  wrong: WrongCentralResult;
  result: SyncResult;
  progress: SyncProgress[];
  /** The session's link: notifications and bytes each way, and how it ended. */
  link: { notifications: number; bytesWritten: number; bytesRead: number; ended: { reason: number; by: string } | null };
  /** JsVars: the stand-ins' own before the firmware ran, the board's total, the peaks per "phase:call" during the sync boot. */
  base: number;
  total: number;
  peaks: Record<string, number>;
  /** The token's clock after the session, and the kiosk's clock at the same moment. */
  clockAfter: number;
  kioskAfter: number;
  /** Real milliseconds: logging, reboot, the full session, the dump alone. */
  ms: { logging: number; reboot: number; session: number; dump: number };
  /** The token's Storage after the session (the interpreter quit). */
  flash: Uint8Array;
  events: TokenEvent[];
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** The token's pt.* files now (its Storage file is written through as the interpreter writes). */
function ptFiles(t: RealToken): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [n, b] of tokenFilesFromImage(t.flash(), "flash").files) if (n.startsWith("pt.")) out[n] = hex(b);
  return out;
}

/** The raw central: HELLO, then AUTH made with `secret`, and whatever the token answers. */
async function rawCentral(t: RealToken, secret: Uint8Array): Promise<{ answer: Uint8Array; link: RealSyncLink }> {
  const p = useHostCrypto();
  const link = await RealSyncLink.connect(t, { phase: WRONG_PHASE });
  const wire = new FrameWire(link, realTimer);
  const timeout = (what: string) => () => new Error(`no ${what} from the token within 15 s`);
  const nc = new Uint8Array(crypto.randomBytes(16));
  await wire.send(centralHello(nc));
  const prove = await wire.next(15000, timeout("PROVE"));
  const nt = readProve(prove);
  if (!nt) throw new Error(`the token answered HELLO with ${hex(prove)}, not a PROVE`);
  await wire.send(centralAuth(p, secret, nc, nt).frame);
  const answer = await wire.next(15000, timeout("answer to AUTH"));
  wire.close();
  return { answer, link };
}

async function wrongCentrals(t: RealToken, kioskNow: () => number): Promise<WrongCentralResult> {
  const filesBefore = ptFiles(t);
  let clientError: unknown = null;
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), "pt-wrong-copy-"));
  try {
    const link = await RealSyncLink.connect(t, { phase: WRONG_PHASE });
    await syncToken(link, {
      secrets: [{ tokenId: "ffffffffffffffffffffffffffffffff", syncSecret: WRONG_SECRET }],
      outDir: copy,
      setTime: true,
      risk: { level: 0, reason: 99 },
      now: kioskNow
    });
  } catch (e) {
    clientError = e;
  } finally {
    fs.rmSync(copy, { recursive: true, force: true });
  }
  const { answer, link } = await rawCentral(t, WRONG_SECRET);
  // The token closes the link after FAIL; the central does not.
  await Promise.race([
    new Promise<void>((resolve) => link.onClose(() => resolve())),
    new Promise<void>((resolve) => setTimeout(resolve, 10000))
  ]);
  const ended = link.ended;
  await link.disconnect();
  const clockAfter = await t.eval<number>("getTime()");
  return {
    clientError,
    failFrame: hex(answer),
    ended,
    filesBefore,
    filesAfter: ptFiles(t),
    clockAfter,
    clockExpected: kioskNow() - KIOSK_AHEAD_S
  };
}

export async function runSyncScenario(board: string, interpreter: string, bundle: string): Promise<SyncScenarioResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pt-sync-${board}-`));
  const copyDir = path.join(dir, "kiosk-copy");
  const secFile = path.join(dir, "pt.sec.bin");
  fs.writeFileSync(secFile, encodeSecrets(SYNC_SECRETS));
  await installFiles(interpreter, dir, { [SECRETS_FILE]: secFile });

  // ---- logging, fast
  const crowd = logCrowd(loadBoard(board).schedule);
  const bursts: Burst[] = Array.from({ length: crowd.windows }, (_, i) => [100 + i, crowd.devices, 2, 0]);
  const t0 = Date.now();
  const log = await RealToken.boot({
    interpreter,
    dir,
    bundle,
    time: SCENARIO_START - BOOT_LEAD,
    timeScale: LOG_TIME_SCALE,
    bursts
  });
  let end: number;
  const loggingErrors: string[] = [];
  try {
    for (const b of bursts) await scanDone(log, b[0]);
    // Asked of the token: its Storage file may be in the middle of a window's writes.
    const segments = (): Promise<number> => log.eval<number>(`require("Storage").list(/^pt\\.log/).length`);
    for (let seed = 100 + bursts.length; (await segments()) < LOG_SEGMENTS && seed < 100 + crowd.maxWindows; seed++) {
      // A window that opens before this arrives hears nothing; the next one hears it.
      log.send(`__h.q.push([${seed}, ${crowd.devices}, 2, 0])`);
      await scanDone(log, seed);
    }
    end = await log.eval<number>("getTime()");
    loggingErrors.push(...log.errors());
    await log.quit();
  } catch (e) {
    await log.kill();
    throw e;
  }
  const loggingMs = Date.now() - t0;

  // ---- reset; real time from here on. The kiosk's clock: the token's plus KIOSK_AHEAD_S.
  const bootAt = Math.ceil(end) + 60;
  const t1 = Date.now();
  const t = await RealToken.boot({ interpreter, dir, time: bootAt, bursts: [] });
  const rebootMs = Date.now() - t1;
  const kioskNow = (): number => Math.floor(bootAt + KIOSK_AHEAD_S + (Date.now() - t1) / 1000);
  try {
    // The boot's scan window (empty: no crowd) ends first, so the session's figures are its own.
    await t.waitFor((e) => e.type === "scanEnd", 15000);
    let mark = t.events.length;
    t.send("__h.press(2500)");
    await t.waitFor((e) => e.type === "adv" && (e.value as { o: { connectable: boolean } }).o.connectable === true, 15000, mark);

    const wrong = await wrongCentrals(t, kioskNow);

    // ---- the enrolled kiosk
    mark = t.events.length;
    const progress: SyncProgress[] = [];
    let dumpFrom = 0;
    let dumpMs = 0;
    const s0 = Date.now();
    const link = await RealSyncLink.connect(t);
    const result = await syncToken(link, {
      secrets: [{ tokenId: TOKEN_ID_HEX, syncSecret: SYNC_SECRETS.syncSecret }],
      outDir: copyDir,
      setTime: true,
      risk: SYNC_RISK,
      // As a kiosk does: the archive secret, which the token alone keeps.
      archive: true,
      now: kioskNow,
      onProgress: (e) => {
        progress.push(e);
        // Typed before the next request goes out, so the token changes phase
        // between two frames: "dump" covers every LOG_READ and LOG_CHUNK.
        if (e.kind === "time-set") {
          t.send('__h.phase="dump"');
          dumpFrom = Date.now();
        } else if (e.kind === "acking") {
          t.send('__h.phase="sync"');
          dumpMs = Date.now() - dumpFrom;
        }
      }
    });
    const sessionMs = Date.now() - s0;
    // syncToken disconnected: the token's disconnect event has run.
    const m = await t.eval<{ base: number; peaks: Record<string, number>; total: number; now: number }>(
      "{base: __h.base, peaks: __h.peak, total: process.memory().total, now: getTime()}"
    );
    const kioskAfter = kioskNow();
    const syncErrors = t.errors();
    await t.quit();
    return {
      board,
      dir,
      copyDir,
      errors: { logging: loggingErrors, sync: syncErrors },
      wrong,
      result,
      progress,
      link: { notifications: link.notifications, bytesWritten: link.bytesWritten, bytesRead: link.bytesRead, ended: link.ended },
      base: m.base,
      total: m.total,
      peaks: m.peaks,
      clockAfter: m.now,
      kioskAfter,
      ms: { logging: loggingMs, reboot: rebootMs, session: sessionMs, dump: dumpMs },
      flash: t.flash(),
      events: t.events.slice(mark)
    };
  } catch (e) {
    await t.kill();
    // What the interpreter printed is the only account of what the firmware did.
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n--- the token's interpreter printed last:\n${t.output.slice(-6000)}`, {
      cause: e
    });
  }
}

/** Peak JsVars of the firmware (the stand-ins' own subtracted) in calls sampled under `phase`. */
export function phasePeak(r: SyncScenarioResult, phase: string): number {
  let m = 0;
  for (const [k, v] of Object.entries(r.peaks)) if (k.startsWith(`${phase}:`) && v > m) m = v;
  return m ? m - r.base : 0;
}

/** The token's log segment files (name → bytes) in its Storage after the session. */
export function tokenSegments(r: SyncScenarioResult): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const [n, b] of tokenFilesFromImage(r.flash, "flash").files) if (n.startsWith(LOG_PREFIX)) out.set(n, b);
  return out;
}
