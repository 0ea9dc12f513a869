import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { BundleResult } from "../../host-tools/src/build/bundle";
import { listBoards } from "../../host-tools/src/build/boards";
import { allTestBundles } from "../helpers/firmware";
import * as acorn from "acorn";
import { untokenise } from "../../host-tools/src/build/pretokenise";
import { checkMangleList } from "../../host-tools/src/build/mangle";

describe("firmware bundle", function () {
  let results: Record<string, BundleResult> = {};

  before(async function () {
    results = await allTestBundles();
  });

  for (const id of ["banglejs2", "mdbt42q", "pixljs", "puckjs"]) {
    it(`${id}: one file that passes the Espruino lint and fits its budget`, () => {
      const r = results[id];
      assert.deepEqual(r.lint, [], JSON.stringify(r.lint));
      assert.ok(r.size.withinBudget, `${r.size.bytes} > ${r.size.budgetBytes}`);
      const outDir = path.dirname(r.file);
      const report = JSON.parse(fs.readFileSync(path.join(outDir, `${id}.size.json`), "utf8"));
      assert.deepEqual(Object.keys(report).sort(), ["board", "budgetBytes", "bytes", "sourceBytes", "storageBytes", "withinBudget"]);
      // The budget is what the token stores: the pretokenised boot code.
      assert.equal(report.bytes, fs.statSync(path.join(outDir, `${id}.bootcde`)).size);
      assert.equal(report.sourceBytes, fs.statSync(path.join(outDir, `${id}.js`)).size);
      assert.ok(report.bytes < 0.9 * report.sourceBytes, "pretokenising saves at least 10 %");
    });
  }

  it("inlines board constants: no BOARD reference survives, pins are the board's own", () => {
    for (const id of listBoards()) assert.ok(!/\bBOARD\b/.test(results[id].code), id);
    assert.match(results.puckjs.code, /"LED3"/);
    assert.doesNotMatch(results.mdbt42q.code, /"LED3"/);
    assert.match(results.mdbt42q.code, /"BTN1"/);
  });

  it("pretokenises with Espruino's own tokeniser: keywords as single bytes, and untokenised it is the bundle again", () => {
    const r = results.puckjs;
    assert.ok(!r.bootCode.includes("function"), "every `function` keyword is one byte");
    assert.ok([...r.bootCode].some((c) => c.charCodeAt(0) >= 128), "token bytes");
    // The same program: the same syntax tree, literals compared by value (a byte string may come back written differently).
    const tree = (js: string) =>
      JSON.stringify(acorn.parse(js, { ecmaVersion: 2015, sourceType: "module" }), (k, v: unknown) =>
        k === "start" || k === "end" || k === "raw" ? undefined : v
      );
    assert.equal(tree(untokenise(r.bootCode)), tree(r.code));
  });

  it("shortens the firmware's own property names but never one Espruino uses", () => {
    assert.deepEqual(checkMangleList(), []);
    const r = results.puckjs;
    assert.doesNotMatch(r.code, /\.linkWrite\b|\.rollingStart\b|\.identifiersAt\b/);
    // Espruino's own names stay whole.
    assert.match(r.code, /NRF\.setAdvertising\(/);
    assert.match(r.code, /\.readArrayBuffer\(/);
  });

  it("is minified: no comments and no indentation", () => {
    assert.doesNotMatch(results.puckjs.code, /\/\*|\n {2}/);
  });

  it("takes the JavaScript console off Bluetooth at boot", () => {
    for (const id of listBoards()) assert.match(results[id].code, /E\.setConsole\(null,\{force:!0\}\)/);
  });
});
