import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { InterpreterUnrunnableError, runScript } from "../../host-tools/src/real-espruino/interpreter";

/**
 * The interpreters are 32-bit x86 programs. A kernel without IA-32 support
 * cannot execute them, and a plain spawn then hands the binary to /bin/sh as
 * a script: garbage errors, and every real-interpreter spec failing for a
 * reason no one can read. These specs stand in for both kinds of host with a
 * file the kernel cannot execute and a fake emulator on the PATH.
 */
describe("starting a real interpreter on a host that cannot execute it", () => {
  let dir: string;
  let savedPath: string | undefined;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "pt-launch-"));
    savedPath = process.env.PATH;
  });
  afterEach(() => {
    process.env.PATH = savedPath;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Executable to the file system, not to the kernel: a NUL-laden non-ELF file. */
  function unexecutable(name: string): string {
    const p = path.join(dir, name);
    fs.writeFileSync(p, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x01, 0x00, 0x00, 0x00, 0x28, 0x29, 0x0a]));
    fs.chmodSync(p, 0o755);
    return p;
  }

  /** A PATH with bash and nothing named qemu-*. */
  function pathWithout(): string {
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin, { recursive: true });
    for (const tool of ["bash", "cat", "echo"]) {
      const from = ["/usr/bin", "/bin"].map((d) => path.join(d, tool)).find((p) => fs.existsSync(p));
      if (from) fs.symlinkSync(from, path.join(bin, tool));
    }
    return bin;
  }

  it("says what the host lacks and what to install, instead of running the binary as a shell script", async () => {
    const interp = unexecutable("espruino-nohost");
    process.env.PATH = pathWithout();
    await assert.rejects(
      runScript(interp, path.join(dir, "x.js"), { cwd: dir, timeoutMs: 5000 }),
      (e: unknown) => e instanceof InterpreterUnrunnableError && /IA-32/.test(e.message) && /qemu-user-static/.test(e.message)
    );
  });

  it("runs it under qemu-i386-static when that is on the PATH, with the script and the environment it was given", async () => {
    const interp = unexecutable("espruino-emulated");
    const bin = pathWithout();
    // The fake emulator answers --help as Espruino does and reports what it was asked to run.
    fs.writeFileSync(
      path.join(bin, "qemu-i386-static"),
      '#!/bin/bash\nif [ "$2" = --help ]; then echo "espruino: Usage:"; exit 0; fi\necho "ran $1 with $2 at $ESPRUINO_TIME"\n'
    );
    fs.chmodSync(path.join(bin, "qemu-i386-static"), 0o755);
    process.env.PATH = bin;
    const r = await runScript(interp, "boot.js", { cwd: dir, time: 1767232800, timeoutMs: 5000 });
    assert.equal(r.stdout.trim(), `ran ${interp} with boot.js at 1767232800`);
    assert.equal(r.exited, true);
  });
});
