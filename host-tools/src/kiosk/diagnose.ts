import * as crypto from "node:crypto";
import { UserError } from "../errors";
import type { SyncLink, Transport } from "../ble/transport";
import { isWellFormedCode } from "../keys/auth-codes";
import type { KioskSecret } from "../keys/kiosk-identity";
import type { ExposureKey } from "../keys/types";
import { createUpload, MAX_UPLOAD_KEYS, uploadToJson, uploadableKeys } from "../keys/upload";
import { deliverUpload, outboxProblem, parseUploadTarget, uploadTargetProblem } from "../keys/upload-deliver";
import { TEK_ROLLING_PERIOD } from "../../../firmware/src/wire/gaen";
import type { SyncProgress } from "../sync/client";
import type { SyncTimer } from "../sync/wire";
import { KioskDir, outboxDirOf } from "./kiosk-dir";
import type { SyncRoundResult } from "./sync-round";
import { kioskPass } from "./kiosk-pass";
import { DiagnosisCounter } from "./statistics";

/**
 * A diagnosis at the kiosk (docs/kiosk.md, "A diagnosis"): staff enter the
 * health authority's code for a wearer; the wearer's token is synced as
 * usual and asked for its own keys, which it releases only if the wearer
 * presses its button during that session (three green blinks say it was
 * taken); the kiosk signs the keys with the code (keys/upload.ts) and puts
 * the upload where the health authority collects it: its uploads directory,
 * or its receiver's URL (keys/upload-deliver.ts). Nothing is uploaded
 * without both the code and the press. The keys exist on the kiosk only in
 * memory and in the signed upload, which holds nothing else of the wearer;
 * the upload waits in the kiosk's outbox until the target has it, so a
 * failed delivery loses nothing and needs no second press. A failed delivery
 * throws an UploadDeliveryError naming the outbox file (`keptIn`), which
 * `kiosk send-uploads` sends later.
 */

export interface DiagnoseOptions {
  kiosk: KioskDir;
  transport: Transport;
  /** The wearer's token (its id, as enrolled). */
  tokenId: string;
  /** The health authority's one-time code. */
  code: string;
  kioskKey: KioskSecret;
  /**
   * Where the upload goes: the health authority's uploads directory (or a
   * folder carried to it), or its receiver's https:// URL.
   */
  uploadTo?: string;
  /** A directory, as `uploadTo` takes one: the option's name before URLs. Give one of the two. */
  uploadDir?: string;
  /** Where the upload waits until delivered (default: the kiosk's outbox/). */
  outboxDir?: string;
  /** How long a POST may take (default 30 s). */
  deliveryTimeoutMs?: number;
  keys: readonly ExposureKey[];
  /** How long the token is looked for, and how long the wearer has to press. */
  searchMs: number;
  consentWaitMs: number;
  scanMs: number;
  connectTimeoutMs: number;
  now?: () => number;
  timerOf?: (link: SyncLink) => SyncTimer | undefined;
  onProgress?: (e: SyncProgress) => void;
  /** Between two scans that did not find the token. */
  sleep?: (ms: number) => Promise<void>;
  /** Counts the delivery in the opt-in statistics; one per kiosk process keeps a wearer's week at one (default: a new one). */
  stats?: DiagnosisCounter;
}

export type DiagnoseOutcome =
  /** Written into the upload directory, as `file`. */
  | { status: "uploaded"; file: string; keys: number; left: number; round: SyncRoundResult; warning: string | null }
  /** Posted to the receiver at `url`, which has it (`duplicate`: had it already). */
  | { status: "posted"; url: string; duplicate: boolean; keys: number; left: number; round: SyncRoundResult; warning: string | null }
  /** The wearer did not press during the session: nothing was released, nothing uploaded. */
  | { status: "no-consent"; round: SyncRoundResult }
  /** The token did not sync (its round says why), or was not found. */
  | { status: "not-synced"; round: SyncRoundResult | null; detail: string };

export async function diagnose(o: DiagnoseOptions): Promise<DiagnoseOutcome> {
  if (!isWellFormedCode(o.code))
    throw new UserError(`"${o.code}" is not a well-formed authorisation code (16 letters and digits, e.g. ABCD-EFGH-JKMN-PQRS)`);
  if ((o.uploadTo === undefined) === (o.uploadDir === undefined))
    throw new UserError("give where the upload goes, once: a directory or an https:// URL; nothing was asked of the token");
  // Every check that can fail before the press is made before it: a press must not be asked for an upload that cannot go anywhere.
  const target = parseUploadTarget((o.uploadTo ?? o.uploadDir) as string);
  if (o.uploadDir !== undefined && target.kind !== "dir")
    throw new UserError(`uploadDir takes a directory; give ${o.uploadDir} as uploadTo`);
  const outboxDir = o.outboxDir ?? outboxDirOf(o.kiosk.dir);
  const problem = uploadTargetProblem(target) ?? outboxProblem(outboxDir);
  if (problem) throw new UserError(`${problem}; nothing was asked of the token`);
  const now = o.now ?? (() => Math.floor(Date.now() / 1000));
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const until = now() + o.searchMs / 1000;
  while (now() < until) {
    // A pass as any other (every enrolled token found is synced), with the wearer's token asked for its keys.
    const report = await kioskPass({
      transport: o.transport,
      store: o.kiosk.store,
      keys: o.keys,
      workDir: o.kiosk.workDir,
      riskConfig: o.kiosk.riskConfig,
      boardDir: o.kiosk.boardDir,
      scanMs: o.scanMs,
      connectTimeoutMs: o.connectTimeoutMs,
      now,
      timerOf: o.timerOf,
      releaseTeksOf: o.tokenId,
      consentWaitMs: o.consentWaitMs,
      onEvent: (e) => void (e.kind === "progress" && o.onProgress?.(e.progress))
    });
    const round = report.rounds.map((r) => r.result).find((r) => r.tokenId === o.tokenId);
    if (round) {
      const teks = round.teks;
      if (round.outcome !== "ok" || !teks) return { status: "not-synced", round, detail: round.detail };
      if (teks.status === "no-consent") return { status: "no-consent", round };
      try {
        const released: ExposureKey[] = teks.keys.map((k) => ({
          keyData: k.tek,
          rollingStartIntervalNumber: k.rollingStart,
          rollingPeriod: TEK_ROLLING_PERIOD
        }));
        const { keys, left } = uploadableKeys(released, now());
        if (!keys.length)
          throw new UserError("the token released no key that is both expired and from the last 14 days: nothing to upload");
        const upload = createUpload(keys.slice(0, MAX_UPLOAD_KEYS), o.code, o.kioskKey, now());
        const json = uploadToJson(upload);
        // Signed with the code, the diagnosis is reported, whether it leaves now or waits in the outbox.
        (o.stats ?? new DiagnosisCounter(o.kiosk.store, now)).count(o.tokenId);
        // Throws once the upload is kept in the outbox (or could not be kept), saying which.
        const d = await deliverUpload({
          target,
          outboxDir,
          // Named by its content, never by the token: the health authority learns nothing of which token it was.
          name: `${o.kioskKey.kioskId}-${now()}-${crypto.createHash("sha256").update(json).digest("hex").slice(0, 12)}.json`,
          json,
          timeoutMs: o.deliveryTimeoutMs
        });
        const counts = { keys: keys.length, left, round };
        if (d.delivered.via === "dir") return { status: "uploaded", file: d.delivered.to, warning: d.warning, ...counts };
        return { status: "posted", url: d.delivered.to, duplicate: d.delivered.duplicate, warning: d.warning, ...counts };
      } finally {
        for (const k of teks.keys) k.tek.fill(0);
      }
    }
    if (now() < until) await sleep(Math.min(5000, (until - now()) * 1000));
  }
  return {
    status: "not-synced",
    round: null,
    detail: "the wearer's token was not found with its sync window open: hold its button for 2 seconds and bring it close to the kiosk"
  };
}
