import { spawn, spawnSync, ChildProcess } from "node:child_process";
import * as crypto from "node:crypto";
import * as path from "node:path";
import JSZip from "jszip";
import { ECDSA_SHA256_OID, EXPORT_HEADER, encodeSignatureList } from "../../../host-tools/src/keys/export-codec";
import { ExportMessage } from "../../../host-tools/src/keys/proto";
import { repoRoot } from "../../../host-tools/src/paths";

/** Shared by the hardening specs of issue 15, item 6. */

const BIN = path.join(repoRoot, "bin", "privatetracer.js");

export interface ChildRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Killed at the time limit: the command hung (or ran far too long). */
  timedOut: boolean;
}

/**
 * `privatetracer ARGS` in a child process with a time limit: for inputs that
 * used to hang or fill memory, so a regression fails this spec instead of
 * stopping the whole run.
 */
export function cliChild(args: string[], timeoutMs = 30_000): ChildRun {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "", timedOut: r.error !== undefined || r.signal !== null };
}

/** What one command of cliBatch did; null when it had not finished at the time limit (it hung). */
export type BatchResult = { code: number; stdout: string; stderr: string } | null;

/**
 * Several `privatetracer` commands in one child process (hardening-cli-batch.ts),
 * killed at `timeoutMs`: one start-up for all of them, and a command that
 * hangs shows as null instead of stopping the test run.
 */
export function cliBatch(cases: string[][], timeoutMs: number): BatchResult[] {
  const script = path.join(__dirname, "hardening-cli-batch.ts");
  const r = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", script, JSON.stringify(cases)], {
    cwd: repoRoot,
    encoding: "utf8",
    timeout: timeoutMs,
    maxBuffer: 256 * 1024 * 1024
  });
  const out: BatchResult[] = cases.map(() => null);
  for (const line of (r.stdout ?? "").split("\n")) {
    if (!line.startsWith("{")) continue;
    const x = JSON.parse(line) as { index: number; code: number; stdout: string; stderr: string };
    out[x.index] = { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
  return out;
}

/** `sh -c SCRIPT` in the background (a writer feeding a FIFO); the caller kills it. */
export function background(script: string): ChildProcess {
  return spawn("sh", ["-c", script], { stdio: "ignore", detached: false });
}

/** A wire key as protobufjs takes it: any values, including ones our encoder refuses to write. */
export interface RawKey {
  key_data?: Uint8Array;
  rolling_start_interval_number?: number;
  rolling_period?: number;
  report_type?: number;
}

export interface RawExport {
  start_timestamp?: number;
  end_timestamp?: number;
  keys: RawKey[];
}

/**
 * A zip of export.bin written straight from wire values (bypassing every check
 * of encodeExportBin, as a hostile or buggy publisher could) and, with `sign`,
 * an export.sig whose signature covers that export.bin whole.
 */
export async function rawExportZip(e: RawExport, sign?: crypto.KeyObject): Promise<Buffer> {
  const info = { verification_key_id: "T", verification_key_version: "1", signature_algorithm: ECDSA_SHA256_OID };
  const body = ExportMessage.encode(
    ExportMessage.fromObject({
      start_timestamp: e.start_timestamp ?? 1_700_000_000,
      end_timestamp: e.end_timestamp ?? 1_700_003_600,
      region: "XX",
      batch_num: 1,
      batch_size: 1,
      signature_infos: [info],
      keys: e.keys
    })
  ).finish();
  const bin = Buffer.concat([EXPORT_HEADER, body]);
  const sigs = sign
    ? [
        {
          signatureInfo: { verificationKeyId: "T", verificationKeyVersion: "1", signatureAlgorithm: ECDSA_SHA256_OID },
          batchNum: 1,
          batchSize: 1,
          signature: crypto.sign("sha256", bin, { key: sign, dsaEncoding: "der" })
        }
      ]
    : [];
  const zip = new JSZip();
  zip.file("export.bin", bin);
  zip.file("export.sig", encodeSignatureList(sigs));
  return zip.generateAsync({ type: "nodebuffer", compression: "DEFLATE" });
}
