import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { checkCode, CODES_FORMAT, emptyStore, issueCode, readCodeStore, writeCodeStore } from "../../../host-tools/src/keys/auth-codes";
import { PublishWriteError } from "../../../host-tools/src/keys/errors";
import { readExportFile, verifyExportFile } from "../../../host-tools/src/keys/export-file";
import { enrolmentOf, generateKioskKey, KioskSecret } from "../../../host-tools/src/keys/kiosk-identity";
import { publishUploads, PublishResult } from "../../../host-tools/src/keys/publish";
import { generateSigningKeyPair, parsePrivateKey, parsePublicKey } from "../../../host-tools/src/keys/signing";
import { loadKeySource } from "../../../host-tools/src/keys/sources";
import { ExposureKey, ReportType } from "../../../host-tools/src/keys/types";
import { createUpload, parseUpload, uploadToJson } from "../../../host-tools/src/keys/upload";
import { tempDir } from "./helpers";

const DAY = 86400;
const NOW = 1_700_006_400; // a UTC midnight
const midnightEnin = (daysAgo: number): number => (NOW - daysAgo * DAY) / 600;
const tek = (n: number, daysAgo: number): ExposureKey => ({
  keyData: Buffer.alloc(16, n),
  rollingStartIntervalNumber: midnightEnin(daysAgo),
  rollingPeriod: 144
});

interface World {
  dir: string;
  uploads: string;
  out: string;
  codesFile: string;
  kiosk: KioskSecret;
  kiosks: Map<string, Uint8Array>;
  signer: ReturnType<typeof generateSigningKeyPair>;
}

function world(): World {
  const dir = tempDir("report");
  const kiosk = generateKioskKey("care-home-1");
  const e = enrolmentOf(kiosk);
  const w: World = {
    dir,
    uploads: path.join(dir, "uploads"),
    out: path.join(dir, "published"),
    codesFile: path.join(dir, "codes.json"),
    kiosk,
    kiosks: new Map([[e.kioskId, Buffer.from(e.publicKey, "base64")]]),
    signer: generateSigningKeyPair()
  };
  fs.mkdirSync(w.uploads);
  writeCodeStore(w.codesFile, emptyStore());
  return w;
}

function issue(w: World, extra: { validSeconds?: number; reportType?: ReportType; symptomOnset?: number } = {}): string {
  const store = readCodeStore(w.codesFile);
  const code = issueCode(store, {
    now: NOW - DAY,
    validSeconds: extra.validSeconds ?? 3 * DAY,
    reportType: extra.reportType ?? ReportType.ConfirmedTest,
    symptomOnset: extra.symptomOnset
  });
  writeCodeStore(w.codesFile, store);
  return code;
}

function submit(w: World, name: string, keys: ExposureKey[], code: string, kiosk = w.kiosk): string {
  const file = path.join(w.uploads, name);
  fs.writeFileSync(file, uploadToJson(createUpload(keys, code, kiosk, NOW - 60)));
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

describe("reporting a diagnosis: upload and publish", () => {
  it("does not publish today's key passed off as expired by a claimed rollingPeriod of 1", async () => {
    const w = world();
    const code = issue(w, { reportType: ReportType.ClinicalDiagnosis, symptomOnset: NOW - 3 * DAY });
    // Today's key (started at midnight, NOW is 2 hours later), claiming to have ended after 10 minutes.
    const live: ExposureKey = { ...tek(9, 0), rollingPeriod: 1 };
    submit(w, "a.json", [tek(1, 1), live], code, w.kiosk);
    const r = await publish(w, NOW + 2 * 3600);
    assert.equal(r.keys, 1, "only yesterday's key");
    assert.match(r.accepted[0].dropped.join("\n"), /still in use/);
    const f = await readExportFile(path.join(w.out, r.exportFile!));
    assert.deepEqual(
      f.export.keys.map((k) => Buffer.from(k.keyData).toString("hex")),
      [Buffer.alloc(16, 1).toString("hex")]
    );
  });

  it("publishes a good upload's keys in a signed export with the code's report type and onset", async () => {
    const w = world();
    const code = issue(w, { reportType: ReportType.ClinicalDiagnosis, symptomOnset: NOW - 3 * DAY });
    submit(w, "a.json", [tek(1, 1), tek(2, 2), tek(3, 0)], code);
    const r = await publish(w);
    assert.deepEqual(r.rejected, []);
    assert.equal(r.keys, 2, "today's key, still in use, is left out");
    assert.match(r.accepted[0].dropped[0], /still in use/);
    const f = await readExportFile(path.join(w.out, r.exportFile!));
    assert.equal(verifyExportFile(f, parsePublicKey(w.signer.publicKeyPem)).valid, true);
    const byHex = new Map(f.export.keys.map((k) => [Buffer.from(k.keyData).toString("hex"), k]));
    assert.equal(byHex.get(Buffer.alloc(16, 1).toString("hex"))?.daysSinceOnsetOfSymptoms, 2);
    assert.equal(byHex.get(Buffer.alloc(16, 2).toString("hex"))?.reportType, ReportType.ClinicalDiagnosis);
    // The published directory is a key source for matching.
    assert.equal((await loadKeySource(path.join(w.out, "index.txt"), { publicKeyPem: w.signer.publicKeyPem })).length, 2);
    assert.ok(fs.existsSync(path.join(w.uploads, "published", "a.json")));
    const store = readCodeStore(w.codesFile);
    assert.equal(store.codes[0].usedBy, "care-home-1");
    assert.equal(JSON.stringify(store).includes(code), false, "the store never holds the code itself");
  });

  it("rejects a reused code, in the same batch and in a later one", async () => {
    const w = world();
    const code = issue(w);
    submit(w, "a.json", [tek(1, 1)], code);
    submit(w, "b.json", [tek(2, 1)], code);
    const r1 = await publish(w);
    assert.equal(r1.accepted.length, 1);
    assert.match(r1.rejected[0].reason, /already used/);
    submit(w, "c.json", [tek(3, 2)], code);
    const r2 = await publish(w, NOW + 600);
    assert.equal(r2.exportFile, null);
    assert.match(r2.rejected[0].reason, /already used/);
    assert.match(fs.readFileSync(path.join(w.uploads, "rejected", "c.json.reason.txt"), "utf8"), /already used/);
  });

  it("rejects an unknown kiosk, an unissued code and an expired code", async () => {
    const w = world();
    submit(w, "a.json", [tek(1, 1)], issue(w), generateKioskKey("stranger"));
    submit(w, "b.json", [tek(2, 1)], "ABCD-EFGH-JKMN-PQRS");
    submit(w, "c.json", [tek(3, 1)], issue(w, { validSeconds: 600 }));
    const r = await publish(w);
    assert.deepEqual(
      r.rejected.map((x) => [path.basename(x.file), x.reason.replace(/ \(.*|at .*/, "")]),
      [
        ["a.json", 'kiosk "stranger" is not enrolled'],
        ["b.json", "the authorisation code was not issued by the health authority"],
        ["c.json", "the authorisation code expired "]
      ]
    );
    assert.equal(r.exportFile, null);
  });

  it("rejects a tampered upload and leaves its code unused", async () => {
    const w = world();
    const code = issue(w);
    const file = submit(w, "a.json", [tek(1, 1)], code);
    const doc = JSON.parse(fs.readFileSync(file, "utf8")) as { keys: Array<{ keyData: string }> };
    doc.keys[0].keyData = "ff".repeat(16);
    fs.writeFileSync(file, JSON.stringify(doc));
    const r = await publish(w);
    assert.match(r.rejected[0].reason, /signature does not verify/);
    assert.equal(checkCode(readCodeStore(w.codesFile), code, NOW).ok, true);
  });

  it("rejects a kiosk signing under another kiosk's id", async () => {
    const w = world();
    const impostor: KioskSecret = { ...generateKioskKey("x"), kioskId: "care-home-1" };
    submit(w, "a.json", [tek(1, 1)], issue(w), impostor);
    assert.match((await publish(w)).rejected[0].reason, /signature does not verify with kiosk "care-home-1"/);
  });

  it("refuses malformed uploads with the reason, and an upload with unsigned extra fields", async () => {
    const w = world();
    fs.writeFileSync(path.join(w.uploads, "junk.json"), "{not json");
    const file = submit(w, "extra.json", [tek(1, 1)], issue(w));
    const doc = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
    fs.writeFileSync(file, JSON.stringify({ ...doc, reportType: 1 }));
    const r = await publish(w);
    assert.match(r.rejected.find((x) => x.file.endsWith("junk.json"))!.reason, /not valid JSON/);
    assert.match(r.rejected.find((x) => x.file.endsWith("extra.json"))!.reason, /unexpected field\(s\) reportType/);
  });

  it("parses what it writes, and the code check ignores case and dashes", () => {
    const k = generateKioskKey("k1");
    const u = createUpload([tek(1, 1)], "abcd efgh jkmn pqrs", k, NOW);
    assert.deepEqual(parseUpload(uploadToJson(u), "u.json"), {
      ...u,
      keys: u.keys.map((x) => ({ ...x, keyData: Uint8Array.from(x.keyData) }))
    });
    const store = { format: CODES_FORMAT, codes: [] } as ReturnType<typeof emptyStore>;
    const code = issueCode(store, { now: NOW, validSeconds: 60, reportType: ReportType.ConfirmedTest });
    assert.equal(checkCode(store, code.toLowerCase().replace(/-/g, " "), NOW).ok, true);
  });

  it("recovers from a publish that stopped before moving its uploads: a re-run moves them, not rejects them", async () => {
    const w = world();
    const code = issue(w);
    const file = submit(w, "a.json", [tek(1, 1)], code);
    // Something in the way of the published/ directory makes the move fail after the export is out.
    fs.writeFileSync(path.join(w.uploads, "published"), "in the way");
    await assert.rejects(
      publish(w),
      (e: unknown) => e instanceof PublishWriteError && e.kind === "unusable" && e.message.includes(file) && /run again/.test(e.message)
    );
    assert.equal(fs.readFileSync(path.join(w.out, "index.txt"), "utf8").trim().split("\n").length, 1, "the export was published");
    assert.match(readCodeStore(w.codesFile).codes[0].usedFor ?? "", /^[0-9a-f]{64}$/);
    fs.unlinkSync(path.join(w.uploads, "published"));
    const again = await publish(w, NOW + 60);
    assert.deepEqual(again.rejected, [], "the same upload is not called a replay");
    assert.deepEqual(again.alreadyPublished, [file]);
    assert.equal(again.exportFile, null, "nothing is published twice");
    assert.ok(fs.existsSync(path.join(w.uploads, "published", "a.json")));
    assert.equal(fs.existsSync(path.join(w.uploads, "rejected")), false);
  });

  it("still rejects another upload replaying a used code", async () => {
    const w = world();
    const code = issue(w);
    submit(w, "a.json", [tek(1, 1)], code);
    await publish(w);
    const other = submit(w, "b.json", [tek(2, 1)], code);
    const r = await publish(w, NOW + 60);
    assert.deepEqual(r.alreadyPublished, []);
    assert.deepEqual(
      r.rejected.map((x) => x.file),
      [other]
    );
    assert.match(r.rejected[0].reason, /already used/);
  });

  it("names the path when the export cannot be written, with a typed error", async () => {
    const w = world();
    submit(w, "a.json", [tek(1, 1)], issue(w));
    fs.writeFileSync(w.out, "a file where the output directory should be");
    await assert.rejects(
      publish(w),
      (e: unknown) =>
        e instanceof PublishWriteError && e.kind === "unusable" && e.message.includes(w.out) && /Nothing was published/.test(e.message)
    );
    assert.equal(readCodeStore(w.codesFile).codes[0].usedAt, undefined, "the code is still unused");
  });

  it("keeps a code issued while a publish is running", async () => {
    const w = world();
    submit(w, "a.json", [tek(1, 1)], issue(w));
    const running = publish(w); // has read the code store and is now building the export
    const issuedMeanwhile = issue(w);
    const r = await running;
    assert.deepEqual(r.rejected, []);
    const check = checkCode(readCodeStore(w.codesFile), issuedMeanwhile, NOW);
    assert.ok(check.ok, "the code issued during the publish still works");
    assert.equal(readCodeStore(w.codesFile).codes.filter((c) => c.usedAt !== undefined).length, 1);
  });
});
