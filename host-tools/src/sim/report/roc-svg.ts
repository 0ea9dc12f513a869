/**
 * The ROC curves of the detectors scored on the same close contacts (the
 * tokens' threshold rule, the band classifiers, GAEN phones): how many of
 * the real close contacts each finds (true-positive rate) against how many
 * of the other pair-days it flags (false-positive rate), as its cut moves,
 * with the cut each one uses marked. Inline SVG drawn on the server, so it
 * needs no script, with the same figures as a table for reading.
 */
import { RocSeries } from "./types";
import { COLOURS, esc, n } from "./svg";

const W = 480;
const H = 400;
const X0 = 66;
const X1 = W - 16;
const Y0 = H - 56;
const Y1 = 14;

/** Colour, dash and marker per series: the shape and the line say which it is as well as the colour. */
const STYLES = [
  { colour: COLOURS.blue, dash: "", mark: "circle" },
  { colour: COLOURS.vermillion, dash: "8 4", mark: "square" },
  { colour: COLOURS.green, dash: "2 3", mark: "diamond" },
  { colour: COLOURS.purple, dash: "10 3 2 3", mark: "triangle" }
] as const;

function markAt(kind: string, x: number, y: number, colour: string): string {
  const a = `fill="#FFFFFF" stroke="${colour}" stroke-width="2.5"`;
  if (kind === "circle") return `<circle cx="${n(x)}" cy="${n(y)}" r="6" ${a}/>`;
  if (kind === "square") return `<rect x="${n(x - 5.5)}" y="${n(y - 5.5)}" width="11" height="11" ${a}/>`;
  if (kind === "diamond") return `<path d="M${n(x)} ${n(y - 7)}L${n(x + 7)} ${n(y)}L${n(x)} ${n(y + 7)}L${n(x - 7)} ${n(y)}Z" ${a}/>`;
  return `<path d="M${n(x)} ${n(y - 7)}L${n(x + 7)} ${n(y + 6)}L${n(x - 7)} ${n(y + 6)}Z" ${a}/>`;
}

const X = (fpr: number): number => X0 + fpr * (X1 - X0);
const Y = (tpr: number): number => Y0 - tpr * (Y0 - Y1);

export function rocSvg(series: readonly RocSeries[]): string {
  const grid: string[] = [];
  for (let i = 0; i <= 5; i++) {
    const v = i / 5;
    grid.push(
      `<line x1="${n(X(v))}" y1="${n(Y0)}" x2="${n(X(v))}" y2="${n(Y1)}" stroke="#E3E3E3"/>`,
      `<line x1="${n(X0)}" y1="${n(Y(v))}" x2="${n(X1)}" y2="${n(Y(v))}" stroke="#E3E3E3"/>`,
      `<text x="${n(X(v))}" y="${n(Y0 + 18)}" text-anchor="middle">${v.toFixed(1)}</text>`,
      `<text x="${n(X0 - 8)}" y="${n(Y(v) + 5)}" text-anchor="end">${v.toFixed(1)}</text>`
    );
  }
  const curves = series.map((s, k) => {
    const st = STYLES[k % STYLES.length];
    // The curve ends where the detector has flagged all it heard; the rest, up to (1, 1), is the tie with pair-days never heard.
    const pts = [...s.points, [1, 1] as [number, number]];
    const d = pts.map((p, i) => `${i ? "L" : "M"}${n(X(p[0]))} ${n(Y(p[1]))}`).join("");
    return (
      `<path d="${d}" fill="none" stroke="${st.colour}" stroke-width="2.5"${st.dash ? ` stroke-dasharray="${st.dash}"` : ""}/>` +
      markAt(st.mark, X(s.at.falsePositiveRate), Y(s.at.recall), st.colour)
    );
  });
  const label = `ROC curves: ${series
    .map(
      (s) =>
        `${s.label}, AUC ${s.auc.toFixed(2)}, at its cut ${(100 * s.at.recall).toFixed(0)} % of close contacts found for ${(100 * s.at.falsePositiveRate).toFixed(0)} % of other pair-days flagged`
    )
    .join("; ")}.`;
  return (
    `<svg class="roc" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(label)}" font-family="'DejaVu Sans', system-ui, sans-serif" font-size="15">` +
    grid.join("") +
    `<line x1="${n(X(0))}" y1="${n(Y(0))}" x2="${n(X(1))}" y2="${n(Y(1))}" stroke="${COLOURS.grey}" stroke-dasharray="3 5"/>` +
    `<text x="${n(X(0.62))}" y="${n(Y(0.5))}" fill="${COLOURS.grey}">chance</text>` +
    curves.join("") +
    `<text x="${n((X0 + X1) / 2)}" y="${n(H - 10)}" text-anchor="middle" font-weight="bold">other pair-days flagged (false-positive rate)</text>` +
    `<text transform="translate(16 ${n((Y0 + Y1) / 2)}) rotate(-90)" text-anchor="middle" font-weight="bold">close contacts found (recall)</text>` +
    `</svg>` +
    rocLegend(series)
  );
}

function swatch(k: number): string {
  const st = STYLES[k % STYLES.length];
  return (
    `<svg width="44" height="16" aria-hidden="true"><line x1="2" y1="8" x2="42" y2="8" stroke="${st.colour}" stroke-width="2.5"${st.dash ? ` stroke-dasharray="${st.dash}"` : ""}/>` +
    markAt(st.mark, 22, 8, st.colour) +
    `</svg>`
  );
}

/** The legend is the table: each row names its line and marker, and gives the figures at the marker. */
function rocLegend(series: readonly RocSeries[]): string {
  const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;
  return (
    `<p class="caption">Each detector's line, its area (AUC: the chance that a real close contact scores above a pair-day that is not one; 0.5 is chance) and its figures at the cut it uses (the marker):</p>` +
    // On a phone the table may be wider than the screen: it scrolls on its own, reachable from the keyboard.
    `<div class="wide" tabindex="0" role="region" aria-label="ROC figures per detector"><table class="compare roc-table"><caption class="caption">ROC figures per detector</caption>` +
    `<thead><tr><th scope="col">detector</th><th scope="col">AUC</th><th scope="col">found (recall)</th><th scope="col">other pair-days flagged</th><th scope="col">precision</th><th scope="col">F1</th></tr></thead><tbody>` +
    series
      .map(
        (s, k) =>
          `<tr><th scope="row">${swatch(k)} ${esc(s.label)}</th><td>${s.auc.toFixed(3)}</td><td>${pct(s.at.recall)}</td><td>${pct(s.at.falsePositiveRate)}</td><td>${pct(s.at.precision)}</td><td>${s.at.f1.toFixed(3)}</td></tr>`
      )
      .join("") +
    `</tbody></table></div>`
  );
}
