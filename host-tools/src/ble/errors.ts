import { PrivateTracerError } from "../errors";

/** No Bluetooth adapter (none at all, or not the one named with --adapter), or it is powered off and cannot be powered on. */
export class NoAdapterError extends PrivateTracerError {
  readonly code = "NO_ADAPTER";
  readonly kind = "unusable";
}

/** BlueZ cannot be reached over D-Bus: bluetoothd not running, no system bus, or no permission on it. */
export class BluezUnavailableError extends PrivateTracerError {
  readonly code = "BLUEZ_UNAVAILABLE";
  readonly kind = "unusable";
}

/** A connection could not be made (token gone, window closed, not connectable, timed out). */
export class ConnectFailedError extends PrivateTracerError {
  readonly code = "CONNECT_FAILED";
  readonly kind = "unusable";
}

/** The link went down during a sync. The message says what was kept and how to resume. */
export class LinkLostError extends PrivateTracerError {
  readonly code = "LINK_LOST";
  readonly kind = "unusable";
}
