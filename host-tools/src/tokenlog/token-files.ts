import * as fs from "node:fs";
import * as path from "node:path";
import { InputTooLargeError, readFileBounded } from "../read-bounded";
import { FlashDamage, TokenFlashError } from "./errors";
import { ErasedEntry, notAStorageImage, readStorageImage } from "./storage-image";

/**
 * A token's Storage files, from either of the two shapes a kiosk or the
 * simulator leaves: an image of the whole Storage area (one file, e.g.
 * `simulate --out DIR` → DIR/flash/<token>.bin) or a directory holding the
 * files themselves, one host file per Storage file under the same name
 * (`pt.log1`, `pt.tek2642976`, …).
 */

export interface TokenFiles {
  /** The path as given, for messages. */
  source: string;
  kind: "image" | "files";
  files: Map<string, Uint8Array>;
  /** Files cut short by damage to the image. */
  partialFiles: Set<string>;
  damage: FlashDamage[];
  /** Damage read around with nothing lost to the host (an image only); reported, not refused. */
  workedAround?: FlashDamage[];
  /** Erased files still in an image's journal: evidence of what the token erased itself. */
  erased?: ErasedEntry[];
}

/**
 * A token's Storage read file by file: the simulator's emulated Storage, or
 * a kiosk's copy of the files it received over a link.
 */
export interface StorageListing {
  /** Every file's name. */
  list(): string[];
  /** A file's bytes, or undefined if the name lists but does not read (cut while Espruino wrote its header). */
  read(name: string): Uint8Array | undefined;
}

/** The files of a Storage read file by file; `source` names it in messages. */
export function tokenFilesFromStorage(s: StorageListing, source: string): TokenFiles {
  const files = new Map<string, Uint8Array>();
  for (const n of s.list()) {
    const b = s.read(n);
    if (b) files.set(n, b);
  }
  return { source, kind: "files", files, partialFiles: new Set(), damage: [] };
}

/** Our files all start so; a directory without one is not a token's files. */
const OUR_PREFIX = "pt.";

export function tokenFilesFromImage(bytes: Uint8Array, source: string): TokenFiles {
  if (bytes.length === 0) throw new TokenFlashError(source, "the file is empty, not a flash image");
  const img = readStorageImage(bytes);
  if (notAStorageImage(img)) {
    throw new TokenFlashError(
      source,
      `not an Espruino Storage image (${img.damage[0].message}). Give a token's flash image (simulate --out DIR writes DIR/flash/<token>.bin) or a directory of its files (pt.log1, …).`
    );
  }
  return {
    source,
    kind: "image",
    files: img.files,
    partialFiles: img.partialFiles,
    damage: img.damage,
    workedAround: img.workedAround,
    erased: img.erased
  };
}

function readDirectory(dir: string): TokenFiles {
  const files = new Map<string, Uint8Array>();
  let names: string[];
  try {
    names = fs.readdirSync(dir).sort();
  } catch (e) {
    throw new TokenFlashError(dir, `cannot list the directory: ${(e as Error).message}`);
  }
  for (const n of names) {
    if (!n.startsWith(OUR_PREFIX)) continue;
    const p = path.join(dir, n);
    try {
      if (!fs.statSync(p).isFile()) continue;
      files.set(n, new Uint8Array(readBounded(p, dir)));
    } catch (e) {
      throw new TokenFlashError(dir, `cannot read ${n}: ${(e as Error).message}`);
    }
  }
  if (files.size === 0) throw new TokenFlashError(dir, `no token files (${OUR_PREFIX}log1, ${OUR_PREFIX}tek…) in this directory`);
  return { source: dir, kind: "files", files, partialFiles: new Set(), damage: [] };
}

/**
 * A token's whole Storage is at most 8 MB (Bangle.js 2, the largest board):
 * an image, or one file of it, larger than this is not one. Bounded by the
 * bytes actually read, so /dev/zero or a FIFO is refused, not read forever.
 */
export const MAX_FLASH_IMAGE_BYTES = 16 * 1024 * 1024;

function readBounded(file: string, source: string): Buffer {
  try {
    return readFileBounded(file, MAX_FLASH_IMAGE_BYTES, { what: "a token's flash image or file" });
  } catch (e) {
    if (e instanceof InputTooLargeError)
      throw new TokenFlashError(
        source,
        `${file === source ? "" : `${path.basename(file)}: `}${e.message}: a token's flash is at most 8 MB`
      );
    throw new TokenFlashError(source, `cannot read${file === source ? "" : ` ${path.basename(file)}`}: ${(e as Error).message}`);
  }
}

/** FLASH as a user names it on the command line: an image file or a directory of files. */
export function loadTokenFiles(p: string): TokenFiles {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch (e) {
    throw new TokenFlashError(
      p,
      `cannot read: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or directory" : (e as Error).message}`
    );
  }
  if (st.isDirectory()) return readDirectory(p);
  return tokenFilesFromImage(new Uint8Array(readBounded(p, p)), p);
}
