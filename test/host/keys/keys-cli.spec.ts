import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { fixture, runCli, tempDir } from "./helpers";

const PUB = fixture("example-server-public.pem");

describe("privatetracer keys (CLI)", () => {
  it("verify exits 0 for the valid fixture", async () => {
    const r = await runCli(["keys", "verify", fixture("testExport-2-records-1-of-1.zip"), "--public-key", PUB]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /valid signature/);
  });

  it("verify exits 1 for a signature by another key", async () => {
    const r = await runCli(["keys", "verify", fixture("sample-export.zip"), "--public-key", PUB]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /NOT VALID: .*does not verify/);
  });

  it("verify exits 1 and says unsigned for an empty export.sig", async () => {
    const r = await runCli(["keys", "verify", fixture("1605818700-1605819000-0001-ff23e2.zip"), "--public-key", PUB]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /unsigned/);
  });

  it("verify exits 2 for an unreadable or malformed file", async () => {
    const dir = tempDir("cli");
    const junk = path.join(dir, "junk.zip");
    fs.writeFileSync(junk, "PK\x03\x04 truncated");
    const r = await runCli(["keys", "verify", junk, "--public-key", PUB]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /junk\.zip: not a readable zip/);
    const missing = await runCli(["keys", "verify", path.join(dir, "nope.zip"), "--public-key", PUB]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read .*nope\.zip/);
  });

  it("verify exits 2 when the public key is not a P-256 PEM", async () => {
    const r = await runCli(["keys", "verify", fixture("sample-export.zip"), "--public-key", fixture("README.md")]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /not a PEM public key/);
  });

  it("show --json prints the keys with report types and onsets", async () => {
    const r = await runCli(["keys", "show", fixture("1605818700-1605819000-0001-ff23e2.zip"), "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { keys: Array<{ keyData: string; reportTypeName?: string; daysSinceOnsetOfSymptoms?: number }> };
    assert.equal(doc.keys.length, 50);
    assert.equal(doc.keys[0].keyData, "e0fa5d183b8557b8589bb1ca21c2682b");
    assert.equal(doc.keys[0].reportTypeName, "confirmed-test");
    assert.equal(doc.keys[0].daysSinceOnsetOfSymptoms, 10);
  });

  it("keygen, export and verify round-trip a signed export; show reads it back", async () => {
    const dir = tempDir("cli");
    const priv = path.join(dir, "signing.pem");
    const pub = path.join(dir, "signing.pub.pem");
    const out = path.join(dir, "out.zip");
    assert.equal((await runCli(["keys", "keygen", "--private-out", priv, "--public-out", pub])).code, 0);
    assert.equal(fs.statSync(priv).mode & 0o077, 0, "private key readable by owner only");
    const ex = await runCli([
      "keys",
      "export",
      "--keys",
      fixture("testExport-2-records-keys.json"),
      "--out",
      out,
      "--sign",
      priv,
      "--key-id",
      "PT",
      "--key-version",
      "1",
      "--region",
      "GB"
    ]);
    assert.equal(ex.code, 0, ex.stderr);
    assert.equal((await runCli(["keys", "verify", out, "--public-key", pub])).code, 0);
    assert.equal((await runCli(["keys", "verify", out, "--public-key", PUB])).code, 1);
    const shown = JSON.parse((await runCli(["keys", "show", out, "--json"])).stdout) as {
      region: string;
      keys: Array<{ keyData: string }>;
    };
    assert.equal(shown.region, "GB");
    assert.deepEqual(
      shown.keys.map((k) => k.keyData),
      ["172fc480e598490c34177604339b1543", "2b63053ac483238de176169e861f3dcd"]
    );
    const again = await runCli(["keys", "keygen", "--private-out", priv, "--public-out", pub]);
    assert.equal(again.code, 2, "does not overwrite a private key");
  });

  it("keygen leaves an existing public key alone and writes no private key", async () => {
    const dir = tempDir("cli-keygen");
    const priv = path.join(dir, "new.pem");
    const pub = path.join(dir, "trusted.pub.pem");
    fs.writeFileSync(pub, "the public key every kiosk trusts\n");
    const r = await runCli(["keys", "keygen", "--private-out", priv, "--public-out", pub]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /trusted\.pub\.pem exists; refusing to overwrite a public key/);
    assert.equal(fs.readFileSync(pub, "utf8"), "the public key every kiosk trusts\n");
    assert.equal(fs.existsSync(priv), false);
  });

  it("export exits 2 naming a bad key in the JSON", async () => {
    const dir = tempDir("cli");
    const keys = path.join(dir, "keys.json");
    fs.writeFileSync(keys, JSON.stringify({ keys: [{ keyData: "00112233", rollingStartIntervalNumber: 1 }] }));
    const priv = path.join(dir, "p.pem");
    await runCli(["keys", "keygen", "--private-out", priv, "--public-out", path.join(dir, "q.pem")]);
    const r = await runCli([
      "keys",
      "export",
      "--keys",
      keys,
      "--out",
      path.join(dir, "o.zip"),
      "--sign",
      priv,
      "--key-id",
      "a",
      "--key-version",
      "1",
      "--region",
      "GB"
    ]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /key 1: key data "00112233" is neither 32 hex digits nor base64/);
    assert.equal(fs.existsSync(path.join(dir, "o.zip")), false);
  });

  for (const [what, field, value, msg] of [
    [
      "a start interval of 2^32+5 (would be written as 5)",
      "rollingStartIntervalNumber",
      2 ** 32 + 5,
      /key 2: rolling_start_interval_number 4294967301 is outside 0\.\.2147483647/
    ],
    [
      "a start interval of 2^31+5 (would be signed but unreadable)",
      "rollingStartIntervalNumber",
      2 ** 31 + 5,
      /key 2: rolling_start_interval_number 2147483653 is outside 0\.\.2147483647/
    ],
    [
      "days since onset of 2^33",
      "daysSinceOnsetOfSymptoms",
      2 ** 33,
      /key 2: days_since_onset_of_symptoms 8589934592 is outside -14\.\.14/
    ],
    ["days since onset of -15", "daysSinceOnsetOfSymptoms", -15, /key 2: days_since_onset_of_symptoms -15 is outside -14\.\.14/],
    ["transmission risk 9", "transmissionRiskLevel", 9, /key 2: transmission_risk_level 9 is outside 0\.\.8/],
    ["variant 2^31", "variantOfConcern", 2 ** 31, /key 2: variant_of_concern 2147483648 is not an int32/]
  ] as Array<[string, string, number, RegExp]>) {
    it(`export exits 2 and writes nothing for ${what}`, async () => {
      const dir = tempDir("cli-range");
      const keys = path.join(dir, "keys.json");
      const good = { keyData: "00112233445566778899aabbccddeeff", rollingStartIntervalNumber: 2650000, rollingPeriod: 144 };
      fs.writeFileSync(keys, JSON.stringify({ keys: [good, { ...good, keyData: "ffeeddccbbaa99887766554433221100", [field]: value }] }));
      const priv = path.join(dir, "p.pem");
      await runCli(["keys", "keygen", "--private-out", priv, "--public-out", path.join(dir, "q.pem")]);
      const r = await runCli([
        "keys",
        "export",
        "--keys",
        keys,
        "--out",
        path.join(dir, "o.zip"),
        "--sign",
        priv,
        "--key-id",
        "a",
        "--key-version",
        "1",
        "--region",
        "GB"
      ]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, msg);
      assert.equal(fs.existsSync(path.join(dir, "o.zip")), false);
    });
  }

  it("export writes the edge values of each range and show reads them back", async () => {
    const dir = tempDir("cli-edge");
    const keys = path.join(dir, "keys.json");
    const out = path.join(dir, "o.zip");
    fs.writeFileSync(
      keys,
      JSON.stringify({
        keys: [
          {
            keyData: "00112233445566778899aabbccddeeff",
            rollingStartIntervalNumber: 0x7fffffff,
            rollingPeriod: 1,
            daysSinceOnsetOfSymptoms: -14,
            transmissionRiskLevel: 8,
            variantOfConcern: 0x7fffffff
          }
        ]
      })
    );
    const priv = path.join(dir, "p.pem");
    await runCli(["keys", "keygen", "--private-out", priv, "--public-out", path.join(dir, "q.pem")]);
    const r = await runCli([
      "keys",
      "export",
      "--keys",
      keys,
      "--out",
      out,
      "--sign",
      priv,
      "--key-id",
      "a",
      "--key-version",
      "1",
      "--region",
      "GB"
    ]);
    assert.equal(r.code, 0, r.stderr);
    const shown = JSON.parse((await runCli(["keys", "show", out, "--json"])).stdout) as {
      keys: Array<{ rollingStartIntervalNumber: number; daysSinceOnsetOfSymptoms: number }>;
    };
    assert.equal(shown.keys[0].rollingStartIntervalNumber, 0x7fffffff);
    assert.equal(shown.keys[0].daysSinceOnsetOfSymptoms, -14);
  });

  it("has --help on every keys command", async () => {
    for (const sub of ["show", "verify", "export", "keygen"]) {
      const r = await runCli(["keys", sub, "--help"]);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /Usage: privatetracer keys/);
    }
  });
});
