import { Platform } from "../platform-api";

/** The part of the platform seam the crypto needs: a unit test fakes just this. */
export type CryptoPlatform = Pick<Platform, "sha256" | "aes128Ecb">;
