import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";
import { ErrorCode, ErrorKind, PrivateTracerError, UserError } from "../../host-tools/src/errors";
import { EXIT_CODES } from "../../host-tools/src/cli/main";
import { ExportFormatError, KeyInputError, KeySourceError, PublishWriteError, SignatureError } from "../../host-tools/src/keys/errors";
import { parseExportFile } from "../../host-tools/src/keys/export-file";
import { readKeysJson } from "../../host-tools/src/keys/keys-json";
import { loadKeySource } from "../../host-tools/src/keys/sources";
import { riskConfigFrom } from "../../host-tools/src/match/risk-config";
import { parseSightings, SightingsFormatError } from "../../host-tools/src/match/sightings";
import { repoRoot } from "../../host-tools/src/paths";
import { DamagedFlashError, TokenFlashError } from "../../host-tools/src/tokenlog/errors";
import { readTokenLog } from "../../host-tools/src/tokenlog/read-log";
import { tokenFilesFromImage } from "../../host-tools/src/tokenlog/token-files";
import { fixture, runCli, tempDir } from "./keys/helpers";
import { dataOffset, image, rec, segment, slotAt } from "./tokenlog/helpers";

/**
 * Issue 10, "errors a service can use": domain modules throw typed errors with
 * a stable code and a kind, and only cli/main.ts turns a kind into an exit code.
 */

const PUB = fixture("example-server-public.pem");
// Signed by a key other than PUB's (see keys-cli.spec.ts).
const OTHER_SIGNER = fixture("sample-export.zip");

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  return assert.fail("expected a rejection");
}

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return assert.fail("expected an error");
}

function assertTyped(e: unknown, cls: abstract new (...args: never[]) => PrivateTracerError, code: ErrorCode, kind: ErrorKind): void {
  assert.ok(e instanceof cls, `expected a ${cls.name}, got ${e instanceof Error ? e.stack : String(e)}`);
  assert.ok(e instanceof PrivateTracerError);
  assert.equal(e.code, code);
  assert.equal(e.kind, kind);
  assert.equal(e.name, cls.name);
  assert.ok(e.message.length > 0);
  assert.equal((e as unknown as Record<string, unknown>).exitCode, undefined, "a domain error carries no exit code");
}

describe("errors a service can use", () => {
  describe("domain modules throw typed errors with a code and a kind", () => {
    it("the catalogue: every error class has its own stable code", () => {
      const table: Array<[PrivateTracerError, ErrorCode, ErrorKind]> = [
        [new UserError("m"), "BAD_INPUT", "unusable"],
        [new UserError("m", "invalid"), "CHECK_FAILED", "invalid"],
        [new ExportFormatError("m"), "EXPORT_MALFORMED", "unusable"],
        [new SignatureError("m"), "BAD_SIGNATURE", "invalid"],
        [new KeySourceError("m"), "KEY_SOURCE_UNREADABLE", "unusable"],
        [new KeyInputError("m"), "KEY_INPUT_UNUSABLE", "unusable"],
        [new PublishWriteError("m"), "PUBLISH_WRITE_FAILED", "unusable"],
        [new TokenFlashError("t.bin", "m"), "TOKEN_FLASH_UNREADABLE", "unusable"],
        [new DamagedFlashError("t.bin", [], { segments: 0, records: 0, cutOffSlots: 0 }), "TOKEN_FLASH_DAMAGED", "unusable"],
        [new SightingsFormatError("s", [{ line: 1, message: "m" }]), "SIGHTINGS_MALFORMED", "unusable"]
      ];
      for (const [e, code, kind] of table) {
        assert.equal(e.code, code, e.name);
        assert.equal(e.kind, kind, e.name);
      }
      const domain = table.slice(2).map(([e]) => e.code);
      assert.equal(new Set(domain).size, domain.length, "two domain classes share a code");
    });

    it("keys: a malformed export, a bad signature, an unreadable source, a malformed keys file", async () => {
      assertTyped(
        await rejection(parseExportFile(Buffer.from("PK\x03\x04 truncated"), "junk.zip")),
        ExportFormatError,
        "EXPORT_MALFORMED",
        "unusable"
      );
      const dir = tempDir("errors");
      fs.copyFileSync(OTHER_SIGNER, path.join(dir, "a.zip"));
      const bad = await rejection(loadKeySource(dir, { publicKeyPem: fs.readFileSync(PUB, "utf8") }));
      assertTyped(bad, SignatureError, "BAD_SIGNATURE", "invalid");
      assert.match((bad as Error).message, /a\.zip: .*does not verify/);
      assertTyped(await rejection(loadKeySource(path.join(dir, "nothing-here"))), KeySourceError, "KEY_SOURCE_UNREADABLE", "unusable");
      const keys = path.join(dir, "keys.json");
      fs.writeFileSync(keys, "{ not json");
      assertTyped(
        thrown(() => readKeysJson(keys)),
        KeyInputError,
        "KEY_INPUT_UNUSABLE",
        "unusable"
      );
    });

    it("tokenlog: an empty image and a damaged one", () => {
      assertTyped(
        thrown(() => tokenFilesFromImage(new Uint8Array(0), "empty.bin")),
        TokenFlashError,
        "TOKEN_FLASH_UNREADABLE",
        "unusable"
      );
      const img = image([
        ["pt.log1", segment([rec(0, 0)])],
        ["pt.log2", segment([rec(1, 0), rec(2, 1)])]
      ]);
      // Cut inside pt.log2's first record: truncated in transfer, not a power cut.
      const cut = img.slice(0, dataOffset(img, "pt.log2") + slotAt(0) + 4);
      const e = thrown(() => readTokenLog(tokenFilesFromImage(cut, "cut.bin")));
      assertTyped(e, DamagedFlashError, "TOKEN_FLASH_DAMAGED", "unusable");
      assert.ok(e instanceof TokenFlashError, "a damaged image is still a TokenFlashError to callers that only know that");
    });

    it("match: bad sightings lines and a bad risk config", () => {
      assertTyped(
        thrown(() => parseSightings('{"time": 1}\n', "s.jsonl")),
        SightingsFormatError,
        "SIGHTINGS_MALFORMED",
        "unusable"
      );
      assertTyped(
        thrown(() => riskConfigFrom({ bucketWieghts: {} })),
        UserError,
        "BAD_INPUT",
        "unusable"
      );
    });
  });

  describe("cli/main maps each outcome to the documented exit code", () => {
    it("0 ok, 1 invalid, 2 unusable", () => {
      assert.deepEqual({ ...EXIT_CODES }, { ok: 0, invalid: 1, unusable: 2 });
    });

    it("ok: exit 0", async () => {
      const r = await runCli(["gaen", "derive", "--tek", "00".repeat(16), "--enin", "1"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, "");
    });

    it("an invalid verdict (keys verify on a signature by another key): exit 1", async () => {
      const r = await runCli(["keys", "verify", OTHER_SIGNER, "--public-key", PUB]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /NOT VALID/);
    });

    it("a thrown error of kind invalid (BAD_SIGNATURE from match --public-key): exit 1 and its message", async () => {
      const dir = tempDir("errors-cli");
      const sightings = path.join(dir, "s.jsonl");
      fs.writeFileSync(sightings, "");
      const r = await runCli(["match", "--keys", OTHER_SIGNER, "--sightings", sightings, "--public-key", PUB]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^privatetracer: .*sample-export\.zip: .*does not verify/);
      assert.equal(r.stdout, "");
    });

    it("thrown errors of kind unusable (EXPORT_MALFORMED, TOKEN_FLASH_UNREADABLE, SIGHTINGS_MALFORMED, BAD_INPUT): exit 2 and their message", async () => {
      const dir = tempDir("errors-cli");
      const junk = path.join(dir, "junk.zip");
      fs.writeFileSync(junk, "PK\x03\x04 truncated");
      const empty = path.join(dir, "empty.bin");
      fs.writeFileSync(empty, "");
      const sightings = path.join(dir, "bad.jsonl");
      fs.writeFileSync(sightings, '{"time": 1}\n');
      for (const [args, message] of [
        [["keys", "show", junk], /^privatetracer: .*junk\.zip: not a readable zip/],
        [["log", "show", empty], /^privatetracer: .*empty\.bin: the file is empty/],
        [["match", "--keys", OTHER_SIGNER, "--sightings", sightings], /^privatetracer: .*bad\.jsonl: 1 bad sighting line/],
        [["gaen", "derive", "--tek", "zz", "--enin", "1"], /^privatetracer: --tek must be hexadecimal/]
      ] as const) {
        const r = await runCli([...args]);
        assert.equal(r.code, 2, args.join(" "));
        assert.match(r.stderr, message);
      }
    });

    it("usage errors: exit 2; --help: exit 0", async () => {
      assert.equal((await runCli(["keys", "show"])).code, 2);
      assert.equal((await runCli(["no-such-command"])).code, 2);
      assert.equal((await runCli(["gaen", "derive", "--tek", "00".repeat(16), "--enin", "1", "--no-such-option"])).code, 2);
      assert.equal((await runCli(["--help"])).code, 0);
    });
  });

  describe("no exit codes outside cli/main.ts", () => {
    const SRC = path.join(repoRoot, "host-tools", "src");
    /** The one module allowed to know exit codes. */
    const MAPPER = "cli/main.ts";

    /**
     * Known exceptions, each with why; an entry that no longer matches fails
     * the spec so it is removed with the thing it excused.
     */
    const ALLOWED: Array<{ file: string; text: RegExp; why: string }> = [
      {
        file: "real-espruino/token-session.ts",
        text: /^this\.child\.exitCode$/,
        why: "the Espruino interpreter's child process status (node's ChildProcess.exitCode): whether it is still running, not ours to map"
      }
    ];

    interface Finding {
      file: string;
      line: number;
      text: string;
      what: string;
    }

    const isNumber = (n: ts.Node): boolean =>
      ts.isNumericLiteral(n) ||
      (ts.isPrefixUnaryExpression(n) && n.operator === ts.SyntaxKind.MinusToken && ts.isNumericLiteral(n.operand));

    const parse = (file: string, source: string): ts.SourceFile =>
      ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, file.endsWith(".js") ? ts.ScriptKind.JS : ts.ScriptKind.TS);

    /**
     * PrivateTracerError and every class that extends it, directly or not, as
     * declared in these sources: the errors whose constructors must not take an
     * exit code. (Other errors may well take numbers, e.g. the simulator's PowerCutError.)
     */
    function errorFamily(sfs: readonly ts.SourceFile[]): Set<string> {
      const parent = new Map<string, string>();
      const visit = (n: ts.Node): void => {
        if (ts.isClassDeclaration(n) && n.name) {
          const base = n.heritageClauses?.find((h) => h.token === ts.SyntaxKind.ExtendsKeyword)?.types[0];
          if (base) parent.set(n.name.text, base.expression.getText());
        }
        ts.forEachChild(n, visit);
      };
      sfs.forEach(visit);
      const inFamily = (c: string | undefined, depth = 0): boolean =>
        c === "PrivateTracerError" || (c !== undefined && depth < 20 && inFamily(parent.get(c), depth + 1));
      return new Set(["PrivateTracerError", ...[...parent.keys()].filter((c) => inFamily(c))]);
    }

    /** Exit codes in one source: names like exitCode, process.exit, and numbers handed to a PrivateTracerError's constructor. */
    function scan(sf: ts.SourceFile, family: ReadonlySet<string>): Finding[] {
      const file = sf.fileName;
      const found: Finding[] = [];
      const add = (n: ts.Node, what: string): void => {
        found.push({ file, line: sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1, text: n.getText(sf).split("\n")[0], what });
      };
      const inFamilyClass = (n: ts.Node): boolean => {
        for (let p: ts.Node | undefined = n.parent; p; p = p.parent) {
          if (ts.isClassLike(p)) return !!p.name && family.has(p.name.text);
        }
        return false;
      };
      const visit = (n: ts.Node): void => {
        if (ts.isIdentifier(n) && /exit_?code/i.test(n.text)) {
          // Report `a.b.exitCode` whole, so an allowed read is told from any other.
          add(ts.isPropertyAccessExpression(n.parent) && n.parent.name === n ? n.parent : n, "names an exit code");
        } else if (ts.isPropertyAccessExpression(n) && n.expression.getText(sf) === "process" && n.name.text === "exit") {
          add(n, "exits the process");
        } else if (ts.isNewExpression(n) && family.has(n.expression.getText(sf)) && n.arguments?.some(isNumber)) {
          add(n, "gives an error a number (an exit code?)");
        } else if (
          ts.isCallExpression(n) &&
          n.expression.kind === ts.SyntaxKind.SuperKeyword &&
          n.arguments.some(isNumber) &&
          inFamilyClass(n)
        ) {
          add(n, "gives an error's base class a number (an exit code?)");
        }
        ts.forEachChild(n, visit);
      };
      visit(sf);
      return found;
    }

    function sources(dir: string): string[] {
      return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
        const p = path.join(dir, d.name);
        if (d.isDirectory()) return sources(p);
        return /\.(ts|js)$/.test(d.name) && !d.name.endsWith(".d.ts") ? [p] : [];
      });
    }

    it("the scan finds each way an exit code can creep back in, and passes code that has none", () => {
      const scanText = (src: string): Finding[] => {
        const sf = parse(
          "x.ts",
          "class PrivateTracerError extends Error {}\nclass UserError extends PrivateTracerError {}\nclass KeyInputError extends PrivateTracerError {}\n" +
            src
        );
        return scan(sf, errorFamily([sf]));
      };
      const bad = [
        "class E extends PrivateTracerError { readonly exitCode = 2; }",
        "throw new UserError('m', 2);",
        "throw new KeyInputError('m', -1);",
        "class F extends UserError { constructor(m: string) { super(m, 1); } }",
        "process.exitCode = 1;",
        "process.exit(3);",
        "function f(e: Status) { return e.exit_code; }",
        "const { exitCode } = err;"
      ];
      for (const src of bad) assert.equal(scanText(src).length, 1, src);
      const clean = [
        "throw new KeyFormatError(i, `key ${i}`);",
        "throw new PowerCutError(-1);",
        "if (r.status !== 0) throw new UserError(`the uploader failed (exit ${r.status})`, 'invalid');",
        "class G extends Base { constructor() { super(1); } }",
        "// exitCode in a comment is prose",
        "const s = 'exitCode';"
      ];
      for (const src of clean) assert.deepEqual(scanText(src), [], src);
    });

    it(`no file under host-tools/src but ${MAPPER} references an exit code`, () => {
      const files = sources(SRC).map((abs) => parse(path.relative(SRC, abs).split(path.sep).join("/"), fs.readFileSync(abs, "utf8")));
      assert.ok(files.length > 50, `only ${files.length} sources found under ${SRC}`);
      const family = errorFamily(files);
      for (const c of ["UserError", "ExportFormatError", "SignatureError", "TokenFlashError", "DamagedFlashError", "SightingsFormatError"])
        assert.ok(family.has(c), c);
      const used = new Set<number>();
      const problems: string[] = [];
      for (const sf of files) {
        if (sf.fileName === MAPPER) continue;
        for (const f of scan(sf, family)) {
          const i = ALLOWED.findIndex((a) => a.file === f.file && a.text.test(f.text));
          if (i >= 0) used.add(i);
          else problems.push(`host-tools/src/${f.file}:${f.line} ${f.what}: ${f.text}`);
        }
      }
      assert.deepEqual(
        problems,
        [],
        "exit codes belong to host-tools/src/cli/main.ts alone: throw a PrivateTracerError with a kind (or return a Verdict from a command) instead"
      );
      const stale = ALLOWED.filter((_, i) => !used.has(i)).map((a) => `${a.file} ${a.text}`);
      assert.deepEqual(stale, [], "allowed exceptions that no longer occur: remove them (and what they excused)");
    });

    it(`${MAPPER} itself does the mapping (so the scan above guards the right file)`, () => {
      const src = fs.readFileSync(path.join(SRC, MAPPER), "utf8");
      assert.match(src, /EXIT_CODES/);
      assert.ok(scan(parse(MAPPER, src), new Set()).length > 0);
    });
  });
});
