import type { FastifyInstance, FastifyReply, FastifyRequest, RouteShorthandOptions } from "fastify";
import {
  DEFAULT_EPSILON,
  DEFAULT_WEEKS,
  MAX_WEEKS,
  exportRows,
  noiseScale,
  releaseWeeks,
  releasedWeeks,
  toCsv,
  weekDate
} from "../statistics";
import type { KioskStore, StatsRelease, TokenRecord } from "../store";
import { ago } from "./words";

/**
 * The dashboard's part of the opt-in statistics (docs/statistics.md): a
 * wearer's choice on their token page, the statistics page, and its export.
 * Releasing weeks is a POST with the form's CSRF token (it writes the noisy
 * counts to the store); the GET download gives only weeks already released.
 */

export interface StatsRoutesOptions {
  store: KioskStore;
  now: () => number;
  page: (req: FastifyRequest, reply: FastifyReply, title: string, data?: Record<string, unknown>) => Record<string, unknown>;
  tokenFor: (handle: string) => TokenRecord | undefined;
  notFound: (req: FastifyRequest, reply: FastifyReply) => unknown;
  /** A logged-in session. */
  reads: RouteShorthandOptions;
  /** A logged-in session and the form's CSRF token. */
  changes: RouteShorthandOptions;
}

const WEEK_CHOICES = [4, 8, 13, 26, 52].filter((n) => n <= MAX_WEEKS);

type WithLocals = FastifyReply & { locals?: Record<string, unknown> | null };

export function registerStatsRoutes(app: FastifyInstance, o: StatsRoutesOptions): void {
  const { store, now, page } = o;

  // The token page (index.ts) shows the wearer's choice: given to its template beside the page's own data.
  app.addHook("preHandler", async (req, reply) => {
    if (req.method !== "GET" || req.routeOptions.url !== "/tokens/:handle" || !req.session?.staff) return;
    const t = o.tokenFor((req.params as { handle: string }).handle);
    const r = reply as WithLocals;
    if (!t || !r.locals) return;
    const since = store.statsOptIn(t.tokenId);
    r.locals.statsChoice = {
      in: since !== null,
      since: since === null ? null : ago(since, now()),
      iso: since === null ? null : new Date(since * 1000).toISOString()
    };
  });

  app.post<{ Params: { handle: string }; Body: { choice?: string } }>("/tokens/:handle/statistics", o.changes, async (req, reply) => {
    const t = o.tokenFor(req.params.handle);
    if (!t) return o.notFound(req, reply);
    const choice = req.body?.choice;
    if (choice === "in") store.setStatsOptIn(t.tokenId, now());
    else if (choice === "out") store.clearStatsOptIn(t.tokenId);
    else
      return reply.code(400).view("message", page(req, reply, "Not done", { heading: "Choose yes or no", text: "Nothing was changed." }));
    return reply.redirect(`/tokens/${encodeURIComponent(req.params.handle)}#statistics`, 303);
  });

  // The choices asked for right after enrolling (enrol.eta): each ticked wearer takes part from now; the rest stay out.
  app.post<{ Body: { in?: string | string[]; asked?: string | string[] } }>("/enrol/statistics", o.changes, async (req, reply) => {
    const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
    const asked = list(req.body?.asked);
    const ticked = list(req.body?.in).filter((h) => asked.includes(h));
    const tokens = ticked.map((h) => o.tokenFor(h));
    if (!asked.length || tokens.some((t) => !t))
      return reply
        .code(400)
        .view("message", page(req, reply, "Not done", { heading: "Those tokens are not enrolled here", text: "Nothing was changed." }));
    for (const t of tokens) if (store.statsOptIn(t!.tokenId) === null) store.setStatsOptIn(t!.tokenId, now());
    const n = tokens.length;
    return reply.view(
      "message",
      page(req, reply, "Statistics choices saved", {
        heading: "Choices saved",
        text:
          n === 0
            ? `None of the ${asked.length} wearer(s) takes part in the anonymous statistics.`
            : `${n} of the ${asked.length} wearer(s) take part in the anonymous statistics from now; the others do not. Each can be changed on the token's page.`
      })
    );
  });

  const csv = (reply: FastifyReply, rows: StatsRelease[]): FastifyReply =>
    reply
      .type("text/csv; charset=utf-8")
      .header("content-disposition", `attachment; filename="privatetracer-statistics-${weekDate(Math.floor(now() / 86400))}.csv"`)
      .send(toCsv(rows));

  app.get("/statistics", o.reads, async (req, reply) => {
    const released = releasedWeeks(store).reverse();
    return reply.view(
      "statistics",
      page(req, reply, "Statistics", {
        takingPart: store.statsOptedIn(),
        enrolled: store.tokens().length,
        epsilon: DEFAULT_EPSILON,
        typicalError: Math.round(noiseScale(DEFAULT_EPSILON) * 10) / 10,
        weekChoices: WEEK_CHOICES,
        defaultWeeks: DEFAULT_WEEKS,
        released: exportRows(released)
      })
    );
  });

  // Releases the weeks not released yet (noise drawn once and kept), then gives them all: a form's POST, with CSRF.
  app.post<{ Body: { weeks?: string } }>("/statistics/export", o.changes, async (req, reply) => {
    const weeks = Number(req.body?.weeks ?? DEFAULT_WEEKS);
    if (!WEEK_CHOICES.includes(weeks))
      return reply
        .code(400)
        .view("message", page(req, reply, "Not done", { heading: "Choose how many weeks", text: "Nothing was released." }));
    return csv(reply, releaseWeeks(store, { weeks, epsilon: DEFAULT_EPSILON, now: now() }));
  });

  // Only weeks already released: a GET changes nothing.
  app.get("/statistics.csv", o.reads, async (_req, reply) => csv(reply, releasedWeeks(store)));
}
