/**
 * From a diagnosis to the warnings it caused: per diagnosis, on a scale of
 * hours after staff entered the code at the kiosk, when the keys were
 * published and when each exposed wearer's token first showed a warning (at
 * its next sync). Inline SVG, with the same facts as a list for reading.
 */
import { TimelineData, TimelineDiagnosis } from "./types";
import { COLOURS, esc, n } from "./svg";

const W = 640;
const LABEL_W = 165;
const PLOT_X0 = LABEL_W + 10;
const PLOT_X1 = W - 20;
const ROW = 26;
/** More warnings than this are stacked on one band instead of a row each. */
const MAX_ROWS = 8;
const MARK_W = 15;
const MARK_H = 15;

function dayAndTime(t: number, start: number): string {
  const day = Math.floor((t - start) / 86400);
  return `day ${day}, ${new Date(t * 1000).toISOString().slice(11, 16)} UTC`;
}

function niceStep(span: number): number {
  for (const s of [1, 2, 3, 6, 12, 24, 48]) if (span / s <= 8) return s;
  return 96;
}

const levelWord = (l: number): string => (l >= 2 ? "high" : l === 1 ? "low" : "none");

function panel(d: TimelineDiagnosis, start: number, index: number): string {
  const hours = (t: number) => (t - d.at) / 3600;
  const last = Math.max(6, d.publishedAt === null ? 0 : hours(d.publishedAt), ...d.warned.map((w) => hours(w.at)));
  const step = niceStep(last);
  const span = Math.ceil((last * 1.08) / step) * step;
  const X = (h: number) => PLOT_X0 + (h / span) * (PLOT_X1 - PLOT_X0);
  // Few warnings: a row each, named. Many: stacked marks on one band (names on hover and in the list below).
  const stacked = d.warned.length > MAX_ROWS;
  const levels: number[] = [];
  if (stacked) {
    const lastX: number[] = [];
    for (const w of d.warned) {
      const x = X(hours(w.at));
      let l = 0;
      while (lastX[l] !== undefined && x - lastX[l] < MARK_W) l++;
      lastX[l] = x;
      levels.push(l);
    }
  }
  const bandRows = stacked ? Math.ceil(((Math.max(0, ...levels) + 1) * MARK_H) / ROW) : d.warned.length;
  const rows = 1 + bandRows + d.missed.length;
  const top = 8;
  const H = top + rows * ROW + 40;
  const id = `timeline-${index}`;
  const desc =
    `${d.person} was diagnosed on ${dayAndTime(d.at, start)} (${d.status}, ${d.keysUploaded} keys)` +
    (d.publishedAt !== null ? `; keys published after ${n(hours(d.publishedAt))} h` : "") +
    `; ${d.warned.length} token${d.warned.length === 1 ? "" : "s"} warned` +
    (d.warned.length ? ": " + d.warned.map((w) => `${w.person} after ${n(hours(w.at))} h (${levelWord(w.level)})`).join(", ") : "") +
    (d.missed.length ? `; exposed but not warned: ${d.missed.join(", ")}` : "") +
    ".";
  const out: string[] = [
    `<svg class="timeline" id="${id}" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="${id}-title ${id}-desc" xmlns="http://www.w3.org/2000/svg">`,
    `<title id="${id}-title">Diagnosis of ${esc(d.person)} and the warnings that followed</title>`,
    `<desc id="${id}-desc">${esc(desc)}</desc>`
  ];
  // Grid and axis.
  const axisY = top + rows * ROW + 4;
  for (let h = 0; h <= span + 1e-9; h += step) {
    out.push(
      `<line x1="${n(X(h))}" y1="${top}" x2="${n(X(h))}" y2="${n(axisY)}" stroke="#D0D0D0" stroke-width="1"/>`,
      `<text x="${n(X(h))}" y="${n(axisY + 15)}" font-size="12" text-anchor="middle" fill="#333">${h}</text>`
    );
  }
  out.push(
    `<line x1="${PLOT_X0}" y1="${n(axisY)}" x2="${PLOT_X1}" y2="${n(axisY)}" stroke="#333" stroke-width="1"/>`,
    `<text x="${n((PLOT_X0 + PLOT_X1) / 2)}" y="${n(axisY + 32)}" font-size="12" text-anchor="middle" fill="#333">hours after the code was entered at the kiosk</text>`
  );
  // Row 0: the diagnosis and the publication of its keys.
  const y0 = top + ROW / 2;
  out.push(
    `<text x="4" y="${n(y0 + 4)}" font-size="13" font-weight="bold" fill="${COLOURS.vermillion}">${esc(d.person)}</text>`,
    `<path class="event-diagnosis" d="M${n(X(0))} ${n(y0 - 8)}L${n(X(0) + 8)} ${n(y0)}L${n(X(0))} ${n(y0 + 8)}L${n(X(0) - 8)} ${n(y0)}Z" fill="${COLOURS.vermillion}"><title>code entered: ${esc(dayAndTime(d.at, start))}</title></path>`
  );
  if (d.publishedAt !== null) {
    const xp = X(hours(d.publishedAt));
    out.push(
      `<line x1="${n(X(0))}" y1="${n(y0)}" x2="${n(xp)}" y2="${n(y0)}" stroke="${COLOURS.vermillion}" stroke-width="2"/>`,
      `<circle class="event-published" cx="${n(xp)}" cy="${n(y0)}" r="6" fill="#FFFFFF" stroke="${COLOURS.vermillion}" stroke-width="2.5"><title>keys published: ${esc(dayAndTime(d.publishedAt, start))}</title></circle>`,
      `<text x="${n(xp + 10)}" y="${n(y0 + 4)}" font-size="12" fill="#333">keys published</text>`
    );
  } else {
    out.push(`<text x="${n(X(0) + 14)}" y="${n(y0 + 4)}" font-size="12" fill="#333">${esc(d.status)}: no keys published</text>`);
  }
  // One row per warned token (or the stacked band), then the exposed ones never warned.
  const warningMark = (w: TimelineDiagnosis["warned"][number], x: number, y: number): string => {
    const c = w.level >= 2 ? COLOURS.vermillion : COLOURS.orange;
    // Filled: exposed to this person; hollow: warned though not exposed to them (a false alarm, or exposed to someone else).
    const paint = w.exposed ? `fill="${c}"` : `fill="#FFFFFF" stroke="${c}" stroke-width="2"`;
    return `<path class="event-warning" d="M${n(x)} ${n(y - 7)}L${n(x + 7)} ${n(y + 6)}L${n(x - 7)} ${n(y + 6)}Z" ${paint}><title>${esc(w.person)} warned (${levelWord(w.level)}${w.exposed ? "" : ", not exposed to this person"}): ${esc(dayAndTime(w.at, start))}, after ${n(hours(w.at))} h</title></path>`;
  };
  if (stacked) {
    const bottom = top + (1 + bandRows) * ROW - 4;
    out.push(
      `<text x="4" y="${n(top + ROW + 14)}" font-size="13" fill="#1A1A1A">${d.warned.length} tokens</text>`,
      `<text x="4" y="${n(top + ROW + 30)}" font-size="13" fill="#1A1A1A">warned</text>`
    );
    d.warned.forEach((w, k) => out.push(warningMark(w, X(hours(w.at)), bottom - 7 - levels[k] * MARK_H)));
  }
  d.warned.forEach((w, k) => {
    if (stacked) return;
    const y = top + (k + 1) * ROW + ROW / 2;
    const x = X(hours(w.at));
    out.push(
      `<text x="4" y="${n(y + 4)}" font-size="13" fill="#1A1A1A">${esc(w.person)}</text>`,
      `<line x1="${n(X(0))}" y1="${n(y0 + 8)}" x2="${n(x)}" y2="${n(y)}" stroke="#8A8A8A" stroke-width="1" stroke-dasharray="3 3"/>`,
      warningMark(w, x, y),
      `<text x="${n(x + 12)}" y="${n(y + 4)}" font-size="12" fill="#1A1A1A">${levelWord(w.level)} warning, ${n(hours(w.at))} h${w.exposed ? "" : " (not exposed to this person)"}</text>`
    );
  });
  d.missed.forEach((p, k) => {
    const y = top + (bandRows + k + 1) * ROW + ROW / 2;
    out.push(
      `<text x="4" y="${n(y + 4)}" font-size="13" fill="#1A1A1A">${esc(p)}</text>`,
      `<text x="${PLOT_X0}" y="${n(y + 4)}" font-size="12" fill="${COLOURS.vermillion}">✕ exposed, not warned by the end of the run</text>`
    );
  });
  out.push(`</svg>`);
  return out.join("\n");
}

export function timelineSvg(t: TimelineData): string {
  if (!t.diagnoses.length) return `<p>Nobody was diagnosed in this run.</p>`;
  return t.diagnoses.map((d, i) => `<div class="timeline-panel">${panel(d, t.start, i)}</div>`).join("\n");
}

/** The same facts as sentences. */
export function timelineList(t: TimelineData): string {
  const items = t.diagnoses.map((d) => {
    const h = (x: number) => n((x - d.at) / 3600);
    const warned = d.warned.map((w) => `${esc(w.person)} (${levelWord(w.level)}, after ${h(w.at)} h)`).join(", ");
    return (
      `<li><strong>${esc(d.person)}</strong>: code entered on ${esc(dayAndTime(d.at, t.start))}; ${esc(d.status)}, ${d.keysUploaded} keys` +
      (d.publishedAt !== null ? `, published after ${h(d.publishedAt)} h` : "") +
      `. Warned: ${warned || "nobody"}.` +
      (d.warnedBefore.length ? ` Already warned before: ${esc(d.warnedBefore.join(", "))}.` : "") +
      (d.missed.length ? ` Exposed but not warned: ${esc(d.missed.join(", "))}.` : "") +
      (d.exposedWithoutToken ? ` ${d.exposedWithoutToken} exposed people carried no token (their phones would warn them).` : "") +
      `</li>`
    );
  });
  return `<ul class="facts">${items.join("")}</ul>`;
}
