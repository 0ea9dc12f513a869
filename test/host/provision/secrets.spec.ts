import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import {
  SECRETS_BYTES,
  SECRETS_FILE,
  SECRET_KEY_BYTES,
  TOKEN_ID_BYTES,
  encodeSecrets,
  readSecrets
} from "../../../firmware/src/wire/secrets";
import { crc32 } from "../../../firmware/src/wire/crc32";
import { SECRET_BYTES } from "../../../firmware/src/wire/sync-handshake";
import { newHomeKey, newTokenSecrets } from "../../../host-tools/src/provision/secrets";

interface SecretsFixture {
  name: string;
  tokenId: string;
  syncSecret: string;
  archiveSecret: string;
  homeKey: string;
  crc32: string;
  hex: string;
}
const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "fixtures", "wire", "secrets.json"), "utf8")) as SecretsFixture;
const bytes = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, "hex"));
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

describe("the token's secrets file (wire/secrets.ts)", () => {
  it("encodes the golden bytes and reads them back", () => {
    assert.equal(SECRETS_FILE, fixture.name);
    const file = encodeSecrets({
      tokenId: bytes(fixture.tokenId),
      syncSecret: bytes(fixture.syncSecret),
      archiveSecret: bytes(fixture.archiveSecret),
      homeKey: bytes(fixture.homeKey)
    });
    assert.equal(hex(file), fixture.hex);
    assert.equal(file.length, SECRETS_BYTES);
    const s = readSecrets(bytes(fixture.hex));
    assert.ok(s);
    assert.equal(hex(s.tokenId), fixture.tokenId);
    assert.equal(hex(s.syncSecret), fixture.syncSecret);
    assert.equal(hex(s.archiveSecret), fixture.archiveSecret);
    assert.equal(hex(s.homeKey), fixture.homeKey);
  });

  it("checks with the same CRC-32 as zlib", () => {
    const b = bytes(fixture.hex);
    assert.equal((crc32(b, 0, SECRETS_BYTES - 4) >>> 0).toString(16).padStart(8, "0"), fixture.crc32);
    assert.equal(
      zlib
        .crc32(Buffer.from(b.subarray(0, SECRETS_BYTES - 4)))
        .toString(16)
        .padStart(8, "0"),
      fixture.crc32
    );
    assert.equal(hex(b.subarray(SECRETS_BYTES - 4)), Buffer.from(fixture.crc32, "hex").reverse().toString("hex"), "stored little-endian");
  });

  it("reads nothing from a missing, short, long, other-version or corrupted file", () => {
    const good = bytes(fixture.hex);
    assert.equal(readSecrets(undefined), null);
    assert.equal(readSecrets(good.subarray(0, SECRETS_BYTES - 1)), null);
    const long = new Uint8Array(SECRETS_BYTES + 1);
    long.set(good);
    assert.equal(readSecrets(long), null);
    for (let i = 0; i < SECRETS_BYTES; i++) {
      const b = new Uint8Array(good);
      b[i] ^= 1;
      assert.equal(readSecrets(b), null, `a flipped bit in byte ${i}`);
    }
    assert.equal(readSecrets(new Uint8Array(SECRETS_BYTES).fill(0xff)), null, "erased flash");
  });

  it("keys are the sync handshake's secret size", () => {
    assert.equal(SECRET_KEY_BYTES, SECRET_BYTES);
  });
});

describe("provisioning secrets", () => {
  it("are random and distinct for every token and every field, sharing only the home key", () => {
    const home = newHomeKey();
    assert.equal(home.length, SECRET_KEY_BYTES);
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const s = newTokenSecrets(home);
      assert.equal(s.tokenId.length, TOKEN_ID_BYTES);
      assert.equal(hex(s.homeKey), hex(home));
      for (const v of [s.tokenId, s.syncSecret, s.archiveSecret]) {
        assert.ok(!seen.has(hex(v)), "a repeated secret");
        seen.add(hex(v));
      }
    }
    assert.notEqual(hex(newHomeKey()), hex(home), "each store gets its own home key");
  });

  it("copy the home key, so wiping a token's copy leaves the store's intact", () => {
    const home = newHomeKey();
    const s = newTokenSecrets(home);
    s.homeKey.fill(0);
    assert.notEqual(hex(home), hex(s.homeKey));
  });
});
