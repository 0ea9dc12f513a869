import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import Fastify, { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fastifyCookie from "@fastify/cookie";
import fastifyCsrf from "@fastify/csrf-protection";
import fastifyFormbody from "@fastify/formbody";
import fastifyMultipart from "@fastify/multipart";
import fastifySession from "@fastify/session";
import fastifyStatic from "@fastify/static";
import fastifyView from "@fastify/view";
import { Eta } from "eta";
import { PrivateTracerError } from "../../errors";
import { isWellFormedCode } from "../../keys/auth-codes";
import { StoreLockedError } from "../../provision/errors";
import { unsealStore } from "../../provision/store";
import { EventHub, KeySourceStatus, KioskEvent } from "../events";
import { KioskDir, outboxDirOf } from "../kiosk-dir";
import type { RadioJobQueue } from "../radio-jobs";
import { LOCKOUT_AFTER, TokenRecord, importEnrolmentStore } from "../store";
import { liveMessage } from "./live";
import { IdleSessionStore } from "./session-store";
import { registerStatsRoutes } from "./stats-routes";
import { timelineChart } from "./timeline-chart";
import { RecentTimelines, TIMELINE_TTL_S } from "../exposure-timeline";
import { actionOrder, ago, levelText, outcomeWords } from "./words";

/**
 * The care staff's dashboard (docs/dashboard.md), served by `kiosk serve`
 * beside the radio: who to look after and what to do, the tokens that need
 * attention, a live view of the radio, each token's history, enrolling and
 * retiring tokens, the key sources, and reporting a diagnosis. Pages are
 * rendered on the server (eta, escaped by default); the few lines of
 * browser script only follow the live events. Every change is a POST that
 * needs a logged-in session and the form's CSRF token.
 *
 * Token ids never reach a page: a token is addressed by a handle (an HMAC of
 * its id under a key this process draws at start), so a page or a URL in a
 * browser's history carries nothing that names the token outside this run.
 */

declare module "fastify" {
  interface Session {
    staff?: string;
    /** Unix seconds of the last request that was a person's (not a background refresh). */
    lastSeen?: number;
  }
}

export interface DashboardOptions {
  kiosk: KioskDir;
  /** The kiosk's events (the service's, the radio jobs'): the live view and the key sources' status follow them. */
  events?: EventHub<KioskEvent>;
  /** Diagnoses: absent when the kiosk has no signing key and upload target (the page then says so). */
  jobs?: RadioJobQueue;
  /** Whether the key source's exports are checked against the health authority's public key. */
  keysVerified?: boolean;
  /** Logged out after this long without a request (default 30 minutes). */
  idleSeconds?: number;
  /** Served over https (behind a TLS proxy): cookies are then marked secure. */
  https?: boolean;
  /** Unix seconds (specs move it). */
  now?: () => number;
  /** Cache compiled templates (default true; false re-reads them on each request while editing). */
  cacheTemplates?: boolean;
}

const VIEWS = path.join(__dirname, "views");
const PUBLIC = path.join(__dirname, "public");
const UPLOT = path.dirname(require.resolve("uplot/dist/uPlot.iife.min.js"));
const DEFAULT_IDLE_S = 30 * 60;
/** An enrolment store of a few hundred tokens is tens of KB; this leaves room without inviting abuse. */
const ENROL_BODY_LIMIT = 4 * 1024 * 1024;
const SSE_HEARTBEAT_MS = 20_000;

const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cache-control": "no-store"
};

/** Maps token ids to handles and back (see the module comment). */
class TokenHandles {
  private readonly key = crypto.randomBytes(32);
  private byHandle = new Map<string, string>();

  handleOf(tokenId: string): string {
    const h = crypto.createHmac("sha256", this.key).update(tokenId).digest("base64url").slice(0, 16);
    this.byHandle.set(h, tokenId);
    return h;
  }

  idOf(handle: string, tokens: () => TokenRecord[]): string | undefined {
    if (!this.byHandle.has(handle)) {
      this.byHandle = new Map();
      for (const t of tokens()) this.handleOf(t.tokenId);
    }
    return this.byHandle.get(handle);
  }
}

export async function buildDashboard(o: DashboardOptions): Promise<FastifyInstance> {
  const now = o.now ?? (() => Math.floor(Date.now() / 1000));
  const idle = o.idleSeconds ?? DEFAULT_IDLE_S;
  const store = o.kiosk.store;
  const events = o.events ?? new EventHub<KioskEvent>();
  const keyStatus = new KeySourceStatus(now);
  events.subscribe((e) => keyStatus.consume(e));
  // A sync's exposure timeline, kept in memory for a few minutes for the token's page (exposure-timeline.ts).
  const timelines = new RecentTimelines(now);
  events.subscribe((e) => {
    if (e.kind !== "sync" || e.event.kind !== "done") return;
    const r = e.event.result;
    if (r.tokenId && r.outcome === "ok" && r.timeline) timelines.put(r.tokenId, r.timeline);
  });
  const handles = new TokenHandles();
  const sessions = new IdleSessionStore(idle, now);

  const app = Fastify({ logger: false, trustProxy: false });
  await app.register(fastifyCookie);
  await app.register(fastifySession, {
    // Drawn at each start: sessions end with the process, which is what a kiosk wants.
    secret: crypto.randomBytes(32).toString("base64url"),
    cookieName: "pt_session",
    store: sessions,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: "strict", secure: o.https === true, path: "/", maxAge: idle * 1000 }
  });
  await app.register(fastifyCsrf, { sessionPlugin: "@fastify/session" });
  await app.register(fastifyFormbody, { bodyLimit: 64 * 1024 });
  // The one upload form (enrol): its fields land on the body as values, so the CSRF check reads `_csrf` as from any form.
  await app.register(fastifyMultipart, {
    attachFieldsToBody: "keyValues",
    limits: { fileSize: ENROL_BODY_LIMIT, files: 1, fields: 4, parts: 5 },
    throwFileSizeLimit: true
  });
  await app.register(fastifyView, {
    engine: { eta: new Eta({ views: VIEWS, cache: o.cacheTemplates ?? true, autoEscape: true }) },
    templates: VIEWS,
    production: o.cacheTemplates ?? true
  });
  await app.register(fastifyStatic, { root: PUBLIC, prefix: "/static/", decorateReply: false, maxAge: 3600_000 });
  await app.register(fastifyStatic, { root: UPLOT, prefix: "/static/uplot/", decorateReply: false, maxAge: 3600_000 });

  app.addHook("onSend", async (_req, reply, payload) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) if (!reply.hasHeader(k)) reply.header(k, v);
    return payload;
  });

  // Who is logged in, with the idle limit applied: a session quiet for longer is ended here.
  const loggedIn = async (req: FastifyRequest): Promise<string | null> => {
    const s = req.session;
    if (!s?.staff) return null;
    if (s.lastSeen === undefined || now() - s.lastSeen > idle) {
      await s.destroy();
      return null;
    }
    if (req.headers["x-dashboard-background"] !== "1") s.lastSeen = now();
    return s.staff;
  };

  const requireStaff = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (await loggedIn(req)) return;
    const api = req.url.startsWith("/events") || req.url.startsWith("/rows");
    if (api) await reply.code(401).type("text/plain").send("Log in again.");
    else await reply.redirect("/login?expired=1", 303);
  };
  const changes = { preHandler: [requireStaff, app.csrfProtection] };
  const reads = { preHandler: requireStaff };

  /** What every page's layout needs. */
  const page = (req: FastifyRequest, reply: FastifyReply, title: string, data: Record<string, unknown> = {}): Record<string, unknown> => ({
    title,
    staff: req.session.staff ?? null,
    csrf: reply.generateCsrf(),
    path: req.url.split("?")[0],
    ...data
  });

  const labelOf = (tokenId: string): string => store.token(tokenId)?.label ?? "";
  const tokenFor = (handle: string): TokenRecord | undefined => {
    const id = handles.idOf(handle, () => store.tokens());
    return id ? store.token(id) : undefined;
  };
  const notFound = (req: FastifyRequest, reply: FastifyReply): unknown =>
    reply.code(404).view(
      "message",
      page(req, reply, "Not found", {
        heading: "That token is not enrolled here",
        text: "It may have been retired. Go back to the home page."
      })
    );

  app.setNotFoundHandler((req, reply) =>
    reply.code(404).view("message", page(req, reply, "Not found", { heading: "There is no such page", text: "Go back to the home page." }))
  );
  app.setErrorHandler(async (err: FastifyError, req, reply) => {
    if (err.statusCode === 403)
      return reply.code(403).view(
        "message",
        page(req, reply, "Please try again", {
          heading: "This form had expired",
          text: "Nothing was changed. Go back, reload the page and try again."
        })
      );
    if (err.statusCode === 413)
      return reply.code(413).view(
        "message",
        page(req, reply, "Not done", {
          heading: "That file is too large",
          text: `It is too large to be an enrolment store (at most ${ENROL_BODY_LIMIT / 1024 / 1024} MB); nothing was enrolled. Check that you chose the right file.`
        })
      );
    // The multipart reader's own complaints (a cut-off or garbled form) carry no status: the form, not the kiosk, is at fault.
    if (
      req.headers["content-type"]?.startsWith("multipart/") &&
      (err.code?.startsWith("FST_") || /multipart|boundary|end of form/i.test(err.message))
    )
      return reply.code(400).view(
        "message",
        page(req, reply, "Not done", {
          heading: "The form could not be read",
          text: "Nothing was changed. Go back, reload the page and try again."
        })
      );
    if (err instanceof PrivateTracerError || (err.statusCode && err.statusCode < 500))
      return reply
        .code(err.statusCode && err.statusCode < 500 ? err.statusCode : 400)
        .view("message", page(req, reply, "Not done", { heading: "That could not be done", text: err.message }));
    // A stack is for whoever looks after the kiosk (its log), never for the page.
    process.stderr.write(`dashboard: ${req.method} ${req.url}: ${err.stack ?? err.message}\n`);
    return reply.code(500).view(
      "message",
      page(req, reply, "Something went wrong", {
        heading: "Something went wrong inside the kiosk",
        text: "Nothing was changed. Try again; if it happens again, tell the person who looks after the kiosk."
      })
    );
  });

  // ---- login ----
  app.get<{ Querystring: { expired?: string; out?: string } }>("/login", async (req, reply) => {
    if (await loggedIn(req)) return reply.redirect("/", 303);
    const note = req.query.out
      ? "You are logged out."
      : req.query.expired
        ? "Please log in (sessions end after a while without use)."
        : null;
    return reply.view("login", page(req, reply, "Log in", { note, error: null, name: "" }));
  });

  app.post<{ Body: { name?: string; password?: string } }>("/login", { preHandler: app.csrfProtection }, async (req, reply) => {
    const name = String(req.body?.name ?? "").trim();
    const password = String(req.body?.password ?? "");
    const r = await store.checkLogin(name, password, now());
    if (!r.ok) {
      const error =
        r.reason === "locked"
          ? `This account is locked after ${LOCKOUT_AFTER} wrong passwords, until ${clock(r.until)}. Ask another member of staff, or wait.`
          : "That name and password do not match. Check them and try again.";
      return reply.code(r.reason === "locked" ? 423 : 401).view("login", page(req, reply, "Log in", { note: null, error, name }));
    }
    // A new session id at login: one planted before it (session fixation) is worth nothing after.
    await req.session.regenerate();
    req.session.staff = r.name;
    req.session.lastSeen = now();
    return reply.redirect("/", 303);
  });

  app.post("/logout", changes, async (req, reply) => {
    await req.session.destroy();
    return reply.redirect("/login?out=1", 303);
  });

  // ---- home ----
  const homeRows = (): Record<string, unknown> => {
    const t = now();
    const rows = actionOrder(store.tokens(), t).map((r) => ({ ...r, handle: handles.handleOf(r.tokenId), tokenId: undefined }));
    const counts = {
      high: rows.filter((r) => r.group === 0).length,
      stale: rows.filter((r) => r.group === 1).length,
      attention: rows.filter((r) => r.group === 2 || r.group === 3).length
    };
    return { rows, counts };
  };

  app.get("/", reads, async (req, reply) => reply.view("home", page(req, reply, "Residents", homeRows())));
  app.get("/rows", reads, async (_req, reply) => reply.view("rows", homeRows()));

  // ---- live events ----
  app.get("/events", reads, (req, reply) => {
    const sessionId = req.session.sessionId;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      "x-content-type-options": "nosniff"
    });
    res.write("retry: 5000\n\n");
    let lastProgress = 0;
    const send = (e: KioskEvent): void => {
      const m = liveMessage(e, labelOf, now());
      if (!m) return;
      // Log chunks come many a second: a screen needs a few.
      if (m.type === "radio" && e.kind === "sync" && e.event.kind === "progress" && e.event.progress.kind === "chunk") {
        if (Date.now() - lastProgress < 500) return;
        lastProgress = Date.now();
      }
      const out = "tokenId" in m ? { ...m, tokenId: undefined, token: m.tokenId ? handles.handleOf(m.tokenId) : null } : m;
      res.write(`event: ${m.type}\ndata: ${JSON.stringify(out)}\n\n`);
    };
    const unsubscribe = events.subscribe(send);
    // A stream outlives its page's requests: it ends once its session has idled out or been logged out.
    const beat = setInterval(() => {
      const s = sessions.peek(sessionId);
      if (!s?.staff || s.lastSeen === undefined || now() - s.lastSeen > idle) close();
      else res.write(": still here\n\n");
    }, SSE_HEARTBEAT_MS);
    const close = (): void => {
      clearInterval(beat);
      unsubscribe();
      if (!res.writableEnded) res.end();
    };
    req.raw.on("close", close);
  });

  // ---- a token ----
  app.get<{ Params: { handle: string } }>("/tokens/:handle", reads, async (req, reply) => {
    const t = tokenFor(req.params.handle);
    if (!t) return notFound(req, reply);
    const at = now();
    const history = store.history(t.tokenId, 500);
    const kept = store.archiveSummary(t.tokenId);
    const recent = timelines.get(t.tokenId);
    const chart = {
      // Oldest first, as uPlot wants; null where a sync did not report it.
      t: history.map((h) => h.endedAt).reverse(),
      battery: history.map((h) => h.battery).reverse(),
      level: history.map((h) => h.riskLevel).reverse()
    };
    return reply.view(
      "token",
      page(req, reply, t.label || "Token", {
        name: t.label || `Token ${t.tokenId.slice(0, 8)}`,
        handle: req.params.handle,
        level: levelText(t, at),
        riskAt: t.riskAt === null ? null : { text: ago(t.riskAt, at), iso: iso(t.riskAt) },
        lastSync: t.lastSyncAt === null ? null : { text: ago(t.lastSyncAt, at), iso: iso(t.lastSyncAt) },
        battery: t.battery,
        board: t.board,
        enrolled: iso(t.enrolledAt).slice(0, 10),
        keptDays: kept.oldestDay === null ? 0 : Math.floor(at / 86400) - kept.oldestDay + 1,
        history: history.slice(0, 50).map((h) => ({
          when: ago(h.endedAt, at),
          iso: iso(h.endedAt),
          outcome: outcomeWords(h.outcome),
          ok: h.outcome === "ok",
          detail: h.detail,
          battery: h.battery
        })),
        // Embedded as JSON for the charts' script; "<" escaped so no text can close the script element.
        chartJson: JSON.stringify(chart).replace(/</g, "\\u003c"),
        timelineTtlMin: TIMELINE_TTL_S / 60,
        timeline: recent && {
          chart: timelineChart(recent.days, at),
          from: ago(recent.at, at),
          minutesLeft: Math.max(1, Math.ceil((recent.until - at) / 60))
        }
      })
    );
  });

  // ---- retire ----
  app.get<{ Params: { handle: string } }>("/tokens/:handle/retire", reads, async (req, reply) => {
    const t = tokenFor(req.params.handle);
    if (!t) return notFound(req, reply);
    const kept = store.archiveSummary(t.tokenId);
    return reply.view(
      "retire",
      page(req, reply, "Retire a token", {
        name: t.label || `Token ${t.tokenId.slice(0, 8)}`,
        handle: req.params.handle,
        segments: kept.segments
      })
    );
  });

  app.post<{ Params: { handle: string }; Body: { confirm?: string } }>("/tokens/:handle/retire", changes, async (req, reply) => {
    const t = tokenFor(req.params.handle);
    if (!t) return notFound(req, reply);
    if (req.body?.confirm !== "yes") return reply.redirect(`/tokens/${encodeURIComponent(req.params.handle)}/retire`, 303);
    store.retireToken(t.tokenId);
    timelines.drop(t.tokenId);
    return reply.view(
      "message",
      page(req, reply, "Token retired", {
        heading: `${t.label || "The token"} is retired`,
        text: "Its stored history was deleted and cannot be recovered. The kiosk will no longer sync it; to use it again, set it up again and enrol it."
      })
    );
  });

  // ---- enrol ----
  app.get("/enrol", reads, async (req, reply) => reply.view("enrol", page(req, reply, "Enrol tokens", { error: null, done: null })));

  app.post("/enrol", { ...changes, bodyLimit: ENROL_BODY_LIMIT }, async (req, reply) => {
    const f = (req.body ?? {}) as Record<string, unknown>;
    const file = f.store;
    const passphrase = typeof f.passphrase === "string" ? f.passphrase : "";
    const again = (error: string): unknown => reply.code(400).view("enrol", page(req, reply, "Enrol tokens", { error, done: null }));
    // A file part arrives as its bytes; a text field of the same name (a forged form) as a string.
    if (!Buffer.isBuffer(file) || !file.length) return again("Choose the enrolment store file (it ends in .ptstore) and try again.");
    if (!passphrase) return again("Type the enrolment store's passphrase and try again.");
    let result;
    try {
      result = importEnrolmentStore(store, unsealStore(file, passphrase, "the file"));
    } catch (e) {
      if (e instanceof StoreLockedError)
        return again(
          "The passphrase does not open this file, or it is not an enrolment store. Check both and try again; nothing was enrolled."
        );
      if (e instanceof PrivateTracerError) return again(`Nothing was enrolled: ${e.message}.`);
      throw e;
    }
    const done = {
      added: result.added,
      // Each wearer (or their proxy) may choose to take part in the statistics now: asked here, off unless ticked.
      addedTokens: result.addedTokens.map((id) => ({ handle: handles.handleOf(id), name: labelOf(id) || `Token ${id.slice(0, 8)}` })),
      unchanged: result.unchanged,
      conflicting: result.conflicting.map((id) => labelOf(id) || `Token ${id.slice(0, 8)}`)
    };
    return reply.view("enrol", page(req, reply, "Enrol tokens", { error: null, done }));
  });

  // ---- key sources ----
  app.get("/keys", reads, async (req, reply) => {
    const s = keyStatus.state;
    const at = now();
    const offline = s.unreadable !== null || s.lastRead === null || at - s.lastRead.at > 86400;
    return reply.view(
      "keys",
      page(req, reply, "Key sources", {
        s,
        offline,
        verified: o.keysVerified === true,
        lastRead: s.lastRead && {
          ...s.lastRead,
          ago: ago(s.lastRead.at, at),
          iso: iso(s.lastRead.at),
          // The batch by its own name (the last part of a path or URL), and the day its keys run to.
          newestName: s.lastRead.newest.file === null ? null : (s.lastRead.newest.file.split(/[\\/]/).pop() ?? null),
          newestEnd: s.lastRead.newest.end === null ? null : new Date(s.lastRead.newest.end * 1000).toISOString().slice(0, 10)
        },
        unreadable: s.unreadable && {
          ...s.unreadable,
          ago: ago(s.unreadable.at, at),
          sinceText: s.unreadable.since === null ? null : ago(s.unreadable.since, at)
        },
        index: s.index && { ...s.index, ago: ago(s.index.at, at) }
      })
    );
  });

  // ---- diagnosis ----
  const outboxCount = (): number => {
    try {
      return fs.readdirSync(outboxDirOf(o.kiosk.dir)).filter((n) => n.endsWith(".json")).length;
    } catch {
      return 0;
    }
  };
  const tokenChoices = (): Array<{ handle: string; name: string }> =>
    store.tokens().map((t) => ({ handle: handles.handleOf(t.tokenId), name: t.label || `Token ${t.tokenId.slice(0, 8)}` }));

  app.get("/diagnose", reads, async (req, reply) =>
    reply.view(
      "diagnose",
      page(req, reply, "Report a diagnosis", { ready: !!o.jobs, tokens: tokenChoices(), outbox: outboxCount(), error: null })
    )
  );

  app.post<{ Body: { token?: string; code?: string } }>("/diagnose", changes, async (req, reply) => {
    const again = (error: string): unknown =>
      reply
        .code(400)
        .view(
          "diagnose",
          page(req, reply, "Report a diagnosis", { ready: !!o.jobs, tokens: tokenChoices(), outbox: outboxCount(), error })
        );
    if (!o.jobs) return again("Diagnoses are not set up on this kiosk.");
    const t = tokenFor(String(req.body?.token ?? ""));
    if (!t) return again("Choose the wearer's token from the list.");
    const code = String(req.body?.code ?? "")
      .trim()
      .toUpperCase();
    if (!isWellFormedCode(code))
      return again("That code does not look right: it is 16 letters and digits, like ABCD-EFGH-JKMN-PQRS. Check it and type it again.");
    const job = o.jobs.enqueueDiagnosis(t.tokenId, code);
    return reply.redirect(`/diagnose/${encodeURIComponent(job.id)}`, 303);
  });

  app.get<{ Params: { id: string } }>("/diagnose/:id", reads, async (req, reply) => {
    const job = o.jobs?.job(req.params.id);
    if (!job)
      return reply.code(404).view(
        "message",
        page(req, reply, "Not found", {
          heading: "There is no such diagnosis",
          text: "It may be from before the kiosk restarted. Start again from Report a diagnosis."
        })
      );
    const m = liveMessage({ kind: "radio-job", job }, labelOf, now());
    return reply.view(
      "job",
      page(req, reply, "Report a diagnosis", {
        id: job.id,
        name: labelOf(job.tokenId) || `Token ${job.tokenId.slice(0, 8)}`,
        state: m && m.type === "job" ? m.state : "queued",
        text: m?.text ?? "",
        outbox: outboxCount()
      })
    );
  });

  registerStatsRoutes(app, { store, now, page, tokenFor, notFound, reads, changes });

  return app;
}

function iso(t: number): string {
  return new Date(t * 1000).toISOString();
}

/** A time of day as staff read it on the kiosk's own clock. */
function clock(t: number): string {
  return new Date(t * 1000).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
}
