import { z } from "zod";
import { channelNames, fraudGuardLevels, type PasskeySettings, type ServiceSettings } from "../types.js";

export const DEFAULT_SERVICE_NAME = "Default";

/** Channels a service may enable (AUTO: SNA first, SMS fallback). */
export const enablableChannels = ["SMS", "WHATSAPP", "CALL", "EMAIL", "SNA", "AUTO"] as const;

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
  channels: [...enablableChannels],
  fraudGuard: "BASIC",
  testNumbers: [],
  webOtpDomain: null,
  passkeys: { rpId: null, rpName: null, origins: [], authenticatorAttachment: "ANY", residentKey: "PREFERRED", userVerification: "PREFERRED" },
  totp: { issuer: null, timeStep: 30, codeLength: 6, skew: 1, algorithm: "SHA1" },
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

const testNumber = z.object({
  to: z.string().min(3).max(254),
  code: z.string().regex(/^[0-9A-Za-z]{4,10}$/, "must be 4 to 10 letters or digits"),
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
    .array(z.enum(channelNames))
    .max(channelNames.length)
    .refine((list) => list.every((c) => (enablableChannels as readonly string[]).includes(c)), {
      message: `only ${enablableChannels.join(", ")} can be enabled on this gateway`,
    })
    .refine((list) => !list.includes("AUTO") || (list.includes("SNA") && list.includes("SMS")), { message: "AUTO needs SNA and SMS enabled" })
    .transform((list) => [...new Set(list)]),
  fraudGuard: z.enum(fraudGuardLevels),
  testNumbers: z.array(testNumber).max(100),
  webOtpDomain: z
    .string()
    .toLowerCase()
    .regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, "must be a domain name such as example.com"),
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
    issuer: z.string().trim().min(1).max(64).refine((v) => !v.includes(":"), "must not contain a colon").nullish(),
    timeStep: z.number().int().min(20, "must be between 20 and 60").max(60, "must be between 20 and 60").nullish(),
    codeLength: z.number().int().min(3, "must be between 3 and 8").max(8, "must be between 3 and 8").nullish(),
    skew: z.number().int().min(0, "must be between 0 and 2").max(2, "must be between 0 and 2").nullish(),
    algorithm: z.enum(["SHA1", "SHA256", "SHA512"]).nullish(),
  }),
};

/** A GraphQL input leaves omitted fields undefined and may send explicit nulls; both mean "unchanged". */
const dropNulls = (input: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(input).filter(([, v]) => v !== null && v !== undefined));

export const createServiceInput = z.preprocess(
  (v) => dropNulls(v as Record<string, unknown>),
  z.object(settingsShape).partial().required({ friendlyName: true }),
);
export const updateServiceInput = z.preprocess(
  (v) => dropNulls(v as Record<string, unknown>),
  z.object(settingsShape).partial(),
);

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
  const pick = <K extends keyof PasskeySettings>(key: K): PasskeySettings[K] =>
    patch[key] === undefined ? current[key] : patch[key] === null ? defaults[key] : (patch[key] as PasskeySettings[K]);
  return {
    rpId: pick("rpId"),
    rpName: pick("rpName"),
    origins: pick("origins"),
    authenticatorAttachment: pick("authenticatorAttachment"),
    residentKey: pick("residentKey"),
    userVerification: pick("userVerification"),
  };
}
