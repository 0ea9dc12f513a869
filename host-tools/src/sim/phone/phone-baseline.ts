/**
 * The GAEN phone baseline: every person of a scenario also carries a GAEN
 * phone, and each phone's scans are turned into what GAEN v2 gives an app —
 * per scan and sender a ScanInstance (typical and minimum attenuation,
 * seconds since the phone's previous scan), summed per (receiver, sender,
 * UTC day), which is per key since keys change at UTC midnight.
 *
 * The phones are on a channel of their own: they hear each other, not the
 * tokens, and the tokens do not hear them. That is not how the air works,
 * but it is what a side-by-side comparison needs: the tokens' run, and so
 * their figures, stay exactly what they are without phones, and the phones
 * see the same people in the same places (positions are a pure function of
 * seed, person and minute). Nothing here uses the event queue: a scan is
 * sampled in one go, which keeps 14 days of 86 phones to seconds.
 */
import { Movement } from "../world/movement";
import { Scenario } from "../world/scenario";
import { DEFAULT_PROPAGATION, PropagationParams } from "../world/propagation";
import { Rng, hashString, mix } from "../prng";
import { PHONE_RADIO, PhoneRadioSettings } from "./gaen-settings";
import { PhoneChannel } from "./phone-channel";

/** Typical attenuations above this are kept in its bin: every bucket set ends well below it. */
export const MAX_BINNED_ATTENUATION_DB = 127;

const TAG_SCANS = hashString("gaen-phone-scans");
const TAG_RX = hashString("gaen-phone-rx");

export interface PhoneBaselineOptions {
  scenario: Scenario;
  days: number;
  seed: number;
  radio?: PhoneRadioSettings;
}

export interface PhoneBaseline {
  /** Person ids, in scenario order (every person carries a phone). */
  people: string[];
  /** UTC dates of the run's days, "YYYY-MM-DD". */
  dates: string[];
  /**
   * Seconds credited per typical attenuation (whole dB, index; the last bin
   * holds everything above), by receiver, sender and day: see `exposureOf`.
   */
  exposure: Array<Uint32Array | undefined>;
  scans: number;
  /** (scan, sender) pairs with at least one packet heard. */
  scanInstances: number;
  wallSeconds: number;
}

/** Index of (receiver, sender, day) in `PhoneBaseline.exposure`. */
export function exposureIndex(people: number, receiver: number, sender: number, day: number): number {
  return (day * people + receiver) * people + sender;
}

/** Seconds heard per typical attenuation for one receiver, sender and day (undefined: never heard). */
export function exposureOf(b: PhoneBaseline, receiver: number, sender: number, day: number): Uint32Array | undefined {
  return b.exposure[exposureIndex(b.people.length, receiver, sender, day)];
}

export function runPhoneBaseline(o: PhoneBaselineOptions): PhoneBaseline {
  const t0 = process.hrtime.bigint();
  const radio = o.radio ?? PHONE_RADIO;
  const params: PropagationParams = { ...DEFAULT_PROPAGATION, ...(o.scenario.propagation ?? {}) };
  // A movement of its own: its per-person caches are then not shared with anything else.
  const movement = new Movement(o.scenario, o.seed);
  const ids = movement.personIds;
  const n = ids.length;
  const channel = new PhoneChannel(params, movement.rooms, radio, o.seed, ids);
  const scanRng = ids.map((id) => new Rng(mix(o.seed, TAG_SCANS, hashString(id))));
  const rxRng = ids.map((id) => new Rng(mix(o.seed, TAG_RX, hashString(id))));
  const start = movement.start;
  const end = start + o.days * 86400;
  const meanGapS = radio.scanPeriodS - radio.scanJitterS / 2;
  // Phones are switched on at random times in their first scan period.
  const next = scanRng.map((r) => start + r.next() * radio.scanPeriodS);
  const last = new Float64Array(n).fill(-1);
  // Dense from the start: a sparse array grown by index falls back to a slow dictionary.
  const exposure = new Array<Uint32Array | undefined>(o.days * n * n).fill(undefined);
  const poses = new Array<ReturnType<Movement["pose"]>>(n);
  let scans = 0;
  let instances = 0;

  for (;;) {
    // The earliest scan of any phone: time order keeps each link's shadowing moving forwards.
    let rx = 0;
    for (let i = 1; i < n; i++) if (next[i] < next[rx]) rx = i;
    const t = next[rx];
    if (!(t < end)) break;
    next[rx] = t + radio.scanPeriodS - scanRng[rx].next() * radio.scanJitterS;
    // GAEN credits a scan with the time since the phone's previous scan, heard or not.
    const seconds = last[rx] < 0 ? meanGapS : t - last[rx];
    last[rx] = t;
    scans++;
    const minute = movement.minuteOf(t);
    const prx = movement.pose(rx, minute);
    if (!prx) continue;
    const day = Math.floor((t - start) / 86400);
    const unixMinute = Math.floor(t / 60);
    for (let tx = 0; tx < n; tx++) poses[tx] = tx === rx ? null : movement.pose(tx, minute);
    for (let tx = 0; tx < n; tx++) {
      const ptx = poses[tx];
      if (!ptx) continue;
      const heard = channel.scan(channel.meanRssiDbm(tx, rx, ptx, prx, unixMinute), rxRng[rx]);
      if (!heard) continue;
      instances++;
      const k = exposureIndex(n, rx, tx, day);
      let bins = exposure[k];
      if (!bins) exposure[k] = bins = new Uint32Array(MAX_BINNED_ATTENUATION_DB + 1);
      bins[Math.min(heard.typicalAttenuationDb, MAX_BINNED_ATTENUATION_DB)] += Math.round(seconds);
    }
  }
  const dates = Array.from({ length: o.days }, (_, d) => new Date((start + d * 86400) * 1000).toISOString().slice(0, 10));
  return { people: ids, dates, exposure, scans, scanInstances: instances, wallSeconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}
