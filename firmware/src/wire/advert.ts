/**
 * The GAEN v1.2 advertisement on the air (gaen.md "On the air"): 31 bytes,
 * flags, the complete 16-bit UUID list with 0xFD6F, then service data for
 * 0xFD6F carrying RPI (16) and AEM (4). Shared with host tools.
 */
export var ADVERT_BYTES = 31;

var HEAD = [2, 1, 0x1a, 3, 3, 0x6f, 0xfd, 0x17, 0x16, 0x6f, 0xfd];

/** The exact packet for one RPI/AEM pair. */
export function buildAdvert(rpi: Uint8Array, aem: Uint8Array): Uint8Array {
  var p = new Uint8Array(ADVERT_BYTES);
  p.set(HEAD);
  p.set(rpi.subarray(0, 16), 11);
  p.set(aem.subarray(0, 4), 27);
  return p;
}

export interface ParsedAdvert {
  rpi: Uint8Array;
  aem: Uint8Array;
}

/** AD type of 16-bit-UUID service data: the structure that carries RPI and AEM. */
export var AD_SERVICE_DATA_16 = 0x16;

/**
 * Calls `fn(type, start, end)` for each AD structure of a raw advertising
 * packet, in order, `packet[start..end)` being its data, until `fn` returns
 * true. A structure of length 0 or running past the packet ends the walk: a
 * scanner ignores a malformed tail.
 */
export function forEachAdStructure(packet: Uint8Array, fn: (type: number, start: number, end: number) => boolean | void): void {
  var i = 0;
  while (i < packet.length) {
    var len = packet[i];
    if (len === 0 || i + 1 + len > packet.length) return;
    if (fn(packet[i + 1], i + 2, i + 1 + len)) return;
    i += len + 1;
  }
}

/**
 * RPI and AEM (copies) of a raw advertisement, or null if it carries no GAEN
 * service data before any malformed structure. Walks the AD structures so a
 * packet without flags (some Android phones) or with its structures in
 * another order is still accepted.
 */
export function parseAdvert(packet: Uint8Array): ParsedAdvert | null {
  var found: ParsedAdvert | null = null;
  forEachAdStructure(packet, function (type, start, end) {
    if (type !== AD_SERVICE_DATA_16 || end - start !== 22 || packet[start] !== 0x6f || packet[start + 1] !== 0xfd) return false;
    found = { rpi: new Uint8Array(packet.subarray(start + 2, start + 18)), aem: new Uint8Array(packet.subarray(start + 18, end)) };
    return true;
  });
  return found;
}
