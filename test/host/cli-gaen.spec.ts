import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import * as sinon from "sinon";
import { main } from "../../host-tools/src/cli/main";
import { repoRoot } from "../../host-tools/src/paths";

const TEK = "75c734c6dd1a782de7a965da5eb93125";
const ENIN = "2642976";

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const o = sinon.stub(process.stdout, "write").callsFake((s: string | Uint8Array) => ((out += String(s)), true));
  const e = sinon.stub(process.stderr, "write").callsFake((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    const code = await main(["node", "privatetracer", "gaen", "derive", ...args]);
    return { code, out, err };
  } finally {
    o.restore();
    e.restore();
  }
}

describe("privatetracer gaen derive", () => {
  it("prints the official vector's RPI and AEM as `ENIN RPI AEM`", async () => {
    const r = await cli("--tek", TEK, "--enin", ENIN, "--metadata", "40080000");
    assert.equal(r.code, 0);
    assert.equal(r.out, "2642976 8be6cd371c5c891604bfbe49df845096 72033874\n");
    assert.equal(r.err, "");
  });

  it("prints one line per interval with --count, accepting upper-case hex", async () => {
    const r = await cli("--tek", TEK.toUpperCase(), "--enin", ENIN, "--count", "144", "--metadata", "40080000");
    const lines = r.out.trimEnd().split("\n");
    assert.equal(lines.length, 144);
    assert.equal(lines[0], "2642976 8be6cd371c5c891604bfbe49df845096 72033874");
    for (const [i, l] of lines.entries()) assert.match(l, new RegExp(`^${2642976 + i} [0-9a-f]{32} [0-9a-f]{8}$`));
  });

  it("encrypts metadata 40000000 (version 1.0, 0 dBm) when --metadata is absent", async () => {
    const r = await cli("--tek", TEK, "--enin", ENIN);
    // AEM = metadata XOR keystream; the vector's keystream is 32 0b 38 74.
    assert.equal(r.out, "2642976 8be6cd371c5c891604bfbe49df845096 720b3874\n");
  });

  it("prints one JSON object per line with --json", async () => {
    const r = await cli("--tek", TEK, "--enin", ENIN, "--count", "2", "--json", "--metadata", "40080000");
    const rows = r.out
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.deepEqual(Object.keys(rows[0]), ["enin", "rpi", "aem"]);
    assert.deepEqual(rows[0], { enin: 2642976, rpi: "8be6cd371c5c891604bfbe49df845096", aem: "72033874" });
    assert.equal(rows[1].enin, 2642977);
  });

  const bad: Array<[string, string[], RegExp]> = [
    ["a TEK that is not hex", ["--tek", "zz".repeat(16), "--enin", ENIN], /--tek must be hexadecimal/],
    ["a TEK with an odd digit count", ["--tek", TEK + "0", "--enin", ENIN], /--tek must be hexadecimal/],
    ["a TEK of 15 bytes", ["--tek", TEK.slice(2), "--enin", ENIN], /--tek must be 16 bytes .* got 15 bytes/],
    ["a negative interval", ["--tek", TEK, "--enin", "-1"], /--enin must be a whole number/],
    ["a fractional interval", ["--tek", TEK, "--enin", "2642976.5"], /--enin must be a whole number/],
    ["an interval above uint32", ["--tek", TEK, "--enin", "4294967296"], /--enin must be a whole number from 0 to 4294967295/],
    ["a count of 0", ["--tek", TEK, "--enin", ENIN, "--count", "0"], /--count must be a whole number from 1/],
    ["a count that is not a number", ["--tek", TEK, "--enin", ENIN, "--count", "ten"], /--count must be a whole number/],
    ["a run past the last interval", ["--tek", TEK, "--enin", "4294967295", "--count", "2"], /runs past interval 4294967295/],
    ["metadata of 3 bytes", ["--tek", TEK, "--enin", ENIN, "--metadata", "400800"], /--metadata must be 4 bytes/],
    ["no --tek", ["--enin", ENIN], /required option '--tek/]
  ];
  for (const [what, args, message] of bad) {
    it(`refuses ${what}: message on stderr, nothing on stdout, exit 2`, async () => {
      const r = await cli(...args);
      assert.equal(r.code, 2);
      assert.match(r.err, message);
      assert.equal(r.out, "");
    });
  }

  it("works from the installed command, exit code included", () => {
    const bin = path.join(repoRoot, "bin", "privatetracer.js");
    const ok = spawnSync(process.execPath, [bin, "gaen", "derive", "--tek", TEK, "--enin", ENIN, "--metadata", "40080000"], {
      encoding: "utf8"
    });
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout, "2642976 8be6cd371c5c891604bfbe49df845096 72033874\n");
    const bad = spawnSync(process.execPath, [bin, "gaen", "derive", "--tek", "abc", "--enin", ENIN], { encoding: "utf8" });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^privatetracer: --tek must be hexadecimal/);
  });
});
