import { randomFillSync } from "node:crypto";

/** Twilio-style resource prefixes (API.md "Identifiers"). */
export type SidPrefix = "VA" | "VE" | "VL" | "YE" | "YF" | "YC" | "SK" | "WH" | "EV" | "FB" | TwilioSidPrefix;
/** Sids only the Twilio-compatible REST API shows: account, template, rate limit, bucket, access token, notification, Twilio's webhook. */
export type TwilioSidPrefix = "AC" | "HJ" | "RK" | "BL" | "YK" | "NT" | "YW" | "GN";

/**
 * Random bytes for sids, drawn from the CSPRNG 4 KiB at a time (one call per 400 sids instead of one per
 * sid, which showed in profiles of a start); every byte is used once.
 */
const pool = Buffer.alloc(4000);
let offset = pool.length;

/**
 * A sid: two-letter prefix + 32 lowercase hex: 48 bits of creation time (ms) then 80 random bits, like
 * a UUIDv7. Time first keeps each new row at the right-hand edge of the sid indexes: a commit touches a
 * few index pages instead of one random page per new row (measured: half the write cost of a start).
 * 80 random bits keep sids unguessable; the time they reveal is the resource's dateCreated anyway.
 */
export const newSid = (prefix: SidPrefix): string => {
  if (offset + 10 > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const random = pool.toString("hex", offset, offset + 10);
  offset += 10;
  return prefix + Date.now().toString(16).padStart(12, "0").slice(-12) + random;
};

const sidPattern = /^[A-Z]{2}[0-9a-f]{32}$/;
export const isSid = (value: string, prefix: SidPrefix): boolean => value.length === 34 && value.startsWith(prefix) && sidPattern.test(value);
