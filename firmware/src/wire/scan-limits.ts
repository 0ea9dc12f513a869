/**
 * What one scan window can record: the host needs these to read a token's
 * dropped count and to model a token in a crowd.
 */

/** Distinct RPIs one scan can aggregate; more are counted as dropped, never stored in RAM. */
export var TABLE_SLOTS = 32;
/**
 * Packets (at or above the logging floor) one window processes; after this
 * many the radio stops scanning and the window's timer still logs the table at
 * its usual time. The interpreter takes milliseconds per packet on an nRF52:
 * the real interpreter measures 0.2-1.0 ms of CPU per packet on an x86 host
 * (the spread is the host's, reading code from a Storage file), × 11-13 for an
 * nRF52832 (real-espruino/nrf52-speed.ts) = 2.5-12 ms. 160 packets then cost
 * at most ~2 s of CPU, the length of the window itself, and a crowd of 20
 * phones within logging range (each advertising 8 times in 2 s) is still
 * heard whole; a bigger crowd is heard in part rather than holding the CPU
 * (and the battery) for many seconds every scan.
 */
export var WINDOW_PACKETS = 160;

/**
 * Flooding (docs/encounter-log.md, "Flooding"): new records (RPIs in the
 * window's table) a token may be offered in one clock hour before it declares
 * a flood: four full tables at the default schedule, whose windows come every
 * BUDGET_MEAN_PERIOD_S on average (7 an hour). 150 encounters a day is ~10 an
 * hour; a transmitter of fresh RPIs fills the table in every window, 192-270
 * an hour. A crowd filling more than half the table in every window of an
 * hour does too, and is treated the same (the busiest care-home tokens reach
 * it in some hours; make demo measures the cost). While a flood is declared
 * (the rest of that hour, and every following hour still over the budget) a
 * window logs only its FLOOD_KEEP strongest RPIs heard more than once and the
 * log evicts only segments created during a flood, never older history.
 */
export var HOUR_BUDGET = 128;
export var BUDGET_MEAN_PERIOD_S = 510;

/**
 * The budget a board's schedule gets: HOUR_BUDGET scaled by its windows an
 * hour, so a flood is the same share of full tables whatever the schedule. A
 * fixed 128 would declare a flood in ordinary crowded hours on a board that
 * scans twice as often (measured: a care-home token at a 255 s mean period
 * lost a third of its records from the day its flash filled). The build puts
 * the result in BOARD.schedule.floodHourBudget, so the token does no sum.
 */
export function hourBudget(scanPeriodSec: number, scanJitterSec: number): number {
  return Math.round((HOUR_BUDGET * BUDGET_MEAN_PERIOD_S) / (scanPeriodSec - scanJitterSec / 2));
}

/** RPIs a window logs while flooding: the strongest heard more than once, by mean RSSI plus 2 dB a packet heard. */
export var FLOOD_KEEP = 4;
