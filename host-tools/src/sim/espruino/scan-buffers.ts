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
  /** Realm views over the buffers above, to check them against the packet. */
  dataView: Uint8Array;
  sdViews: Uint8Array[];
  mdView: Uint8Array | undefined;
}

function same(view: Uint8Array, src: Uint8Array): boolean {
  if (view.length !== src.length) return false;
  for (let i = 0; i < src.length; i++) if (view[i] !== src[i]) return false;
  return true;
}

export class PacketBuffers {
  private readonly cache = new WeakMap<Uint8Array, Entry>();

  constructor(private readonly R: Intrinsics) {}

  private copy(src: Uint8Array): Uint8Array {
    const u = new this.R.Uint8Array(src.length);
    u.set(src);
    return u;
  }

  /** The buffers for `packet` (parsed as `parsed`), with the packet's exact bytes. */
  get(packet: Uint8Array, parsed: ParsedAdvert): PacketBufferSet {
    let e = this.cache.get(packet);
    if (!e) {
      const dataView = this.copy(packet);
      const sdViews = parsed.serviceData ? parsed.serviceData.map((x) => this.copy(x[1])) : [];
      const mdView = parsed.manufacturerData ? this.copy(parsed.manufacturerData) : undefined;
      e = {
        set: { data: dataView.buffer as ArrayBuffer, serviceData: sdViews.map((v) => v.buffer as ArrayBuffer), manufacturerData: mdView && (mdView.buffer as ArrayBuffer) },
        dataView,
        sdViews,
        mdView
      };
      this.cache.set(packet, e);
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
