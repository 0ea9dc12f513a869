import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { runCli, tempDir } from "./helpers";

/** Keys as a token would hand them over: today's (still in use) and the three days before. */
function tokenKeys(todaysPeriod = 144): object {
  const today = Math.floor(Date.now() / 1000 / 86400) * 144;
  return {
    keys: [0, 1, 2, 3].map((d) => ({
      keyData: (d + 10).toString(16).repeat(32).slice(0, 32),
      rollingStartIntervalNumber: today - 144 * d,
      rollingPeriod: d ? 144 : todaysPeriod
    }))
  };
}

describe("privatetracer report and keys publish (CLI)", () => {
  it("report create leaves today's key out even when it claims a rollingPeriod of 1 (it is in use all day)", async () => {
    const d = tempDir("live-key");
    const p = (f: string): string => path.join(d, f);
    fs.writeFileSync(p("teks.json"), JSON.stringify(tokenKeys(1)));
    assert.equal((await runCli(["report", "keygen", "--kiosk-id", "care-home-1", "--out", p("kiosk.key")])).code, 0);
    const ic = await runCli([
      "report",
      "issue-code",
      "--codes",
      p("codes.json"),
      "--onset",
      new Date(Date.now() - 2 * 86400e3).toISOString().slice(0, 10)
    ]);
    assert.equal(ic.code, 0, ic.stderr);
    const args = [
      "report",
      "create",
      "--keys",
      p("teks.json"),
      "--code",
      ic.stdout.trim(),
      "--kiosk-key",
      p("kiosk.key"),
      "--out",
      p("u.json")
    ];
    const cr = await runCli(args);
    assert.equal(cr.code, 0, cr.stderr);
    assert.match(cr.stdout, /3 key\(s\) signed by kiosk "care-home-1", 1 left out/);
    const today = (10).toString(16).repeat(32).slice(0, 32);
    const upload = fs.readFileSync(p("u.json"), "utf8");
    for (const form of [today, Buffer.from(today, "hex").toString("base64")])
      assert.equal(upload.includes(form), false, "today's key is not in the upload");
  });

  it("runs the whole flow: kiosk key, code, upload, publish, verify; the same upload again is filed, another using the code is rejected", async () => {
    const d = tempDir("flow");
    const p = (f: string): string => path.join(d, f);
    fs.mkdirSync(p("uploads"));
    fs.writeFileSync(p("teks.json"), JSON.stringify(tokenKeys()));

    const kg = await runCli(["report", "keygen", "--kiosk-id", "care-home-1", "--out", p("kiosk.key")]);
    assert.equal(kg.code, 0, kg.stderr);
    fs.writeFileSync(p("kiosks.json"), JSON.stringify({ kiosks: [JSON.parse(kg.stdout)] }));
    assert.equal((await runCli(["keys", "keygen", "--private-out", p("ha.pem"), "--public-out", p("ha.pub.pem")])).code, 0);

    const ic = await runCli([
      "report",
      "issue-code",
      "--codes",
      p("codes.json"),
      "--onset",
      new Date(Date.now() - 2 * 86400e3).toISOString().slice(0, 10)
    ]);
    assert.equal(ic.code, 0, ic.stderr);
    const code = ic.stdout.trim();
    assert.match(code, /^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/);

    const cr = await runCli([
      "report",
      "create",
      "--keys",
      p("teks.json"),
      "--code",
      code,
      "--kiosk-key",
      p("kiosk.key"),
      "--out",
      p("uploads/u1.json")
    ]);
    assert.equal(cr.code, 0, cr.stderr);
    assert.match(cr.stdout, /3 key\(s\) signed by kiosk "care-home-1", 1 left out/);
    fs.copyFileSync(p("uploads/u1.json"), p("replay.json"));

    const publishArgs = [
      "keys",
      "publish",
      "--uploads",
      p("uploads"),
      "--codes",
      p("codes.json"),
      "--kiosks",
      p("kiosks.json"),
      "--sign",
      p("ha.pem"),
      "--key-id",
      "HA",
      "--key-version",
      "1",
      "--region",
      "GB",
      "--out",
      p("pub"),
      "--json"
    ];
    const pub = await runCli(publishArgs);
    assert.equal(pub.code, 0, pub.stderr);
    const result = JSON.parse(pub.stdout) as { exportFile: string; keys: number };
    assert.equal(result.keys, 3);
    const v = await runCli(["keys", "verify", path.join(p("pub"), result.exportFile), "--public-key", p("ha.pub.pem")]);
    assert.equal(v.code, 0, v.stderr);
    const shown = JSON.parse((await runCli(["keys", "show", path.join(p("pub"), result.exportFile), "--json"])).stdout) as {
      keys: Array<{ reportTypeName: string; daysSinceOnsetOfSymptoms: number }>;
    };
    assert.deepEqual(
      shown.keys.map((k) => k.reportTypeName),
      ["confirmed-test", "confirmed-test", "confirmed-test"]
    );
    assert.deepEqual(shown.keys.map((k) => k.daysSinceOnsetOfSymptoms).sort(), [-1, 0, 1]);

    // The very same upload again (as after a run that stopped before moving it): filed, never published twice.
    fs.copyFileSync(p("replay.json"), p("uploads/u1.json"));
    const same = await runCli(publishArgs);
    assert.equal(same.code, 0, same.stderr);
    assert.deepEqual((JSON.parse(same.stdout) as { alreadyPublished: string[] }).alreadyPublished, [p("uploads/u1.json")]);
    assert.deepEqual(fs.readdirSync(p("uploads/published")).sort(), ["u1.2.json", "u1.json"]);
    assert.equal(fs.readFileSync(p("pub/index.txt"), "utf8"), result.exportFile + "\n");

    // Another upload with the used code is a replay and is rejected.
    const other = tokenKeys() as { keys: Array<{ keyData: string }> };
    other.keys.forEach((k) => (k.keyData = k.keyData.replace(/./, "f")));
    fs.writeFileSync(p("teks2.json"), JSON.stringify(other));
    assert.equal(
      (
        await runCli([
          "report",
          "create",
          "--keys",
          p("teks2.json"),
          "--code",
          code,
          "--kiosk-key",
          p("kiosk.key"),
          "--out",
          p("uploads/u2.json")
        ])
      ).code,
      0
    );
    const again = await runCli(publishArgs);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /rejected .*u2\.json: the authorisation code was already used/);
    assert.deepEqual(fs.readdirSync(p("uploads/rejected")).sort(), ["u2.json", "u2.json.reason.txt"]);
    assert.equal(fs.readFileSync(p("pub/index.txt"), "utf8"), result.exportFile + "\n");
  });

  it("report create refuses a malformed code and an unreadable kiosk key with exit 2", async () => {
    const d = tempDir("flow");
    fs.writeFileSync(path.join(d, "teks.json"), JSON.stringify(tokenKeys()));
    const bad = await runCli([
      "report",
      "create",
      "--keys",
      path.join(d, "teks.json"),
      "--code",
      "123",
      "--kiosk-key",
      path.join(d, "none.key"),
      "--out",
      path.join(d, "u.json")
    ]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /not a well-formed authorisation code/);
    const noKey = await runCli([
      "report",
      "create",
      "--keys",
      path.join(d, "teks.json"),
      "--code",
      "ABCD-EFGH-JKMN-PQRS",
      "--kiosk-key",
      path.join(d, "none.key"),
      "--out",
      path.join(d, "u.json")
    ]);
    assert.equal(noKey.code, 2);
    assert.match(noKey.stderr, /cannot read kiosk key/);
  });

  it("has --help on every report command and on keys publish", async () => {
    for (const args of [
      ["report", "keygen"],
      ["report", "issue-code"],
      ["report", "create"],
      ["keys", "publish"]
    ]) {
      const r = await runCli([...args, "--help"]);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /Usage: privatetracer/);
    }
  });
});
