/**
 * Dashboard benchmark: a kiosk with 200 enrolled tokens, each with 60 syncs
 * of history (battery and level), served by the staff dashboard
 * (host-tools/src/kiosk/dashboard) over fastify's inject, logged in. Times
 * the home page (every token, in action order) and a token's page (its
 * history, charts' data and a fresh 14-day exposure timeline) over 200 requests each, after a warm-up, and
 * weighs each page with what it loads (CSS, scripts). Prints figures only;
 * the goal (issue 13) is a page in ≤ 100 ms with 200 tokens. Last line is JSON.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildDashboard } from "../host-tools/src/kiosk/dashboard";
import { EventHub, KioskEvent } from "../host-tools/src/kiosk/events";
import { initKioskDir } from "../host-tools/src/kiosk/kiosk-dir";
import type { SyncRoundResult } from "../host-tools/src/kiosk/sync-round";
import { hashPassword } from "../host-tools/src/kiosk/staff";

const TOKENS = 200;
const SYNCS = 60;
const REQUESTS = 200;
const NOW = Math.floor(Date.now() / 1000);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] * 100) / 100;
}

async function main(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "pt-bench-dashboard-"));
  const kiosk = initKioskDir(path.join(root, "kiosk"));
  try {
    kiosk.store.addStaff("bench", await hashPassword("bench password 1"));
    for (let i = 0; i < TOKENS; i++) {
      const tokenId = i.toString(16).padStart(32, "0");
      kiosk.store.addToken({
        tokenId,
        label: `Room ${i + 1}`,
        board: "puckjs",
        syncSecret: new Uint8Array(32).fill(i & 255),
        enrolledAt: NOW - 30 * 86400
      });
      for (let s = 0; s < SYNCS; s++) {
        const at = NOW - (SYNCS - s) * 4 * 3600 - (i % 7) * 600;
        kiosk.store.recordSync({
          tokenId,
          startedAt: at - 20,
          endedAt: at,
          outcome: s % 17 === 3 ? "link-lost" : "ok",
          detail: "synced: level none, 0 of 812 sighting(s) matched over 13.9 day(s)",
          segmentsRead: 2,
          bytesRead: 8192,
          status: {
            lastSyncAt: at,
            battery: Math.max(5, 100 - s - (i % 40)),
            clockDriftS: i % 5,
            faults: i % 31 === 0 ? 1 : 0,
            boots: 1,
            riskLevel: i % 23 === 0 && s > 40 ? 2 : i % 11 === 0 ? 1 : 0,
            riskReason: i % 23 === 0 && s > 40 ? 3 : i % 11 === 0 ? 1 : 0,
            riskAt: at
          },
          segments: [{ seg: s, day: Math.floor(at / 86400), sealed: new Uint8Array(64) }]
        });
      }
    }
    const events = new EventHub<KioskEvent>();
    const app = await buildDashboard({ kiosk, events });
    // The first token listed (Room 1, high) was just synced: its page draws a 14-day exposure timeline too.
    const timeline = Array.from({ length: 14 }, (_, d) => ({
      day: new Date((NOW - (13 - d) * 86400) * 1000).toISOString().slice(0, 10),
      minutes: { immediate: d * 3, near: d * 2, medium: d, other: 5 }
    }));
    const result = { outcome: "ok", tokenId: "0".repeat(32), detail: "synced", timeline } as unknown as SyncRoundResult;
    events.publish({ kind: "sync", event: { kind: "done", address: "bench", result } });
    // Log in as a browser would: the login page's cookie and CSRF token, then the form.
    const login = await app.inject({ method: "GET", url: "/login" });
    let cookie = login.cookies.map((c) => `${c.name}=${c.value}`).join("; ");
    const csrf = /name="_csrf" value="([^"]+)"/.exec(login.body)![1];
    const posted = await app.inject({
      method: "POST",
      url: "/login",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      payload: new URLSearchParams({ name: "bench", password: "bench password 1", _csrf: csrf }).toString()
    });
    cookie = posted.cookies.map((c) => `${c.name}=${c.value}`).join("; ");
    const home = await app.inject({ method: "GET", url: "/", headers: { cookie } });
    if (home.statusCode !== 200) throw new Error(`home page: ${home.statusCode}`);
    const handle = /href="\/tokens\/([^"/]+)"/.exec(home.body)![1];
    const first = await app.inject({ method: "GET", url: `/tokens/${handle}`, headers: { cookie } });
    if (!first.body.includes('<figure class="timeline">')) throw new Error("the benched token page has no exposure timeline");

    const time = async (url: string): Promise<{ p50: number; p95: number; bytes: number }> => {
      const ms: number[] = [];
      let bytes = 0;
      for (let i = 0; i < 20 + REQUESTS; i++) {
        const t0 = process.hrtime.bigint();
        const r = await app.inject({ method: "GET", url, headers: { cookie } });
        const dt = Number(process.hrtime.bigint() - t0) / 1e6;
        if (r.statusCode !== 200) throw new Error(`${url}: ${r.statusCode}`);
        bytes = r.rawPayload.length;
        if (i >= 20) ms.push(dt);
      }
      return { p50: pct(ms, 50), p95: pct(ms, 95), bytes };
    };
    const size = async (url: string): Promise<number> => (await app.inject({ method: "GET", url, headers: { cookie } })).rawPayload.length;
    const homeT = await time("/");
    const tokenT = await time(`/tokens/${handle}`);
    const css = await size("/static/dashboard.css");
    const live = await size("/static/live.js");
    const uplot = (await size("/static/uplot/uPlot.iife.min.js")) + (await size("/static/uplot/uPlot.min.css"));
    const charts = await size("/static/charts.js");
    const kb = (n: number): number => Math.round((n / 1024) * 10) / 10;
    await app.close();
    const out = {
      tokens: TOKENS,
      syncsPerToken: SYNCS,
      requests: REQUESTS,
      homeMs: { p50: homeT.p50, p95: homeT.p95 },
      tokenPageMs: { p50: tokenT.p50, p95: tokenT.p95 },
      homeKB: { html: kb(homeT.bytes), withAssets: kb(homeT.bytes + css + live) },
      tokenPageKB: { html: kb(tokenT.bytes), withAssets: kb(tokenT.bytes + css + uplot + charts) },
      note: "uncompressed; assets are cached by the browser after the first page"
    };
    process.stdout.write(
      `home page (${TOKENS} tokens): p50 ${out.homeMs.p50} ms, p95 ${out.homeMs.p95} ms, ${out.homeKB.html} KB (${out.homeKB.withAssets} KB with CSS and script)\n` +
        `token page (${SYNCS} syncs): p50 ${out.tokenPageMs.p50} ms, p95 ${out.tokenPageMs.p95} ms, ${out.tokenPageKB.html} KB (${out.tokenPageKB.withAssets} KB with uPlot)\n`
    );
    process.stdout.write(JSON.stringify(out) + "\n");
  } finally {
    kiosk.store.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

void main();
