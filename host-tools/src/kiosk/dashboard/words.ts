import { REASON_ARCHIVE_LOST, REASON_LOG_INCOMPLETE } from "../sync-round";
import type { TokenRecord } from "../store";

/**
 * What the dashboard says, in the words a care worker uses: the level a
 * token shows, what to do about it, and why a level may be too low. Every
 * level has words and a symbol besides its colour (docs/wearer-interface.md:
 * 0 nothing found, 1 low, 2 high — ask staff). Nothing here names anyone but
 * the token's own wearer (by the label staff gave the token).
 */

const DAY = 86400;
/** As the token's own "battery low" pattern (docs/wearer-interface.md). */
export const LOW_BATTERY_PERCENT = 15;
/** A token not synced for longer than this needs someone to bring it to the kiosk. */
export const STALE_AFTER_S = DAY;
/** A clock further off than this is worth a word (it is set again at every sync). */
const DRIFT_NOTE_S = 120;

export type LevelKey = "high" | "low" | "none" | "unknown";

export interface LevelText {
  key: LevelKey;
  /** Shown beside the colour: the words. */
  words: string;
  /** A shape that reads without colour (aria-hidden; the words carry the meaning for screen readers). */
  symbol: string;
  advice: string;
  /** Why the level may be too low, one sentence each; empty when it is not a lower bound. */
  lowerBound: string[];
}

/** Who the advice is about: the token's label, or "the wearer" for a token without one. */
function who(t: Pick<TokenRecord, "label">): string {
  return t.label || "the wearer";
}

export function lowerBoundReasons(reason: number | null): string[] {
  if (reason === null) return [];
  const out: string[] = [];
  if (reason & REASON_LOG_INCOMPLETE)
    out.push("Part of the token's record was lost (it ran short of space or was restarted), so the real level may be higher.");
  if (reason & REASON_ARCHIVE_LOST)
    out.push("The token's older history could not be opened (it was set up again), so the real level may be higher.");
  return out;
}

const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/** "Tuesday 24 November" for a UTC day YYYY-MM-DD (the day GAEN and the matcher count in). */
export function dayWords(day: string): string {
  const d = new Date(`${day}T12:00:00Z`);
  return `${WEEKDAYS[d.getUTCDay()]} ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
}

/** "about 40 minutes", "about 1 hour 15 minutes", "about 2 hours". */
export function durationWords(minutes: number): string {
  const m = Math.max(1, Math.round(minutes));
  if (m < 60) return `about ${m} minute${m === 1 ? "" : "s"}`;
  const h = Math.floor(m / 60);
  const rest = m % 60;
  return `about ${h} hour${h === 1 ? "" : "s"}${rest ? ` ${rest} minutes` : ""}`;
}

type LevelFields = Pick<TokenRecord, "label" | "riskLevel" | "riskReason" | "riskAt"> &
  Partial<Pick<TokenRecord, "exposureDay" | "exposureMinutes">>;

export function levelText(t: LevelFields, now: number): LevelText {
  const name = who(t);
  const lowerBound = lowerBoundReasons(t.riskReason);
  const since = t.riskAt === null ? "" : ` (warning given ${ago(t.riskAt, now)})`;
  // When and for how long, if the kiosk kept it with the level: never who, never where.
  const when =
    t.exposureDay && t.exposureMinutes !== null && t.exposureMinutes !== undefined
      ? ` on ${dayWords(t.exposureDay)} for ${durationWords(t.exposureMinutes)}`
      : "";
  switch (t.riskLevel) {
    case 2:
      return {
        key: "high",
        words: "High — ask staff",
        symbol: "▲",
        advice:
          `Ask ${name} to take a test today` +
          (when ? `: ${name} was near someone who tested positive${when}` : "; the kiosk found time near someone who tested positive") +
          `${since}. If the test is positive, report it here with the code the health authority gives.`,
        lowerBound
      };
    case 1:
      // Matcher level 0 with a lower-bound flag is shown as low: the kiosk could not look at everything.
      if ((t.riskReason ?? 0) & 3)
        return {
          key: "low",
          words: "Low",
          symbol: "◆",
          advice:
            `No test needed now. ${name} was near someone who tested positive` +
            (when ? `${when}, but not close enough for long enough to need a test` : ", but briefly or not close") +
            `${since}. Watch for symptoms over the next days.`,
          lowerBound
        };
      return {
        key: "low",
        words: "Low — not everything could be checked",
        symbol: "◆",
        advice: `No test needed now. Nothing was found, but the kiosk could not check all of ${name}'s history; watch for symptoms over the next days.`,
        lowerBound
      };
    case 0:
      return { key: "none", words: "Nothing found", symbol: "✓", advice: "Nothing to do.", lowerBound };
    default:
      return {
        key: "unknown",
        words: "Not checked yet",
        symbol: "?",
        advice: `Nothing to do yet: the kiosk has not checked ${name}'s history against the published keys.`,
        lowerBound
      };
  }
}

/** "just now", "5 minutes ago", "2 hours ago", "3 days ago". */
export function ago(at: number, now: number): string {
  const s = Math.max(0, now - at);
  if (s < 60) return "just now";
  const unit = (n: number, w: string): string => `${n} ${w}${n === 1 ? "" : "s"} ago`;
  if (s < 3600) return unit(Math.floor(s / 60), "minute");
  if (s < DAY) return unit(Math.floor(s / 3600), "hour");
  return unit(Math.floor(s / DAY), "day");
}

/** What needs action, in the order staff should deal with it. Lower is first. */
export type ActionGroup = 0 | 1 | 2 | 3 | 4 | 5;

export interface TokenRow {
  tokenId: string;
  /** What staff call the token: its label, or a short id for one without a label. */
  name: string;
  hasLabel: boolean;
  level: LevelText;
  group: ActionGroup;
  lastSync: { text: string; iso: string | null; stale: boolean };
  battery: { text: string; low: boolean };
  faults: { text: string; any: boolean };
  clock: { text: string; off: boolean };
}

export function tokenRow(t: TokenRecord, now: number): TokenRow {
  const level = levelText(t, now);
  const stale = t.lastSyncAt === null || now - t.lastSyncAt > STALE_AFTER_S;
  const lowBattery = t.battery !== null && t.battery < LOW_BATTERY_PERCENT;
  const faults = (t.faults ?? 0) > 0;
  const drift = t.clockDriftS ?? 0;
  const group: ActionGroup = level.key === "high" ? 0 : stale ? 1 : lowBattery ? 2 : faults ? 3 : level.key === "low" ? 4 : 5;
  return {
    tokenId: t.tokenId,
    name: t.label || `Token ${t.tokenId.slice(0, 8)}`,
    hasLabel: t.label !== "",
    level,
    group,
    lastSync: {
      text:
        t.lastSyncAt === null
          ? "Never synced — hold its button for 2 seconds near the kiosk"
          : stale
            ? `${ago(t.lastSyncAt, now)} — bring it to the kiosk`
            : ago(t.lastSyncAt, now),
      iso: t.lastSyncAt === null ? null : new Date(t.lastSyncAt * 1000).toISOString(),
      stale
    },
    battery: {
      text: t.battery === null ? "not known yet" : lowBattery ? `${t.battery}% — low: charge or replace` : `${t.battery}%`,
      low: lowBattery
    },
    faults: {
      text: !faults ? "none" : `${t.faults} — tell the person who looks after the tokens`,
      any: faults
    },
    clock: {
      text:
        t.clockDriftS === null
          ? "not known yet"
          : Math.abs(drift) <= DRIFT_NOTE_S
            ? "right"
            : `was ${driftWords(drift)}; set again at each sync`,
      off: Math.abs(drift) > DRIFT_NOTE_S
    }
  };
}

function driftWords(s: number): string {
  const a = Math.abs(s);
  const amount = a < 3600 ? `${Math.round(a / 60)} min` : a < DAY ? `${Math.round(a / 3600)} h` : `${Math.round(a / DAY)} days`;
  return `${amount} ${s > 0 ? "fast" : "slow"}`;
}

/** Rows in action order (high, not synced, low battery, faults, low, the rest), by name within a group. */
export function actionOrder(tokens: readonly TokenRecord[], now: number): TokenRow[] {
  return tokens
    .map((t) => tokenRow(t, now))
    .sort((a, b) => a.group - b.group || a.name.localeCompare(b.name) || a.tokenId.localeCompare(b.tokenId));
}

export function outcomeWords(outcome: string): string {
  switch (outcome) {
    case "ok":
      return "synced";
    case "link-lost":
      return "connection lost";
    case "auth-failed":
      return "not recognised";
    default:
      return "failed";
  }
}
