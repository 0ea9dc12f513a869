import type { SyncLink } from "../ble/transport";
import { FRAME_MAX, createReader, feed } from "../../../firmware/src/wire/sync-frame";

/**
 * Runs `fn` after `ms` milliseconds; returns a function that cancels it. The
 * sync client takes its waits from here so a simulated link can run them in
 * simulated time (sim-transport.ts); a real link uses the host's timers.
 */
export type SyncTimer = (ms: number, fn: () => void) => () => void;

export const realTimer: SyncTimer = (ms, fn) => {
  const t = setTimeout(fn, ms);
  return () => clearTimeout(t);
};

/** The link went down (either side) while the client still needed it. */
export class LinkDown extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** Bytes that cannot be frames arrived: the client says so with what its copy kept. */
export class Garbled extends Error {}

/**
 * Frames over one link: reassembled from notifications of any size with the
 * shared reader, queued in arrival order, and handed out one at a time with a
 * deadline. The client keeps one request outstanding, so the queue holds at
 * most the one answer (and a FAIL before a close).
 */
export class FrameWire {
  // A host reader takes any length a frame can have (docs/sync-protocol.md, "Frames").
  private readonly reader = createReader(FRAME_MAX - 1);
  private readonly frames: Uint8Array[] = [];
  private failure: Error | null = null;
  private wake: (() => void) | null = null;
  private closed = false;

  constructor(
    private readonly link: SyncLink,
    private readonly timer: SyncTimer
  ) {
    link.onData((bytes) => {
      if (this.closed || this.failure) return;
      const ok = feed(this.reader, bytes, (f) => {
        // `f` is a view into the reader's buffer, valid only during this call.
        this.frames.push(f.slice());
        return true;
      });
      if (!ok)
        this.failure = new Garbled(
          "The token sent a frame with an impossible length (garbled on the air, or not a PrivateTracer token), so the session was ended."
        );
      this.poke();
    });
    link.onClose((reason) => {
      if (this.closed) return;
      this.failure ??= new LinkDown(reason);
      this.poke();
    });
  }

  /** Send one frame; a link that is down rejects with LinkDown. */
  async send(frame: Uint8Array): Promise<void> {
    if (this.failure) throw this.failure;
    try {
      await this.link.write(frame);
    } catch (e) {
      throw this.failure ?? new LinkDown(e instanceof Error ? e.message : String(e));
    }
  }

  /** The next frame; rejects with LinkDown when the link ends first, or with `timeout()` after `ms`. */
  next(ms: number, timeout: () => Error): Promise<Uint8Array> {
    return new Promise<Uint8Array>((resolve, reject) => {
      let cancel = (): void => undefined;
      const check = (): boolean => {
        const f = this.frames.shift();
        // Frames that arrived before the link went down are still answers (a FAIL comes just before the token closes).
        if (f) resolve(f);
        else if (this.failure) reject(this.failure);
        else return false;
        this.wake = null;
        cancel();
        return true;
      };
      if (check()) return;
      this.wake = () => void check();
      cancel = this.timer(ms, () => {
        this.wake = null;
        reject(timeout());
      });
    });
  }

  /** Stop listening (the link is being ended by this side). */
  close(): void {
    this.closed = true;
  }

  private poke(): void {
    if (this.wake) this.wake();
  }
}
