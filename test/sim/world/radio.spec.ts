import { strict as assert } from "node:assert";
import { EventScheduler } from "../../../host-tools/src/sim/scheduler";
import { Movement } from "../../../host-tools/src/sim/world/movement";
import { RadioMedium, packetServices } from "../../../host-tools/src/sim/world/radio";
import { DEFAULT_PROPAGATION, PropagationParams, Shadowing, pathLossDb } from "../../../host-tools/src/sim/world/propagation";
import { Scenario } from "../../../host-tools/src/sim/world/scenario";
import { buildAdvert } from "../../../firmware/src/wire/advert";
import { Rng } from "../../../host-tools/src/sim/prng";
import { wallsCrossed } from "../../../host-tools/src/sim/world/geometry";

const TX_DBM = -4;

/** Two rooms side by side (wall at x = 10); the transmitter stands at `tx`, the receiver at `rx`. */
function twoPoints(tx: [number, number], rx: [number, number], propagation: Partial<PropagationParams>): Scenario {
  const room = (p: [number, number]) => (p[0] < 10 ? "left" : "right");
  return {
    name: "two-points",
    startDate: "2024-01-01",
    rooms: [
      { id: "left", kind: "room", x: 0, y: 0, w: 10, h: 10, wallLossDb: 7 },
      { id: "right", kind: "room", x: 10, y: 0, w: 10, h: 10, wallLossDb: 7 }
    ],
    people: [
      { id: "tx", role: "test", schedule: [{ from: "00:00", to: "24:00", rooms: [room(tx)], at: tx }] },
      { id: "rx", role: "test", schedule: [{ from: "00:00", to: "24:00", rooms: [room(rx)], at: rx }] }
    ],
    propagation
  };
}

interface Heard {
  time: number;
  rssi: number;
}

/** Advertise from tx, scan at rx for the given windows; return what rx heard and the medium's stats. */
function listen(s: Scenario, windows: Array<[number, number]>, opts: { intervalMs?: number; seed?: number } = {}) {
  const params = { ...DEFAULT_PROPAGATION, ...s.propagation };
  const movement = new Movement(s, opts.seed ?? 1);
  const sch = new EventScheduler(movement.start);
  const medium = new RadioMedium(sch, movement, params, opts.seed ?? 1);
  const heard: Heard[] = [];
  const txPort = medium.attach({ id: "tx", person: 0, txGainDb: 0, rxOffsetDb: 0, deliver: () => undefined });
  const rxPort = medium.attach({
    id: "rx",
    person: 1,
    txGainDb: 0,
    rxOffsetDb: 0,
    deliver: (a) => heard.push({ time: sch.now, rssi: a.rssi })
  });
  txPort.advertising({
    packet: buildAdvert(new Uint8Array(16), new Uint8Array(4)),
    intervalMs: opts.intervalMs ?? 100,
    address: "c0:00:00:00:00:01 random",
    txPowerDbm: TX_DBM,
    connectable: false,
    scannable: false
  });
  for (const [a, b] of windows) {
    sch.at(movement.start + a, () => rxPort.scanning({ active: false, services: ["fd6f"] }));
    sch.at(movement.start + b, () => rxPort.scanning(null));
  }
  sch.runUntil(movement.start + Math.max(...windows.map((w) => w[1])) + 1);
  return { heard: heard.map((h) => ({ time: h.time - movement.start, rssi: h.rssi })), stats: medium.stats };
}

/** One 1-second window at the start of each minute for `minutes` minutes. */
function minuteWindows(minutes: number): Array<[number, number]> {
  const w: Array<[number, number]> = [];
  for (let m = 0; m < minutes; m++) w.push([m * 60 + 5, m * 60 + 6]);
  return w;
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

// No body loss, no packet loss, no threshold: what is left is path loss, walls and zero-mean shadowing and fading.
const CLEAN: Partial<PropagationParams> = { bodyLossMaxDb: 0, packetLoss: 0, receiveThresholdDbm: -200, shadowingPerMinute: 0 };

describe("sim/world radio", () => {
  for (const d of [1, 2, 4, 8]) {
    it(`mean RSSI at ${d} m matches tx power − PL0 − 10·n·log10(d)`, () => {
      const { heard } = listen(twoPoints([1, 5], [1 + d, 5], CLEAN), minuteWindows(600));
      const expected = TX_DBM - pathLossDb(DEFAULT_PROPAGATION, d);
      assert.ok(heard.length > 5000, `heard only ${heard.length} packets`);
      const m = mean(heard.map((h) => h.rssi));
      assert.ok(Math.abs(m - expected) < 0.75, `mean RSSI ${m.toFixed(2)} dBm, model says ${expected.toFixed(2)} dBm`);
    });
  }

  it("a wall between the two lowers the mean RSSI by the wall's loss", () => {
    const same = listen(twoPoints([4, 5], [8, 5], CLEAN), minuteWindows(600));
    const walled = listen(twoPoints([8, 5], [12, 5], CLEAN), minuteWindows(600));
    const drop = mean(same.heard.map((h) => h.rssi)) - mean(walled.heard.map((h) => h.rssi));
    assert.ok(Math.abs(drop - 7) < 1, `a 7 dB wall lowered the mean by ${drop.toFixed(2)} dB`);
  });

  it("counts a wall shared by two rooms once", () => {
    const rooms = [
      { x: 0, y: 0, w: 10, h: 10 },
      { x: 10, y: 0, w: 10, h: 10 },
      { x: 20, y: 0, w: 10, h: 10 }
    ];
    assert.equal(wallsCrossed(rooms, { x: 5, y: 5 }, { x: 15, y: 5 }), 1);
    assert.equal(wallsCrossed(rooms, { x: 5, y: 5 }, { x: 25, y: 5 }), 2);
    assert.equal(wallsCrossed(rooms, { x: 5, y: 5 }, { x: 5, y: 9 }), 0);
  });

  it("delivers nothing below the receive threshold and every RSSI it reports clears it", () => {
    const far = listen(twoPoints([1, 5], [19, 5], { receiveThresholdDbm: -70, packetLoss: 0 }), minuteWindows(60));
    assert.equal(far.heard.length, 0, "18 m through a wall should not clear −70 dBm");
    assert.equal(far.stats.delivered, 0);
    const edge = listen(twoPoints([1, 5], [6, 5], { receiveThresholdDbm: -65, packetLoss: 0 }), minuteWindows(60));
    assert.ok(edge.heard.length > 0 && edge.stats.belowThreshold > 0, "near the threshold some packets pass and some do not");
    assert.ok(edge.heard.every((h) => h.rssi >= -65));
  });

  it("loses the configured share of packets above the threshold", () => {
    const { heard, stats } = listen(twoPoints([1, 5], [2, 5], { packetLoss: 0.3, receiveThresholdDbm: -200 }), minuteWindows(120));
    const share = stats.lost / (stats.lost + stats.delivered);
    assert.ok(Math.abs(share - 0.3) < 0.03, `lost ${(share * 100).toFixed(1)} %`);
    assert.equal(heard.length, stats.delivered);
  });

  it("delivers only advertising events inside the scan window, about window / interval of them", () => {
    const { heard } = listen(
      twoPoints([1, 5], [2, 5], CLEAN),
      [
        [100.3, 102.3],
        [400.7, 401.7]
      ],
      { intervalMs: 100 }
    );
    const first = heard.filter((h) => h.time < 200);
    const second = heard.filter((h) => h.time > 200);
    assert.ok(
      first.every((h) => h.time >= 100.3 && h.time <= 102.3),
      "a packet outside the first window"
    );
    assert.ok(
      second.every((h) => h.time >= 400.7 && h.time <= 401.7),
      "a packet outside the second window"
    );
    // 2 s / (100 ms + 5 ms mean advDelay) ≈ 19; 1 s ≈ 9.5.
    assert.ok(first.length >= 17 && first.length <= 21, `first window: ${first.length} packets`);
    assert.ok(second.length >= 8 && second.length <= 11, `second window: ${second.length} packets`);
    for (let i = 1; i < first.length; i++) {
      const gap = first[i].time - first[i - 1].time;
      assert.ok(gap >= 0.1 && gap <= 0.111, `gap between adverts ${gap}`);
    }
  });

  it("is the same for the same seed and different for another", () => {
    const s = twoPoints([1, 5], [4, 5], {});
    const a = listen(s, minuteWindows(30), { seed: 7 });
    const b = listen(s, minuteWindows(30), { seed: 7 });
    const c = listen(s, minuteWindows(30), { seed: 8 });
    assert.deepEqual(a.heard, b.heard);
    assert.notDeepEqual(a.heard, c.heard);
  });

  it("shadowing is an AR(1) process: lag-1 correlation and σ as configured", () => {
    const sh = new Shadowing(DEFAULT_PROPAGATION, new Rng(3));
    const xs: number[] = [];
    for (let m = 0; m < 20000; m++) xs.push(sh.at(m));
    const mu = mean(xs);
    const sd = Math.sqrt(mean(xs.map((x) => (x - mu) ** 2)));
    let cov = 0;
    for (let i = 1; i < xs.length; i++) cov += (xs[i] - mu) * (xs[i - 1] - mu);
    const rho = cov / (xs.length - 1) / (sd * sd);
    const { shadowingSigmaDb: sigma, shadowingPerMinute: perMinute } = DEFAULT_PROPAGATION;
    assert.ok(Math.abs(sd - sigma) < 0.1 * sigma, `σ ${sd.toFixed(2)} dB, configured ${sigma}`);
    assert.ok(Math.abs(rho - perMinute) < 0.03, `lag-1 correlation ${rho.toFixed(3)}, configured ${perMinute}`);
    // Two minutes apart: ρ², not ρ (stepping k minutes at once uses ρ^k).
    let cov2 = 0;
    for (let i = 2; i < xs.length; i++) cov2 += (xs[i] - mu) * (xs[i - 2] - mu);
    const rho2 = cov2 / (xs.length - 2) / (sd * sd);
    assert.ok(Math.abs(rho2 - perMinute ** 2) < 0.03, `lag-2 correlation ${rho2.toFixed(3)}`);
  });

  it("delivering a chunk's packets in one go (when nothing else is due) changes nothing: same packets, same times, same order", () => {
    // Three advertisers, two scanners whose callbacks book their own events in between packets.
    const scenario: Scenario = {
      name: "five",
      startDate: "2024-01-01",
      rooms: [{ id: "r", kind: "room", x: 0, y: 0, w: 10, h: 10 }],
      people: ["a", "b", "c", "d", "e"].map((id, i) => ({
        id,
        role: "test",
        schedule: [{ from: "00:00", to: "24:00", rooms: ["r"], at: [1 + i, 5] as [number, number] }]
      }))
    };
    const run = (inline: boolean): string[] => {
      const movement = new Movement(scenario, 3);
      const sch = new EventScheduler(movement.start);
      // The same queue without advanceTo: every packet is its own event.
      const queueOnly = {
        get now() {
          return sch.now;
        },
        at: (t: number, fn: () => void) => sch.at(t, fn),
        cancel: (id: number) => sch.cancel(id)
      };
      const medium = new RadioMedium(inline ? sch : queueOnly, movement, { ...DEFAULT_PROPAGATION }, 3);
      const log: string[] = [];
      const ports = scenario.people.map((p, i) =>
        medium.attach({
          id: p.id,
          person: i,
          txGainDb: 0,
          rxOffsetDb: 0,
          deliver: (adv) => {
            log.push(`${p.id} heard ${adv.address} ${adv.rssi} at ${sch.now.toFixed(6)}`);
            if (log.length % 3 === 0) sch.at(sch.now + 0.004, () => log.push(`${p.id} own event at ${sch.now.toFixed(6)}`));
          }
        })
      );
      for (let i = 0; i < 3; i++)
        ports[i].advertising({
          packet: buildAdvert(new Uint8Array(16).fill(i), new Uint8Array(4)),
          intervalMs: 100 + 7 * i,
          address: `c0:00:00:00:00:0${i} random`,
          txPowerDbm: TX_DBM,
          connectable: false,
          scannable: false
        });
      for (const i of [3, 4])
        for (let m = 0; m < 20; m++) {
          sch.at(movement.start + m * 60 + i, () => ports[i].scanning({ active: false, services: ["fd6f"] }));
          sch.at(movement.start + m * 60 + i + 2.5, () => ports[i].scanning(null));
        }
      sch.runUntil(movement.start + 20 * 60);
      return log;
    };
    const queued = run(false);
    assert.ok(queued.length > 1000, `only ${queued.length} log lines`);
    assert.deepEqual(run(true), queued);
  });

  it("within one scan window a receiver follows an advertiser that starts, turns its power down and up, and stops (from the next 1 s chunk)", () => {
    const s = twoPoints([1, 5], [2, 5], { packetLoss: 0, receiveThresholdDbm: -62, bodyLossMaxDb: 0, shadowingSigmaDb: 0 });
    const movement = new Movement(s, 1);
    const sch = new EventScheduler(movement.start);
    const medium = new RadioMedium(sch, movement, { ...DEFAULT_PROPAGATION, ...s.propagation }, 1);
    const heard: number[] = [];
    const txPort = medium.attach({ id: "tx", person: 0, txGainDb: 0, rxOffsetDb: 0, deliver: () => undefined });
    const rxPort = medium.attach({ id: "rx", person: 1, txGainDb: 0, rxOffsetDb: 0, deliver: () => heard.push(sch.now - movement.start) });
    const advert = (txPowerDbm: number) => ({
      packet: buildAdvert(new Uint8Array(16), new Uint8Array(4)),
      intervalMs: 100,
      address: "c0:00:00:00:00:01 random",
      txPowerDbm,
      connectable: false,
      scannable: false
    });
    // One window, 5 s to 12 s, all in one minute: on at 5.5 s, down to −40 dBm (out of reach at 1 m) at 7.5 s, up at 9.5 s, off at 10.5 s.
    sch.at(movement.start + 5, () => rxPort.scanning({ active: false, services: ["fd6f"] }));
    sch.at(movement.start + 5.5, () => txPort.advertising(advert(TX_DBM)));
    sch.at(movement.start + 7.5, () => txPort.advertising(advert(-40)));
    sch.at(movement.start + 9.5, () => txPort.advertising(advert(TX_DBM)));
    sch.at(movement.start + 10.5, () => txPort.advertising(null));
    sch.at(movement.start + 12, () => rxPort.scanning(null));
    sch.runUntil(movement.start + 13);
    const within = (a: number, b: number) => heard.filter((t) => t >= a && t < b).length;
    assert.equal(within(0, 6), 0, "heard before it started (or within the chunk it started in)");
    assert.ok(within(6, 7.5) >= 12, `heard ${within(6, 7.5)} packets while on`);
    assert.equal(within(8, 9.5), 0, "heard at −40 dBm");
    assert.ok(within(10, 10.5) >= 4, `heard ${within(10, 10.5)} packets after the power came back`);
    assert.equal(within(10.5, 13), 0, "heard after it stopped");
  });

  it("filters by service: a scan for fd6f ignores other packets", () => {
    assert.deepEqual(packetServices(buildAdvert(new Uint8Array(16), new Uint8Array(4))), ["fd6f", "fd6f"]);
    assert.deepEqual(packetServices(new Uint8Array([2, 1, 6, 3, 3, 0x0a, 0x18])), ["180a"]);
  });
});
