/**
 * `NRF` and `Bluetooth`, composed of three parts that share one radio:
 * what the token transmits (nrf-advertising.ts), what it hears
 * (nrf-scanning.ts) and its connection to a central (nrf-connection.ts).
 * This module wires them together and keeps the energy meter, which needs
 * both the transmitter's and the receiver's state.
 *
 * Not modelled (absent, so a call throws "is not a function"): the central
 * role (`NRF.connect`, `requestDevice`), `setServices` content (accepted,
 * ignored), security, scan responses.
 */
import type { BoardConfig } from "../../build/boards";
import type { Central, CentralLink, RadioPort, ReceivedAdvert } from "../types";
import { BleError } from "./advert-packet";
import type { ConsoleState } from "./e-module";
import { installAdvertising } from "./nrf-advertising";
import { installConnection } from "./nrf-connection";
import { installScanning } from "./nrf-scanning";
import type { TokenRuntime } from "./runtime";

export { DEFAULT_ADVERT_INTERVAL_MS } from "./nrf-advertising";

/** BLE adds 0..10 ms of random delay to every advertising event: 5 ms on average. */
const MEAN_ADV_DELAY_MS = 5;

export interface NrfModule {
  deliver(advert: ReceivedAdvert): void;
  /** A central connects; null when the token does not accept a connection now. */
  connect(central: Central): CentralLink | null;
  /** Add radio time up to now to the energy counters. */
  accrue(): void;
  /** Put the boot-time default advertising on the air. */
  start(): void;
  /** Stop everything on the air (power cut, reboot). */
  shutdown(): void;
  /** The connected central's address, or null. */
  readonly connected: string | null;
  readonly address: string;
  /** The scan callback and the filters it was given, as the bundle passed them (memory model). */
  scanHeld(): { cb: unknown; filters: unknown } | null;
  /** The raw advertising data last set (memory model); undefined for the object form or none. */
  advertisingHeld(): unknown;
}

export interface NrfOptions {
  board: BoardConfig;
  rt: TokenRuntime;
  radio: RadioPort;
  factoryAddress: string;
  consoleState: ConsoleState;
  g: Record<string, unknown>;
  /** Run console input as JavaScript (console on Bluetooth). */
  evalConsole(code: string): void;
}

export function installNrf(o: NrfOptions): NrfModule {
  const { rt, radio, g } = o;
  const R = rt.realm.intrinsics;
  const NRF = new R.Object() as Record<string, unknown>;
  const Bluetooth = new R.Object() as Record<string, unknown>;

  // Energy accrual: radio time is added up between state changes, for the
  // transmitter and the receiver together (one timestamp for both).
  let since = rt.scheduler.now;
  const accrue = (): void => {
    const now = rt.scheduler.now;
    if (adv.onAir) rt.counters.advertEvents += ((now - since) * 1000) / (adv.intervalMs + MEAN_ADV_DELAY_MS);
    if (scan.on) rt.counters.scanMs += (now - since) * 1000 * scan.duty;
    since = now;
  };

  const adv = installAdvertising(NRF, o, {
    connected: () => conn.connected !== null,
    dropConnection: () => conn.drop(),
    stackRestarted: () => scan.stackRestarted(),
    accrue,
    bleError: (code, name) => new R.Error(new BleError(code, name).message)
  });
  const scan = installScanning(NRF, o, { accrue });
  const conn = installConnection(NRF, Bluetooth, o, {
    acceptsConnection: () => adv.acceptsConnection(),
    linkUp: () => adv.report(),
    linkDown: () => adv.resumeAfterDisconnect()
  });
  NRF.getBattery = (): number => {
    rt.guard();
    return 3.0;
  };
  g.NRF = NRF;
  g.Bluetooth = Bluetooth;

  return {
    get connected() {
      return conn.connected;
    },
    get address() {
      return adv.address;
    },
    scanHeld: () => scan.held(),
    advertisingHeld: () => adv.held(),
    accrue,
    deliver: (advert) => scan.deliver(advert),
    connect: (central) => conn.connect(central),
    start(): void {
      adv.report();
    },
    shutdown(): void {
      accrue();
      adv.shutdown();
      scan.shutdown();
      conn.shutdown();
      radio.advertising(null);
      radio.scanning(null);
    }
  };
}
