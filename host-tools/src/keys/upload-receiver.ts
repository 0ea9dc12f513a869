import * as fs from "node:fs";
import * as path from "node:path";
import { fastify, FastifyError, FastifyInstance } from "fastify";
import { pathTaken, writeNewFileAtomic } from "../atomic-write";
import { uploadDigest } from "./auth-codes";
import { KeyInputError } from "./errors";
import { MAX_UPLOAD_BYTES, parseUpload, Upload, uploadToJson } from "./upload";
import { UploadReceipt } from "./upload-deliver";

/**
 * The health authority's receiving end of `kiosk diagnose --upload-to URL`
 * (`keys receive`): one route, POST /uploads, that writes each well-formed
 * upload as a new file into the uploads directory `keys publish` reads.
 *
 * It guarantees only well-formed, bounded, not-duplicated files. Kiosk
 * enrolment, signature and code are checked by `keys publish`, which holds
 * the code store; the receiver needs none of its secrets and can run where
 * the uploads directory is, and nothing else.
 *
 * An upload is stored as the receiver re-serialises it (uploadToJson of what
 * parseUpload read: nothing unsigned can ride along) under a name made of
 * that text's SHA-256, so a retried POST of the same upload finds its file
 * and is answered 200 instead of making a second one; 201 says it is new.
 * Either answer carries the digest, which is how a kiosk knows its upload
 * arrived (upload-deliver.ts) and is the digest `keys publish` records with
 * the code.
 *
 * It speaks plain HTTP; `keys receive` binds 127.0.0.1 unless told otherwise,
 * and TLS is terminated in front of it (kiosks send only to https:// URLs).
 */

export const RECEIVE_PATH = "/uploads";
/** Longest a client may take to send its request: a slow sender must not hold a connection open for ever. */
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export type ReceiverEvent =
  | { kind: "stored"; file: string; kioskId: string; keys: number; from: string }
  | { kind: "already-stored"; file: string; from: string }
  | { kind: "refused"; status: number; reason: string; from: string }
  /** The upload could not be written (the sender was told to try again later); `reason` is for the operator only. */
  | { kind: "failed"; reason: string; from: string };

export interface ReceiverOptions {
  uploadsDir: string;
  /** Hears each request's outcome, for the operator's log. */
  onEvent?: (e: ReceiverEvent) => void;
  requestTimeoutMs?: number;
}

/** The file an upload is stored in: named by its digest, so the same upload always lands on the same name. */
export function receivedFileName(digest: string): string {
  return `upload-${digest}.json`;
}

function checkUploadsDir(dir: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    throw new KeyInputError(`the uploads directory ${dir} does not exist; create it (keys publish reads it) and start again`);
  }
  if (!st.isDirectory()) throw new KeyInputError(`${dir} is not a directory; give the uploads directory keys publish reads`);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    throw new KeyInputError(`cannot write into the uploads directory ${dir}`);
  }
}

/**
 * The receiver, ready to `listen` (or `inject` in a spec). Throws a
 * KeyInputError at once if the uploads directory cannot be written.
 */
export function createUploadReceiver(o: ReceiverOptions): FastifyInstance {
  checkUploadsDir(o.uploadsDir);
  const note = (e: ReceiverEvent): void => o.onEvent?.(e);
  const app = fastify({
    logger: false,
    bodyLimit: MAX_UPLOAD_BYTES,
    requestTimeout: o.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    return503OnClosing: true
  });
  // The body is handed over as text, for parseUpload alone to read: no second JSON parser with its own idea of the input.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "string", bodyLimit: MAX_UPLOAD_BYTES }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = typeof err.statusCode === "number" && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) {
      note({ kind: "failed", reason: err.message, from: req.ip });
      return reply.code(500).send({ error: "the receiver failed; send the upload again later" });
    }
    const reason =
      status === 413
        ? `the upload is over the ${MAX_UPLOAD_BYTES}-byte limit`
        : status === 415
          ? `${err.message}; send the upload as application/json`
          : err.message;
    note({ kind: "refused", status, reason, from: req.ip });
    return reply.code(status).send({ error: reason });
  });
  app.setNotFoundHandler((req, reply) => {
    const reason = `nothing at ${req.method} ${req.url}: uploads are POSTed to ${RECEIVE_PATH}`;
    note({ kind: "refused", status: 404, reason, from: req.ip });
    return reply.code(404).send({ error: reason });
  });

  app.post(RECEIVE_PATH, async (req, reply) => {
    const from = req.ip;
    let upload: Upload;
    try {
      upload = parseUpload(typeof req.body === "string" ? req.body : "", "the upload");
    } catch (e) {
      if (!(e instanceof KeyInputError)) throw e;
      note({ kind: "refused", status: 400, reason: e.message, from });
      return reply.code(400).send({ error: e.message });
    }
    const json = uploadToJson(upload);
    const digest = uploadDigest(json);
    const name = receivedFileName(digest);
    const file = path.join(o.uploadsDir, name);
    const receipt = (status: UploadReceipt["status"]): UploadReceipt => ({ upload: digest, status });
    // Also once `keys publish` has moved it to published/ (under the same name): the kiosk's retry is answered, not stored again.
    if (pathTaken(file) || pathTaken(path.join(o.uploadsDir, "published", name))) {
      note({ kind: "already-stored", file, from });
      return reply.code(200).send(receipt("already stored"));
    }
    try {
      writeNewFileAtomic(file, Buffer.from(json), 0o600);
    } catch (e) {
      // Two copies of one upload at once: the other request wrote it.
      if ((e as NodeJS.ErrnoException).code === "EEXIST") {
        note({ kind: "already-stored", file, from });
        return reply.code(200).send(receipt("already stored"));
      }
      note({ kind: "failed", reason: `cannot write ${file}: ${(e as Error).message}`, from });
      // The sender keeps the upload and tries again; where and why it failed is the operator's business, not theirs.
      return reply.code(500).send({ error: "the upload could not be stored; send it again later" });
    }
    note({ kind: "stored", file, kioskId: upload.kioskId, keys: upload.keys.length, from });
    return reply.code(201).send(receipt("stored"));
  });
  return app;
}
