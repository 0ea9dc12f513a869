import { strict as assert } from "node:assert";
import * as crypto from "node:crypto";
import type { ExposureKey } from "../../../host-tools/src/keys/types";
import { buildExportZip } from "../../../host-tools/src/keys/export-file";
import { writeStore } from "../../../host-tools/src/provision/store";
import { deriveKeys, deriveRpis, encryptMetadata } from "../../../host-tools/src/match/derive";
import * as fs from "node:fs";
import { loadBoard } from "../../../host-tools/src/build/boards";
import { DriftingClock } from "../../../host-tools/src/sim/clock";
import { EspruinoStorage, createEmulatedToken } from "../../../host-tools/src/sim/espruino";
import { EventScheduler } from "../../../host-tools/src/sim/scheduler";
import {
  FLAG_UTC,
  HEADER_BYTES,
  LOG_PREFIX,
  RECORD_BYTES,
  SEGMENT_BYTES,
  encodeHeader,
  encodeRecord
} from "../../../firmware/src/wire/log-record";
import { SECRETS_FILE, encodeSecrets } from "../../../firmware/src/wire/secrets";
import { TEK_FILE_PREFIX, encodeTekFile } from "../../../firmware/src/wire/tek-file";
import { TEST_BUILD_TIME, testBundle } from "../../helpers/firmware";

/**
 * A token's flash as the kiosk specs find it: provisioned, with a five-day
 * log in which the token heard a person later diagnosed, close by for 30
 * minutes, five days ago (segment 1), among strangers.
 */

export const DAY = 86400;
/** The kiosk's time of the first sync. */
export const T0 = TEST_BUILD_TIME + 40 * DAY;
export const SECRET = new Uint8Array(32).map((_, i) => 0xa0 ^ i);
export const TOKEN_ID = "00112233445566778899aabbccddeeff";
/** The diagnosed person's key, published later. */
export const TEK = new Uint8Array(16).fill(0x5e);
const MET_AT = T0 - 5 * DAY + 600;
export const SEGMENTS = [100, 100, 100, 100, 37];
/** The published key of the person the token met. */
export const KEYS: ExposureKey[] = [{ keyData: TEK, rollingStartIntervalNumber: Math.floor(MET_AT / 600 / 144) * 144, rollingPeriod: 144 }];

/** Records of one scan: the diagnosed phone close by for `minutes` (one record a minute), the rest strangers. */
export function segmentRecords(k: number, n: number): Uint8Array {
  const out = new Uint8Array(n * RECORD_BYTES);
  const key = new Uint8Array(6);
  const base = k === SEGMENTS.length ? T0 - 3600 : T0 - (6 - k) * DAY;
  const { rpik, aemk } = deriveKeys(TEK);
  for (let i = 0; i < n; i++) {
    const minute = Math.min(i, 59);
    if (k === 1 && i < 30) {
      // 30 minutes at −50 dBm from the diagnosed phone.
      const t = base + minute * 60;
      const rpi = deriveRpis(rpik, Math.floor(t / 600));
      const aem = encryptMetadata(aemk, rpi, Uint8Array.of(0x40, 0xf6, 0, 0));
      key.set(rpi.subarray(0, 5));
      key[5] = aem[1];
      assert.equal(Math.floor(base / 60) * 60, base);
      out.set(encodeRecord(key, 0, minute, -50, -50, 6), i * RECORD_BYTES);
    } else {
      for (let j = 0; j < 6; j++) key[j] = crypto.randomInt(256);
      out.set(encodeRecord(key, 0, minute, -65, -65, 1), i * RECORD_BYTES);
    }
  }
  return out;
}

/** The wearer's own keys of three past days (2 to 4 days before T0), as the token keeps them (pt.tek<start>). */
export function ownTeks(): Array<{ rollingStart: number; tek: Uint8Array }> {
  const today = Math.floor(T0 / 600 / 144) * 144;
  return [2, 3, 4].map((d) => ({ rollingStart: today - d * 144, tek: new Uint8Array(16).fill(0x30 + d) }));
}

/** Provisions `st` (this token's secrets, `archiveSecret`) and writes the log and the wearer's own older keys. */
export function writeExposedToken(st: EspruinoStorage, archiveSecret: Uint8Array, homeKey = new Uint8Array(32).fill(3)): void {
  st.write(SECRETS_FILE, encodeSecrets({ tokenId: Buffer.from(TOKEN_ID, "hex"), syncSecret: SECRET, archiveSecret, homeKey }));
  for (const k of ownTeks()) st.write(TEK_FILE_PREFIX + k.rollingStart, encodeTekFile(k.rollingStart, k.tek));
  for (let k = 1; k <= SEGMENTS.length; k++) {
    const base = k === SEGMENTS.length ? T0 - 3600 : T0 - (6 - k) * DAY;
    st.write(`${LOG_PREFIX}${k}`, encodeHeader(base, FLAG_UTC, 0), 0, SEGMENT_BYTES);
    st.write(`${LOG_PREFIX}${k}`, segmentRecords(k, SEGMENTS[k - 1]), HEADER_BYTES);
  }
}

/** The token's flash image file (as `simulate --out` writes them): the Puck.js test bundle, secrets and log. */
export async function writeExposedImage(file: string): Promise<void> {
  const token = createEmulatedToken({
    id: "exposed",
    board: loadBoard("puckjs"),
    bundle: (await testBundle("puckjs")).code,
    scheduler: new EventScheduler(T0),
    clock: new DriftingClock({ startTrue: T0, startLocal: T0 }),
    radio: { advertising: () => undefined, scanning: () => undefined },
    seed: 12
  });
  writeExposedToken(token.storage, new Uint8Array(32).fill(0x44), new Uint8Array(32).fill(0x33));
  fs.writeFileSync(file, token.flash.bytes);
}

/** The health authority's export holding KEYS (unsigned), as a zip. */
export function publishedBatch(): Promise<Buffer> {
  return buildExportZip({
    startTimestamp: T0 - 6 * DAY,
    endTimestamp: T0,
    region: "XX",
    batchNum: 1,
    batchSize: 1,
    signatureInfos: [],
    keys: KEYS,
    revisedKeys: []
  });
}

/** The care home's enrolment store holding this token as "Room 12", sealed with `passphrase`. */
export function writeEnrolmentStore(file: string, passphrase: string): void {
  writeStore(
    file,
    {
      homeKey: "33".repeat(32),
      created: "2025-01-01T00:00:00.000Z",
      enrolments: [
        {
          tokenId: TOKEN_ID,
          label: "Room 12",
          board: "puckjs",
          created: "2025-01-02T00:00:00.000Z",
          syncSecret: Buffer.from(SECRET).toString("hex")
        }
      ]
    },
    passphrase
  );
}
