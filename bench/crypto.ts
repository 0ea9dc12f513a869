/**
 * Relative cost of the token's pure-JS crypto, run under Node (V8 JIT): a
 * guide to which operations are cheap, not a prediction of on-device time
 * (Espruino interprets, roughly 10-100x slower). Last line: one JSON object.
 *
 *   npx ts-node bench/crypto.ts
 */
import { aes128Pure } from "../firmware/src/crypto/aes128-pure";
import { sha256Pure } from "../firmware/src/crypto/sha256-pure";
import { CryptoPlatform } from "../firmware/src/crypto/types";
import { tekIdentifiers } from "../firmware/src/gaen/ids";
import { runSelfTest } from "../firmware/src/selftest";
import { Platform } from "../firmware/src/platform-api";
import { boardConstants, loadBoard } from "../host-tools/src/build/boards";

// Pixl.js has neither native SHA-256 nor AES: everything below is pure JS.
(globalThis as unknown as { BOARD: BoardConstants }).BOARD = boardConstants(loadBoard("pixljs"), 0);
const noNative: CryptoPlatform = {
  sha256: () => {
    throw new Error("native SHA-256 used");
  },
  aes128Ecb: () => {
    throw new Error("native AES used");
  }
};

/** Median over 7 rounds of the mean ms per call. */
function msPerCall(fn: () => unknown, calls: number): number {
  for (let i = 0; i < calls; i++) fn(); // warm up the JIT
  const rounds: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) fn();
    rounds.push(Number(process.hrtime.bigint() - t0) / 1e6 / calls);
  }
  rounds.sort((a, b) => a - b);
  return Number(rounds[3].toPrecision(3));
}

const key = Uint8Array.from({ length: 16 }, (_, i) => i);
const block = Uint8Array.from({ length: 16 }, (_, i) => 17 * i);
const msg64 = Uint8Array.from({ length: 64 }, (_, i) => i);

const result = {
  bench: "crypto",
  runtime: `node ${process.version}`,
  pureAesBlockMs: msPerCall(() => aes128Pure(block, key), 20000),
  pureSha256Of64BytesMs: msPerCall(() => sha256Pure(msg64), 20000),
  pureHkdfPairMs: msPerCall(() => tekIdentifiers(noNative, key), 2000),
  pureSelfTestMs: msPerCall(() => runSelfTest(noNative as Platform), 1000)
};
process.stdout.write(JSON.stringify(result) + "\n");
