import { strict as assert } from "node:assert";
import { loadBoard } from "../../../host-tools/src/build/boards";
import { DriftingClock } from "../../../host-tools/src/sim/clock";
import { EventScheduler } from "../../../host-tools/src/sim/scheduler";
import { createEmulatedToken } from "../../../host-tools/src/sim/espruino";
import { NUS_PAYLOAD_BYTES, NegotiatingCentral, TX_BUFFER_BYTES } from "../../../host-tools/src/sim/espruino/nrf-connection";
import { HCI_LOCAL_HOST_TERMINATED, HCI_REMOTE_USER_TERMINATED } from "../../../host-tools/src/sim/types";
import type { CentralLink } from "../../../host-tools/src/sim/types";
import { LONG_PRESS_MS, SYNC_WINDOW_MS } from "../../../firmware/src/ui";
import { TEST_BUILD_TIME, testBundle } from "../../helpers/firmware";
import { RecordingCentral, RecordingRadio, plain } from "./helpers";

/** True time the rig starts at; the token's clock reads a valid time a day after the build. */
const T0 = 1000;

/**
 * The shipped Puck.js bundle with a valid clock. The firmware has no link
 * code yet: where a spec needs the token's end of a link it stands in for it
 * at the console (`evaluate`), with Espruino's own `Bluetooth` and `NRF` calls.
 */
function boot(code: string, seed = 3, t0 = T0) {
  const scheduler = new EventScheduler(t0);
  const radio = new RecordingRadio();
  const clock = new DriftingClock({ driftPpm: 0, startTrue: t0, startLocal: TEST_BUILD_TIME + 86400 + 3600 });
  const token = createEmulatedToken({ id: "t1", board: loadBoard("puckjs"), bundle: code, scheduler, clock, radio, seed });
  token.boot();
  // Past the quiet start: the token is on the air with its GAEN packet.
  scheduler.runUntil(t0 + 700);
  return { token, scheduler, radio };
}
type Rig = ReturnType<typeof boot>;

/** The wearer holds the button: the sync window opens once the press is released. */
function openWindow(r: Rig): void {
  r.token.pressButton(LONG_PRESS_MS + 500);
  r.scheduler.runUntil(r.scheduler.now + 5);
}

function connectInWindow(r: Rig, central = new RecordingCentral(r.scheduler)): { central: RecordingCentral; link: CentralLink } {
  openWindow(r);
  const link = r.token.connect(central);
  assert.ok(link, "the open window accepts a central");
  return { central, link };
}

/** The token-side events a link layer would listen to, recorded in the token. */
const LISTEN =
  "var linkEvents = []; NRF.on('connect', function (a) { linkEvents.push('connect ' + a); }); NRF.on('disconnect', function (r) { linkEvents.push('disconnect ' + r); });";

const bytes = (n: number, from = 0): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);

/** A central that negotiates as a BlueZ kiosk does (MTU 517 asked, Espruino's 7.5 ms granted), recording what it was told. */
class BluezCentral extends RecordingCentral implements NegotiatingCentral {
  readonly attMtu = 517;
  readonly acceptsIntervalUpdate = true;
  readonly told: Array<{ at: number; what: string }> = [];
  constructor(
    private readonly clock: { readonly now: number },
    intervalMs: number
  ) {
    super(clock, "c0:ff:ee:00:00:01 public", intervalMs);
  }
  mtuChanged(mtu: number, payloadBytes: number): void {
    this.told.push({ at: this.clock.now, what: `mtu ${mtu} payload ${payloadBytes}` });
  }
  intervalChanged(intervalMs: number): void {
    this.told.push({ at: this.clock.now, what: `interval ${intervalMs}` });
  }
}

describe("sim Espruino: a central's link to the shipped firmware", function () {
  let code = "";
  before(async function () {
    this.timeout(120_000);
    code = (await testBundle("puckjs")).code;
  });

  it("accepts a central only while the sync window is open, one at a time, and stops advertising meanwhile", () => {
    const r = boot(code);
    assert.equal(r.radio.advert!.connectable, false, "GAEN advertising is not connectable");
    assert.equal(r.token.connect(new RecordingCentral(r.scheduler)), null, "outside the window");
    openWindow(r);
    assert.equal(r.radio.advert!.connectable, true);
    const link = r.token.connect(new RecordingCentral(r.scheduler));
    assert.ok(link && link.connected);
    assert.equal(
      r.token.connect(new RecordingCentral(r.scheduler, "11:22:33:44:55:66 public")),
      null,
      "a second central while one is connected"
    );
    assert.equal(r.radio.advert, null, "nothing on the air while connected");
    assert.deepEqual(
      r.token.uncaught.map((e) => e.message),
      []
    );
  });

  it("tells both ends when either ends the link, and the window's end drops a central still connected", () => {
    const r = boot(code);
    r.token.evaluate(LISTEN);
    const first = connectInWindow(r);
    first.link.disconnect();
    assert.equal(first.link.connected, false);
    assert.deepEqual(first.central.disconnects, [], "the central ended it: no callback to itself");
    assert.equal(r.radio.advert!.connectable, true, "the window is still open: connectable again");
    assert.equal(first.link.write(bytes(5)), false, "a closed link takes nothing");

    const second = new RecordingCentral(r.scheduler, "c0:11:22:33:44:55 random");
    const link = r.token.connect(second);
    assert.ok(link);
    const opened = r.scheduler.now;
    r.scheduler.runUntil(opened + SYNC_WINDOW_MS / 1000 + 5);
    assert.equal(link.connected, false, "still connected after the window closed");
    assert.deepEqual(second.disconnects, [HCI_REMOTE_USER_TERMINATED], "the token ended the link");
    assert.deepEqual(plain(r.token.evaluate("linkEvents")), [
      "connect aa:bb:cc:dd:ee:ff public",
      `disconnect ${HCI_REMOTE_USER_TERMINATED}`,
      "connect c0:11:22:33:44:55 random",
      `disconnect ${HCI_LOCAL_HOST_TERMINATED}`
    ]);
    assert.equal(r.radio.advert!.connectable, false);
    assert.equal(r.token.connect(new RecordingCentral(r.scheduler)), null, "closed window");
    assert.deepEqual(
      r.token.uncaught.map((e) => e.message),
      []
    );
  });

  it("a central loses the link when the token loses power", () => {
    const r = boot(code);
    const { central, link } = connectInWindow(r);
    r.token.powerCut();
    r.scheduler.runUntil(r.scheduler.now + 1);
    assert.equal(link.connected, false);
    assert.deepEqual(central.disconnects, [0x08], "a connection timeout: the token went silent");
  });

  it("hands the central's bytes to Bluetooth.on('data') in order, in ATT writes of at most 20 bytes", () => {
    const r = boot(code);
    r.token.evaluate("var rx = []; Bluetooth.on('data', function (d) { rx.push(d); });");
    const { link } = connectInWindow(r);
    const sent = [bytes(7), bytes(45, 7), bytes(1, 52), bytes(200, 53)];
    for (const b of sent) assert.equal(link.write(b), true);
    const got = plain(r.token.evaluate("rx")) as string[];
    assert.ok(
      got.every((d) => d.length >= 1 && d.length <= NUS_PAYLOAD_BYTES),
      got.map((d) => d.length).join(",")
    );
    assert.deepEqual(Buffer.from(got.join(""), "latin1"), Buffer.from(bytes(253)));
  });

  it("never runs what a central writes: the firmware takes the console off Bluetooth at boot", () => {
    const r = boot(code);
    const { central, link } = connectInWindow(r);
    const attack = ["global.pwned = 1", "\x10LED1.set()", "Bluetooth.write('pwned')", "E.reboot()", "reset()"]
      .map((l) => l + "\n")
      .join("");
    assert.equal(link.write(Buffer.from(attack, "latin1")), true, "the link took the bytes");
    r.scheduler.runUntil(r.scheduler.now + 2);
    assert.equal(r.token.evaluate("typeof global.pwned"), "undefined", "the first line did not run");
    assert.equal(r.token.evaluate("E.getConsole()"), null, "no console on any device");
    assert.deepEqual(r.token.resets, { reboots: 0, watchdog: 0, powerCuts: 0 }, "E.reboot() did not run");
    assert.equal(central.text, "", "no REPL echo and no output came back");
    assert.equal(r.token.output.filter((l) => /^=|Uncaught/.test(l)).length, 0, r.token.output.join("\n"));
    // The bytes reached the sync link's reader, whose first length byte ("g", 103) is past what it takes: it ended the link.
    assert.equal(link.connected, false, "the token ended the link");
    assert.deepEqual(central.disconnects, [0x13], "the token's firmware disconnected");
  });

  it("delivers the token's writes in order, one notification of at most 20 bytes per connection interval", () => {
    const r = boot(code);
    const { central, link } = connectInWindow(r);
    const start = r.scheduler.now;
    const total = 100;
    r.token.evaluate(`Bluetooth.write(new Uint8Array(${JSON.stringify(Array.from(bytes(60)))}), [${Array.from(bytes(40, 60)).join(",")}])`);
    assert.equal(link.txPending, total);
    r.scheduler.runUntil(start + 1);
    assert.deepEqual(Buffer.from(central.text, "latin1"), Buffer.from(bytes(total)));
    const I = central.intervalMs / 1000;
    assert.deepEqual(
      central.notifications.map((n) => [Math.round((n.at - start) / I), n.bytes.length]),
      Array.from({ length: total / NUS_PAYLOAD_BYTES }, (_, k) => [k + 1, NUS_PAYLOAD_BYTES]),
      "20 bytes at each of the next connection events"
    );
    assert.equal(link.txPending, 0);
    assert.equal(link.txStalledMs, 0, "100 bytes fit the TX buffer: Bluetooth.write returned at once");
  });

  it("paces the firmware's answer at one notification per event at a true time in 2030 too (Unix seconds near 2^31 are coarse floats)", () => {
    // A care-home simulation runs at such times; a reply written at a connection event once all went out at that same instant.
    const r = boot(code, 3, 1_893_974_310);
    const { central } = connectInWindow(r);
    const start = r.scheduler.now;
    const I = central.intervalMs / 1000;
    r.scheduler.runUntil(start + I);
    r.token.evaluate(`Bluetooth.write(new Uint8Array(${JSON.stringify(Array.from(bytes(60)))}))`);
    r.scheduler.runUntil(start + 1);
    assert.deepEqual(
      central.notifications.map((n) => Math.round((n.at - start) / I)),
      [2, 3, 4],
      "written at event 1: 20 bytes at each of events 2, 3 and 4"
    );
  });

  it("blocks Bluetooth.write while its 127-byte TX buffer is full, and a writer that keeps within it never blocks", () => {
    const r = boot(code);
    const { central, link } = connectInWindow(r);
    const I = central.intervalMs;
    const start = r.scheduler.now;
    // Within the buffer: no stall, however the writes are split.
    r.token.evaluate(`Bluetooth.write(new Uint8Array(${TX_BUFFER_BYTES - 27})); Bluetooth.write(new Uint8Array(27));`);
    assert.equal(link.txPending, TX_BUFFER_BYTES);
    assert.equal(link.txStalledMs, 0);
    // One byte more: the interpreter waits for the next notification to make room.
    r.token.evaluate("Bluetooth.write(1)");
    assert.ok(Math.abs(link.txStalledMs - I) < 1e-6, `${link.txStalledMs} ms`);
    r.scheduler.runUntil(start + 2);
    assert.equal(central.text.length, TX_BUFFER_BYTES + 1, "nothing is lost: the writer waited");

    // 300 bytes in one call: it returns once all but 127 have left, 20 per interval.
    const before = link.txStalledMs;
    const at = r.scheduler.now;
    r.token.evaluate("Bluetooth.write(new Uint8Array(300))");
    const phase = ((at - start) * 1000) % I; // time since the last connection event
    const expected = Math.ceil((300 - TX_BUFFER_BYTES) / NUS_PAYLOAD_BYTES) * I - phase;
    assert.ok(Math.abs(link.txStalledMs - before - expected) < 1e-6, `${link.txStalledMs - before} ms, expected ${expected}`);
    r.scheduler.runUntil(at + 2);
    assert.equal(central.text.length, TX_BUFFER_BYTES + 1 + 300);
    assert.ok(central.notifications.every((n) => n.bytes.length <= NUS_PAYLOAD_BYTES));
  });

  it("drops what the firmware writes while no central is connected", () => {
    const r = boot(code);
    r.token.evaluate("Bluetooth.write(new Uint8Array(500))");
    const { central, link } = connectInWindow(r);
    r.scheduler.runUntil(r.scheduler.now + 1);
    assert.equal(central.notifications.length, 0);
    assert.equal(link.txStalledMs, 0);
  });

  it("a central that asks for MTU 517 gets Puck.js's 53: notifications of 50 bytes from the second connection event, writes of up to 50", () => {
    const r = boot(code);
    r.token.evaluate("var rx = []; Bluetooth.on('data', function (d) { rx.push(d.length); });");
    openWindow(r);
    const central = new BluezCentral(r.scheduler, 7.5);
    const link = r.token.connect(central);
    assert.ok(link);
    const start = r.scheduler.now;
    const I = central.intervalMs / 1000;
    r.token.evaluate("Bluetooth.write(new Uint8Array(120))");
    r.scheduler.runUntil(start + 1);
    assert.deepEqual(
      central.told.map((t) => [Math.round((t.at - start) / I), t.what]),
      [[2, "mtu 53 payload 50"]]
    );
    assert.deepEqual(
      central.notifications.map((n) => [Math.round((n.at - start) / I), n.bytes.length]),
      [
        [1, 20],
        [2, 50],
        [3, 50]
      ],
      "20 bytes before the exchange completes, 50 after"
    );
    assert.equal(link.write(bytes(120)), true);
    assert.deepEqual(plain(r.token.evaluate("rx")), [50, 50, 20], "ATT writes of up to MTU − 3 bytes");
    // A plain central keeps the default MTU: covered by the 20-byte specs above.
  });

  it("a central at 50 ms that grants Espruino's 7.5 ms request runs at 7.5 ms from the instant, 0.45 s in; queued bytes follow the new interval", () => {
    const r = boot(code);
    openWindow(r);
    const central = new BluezCentral(r.scheduler, 50);
    const link = r.token.connect(central);
    assert.ok(link);
    const start = r.scheduler.now;
    r.token.evaluate(`Bluetooth.write(new Uint8Array(${TX_BUFFER_BYTES}))`);
    // Queued across the instant: one notification at the old interval's last event, the rest at the new one's.
    r.scheduler.runUntil(start + 0.38);
    r.token.evaluate(`Bluetooth.write(new Uint8Array(${TX_BUFFER_BYTES}))`);
    r.scheduler.runUntil(start + 2);
    const ms = (t: number): number => Math.round((t - start) * 10000) / 10;
    assert.deepEqual(
      central.told.map((t) => [ms(t.at), t.what]),
      [
        [100, "mtu 53 payload 50"],
        [450, "interval 7.5"]
      ],
      "request at the first event 100 ms in, the update sent at the next, in effect 6 events later"
    );
    assert.deepEqual(
      central.notifications.map((n) => [ms(n.at), n.bytes.length]),
      [
        [50, 20],
        [100, 50],
        [150, 50],
        [200, 7],
        [400, 50],
        [450, 50],
        [457.5, 27]
      ]
    );
    assert.equal(link.txPending, 0);
    assert.equal(link.txStalledMs, 0);
  });
});
