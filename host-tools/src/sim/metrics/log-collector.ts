/**
 * Everything each token's firmware ever wrote to its encounter log, read from
 * its flash every simulated hour — as a kiosk syncing every hour would. The
 * log on a token keeps only what fits (oldest segments go first), so the
 * flash at the end of a run says how much is retained, and this collection
 * says what was logged: the encounter rate, and what RSSI-based detection
 * could do were nothing evicted.
 */
import { LoggedRecord, logSegmentSeq, readLogSegment } from "../../tokenlog/read-log";
import type { StorageView } from "./token-flash";

interface Tracked {
  storage: StorageView;
  /** Segments seen, by sequence number and base (a number can be reused if the whole log was erased). */
  segments: Map<string, LoggedRecord[]>;
  /** Newest sequence number seen: older segments no longer change, so they are not read again. */
  newest: number;
}

export class LogCollector {
  private readonly tokens = new Map<string, Tracked>();

  track(person: string, storage: StorageView): void {
    this.tokens.set(person, { storage, segments: new Map(), newest: 0 });
  }

  /** Read every segment that is new or may have grown since the last call. */
  collect(): void {
    for (const t of this.tokens.values()) {
      let newest = t.newest;
      for (const name of t.storage.list()) {
        const seq = logSegmentSeq(name);
        if (seq === null || seq < t.newest) continue;
        const b = t.storage.read(name);
        // Only segments placed in time count; an uptime one is read again once the clock is set.
        const seg = b ? readLogSegment(name, b) : null;
        if (!seg || seg.info.status !== "ok") continue;
        newest = Math.max(newest, seq);
        t.segments.set(`${seq}@${seg.info.base}`, seg.records);
      }
      t.newest = newest;
    }
  }

  /** Every record a token ever logged (in UTC time), oldest segment first. */
  logged(person: string): LoggedRecord[] {
    const t = this.tokens.get(person);
    if (!t) return [];
    return [...t.segments.entries()].sort((a, b) => parseInt(a[0], 10) - parseInt(b[0], 10)).flatMap(([, r]) => r);
  }
}
