import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { PrivateTracerError } from "../errors";
import { RpiIndex, buildRpiIndex, openRpiIndex } from "../match/rpi-index";
import type { SyncLink, Transport } from "../ble/transport";
import { invalidKeysWarning, keySourceFreshness, loadKeySourceDetailed } from "../keys/sources";
import type { ExposureKey } from "../keys/types";
import type { SyncTimer } from "../sync/wire";
import type { KioskDir } from "./kiosk-dir";
import { KioskPassEvent, KioskPassReport, kioskPass } from "./kiosk-pass";
import { beaconAdvert } from "./beacon";

/**
 * The kiosk as a service (`kiosk serve`): radio passes one after another
 * (kiosk-pass.ts) for as long as it runs, and the published keys fetched
 * again on a schedule. A key source that cannot be read (offline, a bad
 * signature) keeps the last keys that verified in use and says so at every
 * pass; with none ever read, logs are archived and no level is written.
 * Nothing here keeps state of its own beyond those keys: everything a sync
 * learns is in the store when the pass returns.
 */

export interface KeySourceSetting {
  spec: string;
  publicKeyPem?: string;
  cacheDir?: string;
}

export interface KioskServiceOptions {
  kiosk: KioskDir;
  transport: Transport;
  keys?: KeySourceSetting;
  /** How often the key source is read again (default an hour). */
  keyRefreshSeconds?: number;
  /** Warn when the newest export is older than this (default 3 days, as `match`). */
  keyMaxAgeSeconds?: number;
  /** Listening time of a pass, and the pause after one that synced nobody. */
  scanMs: number;
  pauseMs: number;
  connectTimeoutMs: number;
  /** Stop after this many passes (default: until `signal` aborts). */
  passes?: number;
  signal?: AbortSignal;
  now?: () => number;
  /** The pause between passes (a simulated kiosk advances its clock instead). */
  sleep?: (ms: number) => Promise<void>;
  timerOf?: (link: SyncLink) => SyncTimer | undefined;
  onEvent?: (e: ServiceEvent) => void;
  /** Also emit each step of a pass as a "sync" event (a live screen wants them; a log of lines does not). */
  passSteps?: boolean;
  /**
   * Work that needs the radio (a diagnosis at the kiosk), run between two
   * passes with the keys in use: the kiosk has one radio, so nothing else
   * may use the transport while a pass runs.
   */
  between?: (ctx: RadioJobContext) => Promise<void>;
}

export interface RadioJobContext {
  keys: readonly ExposureKey[];
  index?: RpiIndex;
}

export type ServiceEvent =
  /** Keys read; `newest`: the last export read (verified, when a public key is set) and the end of the newest export's period. */
  | {
      kind: "keys";
      keys: number;
      source: string;
      warning: string | null;
      newest: { file: string | null; end: number | null };
    }
  | { kind: "keys-unreadable"; source: string; message: string; using: number; since: number | null }
  /** The published-RPI index of the key set just read: built (or found), or why not (message). */
  | { kind: "index"; keys: number; seconds: number; message: string | null }
  | { kind: "pass"; report: KioskPassReport }
  /** A step of the pass under way (scanning, a token found, connecting, its sync's progress, its outcome): what a live screen shows. */
  | { kind: "sync"; event: KioskPassEvent }
  /** The beacon is on the air (on), or why not. */
  | { kind: "beacon"; on: boolean; message: string | null }
  | { kind: "stopped"; passes: number };

/** Names an index file by the key set it holds: the same keys, the same file. */
function keySetDigest(keys: readonly ExposureKey[]): string {
  const h = crypto.createHash("sha256");
  for (const k of keys)
    h.update(k.keyData).update(
      JSON.stringify([
        k.rollingStartIntervalNumber,
        k.rollingPeriod,
        k.reportType ?? null,
        k.transmissionRiskLevel ?? null,
        k.daysSinceOnsetOfSymptoms ?? null
      ])
    );
  return h.digest("hex").slice(0, 32);
}

/** Longer than a sync window stays open after its session (2 minutes): the same token is not synced twice in a row. */
const RESYNC_AFTER_S = 300;

const realSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    });
  });

export async function runKioskService(o: KioskServiceOptions): Promise<number> {
  const now = o.now ?? (() => Math.floor(Date.now() / 1000));
  const emit = o.onEvent ?? (() => undefined);
  const sleep = o.sleep ?? ((ms: number) => realSleep(ms, o.signal));
  const refresh = o.keyRefreshSeconds ?? 3600;
  let keys: readonly ExposureKey[] = [];
  let keysAt: number | null = null;
  let nextRead = now();
  let index: RpiIndex | undefined;
  const indexDir = path.join(o.kiosk.dir, "index");

  // The published RPIs of this key set, derived once (a sync is then lookups,
  // match/rpi-index.ts): kept as long as the key set is the same, rebuilt when
  // it changes. Without it the round derives, which is slower, never wrong.
  const indexKeys = async (): Promise<void> => {
    const file = path.join(indexDir, `${keySetDigest(keys)}.rpi`);
    if (index && index.file === file) return;
    index?.close();
    index = undefined;
    if (!keys.length) return;
    const t0 = Date.now();
    try {
      fs.mkdirSync(indexDir, { recursive: true, mode: 0o700 });
      if (!fs.existsSync(file)) await buildRpiIndex(keys, file, { tempDir: indexDir });
      index = openRpiIndex(file);
      for (const f of fs.readdirSync(indexDir))
        if (f.endsWith(".rpi") && path.join(indexDir, f) !== file) fs.rmSync(path.join(indexDir, f), { force: true });
      emit({ kind: "index", keys: keys.length, seconds: (Date.now() - t0) / 1000, message: null });
    } catch (e) {
      if (!(e instanceof PrivateTracerError)) throw e;
      emit({
        kind: "index",
        keys: keys.length,
        seconds: (Date.now() - t0) / 1000,
        message: `${e.message}; matching derives the keys instead (slower)`
      });
    }
  };

  const readKeys = async (): Promise<void> => {
    if (!o.keys) return;
    const src = o.keys;
    nextRead = now() + refresh;
    try {
      const loaded = await loadKeySourceDetailed(src.spec, { publicKeyPem: src.publicKeyPem, cacheDir: src.cacheDir });
      keys = loaded.keys;
      keysAt = now();
      const fresh = keySourceFreshness(loaded, src.spec, now(), o.keyMaxAgeSeconds ?? 3 * 86400);
      emit({
        kind: "keys",
        keys: keys.length,
        source: src.spec,
        warning: [invalidKeysWarning(loaded), fresh.warning].filter(Boolean).join("; ") || null,
        newest: { file: loaded.files.length ? loaded.files[loaded.files.length - 1] : null, end: loaded.newestExportEnd }
      });
      await indexKeys();
    } catch (e) {
      if (!(e instanceof PrivateTracerError)) throw e;
      emit({ kind: "keys-unreadable", source: src.spec, message: e.message, using: keys.length, since: keysAt });
    }
  };

  // The beacon: this home's tokens open their sync windows for it, unattended.
  const homeKey = o.kiosk.store.homeKey();
  if (!homeKey)
    emit({ kind: "beacon", on: false, message: "no care home's key yet (kiosk import): tokens open their sync window by a press" });
  else if (!o.transport.beacon)
    emit({ kind: "beacon", on: false, message: "this radio cannot send the beacon yet: tokens open their sync window by a press" });
  else {
    try {
      await o.transport.beacon((t) => beaconAdvert(homeKey, t));
      emit({ kind: "beacon", on: true, message: null });
    } catch (e) {
      // A radio that will not advertise still syncs: the kiosk runs on, the beacon off and the reason shown.
      if (!(e instanceof PrivateTracerError)) throw e;
      emit({ kind: "beacon", on: false, message: `${e.message.replace(/\.$/, "")}; tokens open their sync window by a press meanwhile` });
    }
  }

  // Addresses synced lately: the token keeps its window (and address) open up to 2 minutes after a session.
  const synced = new Map<string, number>();
  let passes = 0;
  while (!o.signal?.aborted && (o.passes === undefined || passes < o.passes)) {
    if (now() >= nextRead) await readKeys();
    if (o.between) await o.between({ keys, index });
    if (o.signal?.aborted) break;
    const report = await kioskPass({
      transport: o.transport,
      store: o.kiosk.store,
      keys,
      index,
      workDir: o.kiosk.workDir,
      riskConfig: o.kiosk.riskConfig,
      boardDir: o.kiosk.boardDir,
      scanMs: o.scanMs,
      connectTimeoutMs: o.connectTimeoutMs,
      now,
      timerOf: o.timerOf,
      onEvent: o.passSteps ? (event) => emit({ kind: "sync", event }) : undefined,
      skip: (address) => (synced.get(address) ?? -Infinity) > now() - RESYNC_AFTER_S
    });
    for (const r of report.rounds) if (r.result.outcome === "ok") synced.set(r.address, now());
    for (const [a, t] of synced) if (t <= now() - RESYNC_AFTER_S) synced.delete(a);
    passes++;
    emit({ kind: "pass", report });
    // A pass that synced someone goes straight on: others may be waiting in their window.
    if (!report.rounds.length && !o.signal?.aborted) await sleep(o.pauseMs);
  }
  index?.close();
  if (homeKey && o.transport.beacon) await o.transport.beacon(null);
  emit({ kind: "stopped", passes });
  return passes;
}
