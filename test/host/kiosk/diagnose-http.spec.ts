import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { diagnose, DiagnoseOptions } from "../../../host-tools/src/kiosk/diagnose";
import { KioskDir, OUTBOX_DIR, initKioskDir } from "../../../host-tools/src/kiosk/kiosk-dir";
import { emptyStore, findCode, issueCode, readCodeStore, uploadDigest, writeCodeStore } from "../../../host-tools/src/keys/auth-codes";
import { enrolmentOf, generateKioskKey, kioskSecretToJson } from "../../../host-tools/src/keys/kiosk-identity";
import { publishUploads } from "../../../host-tools/src/keys/publish";
import { generateSigningKeyPair, parsePrivateKey } from "../../../host-tools/src/keys/signing";
import { ReportType } from "../../../host-tools/src/keys/types";
import { parseUpload, uploadSignatureValid } from "../../../host-tools/src/keys/upload";
import { UploadDeliveryError } from "../../../host-tools/src/keys/upload-deliver";
import { createUploadReceiver } from "../../../host-tools/src/keys/upload-receiver";
import { SimTokens, openSimTokens } from "../../../host-tools/src/sync/sim-tokens";
import { runCli } from "../../helpers/cli";
import { testBundle } from "../../helpers/firmware";
import { KEYS, SECRET, T0, TOKEN_ID, ownTeks, writeEnrolmentStore, writeExposedImage } from "./exposed-token";
import { PASSPHRASE_ENV } from "../../../host-tools/src/provision/store";
import { kioskRadio } from "../../helpers/sim-radio";

/**
 * `kiosk diagnose --upload-to URL` (kiosk/diagnose.ts, keys/upload-deliver.ts)
 * against a real listening `keys receive` (keys/upload-receiver.ts), on the
 * simulated radio: the wearer's signed keys reach the health authority's
 * uploads directory and are published from there. When the receiver is down
 * or failing, the keys the wearer released with one press are never lost:
 * the signed upload waits in the kiosk's outbox, the error says so, and
 * `kiosk send-uploads` delivers it later. Plain http to another host is
 * refused before the token is asked for anything.
 */

const KIOSK = generateKioskKey("common-room");
const PASS = "correct horse battery staple";

/** A port nothing listens on: taken, then given back. */
async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe("kiosk diagnose over HTTP: delivered to the receiver, or kept in the outbox until it can be", function () {
  this.timeout(240_000);
  let root: string;
  const savedPass = process.env[PASSPHRASE_ENV];
  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "pt-kiosk-diagnose-http-"));
    process.env[PASSPHRASE_ENV] = PASS;
    await testBundle("puckjs");
  });
  after(() => {
    fs.rmSync(root, { recursive: true, force: true });
    if (savedPass === undefined) delete process.env[PASSPHRASE_ENV];
    else process.env[PASSPHRASE_ENV] = savedPass;
  });

  /** The health authority's side: an uploads directory, a code store with one code issued, the kiosk enrolled. */
  function healthAuthority(name: string): {
    uploads: string;
    codesFile: string;
    code: string;
    publish: (now: number) => ReturnType<typeof publishUploads>;
  } {
    const dir = path.join(root, name, "ha");
    const uploads = path.join(dir, "uploads");
    fs.mkdirSync(uploads, { recursive: true });
    const codesFile = path.join(dir, "codes.json");
    const store = emptyStore();
    const code = issueCode(store, { now: T0 - 86400, validSeconds: 7 * 86400, reportType: ReportType.ConfirmedTest });
    writeCodeStore(codesFile, store);
    const e = enrolmentOf(KIOSK);
    const signer = generateSigningKeyPair();
    const publish = (now: number): ReturnType<typeof publishUploads> =>
      publishUploads({
        uploadsDir: uploads,
        codesFile,
        kiosks: new Map([[e.kioskId, Buffer.from(e.publicKey, "base64")]]),
        signingKey: parsePrivateKey(signer.privateKeyPem),
        keyId: "HA",
        keyVersion: "1",
        region: "XX",
        outDir: path.join(dir, "published"),
        now
      });
    return { uploads, codesFile, code, publish };
  }

  async function kioskWithToken(name: string): Promise<{ kiosk: KioskDir; sim: SimTokens; base: Omit<DiagnoseOptions, "code"> }> {
    const kiosk = initKioskDir(path.join(root, name, "kiosk"));
    kiosk.store.addToken({ tokenId: TOKEN_ID, label: "Room 12", board: "puckjs", syncSecret: SECRET, enrolledAt: T0 - 10 * 86400 });
    const image = path.join(root, name, "room12.bin");
    await writeExposedImage(image);
    const sim = await openSimTokens({ images: [image], requireSecrets: true });
    sim.openWindows();
    const base: Omit<DiagnoseOptions, "code"> = {
      kiosk,
      ...kioskRadio(sim),
      tokenId: TOKEN_ID,
      kioskKey: KIOSK,
      keys: KEYS,
      consentWaitMs: 30_000,
      // The wearer presses the button once while the kiosk waits.
      onProgress: (e) => void (e.kind === "consent-wait" && sim.tokens[0].token.pressButton(200))
    };
    return { kiosk, sim, base };
  }

  const pastKeys = (): string[] =>
    ownTeks()
      .map((k) => `${Buffer.from(k.tek).toString("hex")}@${k.rollingStart}`)
      .sort();

  it("posted to a listening receiver: the upload lands in the uploads directory and keys publish publishes the wearer's past keys", async () => {
    const ha = healthAuthority("posted");
    const receiver = createUploadReceiver({ uploadsDir: ha.uploads });
    const url = `${await receiver.listen({ host: "127.0.0.1", port: 0 })}/uploads`;
    const { kiosk, sim, base } = await kioskWithToken("posted");
    try {
      const out = await diagnose({ ...base, code: ha.code, uploadTo: url });
      assert.equal(out.status, "posted", JSON.stringify(out.status === "not-synced" ? out.detail : out.status));
      if (out.status !== "posted") return;
      assert.equal(out.url, url);
      assert.equal(out.duplicate, false);
      assert.equal(out.keys, 3);
      assert.deepEqual(fs.readdirSync(path.join(kiosk.dir, OUTBOX_DIR)), [], "nothing waits in the outbox");

      const [name] = fs.readdirSync(ha.uploads);
      const text = fs.readFileSync(path.join(ha.uploads, name), "utf8");
      const upload = parseUpload(text, name);
      assert.ok(uploadSignatureValid(upload, KIOSK.publicKey), "signed by this kiosk");
      assert.doesNotMatch(name, new RegExp(TOKEN_ID.slice(0, 8)), "the file's name says nothing of the token");

      const r = await ha.publish(sim.now());
      assert.deepEqual(r.rejected, []);
      assert.equal(r.accepted.length, 1);
      assert.equal(r.keys, 3);
      assert.equal(findCode(readCodeStore(ha.codesFile), ha.code)?.usedFor, uploadDigest(text));
      assert.deepEqual(
        upload.keys.map((k) => `${Buffer.from(k.keyData).toString("hex")}@${k.rollingStartIntervalNumber}`).sort(),
        pastKeys(),
        "exactly the past keys"
      );
    } finally {
      kiosk.store.close();
      await sim.transport.close();
      await receiver.close();
    }
  });

  it("the receiver is down, then answers 500: the upload stays in the outbox with a clear error; send-uploads delivers it later", async () => {
    const ha = healthAuthority("kept");
    const { kiosk, sim, base } = await kioskWithToken("kept");
    const outbox = path.join(kiosk.dir, OUTBOX_DIR);
    const downUrl = `http://127.0.0.1:${await freePort()}/uploads`;
    let kept = "";
    try {
      await assert.rejects(diagnose({ ...base, code: ha.code, uploadTo: downUrl }), (e: unknown) => {
        assert.ok(e instanceof UploadDeliveryError, String(e));
        assert.equal(e.code, "UPLOAD_NOT_DELIVERED");
        assert.match(e.message, /cannot reach http:\/\/127\.0\.0\.1:\d+\/uploads: .*ECONNREFUSED/);
        assert.match(e.message, /kept in .*outbox.*nothing is lost, and the wearer need not press again/);
        kept = e.keptIn ?? "";
        return true;
      });
    } finally {
      kiosk.store.close();
      await sim.transport.close();
    }
    assert.deepEqual(fs.readdirSync(outbox), [path.basename(kept)]);
    assert.equal(fs.statSync(kept).mode & 0o777, 0o600);
    assert.equal(fs.statSync(outbox).mode & 0o777, 0o700);
    assert.ok(uploadSignatureValid(parseUpload(fs.readFileSync(kept, "utf8"), kept), KIOSK.publicKey), "the whole signed upload");

    // A failing receiver: the retry says why, and keeps the upload.
    const failing = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => res.writeHead(500, { "content-type": "application/json" }).end(JSON.stringify({ error: "disk full" })));
    });
    await new Promise<void>((r) => failing.listen(0, "127.0.0.1", r));
    const failingUrl = `http://127.0.0.1:${(failing.address() as net.AddressInfo).port}/uploads`;
    try {
      const r = await runCli(["kiosk", "send-uploads", "--dir", kiosk.dir, "--upload-to", failingUrl]);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /not sent .*: http:\/\/127\.0\.0\.1:\d+\/uploads answered 500 Internal Server Error: disk full/);
      assert.match(r.stderr, /1 upload\(s\) are still in .*outbox; nothing is lost/);
    } finally {
      await new Promise<void>((r) => failing.close(() => r()));
    }
    assert.deepEqual(fs.readdirSync(outbox), [path.basename(kept)]);

    const receiver = createUploadReceiver({ uploadsDir: ha.uploads });
    const url = `${await receiver.listen({ host: "127.0.0.1", port: 0 })}/uploads`;
    try {
      let r = await runCli(["kiosk", "send-uploads", "--dir", kiosk.dir, "--upload-to", url]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /sent .* to http:\/\/127\.0\.0\.1:\d+\/uploads\n1 upload\(s\) sent; the outbox is empty/);
      assert.deepEqual(fs.readdirSync(outbox), []);
      r = await runCli(["kiosk", "send-uploads", "--dir", kiosk.dir, "--upload-to", url]);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /The outbox is empty: nothing to send/);
    } finally {
      await receiver.close();
    }
    const published = await ha.publish(sim.now());
    assert.deepEqual(published.rejected, []);
    assert.equal(published.keys, 3, "published as if it had been delivered at once");
  });

  it("plain http to another host is refused before the token is asked for anything", async () => {
    const { kiosk, sim, base } = await kioskWithToken("plain");
    try {
      await assert.rejects(
        diagnose({ ...base, code: "ABCD-EFGH-JKMN-PQRS", uploadTo: "http://ha.example/uploads" }),
        /refusing to send uploads to http:\/\/ha\.example\/uploads over plain http/
      );
      assert.equal(kiosk.store.history(TOKEN_ID, 10).length, 0, "the token was not even synced");
      assert.ok(!fs.existsSync(path.join(kiosk.dir, OUTBOX_DIR)), "nothing made");
    } finally {
      kiosk.store.close();
      await sim.transport.close();
    }

    // The command line, by either option name, refuses before the kiosk key, the keys or the radio are touched.
    const dir = path.join(root, "plain-cli", "kiosk");
    assert.equal((await runCli(["kiosk", "init", "--dir", dir])).code, 0);
    const store = path.join(root, "plain-cli", "home.ptstore");
    writeEnrolmentStore(store, PASS);
    assert.equal((await runCli(["kiosk", "import", "--dir", dir, "--store", store])).code, 0);
    const image = path.join(root, "plain-cli", "room12.bin");
    await writeExposedImage(image);
    const before = fs.readFileSync(image);
    const keyFile = path.join(root, "plain-cli", "kiosk.key");
    fs.writeFileSync(keyFile, kioskSecretToJson(KIOSK), { mode: 0o600 });
    for (const option of ["--upload-to", "--upload-dir"]) {
      const r = await runCli([
        "kiosk",
        "diagnose",
        "--dir",
        dir,
        "--token",
        "Room 12",
        "--code",
        "ABCD-EFGH-JKMN-PQRS",
        "--kiosk-key",
        keyFile,
        option,
        "http://ha.example/uploads",
        "--transport",
        "sim",
        "--sim-flash",
        image
      ]);
      assert.equal(r.code, 2, option);
      assert.match(r.stderr, /over plain http.*Use an https:\/\/ URL/, option);
    }
    assert.ok(fs.readFileSync(image).equals(before), "the token's flash is as it was");
    const r = await runCli(["kiosk", "status", "--dir", dir, "--json"]);
    assert.equal((JSON.parse(r.stdout) as Array<{ lastSyncAt: number | null }>)[0].lastSyncAt, null, "never synced");
  });
});
