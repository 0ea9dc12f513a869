import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";

/**
 * firmware/src/wire/ is the whole contract between token and host: the host
 * tools and benchmarks may import the token's code from there (with the
 * crypto primitives it is built on, firmware/src/crypto/, and the Espruino
 * declarations in firmware/types/) and from nowhere else in firmware/, so a
 * change inside the firmware cannot silently change what the host reads; and
 * wire/ and crypto/ stand alone, so importing them brings in nothing of the
 * token.
 */

const root = path.resolve(__dirname, "..", "..");
const firmware = path.join(root, "firmware");
const wire = path.join(firmware, "src", "wire");
const firmwareTypes = path.join(firmware, "types");
const cryptoDir = path.join(firmware, "src", "crypto");

/**
 * Files that may reach past the boundary, each for the imports listed only.
 * bench/crypto.ts measures the token's own pure-JS crypto under Node, as the
 * firmware specs test it: the firmware is what it benchmarks.
 */
const ALLOWED: Record<string, readonly string[]> = {
  "bench/crypto.ts": [
    "firmware/src/gaen/ids.ts",
    "firmware/src/selftest.ts",
    "firmware/src/platform-api.ts"
  ]
};

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|js|mjs|cjs)$/.test(e.name) && !e.name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

/** Every module a file names in an import, export … from, import() or require(), resolved to a path (relative specifiers only). */
function importsOf(file: string): Array<{ specifier: string; target: string }> {
  const info = ts.preProcessFile(fs.readFileSync(file, "utf8"), true, true);
  return info.importedFiles
    .map((f) => f.fileName)
    .filter((s) => s.startsWith("."))
    .map((specifier) => {
      const base = path.resolve(path.dirname(file), specifier);
      const found = [base, `${base}.ts`, `${base}.js`, path.join(base, "index.ts"), path.join(base, "index.js")].find((c) => fs.existsSync(c) && fs.statSync(c).isFile());
      return { specifier, target: found ?? base };
    });
}

const rel = (p: string): string => path.relative(root, p).split(path.sep).join("/");
const inside = (p: string, dir: string): boolean => p === dir || p.startsWith(dir + path.sep);

/** One line per import across the boundary from a file under `dirs`. */
function boundaryProblems(dirs: readonly string[]): string[] {
  const problems: string[] = [];
  for (const dir of dirs) {
    for (const file of sourceFiles(path.join(root, dir))) {
      const allowed = ALLOWED[rel(file)] ?? [];
      for (const { specifier, target } of importsOf(file)) {
        if (!inside(target, firmware) || inside(target, wire) || inside(target, cryptoDir) || inside(target, firmwareTypes)) continue;
        if (allowed.includes(rel(target))) continue;
        problems.push(`${rel(file)} imports ${specifier} (${rel(target)}): take it from firmware/src/wire/`);
      }
    }
  }
  return problems;
}

describe("the token/host boundary (firmware/src/wire/)", () => {
  it("host-tools/ and bench/ import nothing of the firmware outside wire/ and types/", () => {
    assert.deepEqual(boundaryProblems(["host-tools", "bench"]), []);
  });

  it("wire/ imports only wire/ and crypto/; crypto/ only crypto/", () => {
    const problems: string[] = [];
    for (const file of sourceFiles(wire))
      for (const { specifier, target } of importsOf(file))
        if (!inside(target, wire) && !inside(target, cryptoDir)) problems.push(`${rel(file)} imports ${specifier}`);
    for (const file of sourceFiles(cryptoDir))
      for (const { specifier, target } of importsOf(file)) if (!inside(target, cryptoDir)) problems.push(`${rel(file)} imports ${specifier}`);
    assert.deepEqual(problems, []);
  });

  it("each allowed exception is still needed (so the list cannot outlive its code)", () => {
    for (const [file, targets] of Object.entries(ALLOWED)) {
      const used = importsOf(path.join(root, file)).map((i) => rel(i.target));
      for (const t of targets) assert.ok(used.includes(t), `${file} no longer imports ${t}: drop it from ALLOWED`);
    }
  });
});
