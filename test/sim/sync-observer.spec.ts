import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadBoard } from "../../host-tools/src/build/boards";
import { Rng } from "../../host-tools/src/sim/prng";
import {
  CHUNK_OVERHEAD,
  Feature,
  FeatureStats,
  KIOSK_ADDRESS,
  LinkSession,
  ObservedWindow,
  ObserverWorld,
  chunkFrames,
  featureStats,
  framesFrom,
  hex,
  logBytesSeen,
  nearestNeighbourLinks
} from "../../host-tools/src/sim/stress/sync-observer";
import { useHostCrypto } from "../../host-tools/src/sync/host-crypto";
import { ADVERT_BYTES } from "../../firmware/src/wire/advert";
import { AUTH_BYTES, HELLO_BYTES, MSG_FAIL, MSG_PROVE, NONCE_BYTES, PROVE_BYTES, identify } from "../../firmware/src/wire/sync-handshake";
import { TEST_BUILD_TIME, testBundle } from "../helpers/firmware";

/**
 * What an eavesdropper records of 100 sync windows (10 emulated Puck.js
 * tokens running the real bundle, each opening its window 10 times, a kiosk
 * syncing each over the simulated link), and whether anything it recorded
 * links two windows of one token: addresses, adverts, the name, the
 * handshake, the sealed frames, the frame lengths. Then a kiosk without the
 * secret, against a token that backs off.
 *
 * PT_VERBOSE=1 prints what the observer sees.
 */

const TOKENS = 10;
const ROUNDS = 10;
/** Windows of one token are this far apart (plus up to 20 minutes): several address rotations (10–20 min) lie between two. */
const ROUND_GAP_S = 2 * 3600;
/** The kiosk's clock at the start: well after the bundle's build time, so every token's clock is valid from boot. */
const T0 = TEST_BUILD_TIME + 40 * 86400;
const verbose = Boolean(process.env.PT_VERBOSE);

/** Lengths of the frames that never vary (LEN included): docs/sync-protocol.md. */
const FIXED = { hello: 19, prove: 35, auth: 18, infoGet: 10, info: 44, timeSet: 14, timeDone: 18, logRead: 16, logAck: 16, logAcked: 16 };

function show(line: string): void {
  if (verbose) console.log(line);
}

function table(rows: string[][]): void {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) show("  " + r.map((x, c) => x.padEnd(widths[c])).join("  "));
}

const pct = (a: number, b: number): string => `${b ? ((100 * a) / b).toFixed(1) : "0.0"} %`;

/** A value an observer notes per frame: its head (LEN and 4 bytes after) or its tag. */
const sealedFrames = (w: ObservedWindow): Uint8Array[] => w.session.frames.slice(3).map((f) => f.bytes);

/**
 * Fresh: each value is new in every window (random, or derived from a
 * per-session key); none may recur in a second window, of this token or any.
 */
const FRESH: Feature[] = [
  { name: "window address", kind: "fresh", values: (w) => w.adverts.map((a) => a.address) },
  { name: "advert packet (31 bytes: GAEN RPI ‖ AEM)", kind: "fresh", values: (w) => w.adverts.map((a) => hex(a.packet)) },
  { name: "HELLO nonce Nc (the kiosk's)", kind: "fresh", values: (w) => [hex(framesFrom(w, "kiosk")[0].subarray(3))] },
  { name: "PROVE nonce Nt", kind: "fresh", values: (w) => [hex(framesFrom(w, "token")[0].subarray(3, 3 + NONCE_BYTES))] },
  { name: "PROVE proof", kind: "fresh", values: (w) => [hex(framesFrom(w, "token")[0].subarray(3 + NONCE_BYTES))] },
  { name: "AUTH proof", kind: "fresh", values: (w) => [hex(framesFrom(w, "kiosk")[1].subarray(2))] },
  { name: "sealed frame heads (LEN + 4 bytes)", kind: "fresh", values: (w) => sealedFrames(w).map((f) => hex(f.subarray(0, 5))) },
  { name: "sealed frame tags (8 bytes)", kind: "fresh", values: (w) => sealedFrames(w).map((f) => hex(f.subarray(f.length - 8))) }
];

/**
 * Same for every token, so they link nothing: each takes one value in all
 * 100 windows. (The scan response is not modelled by the emulation; on a
 * token it is Espruino's default, the Nordic UART UUID, the same on every
 * Espruino device.)
 */
const CONSTANT: Feature[] = [
  { name: 'device name (read once connected; "Token")', kind: "constant", values: (w) => [w.name] },
  {
    name: "connectable, scannable",
    kind: "constant",
    values: (w) => w.adverts.map((a) => `${a.connectable}/${a.scannable}`)
  },
  { name: "advert interval, tx power", kind: "constant", values: (w) => w.adverts.map((a) => `${a.intervalMs} ms, ${a.txPowerDbm} dBm`) },
  {
    name: "address type",
    kind: "constant",
    values: (w) => w.adverts.map((a) => (/^[c-f][0-9a-f](:[0-9a-f]{2}){5} random$/.test(a.address) ? "random static" : a.address))
  },
  {
    name: "advert length and header (flags, GAEN UUID fd6f)",
    kind: "constant",
    values: (w) => w.adverts.map((a) => `${a.packet.length}: ${hex(a.packet.subarray(0, 11))}`)
  },
  {
    name: "handshake headers (HELLO, PROVE, AUTH)",
    kind: "constant",
    values: (w) => [
      [
        hex(framesFrom(w, "kiosk")[0].subarray(0, 3)),
        hex(framesFrom(w, "token")[0].subarray(0, 3)),
        hex(framesFrom(w, "kiosk")[1].subarray(0, 2))
      ].join(" ")
    ]
  },
  {
    name: "fixed frame lengths (all but LOG_READ/LOG_CHUNK)",
    kind: "constant",
    values: (w) => {
      const k = framesFrom(w, "kiosk").map((f) => f.length);
      const t = framesFrom(w, "token").map((f) => f.length);
      return [`kiosk ${k.slice(0, 4).join(" ")} … ${k[k.length - 1]}; token ${t.slice(0, 3).join(" ")} … ${t[t.length - 1]}`];
    }
  },
  {
    name: "LOG_READ lengths",
    kind: "constant",
    values: (w) =>
      framesFrom(w, "kiosk")
        .slice(4, -1)
        .map((f) => String(f.length))
  },
  { name: "central (the kiosk's address)", kind: "constant", values: () => [KIOSK_ADDRESS] },
  { name: "who ends the link", kind: "constant", values: (w) => [w.session.endedBy] }
];

/** What the read of the log shows: the wearer's encounters since the last sync. */
const LOG_SIZE: Feature[] = [
  { name: "log bytes read (Σ LOG_CHUNK − 17)", kind: "log size", values: (w) => [String(logBytesSeen(w))] },
  {
    name: "LOG_CHUNK lengths, in order",
    kind: "log size",
    values: (w) => [
      chunkFrames(w)
        .map((f) => f.length)
        .join(" ")
    ]
  },
  { name: "LOG_READ round trips", kind: "log size", values: (w) => [String(chunkFrames(w).length)] },
  {
    name: "bytes on the link (both ways)",
    kind: "log size",
    values: (w) => [String(w.session.pieces.reduce((a, p) => a + p.bytes.length, 0))]
  }
];

function row(s: FeatureStats): string[] {
  return [
    s.name,
    s.kind,
    `${s.distinct} / ${s.windows}`,
    `${s.sameShared}/${s.samePairs} (${pct(s.sameShared, s.samePairs)})`,
    `${s.crossShared}/${s.crossPairs} (${pct(s.crossShared, s.crossPairs)})`,
    s.example.length > 40 ? s.example.slice(0, 37) + "…" : s.example
  ];
}

const HEAD = ["feature", "kind", "distinct / windows", "same-token pairs sharing", "other-token pairs sharing", "e.g."];

describe("sync observer: what an eavesdropper on 100 sync windows (10 tokens × 10) sees, and what of it links two windows of one token", function () {
  this.timeout(300_000);
  let world: ObserverWorld;
  let windows: ObservedWindow[] = [];
  let dir = "";
  const started = Date.now();

  before(async function () {
    const bundle = (await testBundle("puckjs")).code;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "pt-observer-"));
    world = new ObserverWorld({ board: loadBoard("puckjs"), bundle, tokens: TOKENS, seed: 11, startUnix: T0 });
    const rng = new Rng(23);
    // Past the silence after boot (until the next 10-minute interval), and a first hour of encounters.
    world.run(3600);
    const records = [];
    for (let round = 0; round < ROUNDS; round++) {
      const begin = world.scheduler.now;
      // A different order every round: the kiosk's queue is no identifier.
      const order = Array.from({ length: TOKENS }, (_, i) => i).sort(() => rng.next() - 0.5);
      for (const i of order) {
        records.push(await world.syncWindow(i, round, (id) => path.join(dir, id)));
        world.run(5 + rng.int(60));
      }
      world.run(Math.max(0, begin + ROUND_GAP_S + rng.int(1200) - world.scheduler.now));
    }
    // Every window's next rotation on record.
    world.run(3600);
    windows = records.map((r) => world.view(r));
  });

  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    show(`  run time: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  it("every window synced, with no fault on any token, and the observer holds every frame of every session", () => {
    assert.equal(windows.length, TOKENS * ROUNDS);
    for (const w of windows) {
      assert.equal(w.error, null, `token ${w.token}, round ${w.round}: ${w.error}`);
      assert.equal(w.result!.tokenId, world.secrets[w.token].tokenId);
      // The kiosk's own count of log bytes read is what the frame lengths say.
      assert.equal(logBytesSeen(w), w.result!.log.bytesRead, `token ${w.token}, round ${w.round}`);
    }
    for (const t of world.tokens)
      assert.deepEqual(
        t.uncaught.map((e) => e.message),
        []
      );
  });

  it("nothing on the air recurs: fresh values never appear in two windows, and what every window shares is the same for every token", () => {
    const stats = [...FRESH, ...CONSTANT, ...LOG_SIZE].map((f) => featureStats(windows, f));
    show(
      `\n  What the observer sees in ${windows.length} windows of ${TOKENS} tokens (pairs: ${stats[0].samePairs} of one token, ${stats[0].crossPairs} of two):`
    );
    table([HEAD, ...stats.map(row)]);
    show(
      "  scan response: not modelled by the emulation (Espruino's default on a token: the Nordic UART UUID, the same on every Espruino device)"
    );
    for (const s of stats.filter((x) => x.kind === "fresh")) {
      assert.equal(s.repeated, 0, `${s.name}: a value recurs`);
      assert.equal(s.sameShared + s.crossShared, 0, s.name);
    }
    for (const s of stats.filter((x) => x.kind === "constant")) {
      // One value in every window: pairs of one token share it exactly as often as pairs of two (all of them).
      assert.equal(s.distinct, 1, `${s.name}: ${s.distinct} values`);
      assert.equal(s.sameShared, s.samePairs, s.name);
      assert.equal(s.crossShared, s.crossPairs, s.name);
    }
    const v = (name: string): string => stats.find((s) => s.name.startsWith(name))!.example;
    assert.equal(v("device name"), "Token");
    assert.equal(v("advert length"), `${ADVERT_BYTES}: 02011a03036ffd17166ffd`);
    assert.equal(v("handshake headers"), "120101 220201 1103");
    const f = FIXED;
    assert.equal(
      v("fixed frame lengths"),
      `kiosk ${f.hello} ${f.auth} ${f.infoGet} ${f.timeSet} … ${f.logAck}; token ${f.prove} ${f.info} ${f.timeDone} … ${f.logAcked}`
    );
    assert.equal(v("LOG_READ lengths"), String(f.logRead));
    assert.equal(v("who ends the link"), "kiosk");
    assert.equal(HELLO_BYTES + 1, f.hello);
    assert.equal(PROVE_BYTES + 1, f.prove);
    assert.equal(AUTH_BYTES + 1, f.auth);
  });

  it("LOG_CHUNK lengths reveal the log read to the byte, and log size links windows of one token better than chance when wearers meet different numbers of people", () => {
    // Every token frame but PROVE, INFO, TIME_DONE and LOG_ACKED is a LOG_CHUNK whose length is 17 + its log bytes: nothing else varies.
    for (const w of windows) for (const c of chunkFrames(w)) assert.ok(c.length >= CHUNK_OVERHEAD && c.length <= 127);
    const bytes = windows.map(logBytesSeen);
    const chance = (ROUNDS - 1) / (windows.length - 1);
    const nn = nearestNeighbourLinks(windows, logBytesSeen);
    const exact = featureStats(windows, LOG_SIZE[0]);
    const perToken = Array.from({ length: TOKENS }, (_, t) => windows.filter((w) => w.token === t).map(logBytesSeen));
    show(`\n  Log bytes read per window, by token (contacts per scan window: the world's model of how many people each wearer meets):`);
    for (let t = 0; t < TOKENS; t++) show(`    token ${t} (${world.contactsPerScan[t].toFixed(2)}): ${perToken[t].join(" ")}`);
    show(
      `  Linking by log size alone: a window's nearest window by bytes read is the same token ${pct(nn * windows.length, windows.length)} of the time (guessing: ${pct(chance * 99, 99)});` +
        ` equal byte counts: ${exact.sameShared}/${exact.samePairs} same-token pairs, ${exact.crossShared}/${exact.crossPairs} other-token pairs.`
    );
    assert.ok(Math.min(...bytes) >= 0);
    // The documented leak (docs/sync-protocol.md, Threats: LOG_CHUNK lengths are
    // not padded): a wearer who meets many people reads long logs at every sync,
    // one who meets few reads short ones, so log size alone links windows of one
    // token more often than guessing does. This asserts that it does here, in a
    // world whose wearers differ 20-fold in how many people they meet; padding
    // chunks (or reading a fixed amount per sync) would be what flips it.
    assert.ok(nn > chance, `nearest by log size: ${nn} vs chance ${chance}`);
  });

  it("the window's address is the token's GAEN address of the moment (same packet, now connectable); the next rotation changes it", () => {
    const factory = new Set(world.tokens.map((_, i) => world.factoryAddress(i)));
    const gaps: number[] = [];
    let atClose = 0;
    for (const w of windows) {
      const where = `token ${w.token}, round ${w.round}`;
      const address = w.adverts[0].address;
      assert.ok(
        w.adverts.every((a) => a.address === address && hex(a.packet) === hex(w.adverts[0].packet)),
        `${where}: one address and packet all window`
      );
      assert.ok(w.before && !w.before.connectable, `${where}: GAEN advertising before the window`);
      assert.equal(address, w.before.address, `${where}: the window keeps the GAEN address (platform-api.ts setSyncWindow)`);
      assert.equal(hex(w.adverts[0].packet), hex(w.before.packet), `${where}: and the GAEN packet`);
      assert.ok(!factory.has(address), `${where}: never the factory address`);
      assert.ok(w.after, `${where}: a rotation after the window`);
      assert.notEqual(w.after.state!.address, address, where);
      assert.notEqual(
        hex(w.after.state!.packet.subarray(11, 27)),
        hex(w.adverts[0].packet.subarray(11, 27)),
        `${where}: a new RPI with the new address`
      );
      assert.ok(!w.after.state!.connectable);
      gaps.push(w.after.at - w.closed);
      if (w.after.at === w.closed) atClose++;
    }
    gaps.sort((a, b) => a - b);
    const q = (p: number): string => (gaps[Math.floor(p * (gaps.length - 1))] / 60).toFixed(1);
    show(
      `\n  The next address change after a window closed: ${atClose} of ${windows.length} at the moment it closed; minutes after the close: min ${q(0)}, median ${q(0.5)}, max ${q(1)}`
    );
  });

  it("a kiosk without the secret learns nothing that links: a backing-off token's decoy PROVE has the shape of a real one", async () => {
    const p = useHostCrypto();
    const t = 0;
    const secret = world.secrets[t].syncSecret;
    const wrong = [{ tokenId: "ff".repeat(16), syncSecret: new Uint8Array(32).fill(9) }];
    world.openWindow(t);
    const attempts: Array<{ kind: string; session: LinkSession }> = [];
    const wrongSecret = async (): Promise<void> => {
      const r = await world.syncOnce(t, (id) => path.join(dir, "never", id), { secrets: wrong });
      assert.match(r.error ?? "", /not enrolled here, or it is backing off/);
      attempts.push({ kind: "wrong secret", session: r.session });
    };
    const bogus = async (): Promise<void> => {
      attempts.push({ kind: "bogus AUTH", session: await world.bogusAuth(t) });
    };
    // Three real PROVEs, then the backoff (10 s, then 20 s) answers with decoys.
    for (let k = 0; k < 4; k++) await wrongSecret();
    await bogus();
    world.run(11);
    await bogus();
    await bogus();
    world.run(21);
    await wrongSecret();
    await wrongSecret();

    const interval = 7.5 / 1000;
    const look = (a: { kind: string; session: LinkSession }) => {
      const s = a.session;
      const prove = s.frames.find((f) => f.from === "token")!;
      const hello = s.frames[0];
      const real = identify(p, [secret], hello.bytes.subarray(3), prove.bytes) === 0;
      return {
        kind: a.kind,
        real,
        prove: prove.bytes,
        // What the observer sees: frame lengths and plain headers in order, the FAIL's bytes, the connection events between, who ended the link.
        shape: s.frames
          .map(
            (f) =>
              `${f.from === "kiosk" ? "C" : "T"}${f.bytes.length}${f.bytes[1] === MSG_FAIL ? `:${hex(f.bytes)}` : ""}@${Math.round((f.at - s.connectedAt) / interval)}`
          )
          .concat(`end:${s.endedBy}@${Math.round((s.endedAt - s.connectedAt) / interval)}`)
          .join(" "),
        header: hex(prove.bytes.subarray(0, 3)),
        sha256: s.tokenSha256
      };
    };
    const seen = attempts.map(look);
    show(`\n  A kiosk without the secret, against token ${t} (backoff after 3 failures):`);
    table(
      [["attempt", "PROVE (ground truth)", "what the observer sees (C/T length @connection event)", "SHA-256 on the token"]].concat(
        seen.map((s) => [s.kind, s.real ? "real" : "decoy", s.shape, String(s.sha256)])
      )
    );
    for (const kind of ["wrong secret", "bogus AUTH"]) {
      const real = seen.filter((s) => s.kind === kind && s.real);
      const decoy = seen.filter((s) => s.kind === kind && !s.real);
      assert.ok(real.length >= 1 && decoy.length >= 1, `${kind}: both real and decoy PROVEs (${real.length}, ${decoy.length})`);
      for (const s of [...real, ...decoy]) {
        assert.equal(s.shape, real[0].shape, `${kind}: the same frames, headers, FAIL and timing`);
        assert.equal(s.header, "220201");
        assert.equal(s.prove.length, PROVE_BYTES + 1);
        assert.equal(s.prove[1], MSG_PROVE);
      }
      // The emulation charges no time for the token's work, so the shapes above
      // are equal by construction in time. On a token the time is the work:
      // the decoy is a PROVE under a random key, made and checked like a real
      // one, so both cost the same SHA-256 calls (a cheaper decoy came back
      // a few 7.5 ms connection events sooner, which an observer could time).
      assert.deepEqual(new Set(decoy.map((s) => s.sha256)), new Set(real.map((s) => s.sha256)), `${kind}: the same work for a decoy`);
    }
    // No PROVE recurs, in failed handshakes or the 100 syncs.
    const all = seen.map((s) => hex(s.prove.subarray(3))).concat(windows.map((w) => hex(framesFrom(w, "token")[0].subarray(3))));
    assert.equal(new Set(all).size, all.length);
    assert.deepEqual(
      world.tokens[t].uncaught.map((e) => e.message),
      []
    );
  });
});
