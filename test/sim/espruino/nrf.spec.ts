import { strict as assert } from "node:assert";
import { RecordingCentral, ev, rig } from "./helpers";

const GAEN = [0x02, 0x01, 0x1a, 0x03, 0x03, 0x6f, 0xfd, 0x17, 0x16, 0x6f, 0xfd, ...new Array(20).fill(0xab)];
const gaenPacket = (): Uint8Array => new Uint8Array(GAEN);

describe("sim Espruino NRF", () => {
  it("at boot the token advertises its name, connectable, every 375 ms", () => {
    const r = rig("");
    const a = r.radio.advert!;
    assert.equal(a.intervalMs, 375);
    assert.equal(a.connectable, true);
    assert.deepEqual(Array.from(a.packet.subarray(0, 3)), [2, 1, 6]);
    assert.equal(a.packet[4], 0x09);
    assert.match(Buffer.from(a.packet.subarray(5)).toString("latin1"), /^Puck\.js [0-9a-f]{4}$/);
    assert.match(a.address, /^([0-9a-f]{2}:){5}[0-9a-f]{2} random$/);
  });

  it("raw advertising data is sent verbatim", () => {
    const r = rig("");
    r.token.evaluate(
      `NRF.setAdvertising(new Uint8Array(${JSON.stringify(GAEN)}), {interval: 500, connectable: false, scannable: false, showName: false})`
    );
    assert.deepEqual(Array.from(r.radio.advert!.packet), GAEN);
    assert.equal(r.radio.advert!.intervalMs, 500);
    assert.equal(r.radio.advert!.connectable, false);
  });

  it("an empty raw array does not stop advertising: an empty packet stays on the air", () => {
    const r = rig("");
    r.token.evaluate("NRF.setAdvertising([], {connectable: false, scannable: false})");
    assert.equal(r.radio.advert!.packet.length, 0);
  });

  it("raw advertising data over 31 bytes is refused", () => {
    const r = rig("");
    assert.throws(() => r.token.evaluate("NRF.setAdvertising(new Uint8Array(32))"), /DATA_SIZE/);
  });

  it("the object form builds flags, service data, UUID list, manufacturer data 0x0590, then the name", () => {
    const r = rig("");
    r.token.evaluate('NRF.setAdvertising({"180f":[95], "180d":undefined}, {manufacturerData:[1,2], name:"x"})');
    assert.deepEqual(
      Array.from(r.radio.advert!.packet),
      [2, 1, 6, 4, 0x16, 0x0f, 0x18, 95, 3, 3, 0x0d, 0x18, 5, 0xff, 0x90, 0x05, 1, 2, 2, 0x09, 0x78]
    );
  });

  it("the name is shortened to fit 31 bytes", () => {
    const r = rig("");
    r.token.evaluate("NRF.setAdvertising({}, {manufacturerData: new Uint8Array(20)})");
    const p = r.radio.advert!.packet;
    assert.equal(p.length, 31);
    assert.equal(p[p[3] + 4 + 1], 0x08);
  });

  it("non-connectable advertising below 100 ms is refused", () => {
    const r = rig("");
    assert.throws(
      () => r.token.evaluate("NRF.setAdvertising([2,1,6], {interval: 50, connectable: false, scannable: false})"),
      /INVALID_PARAM/
    );
    r.token.evaluate("NRF.setAdvertising([2,1,6], {interval: 50})");
    assert.equal(r.radio.advert!.intervalMs, 50, "connectable advertising may go down to 20 ms");
  });

  it("the advertising interval is clamped to 20..10240 ms", () => {
    const r = rig("");
    r.token.evaluate("NRF.setAdvertising([2,1,6], {interval: 5})");
    assert.equal(r.radio.advert!.intervalMs, 20);
    r.token.evaluate("NRF.setAdvertising([2,1,6], {interval: 60000})");
    assert.equal(r.radio.advert!.intervalMs, 10240);
  });

  it("connectable without scannable (directed advertising) is refused", () => {
    const r = rig("");
    assert.throws(() => r.token.evaluate("NRF.setAdvertising([2,1,6], {connectable: true, scannable: false})"), /directed advertising/);
  });

  it("setAddress refuses a non-static random address", () => {
    const r = rig("");
    assert.throws(() => r.token.evaluate('NRF.setAddress("41:22:33:44:55:66 random")'), /INVALID_BLE_ADDR/);
    assert.throws(() => r.token.evaluate('NRF.setAddress("nonsense")'), /Expecting a mac address/);
  });

  it("setAddress restarts the stack and advertising continues with the new address", () => {
    const r = rig("");
    r.token.evaluate("NRF.setAdvertising([2,1,6], {interval: 500, connectable: false, scannable: false})");
    r.token.evaluate('NRF.setAddress("c1:22:33:44:55:66 random")');
    assert.equal(r.radio.advert!.address, "c1:22:33:44:55:66 random");
    assert.deepEqual(Array.from(r.radio.advert!.packet), [2, 1, 6]);
    assert.equal(r.radio.advert!.intervalMs, 500);
  });

  it("setAddress while connected takes effect at the disconnect", () => {
    const r = rig("");
    const link = r.token.connect(new RecordingCentral(r.scheduler));
    assert.ok(link);
    const before = r.token.address;
    r.token.evaluate('NRF.setAddress("c1:22:33:44:55:66 random")');
    assert.equal(r.token.address, before);
    link.disconnect();
    assert.equal(r.token.address, "c1:22:33:44:55:66 random");
    assert.equal(r.radio.advert!.address, "c1:22:33:44:55:66 random");
  });

  it("setTxPower accepts only the board's values", () => {
    const r = rig("");
    r.token.evaluate("NRF.setTxPower(-8)");
    assert.equal(r.radio.advert!.txPowerDbm, -8);
    assert.throws(() => r.token.evaluate("NRF.setTxPower(8)"), /INVALID_PARAM/);
    rig("", { board: "banglejs2" }).token.evaluate("NRF.setTxPower(8)");
  });

  it("setScan delivers device objects with the real fields", () => {
    const r = rig("var got=[]; NRF.setScan(function(d){ got.push(d); }, {filters:[{services:['fd6f']}]});");
    assert.deepEqual(r.radio.scan, { active: false, services: ["fd6f"] });
    r.token.deliver({ address: "c1:22:33:44:55:66 random", rssi: -61, packet: gaenPacket() });
    const d = ev(
      r,
      "({id: got[0].id, rssi: got[0].rssi, n: new Uint8Array(got[0].data).length, services: got[0].services, sd: new Uint8Array(got[0].serviceData.fd6f).length, first: new Uint8Array(got[0].serviceData['fd6f'])[0]})"
    );
    assert.deepEqual(d, { id: "c1:22:33:44:55:66 random", rssi: -61, n: 31, services: ["fd6f"], sd: 20, first: 0xab });
  });

  it("every delivery is a new device object carrying the packet's bytes, even after the bundle wrote into an earlier one's buffers", () => {
    const r = rig(
      "var got=[]; NRF.setScan(function(d){ got.push(d); new Uint8Array(d.serviceData.fd6f)[0] = 1; new Uint8Array(d.data)[30] = 2; new Uint8Array(d.manufacturerData)[0] = 3; });"
    );
    // One packet object (31 bytes: flags, UUID list, 15 bytes of service data, manufacturer data), handed over again and again as the world does.
    const packet = new Uint8Array([
      2,
      1,
      0x1a,
      3,
      3,
      0x6f,
      0xfd,
      0x12,
      0x16,
      0x6f,
      0xfd,
      ...new Array(15).fill(0xab),
      4,
      0xff,
      0x90,
      0x05,
      9
    ]);
    for (let i = 0; i < 3; i++) r.token.deliver({ address: "c1:22:33:44:55:66 random", rssi: -50 - i, packet });
    assert.deepEqual(
      ev(r, "got.map(function(d){ return [d.rssi, got.indexOf(d), new Uint8Array(d.data)[30], new Uint8Array(d.manufacturerData)[0]]; })"),
      [
        [-50, 0, 2, 3],
        [-51, 1, 2, 3],
        [-52, 2, 2, 3]
      ],
      "each callback wrote into what it was given"
    );
    r.token.evaluate(
      "got=[]; NRF.setScan(function(d){ got.push([new Uint8Array(d.serviceData.fd6f)[0], new Uint8Array(d.data)[30], new Uint8Array(d.manufacturerData)[0]]); });"
    );
    r.token.deliver({ address: "c1:22:33:44:55:66 random", rssi: -50, packet });
    assert.deepEqual(ev(r, "got"), [[0xab, 9, 9]], "the next delivery still carries the packet's own bytes");
    assert.deepEqual(Array.from(packet.slice(26)), [4, 0xff, 0x90, 0x05, 9], "the world's packet is untouched");
  });

  it("manufacturer data and the name are parsed from the packet", () => {
    const r = rig("var got=[]; NRF.setScan(function(d){ got.push(d); });");
    r.token.deliver({
      address: "c1:22:33:44:55:66 random",
      rssi: -50,
      packet: new Uint8Array([5, 0xff, 0x90, 0x05, 7, 8, 3, 0x09, 0x41, 0x42])
    });
    assert.deepEqual(ev(r, "[got[0].manufacturer, new Uint8Array(got[0].manufacturerData).length, got[0].name]"), [0x0590, 2, "AB"]);
  });

  it("scan filters drop devices that do not match", () => {
    const r = rig("var n=0; NRF.setScan(function(d){ n++; }, {filters:[{services:['fd6f']}]});");
    r.token.deliver({ address: "c1:22:33:44:55:66 random", rssi: -50, packet: new Uint8Array([2, 1, 6]) });
    r.token.deliver({ address: "c1:22:33:44:55:66 random", rssi: -50, packet: gaenPacket() });
    assert.equal(r.token.evaluate("n"), 1);
  });

  it("setScan() with no callback stops scanning", () => {
    const r = rig("var n=0; NRF.setScan(function(d){ n++; });");
    r.token.evaluate("NRF.setScan()");
    assert.equal(r.radio.scan, null);
    r.token.deliver({ address: "c1:22:33:44:55:66 random", rssi: -50, packet: gaenPacket() });
    assert.equal(r.token.evaluate("n"), 0);
  });

  it("an uncaught exception in a scan callback does not stop scanning", () => {
    const r = rig("var n=0; NRF.setScan(function(d){ n++; throw new Error('bad packet'); });");
    r.token.deliver({ address: "c1:22:33:44:55:66 random", rssi: -50, packet: gaenPacket() });
    r.token.deliver({ address: "c1:22:33:44:55:66 random", rssi: -50, packet: gaenPacket() });
    assert.equal(r.token.evaluate("n"), 2);
    assert.equal(r.token.uncaught.length, 2);
    assert.notEqual(r.radio.scan, null);
  });

  it("findDevices scans for its timeout, then stops and reports each device once", () => {
    const r = rig("var res; NRF.findDevices(function(list){ res = list; }, {timeout: 1000});");
    r.token.deliver({ address: "c1:22:33:44:55:66 random", rssi: -50, packet: gaenPacket() });
    r.token.deliver({ address: "c1:22:33:44:55:66 random", rssi: -40, packet: gaenPacket() });
    r.token.deliver({ address: "c2:22:33:44:55:66 random", rssi: -70, packet: gaenPacket() });
    r.scheduler.runUntil(1002);
    assert.deepEqual(ev(r, "res.map(function(d){ return d.id + ' ' + d.rssi; })"), [
      "c1:22:33:44:55:66 random -40",
      "c2:22:33:44:55:66 random -70"
    ]);
    assert.equal(r.radio.scan, null);
  });

  it("sleep stops advertising and wake resumes it", () => {
    const r = rig("");
    r.token.evaluate("NRF.sleep()");
    assert.equal(r.radio.advert, null);
    r.token.evaluate("NRF.wake()");
    assert.notEqual(r.radio.advert, null);
  });

  it("connect and disconnect reach NRF.on handlers, and advertising pauses while connected", () => {
    const r = rig("var ev=[]; NRF.on('connect', function(a){ ev.push('c '+a); }); NRF.on('disconnect', function(x){ ev.push('d '+x); });");
    const link = r.token.connect(new RecordingCentral(r.scheduler))!;
    assert.equal(r.radio.advert, null);
    link.disconnect(19);
    assert.deepEqual(ev(r, "ev"), ["c aa:bb:cc:dd:ee:ff public", "d 19"]);
    assert.notEqual(r.radio.advert, null);
  });

  it("with the console left on Bluetooth, a connected central can run code", () => {
    const r = rig("var pwned = false;");
    r.token.connect(new RecordingCentral(r.scheduler))!.write(Buffer.from("pwned = true\n"));
    assert.equal(r.token.evaluate("pwned"), true);
  });

  it("after E.setConsole(null, {force:true}) Bluetooth data goes to Bluetooth.on('data') instead", () => {
    const r = rig("var pwned = false, got = ''; E.setConsole(null, {force: true}); Bluetooth.on('data', function(d){ got += d; });");
    r.token.connect(new RecordingCentral(r.scheduler))!.write(Buffer.from("pwned = true\n"));
    assert.equal(r.token.evaluate("pwned"), false);
    assert.equal(r.token.evaluate("got"), "pwned = true\n");
  });

  it("Bluetooth.write reaches the connected central only", () => {
    const r = rig("");
    const c = new RecordingCentral(r.scheduler);
    r.token.evaluate("Bluetooth.write('lost')");
    r.token.connect(c);
    r.token.evaluate("Bluetooth.write([104, 105])");
    r.scheduler.runUntil(1001);
    assert.equal(c.text, "hi");
  });

  it("scan time and advertising events are counted for the energy model", () => {
    const r = rig("NRF.setAdvertising([2,1,6], {interval: 995, connectable: false, scannable: false}); NRF.setScan(function(){});");
    r.scheduler.runUntil(1100);
    const c = r.token.counters;
    assert.ok(Math.abs(c.scanMs - 100_000) < 1e-6, String(c.scanMs));
    assert.ok(Math.abs(c.advertEvents - 100) < 1e-6, String(c.advertEvents));
  });
});
