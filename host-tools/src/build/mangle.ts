import * as fs from "node:fs";
import * as path from "node:path";
import { firmwareDir } from "../paths";

/**
 * Property names of the firmware's own objects (the platform seam, the log,
 * the key schedule, sync sessions, …) that the bundler shortens to one or
 * two letters: on a token every byte of code is a byte the log cannot use.
 * Only names no Espruino object, option or event uses may be here: the
 * bundler renames every `.name` and `name:` in the bundle, and Espruino
 * looks its own up by name; nor may a board constant's (`BOARD.storage.…`
 * must stay whole for the board's values to replace it). `checkMangleList`
 * fails the build if one of these is declared on an Espruino type or in the
 * board constants (firmware/types/espruino.d.ts, board.d.ts).
 */
export const MANGLED_PROPS = [
  "rollingStart", "stopAdvertising", "random32", "freeJsVars", "dropped", "syncOpen", "anchor", "fault", "flags",
  "stopScan", "startScan", "aes128Ecb", "save", "base", "tek", "rpi", "aem", "ack", "linkWrite", "needsSync", "consent",
  "batteryLow", "linkClose", "showStatus", "syncSecret", "identifiersAt", "setSyncWindow", "have", "reason", "segments", "rotate",
  "riskChanged", "battery", "txSeq", "rxSeq", "openWindow", "linked", "onButton", "riskNone", "riskHigh", "riskLow",
  "linkDown", "hold", "openSync", "seg", "homeKey", "unsaved", "archiveSecret", "tokenId", "dir", "dead", "off", "faults", "onLink",
  "beacon", "nt", "nc", "boots", "guard", "watch", "flush", "enc", "mac", "risk", "roll", "teks", "play", "buf", "bad", "led",
  "setTimeout", "clearTimeout", "setInterval", "clearInterval", "setTime", "now", "type", "start", "add"
];

/** The esbuild `mangleProps` pattern, after checking the list against Espruino's declared members. */
export function mangleProps(): RegExp {
  const clash = checkMangleList();
  if (clash.length) throw new Error(`cannot shorten property names Espruino uses: ${clash.join(", ")} (host-tools/src/build/mangle.ts)`);
  return new RegExp(`^(${MANGLED_PROPS.join("|")})$`);
}

/** Names in MANGLED_PROPS that an interface in firmware/types/espruino.d.ts or board.d.ts declares as a member. */
export function checkMangleList(): string[] {
  const dts = ["espruino.d.ts", "board.d.ts"].map((f) => fs.readFileSync(path.join(firmwareDir, "types", f), "utf8")).join("\n");
  const members = new Set<string>();
  for (const m of dts.matchAll(/(?:^\s+|[{;,]\s*)(?:readonly\s+)?([A-Za-z_$][\w$]*)\??\s*[(:]/gm)) members.add(m[1]);
  for (const m of dts.matchAll(/["']([A-Za-z_$][\w$]*)["']/g)) members.add(m[1]);
  return MANGLED_PROPS.filter((n) => members.has(n));
}
