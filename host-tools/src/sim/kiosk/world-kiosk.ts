/**
 * The care home's kiosk in the simulated world: the kiosk service
 * (kiosk/service.ts, the code `kiosk serve` runs) on the world's radio
 * (kiosk-radio.ts) and the world's clock, with a health authority beside it.
 * Nothing of the kiosk's logic is copied here; this file only plays the
 * people around it:
 *
 * - provisioning: every token gets its secrets (pt.sec) before it first
 *   boots, and the kiosk enrols them all (one care home, one home key);
 * - staff: once a day they bring the tokens the kiosk has not synced for a
 *   day to it and press their buttons (the "staff round"); for a diagnosis
 *   they enter the health authority's code and the wearer presses when
 *   asked;
 * - the health authority: issues the code (with the symptom onset), and an
 *   hour after the upload publishes the keys (keys/publish.ts) into the
 *   signed export directory the kiosk reads as its key source.
 *
 * Everything runs in `dir`, which the caller provides and removes.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { generateSigningKeyPair, parsePrivateKey } from "../../keys/signing";
import { generateKioskKey } from "../../keys/kiosk-identity";
import { issueCode, readCodeStore, writeCodeStore } from "../../keys/auth-codes";
import { publishUploads } from "../../keys/publish";
import { ReportType } from "../../keys/types";
import { PrivateTracerError } from "../../errors";
import type { DiagnoseOutcome } from "../../kiosk/diagnose";
import { BOARDS_DIR, initKioskDir, KioskDir, RISK_CONFIG_FILE } from "../../kiosk/kiosk-dir";
import { BoardConfig } from "../../build/boards";
import type { RiskConfig } from "../../match/risk-config";
import { RadioJobContext, ServiceEvent, runKioskService } from "../../kiosk/service";
import type { KioskEvent } from "../../kiosk/events";
import { DiagnoseRunner, RadioJobQueue, diagnoseRunner } from "../../kiosk/radio-jobs";
import type { SyncRoundResult } from "../../kiosk/sync-round";
import { SECRETS_FILE, encodeSecrets } from "../../../../firmware/src/wire/secrets";
import { Rng, hashString, mix } from "../prng";
import { parseClock } from "../world/scenario-load";
import type { Scenario, ScenarioDiagnosis } from "../world/scenario";
import type { LiveWorld, WorldDriver } from "../world/runner";
import { KIOSK_BEACON_ADDRESS, RadioSession, WorldKioskRadio } from "./kiosk-radio";

/** A pass listens this long, then the radio rests (a window stays open 2 minutes, so none is missed). */
const SCAN_MS = 10_000;
const PAUSE_MS = 20_000;
const CONNECT_TIMEOUT_MS = 10_000;
/** The key source is read again every hour. */
const KEY_REFRESH_S = 3600;
/** A long press, as staff give it: the window opens when the button is released. */
const OPEN_PRESS_MS = 2500;
/** How long staff hold a token at the kiosk. */
const HOLD_S = 180;
/** A token the kiosk has not synced for this long is brought by the staff round. */
const NOT_SEEN_S = 86400;
/** The health authority publishes the uploads of the hour. */
const PUBLISH_AFTER_S = 3600;
const CODE_VALID_S = 3 * 86400;

export interface TokenSecretsOf {
  tokenId: Uint8Array;
  syncSecret: Uint8Array;
  archiveSecret: Uint8Array;
}

/** One sync round as the kiosk recorded it, with when it ended (world time). */
export interface KioskRound {
  at: number;
  person: string | null;
  result: Pick<SyncRoundResult, "outcome" | "tokenId" | "level" | "lowerBound" | "written" | "detail">;
}

export interface DiagnosisRun {
  person: string;
  /** World time staff entered the code. */
  at: number;
  onset: number;
  /** "failed": the kiosk refused (e.g. no key old enough to upload); `detail` says why. */
  status: DiagnoseOutcome["status"] | "failed";
  detail: string;
  keysUploaded: number;
  /** The upload's file name, once written. */
  upload: string | null;
  /** When the health authority published the keys (null: not published). */
  publishedAt: number | null;
}

export interface WorldKioskLog {
  rounds: KioskRound[];
  sessions: RadioSession[];
  diagnoses: DiagnosisRun[];
  /** Tokens staff brought to the kiosk, with when. */
  staffRound: Array<{ person: string; at: number }>;
  /** Service events worth a line (keys read, beacon, warnings), in order. */
  notes: string[];
  /** Every token wearer's secrets, to open the archive when the figures are made (the simulator sees everything). */
  secrets: ReadonlyMap<string, TokenSecretsOf>;
  kiosk: KioskDir;
}

/**
 * A person watching the simulated care home live (`kiosk serve --simulate`):
 * the world runs at `speed` simulated seconds per real second, the kiosk's
 * events go to `onEvent`, and once the kiosk is set up `ready` gets what a
 * dashboard needs. Diagnoses entered on the dashboard go through the same
 * kiosk, health authority and publication as the scenario's, with the
 * simulated wearer pressing when asked.
 */
export interface LiveKiosk {
  speed: number;
  ready(k: LiveKioskReady): Promise<void>;
  onEvent(e: KioskEvent): void;
  /** Stops the world early. */
  signal?: AbortSignal;
  /** Called when the kiosk stops, before its store closes: the dashboard may stay up until this returns. */
  finished?(): Promise<void>;
}

export interface LiveKioskReady {
  kiosk: KioskDir;
  jobs: RadioJobQueue;
  /** The world's clock, Unix seconds. */
  now(): number;
  /** A health-authority code for a diagnosis with symptoms from `onsetDaysAgo` days before. */
  issueCode(onsetDaysAgo: number): string;
}

function dayStart(world: LiveWorld, day: number): number {
  return world.start + day * 86400;
}

export class WorldKiosk implements WorldDriver {
  readonly ignoreAddress = KIOSK_BEACON_ADDRESS;
  private readonly secrets = new Map<string, TokenSecretsOf>();
  private readonly homeKey: Uint8Array;
  private readonly byTokenId = new Map<string, string>();
  private log: WorldKioskLog | null = null;

  constructor(
    private readonly scenario: Scenario,
    private readonly seed: number,
    private readonly dir: string,
    private readonly boardOf: (person: string) => string,
    private readonly live?: LiveKiosk,
    private readonly riskConfig?: RiskConfig,
    /** Board configs the run rebuilt the firmware with (simulate --schedule): the kiosk credits with them, as a kiosk for such tokens would be set up. */
    private readonly ownBoards: readonly BoardConfig[] = []
  ) {
    if (!scenario.kiosk) throw new Error("WorldKiosk: the scenario has no kiosk");
    // Seeded, so a run repeats; a real provisioning draws them from the system's generator.
    const rng = new Rng(mix(seed, hashString("kiosk-provisioning")));
    const bytes = (n: number): Uint8Array => {
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) b[i] = rng.int(256);
      return b;
    };
    this.homeKey = bytes(32);
    for (const p of scenario.people) {
      if (p.device?.kind !== "token") continue;
      const s = { tokenId: bytes(16), syncSecret: bytes(32), archiveSecret: bytes(32) };
      this.secrets.set(p.id, s);
      this.byTokenId.set(Buffer.from(s.tokenId).toString("hex"), p.id);
    }
  }

  filesFor(person: string): ReadonlyMap<string, Uint8Array> | undefined {
    const s = this.secrets.get(person);
    if (!s) return undefined;
    return new Map([[SECRETS_FILE, encodeSecrets({ ...s, homeKey: this.homeKey })]]);
  }

  /** Closes the kiosk's store (after the figures are made). */
  close(): void {
    this.log?.kiosk.store.close();
  }

  /** What happened at the kiosk; after `run`. */
  result(): WorldKioskLog {
    if (!this.log) throw new Error("WorldKiosk: not run yet");
    return this.log;
  }

  async run(world: LiveWorld): Promise<number | void> {
    const s = world.scheduler;
    const now = (): number => Math.floor(s.now);
    const advance = async (ms: number): Promise<void> => {
      s.runUntil(Math.min(s.now + ms / 1000, Math.max(s.now, world.end)));
    };
    const k = this.scenario.kiosk!;

    // The kiosk, with every token enrolled as `kiosk import` would.
    const kioskDir = path.join(this.dir, "kiosk");
    if (this.riskConfig) {
      // As staff would configure a kiosk: the file in its directory, read when it opens.
      fs.mkdirSync(kioskDir, { recursive: true, mode: 0o700 });
      fs.writeFileSync(path.join(kioskDir, RISK_CONFIG_FILE), JSON.stringify(this.riskConfig, null, 2));
    }
    if (this.ownBoards.length) {
      const boards = path.join(kioskDir, BOARDS_DIR);
      fs.mkdirSync(boards, { recursive: true, mode: 0o700 });
      for (const b of this.ownBoards) fs.writeFileSync(path.join(boards, `${b.id}.json`), JSON.stringify(b, null, 2));
    }
    const kiosk = initKioskDir(kioskDir, { now });
    kiosk.store.importTokens(
      [...this.secrets].map(([person, sec]) => ({
        tokenId: Buffer.from(sec.tokenId).toString("hex"),
        label: person,
        board: this.boardOf(person),
        syncSecret: sec.syncSecret,
        enrolledAt: now()
      }))
    );
    kiosk.store.setHomeKey(this.homeKey);

    // The health authority: its signing key, code store, uploads and export directory.
    const ha = path.join(this.dir, "health-authority");
    const uploadsDir = path.join(ha, "uploads");
    const exportDir = path.join(ha, "exports");
    fs.mkdirSync(uploadsDir, { recursive: true });
    fs.mkdirSync(exportDir, { recursive: true });
    const codesFile = path.join(ha, "codes.json");
    writeCodeStore(codesFile, readCodeStore(codesFile, true));
    const signing = generateSigningKeyPair();
    const kioskKey = generateKioskKey("care-home-kiosk");

    const room = this.scenario.rooms.findIndex((r) => r.id === k.room);
    const radio = new WorldKioskRadio(world, { x: k.at[0], y: k.at[1], room, facing: 0 });
    const log: WorldKioskLog = {
      rounds: [],
      sessions: radio.sessions,
      diagnoses: [],
      staffRound: [],
      notes: [],
      secrets: this.secrets,
      kiosk
    };
    this.log = log;

    const bringToKiosk = (person: string): void => {
      world.tokens.get(person)!.pressButton(OPEN_PRESS_MS);
      radio.bring(person, HOLD_S);
    };

    // What staff and the health authority do, in time order.
    type Job = { at: number; run: (ctx: RadioJobContext) => Promise<void> };
    const jobs: Job[] = [];
    const roundAt = parseClock(k.staffRound ?? "11:00")! * 60;
    for (let day = 1; dayStart(world, day) + roundAt < world.end; day++)
      jobs.push({
        at: dayStart(world, day) + roundAt,
        run: async () => {
          for (const t of kiosk.store.tokens()) {
            const last = t.lastSyncAt ?? t.enrolledAt;
            const person = this.byTokenId.get(t.tokenId);
            if (!person || now() - last < NOT_SEEN_S) continue;
            bringToKiosk(person);
            log.staffRound.push({ person, at: now() });
          }
        }
      });
    const publish = async (): Promise<void> => {
      const r = await publishUploads({
        uploadsDir,
        codesFile,
        kiosks: new Map([[kioskKey.kioskId, kioskKey.publicKey]]),
        signingKey: parsePrivateKey(signing.privateKeyPem),
        keyId: "999",
        keyVersion: "v1",
        region: "ZZ",
        outDir: exportDir,
        now: now()
      });
      for (const a of r.accepted) {
        const d = log.diagnoses.find((x) => x.upload !== null && path.basename(a.file) === x.upload);
        if (d) d.publishedAt = now();
      }
      for (const x of r.rejected) log.notes.push(`health authority refused ${path.basename(x.file)}: ${x.reason}`);
    };
    // One way to run a diagnosis, for the scenario's and the dashboard's: kiosk/radio-jobs.ts, as `serve` runs it.
    const runDiagnosis = diagnoseRunner({
      kiosk,
      transport: radio,
      kioskKey,
      uploadTo: uploadsDir,
      searchMs: HOLD_S * 1000,
      consentWaitMs: 30_000,
      scanMs: SCAN_MS,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      now,
      timerOf: (link) => radio.timerOf(link),
      sleep: async (ms) => void s.runUntil(s.now + ms / 1000)
    });
    const issueHaCode = (onset: number): string => {
      const store = readCodeStore(codesFile);
      const code = issueCode(store, { now: now(), validSeconds: CODE_VALID_S, reportType: ReportType.ConfirmedTest, symptomOnset: onset });
      writeCodeStore(codesFile, store);
      return code;
    };
    for (const d of this.scenario.diagnoses ?? []) {
      const at = dayStart(world, d.day) + parseClock(d.at ?? "10:00")! * 60;
      if (at >= world.end) continue;
      jobs.push({ at, run: (ctx) => this.diagnoseAt(d, world, ctx, { runDiagnosis, issueHaCode, bringToKiosk, log }) });
      jobs.push({ at: at + PUBLISH_AFTER_S, run: publish });
    }
    jobs.sort((a, b) => a.at - b.at);
    const later = (at: number, run: Job["run"]): void => {
      const i = jobs.findIndex((j) => j.at > at);
      jobs.splice(i < 0 ? jobs.length : i, 0, { at, run });
    };

    // Live: diagnoses from the dashboard, as staff and wearer would do them with this kiosk.
    let dashboardJobs: RadioJobQueue | undefined;
    const live = this.live;
    if (live) {
      dashboardJobs = new RadioJobQueue(
        async (request, ctx, onProgress) => {
          const person = this.byTokenId.get(request.tokenId);
          const token = person ? world.tokens.get(person) : undefined;
          if (person) bringToKiosk(person);
          const out = await runDiagnosis(request, ctx, (e) => {
            onProgress(e);
            if (e.kind === "consent-wait") token?.pressButton(200);
          });
          if (out.status === "uploaded") later(s.now + PUBLISH_AFTER_S, publish);
          return out;
        },
        (e) => live.onEvent(e),
        now
      );
      await live.ready({
        kiosk,
        jobs: dashboardJobs,
        now,
        issueCode: (onsetDaysAgo) => issueHaCode(Math.floor(now() / 86400 - onsetDaysAgo) * 86400)
      });
    }
    // Live: the world keeps pace with the wall clock, so a person can follow it.
    const simStart = s.now;
    const realStart = Date.now();
    const pace = async (): Promise<void> => {
      if (!live) return;
      const ahead = (s.now - simStart) / live.speed - (Date.now() - realStart) / 1000;
      if (ahead > 0) await new Promise((r) => setTimeout(r, ahead * 1000));
    };

    const stop = new AbortController();
    const onEvent = (e: ServiceEvent): void => {
      if (e.kind === "pass")
        for (const r of e.report.rounds)
          log.rounds.push({
            at: now(),
            person: r.result.tokenId ? (this.byTokenId.get(r.result.tokenId) ?? null) : null,
            result: r.result
          });
      else if (e.kind === "keys") log.notes.push(`${new Date(now() * 1000).toISOString()} keys: ${e.keys} published keys read`);
      else if (e.kind === "beacon") log.notes.push(`beacon ${e.on ? "on the air" : `off: ${e.message}`}`);
      live?.onEvent(e);
    };
    await runKioskService({
      kiosk,
      transport: radio,
      keys: { spec: exportDir, publicKeyPem: signing.publicKeyPem },
      keyRefreshSeconds: KEY_REFRESH_S,
      scanMs: SCAN_MS,
      pauseMs: PAUSE_MS,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      signal: stop.signal,
      now,
      sleep: advance,
      timerOf: (link) => radio.timerOf(link),
      onEvent,
      passSteps: !!live,
      between: async (ctx) => {
        while (jobs.length && jobs[0].at <= s.now) await jobs.shift()!.run(ctx);
        if (dashboardJobs) await dashboardJobs.between(ctx);
        await pace();
        if (s.now >= world.end || live?.signal?.aborted) stop.abort();
      }
    });
    await radio.close();
    if (live?.finished) await live.finished();
    // Stopped early by the person watching: the rest of the world need not run.
    if (live?.signal?.aborted) return s.now;
  }

  private async diagnoseAt(
    d: ScenarioDiagnosis,
    world: LiveWorld,
    ctx: RadioJobContext,
    ha: {
      runDiagnosis: DiagnoseRunner;
      issueHaCode: (onset: number) => string;
      bringToKiosk: (person: string) => void;
      log: WorldKioskLog;
    }
  ): Promise<void> {
    const now = (): number => Math.floor(world.scheduler.now);
    const onset = dayStart(world, d.day - d.onsetDaysBefore);
    const code = ha.issueHaCode(onset);
    const token = world.tokens.get(d.person)!;
    ha.bringToKiosk(d.person);
    const tokenId = Buffer.from(this.secrets.get(d.person)!.tokenId).toString("hex");
    const run: DiagnosisRun = {
      person: d.person,
      at: now(),
      onset,
      status: "not-synced",
      detail: "",
      keysUploaded: 0,
      upload: null,
      publishedAt: null
    };
    ha.log.diagnoses.push(run);
    let out: DiagnoseOutcome;
    try {
      // The wearer presses once when the kiosk asks.
      out = await ha.runDiagnosis({ tokenId, code }, ctx, (e) => void (e.kind === "consent-wait" && token.pressButton(200)));
    } catch (e) {
      if (!(e instanceof PrivateTracerError)) throw e;
      run.status = "failed";
      run.detail = e.message;
      return;
    }
    run.status = out.status;
    if (out.status === "uploaded") {
      run.keysUploaded = out.keys;
      run.upload = path.basename(out.file);
      run.detail = `${out.keys} keys uploaded`;
    } else if (out.status === "not-synced") run.detail = out.detail;
    else if (out.status === "no-consent") run.detail = "the wearer did not press";
    else run.detail = `unexpected outcome for an uploads directory: ${out.status}`;
  }
}
