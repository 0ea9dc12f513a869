import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { emptyStore, issueCode, readCodeStore, writeCodeStore } from "../../../host-tools/src/keys/auth-codes";
import { KeyInputError } from "../../../host-tools/src/keys/errors";
import { readExportFile } from "../../../host-tools/src/keys/export-file";
import { enrolmentOf, generateKioskKey, KioskSecret } from "../../../host-tools/src/keys/kiosk-identity";
import { publishUploads, PublishResult } from "../../../host-tools/src/keys/publish";
import { generateSigningKeyPair, parsePrivateKey } from "../../../host-tools/src/keys/signing";
import { loadKeySourceDetailed } from "../../../host-tools/src/keys/sources";
import { ExposureKey, ReportType } from "../../../host-tools/src/keys/types";
import { createUpload, uploadToJson } from "../../../host-tools/src/keys/upload";
import { runCli, tempDir } from "./helpers";

/**
 * Issue 15, item 2, publisher side: the same key data published again by a
 * later run (another code, a shifted start) is refused, the rest of the run
 * still published, and the CLI ends with exit 2 naming the key and its export.
 */

const DAY = 86400;
/** Real time: the CLI runs publish with Date.now(). */
const NOW = Math.floor(Date.now() / 1000);
const midnightEnin = (daysAgo: number): number => Math.floor(NOW / DAY - daysAgo) * 144;
const tek = (n: number, daysAgo: number, shift = 0): ExposureKey => ({
  keyData: Buffer.alloc(16, n),
  rollingStartIntervalNumber: midnightEnin(daysAgo) + shift,
  rollingPeriod: 144
});
const hex = (n: number): string => Buffer.alloc(16, n).toString("hex");

interface World {
  uploads: string;
  out: string;
  codesFile: string;
  kiosk: KioskSecret;
  kiosks: Map<string, Uint8Array>;
  kiosksFile: string;
  signer: ReturnType<typeof generateSigningKeyPair>;
  signFile: string;
}

function world(): World {
  const dir = tempDir("republish");
  const kiosk = generateKioskKey("care-home-1");
  const e = enrolmentOf(kiosk);
  const signer = generateSigningKeyPair();
  const w: World = {
    uploads: path.join(dir, "uploads"),
    out: path.join(dir, "published"),
    codesFile: path.join(dir, "codes.json"),
    kiosk,
    kiosks: new Map([[e.kioskId, Buffer.from(e.publicKey, "base64")]]),
    kiosksFile: path.join(dir, "kiosks.json"),
    signer,
    signFile: path.join(dir, "ha.pem")
  };
  fs.mkdirSync(w.uploads);
  writeCodeStore(w.codesFile, emptyStore());
  fs.writeFileSync(w.kiosksFile, JSON.stringify({ kiosks: [e] }));
  fs.writeFileSync(w.signFile, signer.privateKeyPem);
  return w;
}

/** `age`: seconds before NOW the upload was made; export names start with the earliest, so two runs in one second need different ones. */
function submit(w: World, name: string, keys: ExposureKey[], age = 60): string {
  const store = readCodeStore(w.codesFile);
  const code = issueCode(store, { now: NOW - DAY, validSeconds: 3 * DAY, reportType: ReportType.ConfirmedTest });
  writeCodeStore(w.codesFile, store);
  const file = path.join(w.uploads, name);
  fs.writeFileSync(file, uploadToJson(createUpload(keys, code, w.kiosk, NOW - age)));
  return file;
}

function publish(w: World, now = NOW): Promise<PublishResult> {
  return publishUploads({
    uploadsDir: w.uploads,
    codesFile: w.codesFile,
    kiosks: w.kiosks,
    signingKey: parsePrivateKey(w.signer.privateKeyPem),
    keyId: "HA",
    keyVersion: "1",
    region: "GB",
    outDir: w.out,
    now
  });
}

const publishArgs = (w: World): string[] => [
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
  "HA",
  "--key-version",
  "1",
  "--region",
  "GB",
  "--out",
  w.out
];

describe("keys publish refuses key data an earlier run published (issue 15, item 2)", () => {
  it("a second code re-sending a published key with a shifted start: that key refused, the new one published", async () => {
    const w = world();
    submit(w, "a.json", [tek(1, 2)]);
    const first = await publish(w);
    assert.equal(first.keys, 1);
    assert.deepEqual(first.republished, []);

    const b = submit(w, "b.json", [tek(1, 2, 1), tek(2, 1)]);
    const second = await publish(w, NOW + 60);
    assert.equal(second.keys, 1, "only the new key");
    assert.deepEqual(second.rejected, []);
    assert.equal(second.republished.length, 1);
    assert.deepEqual({ ...second.republished[0], reason: "" }, { file: b, key: hex(1), publishedIn: first.exportFile, reason: "" });
    assert.match(
      second.republished[0].reason,
      new RegExp(
        `already published in ${first.exportFile} with start ${midnightEnin(2)} and period 144 \\(this upload claims start ${midnightEnin(2) + 1}`
      )
    );
    assert.match(second.accepted[0].dropped[0], /already published/);
    const exp = await readExportFile(path.join(w.out, second.exportFile!));
    assert.deepEqual(
      exp.export.keys.map((k) => Buffer.from(k.keyData).toString("hex")),
      [hex(2)]
    );

    // Readers see each key once.
    const loaded = await loadKeySourceDetailed(path.join(w.out, "index.txt"));
    assert.equal(loaded.keys.length, 2);
    assert.equal(loaded.duplicates, 0);
  });

  it("an upload whose every key was published already is rejected without using its code", async () => {
    const w = world();
    submit(w, "a.json", [tek(1, 2), tek(2, 3)]);
    await publish(w);
    submit(w, "b.json", [tek(2, 3)]);
    const r = await publish(w, NOW + 60);
    assert.equal(r.exportFile, null);
    assert.equal(r.rejected.length, 1);
    assert.match(r.rejected[0].reason, /^no key can be published: .*already published in .* with the same start/);
    assert.equal(r.republished.length, 1);
    assert.equal(readCodeStore(w.codesFile).codes.filter((c) => c.usedAt !== undefined).length, 1, "only the first upload's code is used");
  });

  it("a published key claiming today's start is refused as published, not merely left out as still in use", async () => {
    const w = world();
    submit(w, "a.json", [tek(1, 2)]);
    await publish(w);
    submit(w, "b.json", [tek(1, 0), tek(3, 1)]);
    const r = await publish(w, NOW + 60);
    assert.deepEqual(
      r.republished.map((x) => x.key),
      [hex(1)]
    );
  });

  it("the CLI publishes the rest, then exits 2 naming the key, the upload and the export", async () => {
    const w = world();
    submit(w, "a.json", [tek(1, 2)]);
    const first = await runCli(publishArgs(w));
    assert.equal(first.code, 0, first.stderr);
    submit(w, "b.json", [tek(1, 2, 5), tek(2, 1)], 30);
    const r = await runCli(publishArgs(w));
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stdout, /^published 1 key\(s\) from 1 upload\(s\)/m);
    assert.match(r.stdout, new RegExp(`left out ${hex(1)}: already published in \\d+-\\d+-00001\\.zip with start`));
    assert.match(
      r.stderr,
      new RegExp(
        `^privatetracer: refused 1 key\\(s\\) that an earlier run already published: ${hex(1)} from b\\.json \\(in \\d+-\\d+-00001\\.zip\\)\\. A key is published once`,
        "m"
      )
    );
    assert.equal(fs.readFileSync(path.join(w.out, "index.txt"), "utf8").trim().split("\n").length, 2);
    assert.ok(fs.existsSync(path.join(w.uploads, "published", "b.json")));

    const j = await runCli([...publishArgs(w), "--json"]);
    assert.equal(j.code, 0, "nothing pending: nothing refused");
    assert.deepEqual((JSON.parse(j.stdout) as PublishResult).republished, []);
  });

  it("after a run that stopped between the index and the code store, the re-run refuses the listed keys and leaves the code unused", async () => {
    const w = world();
    const file = submit(w, "a.json", [tek(1, 2)]);
    const text = fs.readFileSync(file, "utf8");
    const storeBefore = fs.readFileSync(w.codesFile, "utf8");
    const first = await publish(w);
    // As if the run had died after writing index.txt: the store unchanged, the upload not moved.
    fs.writeFileSync(w.codesFile, storeBefore);
    fs.writeFileSync(file, text);
    const again = await publish(w, NOW + 60);
    assert.equal(again.exportFile, null, "nothing is published twice");
    assert.deepEqual(
      again.republished.map((x) => x.publishedIn),
      [first.exportFile]
    );
    assert.match(again.rejected[0].reason, /already published in .* with the same start/);
    assert.equal(readCodeStore(w.codesFile).codes[0].usedAt, undefined);
  });

  it("refuses to run when an export listed in index.txt cannot be read: the check needs every one", async () => {
    const w = world();
    submit(w, "a.json", [tek(1, 2)]);
    const first = await publish(w);
    fs.writeFileSync(path.join(w.out, first.exportFile!), "not a zip");
    submit(w, "b.json", [tek(1, 2, 3)]);
    await assert.rejects(
      publish(w, NOW + 60),
      (e: unknown) =>
        e instanceof KeyInputError &&
        e.kind === "unusable" &&
        /listed in .*index\.txt, to check which keys are already published/.test(e.message)
    );
    assert.equal(fs.readFileSync(path.join(w.out, "index.txt"), "utf8").trim().split("\n").length, 1, "nothing published");
  });
});
