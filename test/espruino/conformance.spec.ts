import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { interpreterFor, espruinoDir, runScript } from "../../host-tools/src/real-espruino/interpreter";
import { rig } from "../sim/espruino/helpers";

/**
 * Differential conformance: every program in test/espruino/conformance/ runs
 * on the node:vm emulation and on the REAL Espruino interpreter built like
 * each board, and the two must print the same `@key result` lines.
 *
 * A difference that cannot be removed from the emulation is listed in
 * ALLOWED with its reason (and in docs/simulator-espruino.md, "Conformance
 * with the real interpreter"); any other difference fails, and so does an
 * ALLOWED entry that no longer differs anywhere (the list must stay true).
 */

const DIR = path.join(__dirname, "conformance");
const PRELUDE = fs.readFileSync(path.join(DIR, "_prelude.js"), "utf8");
const ALL_BOARDS = ["puckjs", "mdbt42q", "pixljs", "banglejs2"];
const TWO_BOARDS = ["puckjs", "pixljs"];

/** Topic → boards it runs on: board-specific natives (Storage sizes, crypto) run on every board. */
const TOPICS: Record<string, string[]> = {
  "typed-arrays": TWO_BOARDS,
  "int-wrap": TWO_BOARDS,
  "strings-bytes": TWO_BOARDS,
  json: TWO_BOARDS,
  math: TWO_BOARDS,
  closures: TWO_BOARDS,
  timers: TWO_BOARDS,
  exceptions: TWO_BOARDS,
  "e-functions": ALL_BOARDS,
  crypto: ALL_BOARDS,
  storage: ALL_BOARDS
};

interface Allowed {
  /** `topic/key` */
  key: string;
  /** Only on these boards (default: every board the topic runs on). */
  boards?: string[];
  why: string;
}

const MESSAGES =
  "V8 writes its own error messages; the emulation cannot rewrite every engine message (the exception is thrown at the same place)";
const NUMBER_TEXT =
  "number to text: Espruino prints about 11 significant digits and 1e21 as 10e+20; V8's shortest round-trip form cannot be replaced (string concatenation uses the engine's conversion)";

/** Known differences the emulation cannot remove; each one is documented. */
const ALLOWED: Allowed[] = [
  {
    key: "typed-arrays/ctor-clamped",
    why: "Uint8ClampedArray truncates fractions on Espruino; V8 rounds, on every element write (a Proxy per array would be needed)"
  },
  { key: "typed-arrays/ctor-static", why: "BYTES_PER_ELEMENT is a non-configurable property in V8: it cannot be deleted" },
  { key: "typed-arrays/byteLength", why: "BYTES_PER_ELEMENT is a non-configurable property in V8: it cannot be deleted" },
  {
    key: "typed-arrays/read-neg",
    why: "a negative typed-array index throws on Espruino; V8 reads undefined and only a Proxy per typed array could change it (breaks ArrayBuffer.isView, taxes every access)"
  },
  { key: "typed-arrays/read-neg-var", why: "as read-neg" },
  { key: "typed-arrays/write-neg", why: "as read-neg (writes are ignored by V8)" },
  { key: "typed-arrays/ab-slice", why: MESSAGES },
  {
    key: "int-wrap/big",
    why: "Espruino's Math.pow is not exact above 2^53 and it converts doubles beyond the 64-bit range to int32 as 0; V8 follows the standard ToInt32"
  },
  { key: "int-wrap/float-fmt", why: NUMBER_TEXT },
  { key: "int-wrap/toFixed", why: "Espruino's toFixed rounds 2.5 to 2 (binary rounding); V8 gives 3" },
  { key: "math/pow-sqrt", why: NUMBER_TEXT },
  { key: "json/special-num", why: NUMBER_TEXT },
  {
    key: "json/undefined-arr",
    why: "Espruino writes undefined inside an array as the word undefined (not JSON); V8 writes null and a replacer cannot emit a bare word"
  },
  {
    key: "json/indent",
    why: "Espruino's indented layout (a space before each newline, closing brackets one column in) differs from V8's; stringify with indent is not used by the firmware"
  },
  { key: "json/key-order", why: "V8 orders integer-like keys first in every object; Espruino keeps insertion order" },
  { key: "json/parse-bad", why: MESSAGES },
  { key: "json/parse-trailing", why: "Espruino's JSON.parse accepts a trailing comma; V8's parser is strict" },
  {
    key: "storage/json",
    why: "Storage.writeJSON writes Espruino's JSON (unquoted keys, read back by readJSON); the emulation writes standard JSON, which host tools parse; readJSON agrees"
  },
  { key: "closures/const-assign", why: MESSAGES },
  { key: "exceptions/call-undefined", why: MESSAGES },
  { key: "exceptions/call-undefined-var", why: MESSAGES },
  { key: "exceptions/call-number", why: MESSAGES },
  { key: "exceptions/read-undefined", why: MESSAGES },
  { key: "exceptions/read-null", why: MESSAGES },
  { key: "exceptions/write-undefined", why: MESSAGES },
  { key: "exceptions/undeclared", why: MESSAGES },
  { key: "exceptions/error-props", why: "Espruino's errors have no name property; removing V8's would change how the engine prints them" },
  { key: "exceptions/type-error", why: "Espruino's TypeError is not an Error subclass and has no name; V8's is" },
  { key: "exceptions/catch-name", why: "Espruino throws a plain Error (no name) where V8 throws a TypeError" },
  {
    key: "e-functions/require-unknown",
    why: "Espruino quotes the module name; the emulation's message is pinned by test/sim/espruino/realm.spec.ts and is left to its owner"
  },
  { key: "crypto/sha256", boards: ["pixljs"], why: MESSAGES },
  {
    key: "crypto/sha512",
    why: `${MESSAGES}; on banglejs2 the real build has SHA512, which board-configs do not describe (the firmware does not use it)`
  },
  {
    key: "crypto/has",
    boards: ["puckjs"],
    why: "crypto.AES is a class (typeof function) on Espruino; the emulation's plain object is pinned by test/sim/espruino/crypto.spec.ts"
  },
  {
    key: "crypto/has",
    boards: ["banglejs2"],
    why: "SHA512 exists on the real Bangle.js 2 build; board-configs have no sha512 flag (the firmware does not use it)"
  },
  { key: "crypto/aes-ecb", boards: ["mdbt42q", "pixljs", "banglejs2"], why: MESSAGES },
  { key: "crypto/aes-ctr-iv", boards: ["mdbt42q", "pixljs", "banglejs2"], why: MESSAGES },
  { key: "crypto/aes-dec", boards: ["mdbt42q", "pixljs", "banglejs2"], why: MESSAGES }
];

type Lines = Map<string, string>;

function parse(out: string[]): Lines {
  const m: Lines = new Map();
  for (const raw of out) {
    // Output that follows the interpreter's prompt starts with an erase-line escape.
    const line = raw.replace(/\r$/, "");
    // eslint-disable-next-line no-control-regex -- the escape is what the interpreter prints
    const r = /(?:^|\x1b\[J)@(\S+)(?: (.*))?$/.exec(line);
    if (r) m.set(r[1], r[2] ?? "");
  }
  return m;
}

function source(topic: string): string {
  return `${PRELUDE}\n${fs.readFileSync(path.join(DIR, `${topic}.js`), "utf8")}`;
}

/** The program on the emulation: console input, then 10 s of virtual time for its timers. */
function onEmulation(topic: string, board: string): Lines {
  const r = rig("", { board });
  r.token.evaluate("global.quit = function () {};");
  try {
    r.token.evaluate(source(topic));
  } catch (e) {
    r.token.output.push(`Uncaught ${String(e)}`);
  }
  r.scheduler.runUntil(r.scheduler.now + 10);
  return parse(r.token.output);
}

async function onInterpreter(topic: string, board: string): Promise<Lines> {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), `conformance-${board}-`));
  try {
    const file = path.join(cwd, `${topic}.js`);
    fs.writeFileSync(file, source(topic));
    const res = await runScript(interpreterFor(board)!, file, { cwd, timeoutMs: 15000 });
    const lines = parse(res.stdout.split("\n"));
    if (!res.exited || !lines.has("END"))
      throw new Error(`${topic} on ${board} did not finish:\n${res.stdout.slice(-1500)}\n${res.stderr.slice(-500)}`);
    return lines;
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true });
  }
}

/** Run every (topic, board) pair on the interpreters, a few at a time. */
function runAll(pairs: Array<[string, string]>, parallel: number): Map<string, Promise<Lines>> {
  const out = new Map<string, Promise<Lines>>();
  let running = 0;
  const queue: Array<() => void> = [];
  const next = (): void => {
    if (running >= parallel || !queue.length) return;
    running++;
    queue.shift()!();
  };
  for (const [topic, board] of pairs) {
    out.set(
      `${topic}@${board}`,
      new Promise<Lines>((resolve, reject) => {
        queue.push(() => {
          onInterpreter(topic, board)
            .then(resolve, reject)
            .finally(() => {
              running--;
              next();
            });
        });
      })
    );
  }
  for (let i = 0; i < parallel; i++) next();
  // Failures are reported by the spec that awaits them; keep Node from calling them unhandled meanwhile.
  for (const p of out.values()) p.catch(() => undefined);
  return out;
}

const boardsNeeded = [...new Set(Object.values(TOPICS).flat())];
const missing = boardsNeeded.filter((b) => !interpreterFor(b));
if (missing.length) {
  console.warn(`\n  !!! conformance specs SKIPPED for ${missing.join(", ")}: no espruino-<board> in ${espruinoDir()} (set ESPRUINO_DIR)\n`);
}

describe("conformance: emulation vs the real Espruino interpreter", function () {
  this.timeout(60000);
  let real: Map<string, Promise<Lines>> | undefined;
  const matched = new Set<string>();

  before(function () {
    const pairs: Array<[string, string]> = [];
    for (const [topic, boards] of Object.entries(TOPICS)) for (const b of boards) if (interpreterFor(b)) pairs.push([topic, b]);
    real = runAll(pairs, Math.max(2, os.cpus().length));
  });

  for (const [topic, boards] of Object.entries(TOPICS)) {
    for (const board of boards) {
      const itOrSkip = interpreterFor(board) ? it : it.skip;
      itOrSkip(`${topic} on ${board}`, async () => {
        const want = await real!.get(`${topic}@${board}`)!;
        const got = onEmulation(topic, board);
        const diffs: string[] = [];
        for (const key of new Set([...want.keys(), ...got.keys()])) {
          const w = want.get(key);
          const g = got.get(key);
          if (w === g) continue;
          const allow = ALLOWED.find((a) => a.key === `${topic}/${key}` && (!a.boards || a.boards.includes(board)));
          if (allow) {
            matched.add(allow.key);
            continue;
          }
          diffs.push(`  ${topic}/${key}\n    real:      ${w ?? "(missing)"}\n    emulation: ${g ?? "(missing)"}`);
        }
        assert.equal(diffs.length, 0, `emulation differs from espruino-${board}:\n${diffs.join("\n")}`);
      });
    }
  }

  it("every allowed difference still occurs", function () {
    if (missing.length) this.skip();
    const stale = ALLOWED.filter((a) => !matched.has(a.key)).map((a) => a.key);
    assert.deepEqual(stale, [], "allowed differences that no longer differ: remove them from ALLOWED and the docs");
  });
});
