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

/**
 * RPI and AEM of a raw advertisement, or null if it carries no GAEN service
 * data. Walks the AD structures so a packet without flags (some Android
 * phones) or with its structures in another order is still accepted.
 */
export function parseAdvert(packet: Uint8Array): ParsedAdvert | null {
  var i = 0;
  while (i < packet.length) {
    var len = packet[i];
    if (len === 0 || i + 1 + len > packet.length) return null;
    if (len === 0x17 && packet[i + 1] === 0x16 && packet[i + 2] === 0x6f && packet[i + 3] === 0xfd) {
      return { rpi: new Uint8Array(packet.subarray(i + 4, i + 20)), aem: new Uint8Array(packet.subarray(i + 20, i + 24)) };
    }
    i += len + 1;
  }
  return null;
}
