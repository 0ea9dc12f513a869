/**
 * The care home seen from above: rooms from the scenario, each person at the
 * spot they are most often, each pair of close contacts as a stroke where they
 * were close (thicker for more days), dashed lines from each diagnosed person
 * to their contacts, the kiosk, and who was diagnosed or warned. Inline SVG with
 * a title and description, so it needs no script and a screen reader has a
 * summary of it.
 */
import { FloorPlanData } from "./types";
import { COLOURS, esc, marker, n, roleColour } from "./svg";

/** The drawing is about this many units wide (marks and type are sized in these units), at most MAX_SCALE a metre. */
const TARGET_W = 1000;
const MAX_SCALE = 50;
const MARGIN = 14;

const ROOM_FILL: Record<string, string> = {
  bedroom: "#F6EEDD",
  corridor: "#ECECEC",
  dining: "#E3F1E6",
  lounge: "#E2EEF8",
  office: "#EFE6F3"
};

export function floorPlanSvg(f: FloorPlanData): string {
  const xs = f.rooms.flatMap((r) => [r.x, r.x + r.w]);
  const ys = f.rooms.flatMap((r) => [r.y, r.y + r.h]);
  const minX = Math.min(...xs, ...f.people.map((p) => p.x));
  const maxX = Math.max(...xs, ...f.people.map((p) => p.x));
  const minY = Math.min(...ys, ...f.people.map((p) => p.y));
  const maxY = Math.max(...ys, ...f.people.map((p) => p.y));
  const SCALE = Math.min(MAX_SCALE, TARGET_W / Math.max(1, maxX - minX));
  const W = (maxX - minX) * SCALE + 2 * MARGIN;
  const H = (maxY - minY) * SCALE + 2 * MARGIN;
  // Scenario y grows northwards; SVG's grows down.
  const X = (x: number) => MARGIN + (x - minX) * SCALE;
  const Y = (y: number) => MARGIN + (maxY - y) * SCALE;
  const at = new Map(f.people.map((p) => [p.id, p]));
  const diagnosed = new Set(f.people.filter((p) => p.diagnosed).map((p) => p.id));
  const out: string[] = [];
  const bedrooms = f.rooms.filter((r) => r.kind === "bedroom").length;
  const summary =
    `${f.rooms.length} rooms${bedrooms ? ` (${bedrooms} bedrooms)` : ""}, ${f.people.length} people, ` +
    `${f.contacts.length} pairs of close contacts` +
    (diagnosed.size ? `; diagnosed: ${[...diagnosed].join(", ")}` : "") +
    (f.kiosk ? `; the kiosk stands in the ${f.kiosk.room}` : "") +
    ".";
  out.push(
    `<svg id="floor-plan" class="floor-plan" viewBox="0 0 ${n(W)} ${n(H)}" role="img" aria-labelledby="floor-plan-title floor-plan-desc" xmlns="http://www.w3.org/2000/svg">`,
    `<title id="floor-plan-title">Floor plan with close contacts</title>`,
    `<desc id="floor-plan-desc">${esc(summary)}</desc>`,
    `<g class="rooms">`
  );
  for (const r of f.rooms) {
    // Numbered bedrooms by their number alone: the care home has dozens.
    const label = /^bedroom-\d+$/.test(r.id) ? r.id.slice("bedroom-".length) : r.id;
    const big = r.w * SCALE > 60 && r.h * SCALE > 40;
    out.push(
      `<g class="room" data-room="${esc(r.id)}"><title>${esc(r.id)} (${esc(r.kind)}, ${n(r.w)} × ${n(r.h)} m)</title>` +
        `<rect x="${n(X(r.x))}" y="${n(Y(r.y + r.h))}" width="${n(r.w * SCALE)}" height="${n(r.h * SCALE)}" fill="${ROOM_FILL[r.kind] ?? "#F2F2F2"}" stroke="#6B6B6B" stroke-width="1.5"/>` +
        `<text x="${n(X(r.x) + 4)}" y="${n(Y(r.y + r.h) + (big ? 14 : 11))}" font-size="${big ? 12 : 9}" fill="#333">${esc(label)}</text></g>`
    );
  }
  // Every close contact as a short stroke between the two people where they were close most often (where contacts
  // happen shows as darker ink), then the contacts of each diagnosed person from their mark to the other's.
  out.push(`</g><g class="contacts" stroke="#34506E" stroke-opacity="0.35" stroke-linecap="round">`);
  for (const c of f.contacts) {
    const w = Math.min(6, 1.5 + 0.7 * c.days);
    out.push(
      `<line class="contact" x1="${n(X(c.at[0]))}" y1="${n(Y(c.at[1]))}" x2="${n(X(c.at[2]))}" y2="${n(Y(c.at[3]))}" stroke-width="${n(w)}">` +
        `<title>${esc(c.a)} and ${esc(c.b)}: ${c.days} d, ${c.minutes} min within 2 m</title></line>`
    );
  }
  out.push(
    `</g><g class="contacts-diagnosed" stroke="${COLOURS.vermillion}" stroke-opacity="0.8" stroke-dasharray="6 3" stroke-width="1.5">`
  );
  for (const c of f.contacts) {
    if (!diagnosed.has(c.a) && !diagnosed.has(c.b)) continue;
    const a = at.get(c.a);
    const b = at.get(c.b);
    if (!a || !b) continue;
    out.push(
      `<line class="contact-diagnosed" x1="${n(X(a.x))}" y1="${n(Y(a.y))}" x2="${n(X(b.x))}" y2="${n(Y(b.y))}"><title>${esc(c.a)} and ${esc(c.b)}</title></line>`
    );
  }
  out.push(`</g><g class="people">`);
  for (const p of f.people) {
    const colour = roleColour(p.role);
    const x = X(p.x);
    const y = Y(p.y);
    const fill = p.device === "token" ? colour : "#FFFFFF";
    const dev = p.device === "token" ? "wears a token" : p.device === "phone" ? "carries a phone" : "carries nothing";
    const state = p.diagnosed ? ", diagnosed" : p.warnedLevel ? `, warned (${p.warnedLevel === 2 ? "high" : "low"})` : "";
    out.push(
      `<g class="person" data-person="${esc(p.id)}"><title>${esc(p.id)}: ${esc(p.role)}, ${dev}${state}; most often in ${esc(p.room)}</title>`
    );
    if (p.diagnosed) out.push(`<circle cx="${n(x)}" cy="${n(y)}" r="11" fill="none" stroke="${COLOURS.vermillion}" stroke-width="3"/>`);
    else if (p.warnedLevel)
      out.push(
        `<circle cx="${n(x)}" cy="${n(y)}" r="10" fill="none" stroke="${COLOURS.orange}" stroke-width="2.5" stroke-dasharray="3 2"/>`
      );
    out.push(marker(p.role, x, y, 5, `fill="${fill}" stroke="${colour}" stroke-width="2"`));
    if (p.diagnosed)
      out.push(`<text x="${n(x + 13)}" y="${n(y + 4)}" font-size="12" font-weight="bold" fill="${COLOURS.vermillion}">${esc(p.id)}</text>`);
    out.push(`</g>`);
  }
  out.push(`</g>`);
  if (f.kiosk) {
    const x = X(f.kiosk.x);
    const y = Y(f.kiosk.y);
    out.push(
      `<g class="kiosk"><title>The kiosk, in the ${esc(f.kiosk.room)}</title>` +
        `<rect x="${n(x - 9)}" y="${n(y - 9)}" width="18" height="18" rx="3" fill="${COLOURS.black}"/>` +
        `<text x="${n(x)}" y="${n(y + 4.5)}" font-size="13" font-weight="bold" fill="#FFFFFF" text-anchor="middle">K</text>` +
        `<text x="${n(x + 13)}" y="${n(y + 4.5)}" font-size="12" font-weight="bold" fill="${COLOURS.black}">kiosk</text></g>`
    );
  }
  out.push(`</svg>`);
  return out.join("\n");
}

/** The floor plan's key, as HTML text with small pictures (the pictures are decoration: the words say it all). */
export function floorPlanLegend(f: FloorPlanData): string {
  const roles = [...new Set(f.people.map((p) => p.role))];
  const sw = (inner: string) =>
    `<svg class="swatch" viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false">${inner}</svg>`;
  const items = roles.map(
    (r) =>
      `<li>${sw(marker(r, 12, 12, 6, `fill="${roleColour(r)}" stroke="${roleColour(r)}" stroke-width="2"`))} ${esc(r)} (filled: wears a token; hollow: a phone or nothing)</li>`
  );
  items.push(
    `<li>${sw(`<line x1="4" y1="12" x2="20" y2="12" stroke="#34506E" stroke-width="4" stroke-opacity="0.5" stroke-linecap="round"/>`)} a close contact (≥ 15 min within 2 m on a day), drawn where the two were (thicker: more days; darker: many there)</li>`,
    `<li>${sw(`<line x1="2" y1="12" x2="22" y2="12" stroke="${COLOURS.vermillion}" stroke-width="2" stroke-dasharray="6 3"/>`)} from someone diagnosed to each of their close contacts (dashed)</li>`,
    `<li>${sw(`<circle cx="12" cy="12" r="9" fill="none" stroke="${COLOURS.vermillion}" stroke-width="3"/>`)} diagnosed (solid ring, named)</li>`,
    `<li>${sw(`<circle cx="12" cy="12" r="9" fill="none" stroke="${COLOURS.orange}" stroke-width="2.5" stroke-dasharray="3 2"/>`)} warned by the kiosk (dashed ring)</li>`
  );
  if (f.kiosk) items.push(`<li>${sw(`<rect x="3" y="3" width="18" height="18" rx="3" fill="${COLOURS.black}"/>`)} the kiosk (K)</li>`);
  return `<ul class="legend">${items.join("")}</ul>`;
}
