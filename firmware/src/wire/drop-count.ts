/**
 * The token's count of sightings it could not keep, in flash within about an
 * hour (docs/encounter-log.md, "Lost records"). Segment headers carry the
 * count too, but only when a segment is created, and during a flood no
 * segment may be created for a day: without this file a reboot would lose
 * what was counted since. Shared with host tools.
 *
 * File DROP_FILE, in the layout of the fault count (wire/fault-count.ts, read
 * with `savedFaults`, so the token carries no second decoder): FAULT_SLOTS
 * slots of 4 bytes, each the cumulative count of dropped sightings as uint32
 * LE with bit 31 clear, appended in place at most once an hour; the last
 * written slot holds the count; when every slot is used the file is written
 * anew with the count in slot 0.
 */
export var DROP_FILE = "pt.drop";
