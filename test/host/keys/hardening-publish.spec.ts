import { strict as assert } from "node:assert";
import { ChildProcess, execFileSync, fork, spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { emptyStore, issueCode, readCodeStore, updateCodeStore, writeCodeStore } from "../../../host-tools/src/keys/auth-codes";
import { readExportFile } from "../../../host-tools/src/keys/export-file";
import { enrolmentOf, generateKioskKey, KioskSecret } from "../../../host-tools/src/keys/kiosk-identity";
import { publishUploads, PublishOptions } from "../../../host-tools/src/keys/publish";
import { generateSigningKeyPair, parsePrivateKey } from "../../../host-tools/src/keys/signing";
import { ReportType } from "../../../host-tools/src/keys/types";
import { createUpload, uploadToJson } from "../../../host-tools/src/keys/upload";
import { runCli, tempDir } from "./helpers";
import { cliChild } from "./hardening-helpers";

/**
 * Issue 15, item 6: `keys publish` wrote the export and index before it took
 * the code store's lock, so two publishes at once accepted one upload twice
 * (4 of 50 rounds), and a killed publish left a lock the next run waited on
 * and then refused. A symlink in the uploads directory leaked the first bytes
 * of its target into the rejection reason, and a `published/` symlink moved
 * uploads out of the directory.
 */

const DAY = 86400;
const nowS = (): number => Math.floor(Date.now() / 1000);

interface World {
  dir: string;
  uploads: string;
  out: string;
  codesFile: string;
  kiosksFile: string;
  signPem: string;
  signFile: string;
  kiosk: KioskSecret;
}

function world(name: string): World {
  const dir = tempDir(name);
  const kiosk = generateKioskKey("care-home-1");
  const w: World = {
    dir,
    uploads: path.join(dir, "uploads"),
    out: path.join(dir, "out"),
    codesFile: path.join(dir, "codes.json"),
    kiosksFile: path.join(dir, "kiosks.json"),
    signPem: generateSigningKeyPair().privateKeyPem,
    signFile: path.join(dir, "sign.pem"),
    kiosk
  };
  fs.mkdirSync(w.uploads);
  writeCodeStore(w.codesFile, emptyStore());
  fs.writeFileSync(w.kiosksFile, JSON.stringify({ kiosks: [enrolmentOf(kiosk)] }));
  fs.writeFileSync(w.signFile, w.signPem);
  return w;
}

/** An upload of one fresh key (two days old) under a fresh code; returns its file name and key data. */
function submit(w: World, name: string, now = nowS()): { file: string; key: string } {
  const code = updateCodeStore(w.codesFile, (s) =>
    issueCode(s, { now: now - DAY, validSeconds: 3 * DAY, reportType: ReportType.ConfirmedTest })
  );
  const keyData = crypto.randomBytes(16);
  const start = (Math.floor(now / DAY) - 2) * 144;
  const upload = createUpload([{ keyData, rollingStartIntervalNumber: start, rollingPeriod: 144 }], code, w.kiosk, now - 60);
  fs.writeFileSync(path.join(w.uploads, name), uploadToJson(upload));
  return { file: name, key: keyData.toString("hex") };
}

function options(w: World, extra: Partial<PublishOptions> = {}): PublishOptions {
  return {
    uploadsDir: w.uploads,
    codesFile: w.codesFile,
    kiosks: new Map([[w.kiosk.kioskId, w.kiosk.publicKey]]),
    signingKey: parsePrivateKey(w.signPem),
    keyId: "T",
    keyVersion: "1",
    region: "XX",
    outDir: w.out,
    now: nowS(),
    ...extra
  };
}

function publishArgs(w: World): string[] {
  return [
    "keys",
    "publish",
    "--uploads",
    w.uploads,
    "--codes",
    w.codesFile,
    "--kiosks",
    w.kiosksFile,
    "--sign",
    w.signFile,
    "--key-id",
    "T",
    "--key-version",
    "1",
    "--region",
    "XX",
    "--out",
    w.out
  ];
}

/** How many times each key data (hex) appears across every export in `out`. */
async function keysInExports(out: string): Promise<Map<string, number>> {
  const n = new Map<string, number>();
  if (!fs.existsSync(out)) return n;
  for (const f of fs.readdirSync(out).filter((x) => x.endsWith(".zip"))) {
    for (const k of (await readExportFile(path.join(out, f))).export.keys) {
      const hex = Buffer.from(k.keyData).toString("hex");
      n.set(hex, (n.get(hex) ?? 0) + 1);
    }
  }
  return n;
}

/** A pid that no process has any more: a child that has already exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", ""]);
  assert.ok(r.pid);
  return r.pid;
}

describe("hardening: keys publish is exclusive end to end (issue 15, item 6)", function () {
  this.timeout(300_000);

  it("50 rounds of two concurrent publishes (child processes) never accept one upload twice", async () => {
    const w = world("race");
    const control = path.join(w.dir, "control");
    fs.mkdirSync(control);
    const rounds = 50;
    const workers: ChildProcess[] = ["a", "b"].map((id) =>
      fork(
        path.join(__dirname, "hardening-publish-worker.ts"),
        [
          JSON.stringify({
            id,
            control,
            rounds,
            uploadsDir: w.uploads,
            codesFile: w.codesFile,
            kiosksFile: w.kiosksFile,
            signingKeyPem: w.signPem,
            outDir: w.out
          })
        ],
        { execArgv: ["-r", "ts-node/register/transpile-only"], stdio: "inherit" }
      )
    );
    const until = async (files: string[], ms: number): Promise<void> => {
      const deadline = Date.now() + ms;
      while (!files.every((f) => fs.existsSync(path.join(control, f)))) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${files.join(", ")}`);
        await delay(2);
      }
    };
    try {
      await until(["ready-a", "ready-b"], 120_000);
      const doubles: number[] = [];
      const errors: string[] = [];
      const keys: string[] = [];
      for (let round = 0; round < rounds; round++) {
        const u = submit(w, `u-${round}.json`);
        keys.push(u.key);
        fs.writeFileSync(path.join(control, `go-${round}`), "");
        await until([`done-${round}-a.json`, `done-${round}-b.json`], 60_000);
        let accepted = 0;
        for (const id of ["a", "b"]) {
          const r = JSON.parse(fs.readFileSync(path.join(control, `done-${round}-${id}.json`), "utf8")) as {
            accepted: string[];
            error?: string;
          };
          if (r.accepted.includes(u.file)) accepted++;
          if (r.error) errors.push(`round ${round} ${id}: ${r.error}`);
        }
        if (accepted > 1) doubles.push(round);
      }
      const inExports = await keysInExports(w.out);
      const twice = keys.filter((k) => (inExports.get(k) ?? 0) > 1).length;
      const missing = keys.filter((k) => !inExports.has(k)).length;
      const index = fs.readFileSync(path.join(w.out, "index.txt"), "utf8").trim().split("\n");
      assert.deepEqual(doubles, [], `rounds where both runs accepted the upload`);
      assert.equal(twice, 0, "keys published in two exports");
      assert.equal(new Set(index).size, index.length, "an export listed twice in index.txt");
      assert.deepEqual(errors, [], "a run that waited for the other found nothing left to do, and no error");
      assert.equal(missing, 0, "every upload was published");
      assert.equal(readCodeStore(w.codesFile).codes.filter((c) => c.usedAt !== undefined).length, rounds);
    } finally {
      for (const p of workers) p.kill("SIGKILL");
    }
  });

  it("takes the lock before writing anything: while another run holds it, nothing is written", async () => {
    const w = world("lock-first");
    submit(w, "a.json");
    // A live owner: this very process.
    fs.writeFileSync(
      `${w.codesFile}.lock`,
      JSON.stringify({ pid: process.pid, host: os.hostname(), nonce: "other-run", since: new Date().toISOString() })
    );
    let message = "";
    await assert.rejects(publishUploads(options(w, { lockWaitMs: 300 })), (e: Error) => {
      message = e.message;
      return /locked by another publish or issue-code run/.test(e.message);
    });
    assert.equal(fs.existsSync(w.out), false, "no export and no index written without the lock");
    assert.match(message, new RegExp(`held by process ${process.pid} on `), "the message says who holds it");
    assert.ok(fs.existsSync(path.join(w.uploads, "a.json")), "the upload is still pending");
    assert.equal(readCodeStore(w.codesFile).codes[0].usedAt, undefined);
    assert.ok(fs.existsSync(`${w.codesFile}.lock`), "another run's lock is left alone");
  });

  it("takes over a stale lock left by a killed publish (its pid no longer runs), saying so", async () => {
    const w = world("stale");
    submit(w, "a.json");
    const pid = deadPid();
    fs.writeFileSync(
      `${w.codesFile}.lock`,
      JSON.stringify({ pid, host: os.hostname(), nonce: "dead-run", since: new Date().toISOString() }) + "\n"
    );
    const r = await runCli(publishArgs(w));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`took over the lock .*codes\\.json\\.lock left by process ${pid} on .*no longer running`));
    assert.match(r.stdout, /published 1 key\(s\) from 1 upload\(s\)/);
    assert.equal(fs.existsSync(`${w.codesFile}.lock`), false, "released after the run");
  });

  it("two publishes in the same second both publish (the second export gets the next number)", async () => {
    const w = world("same-second");
    const now = nowS();
    submit(w, "a.json", now);
    const first = await publishUploads(options(w, { now }));
    submit(w, "b.json", now);
    const second = await publishUploads(options(w, { now }));
    assert.ok(first.exportFile && second.exportFile);
    assert.notEqual(first.exportFile, second.exportFile);
    assert.match(second.exportFile, /-00002\.zip$/);
    assert.deepEqual(fs.readFileSync(path.join(w.out, "index.txt"), "utf8").trim().split("\n"), [first.exportFile, second.exportFile]);
  });
});

describe("hardening: keys publish and links in the uploads directory (issue 15, item 6)", function () {
  this.timeout(120_000);
  const SECRET = "TOPSECRET-publisher-password-1234";

  it("rejects a symlinked upload without following it: the reason quotes nothing of its target", async () => {
    const w = world("symlink");
    const secret = path.join(w.dir, "secret.txt");
    fs.writeFileSync(secret, `${SECRET}\n`);
    fs.symlinkSync(secret, path.join(w.uploads, "leak.json"));
    submit(w, "good.json");
    const r = await runCli(publishArgs(w));
    assert.doesNotMatch(r.stdout + r.stderr, /TOPSECRET/);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /rejected .*leak\.json: it is a symbolic link; uploads are read only from regular files/);
    const reason = fs.readFileSync(path.join(w.uploads, "rejected", "leak.json.reason.txt"), "utf8");
    assert.doesNotMatch(reason, /TOPSECRET|secret\.txt/);
    assert.ok(
      fs.lstatSync(path.join(w.uploads, "rejected", "leak.json")).isSymbolicLink(),
      "the link itself is filed, its target untouched"
    );
    assert.equal(fs.readFileSync(secret, "utf8"), `${SECRET}\n`);
    assert.match(r.stdout, /published 1 key\(s\) from 1 upload\(s\)/);
  });

  it("never writes a reason through a link planted in rejected/", async () => {
    const w = world("reason-link");
    const victim = path.join(w.dir, "victim.txt");
    fs.writeFileSync(victim, "keep me\n");
    fs.mkdirSync(path.join(w.uploads, "rejected"));
    fs.symlinkSync(victim, path.join(w.uploads, "rejected", "bad.json.reason.txt"));
    fs.writeFileSync(path.join(w.uploads, "bad.json"), "{}");
    const r = await runCli(publishArgs(w));
    assert.equal(r.code, 1, r.stderr);
    assert.equal(fs.readFileSync(victim, "utf8"), "keep me\n");
  });

  for (const sub of ["published", "rejected"]) {
    it(`refuses a symlinked ${sub}/ before doing anything, so no upload leaves the uploads directory`, async () => {
      const w = world(`${sub}-link`);
      const elsewhere = path.join(w.dir, "elsewhere");
      fs.mkdirSync(elsewhere);
      fs.symlinkSync(elsewhere, path.join(w.uploads, sub));
      submit(w, "a.json");
      fs.writeFileSync(path.join(w.uploads, "bad.json"), "{}");
      const r = await runCli(publishArgs(w));
      assert.deepEqual(fs.readdirSync(elsewhere), [], "nothing moved out of the uploads directory");
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`uploads/${sub} is a symbolic link.*Nothing was published`));
      assert.ok(fs.existsSync(path.join(w.uploads, "a.json")));
      assert.equal(fs.existsSync(w.out), false);
    });
  }

  it("rejects a FIFO named like an upload at once instead of waiting on it", function () {
    const w = world("fifo");
    try {
      execFileSync("mkfifo", [path.join(w.uploads, "pipe.json")]);
    } catch {
      this.skip();
    }
    submit(w, "good.json");
    const r = cliChild(publishArgs(w), 60_000);
    assert.ok(!r.timedOut, "publish hung on the FIFO");
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /rejected .*pipe\.json: it is not a regular file/);
    assert.match(r.stdout, /published 1 key\(s\)/);
  });
});
