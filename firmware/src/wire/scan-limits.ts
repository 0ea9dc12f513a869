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
