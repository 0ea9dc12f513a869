import * as crypto from "node:crypto";
import { KeyInputError } from "./errors";
import { readTextBounded } from "../read-bounded";

/** A PEM key is well under 1 KiB; a certificate chain a few KiB. */
export const MAX_PEM_BYTES = 64 * 1024;

/**
 * ECDSA P-256 / SHA-256 signatures over a whole export.bin (header included),
 * DER-encoded as GAEN exports carry them.
 */

function checkP256(key: crypto.KeyObject, what: string): void {
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1")
    throw new KeyInputError(
      `${what} is not an ECDSA P-256 key (got ${key.asymmetricKeyType ?? "?"} ${key.asymmetricKeyDetails?.namedCurve ?? ""}); GAEN exports are signed with P-256`
    );
}

/** The text of a PEM file, bounded (MAX_PEM_BYTES); a KeyInputError naming it if it cannot be read. */
export function readPem(file: string, what: string): string {
  try {
    return readTextBounded(file, MAX_PEM_BYTES, { what: `a ${what}` });
  } catch (e) {
    throw new KeyInputError(`cannot read ${what} ${file}: ${(e as Error).message}`);
  }
}

export function parsePrivateKey(pem: string, what = "signing key"): crypto.KeyObject {
  let key: crypto.KeyObject;
  try {
    key = crypto.createPrivateKey(pem);
  } catch (e) {
    throw new KeyInputError(`${what} is not a PEM private key (${(e as Error).message})`);
  }
  checkP256(key, what);
  return key;
}

/** A public key PEM, or a private key PEM (its public half is used). */
export function parsePublicKey(pem: string, what = "public key"): crypto.KeyObject {
  let key: crypto.KeyObject;
  try {
    key = crypto.createPublicKey(pem);
  } catch (e) {
    throw new KeyInputError(`${what} is not a PEM public key (${(e as Error).message})`);
  }
  checkP256(key, what);
  return key;
}

export function loadPrivateKey(file: string): crypto.KeyObject {
  return parsePrivateKey(readPem(file, "signing key"), `signing key ${file}`);
}

export function loadPublicKey(file: string): crypto.KeyObject {
  return parsePublicKey(readPem(file, "public key"), `public key ${file}`);
}

export function signExportBin(bin: Uint8Array, key: crypto.KeyObject): Buffer {
  return crypto.sign("sha256", bin, { key, dsaEncoding: "der" });
}

/** False for a wrong or garbled signature; never throws on signature bytes. */
export function verifyExportBin(bin: Uint8Array, signature: Uint8Array, key: crypto.KeyObject): boolean {
  try {
    return crypto.verify("sha256", bin, { key, dsaEncoding: "der" }, signature);
  } catch {
    return false;
  }
}

export interface PemKeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
}

export function generateSigningKeyPair(): PemKeyPair {
  const { privateKey, publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  return {
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString()
  };
}
