/** The Espruino emulation: one token running its real bundle. */
export { createEmulatedToken, EspruinoToken, BOOT_FILE } from "./token";
export type { EmulatedTokenOptions, ResetCounts } from "./token";
export { Flash, PowerCutError, ERASE_ENDURANCE_CYCLES } from "./flash";
export type { FlashWear } from "./flash";
export { EspruinoStorage } from "./storage";
export { buildAdvertisingData, parseAdvert } from "./advert-packet";
export { TokenMemory, BOOT_JSVARS } from "./memory";
export type { MemoryUsage, MemoryPeak, ProcessMemory } from "./memory";
export { jsVarLayout } from "./jsvar-layout";
export type { JsVarLayout } from "./jsvar-layout";
