import { strict as assert } from "node:assert";
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import { emptyStore, issueCode, readCodeStore, findCode, uploadDigest, writeCodeStore } from "../../../host-tools/src/keys/auth-codes";
import { enrolmentOf, generateKioskKey } from "../../../host-tools/src/keys/kiosk-identity";
import { publishUploads } from "../../../host-tools/src/keys/publish";
import { generateSigningKeyPair, parsePrivateKey } from "../../../host-tools/src/keys/signing";
import { ExposureKey, ReportType } from "../../../host-tools/src/keys/types";
import { MAX_UPLOAD_BYTES, createUpload, uploadToJson } from "../../../host-tools/src/keys/upload";
import { UploadDeliveryError, deliverUpload, parseUploadTarget, sendOutbox } from "../../../host-tools/src/keys/upload-deliver";
import { ReceiverEvent, createUploadReceiver, receivedFileName } from "../../../host-tools/src/keys/upload-receiver";
import { repoRoot } from "../../../host-tools/src/paths";
import { tempDir } from "./helpers";

/**
 * Diagnosis uploads over HTTP (keys/upload-deliver.ts, keys/upload-receiver.ts):
 * the receiver stores each well-formed upload once, as a file `keys publish`
 * then publishes, and refuses anything else without writing; the kiosk's
 * side keeps every upload it could not deliver in its outbox, and only a
 * receipt naming the upload empties it.
 */

const DAY = 86400;
const NOW = 1_700_006_400;
const KIOSK = generateKioskKey("care-home-1");
const CODE = "ABCD-EFGH-JKMN-PQRS";
const key = (n: number, daysAgo: number): ExposureKey => ({
  keyData: Buffer.alloc(16, n),
  rollingStartIntervalNumber: (NOW - daysAgo * DAY) / 600,
  rollingPeriod: 144
});
const uploadJson = (code = CODE, keys = [key(1, 2), key(2, 3)]): string => uploadToJson(createUpload(keys, code, KIOSK, NOW - 60));

function receiver(dir: string, events: ReceiverEvent[] = []): ReturnType<typeof createUploadReceiver> {
  return createUploadReceiver({ uploadsDir: dir, onEvent: (e) => events.push(e) });
}

function post(app: ReturnType<typeof createUploadReceiver>, payload: string, contentType = "application/json") {
  return app.inject({ method: "POST", url: "/uploads", headers: { "content-type": contentType }, payload });
}

/** A port nothing listens on: taken, then given back. */
async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** A plain server answering every request with `status` and `body` (a broken or wrong endpoint). */
async function answering(status: number, body: string): Promise<{ url: string; close: () => Promise<void> }> {
  const srv = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(status, { "content-type": "text/plain" }).end(body));
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/uploads`,
    close: () => new Promise<void>((r) => srv.close(() => r()))
  };
}

describe("diagnosis uploads over HTTP: keys receive and the kiosk's delivery", function () {
  this.timeout(120_000);

  describe("the receiver", () => {
    it("stores a well-formed upload once, as a 0600 file named by its digest, and answers with that digest", async () => {
      const dir = tempDir("receive");
      const events: ReceiverEvent[] = [];
      const app = receiver(dir, events);
      const json = uploadJson();
      const first = await post(app, json);
      assert.equal(first.statusCode, 201, first.body);
      assert.deepEqual(first.json(), { upload: uploadDigest(json), status: "stored" });
      const file = path.join(dir, receivedFileName(uploadDigest(json)));
      assert.equal(fs.readFileSync(file, "utf8"), json, "stored as the kiosk signed it");
      assert.equal(fs.statSync(file).mode & 0o777, 0o600, "it holds keys and a code");

      // A retry, and the same upload laid out otherwise: the same upload, not a second file.
      const again = await post(app, json);
      assert.equal(again.statusCode, 200);
      assert.deepEqual(again.json(), { upload: uploadDigest(json), status: "already stored" });
      const compact = await post(app, JSON.stringify(JSON.parse(json)), "application/json; charset=utf-8");
      assert.equal(compact.statusCode, 200, "whitespace does not make another upload");
      assert.deepEqual(fs.readdirSync(dir), [path.basename(file)]);
      assert.deepEqual(
        events.map((e) => e.kind),
        ["stored", "already-stored", "already-stored"]
      );
      await app.close();
    });

    it("refuses a malformed, oversized or non-JSON body with the reason, and writes nothing", async () => {
      const dir = tempDir("receive-bad");
      const app = receiver(dir);
      const good = JSON.parse(uploadJson()) as Record<string, unknown>;
      const cases: Array<[string, string, number, RegExp]> = [
        ["not JSON", "{", 400, /not valid JSON/],
        ["empty", "", 400, /not valid JSON/],
        ["another format", JSON.stringify({ ...good, format: "x" }), 400, /not a diagnosis upload/],
        ["an unsigned extra field", JSON.stringify({ ...good, note: "hi" }), 400, /unexpected field\(s\) note/],
        ["a short signature", JSON.stringify({ ...good, signature: "AAAA" }), 400, /signature must be base64 of 64 bytes/],
        ["no keys", JSON.stringify({ ...good, keys: [] }), 400, /keys must be a list of 1 to 15/],
        ["over 64 KiB", JSON.stringify({ ...good, pad: "x".repeat(MAX_UPLOAD_BYTES) }), 413, /over the 65536-byte limit/]
      ];
      for (const [what, body, status, reason] of cases) {
        const r = await post(app, body);
        assert.equal(r.statusCode, status, `${what}: ${r.body}`);
        assert.match((r.json() as { error: string }).error, reason, what);
      }
      const plain = await post(app, uploadJson(), "text/plain");
      assert.equal(plain.statusCode, 415);
      assert.equal((await app.inject({ method: "GET", url: "/uploads" })).statusCode, 404);
      assert.deepEqual(fs.readdirSync(dir), [], "nothing written");
      await app.close();
    });

    it("refuses to start on an uploads directory that does not exist", () => {
      assert.throws(() => createUploadReceiver({ uploadsDir: path.join(tempDir("receive-none"), "nope") }), /does not exist/);
    });
  });

  describe("delivering to a listening receiver", () => {
    it("a posted upload lands in the uploads directory, keys publish publishes it, and a retry after publishing is not stored again", async () => {
      const dir = tempDir("deliver");
      const uploads = path.join(dir, "uploads");
      const outbox = path.join(dir, "outbox");
      fs.mkdirSync(uploads);
      const codesFile = path.join(dir, "codes.json");
      const store = emptyStore();
      const code = issueCode(store, { now: NOW - DAY, validSeconds: 3 * DAY, reportType: ReportType.ConfirmedTest });
      writeCodeStore(codesFile, store);
      const app = receiver(uploads);
      const base = await app.listen({ host: "127.0.0.1", port: 0 });
      try {
        const json = uploadJson(code);
        const target = parseUploadTarget(`${base}/uploads`);
        const d = await deliverUpload({ target, outboxDir: outbox, name: "care-home-1-1.json", json });
        assert.deepEqual(d.delivered, { via: "url", to: `${base}/uploads`, duplicate: false });
        assert.deepEqual(fs.readdirSync(outbox), [], "out of the outbox once the receiver has it");
        assert.equal(fs.readdirSync(uploads).length, 1);

        const signer = generateSigningKeyPair();
        const e = enrolmentOf(KIOSK);
        const r = await publishUploads({
          uploadsDir: uploads,
          codesFile,
          kiosks: new Map([[e.kioskId, Buffer.from(e.publicKey, "base64")]]),
          signingKey: parsePrivateKey(signer.privateKeyPem),
          keyId: "HA",
          keyVersion: "1",
          region: "GB",
          outDir: path.join(dir, "published-keys"),
          now: NOW
        });
        assert.deepEqual(r.rejected, []);
        assert.equal(r.keys, 2);
        assert.ok(r.exportFile);
        assert.equal(
          findCode(readCodeStore(codesFile), code)?.usedFor,
          uploadDigest(json),
          "the receipt's digest is the one kept with the code"
        );

        // The kiosk never heard the answer and sends it again: answered, not stored again.
        const again = await deliverUpload({ target, outboxDir: outbox, name: "care-home-1-1.json", json });
        assert.equal(again.delivered.duplicate, true);
        assert.deepEqual(
          fs.readdirSync(uploads).filter((f) => f.endsWith(".json")),
          [],
          "nothing new for keys publish"
        );
      } finally {
        await app.close();
      }
    });

    it("a receiver that is down, answers 500 or answers without a receipt: the upload stays in the outbox, and is sent later", async () => {
      const dir = tempDir("deliver-fail");
      const uploads = path.join(dir, "uploads");
      const outbox = path.join(dir, "outbox");
      fs.mkdirSync(uploads);
      const json = uploadJson();

      const down = parseUploadTarget(`http://127.0.0.1:${await freePort()}/uploads`);
      await assert.rejects(deliverUpload({ target: down, outboxDir: outbox, name: "a.json", json }), (e: unknown) => {
        assert.ok(e instanceof UploadDeliveryError);
        assert.equal(e.code, "UPLOAD_NOT_DELIVERED");
        assert.equal(e.status, null);
        assert.equal(e.keptIn, path.join(outbox, "a.json"));
        assert.match(e.message, /cannot reach http:\/\/127\.0\.0\.1:\d+\/uploads: .*ECONNREFUSED.*kept in .*a\.json: nothing is lost/);
        return true;
      });

      // A long reason is quoted, but only its start.
      const broken = await answering(500, "disk full " + "x".repeat(10_000));
      try {
        await assert.rejects(
          deliverUpload({
            target: parseUploadTarget(broken.url),
            outboxDir: outbox,
            name: "b.json",
            json: uploadJson("BCDE-FGHJ-KMNP-QRST")
          }),
          (e: unknown) => {
            assert.ok(e instanceof UploadDeliveryError);
            assert.equal(e.status, 500);
            assert.match(e.message, /answered 500 Internal Server Error: disk full x+…\. The signed upload is kept in/);
            assert.ok(e.message.length < 600, `bounded: ${e.message.length} characters`);
            return true;
          }
        );
      } finally {
        await broken.close();
      }

      // Any page answering 200 is not the receiver: without a receipt naming the upload, it stays.
      const wrong = await answering(200, "OK");
      try {
        await assert.rejects(
          deliverUpload({
            target: parseUploadTarget(wrong.url),
            outboxDir: outbox,
            name: "c.json",
            json: uploadJson("CDEF-GHJK-MNPQ-RSTV")
          }),
          /answered 200 without this upload's receipt/
        );
      } finally {
        await wrong.close();
      }
      assert.deepEqual(fs.readdirSync(outbox).sort(), ["a.json", "b.json", "c.json"]);
      assert.deepEqual(fs.readdirSync(uploads), []);

      // Still down: the first failure stops the run, the rest untried, nothing lost.
      const stillDown = await sendOutbox(outbox, down);
      assert.equal(stillDown.sent.length, 0);
      assert.equal(stillDown.failed.length, 1);
      assert.equal(stillDown.untried.length, 2);
      assert.equal(fs.readdirSync(outbox).length, 3);

      const app = receiver(uploads);
      const base = await app.listen({ host: "127.0.0.1", port: 0 });
      try {
        const r = await sendOutbox(outbox, parseUploadTarget(`${base}/uploads`));
        assert.equal(r.sent.length, 3);
        assert.deepEqual(r.failed, []);
        assert.deepEqual(fs.readdirSync(outbox), []);
        assert.equal(fs.readdirSync(uploads).length, 3);
        assert.ok(fs.readdirSync(uploads).includes(receivedFileName(uploadDigest(json))));
      } finally {
        await app.close();
      }
    });

    it("plain http goes only to this machine; other schemes and URLs with a password are refused", () => {
      for (const ok of [
        "https://ha.example/uploads",
        "http://127.0.0.1:8080/uploads",
        "http://localhost/uploads",
        "http://[::1]:1/uploads"
      ])
        assert.equal(parseUploadTarget(ok).kind, "url", ok);
      assert.deepEqual(parseUploadTarget("uploads/dir"), { kind: "dir", dir: "uploads/dir" });
      assert.throws(() => parseUploadTarget("http://ha.example/uploads"), /over plain http.*https:\/\//);
      assert.throws(() => parseUploadTarget("http://10.0.0.1/uploads"), /over plain http/);
      assert.throws(() => parseUploadTarget("ftp://ha.example/uploads"), /not a ftp URL/);
      assert.throws(
        () => parseUploadTarget("https://user:secret@ha.example/uploads"),
        (e: Error) => !e.message.includes("secret")
      );
    });
  });

  describe("privatetracer keys receive", () => {
    let child: ChildProcess | undefined;
    afterEach(() => {
      if (child && child.exitCode === null) child.kill("SIGKILL");
      child = undefined;
    });

    /** Starts the CLI; resolves with its first line on stdout (where it says its address) and what it writes later. */
    function start(args: string[]): Promise<{ first: string; out: () => string; err: () => string; exit: Promise<number | null> }> {
      const c = spawn(process.execPath, [path.join(repoRoot, "bin", "privatetracer.js"), "keys", "receive", ...args], {
        stdio: ["ignore", "pipe", "pipe"]
      });
      child = c;
      let out = "";
      let err = "";
      const exit = new Promise<number | null>((r) => c.on("exit", (code) => r(code)));
      return new Promise((resolve, reject) => {
        c.stderr!.on("data", (b: Buffer) => (err += b.toString()));
        c.stdout!.on("data", (b: Buffer) => {
          out += b.toString();
          if (out.includes("\n")) resolve({ first: out.split("\n")[0], out: () => out, err: () => err, exit });
        });
        void exit.then((code) => reject(new Error(`exited ${code} before listening: ${err}`)));
      });
    }

    it("listens on 127.0.0.1, stores what kiosks POST, logs each request, and stops cleanly on SIGTERM", async () => {
      const uploads = tempDir("receive-cli");
      const r = await start(["--uploads", uploads, "--port", "0"]);
      const m = /^receiving uploads at (http:\/\/127\.0\.0\.1:\d+\/uploads) into /.exec(r.first);
      assert.ok(m, r.first);
      assert.equal(r.err(), "", "no warning on loopback");
      const json = uploadJson();
      const res = await fetch(m[1], { method: "POST", headers: { "content-type": "application/json" }, body: json });
      assert.equal(res.status, 201);
      const bad = await fetch(m[1], { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
      assert.equal(bad.status, 400);
      assert.deepEqual(fs.readdirSync(uploads), [receivedFileName(uploadDigest(json))]);
      child!.kill("SIGTERM");
      assert.equal(await r.exit, 0);
      assert.match(r.out(), /stored .*upload-[0-9a-f]{64}\.json: 2 key\(s\) from kiosk "care-home-1"/);
      assert.match(r.out(), /refused \(400\) from 127\.0\.0\.1: the upload is not a diagnosis upload/);
      assert.match(r.out(), /stopped \(SIGTERM\)/);
    });

    it("warns that TLS must be terminated in front when given another address", async () => {
      // 127.0.0.2 is this machine on Linux, but not an address the kiosks' plain-http rule knows: the warning shows.
      const r = await start(["--uploads", tempDir("receive-cli-host"), "--port", "0", "--host", "127.0.0.2"]);
      assert.match(r.first, /^receiving uploads at http:\/\/127\.0\.0\.2:\d+\/uploads/);
      assert.match(r.err(), /warning: listening on .* in plain HTTP.*terminate TLS in front of it/);
      child!.kill("SIGTERM");
      assert.equal(await r.exit, 0);
    });
  });
});
