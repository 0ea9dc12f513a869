import type { StorageReader } from "../../../firmware/src/wire/storage";

/**
 * A token's files (as read from an image, a directory or a link) behind the
 * wire's storage reader, so the host reads them with the token's own format
 * code (e.g. the TEK file reader) and skips a damaged file exactly as the
 * token does. Read-only by its type: the reader has no way to write.
 */
export function storageReader(files: ReadonlyMap<string, Uint8Array>): StorageReader {
  return {
    read: (name) => files.get(name),
    list: (prefix) => [...files.keys()].filter((n) => n.startsWith(prefix))
  };
}
