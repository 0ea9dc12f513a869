import { strict as assert } from "node:assert";
import { BundleResult } from "../../../host-tools/src/build/bundle";
import { loadBoard } from "../../../host-tools/src/build/boards";
import { testBundle } from "../../helpers/firmware";
import { findVector } from "./selftest-vector";

// Fingerprints of the pure-JS code in a minified bundle: SHA-256 computes its
// constants from cube roots of primes; AES reduces by 0x11B (283) in xtime.
const PURE_SHA256 = /Math\.pow\(\w+,1\/3\)/;
const PURE_AES = /\*283\b/;

describe("token crypto: a board's bundle holds only the crypto path it uses", function () {
  const r: Record<string, BundleResult> = {};

  before(async function () {
    for (const id of ["puckjs", "mdbt42q", "pixljs"]) r[id] = await testBundle(id);
    // Puck.js as if it had no native AES: shows the pure AES is what the marker finds.
    r.puckNoAes = await testBundle("puckjs", { ...loadBoard("puckjs"), crypto: { sha256: true, aes: false } }, "-no-aes");
  });

  it("Puck.js (native SHA-256 and AES) ships neither pure-JS path", () => {
    assert.doesNotMatch(r.puckjs.code, PURE_SHA256);
    assert.doesNotMatch(r.puckjs.code, PURE_AES);
    assert.match(r.puckjs.code, /\.AES\.encrypt\(/);
  });
  it("MDBT42Q (native SHA-256, no AES) ships pure-JS AES only", () => {
    assert.doesNotMatch(r.mdbt42q.code, PURE_SHA256);
    assert.match(r.mdbt42q.code, PURE_AES);
  });
  it("Pixl.js (SHA-1 only) ships both pure-JS paths, within its budget and lint-clean", () => {
    assert.match(r.pixljs.code, PURE_SHA256);
    assert.match(r.pixljs.code, PURE_AES);
    assert.deepEqual(r.pixljs.lint, []);
    assert.ok(r.pixljs.size.withinBudget, `${r.pixljs.size.bytes} > ${r.pixljs.size.budgetBytes}`);
  });
  it("the pure-JS AES costs Puck.js flash only when its config asks for it", () => {
    assert.match(r.puckNoAes.code, PURE_AES);
    assert.ok(r.puckNoAes.size.bytes > r.puckjs.size.bytes + 300, `${r.puckNoAes.size.bytes} vs ${r.puckjs.size.bytes}`);
  });
  it("boots through the known-answer self-test on every board", () => {
    for (const id of ["puckjs", "mdbt42q", "pixljs"]) assert.ok(findVector(r[id].code), id);
  });
});
