/**
 * `require("Storage")`: binds the journal model to the values a bundle
 * passes and gets back (8-bit strings, context ArrayBuffers, context Errors).
 */
import type { Intrinsics } from "./realm";
import { EspruinoStorage, StorageError } from "./storage";
import { StorageFileHandle, StorageFileMode, storageFileChunkBytes } from "./storage-file";
import { bytesToString, toBytes, toContextArray, toContextArrayBuffer } from "./values";

export interface StorageModuleOptions {
  storage: EspruinoStorage;
  /** Total Storage bytes of the real board (decides the StorageFile chunk size). */
  boardStorageBytes: number;
  R: Intrinsics;
  /** Throws when the token is dead (after a power cut). */
  guard: () => void;
}

export function createStorageModule(o: StorageModuleOptions): Record<string, unknown> {
  const { storage, R, guard } = o;
  const chunkBytes = storageFileChunkBytes(o.boardStorageBytes, storage.flash.pageBytes);
  // Model errors become the token's own Error; a PowerCutError passes through untouched.
  const wrap = <A extends unknown[], T>(fn: (...a: A) => T) =>
    function (...a: A): T {
      guard();
      try {
        return fn(...a);
      } catch (e) {
        if (e instanceof StorageError) throw new R.Error(e.message);
        throw e;
      }
    };
  const name = (n: unknown): string => String(n);
  const num = (n: unknown): number => (n === undefined || n === null ? 0 : Math.floor(Number(n)) || 0);

  const m = new R.Object() as Record<string, unknown>;
  m.write = wrap((n: unknown, data: unknown, offset?: unknown, size?: unknown): boolean => {
    let bytes: Uint8Array | undefined;
    let off = num(offset);
    let sz = num(size);
    if (
      data !== null &&
      typeof data === "object" &&
      !Array.isArray(data) &&
      !ArrayBuffer.isView(data) &&
      Object.prototype.toString.call(data) !== "[object ArrayBuffer]"
    ) {
      // An object is written as its JSON text, always as a whole new file.
      bytes = toBytes(R.JSON.stringify(data));
      off = 0;
      sz = 0;
    } else bytes = toBytes(data === undefined ? "undefined" : typeof data === "number" || typeof data === "boolean" ? String(data) : data);
    if (!bytes) throw new StorageError("Can't get pointer to data to write");
    return storage.write(name(n), bytes, off, sz);
  });
  m.writeJSON = wrap((n: unknown, data: unknown): boolean => storage.write(name(n), toBytes(String(R.JSON.stringify(data)))!, 0, 0));
  m.read = wrap((n: unknown, offset?: unknown, length?: unknown): string | undefined => {
    const b = storage.view(name(n), num(offset), num(length));
    return b === undefined ? undefined : bytesToString(b);
  });
  m.readArrayBuffer = wrap((n: unknown): ArrayBuffer | undefined => {
    const b = storage.view(name(n));
    return b === undefined ? undefined : toContextArrayBuffer(R, b);
  });
  m.readJSON = wrap((n: unknown, noExceptions?: unknown): unknown => {
    const b = storage.view(name(n));
    if (b === undefined) return undefined;
    try {
      return R.JSON.parse(bytesToString(b));
    } catch (e) {
      if (noExceptions) return undefined;
      throw e;
    }
  });
  m.erase = wrap((n: unknown): void => {
    storage.erase(name(n));
  });
  m.eraseAll = wrap((): void => storage.eraseAll());
  m.list = wrap((regex?: unknown, filter?: unknown): string[] => {
    const f =
      filter !== null && typeof filter === "object" && "sf" in (filter as object)
        ? { sf: Boolean((filter as { sf: unknown }).sf) }
        : undefined;
    let names = storage.list(f);
    if (regex !== undefined && regex !== null) names = names.filter((s) => s.match(regex as RegExp) !== null);
    return toContextArray(R, names);
  });
  m.getFree = wrap((): number => storage.getFree());
  m.getStats = wrap((): Record<string, number> => Object.assign(new R.Object() as Record<string, number>, storage.getStats()));
  m.compact = wrap((): void => storage.compact());
  m.open = wrap((n: unknown, mode: unknown): Record<string, unknown> => {
    if (mode !== "r" && mode !== "w" && mode !== "a") throw new StorageError(`Invalid mode ${JSON.stringify(mode)}`);
    const h = new StorageFileHandle(storage, name(n), mode as StorageFileMode, chunkBytes);
    const f = new R.Object() as Record<string, unknown>;
    f.read = wrap((len: unknown) => h.read(num(len)));
    f.readLine = wrap(() => h.read(0, true));
    f.write = wrap((data: unknown) => h.write(toBytes(typeof data === "string" ? data : String(data))!));
    f.getLength = wrap(() => h.getLength());
    f.erase = wrap(() => h.erase());
    return f;
  });
  return m;
}
