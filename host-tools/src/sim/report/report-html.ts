/**
 * The demo report: one self-contained HTML page (no network). uPlot's script
 * and style are inlined from node_modules, the numbers travel as JSON in the
 * page, the floor plan and timeline are inline SVG. Each picture has a
 * heading, a one-sentence caption, labelled axes and a text alternative.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "../../atomic-write";
import { CLIENT_SCRIPT } from "./client-script";
import { floorPlanLegend, floorPlanSvg } from "./floor-plan-svg";
import { esc } from "./svg";
import { timelineList, timelineSvg } from "./timeline-svg";
import { rocSvg } from "./roc-svg";
import { ReportData } from "./types";

export interface ReportAssets {
  uplotJs: string;
  uplotCss: string;
}

/** uPlot as installed (its minified browser build and stylesheet). */
export function uplotAssets(): ReportAssets {
  const dir = path.dirname(require.resolve("uplot/dist/uPlot.iife.min.js"));
  return {
    uplotJs: fs.readFileSync(path.join(dir, "uPlot.iife.min.js"), "utf8"),
    uplotCss: fs.readFileSync(path.join(dir, "uPlot.min.css"), "utf8")
  };
}

/** JSON safe inside a <script> element (no "</script>", no HTML comment openers). */
function scriptJson(x: unknown): string {
  return JSON.stringify(x).replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(/&/g, "\\u0026");
}

/** Inline script text cannot contain its own end tag. */
function scriptText(s: string): string {
  return s.replace(/<\/script/gi, "<\\/script");
}

const pct = (x: number | null): string => (x === null ? "–" : `${Math.round(100 * x)} %`);

const STYLE = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 18px/1.5 "DejaVu Sans", system-ui, sans-serif; color: #1A1A1A; background: #FAFAF7; }
header, main, footer { max-width: 1100px; margin: 0 auto; padding: 0 16px; }
header { padding-top: 16px; }
h1 { font-size: 1.7rem; margin: 0.4em 0 0.2em; line-height: 1.25; }
h2 { font-size: 1.35rem; margin: 0 0 0.2em; line-height: 1.3; }
.lede { margin: 0 0 0.8em; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(128px, 1fr)); gap: 10px; margin: 0 0 16px; padding: 0; }
.figures div { background: #FFFFFF; border: 1px solid #CFCFCF; border-radius: 8px; padding: 8px 12px; }
.figures dt { font-size: 0.85rem; color: #3D3D3D; }
.figures dd { margin: 0; font-size: 1.2rem; font-weight: bold; }
section { background: #FFFFFF; border: 1px solid #D6D6D6; border-radius: 10px; padding: 16px; margin: 0 0 18px; }
.caption { margin: 0 0 12px; color: #2B2B2B; }
.floor-plan, .timeline { width: 100%; height: auto; display: block; }
.roc { width: 100%; max-width: 560px; height: auto; display: block; }
.wide { overflow-x: auto; }
.wide caption { text-align: left; }
.wide:focus-visible { outline: 3px solid #0072B2; outline-offset: 2px; }
.floor-plan { max-height: 75vh; }
.timeline-panel { margin: 0 0 12px; }
.chart { width: 100%; min-height: 240px; }
.legend { list-style: none; padding: 0; margin: 10px 0 0; display: flex; flex-wrap: wrap; gap: 6px 18px; font-size: 0.95rem; }
.legend li { display: flex; align-items: center; gap: 6px; }
.facts { margin: 10px 0 0; padding-left: 1.2em; }
details { margin-top: 10px; }
summary { cursor: pointer; font-weight: bold; }
summary:focus-visible, a:focus-visible { outline: 3px solid #0072B2; outline-offset: 2px; }
table { border-collapse: collapse; font-size: 0.95rem; margin-top: 8px; }
th, td { border: 1px solid #CFCFCF; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.uplot { font-family: "DejaVu Sans", system-ui, sans-serif; }
.uplot .u-legend { font-size: 0.95rem; text-align: left; }
footer { color: #3D3D3D; font-size: 0.9rem; padding-bottom: 24px; }
@media (max-width: 600px) { body { font-size: 16px; } section { padding: 10px; } h1 { font-size: 1.4rem; } }
`;

function tokenTable(d: ReportData): string {
  const rows = d.tokens
    .map(
      (t) =>
        `<tr><th scope="row">${esc(t.person)}</th><td>${t.batteryDays}</td><td>${t.retentionDays}</td><td>${t.historyDays ?? "–"}</td><td>${t.encountersPerDay}</td></tr>`
    )
    .join("");
  return (
    `<details><summary>The numbers, per token</summary><table><caption class="caption">Battery life, log retention and history per token</caption>` +
    `<thead><tr><th scope="col">token</th><th scope="col">battery (days)</th><th scope="col">log fits (days)</th><th scope="col">history at end (days)</th><th scope="col">encounters a day</th></tr></thead>` +
    `<tbody>${rows}</tbody></table></details>`
  );
}

function detectionTable(d: ReportData): string {
  const rows = d.detection.curve
    .map(
      (c) =>
        `<tr${c.thresholdDb === d.detection.thresholdDb ? ' class="chosen"' : ""}><th scope="row">${c.thresholdDb}${c.thresholdDb === d.detection.thresholdDb ? " (chosen)" : ""}</th><td>${c.precision.toFixed(3)}</td><td>${c.recall.toFixed(3)}</td></tr>`
    )
    .join("");
  const others = d.detection.compare.length
    ? `<table class="compare"><caption class="caption">Other detectors on the same close contacts (squares on the chart)</caption>` +
      `<thead><tr><th scope="col">detector</th><th scope="col">precision</th><th scope="col">recall</th><th scope="col">F1</th></tr></thead><tbody>` +
      d.detection.compare
        .map(
          (c) =>
            `<tr><th scope="row">${esc(c.label)}</th><td>${c.precision.toFixed(3)}</td><td>${c.recall.toFixed(3)}</td><td>${c.f1.toFixed(3)}</td></tr>`
        )
        .join("") +
      `</tbody></table>`
    : "";
  return (
    others +
    `<details><summary>The numbers, per threshold</summary><table><caption class="caption">Precision and recall of close-contact detection per attenuation threshold</caption>` +
    `<thead><tr><th scope="col">threshold (dB)</th><th scope="col">precision</th><th scope="col">recall</th></tr></thead><tbody>${rows}</tbody></table></details>`
  );
}

export function reportHtml(d: ReportData, assets: ReportAssets = uplotAssets()): string {
  const startDate = new Date(d.start * 1000).toISOString().slice(0, 10);
  const minBattery = d.tokens.length ? Math.min(...d.tokens.map((t) => t.batteryDays)) : null;
  const minRetention = d.tokens.length ? Math.min(...d.tokens.map((t) => t.retentionDays)) : null;
  const warned = d.timeline ? d.timeline.diagnoses.reduce((s, x) => s + x.warned.length, 0) : null;
  const fig = (label: string, value: string) => `<div><dt>${esc(label)}</dt><dd>${esc(value)}</dd></div>`;
  const figures = [
    fig("people", `${d.counts.people}`),
    fig("tokens / phones", `${d.counts.tokens} / ${d.counts.phones}`),
    fig("close contacts (pair-days)", `${d.counts.closeContactPairDays}`),
    fig(`precision / recall at ${d.detection.thresholdDb} dB`, `${pct(d.detection.precision)} / ${pct(d.detection.recall)}`),
    ...(warned !== null ? [fig("tokens warned", `${warned}`)] : []),
    ...(minBattery !== null ? [fig("shortest battery", `${Math.round(minBattery)} days`)] : []),
    ...(minRetention !== null ? [fig("shortest log retention", `${Math.round(minRetention * 10) / 10} days`)] : [])
  ];
  const r = d.rssi;
  const sections: string[] = [];
  sections.push(
    `<section aria-labelledby="h-floor"><h2 id="h-floor">Who was close to whom</h2>` +
      `<p class="caption">The ${esc(d.scenario)} from above: each person at the spot where they spent most time, and a stroke where each pair who spent at least 15 minutes within 2 metres of each other on some day was close (the ground truth the tokens try to find).</p>` +
      floorPlanSvg(d.floor) +
      floorPlanLegend(d.floor) +
      `</section>`
  );
  sections.push(
    `<section aria-labelledby="h-rssi"><h2 id="h-rssi">Signal strength against distance</h2>` +
      `<p class="caption">What the tokens logged (${r.points.length} sightings sampled from ${r.loggedTotal}, each matched to the token that sent it) against how far apart the two wearers really were, with the radio model the simulator uses: the spread is walls, bodies turned away, shadowing and fading.</p>` +
      `<div class="chart" id="chart-rssi"></div></section>`
  );
  sections.push(
    `<section aria-labelledby="h-pr"><h2 id="h-pr">How well close contacts are found</h2>` +
      `<p class="caption">Each point is one attenuation threshold (40 to 80 dB): a higher threshold counts weaker signals as close, finding more of the ${d.detection.groundTruthContacts} real close contacts (recall) at the cost of more false alarms (precision); the ring marks the ${d.detection.thresholdDb} dB the tokens' figures use.</p>` +
      `<div class="chart" id="chart-pr"></div>${detectionTable(d)}</section>`
  );
  if (d.detection.roc.length) {
    sections.push(
      `<section aria-labelledby="h-roc"><h2 id="h-roc">Every detector on the same contacts</h2>` +
        `<p class="caption">Each line is one detector as its cut moves from strict to lax: up is more of the ${d.detection.groundTruthContacts} real close contacts found, right is more of the other pair-days (a wearer and another, on one day) flagged by mistake. A line nearer the top left corner tells the two apart better; the marker is the cut the detector uses. Only pair-days the detector heard can be flagged: the straight end up to the top right corner is the rest, which it cannot rank.</p>` +
        rocSvg(d.detection.roc) +
        `</section>`
    );
  }
  if (d.timeline) {
    sections.push(
      `<section aria-labelledby="h-timeline"><h2 id="h-timeline">From a diagnosis to the warnings</h2>` +
        `<p class="caption">For each person who tested positive, the hours from staff entering the code at the kiosk to the keys being published and to each exposed wearer's token showing a warning at its next sync (diamond: code entered; circle: keys published; triangles: red for a high warning, orange for a low one; hollow when the wearer was not exposed to that person).</p>` +
        timelineSvg(d.timeline) +
        timelineList(d.timeline) +
        `</section>`
    );
  }
  sections.push(
    `<section aria-labelledby="h-battery"><h2 id="h-battery">Battery life per token</h2>` +
      `<p class="caption">How many days each token's coin cell lasts at the current it drew in this run (advertising, scanning, logging${d.timeline ? ", syncing" : ""}).</p>` +
      `<div class="chart" id="chart-battery"></div></section>`
  );
  sections.push(
    `<section aria-labelledby="h-retention"><h2 id="h-retention">How far back each token remembers</h2>` +
      `<p class="caption">Bars: days of contacts each token's log holds in the smallest board's flash at the rate it logged; ${d.timeline ? "dots: days the kiosk could still match at the end of the run (its sealed archive plus the token); " : ""}the dashed line is the ${d.historyGoalDays} days exposure notification looks back.</p>` +
      `<div class="chart" id="chart-retention"></div>${tokenTable(d)}</section>`
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(d.title)} — PrivateTracer demo report</title>
<style>${assets.uplotCss}</style>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${esc(d.title)}</h1>
<p class="lede">PrivateTracer's firmware, run on every simulated token in a simulated ${esc(d.scenario)}${d.description ? ` (${esc(d.description)})` : ""}, from ${startDate} for ${d.days} days (seed ${d.seed}, board ${esc(d.board)}, ${esc(d.firmware)} firmware).</p>
<dl class="figures">${figures.join("")}</dl>
</header>
<main>
${sections.join("\n")}
</main>
<footer><p>Made by <code>privatetracer simulate --report</code>. Everything on this page is in this one file: it needs no network.</p></footer>
<script type="application/json" id="report-data">${scriptJson(d)}</script>
<script>${scriptText(assets.uplotJs)}</script>
<script>${scriptText(CLIENT_SCRIPT)}</script>
</body>
</html>
`;
}

/** Writes the report (atomically) and returns its size in bytes. */
export function writeReport(file: string, d: ReportData): number {
  const html = Buffer.from(reportHtml(d), "utf8");
  writeFileAtomic(file, html);
  return html.length;
}
