import * as crypto from "node:crypto";
import { PrivateTracerError } from "../errors";
import { UploadDeliveryError } from "../keys/upload-deliver";
import type { SyncProgress } from "../sync/client";
import { DiagnoseOptions, DiagnoseOutcome, diagnose } from "./diagnose";
import { DiagnosisCounter } from "./statistics";
import type { RadioJobContext } from "./service";

/**
 * Work for the kiosk's one radio that staff ask for from the dashboard (a
 * diagnosis), queued here and run by the service between two passes
 * (service.ts `between`), so nothing else uses the radio meanwhile. A job's
 * progress and result are events in plain words: the dashboard shows them
 * as they come. The health authority's code is held only until its job has
 * run, then dropped.
 */

export type RadioJobState =
  | { state: "queued" }
  /** Looking for the wearer's token with its sync window open. */
  | { state: "searching" }
  /** The token is connected and waits for the wearer's press. */
  | { state: "press-now"; waitMs: number }
  | { state: "done"; result: RadioJobResult };

/** How a diagnosis ended, with a sentence for staff. */
export interface RadioJobResult {
  outcome: "sent" | "kept-in-outbox" | "no-press" | "not-synced" | "failed";
  message: string;
}

/** What the dashboard may show of a job: no code, nothing of the keys. */
export interface RadioJobView {
  readonly id: string;
  readonly kind: "diagnose";
  readonly tokenId: string;
  readonly queuedAt: number;
  readonly status: RadioJobState;
}

export type RadioJobEvent = { kind: "radio-job"; job: RadioJobView };

/** Runs one diagnosis with the radio; `diagnoseRunner` is the real one, specs may give a stand-in. */
export type DiagnoseRunner = (
  request: { tokenId: string; code: string },
  ctx: RadioJobContext,
  onProgress: (e: SyncProgress) => void
) => Promise<DiagnoseOutcome>;

/** What `diagnose()` takes that stays the same from one diagnosis to the next (the token, code and keys come with each job). */
export type DiagnoseRunnerOptions = Pick<
  DiagnoseOptions,
  "kiosk" | "transport" | "kioskKey" | "searchMs" | "consentWaitMs" | "scanMs" | "connectTimeoutMs" | "now" | "timerOf" | "sleep"
> & { uploadTo: string };

/** The real runner: `diagnose()` with the keys the service has in use. */
export function diagnoseRunner(o: DiagnoseRunnerOptions): DiagnoseRunner {
  // One for the runner's life: a wearer diagnosed twice in a week through this kiosk counts once.
  const stats = new DiagnosisCounter(o.kiosk.store, o.now ?? (() => Math.floor(Date.now() / 1000)));
  return (request, ctx, onProgress) => diagnose({ ...o, tokenId: request.tokenId, code: request.code, keys: ctx.keys, onProgress, stats });
}

/** A diagnosis is already waiting for that token: a second one would ask the wearer to press twice. */
export class JobPendingError extends PrivateTracerError {
  readonly code = "RADIO_JOB_PENDING";
  readonly kind = "unusable";
}

interface Job {
  view: RadioJobView;
  code: string | null;
}

/** Finished jobs kept for their pages; older ones are forgotten (the store never held them). */
const KEEP_DONE = 50;

export class RadioJobQueue {
  private readonly jobs = new Map<string, Job>();
  private readonly pending: Job[] = [];
  private running = false;

  constructor(
    private readonly runner: DiagnoseRunner,
    private readonly onEvent: (e: RadioJobEvent) => void = () => undefined,
    private readonly now: () => number = () => Math.floor(Date.now() / 1000)
  ) {}

  /** Queues a diagnosis for the token; runs at the next `between`. */
  enqueueDiagnosis(tokenId: string, code: string): RadioJobView {
    if ([...this.jobs.values()].some((j) => j.view.tokenId === tokenId && j.view.status.state !== "done"))
      throw new JobPendingError("a diagnosis for this token is already waiting for the radio: follow that one, or wait until it ends");
    const job: Job = {
      view: {
        id: crypto.randomBytes(9).toString("base64url"),
        kind: "diagnose",
        tokenId,
        queuedAt: this.now(),
        status: { state: "queued" }
      },
      code
    };
    this.jobs.set(job.view.id, job);
    this.pending.push(job);
    this.forgetOld();
    this.onEvent({ kind: "radio-job", job: job.view });
    return job.view;
  }

  job(id: string): RadioJobView | undefined {
    return this.jobs.get(id)?.view;
  }

  /** Jobs waiting or running. */
  get waiting(): number {
    return this.pending.length + (this.running ? 1 : 0);
  }

  /** Runs every queued job, one after another: the service's `between`. */
  readonly between = async (ctx: RadioJobContext): Promise<void> => {
    if (this.running) return;
    this.running = true;
    try {
      for (let job = this.pending.shift(); job; job = this.pending.shift()) await this.run(job, ctx);
    } finally {
      this.running = false;
    }
  };

  private set(job: Job, status: RadioJobState): void {
    job.view = { ...job.view, status };
    this.onEvent({ kind: "radio-job", job: job.view });
  }

  private async run(job: Job, ctx: RadioJobContext): Promise<void> {
    const code = job.code ?? "";
    job.code = null;
    this.set(job, { state: "searching" });
    let result: RadioJobResult;
    try {
      const out = await this.runner({ tokenId: job.view.tokenId, code }, ctx, (e) => {
        if (e.kind === "consent-wait") this.set(job, { state: "press-now", waitMs: e.waitMs });
      });
      result = resultOf(out);
    } catch (e) {
      result = failureOf(e);
    }
    this.set(job, { state: "done", result });
  }

  private forgetOld(): void {
    const done = [...this.jobs.values()].filter((j) => j.view.status.state === "done");
    for (const j of done.slice(0, Math.max(0, done.length - KEEP_DONE))) this.jobs.delete(j.view.id);
  }
}

function resultOf(out: DiagnoseOutcome): RadioJobResult {
  switch (out.status) {
    case "uploaded":
    case "posted": {
      const dup = out.status === "posted" && out.duplicate ? " (it had them already)" : "";
      return {
        outcome: "sent",
        message: `Done: ${out.keys} day(s) of the wearer's keys were signed with the code and delivered to the health authority${dup}. Thank the wearer; nothing else is needed.`
      };
    }
    case "no-consent":
      return {
        outcome: "no-press",
        message: "The button on the token was not pressed in time, so nothing was sent. You can try again with the same code."
      };
    case "not-synced":
      return { outcome: "not-synced", message: `Nothing was sent: ${sentence(out.detail)}` };
  }
}

function failureOf(e: unknown): RadioJobResult {
  if (e instanceof UploadDeliveryError && e.keptIn)
    return {
      outcome: "kept-in-outbox",
      message:
        `The keys were signed with the code, but could not be delivered yet (${e.message.replace(/\.$/, "")}). ` +
        "They are kept safely on the kiosk and will be sent later; the wearer need not press again."
    };
  if (e instanceof PrivateTracerError) return { outcome: "failed", message: `Nothing was sent: ${sentence(e.message)}` };
  // Never a stack on a care worker's screen: what went wrong is for whoever looks after the kiosk.
  return {
    outcome: "failed",
    message: "Nothing was sent: something went wrong inside the kiosk. Tell the person who looks after it; you can try again."
  };
}

function sentence(s: string): string {
  const t = s.trim();
  return /[.!?]$/.test(t) ? t : `${t}.`;
}
