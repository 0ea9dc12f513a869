import { strict as assert } from "node:assert";
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
// The module object itself (a namespace import is a frozen copy): what sinon stubs, and what every `fs.` call reads.
import nodeFs from "node:fs";
import * as path from "node:path";
import sinon from "sinon";
import { writeFileAtomic } from "../../host-tools/src/atomic-write";
import { fixture, runCli, tempDir } from "./keys/helpers";
import { cliChild } from "./keys/hardening-helpers";

/**
 * Issue 15, item 6: the atomic writer replaced whatever was at the target
 * (a device node, a FIFO, a symbolic link) with a regular file, so
 * `-o /dev/stdout` lost the output and a link to a kept file was cut, and a
 * failed write left its 0-byte `.tmp` file behind.
 */

const tmpFiles = (dir: string): string[] => fs.readdirSync(dir).filter((f) => f.endsWith(".tmp"));

function enospc(): sinon.SinonStub {
  return sinon.stub(nodeFs, "writeSync").callsFake(() => {
    const e: NodeJS.ErrnoException = new Error("ENOSPC: no space left on device, write");
    e.code = "ENOSPC";
    throw e;
  });
}

async function exitOf(child: ReturnType<typeof spawn>, ms: number): Promise<number | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      resolve(null);
    }, ms);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

describe("hardening: the atomic writer (issue 15, item 6)", () => {
  it("writes through a symbolic link to its target regular file and keeps the link", () => {
    const dir = tempDir("aw-link");
    const real = path.join(dir, "real.txt");
    const link = path.join(dir, "link.txt");
    fs.writeFileSync(real, "old\n");
    fs.chmodSync(real, 0o640);
    fs.symlinkSync("real.txt", link);
    writeFileAtomic(link, Buffer.from("new\n"));
    assert.ok(fs.lstatSync(link).isSymbolicLink(), "the link is kept");
    assert.equal(fs.readFileSync(real, "utf8"), "new\n");
    assert.equal(fs.statSync(real).mode & 0o777, 0o640, "the target keeps its mode");
    assert.deepEqual(tmpFiles(dir), []);
  });

  it("creates the target of a dangling link, keeping the link", () => {
    const dir = tempDir("aw-dangling");
    fs.mkdirSync(path.join(dir, "sub"));
    const link = path.join(dir, "link.txt");
    fs.symlinkSync(path.join("sub", "made.txt"), link);
    writeFileAtomic(link, Buffer.from("made\n"));
    assert.ok(fs.lstatSync(link).isSymbolicLink());
    assert.equal(fs.readFileSync(path.join(dir, "sub", "made.txt"), "utf8"), "made\n");
  });

  it("writes into a FIFO directly (a reader gets the bytes) instead of replacing it", async function () {
    const dir = tempDir("aw-fifo");
    const fifo = path.join(dir, "fifo");
    try {
      execFileSync("mkfifo", [fifo]);
    } catch {
      this.skip();
    }
    const got = path.join(dir, "got");
    const reader = spawn("sh", ["-c", `exec cat "${fifo}" > "${got}"`], { stdio: "ignore" });
    writeFileAtomic(fifo, Buffer.from("through the fifo\n"));
    const code = await exitOf(reader, 5000);
    assert.ok(fs.lstatSync(fifo).isFIFO(), "the FIFO is still a FIFO");
    assert.equal(code, 0, "the reader got to the end");
    assert.equal(fs.readFileSync(got, "utf8"), "through the fifo\n");
    assert.deepEqual(tmpFiles(dir), []);
  });

  it("reports a full device behind a link (ENOSPC) and leaves the link and no temporary file", function () {
    if (!fs.existsSync("/dev/full")) this.skip();
    const dir = tempDir("aw-full");
    const link = path.join(dir, "out.zip");
    fs.symlinkSync("/dev/full", link);
    assert.throws(() => writeFileAtomic(link, Buffer.alloc(4096, 1)), /ENOSPC|no space/);
    assert.ok(fs.lstatSync(link).isSymbolicLink());
    assert.deepEqual(tmpFiles(dir), []);
  });

  it("refuses a directory at the target without leaving a temporary file", () => {
    const dir = tempDir("aw-dir");
    fs.mkdirSync(path.join(dir, "out.zip"));
    assert.throws(() => writeFileAtomic(path.join(dir, "out.zip"), Buffer.from("x")), /directory/);
    assert.deepEqual(tmpFiles(dir), []);
  });

  it("removes its temporary file when the disk is full, and leaves the old file whole", () => {
    const dir = tempDir("aw-enospc");
    const file = path.join(dir, "index.txt");
    fs.writeFileSync(file, "a.zip\n");
    const stub = enospc();
    try {
      assert.throws(() => writeFileAtomic(file, Buffer.from("a.zip\nb.zip\n")), /ENOSPC/);
    } finally {
      stub.restore();
    }
    assert.equal(fs.readFileSync(file, "utf8"), "a.zip\n");
    assert.deepEqual(tmpFiles(dir), []);
  });

  it("keys export --out on a full disk: exit 2 naming the file, no temporary file left", async () => {
    const dir = tempDir("aw-cli");
    const priv = path.join(dir, "p.pem");
    assert.equal((await runCli(["keys", "keygen", "--private-out", priv, "--public-out", path.join(dir, "q.pem")])).code, 0);
    const out = path.join(dir, "o.zip");
    const stub = enospc();
    let r;
    try {
      r = await runCli(exportArgs(fixture("testExport-2-records-keys.json"), out, priv));
    } finally {
      stub.restore();
    }
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /cannot write .*o\.zip: ENOSPC/);
    assert.deepEqual(tmpFiles(dir), []);
    assert.equal(fs.existsSync(out), false);
  });

  it("keys export --out /proc/self/fd/1 writes the export to standard output", function () {
    if (!fs.existsSync("/proc/self/fd")) this.skip();
    const dir = tempDir("aw-stdout");
    const priv = path.join(dir, "p.pem");
    const pub = path.join(dir, "q.pem");
    assert.equal(cliChild(["keys", "keygen", "--private-out", priv, "--public-out", pub]).code, 0);
    const r = cliChild(exportArgs(fixture("testExport-2-records-keys.json"), "/proc/self/fd/1", priv), 60_000);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.startsWith("PK"), "stdout is the zip");
    // The note goes to stderr, so stdout stays one zip.
    assert.doesNotMatch(r.stdout, /signed by/);
    assert.match(r.stderr, /2 key\(s\), signed by "a"/);
  });
});

function exportArgs(keys: string, out: string, priv: string): string[] {
  return ["keys", "export", "--keys", keys, "--out", out, "--sign", priv, "--key-id", "a", "--key-version", "1", "--region", "GB"];
}
