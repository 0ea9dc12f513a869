import type { Session } from "fastify";

/**
 * Sessions in memory (a restart logs everyone out, which is what a kiosk
 * wants), forgotten once idle longer than the dashboard's idle limit, so the
 * map does not grow for as long as the kiosk runs. The idle check itself is
 * the dashboard's (it needs the injected clock); this only sweeps.
 */
type Callback = (err?: unknown) => void;

export class IdleSessionStore {
  private readonly map = new Map<string, { session: Session; seen: number }>();

  constructor(
    private readonly idleSeconds: number,
    private readonly now: () => number
  ) {}

  set(id: string, session: Session, cb: Callback): void {
    this.sweep();
    this.map.set(id, { session, seen: this.now() });
    cb();
  }

  get(id: string, cb: (err: unknown, session?: Session | null) => void): void {
    const e = this.map.get(id);
    cb(null, e ? e.session : null);
  }

  destroy(id: string, cb: Callback): void {
    this.map.delete(id);
    cb();
  }

  /** The session, without touching it (for long-lived streams that check it is still alive). */
  peek(id: string): Session | undefined {
    return this.map.get(id)?.session;
  }

  private sweep(): void {
    const cutoff = this.now() - 2 * this.idleSeconds;
    for (const [id, e] of this.map) if (e.seen < cutoff) this.map.delete(id);
  }
}
