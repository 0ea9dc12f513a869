/**
 * A kiosk's round: find the tokens in a sync window nearby, and sync each one
 * (or only the one asked for) into its own copy directory. What `privatetracer
 * sync` runs; a kiosk service can run the same.
 *
 * A scan cannot tell which token is which, nor a token from a phone (both
 * advertise 0xFD6F, and a token's address rotates): only the handshake says,
 * against every enrolled secret. So every candidate is connected to, strongest
 * first; one that takes no connection or has no sync service is not a token
 * in its window (ConnectFailedError), and the next is tried.
 *
 * Syncing one token while others are in range: all enrolled secrets are
 * offered, so another enrolled token that answers authenticates (its count of
 * failed handshakes, which would make it back off, goes back to 0) and is
 * then left at once, before anything is read or changed on it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { PrivateTracerError, UserError } from "../errors";
import { BluezUnavailableError, ConnectFailedError, NoAdapterError } from "../ble/errors";
import type { FoundToken, SyncLink, Transport } from "../ble/transport";
import type { Enrolment } from "../provision/store";
import { EnrolledSecret, SyncProgress, SyncResult, syncToken } from "./client";
import { AuthFailedError } from "./errors";
import { STATE_FILE } from "./log-copy";
import type { SyncTimer } from "./wire";

export interface NearbyOptions {
  transport: Transport;
  /** Every enrolled token: any of them may answer. */
  enrolments: Enrolment[];
  /** Sync only this token (its id, hex); other enrolled tokens that answer are left alone. Absent: every token found. */
  only?: string;
  /** Each token's copy goes in a directory of its own under this one (copyDirFor). */
  outRoot: string;
  /** Set each token's clock to the host's. */
  setTime?: boolean;
  /** How long to listen for tokens in a sync window. */
  scanMs: number;
  /** How long a connection may take (service discovery and subscribing included). */
  connectTimeoutMs: number;
  /** The host's clock for the client (default the client's own). */
  now?: () => number;
  /** The client's timer for a link (a simulated link brings its own). */
  timerOf?: (link: SyncLink) => SyncTimer | undefined;
  onEvent?: (e: NearbyEvent) => void;
}

/** A token that synced. */
export interface SyncedToken {
  address: string;
  label: string;
  result: SyncResult;
}

/** A token (or what may have been one) that was reached but did not sync: the error says why and what was kept. */
export interface FailedToken {
  address: string;
  /** The enrolled token that answered, or null when the handshake never said (it failed, or the link went first). */
  tokenId: string | null;
  label: string | null;
  error: PrivateTracerError;
}

/** A device heard in a sync window that was left alone: not a token (a phone), gone, or another token than the one asked for. */
export interface SkippedDevice {
  address: string;
  /** The enrolled token it turned out to be, when it was one (only with `only`). */
  tokenId: string | null;
  reason: string;
}

export type NearbyEvent =
  | { kind: "scanning"; ms: number }
  | { kind: "found"; found: FoundToken[] }
  | { kind: "connecting"; address: string }
  | { kind: "progress"; address: string; progress: SyncProgress }
  | { kind: "synced"; token: SyncedToken }
  | { kind: "failed"; token: FailedToken }
  | { kind: "skipped"; device: SkippedDevice };

export interface NearbyReport {
  found: FoundToken[];
  synced: SyncedToken[];
  failed: FailedToken[];
  skipped: SkippedDevice[];
}

/** Thrown from outDir to leave a token that is not the one asked for, before anything is read from it. */
class NotWanted extends Error {
  constructor(readonly tokenId: string) {
    super("not the token asked for");
  }
}

/** A label as a directory name: what a file system takes on every platform, or "" if nothing of it is left. */
function safeName(label: string): string {
  return [...label.normalize("NFC")]
    .map((c) => (c.charCodeAt(0) < 0x20 ? "-" : c))
    .join("")
    .replace(/[\\/:*?"<>|]/g, "-")
    .replace(/\s+/g, " ")
    .trim()
    .replace(/^\.+/, "")
    .replace(/^(.{64}).*$/u, "$1")
    .trim();
}

/** The token id a sync copy in `dir` belongs to, or null when there is none (or it cannot be read: LogCopy says why, later). */
function copyOwner(dir: string): string | null {
  try {
    const v = JSON.parse(fs.readFileSync(path.join(dir, STATE_FILE), "utf8")) as { tokenId?: unknown };
    return typeof v.tokenId === "string" ? v.tokenId : null;
  } catch {
    return null;
  }
}

/**
 * Where token `e`'s copy lives under `root`: a directory named by its label,
 * which staff recognise (room 12), when no other enrolment has the same one;
 * else by its token id. A directory already holding this token's copy keeps
 * being used, so a label another token takes later does not move the copy
 * (which would start the dump again from the start).
 */
export function copyDirFor(root: string, e: Enrolment, all: Enrolment[]): string {
  const byLabel = safeName(e.label);
  const labelDir = byLabel ? path.join(root, byLabel) : "";
  if (labelDir && copyOwner(labelDir) === e.tokenId) return labelDir;
  const idDir = path.join(root, e.tokenId);
  if (fs.existsSync(idDir)) return idDir;
  const key = (s: string): string => safeName(s).toLowerCase();
  const unique = byLabel && all.filter((o) => key(o.label) === key(e.label)).length === 1 && byLabel.toLowerCase() !== e.tokenId;
  if (unique && !(fs.existsSync(labelDir) && copyOwner(labelDir) !== null)) return labelDir;
  return idDir;
}

/** Environment failures: every other token would meet them too, so the round stops. */
function fatal(e: unknown): boolean {
  return !(e instanceof PrivateTracerError) || e instanceof NoAdapterError || e instanceof BluezUnavailableError;
}

/**
 * Scans, then syncs the tokens found (see the file comment). Per-token
 * failures are in the report; the round stops only for what would stop every
 * token (no adapter, BlueZ gone) or a bug. With `only`, it stops at that
 * token, and a round that did not sync it throws (wantedNotSynced).
 */
export async function syncNearby(o: NearbyOptions): Promise<NearbyReport> {
  const emit = o.onEvent ?? (() => undefined);
  const report: NearbyReport = { found: [], synced: [], failed: [], skipped: [] };
  const secrets: EnrolledSecret[] = o.enrolments.map((e) => ({ tokenId: e.tokenId, syncSecret: Buffer.from(e.syncSecret, "hex") }));
  const labelOf = (id: string): string => o.enrolments.find((e) => e.tokenId === id)?.label ?? "";
  const skip = (device: SkippedDevice): void => {
    report.skipped.push(device);
    emit({ kind: "skipped", device });
  };

  emit({ kind: "scanning", ms: o.scanMs });
  report.found = await o.transport.scan(o.scanMs);
  emit({ kind: "found", found: report.found });

  for (const { address } of report.found) {
    emit({ kind: "connecting", address });
    let link: SyncLink;
    try {
      link = await o.transport.connect(address, o.connectTimeoutMs);
    } catch (e) {
      if (!(e instanceof ConnectFailedError)) throw e;
      skip({ address, tokenId: null, reason: e.message });
      continue;
    }
    // Set by outDir, which the client calls once the handshake said which token answered.
    const answered: { tokenId: string | null } = { tokenId: null };
    try {
      const result = await syncToken(link, {
        secrets,
        outDir: (tokenId) => {
          answered.tokenId = tokenId;
          if (o.only !== undefined && tokenId !== o.only) throw new NotWanted(tokenId);
          const e = o.enrolments.find((x) => x.tokenId === tokenId)!;
          return copyDirFor(o.outRoot, e, o.enrolments);
        },
        setTime: o.setTime ? true : undefined,
        now: o.now,
        timer: o.timerOf?.(link),
        onProgress: (progress) => emit({ kind: "progress", address, progress })
      });
      const token = { address, label: labelOf(result.tokenId), result };
      report.synced.push(token);
      emit({ kind: "synced", token });
      if (o.only !== undefined) break;
    } catch (e) {
      if (e instanceof NotWanted) {
        const label = labelOf(e.tokenId);
        skip({ address, tokenId: e.tokenId, reason: `another enrolled token (${label || e.tokenId}), left as it was` });
        continue;
      }
      if (fatal(e)) throw e;
      const id = answered.tokenId;
      const token: FailedToken = { address, tokenId: id, label: id ? labelOf(id) : null, error: e as PrivateTracerError };
      report.failed.push(token);
      emit({ kind: "failed", token });
      // The token asked for answered and failed: it was the one, so no other is tried.
      if (o.only !== undefined && id === o.only) break;
    }
  }
  return report;
}

/**
 * Why the token asked for did not sync, as the error to stop with: its own
 * failure when it answered, else what the round met, said for that token.
 */
export function wantedNotSynced(report: NearbyReport, wanted: Enrolment): PrivateTracerError {
  const name = wanted.label ? `${wanted.label} (token ${wanted.tokenId})` : `token ${wanted.tokenId}`;
  const own = report.failed.find((f) => f.tokenId === wanted.tokenId);
  if (own) return own.error;
  const authFailed = report.failed.find((f) => f.error instanceof AuthFailedError);
  if (authFailed)
    return new AuthFailedError(
      `${name} did not sync: a token at ${authFailed.address} failed authentication (${authFailed.error.message}) — if that was ${name}, it is backing off after failed handshakes or was provisioned elsewhere; wait up to 10 minutes and sync again.`
    );
  if (report.failed.length > 0) return report.failed[0].error;
  const others = report.skipped.filter((s) => s.tokenId !== null).length;
  const heard =
    report.found.length === 0
      ? "no token has its sync window open nearby"
      : `${report.found.length} device(s) were heard${others ? `, ${others} of them other enrolled tokens` : ""}, but not this one`;
  return new ConnectFailedError(
    `${name} was not found: ${heard}. Hold its button for 2 seconds to open its sync window, bring it close to this reader and sync again.`
  );
}

/**
 * The enrolment `query` names: a token id (hex, whole or a unique start of at
 * least 6 digits) or a label (letter case ignored). Throws UserError, listing
 * what the store holds, when it names none or more than one.
 */
export function findEnrolment<E extends Pick<Enrolment, "tokenId" | "label">>(enrolments: E[], query: string, storeName: string): E {
  const q = query.trim();
  const hex = q.toLowerCase();
  const byId = /^[0-9a-f]{6,32}$/.test(hex) ? enrolments.filter((e) => e.tokenId.startsWith(hex)) : [];
  const byLabel = enrolments.filter((e) => e.label !== "" && e.label.toLowerCase() === q.toLowerCase());
  const matches = [...new Set([...byId, ...byLabel])];
  const list = (es: E[]): string => es.map((e) => (e.label ? `${e.label} (${e.tokenId})` : e.tokenId)).join(", ");
  if (matches.length === 1) return matches[0];
  if (matches.length > 1)
    throw new UserError(`"${q}" names more than one enrolled token (${list(matches)}): give the whole token id instead`);
  throw new UserError(
    `token "${q}" is not enrolled in ${storeName}, which holds ${enrolments.length ? list(enrolments) : "no tokens"}. ` +
      "Check the label or id on the token (and that this is the care home's store, --store FILE); a token that was never provisioned here needs `privatetracer provision` first."
  );
}
