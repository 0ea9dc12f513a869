import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as ts from "typescript";
import { compileFirmware } from "../../host-tools/src/build/bundle";
import { SourceProblem, TypedArrayRule, checkFirmwareSources, checkTypedArrays, formatSourceProblems } from "../../host-tools/src/build/typed-array-check";
import { UserError } from "../../host-tools/src/errors";
import { firmwareDir } from "../../host-tools/src/paths";

/** Each sample must raise `rule` on `line` (1-based, in the sample). */
const flagged: Array<{ name: string; rule: TypedArrayRule; line: number; src: string }> = [
  { name: "slice on a Uint8Array", rule: "typed-array-slice", line: 2, src: "var a = new Uint8Array(8);\nvar b = a.slice(0, 4);" },
  {
    name: "slice on a union that includes a typed array",
    rule: "typed-array-slice",
    line: 2,
    src: "function head(x: Uint8Array | number[]): Uint8Array | number[] {\n  return x.slice(0, 1);\n}\nhead([1]);"
  },
  {
    // The shipped bug: the AEM mask sliced off an AES output.
    name: "slice on a function result typed Uint8Array",
    rule: "typed-array-slice",
    line: 4,
    src: "function aes(): Uint8Array {\n  return new Uint8Array(16);\n}\nvar aem = aes().slice(0, 4);"
  },
  { name: "slice on a type parameter bounded by a typed array", rule: "typed-array-slice", line: 1, src: "function tail<T extends Int32Array>(x: T) { return x.slice(1); }\ntail(new Int32Array(2));" },
  { name: "slice on a subclass of a typed array", rule: "typed-array-slice", line: 2, src: "class Buf extends Uint8Array {}\nvar s = new Buf(4).slice(0, 2);" },
  { name: 'slice read as x["slice"]', rule: "typed-array-slice", line: 2, src: 'var f = new Float64Array(2);\nvar c = f["slice"](0, 1);' },
  {
    name: "filter on a typed array (also a plain Array on Espruino)",
    rule: "typed-array-filter",
    line: 2,
    src: "var u = new Uint16Array(4);\nvar big = u.filter(function (v) {\n  return v > 1;\n});"
  },
  {
    // The shipped bug: the SHA-256 message schedule read w[i - 15] from i = 0.
    name: "i - 15 in a loop from 0",
    rule: "typed-array-negative-index",
    line: 3,
    src: "var w = new Int32Array(64);\nfor (var i = 0; i < 64; i++) {\n  var x = w[i - 15];\n  w[i] = i < 16 ? 0 : x;\n}"
  },
  { name: "a negative literal index", rule: "typed-array-negative-index", line: 2, src: "var w = new Uint8Array(4);\nvar v = w[-1];" },
  { name: "a unary minus in the index", rule: "typed-array-negative-index", line: 2, src: "function at(w: Uint8Array, i: number) {\n  return w[1 + -i];\n}\nat(new Uint8Array(1), 0);" },
  {
    name: "a subtraction on a union receiver",
    rule: "typed-array-negative-index",
    line: 2,
    src: "function last(x: Uint8Array | number[], n: number) {\n  return x[n - 1];\n}\nlast([1], 1);"
  },
  {
    name: "a guard too weak for the subtraction",
    rule: "typed-array-negative-index",
    line: 3,
    src: "var w = new Uint8Array(32);\nfor (var i = 0; i < 32; i++) {\n  if (i >= 8) w[i] = w[i - 16];\n}"
  },
  {
    name: "a loop from 16 whose body can count down",
    rule: "typed-array-negative-index",
    line: 3,
    src: "var w = new Uint8Array(32);\nfor (var i = 16; i < 32; i++) {\n  w[i] = w[i - 16];\n  if (w[i]) i -= 2;\n}"
  },
  {
    name: "a loop from 16 whose counter a called closure resets",
    rule: "typed-array-negative-index",
    line: 7,
    src: "var w = new Uint8Array(32);\nvar i = 0;\nfunction reset(): void {\n  i = 0;\n}\nfor (i = 16; i < 32; i++) {\n  w[i] = w[i - 16];\n  reset();\n}"
  },
  {
    name: "a guarded decrement that runs more than once per test",
    rule: "typed-array-negative-index",
    line: 3,
    src: "var w = new Uint8Array(4);\nvar n = 4;\nwhile (n > 0) for (var j = 0; j < 2; j++) w[--n] = 0;"
  },
  {
    name: "an escape comment without a reason",
    rule: "index-escape",
    line: 3,
    src: "var w = new Uint8Array(4);\nvar n = 4;\nw[n - 1] = 0; // espruino-index-ok"
  },
  {
    name: "an escape comment without a reason does not silence the index",
    rule: "typed-array-negative-index",
    line: 3,
    src: "var w = new Uint8Array(4);\nvar n = 4;\nw[n - 1] = 0; // espruino-index-ok"
  },
  {
    name: "an escape comment that covers nothing",
    rule: "index-escape",
    line: 2,
    src: "var w = new Uint8Array(4);\n// espruino-index-ok: nothing here needs it\nw[0] = 1;"
  }
];

/** Each sample must pass the check. */
const clean: Array<{ name: string; src: string }> = [
  { name: "Array slice", src: "var a = [1, 2, 3].slice(1);\nvar b = [].slice.call(a, 1);" },
  { name: "string slice", src: 'var s = "abcdef".slice(1, 3);' },
  { name: "subarray, and a copy through subarray", src: "var u = new Uint8Array(8);\nvar v = u.subarray(0, 4);\nvar c = new Uint8Array(u.subarray(4, 8));\nv.set(c);" },
  {
    name: "a guarded loop from 16 (the AES key schedule)",
    src: "var w = new Uint8Array(176);\nvar i: number;\nfor (i = 16; i < 176; i++) w[i] = w[i - 16] ^ w[i % 4 < 3 ? i - 3 : i - 7] ^ w[i - 4];"
  },
  { name: "a declared loop counter from 16 counting up by 2", src: "var w = new Uint8Array(64);\nfor (var i = 16; i < 64; i += 2) w[i] = w[i - 16];" },
  {
    name: "the else branch of i < 16 (the fixed SHA-256 schedule)",
    src: "var w = new Int32Array(64);\nfor (var i = 0; i < 64; i++) {\n  if (i < 16) w[i] = i;\n  else w[i] = w[i - 15] + w[i - 16];\n}"
  },
  {
    name: "a conditional expression guard (the self-test)",
    src: "var rpi = new Uint8Array(16);\nvar aem = new Uint8Array(4);\nvar s = 0;\nfor (var i = 0; i < 20; i++) s += i < 16 ? rpi[i] : aem[i - 16];"
  },
  { name: "a && guard, a flipped comparison and a negated one", src: "var w = new Uint8Array(4);\nvar i = 3;\nvar a = i >= 1 && w[i - 1];\nvar b = 2 <= i ? w[i - 2] : 0;\nvar c = !(i < 3) ? w[i - 3] : 0;" },
  { name: "an early return", src: "function prev(w: Uint8Array, i: number): number {\n  if (i < 1) return 0;\n  return w[i - 1];\n}\nprev(new Uint8Array(2), 1);" },
  { name: "a typed array's own length", src: "function last(w: Uint8Array): number {\n  if (!w.length) return 0;\n  return w[w.length - 1];\n}\nlast(new Uint8Array(2));" },
  { name: "a decrement tested on every pass", src: "var w = new Uint8Array(4);\nvar n = w.length;\nwhile (n > 0) w[--n] = 0;" },
  { name: "indexes that are never negative by construction", src: "var w = new Uint8Array(16);\nvar i = 0;\nw[(i - 1) & 15] = w[(i - 1) >>> 28] + w[20 - 4];" },
  {
    name: "escape comments with a reason, above and at the end of the line",
    src: "var w = new Uint8Array(4);\nvar n = w.length;\n// espruino-index-ok: n is 4\nw[n - 1] = 0;\nw[n - 2] = 0; // espruino-index-ok: n is 4"
  },
  { name: "a negative index into a plain Array (undefined on Espruino too)", src: "var a = [1, 2];\nvar x = a[a.length - 3];" },
  {
    name: "a function's guard on a module variable that only the module's own code sets",
    src: "var w = new Uint8Array(8);\nvar seq = 0;\nfunction latest(): number {\n  return seq > 0 ? w[seq - 1] : 0;\n}\nseq = 3;\nlatest();"
  },
  { name: "a subtraction outside any index", src: "var w = new Uint8Array(4);\nvar i = 1;\nw[0] = i - 5;" }
];

function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The firmware's compiler options, so that samples see the same ES5 library and strictness. */
function firmwareOptions(): ts.CompilerOptions {
  const parsed = ts.getParsedCommandLineOfConfigFile(path.join(firmwareDir, "tsconfig.json"), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => assert.fail(ts.flattenDiagnosticMessageText(d.messageText, "\n"))
  });
  assert.ok(parsed);
  return { ...parsed.options, noEmit: true, rootDir: undefined, outDir: undefined };
}

describe("typed-array check", () => {
  const byName = new Map<string, SourceProblem[]>();

  before(() => {
    const dir = tempDir("typed-array-check-");
    const files: string[] = [];
    const all = [...flagged, ...clean];
    all.forEach((s, i) => {
      const file = path.join(dir, `sample${i}.ts`);
      // `export {}` makes each sample a module, so their names do not clash.
      fs.writeFileSync(file, `${s.src}\nexport {};\n`);
      files.push(file);
    });
    const program = ts.createProgram(files, firmwareOptions());
    // A sample that does not type-check could pass or fail for the wrong reason.
    const diags = ts.getPreEmitDiagnostics(program);
    assert.deepEqual(
      diags.map((d) => `${d.file?.fileName}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`),
      []
    );
    const problems = checkTypedArrays(program);
    all.forEach((s, i) => byName.set(s.name, problems.filter((p) => path.basename(p.file) === `sample${i}.ts`)));
  });

  for (const s of flagged) {
    it(`flags ${s.name} (${s.rule})`, () => {
      const got = byName.get(s.name) ?? [];
      assert.ok(
        got.some((p) => p.rule === s.rule && p.line === s.line),
        `expected ${s.rule} on line ${s.line}, got ${JSON.stringify(got.map((p) => [p.rule, p.line]))}`
      );
    });
  }

  for (const s of clean) {
    it(`passes ${s.name}`, () => {
      assert.deepEqual(byName.get(s.name), [], formatSourceProblems(byName.get(s.name) ?? []));
    });
  }

  it("points at the method name and tells how to fix it", () => {
    const [p] = byName.get("slice on a Uint8Array") ?? [];
    assert.equal(p.column, 11);
    assert.match(p.message, /plain Array on Espruino.*subarray\(\)/);
  });

  it("points at the subtraction and names the guard that would prove it", () => {
    const [p] = byName.get("i - 15 in a loop from 0") ?? [];
    assert.equal(p.column, 13);
    assert.match(p.message, /w\[i - 15\]: i - 15 may be negative.*if \(i >= 15\)/);
  });

  it("the firmware sources pass", () => {
    const problems = checkFirmwareSources();
    assert.deepEqual(problems, [], formatSourceProblems(problems));
  });

  describe("in the firmware build", () => {
    const dir = tempDir("typed-array-build-");

    function project(name: string, src: string): string {
      const root = path.join(dir, name);
      fs.mkdirSync(path.join(root, "src"), { recursive: true });
      fs.writeFileSync(path.join(root, "src", "main.ts"), src);
      const tsconfig = path.join(root, "tsconfig.json");
      fs.writeFileSync(tsconfig, JSON.stringify({ extends: path.join(firmwareDir, "tsconfig.json"), compilerOptions: { rootDir: "src" }, include: ["src"] }));
      return tsconfig;
    }

    it("fails the compile step with one file:line:column rule: message line per problem", () => {
      const tsconfig = project("bad", "var a = new Uint8Array(8);\nexport var b = a.slice(0, 4);\nexport var c = a[a.length - 9];\n");
      assert.throws(
        () => compileFirmware({ tsconfig, outDir: path.join(dir, "bad-out") }),
        (e: unknown) => {
          assert.ok(e instanceof UserError);
          assert.equal(e.kind, "invalid");
          const lines = e.message.split("\n").slice(1);
          assert.equal(lines.length, 2, e.message);
          assert.match(lines[0], /[/\\]bad[/\\]src[/\\]main\.ts:2:18 typed-array-slice: /);
          assert.match(lines[1], /[/\\]bad[/\\]src[/\\]main\.ts:3:18 typed-array-negative-index: /);
          return true;
        }
      );
    });

    it("lets clean sources through", () => {
      const tsconfig = project("good", "var a = new Uint8Array(8);\nexport var b = new Uint8Array(a.subarray(0, 4));\n");
      compileFirmware({ tsconfig, outDir: path.join(dir, "good-out") });
    });
  });
});
