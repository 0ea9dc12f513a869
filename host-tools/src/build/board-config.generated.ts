/* Generated from board-configs/board.schema.json by host-tools/src/build/board-type.ts (`make board-type`): do not edit. */

/**
 * Everything that differs between the boards a token can run on. Firmware code never branches on a board name: it reads these facts, inlined at build time.
 */
export interface PrivateTracerBoardConfiguration {
  $schema?: string;
  /**
   * Our short name; also the bundle file name.
   */
  id: string;
  name: string;
  /**
   * Espruino's board id (process.env.BOARD on the device).
   */
  espruinoBoard: string;
  chip: "nRF52832" | "nRF52840";
  storage: {
    /**
     * Storage (flash) available to code and files.
     */
    bytes: number;
    pageBytes: 4096;
    /**
     * Storage is shared with other apps: only a slice (dataBytes) is ours.
     */
    shared?: boolean;
    /**
     * Bytes our log may use when storage is shared.
     */
    dataBytes?: number;
  };
  jsVars: {
    count: number;
    bytesPerVar: number;
  };
  /**
   * Which primitives Espruino provides natively on this board; the rest comes from our pure-JS fallbacks.
   */
  crypto: {
    sha256: boolean;
    aes: boolean;
  };
  /**
   * Espruino pin names of the LEDs by colour; a board without a colour simply omits it.
   */
  leds: {
    red?: string;
    green?: string;
    blue?: string;
  };
  /**
   * Espruino name of the wearer's button.
   */
  button: string;
  /**
   * The board's display (Espruino's `g`). A board with a screen and no LEDs shows the LED patterns as full-screen colours.
   */
  screen?: {
    width: number;
    height: number;
  };
  radio: {
    /**
     * Values NRF.setTxPower accepts.
     *
     * @minItems 1
     */
    txPowers: [number, ...number[]];
    /**
     * Transmit power setting used for GAEN adverts; must be one of txPowers.
     */
    txPowerDbm: number;
    /**
     * Power actually radiated (setting minus antenna loss): goes into the GAEN metadata byte 1.
     */
    radiatedTxPowerDbm: number;
    /**
     * Added to every received RSSI so that this board reads like the GAEN reference receiver.
     */
    rssiCalibrationDb: number;
  };
  schedule: {
    /**
     * Non-connectable advertising must be >= 100 ms.
     */
    advertIntervalMs: number;
    rotationMinMinutes: number;
    rotationMaxMinutes: number;
    scanPeriodSec: number;
    scanJitterSec: number;
    scanWindowMs: number;
    /**
     * Logging floor: an RPI whose strongest packet in a scan (RSSI plus rssiCalibrationDb) is below this is not logged, and packets below it take no scan-table slot. Default -70 dBm: it keeps every sighting an attenuation threshold up to (sender's radiated power + 70) dB can use, i.e. 62 dB for a -8 dBm phone, 64-66 dB for tokens (docs/scan-schedule.md).
     */
    logMinRssiDbm?: number;
  };
  /**
   * Energy-model figures (from Espruino's documentation where measured there).
   */
  power: {
    batteryMah: number;
    sleepUA: number;
    scanMA: number;
    cpuMA: number;
    /**
     * Charge per advertising event in microcoulombs.
     */
    advertEventUC: number;
  };
  budget: {
    /**
     * Largest minified bundle we accept for this board.
     */
    bundleBytes: number;
  };
}
