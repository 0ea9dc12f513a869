import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PrivateTracerError } from "../../../host-tools/src/errors";
import { StoreLockedError, StoreUnreadableError } from "../../../host-tools/src/provision/errors";
import { PassphraseUnavailableError } from "../../../host-tools/src/provision/errors";
import { getPassphrase } from "../../../host-tools/src/provision/passphrase";
import { newHomeKey, newTokenSecrets, tokenIdHex } from "../../../host-tools/src/provision/secrets";
import {
  Enrolment,
  PASSPHRASE_ENV,
  addEnrolment,
  openStore,
  sealStore,
  storePlaintext,
  unsealStore,
  writeStore
} from "../../../host-tools/src/provision/store";

const PASS = "correct horse battery staple";
const NOW = new Date("2026-03-01T09:00:00Z");
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

function enrolment(home: Uint8Array, label: string): { e: Enrolment; raw: Uint8Array[] } {
  const s = newTokenSecrets(home);
  return {
    e: {
      tokenId: tokenIdHex(s),
      label,
      board: "puckjs",
      created: NOW.toISOString(),
      syncSecret: hex(s.syncSecret)
    },
    raw: [s.tokenId, s.syncSecret, s.archiveSecret]
  };
}

/** Whether `file` holds `secret` in any encoding a careless writer might use. */
function leaks(file: Buffer, secret: Uint8Array): boolean {
  const b = Buffer.from(secret);
  return (
    file.includes(b) ||
    file.includes(b.toString("hex")) ||
    file.includes(b.toString("base64")) ||
    file.includes(b.toString("hex").toUpperCase())
  );
}

describe("the enrolment store", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pt-store-"));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("round-trips, owner-readable only, with no secret byte on disk", () => {
    const file = path.join(dir, "a.ptstore");
    const home = newHomeKey();
    const one = enrolment(home, "Room 12");
    const two = enrolment(home, "Room 14");
    addEnrolment(file, PASS, home, one.e, NOW);
    addEnrolment(file, PASS, home, two.e, NOW);
    const store = openStore(file, PASS);
    assert.ok(store);
    assert.equal(store.homeKey, hex(home));
    assert.deepEqual(store.enrolments, [one.e, two.e]);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const disk = fs.readFileSync(file);
    for (const s of [home, ...one.raw, ...two.raw]) assert.ok(!leaks(disk, s), "a secret in the file");
    assert.ok(!disk.includes("Room 12"), "labels are encrypted too");
    assert.deepEqual(fs.readdirSync(dir), ["a.ptstore"], "no temporary file left");
  });

  it("a store that still holds archive secrets (from before they stayed on the token) opens, and the next write leaves them out", () => {
    const file = path.join(dir, "old.ptstore");
    const home = newHomeKey();
    const one = enrolment(home, "Room 12");
    const archive = "5c".repeat(32);
    const old = { homeKey: hex(home), created: NOW.toISOString(), enrolments: [{ ...one.e, archiveSecret: archive }] };
    writeStore(file, old as unknown as Parameters<typeof writeStore>[1], PASS);
    assert.ok(storePlaintext(fs.readFileSync(file), PASS).includes(archive), "the old store holds it");
    const store = openStore(file, PASS);
    assert.deepEqual(store?.enrolments, [one.e], "read without it");
    addEnrolment(file, PASS, home, enrolment(home, "Room 14").e, NOW);
    assert.ok(!storePlaintext(fs.readFileSync(file), PASS).includes(archive), "gone from the store once written again");
  });

  it("gives a typed error for a wrong passphrase and leaves the file as it was", () => {
    const file = path.join(dir, "b.ptstore");
    const home = newHomeKey();
    addEnrolment(file, PASS, home, enrolment(home, "x").e, NOW);
    const before = fs.readFileSync(file);
    assert.throws(
      () => openStore(file, "correct horse battery stapler"),
      (e: unknown) => e instanceof StoreLockedError && e.code === "STORE_LOCKED" && /passphrase/.test(e.message)
    );
    assert.throws(() => addEnrolment(file, "wrong passphrase!", home, enrolment(home, "y").e, NOW), StoreLockedError);
    assert.deepEqual(fs.readFileSync(file), before);
    assert.equal(openStore(file, PASS)?.enrolments.length, 1);
  });

  it("authenticates the whole file: any changed field fails to open", () => {
    const home = newHomeKey();
    const sealed = JSON.parse(
      sealStore({ homeKey: hex(home), created: NOW.toISOString(), enrolments: [enrolment(home, "z").e] }, PASS).toString("utf8")
    );
    const flip = (b64: string): string => {
      const b = Buffer.from(b64, "base64");
      b[0] ^= 1;
      return b.toString("base64");
    };
    const variants: Array<(v: typeof sealed) => void> = [
      (v) => (v.ciphertext = flip(v.ciphertext)),
      (v) => (v.cipher.tag = flip(v.cipher.tag)),
      (v) => (v.cipher.iv = flip(v.cipher.iv)),
      (v) => (v.kdf.salt = flip(v.kdf.salt)),
      (v) => (v.kdf.N = v.kdf.N * 2),
      (v) => (v.kdf.p = 2)
    ];
    for (const change of variants) {
      const v = structuredClone(sealed);
      change(v);
      assert.throws(() => unsealStore(Buffer.from(JSON.stringify(v)), PASS), StoreLockedError);
    }
    assert.ok(unsealStore(Buffer.from(JSON.stringify(sealed)), PASS));
  });

  it("refuses what is not a store, and absurd scrypt costs, as unreadable", () => {
    const good = JSON.parse(sealStore({ homeKey: hex(newHomeKey()), created: NOW.toISOString(), enrolments: [] }, PASS).toString("utf8"));
    const cases: unknown[] = [
      "not json",
      { format: "something else" },
      { ...good, version: 2 },
      { ...good, kdf: { ...good.kdf, N: 1 << 30 } },
      { ...good, kdf: { ...good.kdf, N: 1000 } }
    ];
    for (const c of cases) {
      const text = typeof c === "string" ? c : JSON.stringify(c);
      assert.throws(
        () => unsealStore(Buffer.from(text), PASS),
        (e: unknown) => e instanceof StoreUnreadableError && e.kind === "unusable"
      );
    }
  });

  it("draws a new salt and IV on every write", () => {
    const store = { homeKey: hex(newHomeKey()), created: NOW.toISOString(), enrolments: [] };
    const a = JSON.parse(sealStore(store, PASS).toString("utf8"));
    const b = JSON.parse(sealStore(store, PASS).toString("utf8"));
    assert.notEqual(a.kdf.salt, b.kdf.salt);
    assert.notEqual(a.cipher.iv, b.cipher.iv);
  });

  it("writes atomically: an existing store is replaced whole", () => {
    const file = path.join(dir, "c.ptstore");
    const home = newHomeKey();
    writeStore(file, { homeKey: hex(home), created: NOW.toISOString(), enrolments: [] }, PASS);
    writeStore(file, { homeKey: hex(home), created: NOW.toISOString(), enrolments: [enrolment(home, "a").e] }, PASS);
    assert.equal(openStore(file, PASS)?.enrolments.length, 1);
    assert.equal(openStore(path.join(dir, "missing.ptstore"), PASS), undefined);
  });
});

describe("the store's passphrase", () => {
  it("comes from the environment, or is asked (twice for a new store), or is refused", async () => {
    assert.equal(await getPassphrase({ env: { [PASSPHRASE_ENV]: PASS } }, true), PASS);
    await assert.rejects(
      getPassphrase({ env: {} }, false),
      (e: unknown) => e instanceof PassphraseUnavailableError && e.message.includes(PASSPHRASE_ENV)
    );
    const answers = [PASS, PASS];
    assert.equal(await getPassphrase({ env: {}, ask: async () => answers.shift() ?? "" }, true), PASS);
    const differing = [PASS, PASS + "!"];
    await assert.rejects(getPassphrase({ env: {}, ask: async () => differing.shift() ?? "" }, true), PassphraseUnavailableError);
    await assert.rejects(
      getPassphrase({ env: { [PASSPHRASE_ENV]: "short" } }, true),
      (e: unknown) => e instanceof PrivateTracerError && /at least 12/.test(e.message)
    );
    assert.equal(
      await getPassphrase({ env: { [PASSPHRASE_ENV]: "short" } }, false),
      "short",
      "an existing store's own passphrase is never second-guessed"
    );
  });
});
