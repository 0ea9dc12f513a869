import type { SimTokens } from "../../host-tools/src/sync/sim-tokens";

/**
 * The kiosk's radio over simulated tokens, as the diagnosis specs drive it:
 * the transport, simulated time, and a minute to find the token with scans
 * of 5 s. What the wearer is given to press (`consentWaitMs`) stays with each spec.
 */
export function kioskRadio(sim: SimTokens): {
  transport: SimTokens["transport"];
  searchMs: number;
  scanMs: number;
  connectTimeoutMs: number;
  now: SimTokens["now"];
  timerOf: SimTokens["timerOf"];
  sleep: SimTokens["sleep"];
} {
  return {
    transport: sim.transport,
    searchMs: 60_000,
    scanMs: 5000,
    connectTimeoutMs: 15_000,
    now: sim.now,
    timerOf: sim.timerOf,
    sleep: sim.sleep
  };
}
