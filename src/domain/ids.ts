import { randomFillSync } from "node:crypto";

/** Twilio-style resource prefixes (API.md "Identifiers"). */
export type SidPrefix = "VA" | "VE" | "VL" | "YE" | "YF" | "YC" | "SK" | "WH" | "EV" | "FB";

/**
 * Random bytes for sids, drawn from the CSPRNG 4 KiB at a time (one call per 256 sids instead of one per
 * sid, which showed in profiles of a start); every byte is used once.
 */
const pool = Buffer.alloc(4096);
let offset = pool.length;

/** A sid: two-letter prefix + 32 lowercase hex (128 random bits). */
export const newSid = (prefix: SidPrefix): string => {
  if (offset + 16 > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const hex = pool.toString("hex", offset, offset + 16);
  offset += 16;
  return prefix + hex;
};

const sidPattern = /^[A-Z]{2}[0-9a-f]{32}$/;
export const isSid = (value: string, prefix: SidPrefix): boolean =>
  value.length === 34 && value.startsWith(prefix) && sidPattern.test(value);
