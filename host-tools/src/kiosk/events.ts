import type { ServiceEvent } from "./service";
import type { RadioJobEvent } from "./radio-jobs";

/**
 * The kiosk's events in one place: `kiosk serve` publishes what the service
 * and the radio jobs say, and each live view (the dashboard's Server-Sent
 * Events, the key sources' status) subscribes. A subscriber that throws is
 * dropped rather than allowed to stop the radio: the service must not fail
 * for a screen.
 */

export type KioskEvent = ServiceEvent | RadioJobEvent;

export class EventHub<E> {
  private readonly subscribers = new Set<(e: E) => void>();

  /** Calls `fn` with every event from now on; returns the function that stops it. */
  subscribe(fn: (e: E) => void): () => void {
    this.subscribers.add(fn);
    return () => void this.subscribers.delete(fn);
  }

  publish(e: E): void {
    for (const fn of [...this.subscribers]) {
      try {
        fn(e);
      } catch {
        this.subscribers.delete(fn);
      }
    }
  }

  get size(): number {
    return this.subscribers.size;
  }
}

/** What the key sources last said, for the dashboard's key sources page. Times are unix seconds. */
export interface KeySourceState {
  /** The last successful read: when, how many keys, from where, and its warning (old exports, invalid keys). */
  lastRead: {
    at: number;
    keys: number;
    source: string;
    warning: string | null;
    /** The last export read (each verified when the kiosk has the public key) and the end of the newest one's period. */
    newest: { file: string | null; end: number | null };
  } | null;
  /** The last failed read, if it came after the last successful one. */
  unreadable: { at: number; source: string; message: string; using: number; since: number | null } | null;
  /** The published identifiers' index of the keys in use, or why there is none. */
  index: { at: number; keys: number; seconds: number; message: string | null } | null;
  beacon: { on: boolean; message: string | null } | null;
}

/**
 * Keeps the latest keys / keys-unreadable / index / beacon events: the
 * service says these once when they change, and a page opened later still
 * needs them.
 */
export class KeySourceStatus {
  private s: KeySourceState = { lastRead: null, unreadable: null, index: null, beacon: null };

  constructor(private readonly now: () => number = () => Math.floor(Date.now() / 1000)) {}

  consume(e: KioskEvent): void {
    switch (e.kind) {
      case "keys":
        this.s = {
          ...this.s,
          lastRead: { at: this.now(), keys: e.keys, source: e.source, warning: e.warning, newest: e.newest },
          unreadable: null
        };
        break;
      case "keys-unreadable":
        this.s = { ...this.s, unreadable: { at: this.now(), source: e.source, message: e.message, using: e.using, since: e.since } };
        break;
      case "index":
        this.s = { ...this.s, index: { at: this.now(), keys: e.keys, seconds: e.seconds, message: e.message } };
        break;
      case "beacon":
        this.s = { ...this.s, beacon: { on: e.on, message: e.message } };
        break;
    }
  }

  get state(): KeySourceState {
    return this.s;
  }
}
