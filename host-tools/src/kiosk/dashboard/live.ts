import type { KioskEvent } from "../events";
import { levelText } from "./words";

/**
 * Kiosk events as the dashboard's live view shows them: one sentence each,
 * never a stack trace, and a token named only by its label. A diagnosis's
 * events carry its job id and state only, never the token: the home page
 * receives the same stream, and nothing on it may say who was diagnosed.
 */

export type LiveMessage =
  /** The radio's activity: what the "now" line says. `tokenId` lets the home page mark that row. */
  | { type: "radio"; text: string; tokenId: string | null; busy: boolean }
  /** A sync finished: the home page reloads its rows. */
  | { type: "synced"; text: string; tokenId: string | null; ok: boolean }
  | { type: "keys"; text: string }
  | { type: "job"; id: string; state: string; text: string };

export function liveMessage(e: KioskEvent, labelOf: (tokenId: string) => string, now: number): LiveMessage | null {
  const name = (id: string | null): string => (id ? labelOf(id) || "a token" : "a token");
  switch (e.kind) {
    case "sync": {
      const p = e.event;
      switch (p.kind) {
        case "scanning":
          return { type: "radio", text: "Listening for tokens with their sync window open…", tokenId: null, busy: false };
        case "found":
          return p.found.length
            ? { type: "radio", text: `Heard ${p.found.length} device(s) nearby; checking which are our tokens…`, tokenId: null, busy: true }
            : null;
        case "connecting":
          return { type: "radio", text: "Connecting to a device nearby…", tokenId: null, busy: true };
        case "passed-over":
          return null;
        case "progress": {
          const g = p.progress;
          if (g.kind === "identified") return { type: "radio", text: `Syncing ${name(g.tokenId)}…`, tokenId: g.tokenId, busy: true };
          if (g.kind === "chunk") return { type: "radio", text: `Reading the token's record (part ${g.seg})…`, tokenId: null, busy: true };
          if (g.kind === "stored")
            return { type: "radio", text: "Record stored; checking it against the published keys…", tokenId: null, busy: true };
          if (g.kind === "risk-set")
            return {
              type: "radio",
              text: `The token now shows: ${levelText({ label: "", riskLevel: g.level, riskReason: g.reason, riskAt: now }, now).words}.`,
              tokenId: null,
              busy: true
            };
          if (g.kind === "consent-wait")
            return { type: "radio", text: "Waiting for the wearer to press the token's button…", tokenId: null, busy: true };
          return null;
        }
        case "done": {
          const r = p.result;
          if (r.outcome === "ok") return { type: "synced", text: `${name(r.tokenId)} synced.`, tokenId: r.tokenId, ok: true };
          const why = r.detail.trim().replace(/\.$/, "");
          return {
            type: "synced",
            text: `${name(r.tokenId)} could not be synced: ${why}. It will be tried again when it is next in reach.`,
            tokenId: r.tokenId,
            ok: false
          };
        }
      }
      return null;
    }
    case "keys":
      return { type: "keys", text: `Published keys read: ${e.keys}.${e.warning ? ` Warning: ${e.warning}.` : ""}` };
    case "keys-unreadable":
      return {
        type: "keys",
        text: `The published keys could not be read (${e.message.replace(/\.$/, "")}). ${e.since === null ? "No keys were ever read: no warnings can be given yet." : `Still using the ${e.using} key(s) read before.`}`
      };
    case "radio-job": {
      const s = e.job.status;
      const text =
        s.state === "queued"
          ? "Waiting for the radio…"
          : s.state === "searching"
            ? "Looking for the token: ask the wearer to hold its button for 2 seconds and bring it close to the kiosk."
            : s.state === "press-now"
              ? "Press the button on the token now (once, briefly)."
              : s.result.message;
      return { type: "job", id: e.job.id, state: s.state === "done" ? `done:${s.result.outcome}` : s.state, text };
    }
    default:
      return null;
  }
}
