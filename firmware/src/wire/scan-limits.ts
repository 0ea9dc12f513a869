/**
 * What one scan window can record: the host needs these to read a token's
 * dropped count and to model a token in a crowd.
 */

/** Distinct RPIs one scan can aggregate; more are counted as dropped, never stored in RAM. */
export var TABLE_SLOTS = 32;
/**
 * Packets one window processes. The interpreter on an nRF52 takes milliseconds
 * per packet (bench/memory.ts converts the real interpreter's time), so a big
 * crowd would hold the CPU past the window and queue up events; after this
 * many the radio stops scanning (the window's timer still logs the table at
 * its usual time): the crowd has been heard by then (a phone advertises every
 * 200-270 ms), and the work per window is bounded.
 */
export var WINDOW_PACKETS = 400;
