import { HeardAdvert, LedColour, LINK_DATA, LINK_DOWN, LINK_TX_BYTES, LINK_UP, Platform, PlatformStorage } from "./platform-api";

/**
 * The Espruino implementation of the platform seam: the only module that reads
 * Espruino's globals. Pin names come from the board config.
 *
 * Where a call passes straight through, the seam holds Espruino's native
 * function itself: a JavaScript wrapper costs 5–7 JsVars for as long as the
 * token runs (function, code, scope link, parameter names), a native one 1–2,
 * and native functions ignore `this`. On a Puck.js that is ~70 of its 2,630.
 */
export function createPlatform(): Platform {
  function pin(name: string | null): unknown {
    return name ? global[name] : undefined;
  }
  var leds: { [c: string]: unknown } = {
    red: pin(BOARD.leds.red),
    green: pin(BOARD.leds.green),
    blue: pin(BOARD.leds.blue)
  };
  // Read through `global`: a require() the bundler can see makes it inject a
  // module shim that uses Proxy; Espruino resolves its built-in modules itself.
  var builtin = global["require"] as (name: string) => unknown;
  var Storage = builtin("Storage") as EspruinoStorage;
  var crypto = builtin("crypto") as EspruinoCrypto;

  var storage: PlatformStorage = {
    read: function (name: string) {
      var b = Storage.readArrayBuffer(name);
      return b === undefined ? undefined : new Uint8Array(b);
    },
    write: function (name: string, data: Uint8Array, offset?: number, size?: number) {
      if (!Storage.write(name, data, offset, size)) throw new Error("write failed: " + name);
    },
    erase: Storage.erase,
    list: function (prefix: string) {
      var all = Storage.list();
      var out: string[] = [];
      for (var i = 0; i < all.length; i++) if (all[i].indexOf(prefix) === 0) out.push(all[i]);
      return out;
    },
    getFree: Storage.getFree,
    compact: Storage.compact
  };

  // LEDs shown on the screen (bits: 1 red, 2 green, 4 blue), for boards with no LED.
  var lit = 0;

  // The GAEN packet on the air (undefined: none) and whether the wearer opened
  // a sync window; together they decide what the radio does.
  var advPacket: Uint8Array | undefined;
  var advInterval = 0;
  var syncOpen = false;
  var advertise = function () {
    // A sync window without identifiers (lost clock) still needs to be found:
    // flags only, no name, no constant beyond what every token sends.
    var pkt = advPacket || (syncOpen ? new Uint8Array([2, 1, 6]) : undefined);
    if (!pkt) {
      // The only way to take Espruino's radio off the air (an empty packet
      // still advertises). Scanning (central role) is unaffected.
      NRF.sleep();
      return;
    }
    // Raw form: sent verbatim, so no flags/name/manufacturer data is added.
    // connectable:false + scannable:false = ADV_NONCONN_IND; connectable needs
    // scannable too (connectable alone would be directed advertising).
    // name: the stack's default name ("Puck.js abcd") is made from the
    // factory address and readable by any central that connects. Every token
    // uses the same name instead (not "": whether the SoftDevice takes an
    // empty name is unconfirmed, and a rejected name would stop advertising).
    NRF.setAdvertising(pkt, { interval: advInterval || 500, connectable: syncOpen, scannable: syncOpen, showName: false, name: "Token" });
    // Wake only now: waking first would put the previous packet back on the
    // air under an address just changed.
    NRF.wake();
  };

  return {
    now: getTime,
    setTime: setTime,
    random32: function () {
      return E.hwRand() >>> 0;
    },
    led: function (colour: LedColour, on: boolean) {
      if (BOARD.screenLeds) {
        // No LED: the whole screen is the light, its colour the LEDs that are on.
        var bit = colour === "red" ? 1 : colour === "green" ? 2 : 4;
        lit = on ? lit | bit : lit & ~bit;
        // Named, not looked up: the bundler then never gives one of our own
        // top-level functions the name `g`.
        var gr = g;
        gr.setColor(lit & 1, (lit >> 1) & 1, (lit >> 2) & 1).fillRect(0, 0, gr.getWidth() - 1, gr.getHeight() - 1);
        if (gr.flip) gr.flip();
        return;
      }
      var p = leds[colour];
      if (p !== undefined) digitalWrite(p as EspruinoPin, on);
    },
    onButton: function (cb: (pressMs: number) => void) {
      setWatch(
        function (e: EspruinoWatchEvent) {
          cb(Math.round((e.time - e.lastTime) * 1000));
        },
        pin(BOARD.button) as EspruinoPin,
        { repeat: true, edge: "falling", debounce: 30 }
      );
    },
    setTimeout: setTimeout,
    clearTimeout: clearTimeout,
    setInterval: setInterval,
    clearInterval: clearInterval,
    battery: E.getBattery,
    lockConsole: function () {
      // Holding the button while inserting the battery still boots without
      // this code, which is the documented recovery path for developers.
      E.setConsole(null, { force: true });
    },
    enableWatchdog: function (sec: number) {
      E.enableWatchdog(sec, false);
    },
    kickWatchdog: E.kickWatchdog,
    freeJsVars: function () {
      return process.memory(false).free;
    },
    sha256: function (data: Uint8Array) {
      return new Uint8Array((crypto.SHA256 as (d: Uint8Array) => ArrayBuffer)(data));
    },
    aes128Ecb: function (block: Uint8Array, key: Uint8Array) {
      return new Uint8Array((crypto.AES as EspruinoAES).encrypt(block, key, { mode: "ECB" }));
    },
    setAdvertising: function (packet: Uint8Array, intervalMs: number) {
      advPacket = packet;
      advInterval = intervalMs;
      advertise();
    },
    stopAdvertising: function () {
      advPacket = undefined;
      advertise();
    },
    setSyncWindow: function (open: boolean) {
      syncOpen = open;
      // A central still connected when the window closes would keep a link
      // (and hold back address changes, which Espruino defers to the disconnect).
      if (!open) NRF.disconnect();
      advertise();
    },
    setAddress: NRF.setAddress,
    setTxPower: NRF.setTxPower,
    startScan: function (cb: (a: HeardAdvert) => void) {
      NRF.setScan(
        function (d: EspruinoBluetoothDevice) {
          var sd = d.serviceData && d.serviceData["fd6f"];
          if (sd) cb({ rssi: d.rssi, serviceData: new Uint8Array(sd) });
        },
        { filters: [{ services: ["fd6f"] }], active: false }
      );
    },
    // Called with no argument: NRF.setScan() stops scanning.
    stopScan: NRF.setScan as () => void,
    onLink: function (cb: (event: number, data?: Uint8Array) => void) {
      NRF.on("connect", function () {
        cb(LINK_UP);
      });
      NRF.on("disconnect", function () {
        cb(LINK_DOWN);
      });
      // The console is forced off Bluetooth at boot, so a central's writes to
      // the UART arrive here as data, never as JavaScript.
      Bluetooth.on("data", function (d: string) {
        cb(LINK_DATA, E.toUint8Array(d));
      });
    },
    linkWrite: function (data: Uint8Array) {
      if (data.length > LINK_TX_BYTES) return false;
      Bluetooth.write(data);
      return true;
    },
    linkClose: NRF.disconnect,
    storage: storage
  };
}
