import { strict as assert } from "node:assert";
import { ChildProcess, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { generateSigningKeyPair } from "../../host-tools/src/keys/signing";
import { fixture, tempDir } from "./keys/helpers";
import { background, BatchResult, cliBatch } from "./keys/hardening-helpers";

/**
 * Issue 15, item 6: size limits were checked with `stat` only, which says 0
 * bytes for /dev/zero, /dev/urandom, a FIFO or a pipe; reading them then ran
 * until memory gave out, or waited forever. Every input file the CLI reads
 * is now read with a bound on the bytes actually read. The commands run in a
 * child process with a time limit, so a regression fails here instead of
 * stopping the test run.
 */

const ZIP = fixture("testExport-2-records-1-of-1.zip");
const OVER = /over the \d+-byte limit for .*; it is a (character device|FIFO or pipe), which may never end/;
const ZERO = "/dev/zero";

describe("hardening: bounded reads of every input file (issue 15, item 6)", function () {
  this.timeout(300_000);
  const cases: Array<{ name: string; args: string[]; expect: RegExp; code?: number; stdout?: RegExp }> = [];
  const writers: ChildProcess[] = [];
  let results: BatchResult[] = [];

  before(function () {
    if (!fs.existsSync(ZERO) || !fs.existsSync("/dev/urandom")) this.skip();
    const dir = tempDir("rl");
    const sightings = path.join(dir, "s.jsonl");
    fs.writeFileSync(sightings, JSON.stringify({ time: 1_700_000_000, rpi: "00112233445566778899aabbccddeeff", rssi: -60 }) + "\n");
    const priv = path.join(dir, "p.pem");
    fs.writeFileSync(priv, generateSigningKeyPair().privateKeyPem);
    fs.mkdirSync(path.join(dir, "uploads"));
    const fifo = (name: string): string => {
      const f = path.join(dir, name);
      execFileSync("mkfifo", [f]);
      return f;
    };
    const endless = fifo("endless.jsonl");
    writers.push(background(`exec yes '{"time": 1700000000}' > "${endless}"`));
    const fed = fifo("fed.zip");
    writers.push(background(`exec cat "${ZIP}" > "${fed}"`));
    const exportArgs = ["--out", path.join(dir, "o.zip"), "--sign", priv, "--key-id", "a", "--key-version", "1", "--region", "GB"];
    cases.push(
      { name: "keys show /dev/zero (an export)", args: ["keys", "show", ZERO], expect: OVER },
      { name: "keys verify --public-key /dev/zero (a PEM key)", args: ["keys", "verify", ZIP, "--public-key", ZERO], expect: OVER },
      {
        name: "keys export --keys /dev/urandom (keys JSON)",
        args: ["keys", "export", "--keys", "/dev/urandom", ...exportArgs],
        expect: OVER
      },
      {
        name: "keys export --sign /dev/zero (a signing key)",
        args: [
          "keys",
          "export",
          "--keys",
          fixture("testExport-2-records-keys.json"),
          ...exportArgs.slice(0, 2),
          "--sign",
          ZERO,
          ...exportArgs.slice(4)
        ],
        expect: OVER
      },
      { name: "match --keys /dev/zero (an index)", args: ["match", "--keys", ZERO, "--sightings", sightings], expect: OVER },
      { name: "match --sightings /dev/zero", args: ["match", "--keys", ZIP, "--sightings", ZERO], expect: OVER },
      {
        name: "match --risk-config /dev/zero",
        args: ["match", "--keys", ZIP, "--sightings", sightings, "--risk-config", ZERO],
        expect: OVER
      },
      { name: "match --profile /dev/zero", args: ["match", "--keys", ZIP, "--sightings", sightings, "--profile", ZERO], expect: OVER },
      {
        name: "match --public-key /dev/zero",
        args: ["match", "--keys", ZIP, "--sightings", sightings, "--public-key", ZERO],
        expect: OVER
      },
      {
        name: "report create --kiosk-key /dev/zero (a kiosk key)",
        args: ["report", "create", "--keys", ZERO, "--code", "ABCD-EFGH-JKMN-PQRS", "--kiosk-key", ZERO, "--out", path.join(dir, "u.json")],
        expect: OVER
      },
      {
        name: "keys publish --kiosks /dev/zero (the kiosk list)",
        args: [
          "keys",
          "publish",
          "--uploads",
          path.join(dir, "uploads"),
          "--codes",
          ZERO,
          "--kiosks",
          ZERO,
          ...exportArgs.slice(2),
          "--out",
          path.join(dir, "out")
        ],
        expect: OVER
      },
      {
        name: "simulate --scenario /dev/zero",
        args: ["simulate", "--scenario", ZERO, "--days", "1", "--firmware", "stand-in"],
        expect: OVER
      },
      { name: "match --sightings FIFO fed without end", args: ["match", "--keys", ZIP, "--sightings", endless], expect: OVER },
      { name: "log show /dev/zero (a flash image)", args: ["log", "show", ZERO], expect: OVER },
      { name: "match --flash /dev/urandom (a flash image)", args: ["match", "--keys", ZIP, "--flash", "/dev/urandom"], expect: OVER },
      {
        name: "keys show FIFO with a writer: read to its end as usual",
        args: ["keys", "show", fed],
        expect: /^$/,
        code: 0,
        stdout: /2 key\(s\)/
      },
      // Last: it waits 10 s for a writer.
      {
        name: "keys show FIFO that nobody writes to: refused after a wait, not a hang",
        args: ["keys", "show", fifo("silent.zip")],
        expect: /nothing wrote to it within 10 s/
      }
    );
    results = cliBatch(
      cases.map((c) => c.args),
      240_000
    );
  });

  after(() => {
    for (const w of writers) w.kill("SIGKILL");
  });

  // One `it` a case, named at load time; each reads its result from the batch run in `before`.
  const names = [
    "keys show /dev/zero (an export)",
    "keys verify --public-key /dev/zero (a PEM key)",
    "keys export --keys /dev/urandom (keys JSON)",
    "keys export --sign /dev/zero (a signing key)",
    "match --keys /dev/zero (an index)",
    "match --sightings /dev/zero",
    "match --risk-config /dev/zero",
    "match --profile /dev/zero",
    "match --public-key /dev/zero",
    "report create --kiosk-key /dev/zero (a kiosk key)",
    "keys publish --kiosks /dev/zero (the kiosk list)",
    "simulate --scenario /dev/zero",
    "match --sightings FIFO fed without end",
    "log show /dev/zero (a flash image)",
    "match --flash /dev/urandom (a flash image)",
    "keys show FIFO with a writer: read to its end as usual",
    "keys show FIFO that nobody writes to: refused after a wait, not a hang"
  ];
  names.forEach((name, i) => {
    it(name, () => {
      const c = cases[i];
      assert.equal(c.name, name);
      const r = results[i];
      assert.ok(r, "did not finish: it hung or filled memory until the time limit");
      assert.doesNotMatch(r.stderr, /internal error/);
      assert.equal(r.code, c.code ?? 2, r.stderr);
      assert.match(r.stderr, c.expect);
      if (c.stdout) assert.match(r.stdout, c.stdout);
    });
  });
});
