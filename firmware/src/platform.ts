import { LedColour, Platform } from "./platform-api";

/**
 * The Espruino implementation of the platform seam: the only module that reads
 * Espruino's globals. Pin names come from the board config.
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
  return {
    now: function () {
      return getTime();
    },
    setTime: function (t: number) {
      setTime(t);
    },
    random32: function () {
      return E.hwRand() >>> 0;
    },
    led: function (colour: LedColour, on: boolean) {
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
    setTimeout: function (cb: () => void, ms: number) {
      return setTimeout(cb, ms);
    },
    clearTimeout: function (id: number) {
      clearTimeout(id);
    },
    setInterval: function (cb: () => void, ms: number) {
      return setInterval(cb, ms);
    },
    clearInterval: function (id: number) {
      clearInterval(id);
    },
    battery: function () {
      return E.getBattery();
    },
    lockConsole: function () {
      // Holding the button while inserting the battery still boots without
      // this code, which is the documented recovery path for developers.
      E.setConsole(null, { force: true });
    }
  };
}
