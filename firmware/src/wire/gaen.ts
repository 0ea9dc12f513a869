/**
 * GAEN v1.2 time units (docs/gaen-on-the-token.md), which the token's
 * identifiers and files and the host's keys and matching share. Shared with
 * host tools.
 */

/** Length of an ENIntervalNumber: identifiers change at most this often, seconds. */
export var INTERVAL_SECONDS = 600;
/** Intervals per TEK: one TEK a UTC day, so a rolling start is a multiple of this. */
export var TEK_ROLLING_PERIOD = 144;
