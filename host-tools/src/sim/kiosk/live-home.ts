/**
 * `privatetracer kiosk serve --simulate care-home`: the whole product in a
 * browser with no hardware. The built-in care home runs on the real firmware,
 * its kiosk runs the real kiosk service (world-kiosk.ts), and the real staff
 * dashboard is served over that kiosk's store, while the world keeps pace
 * with the wall clock at `speed` simulated seconds per second. A staff
 * account is made for the run, and a health-authority code is printed so a
 * diagnosis can be tried from the dashboard; the simulated wearer presses
 * when the kiosk asks.
 */
import * as crypto from "node:crypto";
import type { FastifyInstance } from "fastify";
import { buildDashboard } from "../../kiosk/dashboard";
import { EventHub, KioskEvent } from "../../kiosk/events";
import { hashPassword } from "../../kiosk/staff";
import { careHome } from "../world/care-home";
import { simulate } from "../world/simulate";

export interface LiveHomeOptions {
  days: number;
  seed: number;
  /** Simulated seconds per real second. */
  speed: number;
  board: string;
  port: number;
  host: string;
  signal: AbortSignal;
  say(line: string): void;
  /** The kiosk's events, as `serve` prints them. */
  onEvent?(e: KioskEvent): void;
}

export const LIVE_STAFF_NAME = "staff";

export async function serveLiveCareHome(o: LiveHomeOptions): Promise<void> {
  const scenario = careHome({ seed: o.seed });
  const hub = new EventHub<KioskEvent>();
  if (o.onEvent) hub.subscribe(o.onEvent);
  let dashboard: FastifyInstance | undefined;
  // A password for this run only: the kiosk directory is gone when the run ends.
  const password = crypto.randomBytes(12).toString("base64url");
  const stopped = new Promise<void>((resolve) => {
    if (o.signal.aborted) resolve();
    o.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  try {
    await simulate({
      scenario,
      days: o.days,
      seed: o.seed,
      board: o.board,
      firmware: "real",
      live: {
        speed: o.speed,
        signal: o.signal,
        onEvent: (e) => hub.publish(e),
        ready: async (r) => {
          r.kiosk.store.addStaff(LIVE_STAFF_NAME, await hashPassword(password));
          dashboard = await buildDashboard({ kiosk: r.kiosk, events: hub, jobs: r.jobs, keysVerified: true, now: r.now });
          const address = await dashboard.listen({ port: o.port, host: o.host });
          o.say(`Dashboard: ${address}/ (log in as "${LIVE_STAFF_NAME}", password ${password})`);
          const positives = (scenario.diagnoses ?? []).filter((d) => d.day < o.days).map((d) => `${d.person} on day ${d.day}`);
          o.say(
            `A simulated care home of ${scenario.people.length} people, ${o.days} day${o.days === 1 ? "" : "s"} at ${o.speed}× the real pace` +
              (positives.length ? `; testing positive: ${positives.join(", ")}.` : ".")
          );
          o.say(`To report a diagnosis from the dashboard, use the health authority's code ${r.issueCode(2)}.`);
        },
        finished: async () => {
          if (!o.signal.aborted) o.say("The simulated days are over; the dashboard stays up until Ctrl-C.");
          await stopped;
        }
      }
    });
  } finally {
    await dashboard?.close();
  }
}
