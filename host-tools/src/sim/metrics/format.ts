/** The run figures as text: one row per token, then the overall summary. */
import type { RunMetrics, TokenMetrics } from "./run-metrics";

const COLUMNS: Array<[string, (t: TokenMetrics) => string]> = [
  ["token", (t) => t.person],
  ["encounters", (t) => String(t.encounters)],
  ["/day", (t) => t.encountersPerDay.toFixed(1)],
  ["in flash", (t) => String(t.retained)],
  ["log bytes", (t) => String(t.logBytes)],
  ["B/enc", (t) => t.bytesPerEncounter.toFixed(2)],
  ["retention d", (t) => t.retentionDays.toFixed(1)],
  ["dropped", (t) => String(t.dropped)],
  ["µA", (t) => t.avgCurrentUA.toFixed(1)],
  ["battery d", (t) => t.batteryDays.toFixed(0)],
  ["faults", (t) => String(t.faults)],
  ["uncaught", (t) => String(t.uncaught)]
];

export function tokenTable(tokens: readonly TokenMetrics[]): string {
  const rows = tokens.map((t) => COLUMNS.map(([, f]) => f(t)));
  const head = COLUMNS.map(([h]) => h);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  // Names left-aligned, figures right-aligned so digits line up.
  const fmt = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [fmt(head), fmt(widths.map((w) => "-".repeat(w))), ...rows.map(fmt)].join("\n");
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)} %`;
}

export function metricsSummary(m: RunMetrics): string[] {
  const d = m.detection;
  const rb = m.retentionBoard;
  return [
    `encounters      ${m.encounters} logged, ${m.encountersPerTokenDay} per token a day (busiest ${m.maxEncountersPerDay}); ${m.retained} still in flash at the end`,
    `flash           ${m.logBytes} bytes of log at the end, ${m.bytesPerEncounter.toFixed(2)} bytes per encounter`,
    `retention       ${m.retentionDays} days at the busiest token's rate (${m.retentionDaysAtMean} at the mean) on ${rb.id}: ${rb.storageBytes} B Storage, bundle ${rb.bundleBytes} B${rb.bundleSource === "budget" ? " (budget, not built)" : ""}, ${rb.segments} segments`,
    `power           ${m.avgCurrentUA} µA average, shortest battery ${m.batteryDays} days`,
    `faults          ${m.faults} caught, ${m.uncaught} uncaught (${m.tokensWithFaults} tokens)`,
    `detection       precision ${pct(d.precision)}, recall ${pct(d.recall)} at attenuation ≤ ${d.thresholdDb} dB (${d.truePositives} found, ${d.falsePositives} false of which ${d.falsePositivesWithin3m} within 3 m, ${d.falseNegatives} missed of ${d.groundTruthContacts} token-to-token close contacts; from everything logged)`,
    `                from the logs left at the end (evicted segments lost): precision ${pct(d.atEnd.precision)}, recall ${pct(d.atEnd.recall)}`
  ];
}
