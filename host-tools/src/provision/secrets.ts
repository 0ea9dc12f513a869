import * as crypto from "node:crypto";
import { SECRET_KEY_BYTES, TOKEN_ID_BYTES, TokenSecrets } from "../../../firmware/src/wire/secrets";

/** A source of random bytes; node:crypto's CSPRNG unless a spec substitutes one. */
export type RandomBytes = (n: number) => Uint8Array;

const csprng: RandomBytes = (n) => new Uint8Array(crypto.randomBytes(n));

/** A care home's home key: made once, when its enrolment store is created. */
export function newHomeKey(random: RandomBytes = csprng): Uint8Array {
  return random(SECRET_KEY_BYTES);
}

/**
 * A new token's secrets: a fresh token id, sync secret and archive secret from
 * the CSPRNG, and the home's key. Each is drawn separately so no secret can be
 * derived from another (an archive secret leaked by a kiosk says nothing of the
 * sync secret).
 */
export function newTokenSecrets(homeKey: Uint8Array, random: RandomBytes = csprng): TokenSecrets {
  if (homeKey.length !== SECRET_KEY_BYTES) throw new Error(`a home key is ${SECRET_KEY_BYTES} bytes`);
  return {
    tokenId: random(TOKEN_ID_BYTES),
    syncSecret: random(SECRET_KEY_BYTES),
    archiveSecret: random(SECRET_KEY_BYTES),
    homeKey: new Uint8Array(homeKey)
  };
}

/** The token id as people and the kiosk see it: lower-case hex. */
export function tokenIdHex(s: TokenSecrets): string {
  return Buffer.from(s.tokenId).toString("hex");
}
