import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as zlib from "node:zlib";
import JSZip from "jszip";
import { decodeExportBin, encodeExportBin, EXPORT_HEADER } from "../../../host-tools/src/keys/export-codec";
import { buildExportZip, parseExportFile, readExportFile, verifyExportFile } from "../../../host-tools/src/keys/export-file";
import { ExportFormatError } from "../../../host-tools/src/keys/errors";
import { keysFromJson } from "../../../host-tools/src/keys/keys-json";
import { generateSigningKeyPair, loadPublicKey, parsePrivateKey, parsePublicKey } from "../../../host-tools/src/keys/signing";
import { KeyExport, ReportType } from "../../../host-tools/src/keys/types";
import { fixture } from "./helpers";

const pub = (): ReturnType<typeof loadPublicKey> => loadPublicKey(fixture("example-server-public.pem"));

function sampleExport(): KeyExport {
  return {
    startTimestamp: 1700000000,
    endTimestamp: 1700003600,
    region: "GB",
    batchNum: 1,
    batchSize: 1,
    signatureInfos: [],
    keys: [
      {
        keyData: Buffer.from("75c734c6dd1a782de7a965da5eb93125", "hex"),
        rollingStartIntervalNumber: 2642976,
        rollingPeriod: 144,
        reportType: ReportType.ConfirmedTest,
        daysSinceOnsetOfSymptoms: -3,
        transmissionRiskLevel: 4
      },
      {
        keyData: Buffer.alloc(16, 7),
        rollingStartIntervalNumber: 2643120,
        rollingPeriod: 100,
        reportType: ReportType.SelfReport,
        daysSinceOnsetOfSymptoms: 14,
        variantOfConcern: 2
      }
    ],
    revisedKeys: [{ keyData: Buffer.alloc(16, 9), rollingStartIntervalNumber: 2642832, rollingPeriod: 144, reportType: ReportType.Revoked }]
  };
}

describe("GAEN export files: Google's fixtures", () => {
  it("reads the 2-record test export and its keys equal the published key list", async () => {
    const f = await readExportFile(fixture("testExport-2-records-1-of-1.zip"));
    const expected = keysFromJson(JSON.parse(fs.readFileSync(fixture("testExport-2-records-keys.json"), "utf8")), "keys.json");
    assert.equal(f.export.keys.length, 2);
    assert.deepEqual(
      f.export.keys.map((k) => [
        Buffer.from(k.keyData).toString("hex"),
        k.rollingStartIntervalNumber,
        k.rollingPeriod,
        k.transmissionRiskLevel
      ]),
      expected.map((k) => [Buffer.from(k.keyData).toString("hex"), k.rollingStartIntervalNumber, k.rollingPeriod, k.transmissionRiskLevel])
    );
    assert.equal(f.export.region, "US");
    assert.equal(f.export.startTimestamp, 1590159600);
    assert.equal(f.export.signatureInfos[0].signatureAlgorithm, "1.2.840.10045.4.3.2");
  });

  it("verifies the 2-record test export with the example server's public key", async () => {
    const v = verifyExportFile(await readExportFile(fixture("testExport-2-records-1-of-1.zip")), pub());
    assert.equal(v.valid, true);
  });

  it("rejects sample-export.zip, whose signature is not by that key", async () => {
    const f = await readExportFile(fixture("sample-export.zip"));
    assert.equal(f.export.keys.length, 2);
    assert.equal(f.export.keys[0].rollingPeriod, 144, "an absent rolling_period means 144");
    const v = verifyExportFile(f, pub());
    assert.equal(v.valid, false);
    if (!v.valid) assert.match(v.reason, /does not verify/);
  });

  it("reads the 50-key export with report types and days since onset, and calls it unsigned", async () => {
    const f = await readExportFile(fixture("1605818700-1605819000-0001-ff23e2.zip"));
    assert.equal(f.export.keys.length, 50);
    assert.ok(f.export.keys.every((k) => k.reportType !== undefined && k.daysSinceOnsetOfSymptoms !== undefined));
    assert.ok(
      f.export.keys.some((k) => (k.daysSinceOnsetOfSymptoms ?? 0) < 0),
      "sint32 negatives decode"
    );
    assert.equal(f.export.keys[0].reportType, ReportType.ConfirmedTest);
    assert.equal(f.export.keys[0].daysSinceOnsetOfSymptoms, 10);
    const v = verifyExportFile(f, pub());
    assert.equal(v.valid, false);
    if (!v.valid) assert.match(v.reason, /unsigned/);
  });

  it("reads a bare export.bin taken out of a zip", async () => {
    const zip = await JSZip.loadAsync(fs.readFileSync(fixture("testExport-2-records-1-of-1.zip")));
    const bin = await zip.file("export.bin")!.async("uint8array");
    const f = await parseExportFile(bin, "export.bin");
    assert.equal(f.export.keys.length, 2);
    assert.equal(f.hasSigFile, false);
    assert.equal(verifyExportFile(f, pub()).valid, false);
  });
});

describe("GAEN export files: our own exports", () => {
  it("round-trips every field through export.bin", () => {
    const e = sampleExport();
    const back = decodeExportBin(encodeExportBin(e));
    assert.deepEqual(
      {
        ...back,
        keys: back.keys.map((k) => ({ ...k, keyData: Buffer.from(k.keyData) })),
        revisedKeys: back.revisedKeys.map((k) => ({ ...k, keyData: Buffer.from(k.keyData) }))
      },
      {
        ...e,
        keys: e.keys.map((k) => ({ ...k, keyData: Buffer.from(k.keyData) })),
        revisedKeys: e.revisedKeys.map((k) => ({ ...k, keyData: Buffer.from(k.keyData) }))
      }
    );
  });

  it("signs a zip that verifies with its public key and not with another", async () => {
    const pair = generateSigningKeyPair();
    const zip = await buildExportZip(sampleExport(), { key: parsePrivateKey(pair.privateKeyPem), keyId: "PT", keyVersion: "v1" });
    const f = await parseExportFile(zip, "ours.zip");
    assert.equal(f.export.keys.length, 2);
    assert.deepEqual(f.export.signatureInfos, [
      { verificationKeyId: "PT", verificationKeyVersion: "v1", signatureAlgorithm: "1.2.840.10045.4.3.2" }
    ]);
    assert.equal(verifyExportFile(f, parsePublicKey(pair.publicKeyPem)).valid, true);
    assert.equal(verifyExportFile(f, parsePublicKey(generateSigningKeyPair().publicKeyPem)).valid, false);
  });

  it("detects one changed byte in a signed export.bin", async () => {
    const pair = generateSigningKeyPair();
    const f = await parseExportFile(
      await buildExportZip(sampleExport(), { key: parsePrivateKey(pair.privateKeyPem), keyId: "PT", keyVersion: "v1" }),
      "ours.zip"
    );
    f.bin[f.bin.length - 1] ^= 1;
    assert.equal(verifyExportFile(f, parsePublicKey(pair.publicKeyPem)).valid, false);
  });

  it("refuses to write a key that is not 16 bytes or has a bad rolling period", () => {
    const e = sampleExport();
    e.keys[0].keyData = Buffer.alloc(15);
    assert.throws(() => encodeExportBin(e), /key 1: key_data is 15 bytes, expected 16/);
    const e2 = sampleExport();
    e2.keys[1].rollingPeriod = 145;
    assert.throws(() => encodeExportBin(e2), /key 2: rolling_period 145 is outside 1..144/);
  });
});

describe("GAEN export files: malformed input", () => {
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ["an empty file", new Uint8Array(0), /too short/],
    ["a wrong header", Buffer.from("EK Export v2    \x00"), /does not start with the header/],
    [
      "a header and a broken protobuf",
      Buffer.concat([EXPORT_HEADER, Buffer.from([0x3a, 0x7f, 0x0a])]),
      /not a valid TemporaryExposureKeyExport/
    ],
    ["a zip without export.bin", Buffer.from("504b0506000000000000000000000000000000000000", "hex"), /not a readable zip|no export.bin/]
  ];
  function encodeRaw(body: number[]): Buffer {
    return Buffer.concat([EXPORT_HEADER, Buffer.from(body)]);
  }
  for (const [what, data, msg] of cases) {
    it(`names the problem in ${what}`, async () => {
      await assert.rejects(
        parseExportFile(data, "bad.bin"),
        (e: unknown) => e instanceof ExportFormatError && e.kind === "unusable" && msg.test(e.message)
      );
    });
  }

  // An invalid key is skipped and named, not a reason to refuse the export (issue 15, item 6).
  const badKeys: Array<[string, Uint8Array, RegExp]> = [
    ["a key of 15 bytes", encodeRaw([0x3a, 0x13, 0x0a, 0x0f, ...new Array(15).fill(1), 0x18, 0x01]), /key_data is 15 bytes/],
    ["a key without a start interval", encodeRaw([0x3a, 0x12, 0x0a, 0x10, ...new Array(16).fill(1)]), /no rolling_start_interval_number/],
    [
      "a rolling period of 0",
      encodeRaw([0x3a, 0x16, 0x0a, 0x10, ...new Array(16).fill(1), 0x18, 0x01, 0x20, 0x00]),
      /rolling_period 0 is outside/
    ],
    [
      "report type 9",
      encodeRaw([0x3a, 0x16, 0x0a, 0x10, ...new Array(16).fill(1), 0x18, 0x01, 0x28, 0x09]),
      /report_type 9 is outside 0..5/
    ]
  ];
  for (const [what, data, msg] of badKeys) {
    it(`skips and names ${what}`, async () => {
      const f = await parseExportFile(data, "bad.bin");
      assert.equal(f.export.keys.length, 0);
      assert.equal(f.skipped.length, 1);
      assert.equal(f.skipped[0].key, 1);
      assert.match(f.skipped[0].problem, msg);
    });
  }

  it("ignores unknown fields and the reserved SignatureInfo fields 1 and 2", async () => {
    // SignatureInfo with field 1 (old app bundle id) and an unknown field 99 on the export.
    const info = Buffer.from([0x0a, 0x03, 0x61, 0x70, 0x70, 0x2a, 0x01, 0x78]);
    const body = Buffer.concat([Buffer.from([0x32, info.length]), info, Buffer.from([0x98, 0x06, 0x01])]);
    const f = await parseExportFile(Buffer.concat([EXPORT_HEADER, body]), "old.bin");
    assert.deepEqual(f.export.signatureInfos, [{ signatureAlgorithm: "x" }]);
  });

  it("names the file when a zip's export.bin is corrupt", async () => {
    const zip = new JSZip();
    zip.file("export.bin", "this is not a GAEN export at all");
    const data = await zip.generateAsync({ type: "nodebuffer" });
    await assert.rejects(parseExportFile(data, "weird.zip"), /weird\.zip: export\.bin does not start with the header/);
  });
});

describe("GAEN export files: oversized and damaged zip entries", () => {
  /** A zip whose one entry, export.bin, holds `raw` deflated (or stored) but whose headers claim `claimed` bytes and `crc`. */
  function handMadeZip(raw: Buffer, claimed: number, crc: number, deflate = true): Buffer {
    const body = deflate ? zlib.deflateRawSync(raw, { level: 9 }) : raw;
    const name = Buffer.from("export.bin");
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(deflate ? 8 : 0, 8);
    local.writeUInt32LE(crc >>> 0, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(claimed, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(deflate ? 8 : 0, 10);
    central.writeUInt32LE(crc >>> 0, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(claimed, 24);
    central.writeUInt16LE(name.length, 28);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(1, 8);
    end.writeUInt16LE(1, 10);
    end.writeUInt32LE(central.length + name.length, 12);
    end.writeUInt32LE(local.length + name.length + body.length, 16);
    return Buffer.concat([local, name, body, central, name, end]);
  }

  it("stops a zip bomb whose header claims 100 bytes at the size limit, saying so", async () => {
    const raw = Buffer.alloc(64 * 1024 * 1024);
    EXPORT_HEADER.copy(raw);
    const bomb = handMadeZip(raw, 100, zlib.crc32(raw));
    assert.ok(bomb.length < 100_000, "a small file");
    await assert.rejects(
      parseExportFile(bomb, "bomb.zip"),
      (e: unknown) => e instanceof ExportFormatError && /bomb\.zip: export\.bin inflates to over the 16777216-byte limit/.test(e.message)
    );
  });

  it("refuses an entry whose header declares more than the limit", async () => {
    const raw = Buffer.alloc(17 * 1024 * 1024);
    await assert.rejects(
      parseExportFile(handMadeZip(raw, raw.length, zlib.crc32(raw)), "big.zip"),
      /big\.zip: export\.bin would be 17825792 bytes, over the 16777216-byte limit/
    );
  });

  it("reads a stored (uncompressed) entry and still catches a CRC mismatch", async () => {
    const bin = encodeExportBin(sampleExport());
    const f = await parseExportFile(handMadeZip(bin, bin.length, zlib.crc32(bin), false), "stored.zip");
    assert.equal(f.export.keys.length, 2);
    await assert.rejects(
      parseExportFile(handMadeZip(bin, bin.length, zlib.crc32(bin) ^ 1), "crc.zip"),
      (e: unknown) => e instanceof ExportFormatError && /crc\.zip: export\.bin .*CRC32/.test(e.message)
    );
  });
});
