/**
 * What `privatetracer sync` prints when a round ends: per token, in words a
 * care worker can act on (text), or one object a program reads (--json).
 */
import { BOARD_CODES } from "../../../firmware/src/wire/sync-messages";
import { FailedToken, NearbyReport, SkippedDevice, SyncedToken } from "./sync-nearby";
import type { LogGap, LogPosition } from "./log-copy";

/** Under this the token itself shows "battery low" (firmware/src/token.ts BATTERY_LOW). */
const BATTERY_LOW = 15;
/** The clock has one-second resolution and a sync takes a moment: this close is right. */
const CLOCK_RIGHT_S = 2;

export interface SyncedJson {
  tokenId: string;
  label: string;
  address: string;
  /** The copy directory (`log show` and `log to-sightings` read it). */
  dir: string;
  log: {
    /** Bytes new to the copy in this sync. */
    bytesReceived: number;
    /** Bytes that came over the link (headers read again included). */
    bytesRead: number;
    /** Segments that got new bytes. */
    segments: number[];
    /** Oldest and newest segment the token keeps (0, 0: none). */
    tokenSegments: { first: number; last: number };
    /** The copy reaches the token's end of log. */
    complete: boolean;
    /** Where the next sync resumes. */
    next: LogPosition;
    /** Log the token no longer held when asked for, found in this sync. */
    gaps: LogGap[];
    /** Sightings the token could not keep (its cumulative count). */
    droppedRecords: number;
  };
  clock: {
    hostTime: number;
    tokenTime: number | null;
    /** Token minus host, seconds; null when the token's clock is not set. */
    offsetSeconds: number | null;
    driftPpm: number | null;
    /** How far off the clock was when it was last set (seconds, as the token recorded it). */
    offAtLastSet: number;
    /** This sync's TIME_SET: the value sent, the token's clock before and after. */
    set: { to: number; before: number; after: number } | null;
  };
  batteryPercent: number;
  faults: number;
  boots: number;
  firmwareBuildTime: number;
  board: string;
}

export interface FailedJson {
  address: string;
  tokenId: string | null;
  label: string | null;
  /** The error's code (host-tools/src/errors.ts ErrorCode). */
  code: string;
  message: string;
}

export interface SyncJson {
  outDir: string;
  synced: SyncedJson[];
  failed: FailedJson[];
  skipped: SkippedDevice[];
}

export function syncedJson(t: SyncedToken): SyncedJson {
  const r = t.result;
  return {
    tokenId: r.tokenId,
    label: t.label,
    address: t.address,
    dir: r.dir,
    log: {
      bytesReceived: r.log.bytesReceived,
      bytesRead: r.log.bytesRead,
      segments: r.log.segments,
      tokenSegments: { first: r.info.logFirst, last: r.info.logLast },
      complete: r.log.complete,
      next: r.log.next,
      gaps: r.log.gaps,
      droppedRecords: r.info.dropped
    },
    clock: {
      hostTime: r.clock.hostTime,
      tokenTime: r.clock.tokenTime,
      offsetSeconds: r.clock.offset,
      driftPpm: r.clock.driftPpm,
      offAtLastSet: r.info.drift,
      set: r.clock.set
    },
    batteryPercent: r.info.battery,
    faults: r.info.faults,
    boots: r.info.resets,
    firmwareBuildTime: r.info.firmware,
    board: BOARD_CODES[r.info.board] || `unknown (${r.info.board})`
  };
}

export function failedJson(f: FailedToken): FailedJson {
  return { address: f.address, tokenId: f.tokenId, label: f.label, code: f.error.code, message: f.error.message };
}

export function reportJson(r: NearbyReport, outDir: string): SyncJson {
  return { outDir, synced: r.synced.map(syncedJson), failed: r.failed.map(failedJson), skipped: r.skipped };
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
const iso = (t: number): string =>
  new Date(t * 1000)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, " UTC");

/** "segment 4", "segments 1–5", "segments 3, 7–8": a header read again can add an older segment to the new ones. */
function segmentsText(segs: number[]): string {
  if (segs.length === 0) return "no segment";
  const runs: string[] = [];
  for (let i = 0; i < segs.length;) {
    let j = i;
    while (j + 1 < segs.length && segs[j + 1] === segs[j] + 1) j++;
    runs.push(i === j ? `${segs[i]}` : `${segs[i]}–${segs[j]}`);
    i = j + 1;
  }
  return `${segs.length === 1 ? "segment" : "segments"} ${runs.join(", ")}`;
}

function offsetWords(s: number): string {
  const a = Math.abs(s);
  const amount = a < 120 ? plural(a, "second") : a < 7200 ? plural(Math.round(a / 60), "minute") : plural(Math.round(a / 3600), "hour");
  return `${amount} ${s > 0 ? "ahead of" : "behind"} this computer`;
}

function clockLine(j: SyncedJson): string {
  const c = j.clock;
  let now: string;
  if (c.offsetSeconds === null) now = "was not set (the token lost its time, e.g. after a battery change)";
  else if (Math.abs(c.offsetSeconds) <= CLOCK_RIGHT_S) now = "right";
  else now = offsetWords(c.offsetSeconds);
  if (c.driftPpm !== null && c.offsetSeconds !== null) now += `, running off by ${c.driftPpm} ppm since it was last set`;
  if (c.set) return `${now}; set to ${iso(c.set.to)} in this sync`;
  if (c.offsetSeconds === null || Math.abs(c.offsetSeconds) > CLOCK_RIGHT_S) return `${now}: sync again with --set-time to correct it`;
  return now;
}

function lostLine(j: SyncedJson): string {
  const parts: string[] = [];
  for (const g of j.log.gaps) {
    const to = g.to.seg - 1;
    const segs = g.from.seg === to ? `segment ${to}` : `segments ${g.from.seg}–${to}`;
    parts.push(`${segs} had been freed by the token before this kiosk stored ${g.from.seg === to ? "it" : "them"} (log full)`);
  }
  if (j.log.droppedRecords > 0)
    parts.push(`the token could not keep ${plural(j.log.droppedRecords, "sighting")} (log full or too many phones at once)`);
  return parts.length ? parts.join("; ") : "nothing";
}

export function syncedText(t: SyncedToken): string {
  const j = syncedJson(t);
  const name = j.label ? `${j.label} (token ${j.tokenId})` : `token ${j.tokenId}`;
  const kept = j.log.tokenSegments.last === 0 ? "no log yet" : `segments ${j.log.tokenSegments.first}–${j.log.tokenSegments.last}`;
  const received =
    j.log.bytesReceived === 0
      ? "nothing new since the last sync"
      : `${plural(j.log.bytesReceived, "new byte")} (${j.log.bytesRead} read) in ${segmentsText(j.log.segments)}`;
  const battery = `${j.batteryPercent} %${j.batteryPercent < BATTERY_LOW ? " — low: change the battery soon" : ""}`;
  const faults = j.faults === 0 ? "none" : `${j.faults} (the token recovered from errors; if this keeps growing, report it)`;
  return [
    `${name}: synced, log ${j.log.complete ? "complete" : "not complete"}`,
    `  copy       ${j.dir}  (read it with: privatetracer log show ${JSON.stringify(j.dir)})`,
    `  received   ${received}; the token keeps ${kept}`,
    `  lost       ${lostLine(j)}`,
    `  clock      ${clockLine(j)}`,
    `  battery    ${battery}`,
    `  faults     ${faults}; started ${plural(j.boots, "time")}`
  ].join("\n");
}

export function failedText(f: FailedToken): string {
  const who = f.tokenId ? (f.label ? `${f.label} (token ${f.tokenId})` : `token ${f.tokenId}`) : `the device at ${f.address}`;
  return `${who}: did not sync — ${f.error.message}`;
}

/** The whole round in words: each token, then what was left alone. */
export function reportText(r: NearbyReport, outDir: string): string {
  const lines: string[] = [];
  for (const t of r.synced) lines.push(syncedText(t), "");
  for (const f of r.failed) lines.push(failedText(f), "");
  const notTokens = r.skipped.filter((s) => s.tokenId === null).length;
  const others = r.skipped.filter((s) => s.tokenId !== null);
  if (others.length) lines.push(`Left alone: ${others.map((s) => s.reason).join("; ")}.`);
  if (notTokens) lines.push(`Also heard ${plural(notTokens, "device")} that took no sync session (phones or other Bluetooth devices).`);
  const total = r.synced.length + r.failed.length;
  lines.push(
    r.failed.length === 0
      ? `Synced ${plural(r.synced.length, "token")} into ${outDir}.`
      : `Synced ${r.synced.length} of ${plural(total, "token")} into ${outDir}; ${r.failed.length} did not sync (above: what was kept, and what to do).`
  );
  return lines.join("\n") + "\n";
}
