/**
 * The ArrayBuffers of a received packet (`data`, each `serviceData` value,
 * `manufacturerData`) in one token's realm, made once per packet object and
 * reused for every later delivery of the same packet to the same token.
 *
 * Why: making an ArrayBuffer is the costliest part of a delivery (a backing
 * store each), and a 50-token world delivers millions of packets, while the
 * world hands the same packet object to every receiver until the advertiser
 * changes it (about every 15 minutes).
 *
 * What the bundle could notice: on a token each callback gets new buffers; here
 * two deliveries of one packet share them (`===` across callbacks). Contents
 * are always right: a buffer is checked against the packet before each reuse
 * and remade if the bundle wrote into it (or cut its length). Only a bundle
 * that keeps a received buffer and writes into it after a later delivery of
 * the same packet would see a difference.
 */
import type { ParsedAdvert } from "./advert-packet";
import type { Intrinsics } from "./realm";

/** One packet's buffers; each is the realm's own ArrayBuffer. */
export interface PacketBufferSet {
  data: ArrayBuffer;
  /** Per parsed serviceData entry, same order. */
  serviceData: ArrayBuffer[];
  manufacturerData: ArrayBuffer | undefined;
}

interface Entry {
  set: PacketBufferSet;
  /**
   * Host-realm views over the buffers above, to check them against the
   * packet (host views keep that loop on one typed-array map, whichever
   * token's realm made the buffer).
   */
  dataView: Uint8Array;
  sdViews: Uint8Array[];
  mdView: Uint8Array | undefined;
}

function same(view: Uint8Array, src: Uint8Array): boolean {
  if (view.length !== src.length) return false;
  for (let i = 0; i < src.length; i++) if (view[i] !== src[i]) return false;
  return true;
}

/**
 * Packets remembered per token. A scan window hears a few dozen distinct
 * packets, each several times, and the next windows mostly the same ones: a
 * small ring searched by identity stays in cache, where a WeakMap over every
 * packet ever heard does not.
 */
const RING = 64;

export class PacketBuffers {
  private readonly packets: Array<Uint8Array | undefined> = new Array(RING).fill(undefined);
  private readonly entries: Array<Entry | undefined> = new Array(RING).fill(undefined);
  /** Where the next new packet goes (the oldest slot). */
  private next = 0;

  constructor(private readonly R: Intrinsics) {}

  /** A host view over a new realm ArrayBuffer holding `src`. */
  private copy(src: Uint8Array): Uint8Array {
    const u = new this.R.Uint8Array(src.length);
    u.set(src);
    return new Uint8Array(u.buffer);
  }

  /** The buffers for `packet` (parsed as `parsed`), with the packet's exact bytes. */
  private find(packet: Uint8Array): Entry | undefined {
    // Newest first: the packet just heard is the likeliest to come again.
    for (let k = 1; k <= RING; k++) {
      const i = (this.next - k + RING) % RING;
      if (this.packets[i] === packet) return this.entries[i];
    }
    return undefined;
  }

  get(packet: Uint8Array, parsed: ParsedAdvert): PacketBufferSet {
    let e = this.find(packet);
    if (!e) {
      const dataView = this.copy(packet);
      const sdViews = parsed.serviceData ? parsed.serviceData.map((x) => this.copy(x[1])) : [];
      const mdView = parsed.manufacturerData ? this.copy(parsed.manufacturerData) : undefined;
      e = {
        set: {
          data: dataView.buffer as ArrayBuffer,
          serviceData: sdViews.map((v) => v.buffer as ArrayBuffer),
          manufacturerData: mdView && (mdView.buffer as ArrayBuffer)
        },
        dataView,
        sdViews,
        mdView
      };
      this.packets[this.next] = packet;
      this.entries[this.next] = e;
      this.next = (this.next + 1) % RING;
      return e.set;
    }
    if (!same(e.dataView, packet)) {
      e.dataView = this.copy(packet);
      e.set.data = e.dataView.buffer as ArrayBuffer;
    }
    const sd = parsed.serviceData;
    if (sd)
      for (let i = 0; i < sd.length; i++)
        if (!same(e.sdViews[i], sd[i][1])) {
          e.sdViews[i] = this.copy(sd[i][1]);
          e.set.serviceData[i] = e.sdViews[i].buffer as ArrayBuffer;
        }
    if (e.mdView && !same(e.mdView, parsed.manufacturerData!)) {
      e.mdView = this.copy(parsed.manufacturerData!);
      e.set.manufacturerData = e.mdView.buffer as ArrayBuffer;
    }
    return e.set;
  }
}
