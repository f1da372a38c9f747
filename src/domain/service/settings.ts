import { createHash } from "node:crypto";
import { z } from "zod";
import { geoChannels, isGeoChannel, isSelectableChannel, selectableChannels } from "../channels.js";
import { fraudGuardLevels, type NamedRateLimit, type NamedRateLimitBucket, type PasskeySettings, type RateLimitBucket, type RateLimitSettings, type ServiceSettings } from "../types.js";
import { newSid } from "../ids.js";
import { parseEmail, parsePhone } from "../verification/address.js";
import { TOTP_CODE_LENGTH } from "../factor/totp.js";

export const DEFAULT_SERVICE_NAME = "Default";

/** Channels a service may enable (AUTO: SNA first, SMS fallback): every channel a client may name. */
export const enablableChannels = (): string[] => selectableChannels();

export const serviceDefaults = (): Omit<ServiceSettings, "friendlyName"> => ({
  codeLength: 6,
  ttlSeconds: 600,
  maxCheckAttempts: 5,
  maxSendAttempts: 5,
  customCodeEnabled: false,
  psd2Enabled: false,
  doNotShareWarningEnabled: false,
  dtmfInputRequired: true,
  lookupEnabled: false,
  skipSmsToLandlines: false,
  defaultLocale: "en",
  channels: enablableChannels(),
  fraudGuard: "BASIC",
  testNumbers: [],
  rateLimits: defaultRateLimits(),
  geoPermissions: [],
  safeList: [],
  blockPremiumNumbers: true,
  webOtpDomain: null,
  passkeys: { rpId: null, rpName: null, origins: [], authenticatorAttachment: "ANY", residentKey: "PREFERRED", userVerification: "PREFERRED" },
  totp: { issuer: null, timeStep: 30, codeLength: 6, skew: 1, algorithm: "SHA1" },
  defaultTemplateSid: null,
  messagingConfigurations: [],
});

/**
 * Out of the box: 10 starts per recipient per hour (on top of maxSendAttempts per ttl window) and 50
 * per end-user IP per hour; no cap per service (set one to bound what a leaked key can spend).
 */
export const defaultRateLimits = (): RateLimitSettings => ({
  perTo: [{ max: 10, interval: 3600 }],
  perIp: [{ max: 50, interval: 3600 }],
  perService: [],
  named: [],
});

const linkPattern = /(https?:\/\/|www\.|[a-z0-9-]+\.(com|net|org|io|info|biz|co|me|ly|app|dev|xyz)\b)/i;

/** Twilio's rules: at most 30 characters, no links, at most 4 digits (a name is not a phone number). */
export const friendlyName = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(30, "must be at most 30 characters")
  .refine((v) => !linkPattern.test(v), "must not contain a link")
  .refine((v) => (v.match(/\d/g)?.length ?? 0) <= 4, "must contain at most 4 digits")
  .refine((v) => /^[\p{L}\p{N} _\-.'&!]+$/u.test(v), "may hold letters, digits, spaces and - _ . ' & ! only");

export const localeTag = z.string().regex(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/, "must be a language tag such as en or pt-BR");

/** A phone number (E.164) or, for EMAIL, an address, in the form verifications store it. */
const address = z
  .string()
  .max(254)
  .transform((value, ctx) => {
    try {
      return value.includes("@") ? parseEmail(value) : parsePhone(value).e164;
    } catch {
      ctx.addIssue({ code: "custom", message: "must be an E.164 phone number or an email address" });
      return z.NEVER;
    }
  });

const phoneNumber = z
  .string()
  .max(32)
  .transform((value, ctx) => {
    try {
      return parsePhone(value).e164;
    } catch {
      ctx.addIssue({ code: "custom", message: "must be an E.164 phone number" });
      return z.NEVER;
    }
  });

const testNumber = z.object({
  to: address,
  code: z.string().regex(/^[0-9A-Za-z]{4,10}$/, "must be 4 to 10 letters or digits"),
});

/** Twilio's limits on programmable rate limits (its 60207 and 60210). */
export const MAX_NAMED_RATE_LIMITS = 20;
export const MAX_BUCKETS = 5;

export const bucket = z.object({
  max: z.number().int().min(1, "must be between 1 and 1000000").max(1_000_000, "must be between 1 and 1000000"),
  interval: z.number().int().min(1, "must be between 1 and 2592000 seconds").max(2_592_000, "must be between 1 and 2592000 seconds"),
});
// Twilio: one bucket per interval (60211); a handful of buckets per limit is plenty.
const buckets = z
  .array(bucket)
  .max(MAX_BUCKETS, `at most ${MAX_BUCKETS} buckets`)
  .refine((list) => new Set(list.map((b) => b.interval)).size === list.length, "two buckets have the same interval");

export const rateLimitName = /^[A-Za-z0-9_.-]{1,64}$/;
export const rateLimitDescription = z
  .string()
  .trim()
  .max(256)
  .nullish()
  .transform((v) => v || null);
const namedRateLimit = z.object({
  uniqueName: z.string().regex(rateLimitName, "must be 1 to 64 letters, digits, -, _ or ."),
  description: rateLimitDescription,
  buckets: buckets.min(1, "needs at least one bucket"),
});
const rateLimitsPatch = z.object({
  perTo: buckets.nullish(),
  perIp: buckets.nullish(),
  perService: buckets.nullish(),
  named: z
    .array(namedRateLimit)
    .max(MAX_NAMED_RATE_LIMITS, `at most ${MAX_NAMED_RATE_LIMITS} rate limits`)
    .refine((list) => new Set(list.map((l) => l.uniqueName)).size === list.length, "two rate limits have the same uniqueName")
    .nullish(),
});

const geoPermission = z.object({
  channel: z.string().refine(isGeoChannel, { message: "not a channel geo permissions restrict" }),
  allowedCountries: z
    .array(
      z
        .string()
        .toUpperCase()
        .regex(/^[A-Z]{2}$/, "must be ISO 3166-1 alpha-2 country codes such as US or FR"),
    )
    .max(250)
    .transform((list) => [...new Set(list)]),
});

const settingsShape = {
  friendlyName,
  codeLength: z.number().int().min(4, "must be between 4 and 10").max(10, "must be between 4 and 10"),
  ttlSeconds: z.number().int().min(120, "must be between 120 and 86400").max(86400, "must be between 120 and 86400"),
  maxCheckAttempts: z.number().int().min(1).max(20),
  maxSendAttempts: z.number().int().min(1).max(20),
  customCodeEnabled: z.boolean(),
  psd2Enabled: z.boolean(),
  doNotShareWarningEnabled: z.boolean(),
  dtmfInputRequired: z.boolean(),
  lookupEnabled: z.boolean(),
  skipSmsToLandlines: z.boolean(),
  defaultLocale: localeTag,
  channels: z
    .array(z.string())
    .refine((list) => list.length <= enablableChannels().length, { message: "lists a channel twice" })
    .refine((list) => list.every(isSelectableChannel), {
      error: () => `only ${enablableChannels().join(", ")} can be enabled on this gateway`,
    })
    .refine((list) => !list.includes("AUTO") || (list.includes("SNA") && list.includes("SMS")), { message: "AUTO needs SNA and SMS enabled" })
    .transform((list) => [...new Set(list)]),
  fraudGuard: z.enum(fraudGuardLevels),
  testNumbers: z
    .array(testNumber)
    .max(100)
    .refine((list) => new Set(list.map((n) => n.to)).size === list.length, "a number is listed twice"),
  rateLimits: rateLimitsPatch,
  geoPermissions: z
    .array(geoPermission)
    .refine((list) => list.length <= geoChannels().length, { message: "lists a channel twice" })
    .refine((list) => new Set(list.map((g) => g.channel)).size === list.length, "a channel is listed twice"),
  safeList: z
    .array(phoneNumber)
    .max(1000)
    .transform((list) => [...new Set(list)]),
  blockPremiumNumbers: z.boolean(),
  // "" clears it (null in an input means "unchanged").
  webOtpDomain: z.union([
    z.literal("").transform(() => null),
    z
      .string()
      .toLowerCase()
      .regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, "must be a domain name such as example.com, or empty to remove it"),
  ]),
  passkeys: z.object({
    rpId: z
      .string()
      .toLowerCase()
      .regex(/^(localhost|([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})$/, "must be a domain name (the relying party id), such as example.com")
      .nullish(),
    rpName: z.string().trim().min(1).max(64).nullish(),
    origins: z
      .array(z.string().regex(/^https?:\/\/[^/\s]+$/, "must be origins such as https://example.com (scheme and host, no path)"))
      .max(20)
      .nullish(),
    authenticatorAttachment: z.enum(["PLATFORM", "CROSS_PLATFORM", "ANY"]).nullish(),
    residentKey: z.enum(["REQUIRED", "PREFERRED", "DISCOURAGED"]).nullish(),
    userVerification: z.enum(["REQUIRED", "PREFERRED", "DISCOURAGED"]).nullish(),
  }),
  totp: z.object({
    issuer: z
      .string()
      .trim()
      .min(1)
      .max(64)
      .refine((v) => !v.includes(":"), "must not contain a colon")
      .nullish(),
    timeStep: z.number().int().min(20, "must be between 20 and 60").max(60, "must be between 20 and 60").nullish(),
    codeLength: z.number().int().min(TOTP_CODE_LENGTH.min, "must be between 6 and 8").max(TOTP_CODE_LENGTH.max, "must be between 6 and 8").nullish(),
    skew: z.number().int().min(0, "must be between 0 and 2").max(2, "must be between 0 and 2").nullish(),
    algorithm: z.enum(["SHA1", "SHA256", "SHA512"]).nullish(),
  }),
};

/** A GraphQL input leaves omitted fields undefined and may send explicit nulls; both mean "unchanged". */
const dropNulls = (input: Record<string, unknown>) => Object.fromEntries(Object.entries(input).filter(([, v]) => v !== null && v !== undefined));

export const createServiceInput = z.preprocess((v) => dropNulls(v as Record<string, unknown>), z.object(settingsShape).partial().required({ friendlyName: true }));
/** The template starts use when they name none: a template (HJ…) of the service (checked by the directory); "" clears it. */
const defaultTemplateSid = z.union([z.literal(""), z.string().regex(/^HJ[0-9a-fA-F]{32}$/, "must be a template sid (HJ…) or empty")]).transform((v) => (v === "" ? null : v));
export const updateServiceInput = z.preprocess((v) => dropNulls(v as Record<string, unknown>), z.object({ ...settingsShape, defaultTemplateSid }).partial());

/** Nested settings given in an input, laid over the current ones; a field sent as null resets it to the default. */
export function mergeNested<T extends object>(current: T, defaults: T, patch: Partial<Record<keyof T, unknown>> | undefined): T {
  if (!patch) return current;
  const merged = { ...current };
  for (const key of Object.keys(defaults) as (keyof T)[]) {
    if (patch[key] !== undefined) merged[key] = (patch[key] === null ? defaults[key] : patch[key]) as T[keyof T];
  }
  return merged;
}

/** Passkey settings given in an input, laid over the current ones; a field sent as null resets it. */
export function mergePasskeys(current: PasskeySettings, patch: Partial<Record<keyof PasskeySettings, unknown>> | undefined): PasskeySettings {
  if (!patch) return current;
  const defaults = serviceDefaults().passkeys;
  const pick = <K extends keyof PasskeySettings>(key: K): PasskeySettings[K] => (patch[key] === undefined ? current[key] : patch[key] === null ? defaults[key] : (patch[key] as PasskeySettings[K]));
  return {
    rpId: pick("rpId"),
    rpName: pick("rpName"),
    origins: pick("origins"),
    authenticatorAttachment: pick("authenticatorAttachment"),
    residentKey: pick("residentKey"),
    userVerification: pick("userVerification"),
  };
}

/** Rate limits given in an input, laid over the current ones; each list given replaces its own. */
export function mergeRateLimits(current: RateLimitSettings, patch: Partial<Record<keyof RateLimitSettings, unknown>> | undefined, now: number): RateLimitSettings {
  if (!patch) return current;
  const pick = <K extends keyof RateLimitSettings>(key: K): RateLimitSettings[K] => (patch[key] == null ? current[key] : (patch[key] as RateLimitSettings[K]));
  const named = patch.named == null ? current.named : keepNamedSids(current.named, patch.named as GivenRateLimit[], now);
  return { perTo: pick("perTo"), perIp: pick("perIp"), perService: pick("perService"), named };
}

type GivenRateLimit = { uniqueName: string; description: string | null; buckets: RateLimitBucket[] };

/**
 * A named list given whole (GraphQL's updateService) keeps the sids and dates of what it keeps: a limit
 * by its uniqueName, a bucket by its interval (REST names them by sid, so a GraphQL edit must not rename them).
 */
function keepNamedSids(current: NamedRateLimit[], given: GivenRateLimit[], now: number): NamedRateLimit[] {
  return given.map((g) => {
    const was = current.find((l) => l.uniqueName === g.uniqueName);
    const buckets = g.buckets.map((b): NamedRateLimitBucket => {
      const old = was?.buckets.find((o) => o.interval === b.interval);
      if (!old) return { sid: newSid("BL"), max: b.max, interval: b.interval, dateCreated: now, dateUpdated: now };
      return old.max === b.max ? old : { ...old, max: b.max, dateUpdated: now };
    });
    if (!was) return { sid: newSid("RK"), uniqueName: g.uniqueName, description: g.description, buckets, dateCreated: now, dateUpdated: now };
    const same = was.description === g.description && buckets.length === was.buckets.length && buckets.every((b, i) => b === was.buckets[i]);
    return same ? was : { ...was, description: g.description, buckets, dateUpdated: now };
  });
}

/**
 * Named limits stored before they had sids read with sids derived from the service and the name (stable
 * across reads, so Twilio's API can name them), dated as the service.
 */
export function withNamedSids(rateLimits: RateLimitSettings, serviceSid: string, dateCreated: number): RateLimitSettings {
  if (rateLimits.named.every((l) => l.sid && l.buckets.every((b) => b.sid))) return rateLimits;
  const derived = (prefix: "RK" | "BL", seed: string) => `${prefix}${createHash("sha256").update(`${serviceSid}:${seed}`).digest("hex").slice(0, 32)}`;
  const named = rateLimits.named.map((l) => ({
    ...l,
    sid: l.sid ?? derived("RK", l.uniqueName),
    dateCreated: l.dateCreated ?? dateCreated,
    dateUpdated: l.dateUpdated ?? dateCreated,
    buckets: l.buckets.map((b) => ({ ...b, sid: b.sid ?? derived("BL", `${l.uniqueName}:${b.interval}`), dateCreated: b.dateCreated ?? dateCreated, dateUpdated: b.dateUpdated ?? dateCreated })),
  }));
  return { ...rateLimits, named };
}
