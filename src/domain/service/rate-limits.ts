import { z } from "zod";
import { VerifyError, notFound } from "../errors.js";
import { isSid, newSid } from "../ids.js";
import type { NamedRateLimit, NamedRateLimitBucket } from "../types.js";
import { parseInput } from "../validation.js";
import { MAX_BUCKETS, MAX_NAMED_RATE_LIMITS, bucket, rateLimitDescription, rateLimitName } from "./settings.js";

/**
 * Programmable rate limits one at a time (Twilio's RateLimits and Buckets): each change is a new `named`
 * list, built from the service's current one inside the locked write (ServiceDirectory.editService). The
 * rules are the settings' (names, bucket bounds, counts); the errors carry Twilio's numbers.
 */

const createInput = z.object({ uniqueName: z.string(), description: rateLimitDescription });
const updateInput = z.object({ description: rateLimitDescription });
const bucketPatch = bucket.partial();

const conflict = (field: string, twilioCode: number, message: string) => new VerifyError("INVALID_PARAMETER", message, { field, twilioCode });

export function findRateLimit(named: readonly NamedRateLimit[], sid: string): NamedRateLimit {
  const limit = isSid(sid, "RK") ? named.find((l) => l.sid === sid) : undefined;
  if (!limit) throw notFound("Rate limit");
  return limit;
}

export function findBucket(limit: NamedRateLimit, sid: string): NamedRateLimitBucket {
  const found = isSid(sid, "BL") ? limit.buckets.find((b) => b.sid === sid) : undefined;
  if (!found) throw notFound("Bucket");
  return found;
}

export function addRateLimit(named: readonly NamedRateLimit[], raw: unknown, now: number): { named: NamedRateLimit[]; limit: NamedRateLimit } {
  const input = parseInput(createInput, raw);
  if (!rateLimitName.test(input.uniqueName)) {
    throw conflict("uniqueName", 60209, "Invalid parameter `uniqueName`: must be 1 to 64 letters, digits, -, _ or . (and no PII).");
  }
  if (named.some((l) => l.uniqueName === input.uniqueName)) throw conflict("uniqueName", 60208, `A rate limit named ${input.uniqueName} already exists on this service.`);
  if (named.length >= MAX_NAMED_RATE_LIMITS) throw conflict("uniqueName", 60207, `A service has at most ${MAX_NAMED_RATE_LIMITS} rate limits.`);
  const limit: NamedRateLimit = { sid: newSid("RK"), uniqueName: input.uniqueName, description: input.description, buckets: [], dateCreated: now, dateUpdated: now };
  return { named: [...named, limit], limit };
}

export function updateRateLimit(named: readonly NamedRateLimit[], sid: string, raw: unknown, now: number): { named: NamedRateLimit[]; limit: NamedRateLimit } {
  const current = findRateLimit(named, sid);
  const input = parseInput(updateInput, raw);
  const limit = input.description === undefined ? current : { ...current, description: input.description, dateUpdated: now };
  return { named: named.map((l) => (l.sid === sid ? limit : l)), limit };
}

export function removeRateLimit(named: readonly NamedRateLimit[], sid: string): NamedRateLimit[] {
  findRateLimit(named, sid);
  return named.filter((l) => l.sid !== sid);
}

/** A limit's buckets changed: the list with the limit replaced. */
function withBuckets(named: readonly NamedRateLimit[], limit: NamedRateLimit, buckets: NamedRateLimitBucket[], now: number): NamedRateLimit[] {
  return named.map((l) => (l.sid === limit.sid ? { ...limit, buckets, dateUpdated: now } : l));
}

export function addBucket(named: readonly NamedRateLimit[], rateLimitSid: string, raw: unknown, now: number): { named: NamedRateLimit[]; bucket: NamedRateLimitBucket } {
  const limit = findRateLimit(named, rateLimitSid);
  const input = parseInput(bucket, raw);
  if (limit.buckets.some((b) => b.interval === input.interval)) throw conflict("interval", 60211, `The rate limit already has a bucket with an interval of ${input.interval} seconds.`);
  if (limit.buckets.length >= MAX_BUCKETS) throw conflict("interval", 60210, `A rate limit has at most ${MAX_BUCKETS} buckets.`);
  const created: NamedRateLimitBucket = { sid: newSid("BL"), max: input.max, interval: input.interval, dateCreated: now, dateUpdated: now };
  return { named: withBuckets(named, limit, [...limit.buckets, created], now), bucket: created };
}

export function updateBucket(named: readonly NamedRateLimit[], rateLimitSid: string, sid: string, raw: unknown, now: number): { named: NamedRateLimit[]; bucket: NamedRateLimitBucket } {
  const limit = findRateLimit(named, rateLimitSid);
  const current = findBucket(limit, sid);
  const input = parseInput(bucketPatch, raw);
  if (input.interval !== undefined && limit.buckets.some((b) => b.sid !== sid && b.interval === input.interval)) {
    throw conflict("interval", 60211, `The rate limit already has a bucket with an interval of ${input.interval} seconds.`);
  }
  const updated: NamedRateLimitBucket = { ...current, max: input.max ?? current.max, interval: input.interval ?? current.interval, dateUpdated: now };
  return {
    named: withBuckets(
      named,
      limit,
      limit.buckets.map((b) => (b.sid === sid ? updated : b)),
      now,
    ),
    bucket: updated,
  };
}

export function removeBucket(named: readonly NamedRateLimit[], rateLimitSid: string, sid: string, now: number): NamedRateLimit[] {
  const limit = findRateLimit(named, rateLimitSid);
  findBucket(limit, sid);
  return withBuckets(
    named,
    limit,
    limit.buckets.filter((b) => b.sid !== sid),
    now,
  );
}
