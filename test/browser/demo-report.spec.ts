import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser, Page } from "playwright-core";
import { KIOSK_SCREEN, PHONE_SCREEN, Viewport, assertAccessible, launchBrowser, openPage, screenshot } from "../helpers/browser";
import { runCli } from "../helpers/cli";
import { reportHtml } from "../../host-tools/src/sim/report";
import { ReportData } from "../../host-tools/src/sim/report/types";
import { Scenario } from "../../host-tools/src/sim/world/scenario";
import { Rng } from "../../host-tools/src/sim/prng";

/**
 * The demo report (`simulate --report`) in Debian's Chromium, JavaScript on
 * and every request but the file itself refused: each chart drawn, the floor
 * plan's rooms and contact lines there, no serious accessibility violation,
 * and screenshots at a kiosk's screen and a phone's saved and not blank.
 */

const START = Date.UTC(2030, 2, 4) / 1000;

/** A report's numbers made up by hand: the page builder alone, in a fraction of a second. */
function synthetic(): ReportData {
  const rng = new Rng(7);
  const model = { txDbm: -4, pl0Db: 40, exponent: 2.5, minDistanceM: 0.1, bodyLossDb: 8, shadowingSigmaDb: 4, receiveThresholdDbm: -95 };
  const points: Array<[number, number, number]> = [];
  for (let k = 0; k < 600; k++) {
    const d = 0.3 + 12 * rng.next() ** 2;
    const wall = d > 5 && rng.next() < 0.6 ? 1 : 0;
    const rssi = model.txDbm - (model.pl0Db + 25 * Math.log10(d)) - model.bodyLossDb * rng.next() - 7 * wall + 4 * rng.normal();
    if (rssi >= -70) points.push([Math.round(d * 100) / 100, Math.round(rssi), wall]);
  }
  points.sort((a, b) => a[0] - b[0]);
  const curve = Array.from({ length: 41 }, (_, i) => {
    const t = 40 + i;
    return { thresholdDb: t, recall: Math.min(1, 0.1 + 0.022 * i), precision: Math.max(0.3, 1 - 0.015 * Math.max(0, i - 8)) };
  });
  const people = [
    { id: "resident-01", role: "resident", device: "token" as const, x: 2, y: 2, room: "bedroom-01" },
    { id: "resident-02", role: "resident", device: "token" as const, x: 6, y: 2, room: "bedroom-02" },
    { id: "resident-03", role: "resident", device: "token" as const, x: 11, y: 4, room: "lounge" },
    { id: "staff-01-early", role: "staff", device: "token" as const, x: 12, y: 5, room: "lounge" },
    { id: "staff-02-late", role: "staff", device: "phone" as const, x: 13, y: 3, room: "lounge" },
    // A name no page may take for markup.
    { id: 'visitor-<script>alert("x")</script>', role: "visitor", device: "phone" as const, x: 2.5, y: 3, room: "bedroom-01" }
  ].map((p) => ({ ...p, fixedSpot: true, diagnosed: p.id === "resident-03", warnedLevel: p.id === "staff-01-early" ? 2 : 0 }));
  const tokens = people
    .filter((p) => p.device === "token")
    .map((p, i) => ({
      person: p.id,
      role: p.role,
      batteryDays: 150 + 3 * i,
      retentionDays: 6 + i,
      historyDays: 3,
      encountersPerDay: 200 + 10 * i
    }));
  return {
    title: "Simulated test-home: 3 days",
    scenario: "test-home",
    description: "made up for a spec",
    seed: 1,
    days: 3,
    start: START,
    board: "puckjs",
    firmware: "real",
    counts: { tokens: 4, phones: 2, people: 6, closeContactPairDays: 5 },
    floor: {
      rooms: [
        { id: "bedroom-01", kind: "bedroom", x: 0, y: 0, w: 4, h: 5 },
        { id: "bedroom-02", kind: "bedroom", x: 4, y: 0, w: 4, h: 5 },
        { id: "lounge", kind: "lounge", x: 8, y: 0, w: 8, h: 7 }
      ],
      people,
      contacts: [
        { a: "resident-01", b: people[5].id, days: 2, minutes: 150, at: [2, 2, 2.5, 3] },
        { a: "resident-03", b: "staff-01-early", days: 3, minutes: 400, at: [11, 4, 12, 5] },
        { a: "resident-03", b: "staff-02-late", days: 1, minutes: 20, at: [11, 3, 12.5, 3] }
      ],
      kiosk: { room: "lounge", x: 9, y: 1 }
    },
    rssi: { model, logMinRssiDbm: -70, points, loggedTotal: 5000, sampled: 1200 },
    detection: {
      thresholdDb: 53,
      precision: 0.93,
      recall: 0.39,
      groundTruthContacts: 10,
      curve,
      compare: [
        { label: "tokens, band classifier", precision: 0.51, recall: 0.74, f1: 0.604 },
        { label: "GAEN phones, narrowNetV1", precision: 0.28, recall: 1, f1: 0.437 }
      ],
      roc: [
        {
          label: "tokens, ≥ 15 min at ≤ 53 dB",
          auc: 0.81,
          points: [
            [0, 0],
            [0.1, 0.39],
            [0.3, 0.7]
          ],
          at: { falsePositiveRate: 0.1, recall: 0.39, precision: 0.93, f1: 0.55 }
        },
        {
          label: "GAEN phones, narrowNetV1",
          auc: 0.77,
          points: [
            [0, 0],
            [0.6, 1]
          ],
          at: { falsePositiveRate: 0.6, recall: 1, precision: 0.28, f1: 0.437 }
        }
      ]
    },
    timeline: {
      start: START,
      end: START + 3 * 86400,
      diagnoses: [
        {
          person: "resident-03",
          at: START + 86400 + 9 * 3600,
          onset: START,
          status: "uploaded",
          publishedAt: START + 86400 + 10 * 3600,
          keysUploaded: 2,
          warned: [{ person: "staff-01-early", at: START + 86400 + 12.5 * 3600, level: 2, exposed: true }],
          missed: ["resident-02"],
          warnedBefore: [],
          exposedWithoutToken: 1
        }
      ]
    },
    tokens,
    historyGoalDays: 14
  };
}

/** The small home of the kiosk specs: Ann and Bob side by side in the lounge by the kiosk, Cat about; Ann diagnosed on day 1. */
const home: Scenario = {
  name: "small-home",
  startDate: "2030-03-04",
  rooms: [
    { id: "lounge", kind: "lounge", x: 0, y: 0, w: 10, h: 8 },
    { id: "bedroom-a", kind: "bedroom", x: 10, y: 0, w: 4, h: 5 }
  ],
  kiosk: { room: "lounge", at: [1, 1], staffRound: "11:00" },
  diagnoses: [{ person: "ann", day: 1, at: "09:00", onsetDaysBefore: 1 }],
  people: [
    { id: "ann", role: "resident", rooms: ["lounge"], at: [5, 4] as [number, number] },
    { id: "bob", role: "resident", rooms: ["lounge"], at: [5.8, 4] as [number, number] },
    { id: "cat", role: "staff", rooms: ["lounge", "bedroom-a"] }
  ].map((p) => ({
    id: p.id,
    role: p.role,
    device: { kind: "token" as const },
    schedule: [{ from: "00:00", to: "24:00", rooms: p.rooms, ...(p.at ? { at: p.at } : {}), dwellMinutes: p.at ? 60 : 10 }]
  }))
};

interface CanvasFigures {
  chart: string;
  width: number;
  height: number;
  /** Pixels drawn in colour (the data: axes, grid and text are grey). */
  coloured: number;
  drawn: number;
}

/** Per chart, its uPlot canvas's size and how many of its pixels are drawn, and in colour. */
const CANVAS_FIGURES = `Array.from(document.querySelectorAll(".chart")).map(function (el) {
  var c = el.querySelector(".uplot canvas");
  if (!c) return { chart: el.id, width: 0, height: 0, coloured: 0, drawn: 0 };
  var px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data, coloured = 0, drawn = 0;
  for (var i = 0; i < px.length; i += 4) {
    if (px[i + 3] === 0) continue;
    drawn++;
    if (Math.max(px[i], px[i + 1], px[i + 2]) - Math.min(px[i], px[i + 1], px[i + 2]) > 60) coloured++;
  }
  return { chart: el.id, width: c.width, height: c.height, coloured: coloured, drawn: drawn };
})`;

const CHARTS = ["chart-rssi", "chart-pr", "chart-battery", "chart-retention"];

async function count(page: Page, selector: string): Promise<number> {
  return page.locator(selector).count();
}

async function assertChartsDrawn(page: Page, where: string): Promise<CanvasFigures[]> {
  await page.waitForFunction("document.documentElement.getAttribute('data-charts') !== null", undefined, { timeout: 10_000 });
  assert.equal(await page.getAttribute("html", "data-charts"), String(CHARTS.length), `${where}: every chart was made`);
  const figures = (await page.evaluate(CANVAS_FIGURES)) as CanvasFigures[];
  assert.deepEqual(
    figures.map((f) => f.chart),
    CHARTS
  );
  for (const f of figures) {
    assert.ok(f.width >= 280 && f.height >= 200, `${where}: ${f.chart} is ${f.width}×${f.height}`);
    assert.ok(f.drawn > 0.01 * f.width * f.height, `${where}: ${f.chart} has axes and grid (${f.drawn} pixels drawn)`);
    assert.ok(f.coloured > 200, `${where}: ${f.chart} shows its data (${f.coloured} coloured pixels)`);
  }
  // Each chart has a heading, a caption and a labelled picture.
  for (const id of CHARTS) {
    const label = await page.getAttribute(`#${id} canvas`, "aria-label");
    assert.ok(label && label.length > 40, `${where}: ${id} has a text alternative`);
    assert.ok(await page.locator(`section:has(#${id}) h2`).isVisible(), `${where}: ${id} has a heading`);
    assert.ok(
      ((await page.locator(`section:has(#${id}) .caption`).first().textContent()) ?? "").length > 40,
      `${where}: ${id} has a caption`
    );
  }
  return figures;
}

async function assertFloorPlan(page: Page, d: { rooms: number; contacts: number; people: number; kiosk: boolean }): Promise<void> {
  assert.equal(await count(page, "svg#floor-plan .room rect"), d.rooms, "a rectangle per room");
  assert.equal(await count(page, "svg#floor-plan line.contact"), d.contacts, "a line per pair of close contacts");
  assert.equal(await count(page, "svg#floor-plan .person"), d.people, "a mark per person");
  assert.equal(await count(page, "svg#floor-plan .kiosk"), d.kiosk ? 1 : 0, "the kiosk");
  const box = await page.locator("svg#floor-plan").boundingBox();
  assert.ok(box && box.width > 200 && box.height > 50, `the floor plan is drawn at a readable size: ${JSON.stringify(box)}`);
}

describe("the demo report in Chromium (playwright-core, Debian's /usr/bin/chromium, no network)", function () {
  this.timeout(120_000);
  let browser: Browser;
  let dir: string;

  before(async () => {
    browser = await launchBrowser();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "demo-report-"));
  });
  after(async () => {
    await browser?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  describe("a report from made-up numbers", () => {
    let file: string;
    const d = synthetic();
    before(() => {
      file = path.join(dir, "synthetic.html");
      fs.writeFileSync(file, reportHtml(d));
    });

    for (const [name, viewport] of [
      ["kiosk screen", KIOSK_SCREEN],
      ["phone", PHONE_SCREEN]
    ] as Array<[string, Viewport]>) {
      it(`draws every chart at ${viewport.width}×${viewport.height} (${name}), asks for nothing but the file, and passes axe`, async () => {
        const p = await openPage(browser, pathToFileURL(file).href, viewport);
        try {
          const figures = await assertChartsDrawn(p.page, name);
          // Charts fit the screen: none wider than the viewport.
          const dpr = (await p.page.evaluate("devicePixelRatio")) as number;
          for (const f of figures) assert.ok(f.width / dpr <= viewport.width, `${f.chart} fits`);
          await assertFloorPlan(p.page, { rooms: 3, contacts: 3, people: 6, kiosk: true });
          assert.equal(await count(p.page, "svg#floor-plan line.contact-diagnosed"), 2, "the diagnosed person's contacts stand out");
          assert.equal(await count(p.page, "svg.timeline"), 1, "a timeline per diagnosis");
          assert.equal(await count(p.page, "svg.timeline .event-warning"), 1, "a mark per warning");
          // The other detectors on the same contacts: named in the chart's text alternative and in a table.
          assert.match(
            (await p.page.getAttribute("#chart-pr canvas", "aria-label")) ?? "",
            /GAEN phones, narrowNetV1: precision 0\.28, recall 1\./
          );
          assert.match(
            (await p.page.locator("section:has(#chart-pr) table.compare").innerText()).replace(/\s+/g, " "),
            /tokens, band classifier 0\.510 0\.740 0\.604 GAEN phones, narrowNetV1 0\.280 1\.000 0\.437/
          );
          // Every detector's ROC curve: a line and a marker each, named with its area in the picture's text and in its table.
          assert.equal(await count(p.page, "svg.roc path[stroke-width='2.5'][fill='none']"), 2, "a curve per detector");
          assert.match(
            (await p.page.getAttribute("svg.roc", "aria-label")) ?? "",
            /tokens, ≥ 15 min at ≤ 53 dB, AUC 0\.81, at its cut 39 % of close contacts found for 10 % of other pair-days flagged; GAEN phones, narrowNetV1, AUC 0\.77/
          );
          assert.match(
            (await p.page.locator("table.roc-table").innerText()).replace(/\s+/g, " "),
            /tokens, ≥ 15 min at ≤ 53 dB 0\.810 39\.0 % 10\.0 % 93\.0 % 0\.550 GAEN phones, narrowNetV1 0\.770 100\.0 % 60\.0 % 28\.0 % 0\.437/
          );
          assert.deepEqual(p.blocked, [], "no request left the file");
          assert.deepEqual(p.errors, [], "no script error");
          await assertAccessible(p.page, `demo report (${name})`);
          const horizontalScroll = await p.page.evaluate("document.documentElement.scrollWidth > window.innerWidth");
          assert.equal(horizontalScroll, false, "no sideways scrolling");
        } finally {
          await p.close();
        }
      });
    }

    it("keeps names as text: a person called <script> is not run", async () => {
      const html = fs.readFileSync(file, "utf8");
      assert.ok(!html.includes('<script>alert("x")'), "escaped in the SVG and the JSON");
      const p = await openPage(browser, pathToFileURL(file).href, KIOSK_SCREEN);
      try {
        let dialogs = 0;
        p.page.on("dialog", (dlg) => {
          dialogs++;
          void dlg.dismiss();
        });
        await assertChartsDrawn(p.page, "escaping");
        assert.equal(dialogs, 0);
        const title = await p.page.locator(`svg#floor-plan .person >> nth=5`).locator("title").textContent();
        assert.match(title ?? "", /visitor-<script>alert/, "shown as the text it is");
      } finally {
        await p.close();
      }
    });

    it("carries everything in the one file: no link, no remote script, style or picture", () => {
      const html = fs.readFileSync(file, "utf8");
      assert.doesNotMatch(html, /<link\b/i);
      assert.doesNotMatch(html, /\b(src|href)\s*=\s*["']?(https?:)?\/\//i);
      assert.doesNotMatch(html, /@import|url\(\s*["']?https?:/i);
    });
  });

  describe("`privatetracer simulate --report` on a small home (3 tokens, a kiosk, a diagnosis; 2 days)", () => {
    let file: string;
    let html: string;
    before(async () => {
      const scenarioFile = path.join(dir, "home.json");
      fs.writeFileSync(scenarioFile, JSON.stringify(home));
      file = path.join(dir, "report.html");
      const r = await runCli(["simulate", "--scenario", scenarioFile, "--days", "2", "--seed", "4", "--report", file]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /report written to .*report\.html \(\d+ KB\)/);
      html = fs.readFileSync(file, "utf8");
    });

    it("writes one page of reasonable weight, with the run's numbers in it", () => {
      const kb = Buffer.byteLength(html) / 1024;
      assert.ok(kb > 50 && kb < 1024, `${kb.toFixed(0)} KB`);
      const m = /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html);
      const d = JSON.parse(m![1]) as ReportData;
      assert.deepEqual(
        d.floor.people.map((p) => [p.id, p.x, p.y]).slice(0, 2),
        [
          ["ann", 5, 4],
          ["bob", 5.8, 4]
        ],
        "people with a fixed spot are drawn there"
      );
      assert.ok(
        d.floor.contacts.some((c) => [c.a, c.b].sort().join() === "ann,bob" && c.days === 2),
        "Ann and Bob were close contacts both days"
      );
      assert.ok(d.rssi.points.length > 100, `${d.rssi.points.length} measured points`);
      // Tokens 0.8 m apart all day: the logged RSSI there is strong, as the model says.
      const near = d.rssi.points.filter((p) => Math.abs(p[0] - 0.8) < 0.05).map((p) => p[1]);
      assert.ok(near.length > 20, `${near.length} points at 0.8 m`);
      const median = near.sort((a, b) => a - b)[near.length >> 1];
      const model = d.rssi.model.txDbm - (d.rssi.model.pl0Db + 10 * d.rssi.model.exponent * Math.log10(0.8)) - d.rssi.model.bodyLossDb;
      assert.ok(Math.abs(median - model) < 10, `median ${median} dBm at 0.8 m vs the model's ${model.toFixed(1)} dBm`);
      assert.equal(d.detection.curve.length, 41);
      assert.equal(d.timeline!.diagnoses[0].person, "ann");
      assert.deepEqual(d.timeline!.diagnoses[0].warned.map((w) => w.person).sort(), ["bob", "cat"]);
      assert.deepEqual(
        d.tokens.map((t) => t.person),
        ["ann", "bob", "cat"]
      );
      assert.ok(d.tokens.every((t) => t.batteryDays > 0 && t.retentionDays > 0 && t.historyDays === 2));
    });

    it("opens in Chromium with every chart drawn, passes axe, and its screenshots are not blank", async () => {
      for (const [name, viewport] of [
        ["1024x600", KIOSK_SCREEN],
        ["390x844", PHONE_SCREEN]
      ] as Array<[string, Viewport]>) {
        const p = await openPage(browser, pathToFileURL(file).href, viewport);
        try {
          await assertChartsDrawn(p.page, name);
          await assertFloorPlan(p.page, { rooms: 2, contacts: 3, people: 3, kiosk: true });
          assert.equal(await count(p.page, "svg.timeline .event-warning"), 2);
          assert.deepEqual(p.blocked, []);
          assert.deepEqual(p.errors, []);
          await assertAccessible(p.page, `demo report at ${name}`);
          await screenshot(p.page, `demo-report-${name}`);
          await p.page.locator("#chart-rssi").scrollIntoViewIfNeeded();
          await screenshot(p.page, `demo-report-${name}-rssi`);
          await screenshot(p.page, `demo-report-${name}-full`, { fullPage: true });
        } finally {
          await p.close();
        }
      }
    });
  });
});
