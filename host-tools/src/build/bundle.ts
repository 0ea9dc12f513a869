import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";
import * as esbuild from "esbuild";
import { BoardConfig, boardConstants, defineMap, loadBoard } from "./boards";
import { LintProblem, lintSource } from "./lint";
import { checkTypedArrays, formatSourceProblems } from "./typed-array-check";
import { buildDir, distFirmwareDir, firmwareDir } from "../paths";
import { UserError } from "../errors";
import { pretokenise } from "./pretokenise";
import { mangleProps } from "./mangle";

export interface SizeReport {
  board: string;
  /** Bytes the token stores: the boot code, pretokenised. The budget applies to these. */
  bytes: number;
  /** Bytes of the readable bundle before pretokenising. */
  sourceBytes: number;
  storageBytes: number;
  budgetBytes: number;
  withinBudget: boolean;
}

export interface BundleResult {
  board: string;
  /** The readable bundle (what the linter and the emulator read). */
  file: string;
  code: string;
  /** What goes into the token's `.bootcde`: `code` pretokenised (pretokenise.ts), an 8-bit string, and its file. */
  bootCode: string;
  bootFile: string;
  size: SizeReport;
  lint: LintProblem[];
}

const es5Dir = path.join(buildDir, "firmware-es5");

/**
 * Step 1: TypeScript → ES5 modules (board-independent). tsc does the ES5
 * down-levelling (esbuild cannot); `noEmitHelpers` keeps tsc's helpers, which
 * read builtin prototypes, out of the bundle: the lint flags any that remain.
 * The typed-array check (typed-array-check.ts) needs the types, so it runs here
 * on the sources rather than on the bundle.
 */
export function compileFirmware(opts: { tsconfig?: string; outDir?: string } = {}): string {
  const tsconfigPath = opts.tsconfig ?? path.join(firmwareDir, "tsconfig.json");
  // Tests pass their own outDir so that concurrent builds never empty each other's.
  const outDir = opts.outDir ?? es5Dir;
  const parsed = ts.getParsedCommandLineOfConfigFile(tsconfigPath, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new UserError(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    }
  });
  if (!parsed) throw new UserError(`cannot read ${tsconfigPath}`);
  fs.rmSync(outDir, { recursive: true, force: true });
  const program = ts.createProgram({ rootNames: parsed.fileNames, options: { ...parsed.options, outDir } });
  const emit = program.emit();
  const diags = ts.getPreEmitDiagnostics(program).concat(emit.diagnostics);
  if (diags.length) {
    const host: ts.FormatDiagnosticsHost = {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => process.cwd(),
      getNewLine: () => "\n"
    };
    throw new UserError(`firmware does not compile:\n${ts.formatDiagnostics(diags, host)}`);
  }
  // On this program, whose types are already checked: a second one would double the cost.
  const problems = checkTypedArrays(program);
  if (problems.length) throw new UserError(`firmware fails the typed-array check:\n${formatSourceProblems(problems)}`, "invalid");
  return outDir;
}

/**
 * Step 2: one bundle per board. esbuild scope-hoists the ES modules into one
 * script in dependency order (definitions before uses), replaces every
 * BOARD.* constant with its literal so dead board branches fold away, and
 * minifies. The result is linted; its pretokenised form (`<board>.bootcde`,
 * what a token stores and runs) is measured against the board's budget.
 */
export async function bundleBoard(cfg: BoardConfig, opts: { es5Dir?: string; outDir?: string; buildTime?: number } = {}): Promise<BundleResult> {
  const srcDir = opts.es5Dir ?? es5Dir;
  const outDir = opts.outDir ?? distFirmwareDir;
  const buildTime = opts.buildTime ?? Math.floor(Date.now() / 1000);
  const result = await esbuild.build({
    entryPoints: [path.join(srcDir, "main.js")],
    bundle: true,
    // No wrapper function: on Espruino every function carries a copy of its
    // scope chain, so one level less saves ~260 JsVars on a Puck.js
    // (bench/memory.ts). Top-level names then live in Espruino's global scope;
    // the lint's global-shadow rule fails the build if one shadows a built-in.
    format: "esm",
    target: "es5",
    platform: "node",
    minify: true,
    legalComments: "none",
    charset: "ascii",
    // `new Uint8Array` fifty times over, `Math.floor` a dozen: short global names for them save ~500 bytes.
    define: { ...defineMap(boardConstants(cfg, buildTime)), Uint8Array: "$", "Math.floor": "_" },
    banner: { js: "var $=Uint8Array,_=Math.floor;" },
    mangleProps: mangleProps(),
    write: false,
    logLevel: "silent"
  }).catch((e: Error) => {
    throw new UserError(`bundling firmware for ${cfg.id} failed: ${e.message}`);
  });
  const code = result.outputFiles[0].text;
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `${cfg.id}.js`);
  fs.writeFileSync(file, code);
  const bootCode = pretokenise(code);
  const bootFile = path.join(outDir, `${cfg.id}.bootcde`);
  fs.writeFileSync(bootFile, bootCode, "latin1");
  const bytes = bootCode.length;
  const size: SizeReport = {
    board: cfg.id,
    bytes,
    sourceBytes: Buffer.byteLength(code),
    storageBytes: cfg.storage.bytes,
    budgetBytes: cfg.budget.bundleBytes,
    withinBudget: bytes <= cfg.budget.bundleBytes
  };
  fs.writeFileSync(path.join(outDir, `${cfg.id}.size.json`), JSON.stringify(size, null, 2) + "\n");
  return { board: cfg.id, file, code, bootCode, bootFile, size, lint: lintSource(code) };
}

export async function buildBoards(boardIds: string[], opts: { outDir?: string } = {}): Promise<BundleResult[]> {
  const dir = compileFirmware();
  const out: BundleResult[] = [];
  for (const id of boardIds) out.push(await bundleBoard(loadBoard(id), { es5Dir: dir, outDir: opts.outDir }));
  return out;
}

export function sizeTable(results: BundleResult[]): string {
  const rows = results.map((r) => [
    r.board,
    String(r.size.bytes),
    String(r.size.budgetBytes),
    String(r.size.storageBytes),
    `${((100 * r.size.bytes) / r.size.storageBytes).toFixed(1)}%`,
    r.size.withinBudget ? "ok" : "OVER BUDGET",
    r.lint.length ? `${r.lint.length} problem(s)` : "clean"
  ]);
  const head = ["board", "bytes", "budget", "storage", "of storage", "size", "lint"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  return [fmt(head), fmt(widths.map((w) => "-".repeat(w))), ...rows.map(fmt)].join("\n");
}
