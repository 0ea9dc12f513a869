import { strict as assert } from "node:assert";
import * as fs from "node:fs";
// The module object itself (a namespace import is a frozen copy): what sinon stubs, and what every `fs.` call reads.
import nodeFs from "node:fs";
import * as path from "node:path";
import sinon from "sinon";
import { runCli, tempDir } from "./helpers";

/**
 * Issue 15, item 6: on a full disk `keys keygen` and `report keygen` left
 * 0-byte key files, and then refused to run again because the files existed.
 */

/** Every write fails as on a full disk (the open succeeds, as it does there). */
function fullDisk(): sinon.SinonStub {
  return sinon.stub(nodeFs, "writeSync").callsFake(() => {
    const e: NodeJS.ErrnoException = new Error("ENOSPC: no space left on device, write");
    e.code = "ENOSPC";
    throw e;
  });
}

async function onFullDisk(args: string[]): Promise<Awaited<ReturnType<typeof runCli>>> {
  const stub = fullDisk();
  try {
    return await runCli(args);
  } finally {
    stub.restore();
  }
}

describe("hardening: keygen on a full disk (issue 15, item 6)", () => {
  it("keys keygen: exit 2 naming the file, nothing left behind, and a re-run with space works", async () => {
    const dir = tempDir("kg-full");
    const args = ["keys", "keygen", "--private-out", path.join(dir, "signing.pem"), "--public-out", path.join(dir, "signing.pub.pem")];
    const r = await onFullDisk(args);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /cannot write .*signing\.pem: ENOSPC/);
    assert.deepEqual(fs.readdirSync(dir), [], "no key file, no temporary file");
    const again = await runCli(args);
    assert.equal(again.code, 0, again.stderr);
    assert.ok(fs.readFileSync(path.join(dir, "signing.pem"), "utf8").includes("PRIVATE KEY"));
    assert.equal(fs.statSync(path.join(dir, "signing.pem")).mode & 0o077, 0);
  });

  it("keys keygen: a public key that cannot be written takes the new private key with it", async () => {
    const dir = tempDir("kg-pub");
    const args = ["keys", "keygen", "--private-out", path.join(dir, "signing.pem"), "--public-out", path.join(dir, "signing.pub.pem")];
    // The first write (the private key) succeeds; the disk fills before the public key.
    const real = nodeFs.writeSync as (fd: number, b: Uint8Array, off?: number, len?: number) => number;
    let calls = 0;
    const stub = sinon.stub(nodeFs, "writeSync").callsFake(((fd: number, b: Uint8Array, off?: number, len?: number) => {
      if (calls++ > 0) {
        const e: NodeJS.ErrnoException = new Error("ENOSPC: no space left on device, write");
        e.code = "ENOSPC";
        throw e;
      }
      return real(fd, b, off, len);
    }) as typeof nodeFs.writeSync);
    let r;
    try {
      r = await runCli(args);
    } finally {
      stub.restore();
    }
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /cannot write .*signing\.pub\.pem: ENOSPC/);
    assert.deepEqual(fs.readdirSync(dir), []);
    assert.equal((await runCli(args)).code, 0);
  });

  it("report keygen: exit 2, no kiosk key file left, and a re-run works", async () => {
    const dir = tempDir("rk-full");
    const args = [
      "report",
      "keygen",
      "--kiosk-id",
      "k1",
      "--out",
      path.join(dir, "kiosk.key"),
      "--public-out",
      path.join(dir, "kiosk.pub.json")
    ];
    const r = await onFullDisk(args);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /cannot write .*kiosk\.key: ENOSPC/);
    assert.deepEqual(fs.readdirSync(dir), []);
    const again = await runCli(args);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(fs.statSync(path.join(dir, "kiosk.key")).mode & 0o077, 0);
    assert.ok(fs.existsSync(path.join(dir, "kiosk.pub.json")));
  });

  it("report keygen: an enrolment entry that cannot be written takes the new secret key with it", async () => {
    const dir = tempDir("rk-pub");
    fs.mkdirSync(path.join(dir, "kiosk.pub.json"));
    const args = [
      "report",
      "keygen",
      "--kiosk-id",
      "k1",
      "--out",
      path.join(dir, "kiosk.key"),
      "--public-out",
      path.join(dir, "kiosk.pub.json")
    ];
    const r = await runCli(args);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /kiosk\.pub\.json/);
    assert.equal(fs.existsSync(path.join(dir, "kiosk.key")), false, "no orphan secret key that a re-run would refuse to overwrite");
  });

  it("keygen still refuses to overwrite an existing key, even a dangling link where it would go", async () => {
    const dir = tempDir("kg-exist");
    fs.symlinkSync(path.join(dir, "elsewhere.pem"), path.join(dir, "signing.pem"));
    const r = await runCli(["keys", "keygen", "--private-out", path.join(dir, "signing.pem"), "--public-out", path.join(dir, "p.pem")]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /signing\.pem exists; refusing to overwrite a private key/);
    assert.equal(fs.existsSync(path.join(dir, "elsewhere.pem")), false);
  });
});
