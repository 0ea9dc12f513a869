import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LintRule, lintSource } from "../../host-tools/src/build/lint";
import { repoRoot } from "../../host-tools/src/paths";

function rules(src: string): LintRule[] {
  return lintSource(src).map((p) => p.rule);
}

describe("Espruino lint", () => {
  const samples: Array<[LintRule, string]> = [
    ["spread", "var a=[1];var b=[].concat([0,...a]);"],
    ["spread", "var o={a:1};var p={...o};"],
    ["rest-parameter", "function f(...xs){return xs}f(1);"],
    ["default-parameter", "function f(a=1){return a}f();"],
    ["destructuring", "var o={a:1};var {a}=o;"],
    ["destructuring", "var xs=[1,2];var [x,y]=xs;"],
    ["computed-key", "var k='a';var o={[k]:1};"],
    ["optional-chaining", "var o={};var v=o?.a;"],
    ["exponent", "var x=2**8;"],
    ["exponent", "var x=2;x**=2;"],
    ["async", "async function f(){}f();"],
    ["async", "var f=async function(){await 1};"],
    ["generator", "function* g(){yield 1}g();"],
    ["label", "outer: for(var i=0;i<2;i++){break outer}"],
    ["bigint", "var b=10n;"],
    ["forbidden-global", "var m=new Map();"],
    ["forbidden-global", "var s=new Set();"],
    ["forbidden-global", "var y=Symbol('x');"],
    ["forbidden-global", "var b=BigInt(1);"],
    ["forbidden-static", "var a=Array.from([1]);"],
    ["forbidden-static", "var u=Uint8Array.from([1]);"],
    ["forbidden-static", "var t=Math.trunc(1.5);"],
    ["forbidden-static", "var i=Number.isInteger(1);"],
    ["forbidden-static", "var f=Object.freeze({});"],
    ["builtin-prototype", "var sl=Array.prototype.slice;"],
    ["builtin-prototype", "var th=Promise.prototype.then;"],
    ["unknown-global", "var x=__extends(a,b);function a(){}function b(){}"],
    ["unknown-global", "var b=Buffer.alloc(1);"],
    ["board-constant", "var x=BOARD.crypto.aes;"],
    ["use-before-definition", "f();function f(){}"],
    ["use-before-definition", "var y=x+1;var x=1;"],
    ["use-before-definition", "(function(){g();function g(){}})();"],
    ["use-before-definition", "function a(){return b()}a();function b(){return 1}"],
    ["global-shadow", "function g(){return 1}g();"],
    ["global-shadow", "var E=1;"],
    ["global-shadow", "var D5=2;"]
  ];

  for (const [rule, src] of samples) {
    it(`rule ${rule} catches: ${src}`, () => {
      assert.ok(rules(src).includes(rule), `expected ${rule} in ${JSON.stringify(lintSource(src))}`);
    });
  }

  it("passes clean ES5 plus the ES2015 forms Espruino runs", () => {
    const clean = [
      "'use strict';",
      "(function(){",
      "function add(a,b){return a+b}",
      "var sl=[].slice.call([1,2,3],1);",
      "let k=1;const c=2;",
      "var f=(x)=>x*2;",
      "var s=`t${k}`;",
      "class A{constructor(){this.v=1}get g(){return this.v}static s(){return 2}}",
      "class B extends A{}",
      "for(const v of [1,2]){add(v,c)}",
      "var n=null??1;",
      "var o=Object.assign({}, {a:1});",
      "var dv=new DataView(new ArrayBuffer(4));",
      "var u=new Uint8Array(4).subarray(1);",
      "var later=function(){return defined()};",
      "function defined(){return E.hwRand()}",
      "setTimeout(later,10);",
      "add(f(1),s.length);",
      "})();"
    ].join("\n");
    assert.deepEqual(lintSource(clean), []);
  });

  it("lets a function's own local variable take a global's name (only top-level names are globals)", () => {
    assert.deepEqual(rules("function f(){var g=1;return g}f();"), []);
  });

  it("does not mistake a local variable named like a forbidden builtin for the builtin", () => {
    assert.deepEqual(rules("function f(Map){return Map.size}f({size:1});"), []);
  });

  it("reports line and column of the offending construct", () => {
    const [p] = lintSource("var a=1;\nvar b=\n  a ** 2;");
    assert.equal(p.rule, "exponent");
    assert.equal(p.line, 3);
    assert.equal(p.column, 3);
  });

  it("reports a syntax error instead of throwing", () => {
    const [p] = lintSource("var = ;");
    assert.equal(p.rule, "syntax");
    assert.equal(p.line, 1);
  });

  describe("privatetracer lint-bundle", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lint-"));
    const cli = path.join(repoRoot, "bin", "privatetracer.js");

    it("exits 1 and prints file:line:column and the rule for a forbidden construct", () => {
      const bad = path.join(dir, "bad.js");
      fs.writeFileSync(bad, "var ok=1;\nvar m=new Map();\n");
      const r = spawnSync(process.execPath, [cli, "lint-bundle", bad], { encoding: "utf8" });
      assert.equal(r.status, 1);
      assert.match(r.stderr, new RegExp(`bad\\.js:2:11 forbidden-global: Map`));
    });

    it("exits 0 for a clean file", () => {
      const good = path.join(dir, "good.js");
      fs.writeFileSync(good, "var ok=[1,2].map(function(x){return x+1});\n");
      const r = spawnSync(process.execPath, [cli, "lint-bundle", good], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
    });

    it("exits 2 with a clear message for a missing file", () => {
      const r = spawnSync(process.execPath, [cli, "lint-bundle", path.join(dir, "nope.js")], { encoding: "utf8" });
      assert.equal(r.status, 2);
      assert.match(r.stderr, /cannot read .*nope\.js/);
    });
  });
});
