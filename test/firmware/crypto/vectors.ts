/** Google's first GAEN test vector, as in gaen.md. */
export const GAEN_VECTOR = {
  tek: "75c734c6dd1a782de7a965da5eb93125",
  time: 1585785600,
  enin: 2642976,
  padded: "454e2d52504900000000000020542800",
  rpik: "185ad91db69ec7dd048960f1f3ba6175",
  aemk: "d57c46af7a1d83965b9bed8bd152936a",
  metadata: "40080000",
  rpi: "8be6cd371c5c891604bfbe49df845096",
  aem: "72033874"
};

export const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "hex"));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** Set the BOARD constants' crypto flags as a board build would inline them. */
export function useCryptoPath(sha256: boolean, aes: boolean): void {
  const board = (globalThis as unknown as { BOARD: BoardConstants }).BOARD;
  board.crypto = { sha256, aes };
}

/** Every combination of native and pure-JS SHA-256 and AES. */
export const CRYPTO_PATHS: Array<{ name: string; sha256: boolean; aes: boolean }> = [
  { name: "native SHA-256, native AES (Puck.js)", sha256: true, aes: true },
  { name: "native SHA-256, pure-JS AES (MDBT42Q, Bangle.js 2)", sha256: true, aes: false },
  { name: "pure-JS SHA-256, pure-JS AES (Pixl.js)", sha256: false, aes: false },
  { name: "pure-JS SHA-256, native AES", sha256: false, aes: true }
];
