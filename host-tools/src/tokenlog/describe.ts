import { ACK_FILE, LOG_PREFIX, SEGMENT_RECORDS } from "../../../firmware/src/wire/log-record";
import { SegmentGap, SegmentInfo, TokenLog } from "./read-log";

/** What `privatetracer log show` prints: the text for people, the JSON for scripts. */

function iso(t: number | null): string {
  return t === null ? "-" : new Date(t * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function baseText(s: SegmentInfo): string {
  if (s.base === null) return "-";
  if (s.clock === "utc") return iso(s.base);
  return `uptime ${s.base} s` + (s.anchor !== null ? ` = ${iso(s.anchor)}` : "");
}

/** One line per reason a record was skipped (empty when none was). */
export function skippedLines(log: TokenLog): string[] {
  const k = log.skipped;
  const out: string[] = [];
  if (k.torn) out.push(`${k.torn} torn record(s) skipped: failed the check byte (a power cut while being written)`);
  if (k.rejected)
    out.push(
      `${k.rejected} damaged record(s) skipped: passed the check byte but cannot be what the token wrote there (RSSI fields it never logs, or out of time order)`
    );
  if (k.unplaced)
    out.push(`${k.unplaced} record(s) not placed in time: logged against the uptime of a boot whose clock was lost and never set`);
  if (k.unreadableSegment) out.push(`${k.unreadableSegment} written slot(s) skipped in segment(s) with an unreadable header`);
  if (k.cutOff) out.push(`${k.cutOff} written slot(s) cut off by the end of a damaged file`);
  return out;
}

function spanText(from: number | null, to: number | null): string {
  if (from === null && to === null) return "at a time the log cannot place";
  if (from === null) return `before ${iso(to)}`;
  if (to === null) return `after ${iso(from)}`;
  return `between ${iso(from)} and ${iso(to)}`;
}

function numbers(g: SegmentGap): string {
  return g.first === g.last ? `${LOG_PREFIX}${g.first}` : `${LOG_PREFIX}${g.first} to ${LOG_PREFIX}${g.last}`;
}

/** A run of missing segment numbers, with what it means for the log. */
export function gapLine(g: SegmentGap): string {
  const n = g.last - g.first + 1;
  const when = spanText(g.after, g.before);
  switch (g.cause) {
    case "acknowledged":
      return `missing segment(s) ${numbers(g)}: below the acknowledgement, so stored on a kiosk (not lost)`;
    case "evicted":
      return `missing segment(s) ${numbers(g)} (${when}): erased by the token to make room, written during a flood; their records are in the dropped count`;
    case "empty":
      return `missing segment(s) ${numbers(g)}: erased by the token at boot, a power cut having cut their creation; they held nothing`;
    case "renumbered":
      return `segment numbers ${numbers(g)} skipped: no segment had them; the token took its numbering from a damaged ${ACK_FILE} (a power cut while it was written), and it counts every segment below that number as stored on a kiosk, so any it erased for room are in no count: sync it and erase its Storage`;
    case "unexplained":
      return `MISSING SEGMENT(S) ${numbers(g)} (${when}): nothing in the log says why: lost to flash damage (a damaged file name or header), a flood segment the token evicted with no flood shown next to it (its records then in the dropped count), or one erased at boot after a power cut cut its creation (then empty); up to ${(n * SEGMENT_RECORDS).toLocaleString("en-GB")} record(s) that no count includes`;
  }
}

/** One line per loss the token counted or the log shows (empty when nothing was lost). */
export function lossLines(log: TokenLog): string[] {
  const l = log.losses;
  const out: string[] = [];
  if (l.flood || l.floodSegments.length)
    out.push(
      `FLOOD: ${l.floodSegments.length} segment(s) (${l.floodSegments.join(", ")}) written while the token had declared a flood or when it began${l.flood ? ` (records ${spanText(l.flood.first, l.flood.last)})` : ""}: more new identifiers an hour than any crowd gives; only the strongest few of each scan were kept, the rest counted as dropped, and history before the flood was not evicted for it`
    );
  for (const s of l.spans) out.push(`lost: ${s.sightings} sighting(s) not kept ${spanText(s.from, s.to)}`);
  for (const g of l.gaps) out.push(gapLine(g));
  return out;
}

export function logText(log: TokenLog): string {
  const out: string[] = [];
  out.push(`${log.source}: ${log.kind === "image" ? "Storage image" : "token files"}, ${log.segments.length} log segment(s)`);
  if (log.segments.length) {
    const rows = [["segment", "status", "base", "records", "torn", "dropped", "first", "last"]];
    for (const s of log.segments)
      rows.push([
        s.name,
        s.flood ? `${s.status} (flood)` : s.floodMarked ? `${s.status} (flood began)` : s.status,
        baseText(s),
        String(s.records),
        String(s.tornRecords),
        s.dropped === null ? "-" : String(s.dropped),
        iso(s.first),
        iso(s.last)
      ]);
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    for (const r of rows)
      out.push(
        "  " +
          r
            .map((v, c) => v.padEnd(widths[c]))
            .join("  ")
            .trimEnd()
      );
    for (const s of log.segments) {
      if (s.note && s.status !== "unplaced") out.push(`  ${s.name}: ${s.note}`);
      if (s.rejectedRecords)
        out.push(`  ${s.name}: ${s.rejectedRecords} damaged record(s) skipped (passed the check byte, but not what the token writes)`);
    }
  }
  out.push(`records: ${log.records.length} placed in time`);
  for (const l of skippedLines(log)) out.push(`  ${l}`);
  out.push(`dropped (counted by the token): ${log.dropped}${log.droppedFile !== null ? ` (drop-count file: ${log.droppedFile})` : ""}`);
  for (const l of lossLines(log)) out.push(`  ${l}`);
  out.push(`time span: ${log.span ? `${iso(log.span.first)} to ${iso(log.span.last)}` : "none"}`);
  for (const d of log.damage)
    out.push(`DAMAGED (${d.kind}) at byte ${d.offset}${d.file ? ` in ${d.file}` : ""}: ${d.message}; only what was readable is shown`);
  for (const d of log.workedAround) out.push(`damage read around at byte ${d.offset}${d.file ? ` in ${d.file}` : ""}: ${d.message}`);
  return out.join("\n");
}

export function logJson(log: TokenLog): Record<string, unknown> {
  return {
    source: log.source,
    kind: log.kind,
    segments: log.segments,
    records: log.records.length,
    skipped: log.skipped,
    dropped: log.dropped,
    droppedFile: log.droppedFile,
    losses: log.losses,
    span: log.span,
    damage: log.damage,
    workedAround: log.workedAround
  };
}
