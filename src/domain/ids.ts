import { randomBytes } from "node:crypto";

/** Twilio-style resource prefixes (API.md "Identifiers"). */
export type SidPrefix = "VA" | "VE" | "VL" | "YE" | "YF" | "YC" | "SK" | "WH" | "EV" | "FB";

/** A sid: two-letter prefix + 32 lowercase hex (128 random bits). */
export const newSid = (prefix: SidPrefix): string => prefix + randomBytes(16).toString("hex");

const sidPattern = /^[A-Z]{2}[0-9a-f]{32}$/;
export const isSid = (value: string, prefix: SidPrefix): boolean =>
  value.length === 34 && value.startsWith(prefix) && sidPattern.test(value);
