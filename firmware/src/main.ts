import { createPlatform } from "./platform";
import { Platform } from "./platform-api";

/** Boot: lock the console, then blink green once to show the token is alive. */
export function boot(p: Platform): void {
  p.lockConsole();
  p.led("green", true);
  p.setTimeout(function () {
    p.led("green", false);
  }, 200);
}

boot(createPlatform());
