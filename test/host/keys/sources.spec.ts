import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as http from "node:http";
import { AddressInfo } from "node:net";
import * as path from "node:path";
import { KeySourceError, SignatureError, ExportFormatError } from "../../../host-tools/src/keys/errors";
import { buildExportZip } from "../../../host-tools/src/keys/export-file";
import { generateSigningKeyPair, parsePrivateKey } from "../../../host-tools/src/keys/signing";
import { loadKeySource, loadKeySourceDetailed } from "../../../host-tools/src/keys/sources";
import { ExposureKey, KeyExport, ReportType } from "../../../host-tools/src/keys/types";
import { fixture, tempDir } from "./helpers";

const pair = generateSigningKeyPair();
const tek = (n: number): Buffer => Buffer.alloc(16, n);
const key = (n: number, reportType = ReportType.ConfirmedTest): ExposureKey => ({
  keyData: tek(n),
  rollingStartIntervalNumber: 2700000 + 144 * n,
  rollingPeriod: 144,
  reportType
});

async function writeExport(file: string, keys: ExposureKey[], revisedKeys: ExposureKey[] = []): Promise<void> {
  const exp: KeyExport = {
    startTimestamp: 1620000000,
    endTimestamp: 1620003600,
    region: "GB",
    batchNum: 1,
    batchSize: 1,
    signatureInfos: [],
    keys,
    revisedKeys
  };
  fs.writeFileSync(file, await buildExportZip(exp, { key: parsePrivateKey(pair.privateKeyPem), keyId: "PT", keyVersion: "1" }));
}

const hexes = (ks: ExposureKey[]): string[] => ks.map((k) => Buffer.from(k.keyData).toString("hex")).sort();

describe("key sources for matching", () => {
  it("reads one export file", async () => {
    const keys = await loadKeySource(fixture("1605818700-1605819000-0001-ff23e2.zip"));
    assert.equal(keys.length, 50);
  });

  it("reads every export in a directory, skipping other files", async () => {
    const dir = tempDir("dir");
    await writeExport(path.join(dir, "1-a.zip"), [key(1), key(2)]);
    await writeExport(path.join(dir, "2-b.zip"), [key(3)]);
    fs.writeFileSync(path.join(dir, "notes.txt"), "not an export");
    const r = await loadKeySourceDetailed(dir);
    assert.deepEqual(hexes(r.keys), hexes([key(1), key(2), key(3)]));
    assert.equal(r.files.length, 2);
  });

  it("leaves out revoked keys, whether published revoked or revised to revoked later", async () => {
    const dir = tempDir("revoked");
    await writeExport(path.join(dir, "1.zip"), [key(1), key(2), key(3, ReportType.Revoked)]);
    await writeExport(path.join(dir, "2.zip"), [key(1)], [key(2, ReportType.Revoked)]);
    const r = await loadKeySourceDetailed(dir);
    assert.deepEqual(hexes(r.keys), hexes([key(1)]));
    assert.equal(r.revoked, 2);
    assert.equal(r.duplicates, 1);
  });

  it("follows a local index.txt, paths relative to the index", async () => {
    const dir = tempDir("index");
    fs.mkdirSync(path.join(dir, "exports"));
    await writeExport(path.join(dir, "exports", "a.zip"), [key(4)]);
    await writeExport(path.join(dir, "exports", "b.zip"), [key(5)]);
    fs.writeFileSync(path.join(dir, "index.txt"), "# published\nexports/a.zip\n\nexports/b.zip\n");
    assert.deepEqual(hexes(await loadKeySource(path.join(dir, "index.txt"))), hexes([key(4), key(5)]));
  });

  it("checks signatures when given the publisher's key, naming the file that fails", async () => {
    const dir = tempDir("sig");
    await writeExport(path.join(dir, "a.zip"), [key(6)]);
    assert.equal((await loadKeySource(dir, { publicKeyPem: pair.publicKeyPem })).length, 1);
    fs.copyFileSync(fixture("sample-export.zip"), path.join(dir, "b.zip"));
    await assert.rejects(
      loadKeySource(dir, { publicKeyPem: pair.publicKeyPem }),
      (e: unknown) => e instanceof SignatureError && /b\.zip/.test(e.message)
    );
  });

  it("fails with a named error on a missing source or a broken file", async () => {
    await assert.rejects(loadKeySource(path.join(tempDir("none"), "nothing-here")), KeySourceError);
    const dir = tempDir("broken");
    fs.writeFileSync(path.join(dir, "x.zip"), "PK garbage");
    await assert.rejects(loadKeySource(dir), (e: unknown) => e instanceof ExportFormatError && /x\.zip/.test(e.message));
  });

  it("names a dangling link in a key directory with a KeySourceError", async () => {
    const dir = tempDir("dangling");
    await writeExport(path.join(dir, "1.zip"), [key(1)]);
    fs.symlinkSync(path.join(dir, "gone.zip"), path.join(dir, "2.zip"));
    await assert.rejects(
      loadKeySource(dir),
      (e: unknown) => e instanceof KeySourceError && e.kind === "unusable" && e.message.includes(path.join(dir, "2.zip"))
    );
  });

  describe("over HTTP (a local server on 127.0.0.1)", () => {
    let server: http.Server;
    let base: string;
    const requests: string[] = [];
    const files = new Map<string, Buffer>();
    before(async () => {
      const dir = tempDir("http");
      await writeExport(path.join(dir, "a.zip"), [key(7)]);
      await writeExport(path.join(dir, "b.zip"), [key(8), key(9)]);
      files.set("/v1/exports/a.zip", fs.readFileSync(path.join(dir, "a.zip")));
      files.set("/v1/exports/b.zip", fs.readFileSync(path.join(dir, "b.zip")));
      files.set("/v1/index.txt", Buffer.from("exports/a.zip\nexports/b.zip\n"));
      files.set("/v1/bad-index.txt", Buffer.from("exports/a.zip\nexports/missing.zip\n"));
      server = http.createServer((req, res) => {
        requests.push(req.url ?? "");
        const body = files.get(req.url ?? "");
        if (!body) {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(200, { "content-type": "application/octet-stream" }).end(body);
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it("fetches the index and its exports, and does not fetch a cached export again", async () => {
      const cacheDir = tempDir("cache");
      requests.length = 0;
      const first = await loadKeySourceDetailed(`${base}/v1/index.txt`, { cacheDir });
      assert.deepEqual(hexes(first.keys), hexes([key(7), key(8), key(9)]));
      assert.deepEqual(requests, ["/v1/index.txt", "/v1/exports/a.zip", "/v1/exports/b.zip"]);
      requests.length = 0;
      const second = await loadKeySourceDetailed(`${base}/v1/index.txt`, { cacheDir });
      assert.deepEqual(hexes(second.keys), hexes(first.keys));
      assert.deepEqual(requests, ["/v1/index.txt"], "only the index is fetched again");
      assert.equal(second.fromCache, 2);
    });

    it("fetches a single export by URL", async () => {
      assert.deepEqual(hexes(await loadKeySource(`${base}/v1/exports/a.zip`)), hexes([key(7)]));
    });

    it("never caches a forged export: once the server is fixed, the genuine file matches", async () => {
      const cacheDir = tempDir("cache-forged");
      const forger = generateSigningKeyPair();
      const exp: KeyExport = {
        startTimestamp: 1620000000,
        endTimestamp: 1620003600,
        region: "GB",
        batchNum: 1,
        batchSize: 1,
        signatureInfos: [],
        keys: [key(10)],
        revisedKeys: []
      };
      const forged = await buildExportZip(exp, { key: parsePrivateKey(forger.privateKeyPem), keyId: "PT", keyVersion: "1" });
      files.set("/v1/exports/c.zip", forged);
      await assert.rejects(loadKeySource(`${base}/v1/exports/c.zip`, { cacheDir, publicKeyPem: pair.publicKeyPem }), SignatureError);
      files.set("/v1/exports/c.zip", await buildExportZip(exp, { key: parsePrivateKey(pair.privateKeyPem), keyId: "PT", keyVersion: "1" }));
      const r = await loadKeySourceDetailed(`${base}/v1/exports/c.zip`, { cacheDir, publicKeyPem: pair.publicKeyPem });
      assert.deepEqual(hexes(r.keys), hexes([key(10)]));
      assert.equal(r.fromCache, 0);
    });

    it("fetches again when a cached copy does not verify (cached before a key was given)", async () => {
      const cacheDir = tempDir("cache-unverified");
      const forger = generateSigningKeyPair();
      const exp: KeyExport = {
        startTimestamp: 1620000000,
        endTimestamp: 1620003600,
        region: "GB",
        batchNum: 1,
        batchSize: 1,
        signatureInfos: [],
        keys: [key(11)],
        revisedKeys: []
      };
      files.set(
        "/v1/exports/d.zip",
        await buildExportZip(exp, { key: parsePrivateKey(forger.privateKeyPem), keyId: "PT", keyVersion: "1" })
      );
      await loadKeySource(`${base}/v1/exports/d.zip`, { cacheDir });
      files.set("/v1/exports/d.zip", await buildExportZip(exp, { key: parsePrivateKey(pair.privateKeyPem), keyId: "PT", keyVersion: "1" }));
      requests.length = 0;
      const r = await loadKeySourceDetailed(`${base}/v1/exports/d.zip`, { cacheDir, publicKeyPem: pair.publicKeyPem });
      assert.deepEqual(hexes(r.keys), hexes([key(11)]));
      assert.deepEqual(requests, ["/v1/exports/d.zip"]);
      requests.length = 0;
      const again = await loadKeySourceDetailed(`${base}/v1/exports/d.zip`, { cacheDir, publicKeyPem: pair.publicKeyPem });
      assert.equal(again.fromCache, 1);
      assert.deepEqual(requests, []);
    });

    it("follows a redirect on the same server but refuses one to another server", async () => {
      const other = http.createServer((_req, res) => res.writeHead(200).end(files.get("/v1/exports/a.zip")));
      await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
      const otherBase = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
      const redirects = http.createServer((req, res) => {
        if (req.url === "/same.zip") res.writeHead(302, { location: "/v1/exports/a.zip" }).end();
        else if (req.url === "/v1/exports/a.zip") res.writeHead(200).end(files.get("/v1/exports/a.zip"));
        else res.writeHead(302, { location: `${otherBase}/elsewhere.zip` }).end();
      });
      await new Promise<void>((resolve) => redirects.listen(0, "127.0.0.1", resolve));
      const rBase = `http://127.0.0.1:${(redirects.address() as AddressInfo).port}`;
      try {
        assert.deepEqual(hexes(await loadKeySource(`${rBase}/same.zip`)), hexes([key(7)]));
        await assert.rejects(
          loadKeySource(`${rBase}/away.zip`),
          (e: unknown) => e instanceof KeySourceError && /redirects to another server/.test(e.message)
        );
      } finally {
        await new Promise<void>((resolve) => other.close(() => resolve()));
        await new Promise<void>((resolve) => redirects.close(() => resolve()));
      }
    });

    it("names the URL that could not be fetched", async () => {
      await assert.rejects(
        loadKeySource(`${base}/v1/bad-index.txt`, { cacheDir: tempDir("cache2") }),
        (e: unknown) => e instanceof KeySourceError && /missing\.zip: HTTP 404/.test(e.message)
      );
    });
  });
});
