import { PrivateTracerError } from "../errors";

/**
 * Why a token's flash could not be read in full. Torn records (a power cut
 * while one was written) are not damage: the log is built to survive them, so
 * they are counted and skipped. Damage is what the log cannot vouch for: an
 * image cut short in transfer, or a Storage journal that is not one.
 */
export type DamageKind = "truncated" | "corrupt";

export interface FlashDamage {
  kind: DamageKind;
  /** Byte offset in the image (or file) where reading had to stop. */
  offset: number;
  /** The Storage file the damage is in, when known. */
  file?: string;
  message: string;
}

/** Input that is not a token's flash at all, or cannot be read. */
export class TokenFlashError extends PrivateTracerError {
  readonly code: "TOKEN_FLASH_UNREADABLE" | "TOKEN_FLASH_DAMAGED" = "TOKEN_FLASH_UNREADABLE";
  readonly kind = "unusable";

  constructor(
    readonly source: string,
    message: string
  ) {
    super(`${source}: ${message}`);
  }
}

/**
 * A damaged image or file set, refused as a whole unless the caller accepts a
 * partial read: converting part of a log would under-report exposure with
 * nobody noticing. Carries what was readable, so the message can say what a
 * partial read would keep and lose.
 */
export class DamagedFlashError extends TokenFlashError {
  override readonly code = "TOKEN_FLASH_DAMAGED";

  constructor(
    source: string,
    readonly damage: readonly FlashDamage[],
    readonly readable: { segments: number; records: number; cutOffSlots: number }
  ) {
    super(source, DamagedFlashError.describe(damage, readable));
  }

  private static describe(damage: readonly FlashDamage[], r: DamagedFlashError["readable"]): string {
    const lines = damage.map((d) => `  ${d.kind} at byte ${d.offset}${d.file ? ` (${d.file})` : ""}: ${d.message}`);
    const cut = r.cutOffSlots ? `, ${r.cutOffSlots} written slot(s) cut off (skipped, never guessed)` : "";
    return (
      `the token's flash is damaged, so none of its log is used.\n${lines.join("\n")}\n` +
      `  Readable before the damage: ${r.records} record(s) in ${r.segments} segment(s)${cut}; anything after it is unknown.\n` +
      `  Read the token again, or pass --partial to use what was readable.`
    );
  }
}
