/**
 * What the care home's kiosk achieved, against the world's ground truth
 * (`simulate --json` → `kiosk`, docs/simulator.md):
 *
 * - history: for every token, how far back the kiosk could match at the end
 *   without a gap (its sealed archive, opened here with the token's archive
 *   secret because the simulator sees everything, plus what is still on the
 *   token);
 * - warnings: for each diagnosis, who was really exposed (≥ 15 minutes within
 *   2 m on a day the health authority's risk configuration counts as
 *   infectious, before the day of the diagnosis: that day's key is still in
 *   use, so not uploaded) and who got a warning on their token, and when;
 * - sync time: connection to disconnection, as the wearer waits.
 *
 * Only token wearers can be warned by the kiosk; exposed phone carriers are
 * counted apart (their phones would warn them).
 */
import { archiveKey, openSegment } from "../../kiosk/archive";
import { DEFAULT_RISK_CONFIG } from "../../match/risk-config";
import { LOG_PREFIX } from "../../../../firmware/src/wire/log-record";
import { readLogSegment, readTokenLog } from "../../tokenlog/read-log";
import { tokenFilesFromStorage } from "../../tokenlog/token-files";
import { storageOf } from "../metrics/token-flash";
import { CLOSE_CONTACT_MINUTES, GroundTruth } from "../world/ground-truth";
import type { EmulatedToken } from "../types";
import type { WorldKioskLog } from "./world-kiosk";

const DAY = 86400;
const KEEP_DAYS = 14;

export interface DiagnosisFigures {
  person: string;
  day: number;
  status: string;
  keysUploaded: number;
  hoursToPublication: number | null;
  /** The run's day indices (0 = the first day) whose contacts count: infectious, and before the diagnosis' day. */
  countedDays: { from: number; to: number };
  /** Token wearers really exposed to this person. */
  exposed: string[];
  /**
   * Token wearers who had only a near miss with this person: ≥ 15 minutes
   * within 3 m on a counted day, but never ≥ 15 within 2 m on one (so not in
   * `exposed`). A warning for them is wrong by the 2 m rule, yet defensible.
   */
  nearMiss: string[];
  /** Exposed people who carry a phone or nothing (the kiosk cannot warn them). */
  exposedWithoutToken: number;
  /** Tokens whose first warning came after this diagnosis' keys were published (and before the next's). */
  warned: string[];
  /** Exposed tokens that already showed a warning (from an earlier diagnosis) when these keys were published. */
  warnedBefore: string[];
  /** Of `warned`, the share really exposed to this person. */
  precision: number | null;
  /** Of `exposed`, the share showing a warning at the end (warned by these keys or earlier ones). */
  recall: number | null;
  /** Hours from the code being entered to the first warning on each exposed token these keys warned. */
  hoursToWarning: number[];
}

export interface KioskFigures {
  syncs: { ok: number; failed: number; staffRound: number; tokens: number; neverSynced: string[]; broughtByStaff: string[] };
  syncSeconds: { n: number; p50: number | null; p95: number | null; max: number | null };
  /** Days from the oldest record the kiosk could match at the end to the end, per token (at most 14), and the smallest. */
  historyDaysAtEnd: { min: number | null; perToken: Record<string, number> };
  warnings: {
    /** Over all diagnoses: warned tokens really exposed to someone diagnosed, and exposed tokens warned. */
    precision: number | null;
    recall: number | null;
    exposed: number;
    warned: number;
    truePositives: number;
    /** Each warned token: the highest level written to it (1 low, 2 high: ask staff) and when it was first warned. */
    tokens: Array<{ person: string; level: number; firstAt: number }>;
    perDiagnosis: DiagnosisFigures[];
  };
  hoursDiagnosisToWarning: { n: number; p50: number | null; max: number | null };
}

function quantile(xs: number[], q: number): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
}

const round1 = (x: number): number => Math.round(x * 10) / 10;
/** a / b to three decimals; null when b is 0 (nothing to have a share of). */
export const ratio = (a: number, b: number): number | null => (b ? Math.round((a / b) * 1000) / 1000 : null);

/** Days around onset the health authority's configuration counts as infectious. */
function infectiousDays(): { from: number; to: number } {
  const r = DEFAULT_RISK_CONFIG.infectiousnessByDaysSinceOnset.filter((x) => x.infectiousness !== "none");
  return { from: Math.min(...r.map((x) => x.fromDay)), to: Math.max(...r.map((x) => x.toDay)) };
}

export interface KioskFigureInput {
  log: WorldKioskLog;
  groundTruth: GroundTruth;
  start: number;
  end: number;
  /** The emulated tokens by person (their flash is read at the end). */
  tokens: ReadonlyMap<string, EmulatedToken>;
  /** Every person with a token. */
  wearers: ReadonlySet<string>;
}

/**
 * Where `person`'s unbroken history begins at the end: segments are numbered
 * 1, 2, … as the token writes them, so every number from the newest down
 * must be on the token or in the archive; the first one missing (freed
 * before the kiosk had it) cuts the history there. A token that logged
 * nothing has lost nothing.
 */
function historyStart(i: KioskFigureInput, person: string): number {
  const sec = i.log.secrets.get(person);
  if (!sec) return i.start;
  const tokenId = Buffer.from(sec.tokenId).toString("hex");
  const base = new Map<number, number | null>();
  const key = archiveKey(sec.archiveSecret, tokenId);
  for (const a of i.log.kiosk.store.archive(tokenId)) {
    const seg = readLogSegment(LOG_PREFIX + a.seg, openSegment(key, tokenId, a.seg, a.sealed));
    base.set(a.seg, seg.info.clock === "utc" ? seg.info.base : null);
  }
  key.fill(0);
  const storage = storageOf(i.tokens.get(person));
  if (storage) {
    const files = tokenFilesFromStorage(storage, person);
    for (const info of readTokenLog(files, { partial: true }).segments)
      if (!base.has(info.seq)) base.set(info.seq, info.clock === "utc" ? info.base : null);
  }
  if (!base.size) return i.start;
  let seq = Math.max(...base.keys());
  while (seq > 1 && base.has(seq - 1)) seq--;
  if (seq === 1) return i.start;
  // Aged out of the archive after 14 days is not lost: the history is simply full.
  const b = base.get(seq) ?? i.end;
  return b <= i.end - (KEEP_DAYS - 1) * DAY ? i.end - KEEP_DAYS * DAY : b;
}

export function kioskFigures(i: KioskFigureInput): KioskFigures {
  const { log } = i;
  const ok = log.rounds.filter((r) => r.result.outcome === "ok");
  const syncedPeople = new Set(ok.map((r) => r.person).filter((p): p is string => p !== null));
  // Each round's session: that token's last link that ended by the time the pass reported it.
  const seconds: number[] = [];
  for (const r of ok) {
    let best: (typeof log.sessions)[number] | undefined;
    for (const x of log.sessions) if (x.person === r.person && x.end <= r.at + 1 && (!best || x.end > best.end)) best = x;
    if (best) seconds.push(best.end - best.start);
  }

  const perToken: Record<string, number> = {};
  for (const person of [...i.wearers].sort()) {
    perToken[person] = round1(Math.min(KEEP_DAYS, (i.end - historyStart(i, person)) / DAY));
  }
  const history = Object.values(perToken);

  // First warning per token: a level written after the matcher found something (reason bits 0-1).
  const firstWarned = new Map<string, number>();
  const highest = new Map<string, number>();
  for (const r of ok) {
    const w = r.result.written;
    if (!r.person || !w || (w.reason & 3) === 0) continue;
    if (!firstWarned.has(r.person)) firstWarned.set(r.person, r.at);
    highest.set(r.person, Math.max(highest.get(r.person) ?? 0, w.level));
  }

  const inf = infectiousDays();
  const pubTimes = log.diagnoses.map((d) => d.publishedAt ?? Infinity);
  const exposedAll = new Set<string>();
  const perDiagnosis: DiagnosisFigures[] = log.diagnoses.map((d, k) => {
    const day = Math.floor((d.at - i.start) / DAY);
    const onsetDay = Math.floor((d.onset - i.start) / DAY);
    const exposed = new Set<string>();
    const near = new Set<string>();
    let withoutToken = 0;
    const counted = { from: Math.max(0, onsetDay + inf.from), to: Math.min(day - 1, onsetDay + inf.to) };
    for (let g = counted.from; g <= counted.to; g++) {
      for (const p of i.groundTruth.days[g]?.pairs ?? []) {
        if (p.a !== d.person && p.b !== d.person) continue;
        const other = p.a === d.person ? p.b : p.a;
        if (p.within2m < CLOSE_CONTACT_MINUTES) {
          if (p.within3m >= CLOSE_CONTACT_MINUTES && i.wearers.has(other)) near.add(other);
          continue;
        }
        if (i.wearers.has(other)) exposed.add(other);
        else withoutToken++;
      }
    }
    // Exposed on another counted day outweighs a near miss on this one.
    for (const e of exposed) near.delete(e);
    for (const e of exposed) exposedAll.add(e);
    const from = pubTimes[k];
    const until = Math.min(...pubTimes.filter((t) => t > from), Infinity);
    const warned = [...firstWarned].filter(([, t]) => t >= from && t < until).map(([p]) => p);
    const exposedWarned = [...exposed].filter((p) => (firstWarned.get(p) ?? -Infinity) >= from);
    const warnedBefore = [...exposed].filter((p) => (firstWarned.get(p) ?? Infinity) < from);
    return {
      person: d.person,
      day,
      status: d.status,
      keysUploaded: d.keysUploaded,
      hoursToPublication: d.publishedAt === null ? null : round1((d.publishedAt - d.at) / 3600),
      countedDays: counted,
      exposed: [...exposed].sort(),
      nearMiss: [...near].sort(),
      exposedWithoutToken: withoutToken,
      warned: warned.sort(),
      warnedBefore: warnedBefore.sort(),
      precision: ratio(warned.filter((p) => exposed.has(p)).length, warned.length),
      recall: ratio(exposedWarned.length + warnedBefore.length, exposed.size),
      hoursToWarning: exposedWarned.map((p) => round1((firstWarned.get(p)! - d.at) / 3600)).sort((a, b) => a - b)
    };
  });
  const warnedAll = [...firstWarned.keys()];
  const tp = warnedAll.filter((p) => exposedAll.has(p)).length;
  const hours = perDiagnosis.flatMap((d) => d.hoursToWarning);
  return {
    syncs: {
      ok: ok.length,
      failed: log.rounds.length - ok.length,
      staffRound: log.staffRound.length,
      tokens: syncedPeople.size,
      neverSynced: [...i.wearers].filter((p) => !syncedPeople.has(p)).sort(),
      broughtByStaff: [...new Set(log.staffRound.map((x) => x.person))].sort()
    },
    syncSeconds: {
      n: seconds.length,
      p50: quantile(seconds, 0.5) === null ? null : round1(quantile(seconds, 0.5)!),
      p95: quantile(seconds, 0.95) === null ? null : round1(quantile(seconds, 0.95)!),
      max: seconds.length ? round1(Math.max(...seconds)) : null
    },
    historyDaysAtEnd: { min: history.length ? Math.min(...history) : null, perToken },
    warnings: {
      precision: ratio(tp, warnedAll.length),
      recall: ratio(tp, exposedAll.size),
      exposed: exposedAll.size,
      warned: warnedAll.length,
      truePositives: tp,
      tokens: [...firstWarned]
        .map(([person, firstAt]) => ({ person, level: highest.get(person)!, firstAt }))
        .sort((a, b) => a.firstAt - b.firstAt),
      perDiagnosis
    },
    hoursDiagnosisToWarning: { n: hours.length, p50: quantile(hours, 0.5), max: hours.length ? Math.max(...hours) : null }
  };
}

export const pctOrDash = (x: number | null): string => (x === null ? "–" : `${(100 * x).toFixed(1)} %`);

/** The kiosk's figures as lines of `simulate`'s text summary. */
export function kioskSummary(k: KioskFigures): string[] {
  const lines = [
    `kiosk syncs     ${k.syncs.ok} (${k.syncs.failed} failed) of ${k.syncs.tokens} tokens; ${k.syncs.staffRound} brought by the staff round; ${k.syncSeconds.p50 ?? "–"} s per sync (p95 ${k.syncSeconds.p95 ?? "–"} s)` +
      (k.syncs.neverSynced.length ? `; never synced: ${k.syncs.neverSynced.join(", ")}` : ""),
    `kiosk history   at least ${k.historyDaysAtEnd.min ?? "–"} days of log matchable for every token at the end (archive + token)`,
    `warnings        precision ${pctOrDash(k.warnings.precision)}, recall ${pctOrDash(k.warnings.recall)} (${k.warnings.truePositives} of ${k.warnings.warned} warned tokens were exposed; ${k.warnings.exposed} tokens exposed); ${k.hoursDiagnosisToWarning.p50 ?? "–"} h from diagnosis to warning (median)`
  ];
  for (const d of k.warnings.perDiagnosis)
    lines.push(
      `  diagnosis     ${d.person} on day ${d.day}: ${d.status}` +
        (d.status === "uploaded" ? ` (${d.keysUploaded} keys, published after ${d.hoursToPublication ?? "–"} h)` : "") +
        `; ${d.exposed.length} token wearers exposed (+${d.exposedWithoutToken} without a token), ${d.warned.length} newly warned` +
        (d.warnedBefore.length ? ` (${d.warnedBefore.length} exposed ones showed a warning already)` : "") +
        `; precision ${pctOrDash(d.precision)}, recall ${pctOrDash(d.recall)}`
    );
  return lines;
}
