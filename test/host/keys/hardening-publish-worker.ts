/**
 * One of two publishers racing in hardening-publish.spec.ts: a child process
 * that, for each round N, waits for the file `go-N` in the control directory,
 * runs `publishUploads` as `keys publish` does, and writes `done-N-ID.json`
 * with the uploads it accepted (or the error that stopped it). The two start a
 * round at the same moment, as two cron jobs or two operators would.
 *
 * argv[2]: JSON {id, control, rounds, uploadsDir, codesFile, kiosksFile, signingKeyPem, outDir}.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { readEnrolledKiosks } from "../../../host-tools/src/keys/kiosk-identity";
import { publishUploads } from "../../../host-tools/src/keys/publish";

interface Config {
  id: string;
  control: string;
  rounds: number;
  uploadsDir: string;
  codesFile: string;
  kiosksFile: string;
  signingKeyPem: string;
  outDir: string;
}

function waitFor(file: string): void {
  while (!fs.existsSync(file)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
}

async function main(): Promise<void> {
  const c = JSON.parse(process.argv[2]) as Config;
  const signingKey = crypto.createPrivateKey(c.signingKeyPem);
  fs.writeFileSync(path.join(c.control, `ready-${c.id}`), "");
  for (let round = 0; round < c.rounds; round++) {
    waitFor(path.join(c.control, `go-${round}`));
    let result: { accepted: string[]; error?: string };
    try {
      const r = await publishUploads({
        uploadsDir: c.uploadsDir,
        codesFile: c.codesFile,
        kiosks: readEnrolledKiosks(c.kiosksFile),
        signingKey,
        keyId: "T",
        keyVersion: "1",
        region: "XX",
        outDir: c.outDir,
        now: Math.floor(Date.now() / 1000)
      });
      result = { accepted: r.accepted.map((a) => path.basename(a.file)) };
    } catch (e) {
      result = { accepted: [], error: (e as Error).message };
    }
    // Renamed into place: the parent polls for the name and must never read it half-written.
    const done = path.join(c.control, `done-${round}-${c.id}.json`);
    fs.writeFileSync(`${done}.part`, JSON.stringify(result));
    fs.renameSync(`${done}.part`, done);
  }
}

void main();
