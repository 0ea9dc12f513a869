import * as fs from "node:fs";
import * as path from "node:path";
import * as vm from "node:vm";
import * as acorn from "acorn";

/**
 * Espruino's own pretokeniser (the `espruino` package's plugin, as the Web
 * IDE's "Pretokenise code before upload" uses it): keywords and operators
 * become one byte each, strings and integers raw bytes the lexer reads
 * without parsing. The token runs the result directly from flash: ~16 %
 * less flash for the boot code (more room for the log) and less for the
 * lexer to do. Strings and integers as raw tokens need Espruino 2v20.48 and
 * 2v25.396 or later; every board runs 2v29.
 *
 * The plugin expects the IDE's environment; it is run here in a sandbox with
 * just what its `tokenise` reads (acorn, the board's version, atob).
 */
type Tokenise = (code: string) => string;
let plugin: { tokenise: Tokenise; untokenise: Tokenise } | undefined;

function load(): { tokenise: Tokenise; untokenise: Tokenise } {
  const file = path.join(path.dirname(require.resolve("espruino/package.json")), "plugins", "pretokenise.js");
  const Espruino = {
    Core: {
      Config: { add: () => undefined },
      Env: { getBoardData: () => ({ VERSION: "2v29" }) },
      Utils: { atob: (s: string) => Buffer.from(s, "base64").toString("latin1"), toJSONishString: (s: string) => JSON.stringify(s) }
    },
    Plugins: {} as { Pretokenise?: { tokenise: Tokenise; untokenise: Tokenise } },
    Config: { PRETOKENISE: 1 },
    addProcessor: () => undefined
  };
  vm.runInNewContext(fs.readFileSync(file, "utf8"), { acorn, Espruino, console });
  const t = Espruino.Plugins.Pretokenise;
  if (!t) throw new Error("the espruino package's pretokeniser did not load");
  return t;
}

/** The boot code a token stores: `code` (ASCII JavaScript) pretokenised, as an 8-bit string. */
export function pretokenise(code: string): string {
  plugin ??= load();
  return plugin.tokenise(code);
}

/** Raw-token bytes (Espruino's jslex.h): 8- and 16-bit strings, then integers 0, int8 and int16, which the lexer reads as signed. */
const RAW_STRING8 = 0xd1;
const RAW_STRING16 = 0xd2;
const RAW_INT8 = 0xd4;
const RAW_INT16 = 0xd5;

/**
 * Pretokenised code back to JavaScript (for checks and for reading a token's
 * boot code). The plugin's own untokeniser prints raw integers unsigned (a
 * -1 comes back as 255), while Espruino reads them signed (checked on the
 * real interpreter); so integers are written out here first.
 */
export function untokenise(code: string): string {
  plugin ??= load();
  let out = "";
  for (let i = 0; i < code.length; i++) {
    const c = code.charCodeAt(i);
    const skip = c === RAW_STRING8 ? 1 + code.charCodeAt(i + 1) : c === RAW_STRING16 ? 2 + code.charCodeAt(i + 1) + 256 * code.charCodeAt(i + 2) : 0;
    if (skip) {
      out += code.slice(i, i + 1 + skip);
      i += skip;
    } else if (c === RAW_INT8) {
      out += String((code.charCodeAt(++i) << 24) >> 24);
    } else if (c === RAW_INT16) {
      out += String(((code.charCodeAt(i + 1) | (code.charCodeAt(i + 2) << 8)) << 16) >> 16);
      i += 2;
    } else out += code[i];
  }
  return plugin.untokenise(out);
}
