/**
 * A passive observer of sync windows: emulated tokens running the real bundle,
 * provisioned with distinct secrets, open their sync windows (a long press)
 * and a kiosk syncs each one over the simulated link, while everything a
 * radio in range could record is kept: every advert each token put on the
 * air (address, packet, connectable, interval, tx power) with its time, the
 * device name a connecting central reads, and every byte on the link in both
 * directions, reassembled into frames.
 *
 * Which token made which window is known here (the world made them), but
 * only to score a linking attack afterwards: every feature an attack may use
 * is computed from what was on the air.
 */
import type { BoardConfig } from "../../build/boards";
import { SimSyncLink } from "../../ble/sim-transport";
import type { SyncLink } from "../../ble/transport";
import { EnrolledSecret, SyncOptions, SyncResult, syncToken } from "../../sync/client";
import { FrameWire } from "../../sync/wire";
import { DriftingClock } from "../clock";
import { EspruinoToken, createEmulatedToken } from "../espruino";
import { Rng } from "../prng";
import { EventScheduler } from "../scheduler";
import type { AdvertState, RadioPort, ScanState } from "../types";
import { buildAdvert } from "../../../../firmware/src/wire/advert";
import { SECRETS_FILE, encodeSecrets } from "../../../../firmware/src/wire/secrets";
import { FRAME_MAX, createReader, feed } from "../../../../firmware/src/wire/sync-frame";
import { AUTH_BYTES, MSG_AUTH, centralHello } from "../../../../firmware/src/wire/sync-handshake";

/** The kiosk's address as the tokens see it: one kiosk syncs them all. */
export const KIOSK_ADDRESS = "c0:ff:ee:00:00:01 public";
/** A long press, as a wearer opens the window (ui.ts LONG_PRESS_MS is 2000). */
export const PRESS_MS = 2500;

/** One change of what a token has on the air, at true time `at` (null: nothing). */
export interface AirState {
  at: number;
  state: AdvertState | null;
}

/**
 * The world side of one token's radio: records every advert state, and lets
 * the token hear fresh phones in each of its scan windows.
 */
class ObservedRadio implements RadioPort {
  readonly timeline: AirState[] = [];
  /** The name the stack gives a central that connects (GAP Device Name), as last set. */
  name: string | undefined;
  scanOn = false;
  constructor(
    private readonly scheduler: EventScheduler,
    private readonly scanStarted: () => void
  ) {}
  advertising(state: AdvertState | null): void {
    // Copied: the packet is the token's own buffer.
    this.timeline.push({ at: this.scheduler.now, state: state && { ...state, packet: state.packet.slice() } });
  }
  scanning(state: ScanState | null): void {
    const on = state !== null;
    if (on && !this.scanOn) this.scanStarted();
    this.scanOn = on;
  }
}

/** Bytes on the link, in the order the radio carried them. */
export interface LinkPiece {
  at: number;
  from: "kiosk" | "token";
  bytes: Uint8Array;
}

/** A frame (LEN included) reassembled from the pieces of one direction. */
export interface LinkFrame {
  at: number;
  from: "kiosk" | "token";
  bytes: Uint8Array;
}

/** One connection as an eavesdropper records it. */
export interface LinkSession {
  connectedAt: number;
  endedAt: number;
  /** Who ended the link. */
  endedBy: "kiosk" | "token" | "";
  pieces: LinkPiece[];
  frames: LinkFrame[];
  /** SHA-256 blocks the token ran during the connection: the work a real token spends as time (the emulation does not stall for it). */
  tokenSha256: number;
}

/** A sync window as it happened: ground truth for scoring, and what was recorded on the link. */
export interface WindowRecord {
  token: number;
  round: number;
  pressedAt: number;
  session: LinkSession;
  /** The device name the kiosk could read once connected. */
  name: string;
  result: SyncResult | null;
  error: string | null;
}

/** A window seen from the air (computed from the token's timeline once the run is over). */
export interface ObservedWindow extends WindowRecord {
  opened: number;
  closed: number;
  /** Every non-null advert state while the window was open (it pauses while a central is connected). */
  adverts: AdvertState[];
  /** The last advert state before the window opened. */
  before: AdvertState | null;
  /** The first advert after the window closed under an address other than the window's: the next rotation. */
  after: AirState | null;
}

export interface ObserverWorldOptions {
  board: BoardConfig;
  /** The JS source of the board's bundle. */
  bundle: string;
  tokens: number;
  seed: number;
  /** Unix seconds at the start (after the bundle's build time, or the tokens take their clocks as lost). */
  startUnix: number;
  /** Mean count of fresh phones each token hears per scan window, one per token (default spread evenly over 0.2..4). */
  contactsPerScan?: number[];
}

/** Knuth's method: fine for the small means used here. */
function poisson(rng: Rng, mean: number): number {
  const l = Math.exp(-mean);
  let k = 0;
  for (let p = rng.next(); p > l; p *= rng.next()) k++;
  return k;
}

function bytes(rng: Rng, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => rng.int(256));
}

/**
 * The world: tokens on one scheduler, each with its own clock (a few seconds
 * off, drifting), its own secrets and its own contact rate; one kiosk that
 * holds every token's sync secret.
 */
export class ObserverWorld {
  readonly scheduler: EventScheduler;
  readonly tokens: EspruinoToken[] = [];
  readonly secrets: EnrolledSecret[] = [];
  readonly contactsPerScan: number[];
  private readonly radios: ObservedRadio[] = [];
  private readonly rng: Rng;
  private readonly startTrue: number;

  constructor(private readonly o: ObserverWorldOptions) {
    this.rng = new Rng(o.seed);
    this.startTrue = 1000;
    this.scheduler = new EventScheduler(this.startTrue);
    this.contactsPerScan = o.contactsPerScan ?? Array.from({ length: o.tokens }, (_, i) => 0.2 + (3.8 * i) / Math.max(1, o.tokens - 1));
    // One care home: the home key is shared, everything else is the token's own.
    const homeKey = bytes(this.rng, 32);
    for (let i = 0; i < o.tokens; i++) {
      const radio = new ObservedRadio(this.scheduler, () => this.hearPhones(i));
      const token = createEmulatedToken({
        id: `t${i}`,
        board: o.board,
        bundle: o.bundle,
        scheduler: this.scheduler,
        clock: new DriftingClock({
          driftPpm: this.rng.uniform(-30, 30),
          startTrue: this.startTrue,
          startLocal: o.startUnix - this.rng.int(30)
        }),
        radio,
        seed: mixSeed(o.seed, i)
      });
      const secret = { tokenId: bytes(this.rng, 16), syncSecret: bytes(this.rng, 32), archiveSecret: bytes(this.rng, 32), homeKey };
      token.storage.write(SECRETS_FILE, encodeSecrets(secret));
      this.secrets.push({ tokenId: Buffer.from(secret.tokenId).toString("hex"), syncSecret: secret.syncSecret });
      this.tokens.push(token);
      this.radios.push(radio);
    }
    for (let i = 0; i < o.tokens; i++) {
      this.tokens[i].boot();
      this.tapName(i);
    }
  }

  /** The kiosk's clock (exact): Unix seconds. */
  hostNow = (): number => Math.floor(this.o.startUnix + this.scheduler.now - this.startTrue);

  /** Let simulated time pass (no link may be up). */
  run(seconds: number): void {
    this.scheduler.runUntil(this.scheduler.now + seconds);
  }

  /** What token `i` has on the air now. */
  advert(i: number): AdvertState | null {
    const t = this.radios[i].timeline;
    return t.length ? t[t.length - 1].state : null;
  }

  /** Every advert state token `i` reported, from power-on. */
  timeline(i: number): AirState[] {
    return this.radios[i].timeline;
  }

  /** A long press on token `i`; throws unless its sync window is then open. */
  openWindow(i: number): number {
    const at = this.scheduler.now;
    this.tokens[i].pressButton(PRESS_MS);
    this.run(PRESS_MS / 1000 + 0.5);
    if (!this.advert(i)?.connectable) throw new Error(`token ${i}: no sync window after a long press`);
    return at;
  }

  /** Connect to token `i` with the link tapped: what goes over `link` is recorded in `session`. */
  connect(i: number): { raw: SimSyncLink; link: SyncLink; session: LinkSession } {
    const token = this.tokens[i];
    const raw = SimSyncLink.connect(token, { scheduler: this.scheduler, centralAddress: KIOSK_ADDRESS });
    const session: LinkSession = {
      connectedAt: this.scheduler.now,
      endedAt: 0,
      endedBy: "",
      pieces: [],
      frames: [],
      tokenSha256: 0
    };
    const sha0 = token.counters.sha256Calls;
    const readers = { kiosk: createReader(FRAME_MAX - 1), token: createReader(FRAME_MAX - 1) };
    const heard = (from: "kiosk" | "token", b: Uint8Array): void => {
      const at = this.scheduler.now;
      session.pieces.push({ at, from, bytes: b.slice() });
      feed(readers[from], b, (f) => {
        session.frames.push({ at, from, bytes: f.slice() });
        return true;
      });
    };
    const end = (by: "kiosk" | "token"): void => {
      if (session.endedBy) return;
      session.endedBy = by;
      session.endedAt = this.scheduler.now;
      session.tokenSha256 = token.counters.sha256Calls - sha0;
    };
    raw.onClose(() => end("token"));
    const link: SyncLink = {
      writeBytes: raw.writeBytes,
      write: (b) => {
        // As the radio carries them: one ATT write per 20 bytes.
        for (let k = 0; k < b.length; k += raw.writeBytes) heard("kiosk", b.subarray(k, k + raw.writeBytes));
        return raw.write(b);
      },
      // Wrapped, not registered beside: the link hands notifications that came early to the first listener only.
      onData: (cb) =>
        raw.onData((b) => {
          heard("token", b);
          cb(b);
        }),
      onClose: (cb) => raw.onClose(cb),
      disconnect: () => {
        if (raw.connected) end("kiosk");
        return raw.disconnect();
      }
    };
    return { raw, link, session };
  }

  /**
   * Open token `i`'s window and let the kiosk sync it (`more` changes the
   * kiosk's options). Leaves the window to close on its own (2 minutes).
   */
  async syncWindow(i: number, round: number, outDir: (tokenId: string) => string, more: Partial<SyncOptions> = {}): Promise<WindowRecord> {
    const pressedAt = this.openWindow(i);
    return { ...(await this.syncOnce(i, outDir, more)), round, pressedAt };
  }

  /**
   * One kiosk connection to token `i`, whose window must be open: a sync, or
   * with other `secrets` in `more`, a kiosk that fails to identify it.
   */
  async syncOnce(i: number, outDir: (tokenId: string) => string, more: Partial<SyncOptions> = {}): Promise<WindowRecord> {
    const at = this.scheduler.now;
    const { raw, link, session } = this.connect(i);
    const name = this.radios[i].name ?? "(the stack's default)";
    let result: SyncResult | null = null;
    let error: string | null = null;
    try {
      result = await syncToken(link, {
        secrets: this.secrets,
        outDir,
        now: this.hostNow,
        timer: raw.timer,
        setTime: true,
        random: (n) => bytes(this.rng, n),
        ...more
      });
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    if (!session.endedBy) throw new Error(`token ${i}: the link is still up after the sync`);
    return { token: i, round: -1, pressedAt: at, session, name, result, error };
  }

  /**
   * A central without the token's secret that goes on anyway: HELLO, then an
   * AUTH of random bytes, and it listens until the token ends the link (it
   * answers FAIL). The window must be open.
   */
  async bogusAuth(i: number): Promise<LinkSession> {
    const { raw, link, session } = this.connect(i);
    const wire = new FrameWire(link, raw.timer);
    const closed = new Promise<void>((resolve) => link.onClose(() => resolve()));
    const silent = (): Error => new Error(`token ${i} did not answer within 10 simulated seconds`);
    await wire.send(centralHello(bytes(this.rng, 16)));
    await wire.next(10_000, silent);
    const auth = new Uint8Array(1 + AUTH_BYTES);
    auth.set(bytes(this.rng, AUTH_BYTES), 1);
    auth[0] = AUTH_BYTES;
    auth[1] = MSG_AUTH;
    await wire.send(auth);
    await wire.next(10_000, silent);
    await closed;
    wire.close();
    return session;
  }

  /** The window of `r` as the air shows it (call once the run went on past the window's next rotation). */
  view(r: WindowRecord): ObservedWindow {
    const t = this.radios[r.token].timeline;
    const o = t.findIndex((s) => s.at >= r.pressedAt && s.state?.connectable === true);
    if (o < 0) throw new Error(`token ${r.token}: no connectable advert after the press at ${r.pressedAt}`);
    let c = o + 1;
    // Nothing on the air while the kiosk is connected is the pause, not the end; a closed window is non-connectable (or off the air).
    while (c < t.length && !(t[c].state ? !t[c].state!.connectable : t[c].at > r.session.endedAt)) c++;
    if (c === t.length) throw new Error(`token ${r.token}: the window opened at ${t[o].at} never closed`);
    const adverts = t.slice(o, c).flatMap((s) => (s.state ? [s.state] : []));
    const address = adverts[0].address;
    let a = c;
    while (a < t.length && !(t[a].state && t[a].state!.address !== address)) a++;
    return {
      ...r,
      opened: t[o].at,
      closed: t[c].at,
      adverts,
      before: o > 0 ? t[o - 1].state : null,
      after: a < t.length ? t[a] : null
    };
  }

  /** The factory address of token `i`: what Espruino advertised at power-on, before the firmware ran. */
  factoryAddress(i: number): string {
    const first = this.radios[i].timeline.find((s) => s.state !== null);
    return first ? first.state!.address : "";
  }

  /**
   * The emulation keeps the stack's device name inside the token; a real
   * central reads it over the air once connected. Watch the name every
   * `NRF.setAdvertising` gives the stack (the firmware calls it for every
   * advert, the window's included).
   */
  private tapName(i: number): void {
    const nrf = this.tokens[i].evaluate("NRF") as Record<string, unknown>;
    const set = nrf.setAdvertising as (data: unknown, options?: unknown) => void;
    const radio = this.radios[i];
    nrf.setAdvertising = (data: unknown, options?: unknown): void => {
      const name = options !== null && typeof options === "object" ? (options as { name?: unknown }).name : undefined;
      set(data, options);
      if (typeof name === "string") radio.name = name;
    };
  }

  /** Each scan window of token `i` hears a few phones it never heard before (fresh RPIs), each three times. */
  private hearPhones(i: number): void {
    const n = poisson(this.rng, this.contactsPerScan[i]);
    const radio = this.radios[i];
    for (let k = 0; k < n; k++) {
      const packet = buildAdvert(bytes(this.rng, 16), bytes(this.rng, 4));
      const address = `d${this.rng.int(4)}:${Array.from(bytes(this.rng, 5), (b) => b.toString(16).padStart(2, "0")).join(":")} random`;
      const rssi = -50 - this.rng.int(15);
      for (let j = 0; j < 3; j++)
        // Never from inside the call that started the scan: on the queue, inside the 2 s window.
        this.scheduler.at(this.scheduler.now + 0.1 + 0.4 * j + 0.01 * k, () => {
          if (radio.scanOn) this.tokens[i].deliver({ address, rssi, packet });
        });
    }
  }
}

function mixSeed(seed: number, i: number): number {
  return (Math.imul(seed ^ 0x5bd1e995, 31) + i * 0x9e3779b9) >>> 0;
}

// ---- what the observer can compute from the air

/** Bytes of a LOG_CHUNK frame that are not log data: LEN, type, seg (4), off (2), flags, tag (8). */
export const CHUNK_OVERHEAD = 17;

export type FeatureKind = "fresh" | "constant" | "log size";

/** Something the observer reads off a window: the values it takes there (a window may show several, e.g. one per frame). */
export interface Feature {
  name: string;
  kind: FeatureKind;
  values(w: ObservedWindow): string[];
}

export interface FeatureStats {
  name: string;
  kind: FeatureKind;
  windows: number;
  distinct: number;
  /** Values seen in more than one window. */
  repeated: number;
  /** Pairs of windows of one token sharing a value, out of all such pairs. */
  sameShared: number;
  samePairs: number;
  /** Pairs of windows of two tokens sharing a value, out of all such pairs. */
  crossShared: number;
  crossPairs: number;
  example: string;
}

/**
 * How far a feature links windows: for each pair of windows, whether they
 * share a value, counted apart for pairs of one token and pairs of two. A
 * feature that links nothing shares as often across tokens as within one
 * (constants: always; fresh values: never).
 */
export function featureStats(windows: ObservedWindow[], f: Feature): FeatureStats {
  const sets = windows.map((w) => new Set(f.values(w)));
  const count = new Map<string, number>();
  for (const s of sets) for (const v of s) count.set(v, (count.get(v) ?? 0) + 1);
  let sameShared = 0;
  let samePairs = 0;
  let crossShared = 0;
  let crossPairs = 0;
  for (let a = 0; a < windows.length; a++)
    for (let b = a + 1; b < windows.length; b++) {
      let shared = false;
      for (const v of sets[a])
        if (sets[b].has(v)) {
          shared = true;
          break;
        }
      if (windows[a].token === windows[b].token) {
        samePairs++;
        if (shared) sameShared++;
      } else {
        crossPairs++;
        if (shared) crossShared++;
      }
    }
  const first = sets.find((s) => s.size > 0);
  return {
    name: f.name,
    kind: f.kind,
    windows: windows.length,
    distinct: count.size,
    repeated: [...count.values()].filter((n) => n > 1).length,
    sameShared,
    samePairs,
    crossShared,
    crossPairs,
    example: first ? [...first][0] : ""
  };
}

/**
 * Linking by a number (e.g. log bytes read): each window's nearest other
 * window by that number, ties shared; the mean share of nearest neighbours
 * that are the same token. Guessing does (windows per token − 1)/(windows − 1).
 */
export function nearestNeighbourLinks(windows: ObservedWindow[], value: (w: ObservedWindow) => number): number {
  let sum = 0;
  for (const w of windows) {
    let best = Infinity;
    let same = 0;
    let n = 0;
    for (const x of windows) {
      if (x === w) continue;
      const d = Math.abs(value(x) - value(w));
      if (d < best) {
        best = d;
        same = 0;
        n = 0;
      }
      if (d === best) {
        n++;
        if (x.token === w.token) same++;
      }
    }
    sum += same / n;
  }
  return sum / windows.length;
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** The frames of a window's session, by who sent them. */
export function framesFrom(w: { session: LinkSession }, from: "kiosk" | "token"): Uint8Array[] {
  return w.session.frames.filter((f) => f.from === from).map((f) => f.bytes);
}

/** Log bytes the kiosk read in a window, as the observer computes them from LOG_CHUNK lengths (the token's frames between TIME_DONE and LOG_ACKED). */
export function logBytesSeen(w: { session: LinkSession }): number {
  return chunkFrames(w).reduce((a, f) => a + f.length - CHUNK_OVERHEAD, 0);
}

/** The token's LOG_CHUNK frames: after PROVE, INFO and TIME_DONE, before LOG_ACKED (the kiosk's order, the same every session). */
export function chunkFrames(w: { session: LinkSession }): Uint8Array[] {
  return framesFrom(w, "token").slice(3, -1);
}
