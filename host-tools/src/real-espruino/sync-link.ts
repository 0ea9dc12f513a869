import { ConnectFailedError, LinkLostError } from "../ble/errors";
import type { SyncLink } from "../ble/transport";
import { RealToken, TokenEvent } from "./token-session";

/**
 * A central's link to a token running on its board's real interpreter
 * (token-session.ts), as the sync client sees any radio: a SyncLink.
 *
 * How bytes get in. The firmware forces Espruino's console off Bluetooth at
 * boot; on the interpreter the stand-in `E.setConsole` records that call
 * instead of making it, so the console stays on the interpreter's standard
 * input, where nothing but this harness types. Each ATT write of the central
 * is typed there as one line, `__h.rx("\x12\x01…")`: the escapes make an
 * 8-bit string in the interpreter, the type Espruino hands to
 * `Bluetooth.on('data')`, without putting a raw byte on the console. The
 * stand-ins queue it and deliver it from a timer, after the typed line has
 * returned (stand-ins.js, "The sync link"), so the firmware's `data` listener
 * runs as it would from Espruino's idle loop. The console is the harness's
 * channel only: the firmware never reads it, and the bytes never run as
 * JavaScript in the firmware's sense.
 *
 * How bytes get out. The stand-in `Bluetooth.write` prints each frame the
 * firmware writes as a "linkTx" event (hex); here it is cut into
 * notifications of at most `writeBytes`, as Espruino sends them at the
 * default ATT MTU. "linkDown" ends the link; `NRF.disconnect()` on the token
 * produces it once the firmware's call has returned.
 *
 * Time is real: the interpreter runs at time scale 1 while a central is
 * connected (the firmware's 20 s idle limit is 20 s of this host's time).
 */

/** An ATT write at the default MTU of 23, and a notification's payload at it (docs/simulator-espruino.md). */
export const REAL_ATT_BYTES = 20;
/** The address the token's NRF.on('connect') gets by default. */
export const REAL_CENTRAL_ADDRESS = "c0:ff:ee:00:00:02 public";

/** How often the link looks again whether the interpreter is still there while nothing arrives. */
const POLL_MS = 500;

/** One link-down event of the stand-ins. */
interface LinkDown {
  reason: number;
  by: "token" | "central";
}

/** An 8-bit string literal for Espruino's console: printable ASCII only, every byte escaped. */
function literal(bytes: Uint8Array): string {
  let s = '"';
  for (const b of bytes) s += `\\x${b.toString(16).padStart(2, "0")}`;
  return s + '"';
}

function reasonText(d: LinkDown): string {
  if (d.reason === 8) return "the connection timed out: the token went out of range, lost power or was reset";
  return d.by === "token"
    ? `the token ended the link (reason ${d.reason}): it closed its sync window, or refused the session`
    : `this central ended the link (reason ${d.reason})`;
}

export class RealSyncLink implements SyncLink {
  readonly writeBytes = REAL_ATT_BYTES;
  /** Notifications delivered, bytes written and read on this link. */
  notifications = 0;
  bytesWritten = 0;
  bytesRead = 0;
  /** How the link ended, once it has. */
  ended: LinkDown | null = null;
  private up = true;
  private byUs = false;
  private reason: string | undefined;
  private readonly dataCbs: Array<(bytes: Uint8Array) => void> = [];
  private readonly closeCbs: Array<(reason: string) => void> = [];
  private readonly early: Uint8Array[] = [];
  private readonly down: Promise<void>;
  private markDown: () => void = () => undefined;

  private constructor(
    private readonly token: RealToken,
    private from: number
  ) {
    this.down = new Promise((resolve) => (this.markDown = resolve));
    void this.pump();
  }

  /**
   * Connect to `token` now. Throws ConnectFailedError when it takes no
   * connection (no connectable advertising on the air: its sync window is
   * closed; or another central is connected). The stand-ins sample memory
   * under `phase` (default "sync") while this link is up.
   */
  static async connect(token: RealToken, o: { address?: string; timeoutMs?: number; phase?: string } = {}): Promise<RealSyncLink> {
    const from = token.events.length;
    token.send(`__h.connect(${JSON.stringify(o.address ?? REAL_CENTRAL_ADDRESS)}, ${JSON.stringify(o.phase ?? "sync")})`);
    const e = await token.waitFor((x) => x.type === "linkUp" || x.type === "linkRefused", o.timeoutMs ?? 10000, from);
    if (e.type === "linkRefused")
      throw new ConnectFailedError(
        `The token takes no connection now (${JSON.stringify(e.value)}): its sync window is closed, or another central is connected; open its sync window (hold its button for 2 seconds) and try again.`
      );
    return new RealSyncLink(token, e.index + 1);
  }

  write(bytes: Uint8Array): Promise<void> {
    if (!this.up) return Promise.reject(this.downError());
    // One console line per ATT write: the token hears each as it arrives.
    for (let at = 0; at < bytes.length; at += REAL_ATT_BYTES)
      this.token.send(`__h.rx(${literal(bytes.subarray(at, at + REAL_ATT_BYTES))})`);
    this.bytesWritten += bytes.length;
    return Promise.resolve();
  }

  onData(cb: (bytes: Uint8Array) => void): void {
    this.dataCbs.push(cb);
    for (const b of this.early.splice(0)) cb(b);
  }

  onClose(cb: (reason: string) => void): void {
    this.closeCbs.push(cb);
    const reason = this.reason;
    if (!this.up && !this.byUs && reason !== undefined) queueMicrotask(() => cb(reason));
  }

  /** Ends the link from the central's side; resolves once the token's disconnect event ran (or at once if it is down). */
  async disconnect(): Promise<void> {
    if (this.up) {
      this.up = false;
      this.byUs = true;
      this.reason = "disconnected by this central";
      this.token.send("__h.linkEnd(19)");
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.down, new Promise<void>((resolve) => (timer = setTimeout(resolve, 10000)))]);
    clearTimeout(timer);
  }

  get connected(): boolean {
    return this.up;
  }

  /** Hands the token's link events to the client in order, until the link is down. */
  private async pump(): Promise<void> {
    for (;;) {
      let e: TokenEvent;
      try {
        e = await this.token.waitFor((x) => x.type === "linkTx" || x.type === "linkDown", POLL_MS, this.from);
      } catch (err) {
        // Nothing within POLL_MS: look again, unless the interpreter is gone (a token that reset or lost power).
        if (err instanceof Error && err.message.startsWith("the interpreter ended")) {
          this.end({ reason: 8, by: "token" });
          return;
        }
        continue;
      }
      this.from = e.index + 1;
      if (e.type === "linkDown") {
        this.end(e.value as LinkDown);
        return;
      }
      const bytes = new Uint8Array(Buffer.from(e.value as string, "hex"));
      this.bytesRead += bytes.length;
      for (let at = 0; at < bytes.length; at += REAL_ATT_BYTES) this.deliver(bytes.subarray(at, at + REAL_ATT_BYTES));
    }
  }

  private deliver(bytes: Uint8Array): void {
    // Once this side asked to end the link the client listens no more.
    if (this.byUs) return;
    this.notifications++;
    if (this.dataCbs.length === 0) this.early.push(bytes);
    else for (const cb of this.dataCbs) cb(bytes);
  }

  private end(d: LinkDown): void {
    this.ended = d;
    this.markDown();
    if (this.byUs) return;
    this.up = false;
    this.reason = reasonText(d);
    for (const cb of this.closeCbs) cb(this.reason);
  }

  private downError(): LinkLostError {
    return new LinkLostError(
      `The link to the token on the interpreter is down (${this.reason ?? "not connected"}); open its sync window (hold its button for 2 seconds) and connect again.`
    );
  }
}
