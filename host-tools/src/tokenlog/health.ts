import { FAULT_COUNT_FILE, savedFaults } from "../../../firmware/src/wire/fault-count";
import { TokenFiles } from "./token-files";

/**
 * Runtime faults the token's guards caught since it was first started, as it
 * last persisted them (at most hourly); 0 when it never wrote the count.
 */
export function readFaultCount(t: TokenFiles): number {
  return savedFaults(t.files.get(FAULT_COUNT_FILE))[0];
}
