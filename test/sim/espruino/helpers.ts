import { loadBoard } from "../../../host-tools/src/build/boards";
import { DriftingClock } from "../../../host-tools/src/sim/clock";
import { EventScheduler } from "../../../host-tools/src/sim/scheduler";
import { EspruinoToken, createEmulatedToken } from "../../../host-tools/src/sim/espruino";
import type { Flash } from "../../../host-tools/src/sim/espruino";
import type { AdvertState, Central, RadioPort, ScanState } from "../../../host-tools/src/sim/types";

/** A RadioPort that remembers every state the token reported. */
export class RecordingRadio implements RadioPort {
  adverts: Array<AdvertState | null> = [];
  scans: Array<ScanState | null> = [];
  advertising(state: AdvertState | null): void {
    this.adverts.push(state);
  }
  scanning(state: ScanState | null): void {
    this.scans.push(state);
  }
  get advert(): AdvertState | null {
    return this.adverts.length ? this.adverts[this.adverts.length - 1] : null;
  }
  get scan(): ScanState | null {
    return this.scans.length ? this.scans[this.scans.length - 1] : null;
  }
}

/** A central that records what reaches it, with the true time of each notification. */
export class RecordingCentral implements Central {
  readonly notifications: Array<{ at: number; bytes: Uint8Array }> = [];
  readonly disconnects: number[] = [];
  constructor(
    private readonly scheduler: { readonly now: number },
    readonly address = "aa:bb:cc:dd:ee:ff public",
    readonly intervalMs = 30
  ) {}
  notified(bytes: Uint8Array): void {
    this.notifications.push({ at: this.scheduler.now, bytes: bytes.slice() });
  }
  disconnected(reason: number): void {
    this.disconnects.push(reason);
  }
  /** Everything received so far, as one 8-bit string. */
  get text(): string {
    return this.notifications.map((n) => Buffer.from(n.bytes).toString("latin1")).join("");
  }
}

export interface Rig {
  token: EspruinoToken;
  scheduler: EventScheduler;
  clock: DriftingClock;
  radio: RecordingRadio;
}

/** One token on its own scheduler, booted with `bundle` (a small inline program or a real firmware bundle). */
export function rig(bundle: string, opts: { board?: string; seed?: number; storage?: Flash; driftPpm?: number; boot?: boolean } = {}): Rig {
  const scheduler = new EventScheduler(1000);
  const clock = new DriftingClock({ driftPpm: opts.driftPpm ?? 0, startTrue: 1000, startLocal: 0 });
  const radio = new RecordingRadio();
  const token = createEmulatedToken({
    id: "t1",
    board: loadBoard(opts.board ?? "puckjs"),
    bundle,
    scheduler,
    clock,
    radio,
    seed: opts.seed ?? 1,
    storage: opts.storage
  });
  if (opts.boot !== false) token.boot();
  return { token, scheduler, clock, radio };
}

/** A host-realm copy of a value from a token's realm (deepEqual compares prototypes). */
export function plain(v: unknown): unknown {
  if (Array.isArray(v)) return Array.from(v, plain);
  if (v !== null && typeof v === "object" && !ArrayBuffer.isView(v)) {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(v)) o[k] = plain((v as Record<string, unknown>)[k]);
    return o;
  }
  return v;
}

/** Evaluate in the token and copy the result into the host realm. */
export function ev(r: Rig, code: string): unknown {
  return plain(r.token.evaluate(code));
}
