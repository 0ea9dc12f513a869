import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import type { FastifyInstance } from "fastify";
import { buildDashboard } from "../../../host-tools/src/kiosk/dashboard";
import { EventHub, KioskEvent } from "../../../host-tools/src/kiosk/events";
import { KioskDir, initKioskDir } from "../../../host-tools/src/kiosk/kiosk-dir";
import { hashPassword } from "../../../host-tools/src/kiosk/staff";
import type { StatusUpdate } from "../../../host-tools/src/kiosk/store";
import { REASON_LOG_INCOMPLETE, unfinishedRound } from "../../../host-tools/src/kiosk/sync-round";
import { Browser, CHEAP } from "./dashboard-helpers";
import { TOKEN_ID, writeEnrolmentStore } from "./exposed-token";

/**
 * The dashboard's pages, read as a care worker reads them: who needs what,
 * first; each level in words with what to do; nothing that names a token by
 * its id where it has a label, or says who was diagnosed; and the changes
 * (enrol, retire) doing what they say.
 */

const PASSWORD = "long enough password";
const T = 1_900_000_000;
const DAY = 86400;
const id = (n: number): string => n.toString(16).padStart(2, "0").repeat(16);

describe("kiosk dashboard: home, token, retire, enrol, key sources, live events", function () {
  this.timeout(30_000);
  let root: string;
  let kiosk: KioskDir;
  let app: FastifyInstance;
  let hub: EventHub<KioskEvent>;
  let b: Browser;

  /** One token with a sync that reported `status`. */
  function token(n: number, label: string, status: StatusUpdate | null): string {
    const tokenId = id(n);
    kiosk.store.addToken({ tokenId, label, board: "puckjs", syncSecret: new Uint8Array(32).fill(n), enrolledAt: T - 20 * DAY });
    if (status)
      kiosk.store.recordSync({
        tokenId,
        startedAt: (status.lastSyncAt ?? T) - 5,
        endedAt: status.lastSyncAt ?? T,
        outcome: "ok",
        detail: "synced",
        segmentsRead: 1,
        bytesRead: 100,
        status,
        segments: [{ seg: 1, day: Math.floor(T / DAY) - 3, sealed: new Uint8Array([1, 2, 3]) }]
      });
    return tokenId;
  }
  const ok = { lastSyncAt: T - 3600, battery: 80, clockDriftS: 1, faults: 0, boots: 1 };

  beforeEach(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "pt-dash-pages-"));
    kiosk = initKioskDir(path.join(root, "kiosk"));
    kiosk.store.addStaff("Ann", await hashPassword(PASSWORD, CHEAP));
    hub = new EventHub<KioskEvent>();
    app = await buildDashboard({ kiosk, events: hub, now: () => T });
    b = new Browser(app);
    await b.loggedIn("Ann", PASSWORD);
  });
  afterEach(async () => {
    await app.close();
    kiosk.store.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("lists tokens in action order, each level in words with what to do, labels escaped, no token id where there is a label", async () => {
    const ids = [
      token(1, "Fine Fiona", { ...ok, riskLevel: 0, riskReason: 0, riskAt: T - 3600 }),
      token(2, "Low Larry", { ...ok, riskLevel: 1, riskReason: 1, riskAt: T - 3600 }),
      token(3, "Faulty Fred", { ...ok, faults: 2, riskLevel: 0, riskReason: 0, riskAt: T - 3600 }),
      token(4, "Battery Bea", { ...ok, battery: 9, riskLevel: 0, riskReason: 0, riskAt: T - 3600 }),
      token(5, "Stale Sam", { ...ok, lastSyncAt: T - 2 * DAY, riskLevel: 0, riskReason: 0, riskAt: T - 2 * DAY }),
      token(6, "Mrs B.", { ...ok, riskLevel: 2, riskReason: 3, riskAt: T - 7200, exposureDay: "2030-03-14", exposureMinutes: 40 }),
      token(7, "<script>alert(1)</script>", { ...ok, riskLevel: 1, riskReason: REASON_LOG_INCOMPLETE, riskAt: T - 3600 }),
      token(8, "", null)
    ];
    const r = await b.get("/");
    assert.equal(r.statusCode, 200);
    const html = r.body;
    const order = ["Mrs B.", "Stale Sam", "Token 08080808", "Battery Bea", "Faulty Fred", "&lt;script&gt;", "Low Larry", "Fine Fiona"].map(
      (n) => html.indexOf(`>${n}`)
    );
    assert.ok(
      order.every((p) => p > 0),
      `every token listed: ${order.join(", ")}`
    );
    assert.deepEqual(
      [...order].sort((x, y) => x - y),
      order,
      "high first, then not synced for a day (never synced too), low battery, faults, low, the rest"
    );
    assert.match(html, /High — ask staff/);
    assert.match(
      html,
      /Ask Mrs B\. to take a test today: Mrs B\. was near someone who tested positive on Thursday 14 March for about 40 minutes \(warning given 2 hours ago\)/
    );
    assert.doesNotMatch(html, /2030-03-14/, "the day in words, not as a date code");
    assert.match(html, /Nothing found/);
    assert.match(html, /9% — low: charge or replace/);
    assert.match(html, /2 — tell the person who looks after the tokens/);
    assert.match(html, /2 days ago — bring it to the kiosk/);
    assert.match(html, /Never synced/);
    assert.match(html, /Low — not everything could be checked/);
    assert.match(html, /Part of the token&#39;s record was lost/);
    assert.doesNotMatch(html, /<script>alert/, "a label is text, never markup");
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    for (const tokenId of ids.slice(0, 7))
      assert.ok(!html.includes(tokenId) && !html.includes(tokenId.slice(0, 8)), "no id of a labelled token");
    // Every level has a symbol besides its colour.
    for (const s of ["▲", "◆", "✓", "?"]) assert.ok(html.includes(`<span class="symbol" aria-hidden="true">${s}</span>`), s);
    const rows = await b.get("/rows", { "x-dashboard-background": "1" });
    assert.equal(rows.statusCode, 200);
    assert.ok(!ids.slice(0, 7).some((i) => rows.body.includes(i)));
  });

  it("a token's page: its level and why, sync history, and the chart data for level and battery", async () => {
    const tokenId = token(1, "Room 9", { ...ok, battery: 70, riskLevel: 0, riskReason: 0, riskAt: T - 3 * DAY, lastSyncAt: T - 3 * DAY });
    kiosk.store.recordSync({
      tokenId,
      startedAt: T - 100,
      endedAt: T - 90,
      outcome: "ok",
      detail: "synced: level high",
      segmentsRead: 1,
      bytesRead: 10,
      status: { lastSyncAt: T - 90, battery: 65, riskLevel: 2, riskReason: 3 | REASON_LOG_INCOMPLETE, riskAt: T - 90 }
    });
    kiosk.store.recordSync({
      tokenId,
      startedAt: T - 50,
      endedAt: T - 40,
      outcome: "link-lost",
      detail: "the token went out of reach",
      segmentsRead: 0,
      bytesRead: 0
    });
    const home = await b.get("/");
    const handle = /href="\/tokens\/([^"/]+)"/.exec(home.body)![1];
    const r = await b.get(`/tokens/${handle}`);
    assert.equal(r.statusCode, 200);
    assert.match(r.body, /<h1>Room 9<\/h1>/);
    assert.match(r.body, /High — ask staff/);
    assert.match(r.body, /Part of the token&#39;s record was lost/);
    assert.match(r.body, /connection lost/);
    assert.match(r.body, /the token went out of reach/);
    const chart = JSON.parse(/<script type="application\/json" id="chart-data">([^<]*)<\/script>/.exec(r.body)![1]) as {
      t: number[];
      battery: Array<number | null>;
      level: Array<number | null>;
    };
    assert.deepEqual(chart.battery, [70, 65, null]);
    assert.deepEqual(chart.level, [0, 2, null]);
    assert.ok(!r.body.includes(tokenId));
    assert.equal((await b.get("/tokens/nosuchhandle")).statusCode, 404);
    assert.equal((await b.get("/static/uplot/uPlot.iife.min.js")).statusCode, 200);
    assert.equal((await b.get("/static/charts.js")).statusCode, 200);
  });

  it("retire: a confirmation step, then the token, its sealed archive and its history are deleted", async () => {
    const tokenId = token(1, "Room 3", { ...ok, riskLevel: 0, riskReason: 0, riskAt: T });
    token(2, "Room 5", { ...ok, riskLevel: 0, riskReason: 0, riskAt: T });
    assert.equal(kiosk.store.archive(tokenId).length, 1);
    const home = await b.get("/");
    const handle = new RegExp(`href="/tokens/([^"/]+)">Room 3<`).exec(home.body)![1];
    let r = await b.get(`/tokens/${handle}/retire`);
    assert.match(r.body, /deletes its stored history/);
    r = await b.post(`/tokens/${handle}/retire`, {});
    assert.equal(r.statusCode, 303, "not confirmed: back to the question");
    assert.ok(kiosk.store.token(tokenId));
    r = await b.post(`/tokens/${handle}/retire`, { confirm: "yes" });
    assert.equal(r.statusCode, 200);
    assert.match(r.body, /Room 3 is retired/);
    assert.equal(kiosk.store.token(tokenId), undefined);
    assert.deepEqual(kiosk.store.archive(tokenId), []);
    assert.deepEqual(kiosk.store.history(tokenId, 10), []);
    assert.deepEqual(kiosk.store.check(), []);
    assert.equal(kiosk.store.tokens().length, 1, "the other token stays");
  });

  it("enrol: an enrolment store and its passphrase add its tokens; a wrong passphrase adds nothing and says so", async () => {
    const file = path.join(root, "home.ptstore");
    writeEnrolmentStore(file, "correct horse battery staple");
    await b.get("/enrol");
    let r = await b.upload(
      "/enrol",
      { passphrase: "wrong passphrase" },
      { name: "store", filename: "home.ptstore", data: fs.readFileSync(file) }
    );
    assert.equal(r.statusCode, 400);
    assert.match(r.body, /passphrase does not open this file/);
    assert.equal(kiosk.store.tokens().length, 0);
    r = await b.upload(
      "/enrol",
      { passphrase: "correct horse battery staple" },
      { name: "store", filename: "home.ptstore", data: fs.readFileSync(file) }
    );
    assert.equal(r.statusCode, 200, r.body);
    assert.match(r.body, /1 token\(s\) enrolled, 0 already enrolled/);
    assert.equal(kiosk.store.token(TOKEN_ID)?.label, "Room 12");
    assert.ok(kiosk.store.homeKey(), "the home's key kept for the beacon, as kiosk import does");
    r = await b.upload(
      "/enrol",
      { passphrase: "correct horse battery staple" },
      { name: "store", filename: "home.ptstore", data: fs.readFileSync(file) }
    );
    assert.match(r.body, /0 token\(s\) enrolled, 1 already enrolled/);
    assert.doesNotMatch(r.body, /action="\/enrol\/statistics"/, "only tokens enrolled now are asked about");
  });

  it("enrol: a file too large, a text in place of the file, or a cut-off form is refused in words; nothing is enrolled", async () => {
    await b.get("/enrol");
    let r = await b.upload(
      "/enrol",
      { passphrase: "p" },
      { name: "store", filename: "big.ptstore", data: Buffer.alloc(5 * 1024 * 1024, 1) }
    );
    assert.equal(r.statusCode, 413);
    assert.match(r.body, /too large to be an enrolment store/);
    await b.get("/enrol");
    r = await b.post("/enrol", { store: "not a file", passphrase: "p" });
    assert.ok(r.statusCode === 400 || r.statusCode === 415, `${r.statusCode}`);
    await b.get("/enrol");
    const cut = await b.upload("/enrol", { passphrase: "p" }, { name: "store", filename: "a.ptstore", data: Buffer.from("x") });
    assert.equal(cut.statusCode, 400);
    assert.match(cut.body, /Nothing was enrolled: the file is not an enrolment store/);
    await b.get("/enrol");
    r = await app.inject({
      method: "POST",
      url: "/enrol",
      headers: { cookie: [...b.cookies].map(([k, v]) => `${k}=${v}`).join("; "), "content-type": "multipart/form-data; boundary=zz" },
      payload: `--zz\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${b.csrf}\r\n--zz\r\nContent-Disposition: form-data; name="store"; filename="a"\r\n\r\nabc`
    });
    assert.ok(r.statusCode >= 400 && r.statusCode < 500, `${r.statusCode}`);
    assert.doesNotMatch(r.body, /\bat \S+ \(/, "no stack on the page");
    // A real enrolment store with a forged CSRF token: refused before it is read.
    const file = path.join(root, "forged.ptstore");
    writeEnrolmentStore(file, "correct horse battery staple");
    await b.get("/enrol");
    b.csrf = "forged";
    r = await b.upload(
      "/enrol",
      { passphrase: "correct horse battery staple" },
      { name: "store", filename: "h.ptstore", data: fs.readFileSync(file) }
    );
    assert.equal(r.statusCode, 403);
    assert.equal(kiosk.store.tokens().length, 0);
  });

  it("enrol: each wearer just enrolled may take part in the statistics, off unless ticked", async () => {
    const file = path.join(root, "home-stats.ptstore");
    writeEnrolmentStore(file, "correct horse battery staple");
    await b.get("/enrol");
    const r = await b.upload(
      "/enrol",
      { passphrase: "correct horse battery staple" },
      { name: "store", filename: "home.ptstore", data: fs.readFileSync(file) }
    );
    assert.equal(r.statusCode, 200, r.body);
    const box = /<input type="checkbox" id="stats-0" name="in" value="([\w-]+)">/.exec(r.body);
    assert.ok(box, "a box for the token just enrolled, not ticked");
    assert.match(r.body, /<label for="stats-0">Room 12 takes part<\/label>/);
    assert.equal(kiosk.store.statsOptIn(TOKEN_ID), null, "enrolling alone counts nobody");
    const handle = box[1];
    // Left unticked: saved, and still out.
    let s = await b.post("/enrol/statistics", { asked: handle });
    assert.equal(s.statusCode, 200);
    assert.match(s.body, /None of the 1 wearer\(s\) takes part/);
    assert.equal(kiosk.store.statsOptIn(TOKEN_ID), null);
    // A handle that is not one of ours changes nothing.
    s = await b.post("/enrol/statistics", { asked: "nope", in: "nope" });
    assert.equal(s.statusCode, 400);
    assert.equal(kiosk.store.statsOptIn(TOKEN_ID), null);
    s = await b.post("/enrol/statistics", { asked: handle, in: handle });
    assert.match(s.body, /1 of the 1 wearer\(s\) take part in the anonymous statistics from now/);
    assert.equal(kiosk.store.statsOptIn(TOKEN_ID), T, "taking part from the moment it was ticked");
  });

  it("key sources: the last fetch, and a warning in words when the source cannot be read", async () => {
    let r = await b.get("/keys");
    assert.match(r.body, /No published keys have been read yet/);
    hub.publish({
      kind: "keys",
      keys: 42,
      source: "https://ha.example/index.txt",
      warning: null,
      newest: { file: "https://ha.example/exports/batch-0007.zip", end: Date.UTC(2030, 0, 21) / 1000 }
    });
    hub.publish({ kind: "index", keys: 42, seconds: 0.5, message: null });
    r = await b.get("/keys");
    assert.match(r.body, /Up to date/);
    assert.match(r.body, /<dd>42<\/dd>/);
    assert.match(r.body, /Newest batch<\/dt><dd>batch-0007\.zip, with keys up to 2030-01-21/, "the last verified batch by name and date");
    hub.publish({
      kind: "keys-unreadable",
      source: "https://ha.example/index.txt",
      message: "the server did not answer",
      using: 42,
      since: T - 60
    });
    r = await b.get("/keys");
    assert.match(r.body, /could not be fetched just now: the server did not answer/);
    assert.match(r.body, /keeps using the 42 key\(s\)/);
  });

  it("live events: the radio's steps in sentences, tokens by label or handle, never an id; only for a logged-in session", async () => {
    const tokenId = token(1, "Room 7", null);
    await app.listen({ port: 0, host: "127.0.0.1" });
    const port = (app.server.address() as AddressInfo).port;
    const cookie = [...b.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    const refused = await new Promise<number>((resolve) =>
      http.get({ port, path: "/events" }, (res) => (res.resume(), resolve(res.statusCode ?? 0)))
    );
    assert.equal(refused, 401);
    const text = await new Promise<string>((resolve, reject) => {
      const req = http.get({ port, path: "/events", headers: { cookie } }, (res) => {
        assert.equal(res.headers["content-type"], "text/event-stream; charset=utf-8");
        let got = "";
        res.on("data", (c: Buffer) => {
          got += c.toString();
          if (got.includes("event: synced")) {
            req.destroy();
            resolve(got);
          }
        });
      });
      req.on("error", reject);
      setTimeout(() => {
        hub.publish({ kind: "sync", event: { kind: "scanning", ms: 5000 } });
        hub.publish({ kind: "sync", event: { kind: "progress", address: "aa", progress: { kind: "identified", tokenId, dir: "/x" } } });
        hub.publish({
          kind: "sync",
          event: {
            kind: "done",
            address: "aa",
            result: unfinishedRound("link-lost", tokenId, "the token stopped answering")
          }
        });
      }, 100);
    });
    assert.match(text, /Listening for tokens/);
    assert.match(text, /Syncing Room 7…/);
    assert.match(text, /Room 7 could not be synced: the token stopped answering\. It will be tried again/);
    assert.ok(!text.includes(tokenId), "no token id in the stream");
  });
});
