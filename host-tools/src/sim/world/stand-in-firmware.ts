/**
 * A tiny stand-in bundle (`--firmware stand-in`, or `auto` when a bundle does
 * not scan): Espruino-safe ES5 that rotates a GAEN-shaped advert (random RPI
 * and AEM) with a new random static address every 10–20 min, and scans for
 * 0xFD6F on the board's schedule, counting what it hears. Same radio load as
 * the real firmware; none of its crypto, logging or wearer interface, so a
 * run with it tells the world's own cost from the firmware's.
 */
import type { BoardConfig } from "../../build/boards";

export function standInBundle(board: BoardConfig): string {
  const s = board.schedule;
  return `(function () {
  var heard = 0;
  function hex2(n) { return (n < 16 ? "0" : "") + n.toString(16); }
  function rnd() { return (Math.random() * 256) | 0; }
  function rotate() {
    var p = [2, 1, 0x1a, 3, 3, 0x6f, 0xfd, 0x17, 0x16, 0x6f, 0xfd];
    for (var i = 0; i < 20; i++) p.push(rnd());
    var a = hex2(0xc0 | (rnd() & 0x3f));
    for (var j = 0; j < 5; j++) a += ":" + hex2(rnd());
    NRF.setAddress(a + " random");
    NRF.setAdvertising(p, { interval: ${s.advertIntervalMs}, connectable: false, scannable: false });
    setTimeout(rotate, (${s.rotationMinMinutes * 60} + Math.random() * ${(s.rotationMaxMinutes - s.rotationMinMinutes) * 60}) * 1000);
  }
  function scan() {
    NRF.setScan(function (d) { heard++; }, { filters: [{ services: ["fd6f"] }] });
    setTimeout(function () { NRF.setScan(); }, ${s.scanWindowMs});
    setTimeout(scan, (${s.scanPeriodSec} - Math.random() * ${s.scanJitterSec}) * 1000);
  }
  rotate();
  scan();
})();
`;
}
