import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as esbuild from "esbuild";
import { boardConstants, defineMap, loadBoard } from "../../host-tools/src/build/boards";
import { interpreterFor, runScript } from "../../host-tools/src/real-espruino/interpreter";
import { repoRoot } from "../../host-tools/src/paths";

/**
 * The sync protocol's handshake and frame crypto on the REAL Espruino
 * interpreter built like each board (native or pure-JS SHA-256 and AES as the
 * board has them): it must give the golden bytes of
 * test/fixtures/wire/sync-session.json, which proves the shared wire code is
 * Espruino-safe. It also times sealing and opening a 100-byte message (host
 * milliseconds; × ~11 for an nRF52, see real-espruino/nrf52-speed.ts), which
 * docs/sync-protocol.md quotes.
 */

const BOARDS = ["puckjs", "mdbt42q", "pixljs"];
const FIXTURE = fs.readFileSync(path.join(__dirname, "..", "fixtures", "wire", "sync-session.json"), "utf8");

const PROGRAM = `
import { createSession, seal, open, DIR_TOKEN, DIR_CENTRAL } from "./firmware/src/wire/sync-frame";
import { tokenProve, tokenAccept } from "./firmware/src/wire/sync-handshake";
declare var require: any, getTime: any, print: any, quit: any;
var crypto = require("crypto");
var p = {
  sha256: function (d: Uint8Array) { return new Uint8Array(crypto.SHA256(d)); },
  aes128Ecb: function (b: Uint8Array, k: Uint8Array) { return new Uint8Array(crypto.AES.encrypt(b, k, { mode: "ECB" })); }
};
var G = ${FIXTURE};
function hx(b: Uint8Array | null): string {
  if (!b) return "null";
  var s = "";
  for (var i = 0; i < b.length; i++) s += (b[i] < 16 ? "0" : "") + b[i].toString(16);
  return s;
}
function by(h: string): Uint8Array {
  var b = new Uint8Array(h.length / 2);
  for (var i = 0; i < b.length; i++) b[i] = parseInt(h.substr(2 * i, 2), 16);
  return b;
}
try {
  var S = by(G.secret), nc = by(G.nc), nt = by(G.nt);
  print("@prove " + hx(tokenProve(p, S, { nc: nc, nt: nt })));
  var t = tokenAccept(p, S, { nc: nc, nt: nt }, by(G.auth));
  print("@key " + (t ? hx(t.enc) + hx(t.mac) : "null"));
  var k = by(G.sessionKey);
  var ct = createSession(k, DIR_CENTRAL), tt = createSession(k, DIR_TOKEN);
  var cr = createSession(k, DIR_CENTRAL), tr = createSession(k, DIR_TOKEN);
  for (var i = 0; i < G.frames.length; i++) {
    var f = G.frames[i];
    var c = f.dir === "central";
    var sealed = seal(p, c ? ct : tt, by(f.message));
    print("@frame" + i + " " + hx(sealed) + " " + hx(open(p, c ? tr : cr, sealed)));
  }
  var msg = new Uint8Array(100);
  var a = createSession(k, DIR_TOKEN), b = createSession(k, DIR_CENTRAL);
  var N = 5, frames: Uint8Array[] = [];
  var t0 = getTime();
  for (i = 0; i < N; i++) frames.push(seal(p, a, msg));
  var t1 = getTime();
  for (i = 0; i < N; i++) if (!open(p, b, frames[i])) print("@costfail");
  var t2 = getTime();
  var hk = getTime();
  tokenProve(p, S, { nc: nc, nt: nt });
  tokenAccept(p, S, { nc: nc, nt: nt }, by(G.auth));
  var hk2 = getTime();
  print("@cost " + ((t1 - t0) * 1000 / N).toFixed(1) + " " + ((t2 - t1) * 1000 / N).toFixed(1) + " " + ((hk2 - hk) * 1000).toFixed(1));
} catch (e) {
  print("@error " + e);
}
quit();
`;

describe("sync protocol crypto on the real interpreter", function () {
  for (const board of BOARDS) {
    it(`${board}: the golden handshake and frames, byte for byte`, async function () {
      const interpreter = interpreterFor(board);
      if (!interpreter) return this.skip();
      const built = await esbuild.build({
        stdin: { contents: PROGRAM, resolveDir: repoRoot, loader: "ts", sourcefile: "sync-cost.ts" },
        bundle: true,
        format: "esm",
        target: "es5",
        platform: "node",
        minify: true,
        charset: "ascii",
        define: defineMap(boardConstants(loadBoard(board), 1735689600)),
        write: false,
        logLevel: "silent"
      });
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sync-cost-"));
      try {
        const file = path.join(dir, "sync-cost.js");
        fs.writeFileSync(file, built.outputFiles[0].text);
        const run = await runScript(interpreter, file, { cwd: dir, timeoutMs: 60000 });
        const lines = new Map<string, string>();
        for (const m of run.stdout.matchAll(/^@(\w+) ?(.*)$/gm)) lines.set(m[1], m[2].trim());
        assert.equal(lines.get("error"), undefined, `error on ${board}: ${lines.get("error")}`);
        const g = JSON.parse(FIXTURE) as { prove: string; sessionKey: string; frames: Array<{ message: string; frame: string }> };
        assert.equal(lines.get("prove"), g.prove);
        assert.equal(lines.get("key"), g.sessionKey);
        g.frames.forEach((f, i) => assert.equal(lines.get(`frame${i}`), `${f.frame} ${f.message}`, `frame ${i}`));
        const [sealMs, openMs, handshakeMs] = (lines.get("cost") ?? "").split(" ").map(Number);
        assert.ok(sealMs > 0 && openMs > 0, `no timing in ${run.stdout.slice(-300)}`);
        this.test!.title +=
          ` (100-byte message, host ms: seal ${sealMs}, open ${openMs}, token handshake ${handshakeMs}; ` +
          `nRF52 ≈ ×11: ${Math.round(sealMs * 11)}, ${Math.round(openMs * 11)}, ${Math.round(handshakeMs * 11)} ms)`;
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
