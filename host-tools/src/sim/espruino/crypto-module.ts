/**
 * `require("crypto")` per board: SHA1 always, SHA256 only where the board
 * config says crypto.sha256, the `AES` class only where crypto.aes.
 *
 * The AES quirk that matters: Espruino's CTR mode ignores `iv` — the counter
 * block starts at zero every call. OFB and CFB do use the iv; CBC is the
 * default mode; data for ECB/CBC must be a whole number of 16-byte blocks.
 */
import * as nodeCrypto from "node:crypto";
import type { BoardConfig } from "../../build/boards";
import type { Intrinsics } from "./realm";
import { toBytes, toContextArrayBuffer } from "./values";

export interface CryptoCounters {
  sha256Calls: number;
  aesBlocks: number;
}

type Mode = "ECB" | "CBC" | "CTR" | "OFB" | "CFB";
const MODES: readonly Mode[] = ["ECB", "CBC", "CTR", "OFB", "CFB"];

function dataArg(v: unknown, what: string, R: Intrinsics): Uint8Array {
  const b = toBytes(v);
  if (!b) throw new R.Error(`Expecting ${what} to be a String, ArrayBuffer or Array`);
  return b;
}

/**
 * ECB ciphers by direction and key. ECB keeps no state between blocks, so one
 * node:crypto cipher serves every call with its key (setting one up costs
 * more than encrypting a block, and tokens encrypt with the same daily key
 * all day). Cleared when full: tokens change keys daily.
 */
const ecbCiphers = new Map<string, nodeCrypto.Cipher | nodeCrypto.Decipher>();
const ECB_CIPHERS_KEPT = 1024;

function ecb(encrypt: boolean, data: Uint8Array, key: Uint8Array): Uint8Array {
  const k = (encrypt ? "e" : "d") + Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("hex");
  let c = ecbCiphers.get(k);
  if (!c) {
    const algo = `aes-${key.length * 8}-ecb`;
    c = encrypt ? nodeCrypto.createCipheriv(algo, Buffer.from(key), null) : nodeCrypto.createDecipheriv(algo, Buffer.from(key), null);
    c.setAutoPadding(false);
    if (ecbCiphers.size >= ECB_CIPHERS_KEPT) ecbCiphers.clear();
    ecbCiphers.set(k, c);
  }
  // Whole blocks in, whole blocks out: nothing stays buffered for the next call.
  return new Uint8Array(c.update(data));
}

/** AES over node:crypto with Espruino's argument handling. Exported for tests of the quirk itself. */
export function espruinoAes(encrypt: boolean, data: Uint8Array, key: Uint8Array, opts: { mode?: string; iv?: Uint8Array }): Uint8Array {
  const mode = (opts.mode ?? "CBC").toUpperCase() as Mode;
  if (MODES.indexOf(mode) < 0) throw new Error(`Unknown Crypto mode ${opts.mode}`);
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) throw new Error("Invalid key length");
  const bits = key.length * 8;
  if ((mode === "ECB" || mode === "CBC") && data.length % 16 !== 0) throw new Error("Message length must be a multiple of 16 bytes");
  if (mode === "ECB") return ecb(encrypt, data, key);
  // The quirk: CTR's counter block is all zeros regardless of the iv passed in.
  const iv = mode === "CTR" ? Buffer.alloc(16) : Buffer.from(opts.iv && opts.iv.length === 16 ? opts.iv : new Uint8Array(16));
  const algo = `aes-${bits}-${mode === "CFB" ? "cfb" : mode.toLowerCase()}`;
  const c = encrypt ? nodeCrypto.createCipheriv(algo, Buffer.from(key), iv) : nodeCrypto.createDecipheriv(algo, Buffer.from(key), iv);
  c.setAutoPadding(false);
  return new Uint8Array(Buffer.concat([c.update(Buffer.from(data)), c.final()]));
}

export function createCryptoModule(
  board: BoardConfig,
  R: Intrinsics,
  counters: CryptoCounters,
  guard: () => void
): Record<string, unknown> {
  const m = new R.Object() as Record<string, unknown>;
  const hash = (algo: string) =>
    function (data: unknown): ArrayBuffer {
      guard();
      const b = dataArg(data, "data", R);
      return toContextArrayBuffer(R, new Uint8Array(nodeCrypto.createHash(algo).update(b).digest()));
    };
  m.SHA1 = hash("sha1");
  if (board.crypto.sha256) {
    const sha256 = hash("sha256");
    m.SHA256 = function (data: unknown): ArrayBuffer {
      counters.sha256Calls++;
      return sha256(data);
    };
  }
  if (board.crypto.aes) {
    const aes = new R.Object() as Record<string, unknown>;
    const run = (encrypt: boolean) =>
      function (data: unknown, key: unknown, options?: { mode?: unknown; iv?: unknown }): ArrayBuffer {
        guard();
        const d = dataArg(data, "data", R);
        const k = dataArg(key, "key", R);
        const iv = options && options.iv !== undefined ? dataArg(options.iv, "iv", R) : undefined;
        let out: Uint8Array;
        try {
          out = espruinoAes(encrypt, d, k, { mode: options && typeof options.mode === "string" ? options.mode : undefined, iv });
        } catch (e) {
          throw new R.Error((e as Error).message);
        }
        counters.aesBlocks += Math.ceil(d.length / 16);
        return toContextArrayBuffer(R, out);
      };
    aes.encrypt = run(true);
    aes.decrypt = run(false);
    m.AES = aes;
  }
  return m;
}
