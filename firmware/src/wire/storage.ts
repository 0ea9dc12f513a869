/**
 * Espruino's Storage (2v2x jsflash.c) as it lies in flash, which a host
 * reading a token's Storage image and the simulator's Storage must agree on
 * with the token. Shared with host tools.
 *
 *   [file header][data, padded to STORAGE_ALIGN][file header][data]… then erased (0xFF)
 *   file header (STORAGE_HEADER_BYTES) = uint32 LE (size in the low 24 bits,
 *     flags in the top 8) + name (STORAGE_NAME_BYTES, zero padded; first 4
 *     bytes zero = an erased file, garbage until compaction)
 */
export var STORAGE_HEADER_BYTES = 32;
export var STORAGE_NAME_BYTES = 28;
export var STORAGE_SIZE_MASK = 0xffffff;
/** nRF52 flash is written in 32-bit words, so every file starts on a word. */
export var STORAGE_ALIGN = 4;

/** Flash a file of `dataBytes` occupies: its header plus its data, word aligned. */
export function fileFootprint(dataBytes: number): number {
  return STORAGE_HEADER_BYTES + ((dataBytes + STORAGE_ALIGN - 1) & ~(STORAGE_ALIGN - 1));
}

/**
 * What reading a token's files needs of Storage: the token's own Storage
 * has it, and so has a host's copy of a token's files (an image, or files
 * received over a link), which can then be read with the token's own code.
 */
export interface StorageReader {
  /** Whole file as bytes, or undefined if it does not exist. */
  read(name: string): Uint8Array | undefined;
  /** Names of files starting with `prefix`. */
  list(prefix: string): string[];
}

/** A reader that may also erase: what a token needs to prune its own files. */
export interface StorageEraser extends StorageReader {
  erase(name: string): void;
}
