import { strict as assert } from "node:assert";
import { ev, rig } from "./helpers";

describe("sim Espruino E, timers and pins", () => {
  it("E.hwRand gives signed 32-bit numbers, the same sequence for the same seed", () => {
    const seq = (seed: number): unknown => ev(rig("", { seed }), "[E.hwRand(), E.hwRand(), E.hwRand(), E.hwRand()]");
    const a = seq(7) as number[];
    assert.deepEqual(seq(7), a);
    assert.notDeepEqual(seq(8), a);
    for (const v of a) assert.ok(Number.isInteger(v) && v >= -2147483648 && v <= 2147483647);
  });

  it("the factory address is random static and fixed by the seed", () => {
    assert.equal(rig("", { seed: 3 }).token.address, rig("", { seed: 3 }).token.address);
    assert.match(rig("", { seed: 4 }).token.address, /^[c-f][0-9a-f]:/);
  });

  it("E.on('init') handlers run after the boot code", () => {
    const r = rig("var order=[]; E.on('init', function(){ order.push('init'); }); order.push('code');");
    assert.deepEqual(ev(r, "order"), ["code", "init"]);
  });

  it("E.reboot runs E.on('kill') handlers, loses RAM and runs the boot code again", () => {
    const r = rig(
      "var s=require('Storage'); s.write('n', String(Number(s.read('n')||0)+1)); E.on('kill', function(){ s.write('killed','1'); }); global.ram = 1;"
    );
    r.token.evaluate("global.ram = 2; E.reboot()");
    r.scheduler.runUntil(1001);
    assert.equal(r.token.evaluate("require('Storage').read('n')"), "2");
    assert.equal(r.token.evaluate("require('Storage').read('killed')"), "1");
    assert.equal(r.token.evaluate("global.ram"), 1);
    assert.equal(r.token.resets.reboots, 1);
  });

  it("a watchdog that is not kicked in time resets the token", () => {
    const r = rig(
      "E.enableWatchdog(5, false); var k = setInterval(function(){ E.kickWatchdog(); }, 1000); global.stop = function(){ clearInterval(k); };"
    );
    r.scheduler.runUntil(1020);
    assert.equal(r.token.resets.watchdog, 0);
    r.token.evaluate("stop()");
    r.scheduler.runUntil(1030);
    assert.equal(r.token.resets.watchdog, 1);
    assert.equal(r.token.boots, 2);
  });

  it("an automatic watchdog (the default) never fires in the emulation", () => {
    const r = rig("E.enableWatchdog(5);");
    r.scheduler.runUntil(1100);
    assert.equal(r.token.resets.watchdog, 0);
  });

  it("E.toUint8Array flattens numbers, strings, arrays and {data,count}", () => {
    const r = rig("");
    assert.deepEqual(
      Array.from(r.token.evaluate("E.toUint8Array(1, 'AB', [3,4], {data: 9, count: 2})") as Uint8Array),
      [1, 65, 66, 3, 4, 9, 9]
    );
  });

  it("E.lockConsole locks the console only when a password was set", () => {
    const r = rig("E.lockConsole();");
    assert.equal(r.token.console!.locked, false);
    r.token.evaluate("E.setPassword('pw'); E.lockConsole()");
    assert.equal(r.token.console!.locked, true);
  });

  it("print and console.log are captured", () => {
    const r = rig("print('a', 1); console.log({x: 2});");
    assert.deepEqual(r.token.output, ["a 1", '{"x":2}']);
  });

  it("setTimeout waits its delay on the token's own (drifting) clock", () => {
    const r = rig("var at; setTimeout(function(){ at = getTime(); }, 1000);", { driftPpm: 100_000 });
    r.scheduler.runUntil(1000.9);
    assert.equal(r.token.evaluate("at"), undefined);
    r.scheduler.runUntil(1000.91);
    assert.ok(Math.abs((r.token.evaluate("at") as number) - 1) < 1e-9);
  });

  it("setTime changes getTime() but does not move a pending timer", () => {
    const r = rig("var fired = 0; setTimeout(function(){ fired = getTime(); }, 2000); setTime(1700000000);");
    assert.ok(Math.abs((r.token.evaluate("getTime()") as number) - 1700000000) < 1e-6);
    r.scheduler.runUntil(1002);
    assert.ok(Math.abs((r.token.evaluate("fired") as number) - 1700000002) < 1e-6);
  });

  it("setInterval passes extra arguments and keeps running after its callback throws", () => {
    const r = rig("var n=0; setInterval(function(a){ n += a; throw new Error('x'); }, 1000, 2);");
    r.scheduler.runUntil(1003.5);
    assert.equal(r.token.evaluate("n"), 6);
    assert.equal(r.token.uncaught.length, 3);
  });

  it("clearTimeout() with no argument clears every timer", () => {
    const r = rig("var n=0; setTimeout(function(){ n++; }, 10); setInterval(function(){ n++; }, 10); clearTimeout();");
    r.scheduler.runUntil(1001);
    assert.equal(r.token.evaluate("n"), 0);
    assert.equal(r.token.timerCount(), 0);
  });

  it("changeInterval changes the period from now", () => {
    const r = rig("var n=0; var id = setInterval(function(){ n++; }, 1000); changeInterval(id, 100);");
    r.scheduler.runUntil(1001.05);
    assert.equal(r.token.evaluate("n"), 10);
  });

  it("digitalWrite drives the board's LEDs by colour", () => {
    const r = rig("digitalWrite(LED1, 1); LED3.write(true);");
    assert.deepEqual(r.token.leds(), { red: true, green: false, blue: true });
    r.token.evaluate("digitalWrite([LED1, LED2, LED3], 2)");
    assert.deepEqual(r.token.leds(), { red: false, green: true, blue: false });
  });

  it("a board without LEDs reports none lit (Bangle.js 2)", () => {
    assert.deepEqual(rig("", { board: "banglejs2" }).token.leds(), { red: false, green: false, blue: false });
  });

  it("setWatch on the button reports state, time and lastTime (press start) on the falling edge", () => {
    const r = rig(
      "var evs=[]; setWatch(function(e){ evs.push([e.state, e.time, e.lastTime]); }, BTN, {repeat: true, edge: 'falling', debounce: 30});"
    );
    r.scheduler.runUntil(1010);
    r.token.pressButton(700);
    r.scheduler.runUntil(1020);
    const evs = ev(r, "evs") as Array<[boolean, number, number]>;
    assert.equal(evs.length, 1);
    assert.equal(evs[0][0], false);
    assert.ok(Math.abs(evs[0][1] - evs[0][2] - 0.7) < 1e-9, JSON.stringify(evs));
  });

  it("a press shorter than the debounce is ignored", () => {
    const r = rig("var n=0; setWatch(function(e){ n++; }, BTN, {repeat: true, edge: 'both', debounce: 50});");
    r.token.pressButton(20);
    r.scheduler.runUntil(1001);
    assert.equal(r.token.evaluate("n"), 0);
  });

  it("a watch without repeat fires once", () => {
    const r = rig("var n=0; setWatch(function(e){ n++; }, BTN, {edge: 'rising'});");
    r.token.pressButton(100);
    r.scheduler.runUntil(1001);
    r.token.pressButton(100);
    r.scheduler.runUntil(1002);
    assert.equal(r.token.evaluate("n"), 1);
  });

  it("a power cut stops timers, turns the LEDs off and takes the token off the air", () => {
    const r = rig("digitalWrite(LED2, 1); var n=0; setInterval(function(){ n++; }, 100);");
    r.token.powerCut();
    assert.deepEqual(r.token.leds(), { red: false, green: false, blue: false });
    assert.equal(r.radio.advert, null);
    const before = r.token.counters.callbacks;
    r.scheduler.runUntil(1010);
    assert.equal(r.token.counters.callbacks, before);
    assert.throws(() => r.token.evaluate("n"), /not running/);
  });
});
