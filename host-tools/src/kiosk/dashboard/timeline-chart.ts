import { emptyBuckets } from "../../match/exposure-windows";
import { BUCKETS, Bucket } from "../../match/risk-config";
import type { TimelineDay } from "../exposure-timeline";
import { dayWords } from "./words";

/**
 * The token page's exposure timeline as a picture the server draws: one
 * stacked bar per day of the last 14, a band per colour, closest at the
 * bottom; and the same numbers as a table, so colour is never the only
 * signal and a screen reader reads the table. Plain SVG attributes (no
 * style, no script): the page's Content-Security-Policy stays strict.
 */

const DAY = 86400;
export const TIMELINE_DAYS = 14;

/** Staff's words for the matcher's attenuation bands, and a colour-blind-safe colour each (Okabe and Ito). */
export const BAND_LOOK: Record<Bucket, { words: string; colour: string }> = {
  immediate: { words: "very close", colour: "#C4510A" },
  near: { words: "close", colour: "#B86E00" },
  medium: { words: "a few metres", colour: "#3E8EC4" },
  other: { words: "further", colour: "#777777" }
};

export interface TimelineBar {
  x: number;
  width: number;
  rects: Array<{ y: number; height: number; colour: string; band: Bucket }>;
  label: string;
  labelX: number;
}

export interface TimelineChart {
  width: number;
  height: number;
  /** Top of the scale, minutes. */
  max: number;
  bars: TimelineBar[];
  axisY: number;
  legend: Array<{ words: string; colour: string }>;
  /** The table beside the picture: only days with any time, newest first. */
  rows: Array<{ day: string; minutes: Record<Bucket, number>; total: number; words: string }>;
}

const W = 640;
const H = 220;
const TOP = 10;
const BOTTOM = 30;
const LEFT = 10;

export function timelineChart(days: readonly TimelineDay[], now: number): TimelineChart {
  const byDay = new Map(days.map((d) => [d.day, d.minutes]));
  const today = Math.floor(now / DAY);
  const slots = Array.from({ length: TIMELINE_DAYS }, (_, i) =>
    new Date((today - TIMELINE_DAYS + 1 + i) * DAY * 1000).toISOString().slice(0, 10)
  );
  const minutes = slots.map((d) => byDay.get(d) ?? emptyBuckets());
  const max = Math.max(15, ...minutes.map(total));
  const plotH = H - TOP - BOTTOM;
  const step = (W - LEFT * 2) / TIMELINE_DAYS;
  const bars = slots.map((day, i): TimelineBar => {
    const m = minutes[i];
    let y = H - BOTTOM;
    const rects: TimelineBar["rects"] = [];
    for (const band of BUCKETS) {
      const h = (m[band] / max) * plotH;
      if (h <= 0) continue;
      y -= h;
      rects.push({ y: round(y), height: round(h), colour: BAND_LOOK[band].colour, band });
    }
    const x = LEFT + i * step + step * 0.15;
    return { x: round(x), width: round(step * 0.7), rects, label: day.slice(8, 10), labelX: round(x + step * 0.35) };
  });
  const rows = days
    .map((d) => ({ day: dayWords(d.day), minutes: d.minutes, total: total(d.minutes) }))
    .filter((r) => r.total > 0)
    .map((r) => ({ ...r, words: rowWords(r.minutes, r.total) }))
    .reverse();
  return {
    width: W,
    height: H,
    max,
    bars,
    axisY: H - BOTTOM,
    legend: BUCKETS.map((b) => BAND_LOOK[b]),
    rows
  };
}

function total(m: Record<Bucket, number>): number {
  return BUCKETS.reduce((s, b) => s + m[b], 0);
}

/** "30 min very close, 10 min close, 5 min further: 45 min in all" (bands with no time left out). */
function rowWords(m: Record<Bucket, number>, all: number): string {
  const parts = BUCKETS.filter((b) => m[b] > 0).map((b) => `${m[b]} min ${BAND_LOOK[b].words}`);
  return parts.length > 1 ? `${parts.join(", ")}: ${all} min in all` : parts.join("");
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
