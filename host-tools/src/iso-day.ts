/**
 * Calendar dates given by a person, "YYYY-MM-DD" (UTC). `Date.parse` takes a
 * day up to 31 in any month and rolls it over (2024-02-30 became 2024-03-01
 * without a word), so a date is accepted only if it names that very day.
 */

/** Unix seconds of the UTC midnight starting `s`, or null if `s` is not a real day written YYYY-MM-DD. */
export function parseIsoDay(s: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return null;
  const t = Date.parse(`${s}T00:00:00Z`);
  if (!Number.isFinite(t) || new Date(t).toISOString().slice(0, 10) !== s) return null;
  return t / 1000;
}
