import * as fs from "node:fs";
import * as path from "node:path";
import type { SyncLink } from "../ble/transport";
import { PrivateTracerError } from "../errors";
import type { ExposureKey } from "../keys/types";
import { DEFAULT_RISK_CONFIG, LEVELS, Level, RiskConfig } from "../match/risk-config";
import type { DayScore } from "../match/risk-score";
import { matchExposures } from "../match/run-match";
import { matchWithIndex } from "../match/run-match-indexed";
import type { RpiIndex } from "../match/rpi-index";
import { AuthFailedError } from "../sync/errors";
import { RiskContext, SyncProgress, SyncResult, TekOutcome, syncToken } from "../sync/client";
import { BOARD_CODES, TokenInfo } from "../../../firmware/src/wire/sync-messages";
import { loadBoard } from "../build/boards";
import { riskConfigFor, scheduleFigures } from "../match/token-crediting";
import { SyncTimer } from "../sync/wire";
import { logSegmentSeq, readTokenLog, recentLosses } from "../tokenlog/read-log";
import { tokenFilesFromStorage } from "../tokenlog/token-files";
import { recordToSighting } from "../tokenlog/to-sightings";
import { LOG_PREFIX, decodeHeader, utcBase } from "../../../firmware/src/wire/log-record";
import { ArchiveOpenError, archiveKey, openSegment, sealSegment } from "./archive";
import { TimelineDay, exposureTimeline } from "./exposure-timeline";
import type { ArchiveSegment, KioskStore, SyncOutcome } from "./store";

/**
 * One kiosk sync of one token (docs/kiosk.md): the session over `link`
 * (sync/client.ts) with the clock set and the archive secret asked for; the
 * token's archive opened in memory, the new log added, all of it matched
 * against the published keys while the token waits, the level written back,
 * the new segments sealed into the archive and the session recorded. Nothing
 * the token sent stays readable on disk: the session's plain copy lives in a
 * private directory removed when the session ends, and the archive secret
 * and key are wiped.
 */

/** What the round needs of the kiosk's store. */
export type SyncRoundStore = Pick<KioskStore, "syncTargets" | "archive" | "storeArchive" | "recordSync">;

/**
 * The reason byte written with the level (the token keeps it; the kiosk's
 * records show it): bits 0-1 the matcher's level (none, low, medium, high),
 * then flags for a level that is a lower bound.
 */
export const REASON_LOG_INCOMPLETE = 0x10;
export const REASON_ARCHIVE_LOST = 0x20;

/** The three levels a token shows (wire/settings.ts): 0 nothing found, 1 low, 2 high (ask staff). */
export function tokenLevel(level: Level, lowerBound: boolean): number {
  if (level === "none") return lowerBound ? 1 : 0;
  // Medium goes to "ask staff": a care home would rather talk to a resident too many than miss one.
  return level === "low" ? 1 : 2;
}

export interface SyncRoundOptions {
  store: SyncRoundStore;
  /** Published keys, already verified; none at all and the level is left as the token shows it (nothing checked is not "no risk"). */
  keys: readonly ExposureKey[];
  /** The same keys' published-RPI index (match/rpi-index.ts): a sync is then lookups, not derivations. */
  index?: RpiIndex;
  /** Where the session's private working directory is made (and removed). */
  workDir: string;
  /** Days of history the archive keeps (default 14). */
  keepDays?: number;
  now?: () => number;
  timer?: SyncTimer;
  responseTimeoutMs?: number;
  onProgress?: (e: SyncProgress) => void;
  /** Ask this token (its id) for the wearer's keys: released only if the wearer presses during the session (a diagnosis, diagnose.ts). */
  releaseTeksOf?: string;
  /** With releaseTeksOf: how long to wait for the press. */
  consentWaitMs?: number;
  /** How matches are graded (docs/risk.md; default DEFAULT_RISK_CONFIG); scans are credited with the token's own schedule (riskConfigForToken). */
  riskConfig?: RiskConfig;
  /** The kiosk's own board configs, looked in before the shipped ones (KioskDir.boardDir). */
  boardDir?: string;
}

/** How a token's scans are credited, and why not with its own schedule when they are not. */
export interface TokenCrediting {
  config: RiskConfig;
  /** Null when the board's schedule is used; otherwise a sentence for the sync's record. */
  fallback: string | null;
}

/**
 * The token's board, which INFO names, says how often it scans: its scans are
 * credited with that schedule (match/token-crediting.ts), from the kiosk's
 * own config for the board in `boardDir` if it has one, else the shipped one.
 * A board this kiosk does not know, or whose config it cannot read, keeps the
 * config's own crediting, and the sync's record says so.
 */
export function riskConfigForToken(
  info: Pick<TokenInfo, "board">,
  base: RiskConfig = DEFAULT_RISK_CONFIG,
  boardDir?: string
): TokenCrediting {
  const id = BOARD_CODES[info.board];
  const keptBecause = (why: string): TokenCrediting => ({
    config: base,
    fallback: `scans credited as a phone's (minutes may be under-counted): ${why}`
  });
  if (!id) return keptBecause(`the token names board code ${info.board}, which this kiosk does not know`);
  try {
    const own = boardDir !== undefined && fs.existsSync(path.join(boardDir, `${id}.json`));
    return { config: riskConfigFor(scheduleFigures(loadBoard(id, own ? boardDir : undefined).schedule), base), fallback: null };
  } catch (e) {
    // Damaged board configs: the kiosk still grades and writes a level, better than a sync that ends
    // with no warning at all; the record tells whoever looks after the kiosk what to mend.
    return keptBecause(`the kiosk could not read its ${id} board config (${e instanceof Error ? e.message : String(e)})`);
  }
}

export interface SyncRoundResult {
  outcome: SyncOutcome;
  /** The token, once it proved who it is (null before). */
  tokenId: string | null;
  /** A sentence for the staff's screen. */
  detail: string;
  /** The matcher's level and whether it is a lower bound; null when no level was decided (no keys, or the session ended first). */
  level: Level | null;
  lowerBound: boolean;
  /** Written to the token: level 0..2 and reason byte. */
  written: { level: number; reason: number } | null;
  /** Days from the oldest record matched to now. */
  historyDays: number;
  sightings: number;
  matched: number;
  segmentsRead: number;
  bytesRead: number;
  /** With releaseTeksOf, for that token: the keys released, or the wearer's refusal; null otherwise. The caller wipes them. */
  teks: TekOutcome | null;
  /** Minutes per day near people who tested positive, by band, from the opened history: held in memory only (exposure-timeline.ts); null when nothing was matched against. */
  timeline: TimelineDay[] | null;
}

const DAY = 86400;

/** The exposure behind a level, as staff are told it: the worst day and about how long. */
export interface Exposure {
  /** UTC day, YYYY-MM-DD. */
  day: string;
  /** Rounded to 5 (at least 5): "about 40 minutes" is what staff need, and no finer trace is kept. */
  minutes: number;
}

/** The exposure of the day that decided the level (the matcher's worst day), rounded. */
export function roundedExposure(worst: DayScore | null): Exposure | null {
  if (!worst) return null;
  return { day: worst.day, minutes: Math.min(1440, Math.max(5, Math.round(worst.exposureMinutes / 5) * 5)) };
}

/** A round that ended before anything was decided or written: what it says of itself. */
export function unfinishedRound(outcome: Exclude<SyncOutcome, "ok">, tokenId: string | null, detail: string): SyncRoundResult {
  return {
    outcome,
    tokenId,
    detail,
    level: null,
    lowerBound: false,
    written: null,
    historyDays: 0,
    sightings: 0,
    matched: 0,
    segmentsRead: 0,
    bytesRead: 0,
    teks: null,
    timeline: null
  };
}

function wipe(b: Uint8Array | null): void {
  if (b) b.fill(0);
}

/** Every segment file of the session's copy (name → bytes). */
function copiedSegments(dir: string): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  if (!fs.existsSync(dir)) return out;
  for (const n of fs.readdirSync(dir)) {
    const seg = logSegmentSeq(n);
    if (seg !== null) out.set(seg, new Uint8Array(fs.readFileSync(path.join(dir, n))));
  }
  return out;
}

/** The day a segment counts for when ageing out: its first record's, or today for one not yet placed in time. */
function segmentDay(bytes: Uint8Array, now: number): number {
  const h = decodeHeader(bytes);
  const base = h ? utcBase(h) : null;
  return Math.floor((base ?? now) / DAY);
}

export async function syncRound(link: SyncLink, o: SyncRoundOptions): Promise<SyncRoundResult> {
  const now = o.now ?? (() => Math.floor(Date.now() / 1000));
  const keepDays = o.keepDays ?? 14;
  const targets = o.store.syncTargets();
  const ackedTo = new Map(targets.map((t) => [t.tokenId, t.ackedTo]));
  fs.mkdirSync(o.workDir, { recursive: true, mode: 0o700 });
  const session = fs.mkdtempSync(path.join(o.workDir, "session-"));
  fs.chmodSync(session, 0o700);
  const startedAt = now();
  let tokenId: string | null = null;
  let key: Buffer | null = null;
  // INFO's board code: how the token's scans are credited.
  let board = 0;
  const decided = {
    level: null as Level | null,
    lowerBound: false,
    historyDays: 0,
    sightings: 0,
    matched: 0,
    archiveLost: false,
    write: null as { level: number; reason: number } | null,
    exposure: null as Exposure | null,
    timeline: null as TimelineDay[] | null,
    creditingFallback: null as string | null
  };

  // The token's archive, opened in memory once the token handed over its secret (name → segment bytes).
  const files = new Map<string, Uint8Array>();
  const dropSegments: number[] = [];

  // Before the read: open the archive. Segments that no longer open are
  // read again from the token if it still holds them; those it freed are
  // lost (the token was provisioned again, or the archive is damaged).
  const start = (c: { tokenId: string; info: TokenInfo; archiveSecret: Uint8Array | null }): { seg: number; off: number } => {
    tokenId = c.tokenId;
    board = c.info.board;
    key = archiveKey(c.archiveSecret!, c.tokenId);
    wipe(c.archiveSecret);
    let seg = ackedTo.get(c.tokenId) ?? 1;
    for (const a of o.store.archive(c.tokenId)) {
      try {
        files.set(LOG_PREFIX + a.seg, openSegment(key, c.tokenId, a.seg, a.sealed));
      } catch (e) {
        if (!(e instanceof ArchiveOpenError)) throw e;
        dropSegments.push(a.seg);
        if (c.info.logFirst > 0 && a.seg >= c.info.logFirst) seg = Math.min(seg, a.seg);
        else decided.archiveLost = true;
      }
    }
    // The archive holds what was acknowledged; the segment the last sync ended in is read again whole.
    return { seg, off: 0 };
  };

  // Runs while the token waits (it drops a session quiet for 20 s), before
  // the log is acknowledged: seal and store what was read, then match the
  // whole history and keep the level for RISK_SET.
  const store = async (c: RiskContext): Promise<void> => {
    const sealed: ArchiveSegment[] = [];
    // What came over the link replaces what was archived of the same segment (the newest grows between syncs).
    const fresh = copiedSegments(c.dir);
    const t = now();
    for (const [seg, bytes] of fresh) {
      files.set(LOG_PREFIX + seg, bytes);
      sealed.push({ seg, day: segmentDay(bytes, t), sealed: sealSegment(key!, c.tokenId, seg, bytes) });
    }
    o.store.storeArchive({
      tokenId: c.tokenId,
      segments: sealed,
      dropSegments,
      beforeDay: Math.floor(t / DAY) - keepDays,
      ackedTo: c.log.next.seg
    });
    const log = readTokenLog(tokenFilesFromStorage({ list: () => [...files.keys()], read: (n) => files.get(n) }, `token ${c.tokenId}`), {
      partial: true
    });
    const recent = log.records.filter((r) => r.time !== null && r.time >= t - keepDays * DAY);
    const sightings = recent.map((r, i) => ({ ...recordToSighting(r), line: i + 1 }));
    decided.sightings = sightings.length;
    const oldest = recent.reduce((m, r) => Math.min(m, r.time!), t);
    decided.historyDays = Math.round(((t - oldest) / DAY) * 10) / 10;
    if (!o.keys.length) return;
    const losses = recentLosses(log, keepDays);
    const crediting = riskConfigForToken({ board }, o.riskConfig, o.boardDir);
    const config = crediting.config;
    decided.creditingFallback = crediting.fallback;
    const report = o.index
      ? await matchWithIndex(o.index, sightings, { losses, config })
      : await matchExposures(o.keys, sightings, { losses, config });
    decided.level = report.level;
    decided.matched = report.matches.length;
    decided.lowerBound = report.incomplete !== null || decided.archiveLost;
    const reason =
      LEVELS.indexOf(report.level) | (report.incomplete ? REASON_LOG_INCOMPLETE : 0) | (decided.archiveLost ? REASON_ARCHIVE_LOST : 0);
    decided.write = { level: tokenLevel(report.level, decided.lowerBound), reason };
    decided.exposure = report.level === "none" ? null : roundedExposure(report.worstDay);
    decided.timeline = exposureTimeline(report.windows);
  };

  try {
    const r: SyncResult = await syncToken(link, {
      secrets: targets.map((t) => ({ tokenId: t.tokenId, syncSecret: t.syncSecret })),
      outDir: (id) => path.join(session, id),
      from: start,
      setTime: true,
      archive: true,
      beforeAck: store,
      risk: () => decided.write,
      releaseTeks: (id) => id === o.releaseTeksOf,
      consentWaitMs: o.consentWaitMs,
      now,
      timer: o.timer,
      responseTimeoutMs: o.responseTimeoutMs,
      onProgress: (e) => {
        // Known from the handshake on: a session that ends later is recorded against the token.
        if (e.kind === "identified") tokenId = e.tokenId;
        o.onProgress?.(e);
      }
    });
    const endedAt = now();
    const said = decided.level
      ? `synced: level ${decided.level}${decided.lowerBound ? " (a lower bound: part of the log was lost)" : ""}, ${decided.matched} of ${decided.sightings} sighting(s) matched over ${decided.historyDays} day(s)`
      : "synced; no published keys to match against yet, so the level was left as it was";
    // The history line is read by care staff: a plain sentence; `kiosk status` names the damaged file.
    const detail = decided.creditingFallback
      ? `${said}; its minutes near others may be counted short: tell whoever looks after the kiosk (kiosk status says why)`
      : said;
    o.store.recordSync({
      tokenId: r.tokenId,
      startedAt,
      endedAt,
      outcome: "ok",
      detail,
      segmentsRead: r.log.segments.length,
      bytesRead: r.log.bytesRead,
      status: {
        lastSyncAt: endedAt,
        battery: r.info.battery,
        clockDriftS: r.clock.set ? r.clock.set.before - r.clock.set.to : null,
        faults: r.info.faults,
        boots: r.info.resets,
        riskLevel: r.risk ? r.risk.level : null,
        riskReason: r.risk ? r.risk.reason : null,
        riskAt: r.risk ? endedAt : null,
        exposureDay: r.risk && decided.exposure ? decided.exposure.day : null,
        exposureMinutes: r.risk && decided.exposure ? decided.exposure.minutes : null
      }
    });
    return {
      outcome: "ok",
      tokenId: r.tokenId,
      detail,
      level: decided.level,
      lowerBound: decided.lowerBound,
      written: r.risk ? { level: r.risk.level, reason: r.risk.reason } : null,
      historyDays: decided.historyDays,
      sightings: decided.sightings,
      matched: decided.matched,
      segmentsRead: r.log.segments.length,
      bytesRead: r.log.bytesRead,
      teks: r.teks,
      timeline: decided.timeline
    };
  } catch (e) {
    if (!(e instanceof PrivateTracerError)) throw e;
    const outcome: SyncOutcome = e instanceof AuthFailedError ? "auth-failed" : e.code === "LINK_LOST" ? "link-lost" : "error";
    // What was acknowledged is in the archive already (stored before LOG_ACK); the rest the token keeps for the next sync.
    if (tokenId) o.store.recordSync({ tokenId, startedAt, endedAt: now(), outcome, detail: e.message, segmentsRead: 0, bytesRead: 0 });
    return unfinishedRound(outcome, tokenId, e.message);
  } finally {
    if (key) (key as Buffer).fill(0);
    fs.rmSync(session, { recursive: true, force: true });
  }
}
