import { BUCKETS, Bucket } from "../match/risk-config";
import { emptyBuckets } from "../match/exposure-windows";
import type { ScoredWindow } from "../match/risk-score";

/**
 * The exposure timeline a token's page shows: per UTC day, the minutes the
 * wearer spent near someone who tested positive, by attenuation band
 * (immediate, near, medium, other: the matcher's buckets, closest first).
 * It is worked out from the token's history, which the kiosk can open only
 * while the token is connected (docs/kiosk.md), so it is never stored: a
 * sync leaves it in memory for a few minutes, for the staff who brought the
 * token to the kiosk, and then it is gone (docs/threat-model.md).
 */

export interface TimelineDay {
  /** UTC day, YYYY-MM-DD. */
  day: string;
  /** Whole minutes per band (the windows' credited seconds, rounded). */
  minutes: Record<Bucket, number>;
}

/** Every matched window, counted or not (a short or far contact is still time near someone), summed per day. */
export function exposureTimeline(windows: readonly ScoredWindow[]): TimelineDay[] {
  const seconds = new Map<string, Record<Bucket, number>>();
  for (const w of windows) {
    const d = seconds.get(w.day) ?? emptyBuckets();
    for (const b of BUCKETS) d[b] += w.window.bucketSeconds[b];
    seconds.set(w.day, d);
  }
  return [...seconds.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([day, s]) => {
      const minutes = emptyBuckets();
      for (const b of BUCKETS) minutes[b] = Math.round(s[b] / 60);
      return { day, minutes };
    });
}

/** How long a timeline stays viewable after the sync that worked it out. */
export const TIMELINE_TTL_S = 600;

/**
 * The timelines of the last few minutes' syncs, in this process's memory
 * only: nothing here is written anywhere, a restart forgets all of it, and
 * each is dropped once older than `ttlS` (checked on every read).
 */
export class RecentTimelines {
  private readonly byToken = new Map<string, { at: number; days: TimelineDay[] }>();

  constructor(
    private readonly now: () => number,
    private readonly ttlS = TIMELINE_TTL_S
  ) {}

  put(tokenId: string, days: TimelineDay[]): void {
    this.byToken.set(tokenId, { at: this.now(), days });
  }

  /** The token's timeline if a sync worked it out in the last `ttlS` seconds. */
  get(tokenId: string): { at: number; until: number; days: TimelineDay[] } | null {
    this.expire();
    const t = this.byToken.get(tokenId);
    return t ? { at: t.at, until: t.at + this.ttlS, days: t.days } : null;
  }

  drop(tokenId: string): void {
    this.byToken.delete(tokenId);
  }

  get size(): number {
    this.expire();
    return this.byToken.size;
  }

  private expire(): void {
    const at = this.now();
    for (const [id, t] of this.byToken) if (at - t.at >= this.ttlS) this.byToken.delete(id);
  }
}
