/**
 * What `sync --transport sim` and `scan --transport sim` talk to: tokens
 * emulated from flash images (the real bundle on the Espruino emulation,
 * sim/espruino), in a simulated world of their own, reached over
 * ble/sim-transport.ts. No radio is needed, so a developer can try the whole
 * kiosk path on the images `simulate --out DIR` leaves (DIR/flash/<token>.bin)
 * and the specs can drive the CLI end to end.
 *
 * An image is a token's flash, so it is treated as one: the token boots from
 * it (running the firmware the image holds, as a real token would), a press of
 * its button opens its sync window, and after the session the flash is
 * written back to the file, so a second run meets the same token later on
 * (with the acknowledgement it recorded, and the log it freed).
 *
 * Time. A token's clock lives in RAM and an image does not keep it, so the
 * world starts just after the newest time in the image's own log (where the
 * run that wrote it stopped: `simulate` images are dated by their scenario,
 * which can be years from today), or at the host's clock when the log holds
 * no time. The simulated kiosk's clock is the world's; the token's reads the
 * same plus `clockOffsetS`, to show a token whose clock ran off.
 */
import * as crypto from "node:crypto";
import * as path from "node:path";
import { BoardConfig, loadBoard } from "../build/boards";
import { writeFileAtomic } from "../atomic-write";
import { UserError } from "../errors";
import { SimSyncLink, SimTransport } from "../ble/sim-transport";
import type { SyncLink } from "../ble/transport";
import type { Enrolment, EnrolmentStore } from "../provision/store";
import { DriftingClock } from "../sim/clock";
import { BOOT_FILE, EspruinoToken, Flash, createEmulatedToken } from "../sim/espruino";
import { EventScheduler } from "../sim/scheduler";
import type { AdvertState } from "../sim/types";
import { firmwareBundle } from "../sim/world/simulate";
import { readTokenLog } from "../tokenlog/read-log";
import { readStorageImage } from "../tokenlog/storage-image";
import { MAX_FLASH_IMAGE_BYTES, tokenFilesFromImage } from "../tokenlog/token-files";
import { readFileBounded } from "../read-bounded";
import { SECRETS_FILE, encodeSecrets, readSecrets } from "../../../firmware/src/wire/secrets";
import type { SyncTimer } from "./wire";

/** The board of an image whose token the store does not name (simulate's default board too). */
export const DEFAULT_SIM_BOARD = "puckjs";
/** A long press, as the wearer or a care worker gives it: the window opens when the button is released. */
const OPEN_PRESS_MS = 2500;
/** Boot, then let the firmware settle (first tick, first advert) before the button is pressed. */
const SETTLE_S = 5;

export interface SimTokensOptions {
  /** Flash images, one token each. */
  images: string[];
  /** The enrolment store, to know each image's board (and, with `install`, the home key). */
  store?: EnrolmentStore;
  /** Write this enrolment's secrets (pt.sec) into an image that has none, as provisioning would have. */
  install?: Enrolment;
  /** The board of an image whose token the store does not name. Default DEFAULT_SIM_BOARD. */
  board?: string;
  /** The tokens' clocks run this many seconds ahead of the simulated kiosk's (negative: behind). Default 0. */
  clockOffsetS?: number;
  /** The host's clock, Unix seconds, used when an image's log holds no time (default Date.now). */
  hostNow?: () => number;
  /** Refuse an image without secrets that `install` does not fill (a sync could only fail on it; a scan still sees it). */
  requireSecrets?: boolean;
}

/** One emulated token and the image it came from. */
export interface SimToken {
  image: string;
  token: EspruinoToken;
  board: string;
  /** The token id in the image's pt.sec (hex), or null when it has none. */
  tokenId: string | null;
  /** True when this run wrote the secrets into the image. */
  installed: boolean;
}

export interface SimTokens {
  transport: SimTransport;
  tokens: SimToken[];
  /** The simulated kiosk's clock, Unix seconds. */
  now(): number;
  /** Deadlines in simulated time for a link this transport made (the client's `timer`). */
  timerOf(link: SyncLink): SyncTimer | undefined;
  /** Things a person should know about the images (secrets installed, firmware taken from dist/). */
  notes: string[];
  /** Press every token's button for a long press, so each opens its sync window. */
  openWindows(): void;
  /** Write each token's flash back to its image. */
  save(): void;
  /** Let simulated time pass (the tokens keep logging and advertising). */
  wait(seconds: number): void;
  /** `wait` in milliseconds, as the kiosk service's and `diagnose()`'s `sleep` option takes it. */
  sleep(ms: number): Promise<void>;
}

function hexId(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

/** A seed that stays the same for the same file name, so a token keeps its factory address from run to run. */
function seedOf(image: string): number {
  return crypto.createHash("sha256").update(path.basename(image)).digest().readUInt32LE(0) & 0x7fffffff;
}

/** The archive secret a simulated provisioning writes into the image: the same for the same file name, kept by no host. */
function archiveSecretFor(image: string): Uint8Array {
  return new Uint8Array(
    crypto
      .createHash("sha256")
      .update("archive:" + path.basename(image))
      .digest()
  );
}

/** The newest time the image's log can place (a record, or a segment's start), or null. */
function newestLogTime(bytes: Uint8Array, image: string): number | null {
  const log = readTokenLog(tokenFilesFromImage(bytes, image), { partial: true });
  let t = log.span ? log.span.last : null;
  for (const s of log.segments) if (s.clock === "utc" && s.base !== null && (t === null || s.base > t)) t = s.base;
  return t;
}

function readImage(image: string): Uint8Array {
  try {
    return new Uint8Array(readFileBounded(image, MAX_FLASH_IMAGE_BYTES, { what: "a token's flash image" }));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(
      `cannot read the flash image ${image}: ${code === "ENOENT" ? "no such file" : (e as Error).message} (simulate --out DIR writes DIR/flash/<token>.bin)`
    );
  }
}

function flashFor(board: BoardConfig, bytes: Uint8Array, image: string): Flash {
  // The emulated token's flash is the log's share of Storage on a board that shares it (token.ts does the same).
  const capacity = board.storage.shared && board.storage.dataBytes ? board.storage.dataBytes : board.storage.bytes;
  if (bytes.length !== capacity)
    throw new UserError(
      `${image} is ${bytes.length} bytes, but a ${board.name} token's flash image is ${capacity}: it is another board's image (give --sim-board), or not a whole image`
    );
  const flash = new Flash(capacity, board.storage.pageBytes);
  flash.bytes.set(bytes);
  return flash;
}

/** Boots a token from each image, in one simulated world, with a transport that reaches them. */
export async function openSimTokens(o: SimTokensOptions): Promise<SimTokens> {
  if (o.images.length === 0) throw new UserError("--transport sim needs a token's flash image: give --sim-flash FILE");
  const hostNow = o.hostNow ?? (() => Math.floor(Date.now() / 1000));
  const notes: string[] = [];
  const read = o.images.map((image) => {
    const bytes = readImage(image);
    // Refuses a file that is not an Espruino Storage image, with a message saying what it wants.
    tokenFilesFromImage(bytes, image);
    return { image, bytes, files: readStorageImage(bytes).files };
  });

  // Two tokens with the same secrets would be one token twice: install into one image only, and none if one holds them already.
  const bare = read.filter((r) => !r.files.has(SECRETS_FILE));
  const idIn = (files: Map<string, Uint8Array>): string | null => {
    const s = readSecrets(files.get(SECRETS_FILE));
    return s ? hexId(s.tokenId) : null;
  };
  const holder = o.install ? read.find((r) => idIn(r.files) === o.install!.tokenId) : undefined;
  const installInto = o.install && !holder && bare.length === 1 ? bare[0].image : undefined;

  const newest = read.map((r) => newestLogTime(r.bytes, r.image)).filter((t): t is number => t !== null);
  const t0 = newest.length ? Math.max(...newest) + 60 : hostNow();
  const scheduler = new EventScheduler(t0);
  const adverts = new Map<EspruinoToken, AdvertState | null>();
  const tokens: SimToken[] = [];

  for (const r of read) {
    const secrets = readSecrets(r.files.get(SECRETS_FILE));
    let tokenId = idIn(r.files);
    const enrolled = tokenId ? o.store?.enrolments.find((e) => e.tokenId === tokenId) : undefined;
    let installed = false;
    if (!secrets && r.files.has(SECRETS_FILE))
      notes.push(`${r.image}: its secrets file (${SECRETS_FILE}) is damaged, so the token cannot sync; provision it again`);
    const install = !r.files.has(SECRETS_FILE) && installInto === r.image ? o.install : undefined;
    if (!r.files.has(SECRETS_FILE) && !install && o.requireSecrets)
      throw new UserError(
        o.install
          ? `${r.image} holds no token secrets (${SECRETS_FILE}), and token ${o.install.tokenId}'s are not installed into it: ` +
              (holder ? `${holder.image} holds them already` : "they go into one image only, and several have none") +
              ". Give the other images already provisioned, or one at a time."
          : `${r.image} holds no token secrets (${SECRETS_FILE}): it is not a provisioned token. Give --token ID to install that enrolled token's secrets into it.`
      );
    if (secrets && o.store && !enrolled)
      notes.push(`${r.image}: holds token ${tokenId}, which is not enrolled in this store; it will fail authentication`);
    const boardId = (install ?? enrolled)?.board ?? o.board ?? DEFAULT_SIM_BOARD;
    const board = loadBoard(boardId);
    const flash = flashFor(board, r.bytes, r.image);
    const fromStorage = !board.storage.shared;
    let bundle = "";
    if (!fromStorage || !r.files.has(BOOT_FILE)) {
      bundle = await firmwareBundle(board.id);
      if (fromStorage) notes.push(`${r.image}: holds no firmware (${BOOT_FILE}); booting the ${board.id} firmware from dist/firmware`);
    }
    const token = createEmulatedToken({
      id: path.basename(r.image).replace(/\.bin$/, ""),
      board,
      bundle,
      scheduler,
      clock: new DriftingClock({ startTrue: t0, startLocal: t0 + (o.clockOffsetS ?? 0) }),
      radio: { advertising: (s) => adverts.set(token, s), scanning: () => undefined },
      seed: seedOf(r.image),
      storage: flash
    });
    if (install) {
      if (!o.store) throw new Error("openSimTokens: install needs the store (its home key)");
      const written = token.storage.write(
        SECRETS_FILE,
        encodeSecrets({
          tokenId: Buffer.from(install.tokenId, "hex"),
          syncSecret: Buffer.from(install.syncSecret, "hex"),
          // As provisioning does: a fresh one that no host keeps (seeded, so a simulation repeats).
          archiveSecret: archiveSecretFor(r.image),
          homeKey: Buffer.from(o.store.homeKey, "hex")
        })
      );
      if (!written) throw new UserError(`${r.image}: no room in the token's flash for its secrets`);
      installed = true;
      tokenId = install.tokenId;
      notes.push(
        `${r.image}: had no secrets; installed those of token ${install.tokenId}${install.label ? ` (${install.label})` : ""}, as provisioning would`
      );
    }
    tokens.push({ image: r.image, token, board: board.id, tokenId, installed });
  }

  for (const t of tokens) t.token.boot();
  scheduler.runUntil(t0 + SETTLE_S);

  const transport = new SimTransport(
    scheduler,
    tokens.map((t) => ({ token: t.token, advert: () => adverts.get(t.token) ?? null }))
  );
  return {
    transport,
    tokens,
    now: () => Math.floor(scheduler.now),
    timerOf: (link) => (link instanceof SimSyncLink ? link.timer : undefined),
    notes,
    openWindows: () => {
      for (const t of tokens) if (!adverts.get(t.token)?.connectable) t.token.pressButton(OPEN_PRESS_MS);
      scheduler.runUntil(scheduler.now + OPEN_PRESS_MS / 1000 + 0.5);
    },
    wait: (seconds) => scheduler.runUntil(scheduler.now + seconds),
    sleep: async (ms) => void scheduler.runUntil(scheduler.now + ms / 1000),
    save: () => {
      for (const t of tokens) {
        try {
          writeFileAtomic(t.image, t.token.flash.bytes);
        } catch (e) {
          throw new UserError(`cannot write the token's flash back to ${t.image}: ${(e as Error).message}`);
        }
      }
    }
  };
}
