import { strict as assert } from "node:assert";
import * as crypto from "node:crypto";
import { ArchiveOpenError, archiveKey, openSegment, sealSegment } from "../../../host-tools/src/kiosk/archive";

const TOKEN = "00112233445566778899aabbccddeeff";
const OTHER = "ffeeddccbbaa99887766554433221100";

describe("kiosk archive: a token's segments sealed under its own archive secret", () => {
  const secret = crypto.randomBytes(32);
  const segment = crypto.randomBytes(1016);

  it("opens with the token's secret, for the same token and segment", () => {
    const key = archiveKey(secret, TOKEN);
    assert.deepEqual(Buffer.from(openSegment(key, TOKEN, 7, sealSegment(key, TOKEN, 7, segment))), segment);
  });

  it("holds nothing readable: no run of 8 plaintext bytes appears in the sealed form, and each seal differs", () => {
    const key = archiveKey(secret, TOKEN);
    const a = sealSegment(key, TOKEN, 7, segment);
    const b = sealSegment(key, TOKEN, 7, segment);
    assert.notDeepEqual(a, b, "a fresh IV every time");
    for (let i = 0; i + 8 <= segment.length; i += 8) assert.equal(a.indexOf(segment.subarray(i, i + 8)), -1);
  });

  it("does not open with another secret (a token provisioned again), as another segment or as another token's", () => {
    const key = archiveKey(secret, TOKEN);
    const sealed = sealSegment(key, TOKEN, 7, segment);
    const tries: Array<[string, () => unknown]> = [
      ["another secret", () => openSegment(archiveKey(crypto.randomBytes(32), TOKEN), TOKEN, 7, sealed)],
      ["another segment number", () => openSegment(key, TOKEN, 8, sealed)],
      ["another token's row", () => openSegment(archiveKey(secret, OTHER), OTHER, 7, sealed)],
      ["one bit changed", () => openSegment(key, TOKEN, 7, Buffer.from(sealed).fill(sealed[40] ^ 1, 40, 41))],
      ["cut short", () => openSegment(key, TOKEN, 7, sealed.subarray(0, 20))]
    ];
    for (const [what, f] of tries)
      assert.throws(f, (e: unknown) => e instanceof ArchiveOpenError && /of token [0-9a-f]{32} /.test(e.message), what);
  });
});
