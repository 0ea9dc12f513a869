/** Small helpers for the report's hand-written SVG and HTML. */

/** Text for HTML or SVG content and attribute values. */
export function esc(s: string | number): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** A number for an SVG attribute: two decimals at most. */
export function n(x: number): string {
  return String(Math.round(x * 100) / 100);
}

/** Colour-blind-safe palette (Okabe and Ito), darkened where it must stand on white. */
export const COLOURS = {
  blue: "#0072B2",
  vermillion: "#C4510A",
  green: "#007A5A",
  orange: "#B86E00",
  purple: "#A64D87",
  sky: "#3E8EC4",
  grey: "#555555",
  black: "#1A1A1A"
} as const;

/** Marker for a role: the shape says it as well as the colour. */
export function marker(role: string, x: number, y: number, r: number, attrs: string): string {
  if (role === "resident") return `<circle cx="${n(x)}" cy="${n(y)}" r="${n(r)}" ${attrs}/>`;
  if (role === "staff") return `<rect x="${n(x - r)}" y="${n(y - r)}" width="${n(2 * r)}" height="${n(2 * r)}" ${attrs}/>`;
  if (role === "visitor") {
    const h = r * 1.2;
    return `<path d="M${n(x)} ${n(y - h)}L${n(x + h)} ${n(y + h * 0.8)}L${n(x - h)} ${n(y + h * 0.8)}Z" ${attrs}/>`;
  }
  return `<path d="M${n(x)} ${n(y - r * 1.2)}L${n(x + r * 1.2)} ${n(y)}L${n(x)} ${n(y + r * 1.2)}L${n(x - r * 1.2)} ${n(y)}Z" ${attrs}/>`;
}

export function roleColour(role: string): string {
  return role === "resident" ? COLOURS.blue : role === "staff" ? COLOURS.green : role === "visitor" ? COLOURS.purple : COLOURS.grey;
}
