import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import JSZip from "jszip";
import { PrivateTracerError } from "../../../host-tools/src/errors";
import { ExportFormatError } from "../../../host-tools/src/keys/errors";
import { parseExportFile, verifyExportFile } from "../../../host-tools/src/keys/export-file";
import { loadPublicKey } from "../../../host-tools/src/keys/signing";
import { fixture, prng } from "./helpers";

/**
 * Seeded mutations of valid exports: byte flips, truncations, insertions and
 * splices. Each must either parse into valid keys or fail with an
 * ExportFormatError whose message names the file: never another exception,
 * never a hang. A failure prints its seed and index so it can be replayed.
 */

const RUNS_PER_TARGET = 5000;

function mutate(src: Buffer, rnd: () => number): Buffer {
  let b = Buffer.from(src);
  const ops = 1 + Math.floor(rnd() * 4);
  for (let o = 0; o < ops; o++) {
    const at = Math.floor(rnd() * (b.length + 1));
    switch (Math.floor(rnd() * 5)) {
      case 0: // flip bits of one byte
        if (b.length) b[Math.min(at, b.length - 1)] ^= 1 + Math.floor(rnd() * 255);
        break;
      case 1: // truncate
        b = b.subarray(0, at);
        break;
      case 2: {
        // insert random bytes
        const n = 1 + Math.floor(rnd() * 8);
        const ins = Buffer.alloc(n);
        for (let i = 0; i < n; i++) ins[i] = Math.floor(rnd() * 256);
        b = Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]);
        break;
      }
      case 3: // delete a run
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + Math.floor(rnd() * 8))]);
        break;
      default: // set a byte to an edge value (lengths, varint continuations)
        if (b.length) b[Math.min(at, b.length - 1)] = [0x00, 0x7f, 0x80, 0xff][Math.floor(rnd() * 4)];
    }
  }
  return b;
}

async function fuzz(target: Buffer, seed: number, name: string): Promise<{ parsed: number; rejected: number }> {
  const rnd = prng(seed);
  const pub = loadPublicKey(fixture("example-server-public.pem"));
  let parsed = 0;
  let rejected = 0;
  for (let i = 0; i < RUNS_PER_TARGET; i++) {
    const data = mutate(target, rnd);
    try {
      const f = await parseExportFile(data, name);
      for (const k of f.export.keys) assert.equal(k.keyData.length, 16, `seed ${seed} run ${i}: parsed a key that is not 16 bytes`);
      verifyExportFile(f, pub);
      parsed++;
    } catch (e) {
      if (!(e instanceof ExportFormatError))
        assert.fail(
          `seed ${seed} run ${i}: ${name} threw ${e instanceof PrivateTracerError ? e.name : "a non-user error"}: ${(e as Error).stack}`
        );
      assert.ok(e.message.startsWith(name), `seed ${seed} run ${i}: message does not name the file: ${e.message}`);
      rejected++;
    }
  }
  return { parsed, rejected };
}

describe("GAEN export files: 10,000 mutated exports", () => {
  let zipBytes: Buffer;
  let binBytes: Buffer;
  before(async () => {
    // The 50-key fixture exercises every key field, including sint32 onsets.
    zipBytes = fs.readFileSync(fixture("1605818700-1605819000-0001-ff23e2.zip"));
    binBytes = Buffer.from(await (await JSZip.loadAsync(zipBytes)).file("export.bin")!.async("uint8array"));
  });

  it(`survives ${RUNS_PER_TARGET} mutations of export.bin with a parse or a named ExportFormatError`, async () => {
    const r = await fuzz(binBytes, 0x5eed1, "mutant.bin");
    assert.ok(r.rejected > 0 && r.parsed > 0, `both outcomes expected, got ${JSON.stringify(r)}`);
  });

  it(`survives ${RUNS_PER_TARGET} mutations of the zip with a parse or a named ExportFormatError`, async () => {
    const r = await fuzz(zipBytes, 0x5eed2, "mutant.zip");
    assert.ok(r.rejected > 0, `rejections expected, got ${JSON.stringify(r)}`);
  });
});
