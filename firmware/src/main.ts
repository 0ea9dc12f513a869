import { createPlatform } from "./platform";
import { Platform } from "./platform-api";
import { onSelfTestFailure, runSelfTest } from "./selftest";
import { startToken } from "./token";

/** Boot: lock the console, then blink green once to show the token is alive. */
function boot(p: Platform): void {
  p.lockConsole();
  // Espruino advertises its board name, connectable, until told otherwise:
  // go silent before anything slow (the self-test) runs.
  p.stopAdvertising();
  // Broken crypto would broadcast identifiers nobody can match: stay silent, show the fault.
  if (!runSelfTest(p)) {
    onSelfTestFailure(p);
    return;
  }
  p.led("green", true);
  p.setTimeout(function () {
    p.led("green", false);
  }, 200);
  startToken(p);
}

boot(createPlatform());
