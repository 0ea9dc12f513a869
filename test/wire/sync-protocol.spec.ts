import { strict as assert } from "node:assert";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { useBoard } from "../helpers/board";
import { FakePlatform } from "../helpers/fake-platform";
import { Rng } from "../../host-tools/src/sim/prng";
import { LINK_TX_BYTES } from "../../firmware/src/platform-api";
import {
  DIR_CENTRAL,
  DIR_TOKEN,
  FRAME_MAX,
  FrameReader,
  MESSAGE_MAX,
  SyncSession,
  TAG_BYTES,
  TOKEN_RX_BODY_MAX,
  createReader,
  createSession,
  feed,
  open,
  seal
} from "../../firmware/src/wire/sync-frame";
import {
  FAIL_AUTH,
  FAIL_VERSION,
  MSG_FAIL,
  TokenPending,
  backoffSeconds,
  centralAuth,
  centralHello,
  failFrame,
  identify,
  mayHandshake,
  readHello,
  readProve,
  tokenAccept,
  tokenProve
} from "../../firmware/src/wire/sync-handshake";
import {
  CHUNK_DATA_MAX,
  ERR_LENGTH,
  ERR_UNKNOWN,
  ERR_VALUE,
  INFO_BYTES,
  REQ_INFO,
  REQ_LOG_ACK,
  REQ_LOG_READ,
  REQ_RISK_SET,
  REQ_TEK_GET,
  REQ_TIME_SET,
  SyncRequest,
  TEK_NO_CONSENT,
  TokenInfo,
  decodeChunk,
  decodeError,
  decodeInfo,
  decodePair,
  decodeRequest,
  decodeTek,
  encodeChunk,
  encodeError,
  encodeInfo,
  encodePair,
  encodeRequest,
  encodeTek,
  infoValues,
  decodeArchive
} from "../../firmware/src/wire/sync-messages";

/**
 * The sync protocol's frame layer, handshake and messages (docs/sync-protocol.md).
 * The golden frames in test/fixtures/wire/sync-*.json were computed by an
 * independent reference (Node's HMAC and AES, not the firmware code); the
 * encoder must produce them byte for byte, on the native and the pure-JS
 * crypto paths alike.
 */

const bytes = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, "hex"));
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
function fixture<T>(name: string): T {
  return JSON.parse(fs.readFileSync(path.join(__dirname, "..", "fixtures", "wire", name), "utf8")) as T;
}

interface SessionFixture {
  secret: string;
  nc: string;
  nt: string;
  hello: string;
  prove: string;
  auth: string;
  sessionKey: string;
  frames: Array<{ name: string; dir: "central" | "token"; seq: number; message: string; frame: string }>;
}
interface MessageFixture {
  messages: Array<{
    name: string;
    dir: string;
    hex: string;
    request?: SyncRequest;
    info?: TokenInfo;
    chunk?: { seg: number; off: number; flags: number; data: string };
    pair?: { request: number; a: number; b: number };
    tek?: { status: number; count: number; index: number; rollingStart: number; tek: string };
    error?: number;
  }>;
}

const G = fixture<SessionFixture>("sync-session.json");
const M = fixture<MessageFixture>("sync-messages.json");
const SECRET = bytes(G.secret);

/** What a token keeps across connections for the backoff rule. */
interface Backoff {
  failures: number;
  lastFailure: number;
  now: number;
}

/** A token's side of one connection, composed the way firmware/src/sync.ts will: reader, handshake, session, backoff. */
class TokenEnd {
  decoy = false;
  readonly reader: FrameReader = createReader(TOKEN_RX_BODY_MAX);
  pending: TokenPending | null = null;
  session: SyncSession | null = null;
  closed = false;
  proves = 0;
  readonly sent: Uint8Array[] = [];
  /** Requests that reached the application: only ever from an authenticated frame. */
  readonly handled: Array<SyncRequest | number> = [];
  constructor(
    private readonly p: FakePlatform,
    private readonly secret: Uint8Array,
    private readonly nonce: () => Uint8Array,
    private readonly backoff: Backoff = { failures: 0, lastFailure: 0, now: 0 }
  ) {}
  write(data: Uint8Array): void {
    if (!this.closed && !feed(this.reader, data, (f) => this.frame(f))) this.closed = true;
  }
  private frame(f: Uint8Array): boolean {
    if (this.session) {
      const m = open(this.p, this.session, f);
      if (!m) return this.close();
      const r = decodeRequest(m);
      this.handled.push(r);
      this.sent.push(seal(this.p, this.session, typeof r === "number" ? encodeError(r) : encodePair(r.type, r.seg, 4, r.off, 2)));
      return true;
    }
    if (!this.pending) {
      const nc = readHello(f);
      if (typeof nc === "number") return this.close(nc);
      this.pending = { nc, nt: this.nonce() };
      this.proves++;
      const b = this.backoff;
      this.decoy = !mayHandshake(b.failures, b.lastFailure, b.now);
      // The token's decoy (sync.ts): a PROVE under a random key.
      if (this.decoy) this.sent.push(tokenProve(this.p, new Uint8Array(crypto.randomBytes(32)), this.pending));
      else {
        // Counted as a failure until a valid AUTH arrives (a dropped link is one too).
        b.failures++;
        b.lastFailure = b.now;
        this.sent.push(tokenProve(this.p, this.secret, this.pending));
      }
      return true;
    }
    this.session = this.decoy ? null : tokenAccept(this.p, this.secret, this.pending, f);
    this.pending = null;
    if (this.session) this.backoff.failures = 0;
    return this.session ? true : this.close(FAIL_AUTH);
  }
  private close(reason?: number): boolean {
    if (reason) this.sent.push(failFrame(reason));
    this.closed = true;
    return false;
  }
}

/** Bytes as a central writes them: ATT writes of at most 20 bytes. */
function in20(t: TokenEnd, data: Uint8Array): void {
  for (let o = 0; o < data.length; o += 20) t.write(data.subarray(o, o + 20));
}

function handshake(p: FakePlatform, tokenSecret: Uint8Array, centralSecret: Uint8Array, nc: Uint8Array, nt: Uint8Array) {
  const token = new TokenEnd(p, tokenSecret, () => nt);
  in20(token, centralHello(nc));
  const prove = token.sent[0];
  const { frame, session } = centralAuth(p, centralSecret, nc, readProve(prove) as Uint8Array);
  in20(token, frame);
  return { token, prove, central: session };
}

const copy = (s: SyncSession): SyncSession => ({ ...s });

for (const board of ["puckjs", "pixljs"]) {
  describe(`sync protocol golden frames (${board}: ${board === "puckjs" ? "native" : "pure-JS"} SHA-256 and AES)`, () => {
    let p: FakePlatform;
    beforeEach(() => {
      useBoard(board);
      p = new FakePlatform();
    });

    it("handshake frames and session key are the golden bytes", () => {
      const nc = bytes(G.nc);
      const nt = bytes(G.nt);
      assert.equal(hex(centralHello(nc)), G.hello);
      assert.equal(hex(tokenProve(p, SECRET, { nc, nt })), G.prove);
      const a = centralAuth(p, SECRET, nc, nt);
      assert.equal(hex(a.frame), G.auth);
      assert.equal(hex(a.session.enc) + hex(a.session.mac), G.sessionKey);
      const t = tokenAccept(p, SECRET, { nc, nt }, bytes(G.auth));
      assert.ok(t);
      assert.equal(hex(t.enc) + hex(t.mac), G.sessionKey);
      assert.equal(t.dir, DIR_TOKEN);
      assert.equal(a.session.dir, DIR_CENTRAL);
    });

    it("every sealed frame of the golden session, in order, and each opens to its message on the other side", () => {
      const k = bytes(G.sessionKey);
      const tx = { central: createSession(k, DIR_CENTRAL), token: createSession(k, DIR_TOKEN) };
      const rx = { central: createSession(k, DIR_TOKEN), token: createSession(k, DIR_CENTRAL) };
      for (const f of G.frames) {
        assert.equal(tx[f.dir].txSeq, f.seq, f.name);
        const frame = seal(p, tx[f.dir], bytes(f.message));
        assert.equal(hex(frame), f.frame, f.name);
        assert.ok(frame.length <= FRAME_MAX, f.name);
        // rx[f.dir] is the peer's session: its own dir is the other one.
        const m = open(p, f.dir === "central" ? rx.central : rx.token, frame);
        assert.ok(m, f.name);
        assert.equal(hex(m), f.message, f.name);
      }
    });
  });
}

describe("sync messages", () => {
  it("each encoder gives the golden bytes and each decoder gives the fields back", () => {
    for (const m of M.messages) {
      const want = m.hex;
      if (m.request) {
        assert.equal(hex(encodeRequest(m.request)), want, m.name);
        assert.deepEqual(decodeRequest(bytes(want)), m.request, m.name);
      } else if (m.info) {
        assert.equal(hex(encodeInfo(infoValues(m.info))), want, m.name);
        assert.deepEqual(decodeInfo(bytes(want)), m.info, m.name);
      } else if (m.chunk) {
        assert.equal(hex(encodeChunk(m.chunk.seg, m.chunk.off, m.chunk.flags, bytes(m.chunk.data))), want, m.name);
        const c = decodeChunk(bytes(want));
        assert.ok(c);
        assert.deepEqual({ ...c, data: hex(c.data) }, m.chunk, m.name);
      } else if (m.pair) {
        const { request, a, b } = m.pair;
        const [an, bn] = request === REQ_RISK_SET ? [1, 1] : request === REQ_TIME_SET ? [4, 4] : [4, 2];
        assert.equal(hex(encodePair(request, a, an, b, bn)), want, m.name);
        assert.deepEqual(decodePair(request, bytes(want)), [a, b], m.name);
      } else if (m.tek) {
        const t = m.tek;
        assert.equal(hex(encodeTek(t.status, t.count, t.index, t.rollingStart, t.tek ? bytes(t.tek) : null)), want, m.name);
        const d = decodeTek(bytes(want));
        assert.ok(d);
        assert.deepEqual({ ...d, tek: hex(d.tek) }, t, m.name);
      } else if (m.error) {
        assert.equal(hex(encodeError(m.error)), want, m.name);
        assert.equal(decodeError(bytes(want)), m.error, m.name);
      } else assert.fail(`fixture ${m.name} has no fields`);
    }
  });

  it("every request type is covered by the fixture, and every response fits one frame", () => {
    const types = new Set(M.messages.map((m) => bytes(m.hex)[0]));
    for (const t of [REQ_INFO, REQ_LOG_READ, REQ_LOG_ACK, REQ_TIME_SET, REQ_RISK_SET, REQ_TEK_GET]) {
      assert.ok(types.has(t), `request ${t}`);
      assert.ok(types.has(t | 0x80), `response ${t | 0x80}`);
    }
    assert.equal(8 + CHUNK_DATA_MAX, MESSAGE_MAX);
    assert.equal(1 + MESSAGE_MAX + TAG_BYTES, LINK_TX_BYTES);
    assert.ok(INFO_BYTES <= MESSAGE_MAX);
    assert.equal(decodeChunk(encodeChunk(1, 0, 0, new Uint8Array(CHUNK_DATA_MAX + 1))), null);
  });

  it("INFO saturates counts and clamps drift instead of wrapping", () => {
    const info: TokenInfo = {
      firmware: 1,
      board: 300,
      battery: -5,
      clock: 0,
      drift: -100000,
      clockSetAt: 0,
      faults: 70000,
      resets: 2,
      logFirst: 0,
      logLast: 0,
      logLastBytes: 0,
      dropped: 2 ** 33
    };
    const d = decodeInfo(encodeInfo(infoValues(info)));
    assert.deepEqual(d, { ...info, board: 255, battery: 0, drift: -32767, faults: 65535, dropped: 2 ** 32 - 1 });
    assert.equal(decodeInfo(encodeInfo(infoValues({ ...info, drift: 99999 })))?.drift, 32767);
  });

  it("the token refuses unknown types, wrong lengths and risk levels out of range, with a code", () => {
    assert.equal(decodeRequest(bytes("0f")), ERR_UNKNOWN);
    assert.equal(decodeRequest(bytes("00")), ERR_UNKNOWN);
    assert.equal(decodeRequest(bytes("17")), ERR_UNKNOWN);
    assert.equal(decodeRequest(bytes("1600")), ERR_LENGTH, "ARCHIVE_GET has no payload");
    assert.equal(decodeArchive(bytes("96" + "ab".repeat(31))), null, "an ARCHIVE one byte short is not one");
    assert.deepEqual(decodeArchive(bytes("96" + "ab".repeat(32))), new Uint8Array(32).fill(0xab));
    assert.equal(decodeRequest(bytes("90")), ERR_UNKNOWN);
    assert.equal(decodeRequest(new Uint8Array(0)), ERR_UNKNOWN);
    assert.equal(decodeRequest(bytes("1000")), ERR_LENGTH);
    assert.equal(decodeRequest(bytes("111b000000")), ERR_LENGTH);
    assert.equal(decodeRequest(bytes("140307")), ERR_VALUE);
    assert.deepEqual(decodeRequest(bytes("140200")), { type: REQ_RISK_SET, seg: 0, off: 0, value: 2, reason: 0 });
    assert.equal(decodeTek(bytes("9501"))?.status, TEK_NO_CONSENT);
    assert.equal(decodeTek(bytes("9500")), null);
  });
});

describe("sync handshake", () => {
  let p: FakePlatform;
  beforeEach(() => {
    useBoard("puckjs");
    p = new FakePlatform();
  });

  it("a full handshake over 20-byte writes gives both sides the same session", () => {
    const nc = new Uint8Array(crypto.randomBytes(16));
    const { token, central } = handshake(p, SECRET, SECRET, nc, new Uint8Array(crypto.randomBytes(16)));
    assert.ok(token.session && !token.closed);
    in20(token, seal(p, central, encodeRequest({ type: REQ_LOG_READ, seg: 4, off: 16, value: 0, reason: 0 })));
    const reply = open(p, central, token.sent[1]);
    assert.ok(reply);
    assert.deepEqual(decodePair(REQ_LOG_READ, reply), [4, 16]);
  });

  it("a central without the secret gets FAIL and no session; its proof would be wrong anyway", () => {
    const wrong = new Uint8Array(32).fill(7);
    const { token } = handshake(p, SECRET, wrong, bytes(G.nc), bytes(G.nt));
    assert.equal(token.session, null);
    assert.ok(token.closed);
    assert.equal(hex(token.sent[1]), hex(failFrame(FAIL_AUTH)));
    assert.equal(token.sent[1][1], MSG_FAIL);
  });

  it("a recorded AUTH does not open a later session (the token's nonce is fresh)", () => {
    const nc = bytes(G.nc);
    const recorded = centralAuth(p, SECRET, nc, bytes(G.nt)).frame;
    const token = new TokenEnd(p, SECRET, () => new Uint8Array(crypto.randomBytes(16)));
    in20(token, centralHello(nc));
    in20(token, recorded);
    assert.equal(token.session, null);
  });

  it("a recorded PROVE does not pass for the token in a later session (the kiosk's nonce is fresh)", () => {
    const secrets = [new Uint8Array(32).fill(1), SECRET];
    assert.equal(identify(p, secrets, bytes(G.nc), bytes(G.prove)), 1);
    assert.equal(identify(p, secrets, new Uint8Array(crypto.randomBytes(16)), bytes(G.prove)), -1);
  });

  it("a HELLO of another version or shape is refused with FAIL before any crypto", () => {
    const h = centralHello(bytes(G.nc));
    h[2] = 2;
    assert.equal(readHello(h), FAIL_VERSION);
    assert.equal(readHello(h.subarray(0, 10)), FAIL_AUTH);
    const t = new TokenEnd(p, SECRET, () => bytes(G.nt));
    t.write(h);
    assert.ok(t.closed);
    assert.equal(t.proves, 0);
  });

  it("the token's first message links nothing: 2 tokens × 300 sessions against one chosen nonce", () => {
    const nc = new Uint8Array(16).fill(0xaa); // a fake kiosk's fixed nonce
    const secrets = [SECRET, new Uint8Array(crypto.randomBytes(32))];
    const seen = new Set<string>();
    const perToken = secrets.map(() => [] as Uint8Array[]);
    secrets.forEach((s, i) => {
      for (let n = 0; n < 300; n++) {
        const t = new TokenEnd(p, s, () => new Uint8Array(crypto.randomBytes(16)));
        t.write(centralHello(nc));
        const prove = t.sent[0];
        assert.ok(!seen.has(hex(prove)), "a PROVE repeated");
        seen.add(hex(prove));
        perToken[i].push(prove);
      }
    });
    // Same length and header for every token; no other byte position is constant for one token.
    for (const list of perToken)
      for (const f of list) {
        assert.equal(f.length, perToken[0][0].length);
        assert.equal(hex(f.subarray(0, 3)), hex(perToken[0][0].subarray(0, 3)));
      }
    for (const list of perToken)
      for (let pos = 3; pos < list[0].length; pos++) assert.ok(new Set(list.map((f) => f[pos])).size > 100, `byte ${pos} nearly constant`);
    // Nor do bytes of one token lean anywhere: the mean of each position is the same across tokens (random bytes: 127.5 ± ~4.3 for 300 samples).
    for (let pos = 3; pos < perToken[0][0].length; pos++) {
      const means = perToken.map((l) => l.reduce((a, f) => a + f[pos], 0) / l.length);
      assert.ok(Math.abs(means[0] - means[1]) < 30, `byte ${pos}: ${means}`);
    }
  });

  it("the kiosk finds the token among its enrolled secrets, and says how fast it tries them", function () {
    const enrolled = Array.from({ length: 500 }, () => new Uint8Array(crypto.randomBytes(32)));
    const nc = new Uint8Array(crypto.randomBytes(16));
    const t = new TokenEnd(p, enrolled[437], () => new Uint8Array(crypto.randomBytes(16)));
    t.write(centralHello(nc));
    const t0 = process.hrtime.bigint();
    assert.equal(identify(p, enrolled, nc, t.sent[0]), 437);
    assert.equal(identify(p, enrolled.slice(0, 437), nc, t.sent[0]), -1);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    const rate = Math.round(874 / s);
    this.test!.title += ` (shared code on Node: ${rate} secrets/s)`;
    assert.ok(rate > 5000, `${rate} tries/s`);
  });
});

describe("sync frames refuse what was not sent once, in order, by the peer", () => {
  let p: FakePlatform;
  let k: Uint8Array;
  let tx: SyncSession;
  let frames: Uint8Array[];
  const rxFresh = (): SyncSession => createSession(k, DIR_CENTRAL);
  beforeEach(() => {
    useBoard("puckjs");
    p = new FakePlatform();
    k = bytes(G.sessionKey);
    tx = createSession(k, DIR_TOKEN);
    frames = [1, 2, 3].map((n) => seal(p, tx, encodeChunk(9, n * 100, 0, new Uint8Array(100).fill(n))));
  });

  it("replay: the same frame twice", () => {
    const rx = rxFresh();
    assert.ok(open(p, rx, frames[0]));
    assert.equal(open(p, rx, frames[0]), null);
    assert.ok(rx.dead);
    assert.equal(open(p, rx, frames[1]), null, "a dead session opens nothing");
  });

  it("reorder and drop: a frame out of turn", () => {
    assert.equal(open(p, rxFresh(), frames[1]), null);
    const rx = rxFresh();
    assert.ok(open(p, rx, frames[0]));
    assert.equal(open(p, rx, frames[2]), null);
  });

  it("splice: a frame of another session, or of the other direction", () => {
    const other = createSession(new Uint8Array(crypto.randomBytes(32)), DIR_TOKEN);
    assert.equal(open(p, rxFresh(), seal(p, other, encodeError(1))), null);
    // Reflected: the token's own frame sent back to it.
    assert.equal(open(p, createSession(k, DIR_TOKEN), frames[0]), null);
    // A frame of session 2 at the same sequence number, under session 1's keys.
    const s2 = createSession(new Uint8Array(crypto.randomBytes(32)), DIR_TOKEN);
    assert.equal(open(p, rxFresh(), seal(p, s2, encodeChunk(9, 100, 0, new Uint8Array(100).fill(1)))), null);
  });

  it("truncation and extension, with LEN fixed up or not", () => {
    const f = frames[0];
    for (const cut of [f.subarray(0, f.length - 1), f.subarray(0, 2), f.subarray(0, 1)]) assert.equal(open(p, rxFresh(), cut), null);
    const shorter = new Uint8Array(f.subarray(0, f.length - 1));
    shorter[0]--;
    assert.equal(open(p, rxFresh(), shorter), null);
    const longer = new Uint8Array(f.length + 1);
    longer.set(f);
    longer[0]++;
    assert.equal(open(p, rxFresh(), longer), null);
  });

  it("every single bit flipped anywhere in a frame", () => {
    const f = frames[0];
    for (let i = 0; i < f.length * 8; i++) {
      const g = new Uint8Array(f);
      g[i >> 3] ^= 1 << (i & 7);
      const rx = rxFresh();
      assert.equal(open(p, rx, g), null, `bit ${i}`);
      assert.equal(rx.rxSeq, 0);
    }
  });

  it("seal refuses a message that would not fit LINK_TX_BYTES, and the largest fits exactly", () => {
    assert.equal(seal(p, tx, new Uint8Array(MESSAGE_MAX)).length, LINK_TX_BYTES);
    assert.throws(() => seal(p, tx, new Uint8Array(MESSAGE_MAX + 1)));
    assert.throws(() => seal(p, tx, new Uint8Array(0)));
  });
});

describe("sync reassembly is bounded", () => {
  beforeEach(() => useBoard("puckjs"));

  it("frames split at any point, or many in one write, come out whole", () => {
    const rng = new Rng(11);
    const want = Array.from({ length: 50 }, (_, i) => {
      const body = new Uint8Array(1 + rng.int(TOKEN_RX_BODY_MAX));
      body.fill(i);
      return body;
    });
    const stream = Buffer.concat(want.map((b) => Buffer.concat([Buffer.from([b.length]), b])));
    const got: string[] = [];
    const r = createReader(TOKEN_RX_BODY_MAX);
    for (let o = 0; o < stream.length;) {
      const n = 1 + rng.int(40);
      assert.ok(
        feed(r, new Uint8Array(stream.subarray(o, o + n)), (f) => {
          got.push(hex(f.subarray(1)));
          return true;
        })
      );
      o += n;
    }
    assert.deepEqual(
      got,
      want.map((b) => hex(b))
    );
  });

  it("a length of 0 or past the buffer stops the reader for good, without storing a byte", () => {
    for (const len of [0, TOKEN_RX_BODY_MAX + 1, 255]) {
      const r = createReader(TOKEN_RX_BODY_MAX);
      assert.equal(
        feed(r, new Uint8Array([len, 1, 2, 3]), () => true),
        false
      );
      assert.equal(r.have, 0);
      assert.equal(
        feed(r, new Uint8Array([1, 1]), () => assert.fail("a bad reader delivered")),
        false
      );
    }
  });

  it("garbage in 20-byte writes over 500 connections never grows the token's state", () => {
    const p = new FakePlatform();
    const rng = new Rng(3);
    let closedAfter = 0;
    for (let conn = 0; conn < 500; conn++) {
      const t = new TokenEnd(p, SECRET, () => new Uint8Array(crypto.randomBytes(16)));
      const buf = t.reader.buf;
      for (let w = 0; w < 100; w++) {
        const d = new Uint8Array(1 + rng.int(20));
        for (let i = 0; i < d.length; i++) d[i] = rng.int(256);
        t.write(d);
        assert.equal(t.reader.buf, buf);
        assert.ok(t.reader.have <= TOKEN_RX_BODY_MAX + 1);
        if (t.closed) {
          closedAfter += w;
          break;
        }
      }
      assert.equal(t.reader.buf.length, TOKEN_RX_BODY_MAX + 1);
      assert.equal(t.session, null);
      assert.ok(t.sent.length <= 2 && t.proves <= 1);
    }
    assert.ok(closedAfter < 500 * 10, "garbage is refused within a few writes");
  });
});

describe("sync fuzz: 20,000 random and garbled frames", () => {
  it("no throw escapes, and nothing changes without a valid tag", () => {
    useBoard("puckjs");
    const p = new FakePlatform();
    const rng = new Rng(2024);
    const k = bytes(G.sessionKey);
    const centralTx = createSession(k, DIR_CENTRAL);
    const valid = [
      encodeRequest({ type: REQ_INFO, seg: 0, off: 0, value: 0, reason: 0 }),
      encodeRequest({ type: REQ_TIME_SET, seg: 0, off: 0, value: 1767225600, reason: 0 }),
      encodeRequest({ type: REQ_RISK_SET, seg: 0, off: 0, value: 2, reason: 1 })
    ].map((m) => seal(p, centralTx, m));
    const handshakeFrames = [bytes(G.hello), bytes(G.auth)];
    let garbled = 0;
    for (let n = 0; n < 20000; n++) {
      // One authenticated token at its first frame, and one waiting for AUTH.
      const t = new TokenEnd(p, SECRET, () => bytes(G.nt));
      t.session = createSession(k, DIR_TOKEN);
      const h = new TokenEnd(p, SECRET, () => bytes(G.nt));
      h.write(bytes(G.hello));
      let f: Uint8Array;
      const kind = n % 4;
      if (kind === 0) {
        f = new Uint8Array(rng.int(FRAME_MAX + 2));
        for (let i = 0; i < f.length; i++) f[i] = rng.int(256);
      } else {
        const base = kind === 3 ? handshakeFrames[rng.int(2)] : valid[rng.int(valid.length)];
        f = new Uint8Array(base);
        const flips = 1 + rng.int(4);
        for (let i = 0; i < flips; i++) f[rng.int(f.length)] ^= 1 + rng.int(255);
        if (kind === 2) f = f.subarray(0, rng.int(f.length + 1));
      }
      const same = (i: number): boolean => valid[i].length === f.length && hex(valid[i]) === hex(f);
      const authentic = same(0);
      if (!authentic) garbled++;
      for (const end of [t, h]) {
        const before = end.session ? copy(end.session) : null;
        assert.doesNotThrow(() => in20(end, f));
        assert.ok(end.reader.buf.length === TOKEN_RX_BODY_MAX + 1);
        if (!authentic && before) {
          assert.equal(end.handled.length, 0, `frame ${n} reached the application`);
          assert.equal(end.session?.rxSeq ?? 0, before.rxSeq);
        }
      }
      // A garbled AUTH never opens a session.
      if (hex(f) !== G.auth) assert.equal(h.session, null, `frame ${n} authenticated`);
    }
    assert.ok(garbled > 19000);
  });
});

describe("sync backoff on the token", () => {
  it("a token backing off answers with a decoy PROVE no central can tell from a real one, and refuses AUTH", () => {
    useBoard("puckjs");
    const p = new FakePlatform();
    const b: Backoff = { failures: 0, lastFailure: 0, now: 1000 };
    const fresh = (): Uint8Array => new Uint8Array(crypto.randomBytes(16));
    const wrong = new Uint8Array(32).fill(9);
    const attempt = (secret: Uint8Array) => {
      const t = new TokenEnd(p, SECRET, fresh, b);
      const nc = fresh();
      t.write(centralHello(nc));
      const prove = t.sent[0];
      const auth = centralAuth(p, secret, nc, readProve(prove) as Uint8Array);
      t.write(auth.frame);
      return { t, prove, nc };
    };
    for (let i = 0; i < 3; i++) assert.equal(attempt(wrong).t.decoy, false, `failure ${i + 1} is free`);
    b.now += 9;
    const d = attempt(SECRET);
    assert.ok(d.t.decoy);
    assert.equal(d.prove.length, tokenProve(p, SECRET, { nc: fresh(), nt: fresh() }).length);
    assert.equal(hex(d.prove.subarray(0, 3)), hex(bytes(G.prove).subarray(0, 3)));
    assert.equal(identify(p, [SECRET], d.nc, d.prove), -1);
    assert.equal(d.t.session, null);
    assert.equal(hex(d.t.sent[1]), hex(failFrame(FAIL_AUTH)));
    assert.equal(b.failures, 3, "a decoy is not counted");
    b.now += 1;
    const ok = attempt(SECRET);
    assert.equal(ok.t.decoy, false);
    assert.ok(ok.t.session);
    assert.equal(b.failures, 0);
  });

  it("the first three failures are free, then 10 s doubling to a 10-minute cap", () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 50, 1e9].map(backoffSeconds),
      [0, 0, 0, 10, 20, 40, 80, 160, 320, 600, 600, 600, 600]
    );
  });

  it("a handshake is allowed once the wait since the last failure has passed", () => {
    assert.equal(mayHandshake(2, 1000, 1000), true);
    assert.equal(mayHandshake(3, 1000, 1009), false);
    assert.equal(mayHandshake(3, 1000, 1010), true);
    assert.equal(mayHandshake(9, 1000, 1599), false);
    assert.equal(mayHandshake(9, 1000, 1600), true);
    // A clock that went back (set by a kiosk, or uptime after a reset) does not lock the token out.
    assert.equal(mayHandshake(9, 1000, 10), true);
  });
});
