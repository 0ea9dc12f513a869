import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildDashboard } from "../../../host-tools/src/kiosk/dashboard";
import { EventHub, KioskEvent } from "../../../host-tools/src/kiosk/events";
import { RecentTimelines, TIMELINE_TTL_S, TimelineDay, exposureTimeline } from "../../../host-tools/src/kiosk/exposure-timeline";
import { initKioskDir } from "../../../host-tools/src/kiosk/kiosk-dir";
import { hashPassword } from "../../../host-tools/src/kiosk/staff";
import type { SyncRoundResult } from "../../../host-tools/src/kiosk/sync-round";
import type { ScoredWindow } from "../../../host-tools/src/match/risk-score";
import { Browser, CHEAP } from "./dashboard-helpers";

/**
 * The token page's exposure timeline: minutes per day near people who
 * tested positive, by band, worked out while the token's history is open
 * and kept in memory only, for a few minutes after the sync.
 */
describe("kiosk dashboard: the exposure timeline, shown after a sync and never kept", function () {
  this.timeout(30_000);
  const T = 1_900_000_000; // 2030-03-17
  const DAY = 86400;

  function win(day: string, s: Partial<Record<"immediate" | "near" | "medium" | "other", number>>): ScoredWindow {
    return {
      day,
      window: { bucketSeconds: { immediate: 0, near: 0, medium: 0, other: 0, ...s } }
    } as unknown as ScoredWindow;
  }

  it("sums every matched window per day and band, in minutes, oldest day first", () => {
    const days = exposureTimeline([
      win("2030-03-14", { immediate: 600, near: 300 }),
      win("2030-03-10", { other: 120 }),
      win("2030-03-14", { immediate: 1200, medium: 90 })
    ]);
    assert.deepEqual(days, [
      { day: "2030-03-10", minutes: { immediate: 0, near: 0, medium: 0, other: 2 } },
      { day: "2030-03-14", minutes: { immediate: 30, near: 5, medium: 2, other: 0 } }
    ]);
  });

  it("is forgotten after its time, and on retiring the token", () => {
    let now = T;
    const r = new RecentTimelines(() => now, 600);
    r.put("a", []);
    r.put("b", []);
    now += 599;
    assert.ok(r.get("a"));
    r.drop("b");
    assert.equal(r.get("b"), null);
    now += 1;
    assert.equal(r.get("a"), null);
    assert.equal(r.size, 0);
  });

  it("the token page draws it with a table of the same numbers after a sync, then only says how to see it", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "pt-timeline-"));
    const kiosk = initKioskDir(path.join(root, "kiosk"));
    const tokenId = "07".repeat(16);
    kiosk.store.addToken({ tokenId, label: "Room 7", board: "puckjs", syncSecret: new Uint8Array(32).fill(7), enrolledAt: T - 20 * DAY });
    kiosk.store.addStaff("Ann", await hashPassword("long enough password", CHEAP));
    const hub = new EventHub<KioskEvent>();
    let now = T;
    const app = await buildDashboard({ kiosk, events: hub, now: () => now });
    try {
      const b = new Browser(app);
      await b.loggedIn("Ann", "long enough password");
      const handle = /href="\/tokens\/([\w-]+)"/.exec((await b.get("/")).body)![1];
      let page = (await b.get(`/tokens/${handle}`)).body;
      assert.match(page, /shown here for 10 minutes after a sync and never stored/);
      assert.doesNotMatch(page, /<figure class="timeline">/);

      const timeline: TimelineDay[] = [{ day: "2030-03-14", minutes: { immediate: 30, near: 10, medium: 0, other: 5 } }];
      const result = { outcome: "ok", tokenId, detail: "synced", timeline } as unknown as SyncRoundResult;
      hub.publish({ kind: "sync", event: { kind: "done", address: "aa", result } });
      now += 120;
      page = (await b.get(`/tokens/${handle}`)).body;
      assert.match(page, /From the sync 2 minutes ago/);
      assert.match(page, /shown for 8 more minute\(s\) and never stored/);
      assert.match(page, /<figure class="timeline">/);
      assert.equal((page.match(/<rect x=/g) ?? []).length, 3, "three bands on one day's bar");
      assert.match(page, /<td>Thursday 14 March<\/td><td>30 min very close, 10 min close, 5 min further: 45 min in all<\/td>/);
      assert.match(page, /the tallest bar is 45 minutes/);

      now += TIMELINE_TTL_S;
      page = (await b.get(`/tokens/${handle}`)).body;
      assert.doesNotMatch(page, /<figure class="timeline">/, "gone after its time");
      assert.doesNotMatch(page, /Thursday 14 March/);
      // Nothing of it in the kiosk's files (the database and its journal included).
      const dir = path.join(root, "kiosk");
      for (const f of fs.readdirSync(dir, { recursive: true }) as string[]) {
        const p = path.join(dir, f);
        if (fs.statSync(p).isFile()) assert.equal(fs.readFileSync(p).indexOf(Buffer.from("2030-03-14")), -1, `${f} holds nothing of it`);
      }
    } finally {
      await app.close();
      kiosk.store.close();
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
