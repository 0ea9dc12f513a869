import * as fs from "node:fs";
import * as path from "node:path";
import { PrivateTracerError, UserError } from "../errors";
import { writeNewFileAtomic } from "../atomic-write";
import { readTextBounded } from "../read-bounded";
import { uploadDigest } from "./auth-codes";
import { MAX_UPLOAD_BYTES, parseUpload, uploadToJson } from "./upload";

/**
 * Delivering a signed diagnosis upload (upload.ts) to the health authority:
 * into a directory its `keys publish` reads (or a folder carried to it), or
 * by HTTP POST to its `keys receive` (upload-receiver.ts).
 *
 * The wearer released the keys with one press of the token's button, and the
 * signed upload is the kiosk's only copy of them. So it is written to the
 * kiosk's outbox first and removed from there only once the target has it: a
 * delivery that fails, or a kiosk that dies mid-POST, leaves it in the outbox
 * for `kiosk send-uploads`. Sending it twice is harmless, since the receiver
 * stores an upload once (by its digest) and a directory keeps its first copy.
 *
 * A URL must be https, because an upload carries the wearer's keys and a
 * one-time code. Plain http is allowed only to this machine (a receiver
 * behind a local TLS proxy, or a test).
 *
 * The receiver answers with the SHA-256 of the upload it stored (the digest
 * `keys publish` records with the code). A 2xx without that receipt is not
 * taken as delivery: a wrong URL that answers 200 to anything must not empty
 * the outbox.
 */

/** How long one POST may take, answer included. */
export const DEFAULT_POST_TIMEOUT_MS = 30_000;
/** The most of a server's answer that is read: a receipt or a short reason, never a page. */
const ANSWER_BYTES = 4096;
/** The most of a server's reason that is quoted in a message. */
const REASON_CHARS = 200;

/** What the receiver answers to a well-formed upload: 201 "stored", or 200 "already stored". */
export interface UploadReceipt {
  /** SHA-256 (hex) of the upload as stored. */
  upload: string;
  status: "stored" | "already stored";
}

export type UploadTarget = { kind: "dir"; dir: string } | { kind: "url"; url: URL };

/** A signed upload that did not reach its target. The message says where it was kept (or why it could not be). */
export class UploadDeliveryError extends PrivateTracerError {
  readonly code = "UPLOAD_NOT_DELIVERED";
  readonly kind = "unusable";

  constructor(
    message: string,
    /** The HTTP status the target answered with; null when it did not answer (or a directory could not be written). */
    readonly status: number | null,
    /** The outbox file the upload waits in, or null if it could not be kept (the message then says what to do). */
    readonly keptIn: string | null = null
  ) {
    super(message);
  }
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

/** Whether `host` (a URL's hostname or a listen address) names this machine's loopback interface. */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host.toLowerCase());
}

/** A URL as it may appear in messages and logs: no query, which could hold a secret. */
export function shownUrl(url: URL): string {
  return url.origin + url.pathname;
}

export function targetText(t: UploadTarget): string {
  return t.kind === "dir" ? t.dir : shownUrl(t.url);
}

/**
 * `--upload-to`: a directory, or the receiver's URL. Refuses plain http to
 * any host but this machine before anything else happens, so no token is
 * asked for keys that would then cross the network in the clear.
 */
export function parseUploadTarget(spec: string): UploadTarget {
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(spec)) return { kind: "dir", dir: spec };
  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    throw new UserError(`${spec} is not a valid URL; give a directory or an https:// URL`);
  }
  // fetch refuses such URLs itself, and a password would end up in every message naming the URL.
  if (url.username || url.password) throw new UserError(`give the upload URL without a user name or password (${shownUrl(url)})`);
  if (url.protocol === "https:") return { kind: "url", url };
  if (url.protocol === "http:") {
    if (isLoopbackHost(url.hostname)) return { kind: "url", url };
    throw new UserError(
      `refusing to send uploads to ${shownUrl(url)} over plain http: an upload carries the wearer's keys and a one-time code. ` +
        "Use an https:// URL (plain http is allowed only to 127.0.0.1, localhost or ::1)"
    );
  }
  throw new UserError(`${shownUrl(url)}: an upload goes to a directory or an https:// URL, not a ${url.protocol.replace(/:$/, "")} URL`);
}

/** What is wrong with a target that can be checked before a token is asked for anything, or null. */
export function uploadTargetProblem(t: UploadTarget): string | null {
  if (t.kind === "url") return null;
  let st: fs.Stats;
  try {
    st = fs.statSync(t.dir);
  } catch {
    return `the upload directory ${t.dir} does not exist`;
  }
  return st.isDirectory() ? null : `the upload directory ${t.dir} is not a directory`;
}

/** Makes the outbox (mode 0700) if needed; what is wrong with it, or null. */
export function outboxProblem(dir: string): string | null {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!fs.statSync(dir).isDirectory()) return `the outbox ${dir} is not a directory`;
    fs.accessSync(dir, fs.constants.W_OK);
    return null;
  } catch (e) {
    return `the outbox ${dir}, where an upload waits until it is delivered, cannot be used: ${(e as Error).message}`;
  }
}

/** Server text fit for one line of a message: no control characters (a terminal would obey them), and short. */
function clean(s: string): string {
  const chars = Array.from(s, (c) => {
    const n = c.codePointAt(0) ?? 0;
    return n < 0x20 || (n >= 0x7f && n < 0xa0) ? " " : c;
  });
  const one = Array.from(chars.join("").replace(/\s+/g, " ").trim());
  return one.length > REASON_CHARS ? one.slice(0, REASON_CHARS).join("") + "…" : one.join("");
}

/** The reason in an error answer: the receiver's {"error": …} (or fastify's {"message": …}), else the text itself. */
function reasonOf(text: string): string {
  try {
    const doc: unknown = JSON.parse(text);
    if (typeof doc === "object" && doc !== null) {
      const r = (doc as Record<string, unknown>).error ?? (doc as Record<string, unknown>).message;
      if (typeof r === "string") return clean(r);
    }
  } catch {
    // Not JSON: a proxy's page or plain text.
  }
  return clean(text);
}

function networkReason(e: unknown, timeoutMs: number): string {
  if (e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError"))
    return `no answer within ${Math.round(timeoutMs / 1000)} s`;
  // fetch says only "fetch failed"; what happened (refused, DNS, certificate) is in its cause.
  const cause = e instanceof Error ? (e as Error & { cause?: unknown }).cause : undefined;
  if (cause instanceof Error) return clean(cause.message || String((cause as NodeJS.ErrnoException).code ?? cause.name));
  return clean(e instanceof Error ? e.message : String(e));
}

/** The start of an answer's body, at most `limit` bytes: the rest is neither waited for nor kept. */
async function readShort(res: Response, limit: number): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    while (n < limit) {
      const r = await reader.read();
      if (r.done) break;
      chunks.push(Buffer.from(r.value));
      n += r.value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, limit).toString("utf8");
}

function receiptOf(text: string): UploadReceipt | null {
  try {
    const doc: unknown = JSON.parse(text);
    if (typeof doc !== "object" || doc === null) return null;
    const { upload, status } = doc as Record<string, unknown>;
    if (typeof upload !== "string" || (status !== "stored" && status !== "already stored")) return null;
    return { upload, status };
  } catch {
    return null;
  }
}

/** POSTs `json` to the receiver; resolves once it holds the upload (its receipt names this upload's digest). */
async function postUpload(url: URL, json: string, timeoutMs: number): Promise<{ duplicate: boolean }> {
  const where = shownUrl(url);
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: json,
      // Never followed: a redirect could lead to another host, or to plain http.
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs)
    });
  } catch (e) {
    throw new UploadDeliveryError(`cannot reach ${where}: ${networkReason(e, timeoutMs)}`, null);
  }
  try {
    text = await readShort(res, ANSWER_BYTES);
  } catch (e) {
    // Stored or not, nobody can tell: kept, and sent again later (the receiver keeps one copy).
    throw new UploadDeliveryError(`${where} answered ${res.status}, then the answer broke off: ${networkReason(e, timeoutMs)}`, null);
  }
  if (res.status < 200 || res.status > 299) {
    const location = res.headers.get("location");
    const redirect =
      res.status >= 300 && res.status < 400
        ? `; redirects are not followed: give the URL it points to${location ? ` (${clean(location)})` : ""}`
        : "";
    const reason = reasonOf(text);
    throw new UploadDeliveryError(
      `${where} answered ${res.status}${res.statusText ? ` ${clean(res.statusText)}` : ""}${reason ? `: ${reason}` : ""}${redirect}`,
      res.status
    );
  }
  const receipt = receiptOf(text);
  if (!receipt || receipt.upload !== uploadDigest(json))
    throw new UploadDeliveryError(
      `${where} answered ${res.status} without this upload's receipt, so it may not hold it: ` +
        `is this the health authority's receiver (privatetracer keys receive, path /uploads)?`,
      res.status
    );
  return { duplicate: receipt.status === "already stored" };
}

function errnoCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException).code;
}

/** Where a delivered upload went. */
export interface Delivered {
  via: "dir" | "url";
  /** The file written in the target directory, or the URL it was posted to. */
  to: string;
  /** The target had it already: a retry after an answer that was lost. */
  duplicate: boolean;
}

async function sendTo(target: UploadTarget, name: string, json: string, timeoutMs: number): Promise<Delivered> {
  if (target.kind === "url") return { via: "url", to: shownUrl(target.url), ...(await postUpload(target.url, json, timeoutMs)) };
  const file = path.join(target.dir, name);
  try {
    writeNewFileAtomic(file, Buffer.from(json), 0o600);
    return { via: "dir", to: file, duplicate: false };
  } catch (e) {
    if (errnoCode(e) === "EEXIST" && sameText(file, json)) return { via: "dir", to: file, duplicate: true };
    const why = errnoCode(e) === "EEXIST" ? "another file of that name is there" : (e as Error).message;
    throw new UploadDeliveryError(`cannot write ${file}: ${why}`, null);
  }
}

function sameText(file: string, json: string): boolean {
  try {
    return readTextBounded(file, MAX_UPLOAD_BYTES, { noFollow: true, regularOnly: true }) === json;
  } catch {
    return false;
  }
}

export interface DeliverOptions {
  target: UploadTarget;
  /** Where the upload waits until the target has it (the kiosk's outbox/). */
  outboxDir: string;
  /** Its file name in the outbox, and in a target directory. */
  name: string;
  /** The upload as uploadToJson wrote it. */
  json: string;
  timeoutMs?: number;
}

/**
 * Keeps the upload in the outbox, sends it, and removes it from the outbox
 * once the target has it. A delivery that fails throws an
 * UploadDeliveryError naming the outbox file it waits in (`keptIn`), or
 * saying that it could be neither delivered nor kept.
 */
export async function deliverUpload(o: DeliverOptions): Promise<{ delivered: Delivered; warning: string | null }> {
  const kept = path.join(o.outboxDir, o.name);
  let keepProblem = outboxProblem(o.outboxDir);
  if (!keepProblem)
    try {
      writeNewFileAtomic(kept, Buffer.from(o.json), 0o600);
    } catch (e) {
      keepProblem = `cannot write ${kept}: ${(e as Error).message}`;
    }
  try {
    const delivered = await sendTo(o.target, o.name, o.json, o.timeoutMs ?? DEFAULT_POST_TIMEOUT_MS);
    return { delivered, warning: keepProblem ? null : removeSent(kept) };
  } catch (e) {
    if (!(e instanceof UploadDeliveryError)) throw e;
    if (!keepProblem)
      throw new UploadDeliveryError(
        `${e.message}. The signed upload is kept in ${kept}: nothing is lost, and the wearer need not press again`,
        e.status,
        kept
      );
    throw new UploadDeliveryError(
      `${e.message}; and the upload could not be kept either (${keepProblem}). Nothing was uploaded: ` +
        "the wearer's keys are still on their token and the code is unused, so the diagnosis can be done again once this is fixed",
      e.status
    );
  }
}

/** Removes a delivered upload from the outbox; a warning if it cannot be (sending it again later is harmless). */
function removeSent(file: string): string | null {
  try {
    fs.rmSync(file, { force: true });
    return null;
  } catch (e) {
    return `delivered, but ${file} could not be removed from the outbox (${(e as Error).message}); sending it again later is harmless`;
  }
}

export interface OutboxReport {
  sent: Array<{ file: string } & Delivered>;
  /** Left in the outbox, with why. */
  failed: Array<{ file: string; reason: string }>;
  /** Left in the outbox untried: the target did not answer for an earlier one. */
  untried: string[];
  warnings: string[];
}

/**
 * Sends every upload in the outbox to `target`, oldest name first, removing
 * each that arrives. A target that does not answer (or a directory that
 * cannot be written) stops the run: the rest would only wait for it too.
 */
export async function sendOutbox(outboxDir: string, target: UploadTarget, opts: { timeoutMs?: number } = {}): Promise<OutboxReport> {
  const report: OutboxReport = { sent: [], failed: [], untried: [], warnings: [] };
  let names: string[];
  try {
    // Only whole uploads: a write in progress is a .tmp file until it is complete.
    names = fs
      .readdirSync(outboxDir)
      .filter((n) => n.endsWith(".json"))
      .sort();
  } catch (e) {
    if (errnoCode(e) === "ENOENT") return report;
    throw new UserError(`cannot read the outbox ${outboxDir}: ${(e as Error).message}`);
  }
  for (let i = 0; i < names.length; i++) {
    const file = path.join(outboxDir, names[i]);
    let json: string;
    try {
      // Sent as it will be stored (the receiver stores this same form), so the receipt's digest matches.
      json = uploadToJson(
        parseUpload(readTextBounded(file, MAX_UPLOAD_BYTES, { noFollow: true, regularOnly: true, what: "an upload" }), file)
      );
    } catch (e) {
      report.failed.push({ file, reason: (e as Error).message });
      continue;
    }
    try {
      const d = await sendTo(target, names[i], json, opts.timeoutMs ?? DEFAULT_POST_TIMEOUT_MS);
      report.sent.push({ file, ...d });
      const w = removeSent(file);
      if (w) report.warnings.push(w);
    } catch (e) {
      if (!(e instanceof UploadDeliveryError)) throw e;
      report.failed.push({ file, reason: e.message });
      if (e.status === null) {
        report.untried = names.slice(i + 1).map((n) => path.join(outboxDir, n));
        break;
      }
    }
  }
  return report;
}
