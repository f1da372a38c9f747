import { notFound } from "../domain/errors.js";
import { enablableChannels } from "../domain/service/settings.js";
import {
  type TotpServiceSettings,
  type ApiKey,
  type GeoPermission,
  type NamedRateLimit,
  type PasskeySettings,
  type RateLimitBucket,
  type RateLimitSettings,
  type Service,
  type TestNumber,
  fraudGuardLevels,
} from "../domain/types.js";
import { authorize, inScope, serviceScope } from "../domain/access/rules.js";
import { builder } from "./builder.js";
import { connection, emptyPage, pageSize, pagingArgs } from "./connection.js";
import { catalogueValues } from "./channels.js";
import { describedValues } from "./describe.js";

export const ChannelEnum = builder.enumType("Channel", {
  values: catalogueValues("channel", (c) => c.selectable),
  description: "AUTO is input only; a Verification shows the channel actually chosen",
});
export const FraudGuardLevelEnum = builder.enumType("FraudGuardLevel", {
  description: "How eagerly Fraud Guard blocks SMS to a number range that looks pumped (bursts nobody completes)",
  values: describedValues(fraudGuardLevels, {
    OFF: "Fraud Guard is off for this service",
    BASIC: "Cautious (the default): a burst of 40 starts an hour to one prefix, or conversion at or below 10%",
    STANDARD: "A burst of 20, or conversion at or below 20%",
    MAX: "Aggressive: a burst of 10, or conversion at or below 30%",
  }),
});

const TestNumberRef = builder.objectRef<TestNumber>("TestNumber").implement({
  description: "A recipient with a fixed code: delivered into the dev outbox only, outside rate limits, the send cap and Fraud Guard",
  fields: (t) => ({ to: t.exposeString("to", { description: "An E.164 number or an email address" }), code: t.exposeString("code", { description: "The fixed code, 4–10 letters or digits" }) }),
});

const RateLimitBucketRef = builder.objectRef<RateLimitBucket>("RateLimitBucket").implement({
  description: "At most `max` starts per `interval` seconds",
  fields: (t) => ({ max: t.exposeInt("max", { description: "Starts allowed per interval, 1–1000000" }), interval: t.exposeInt("interval", { description: "seconds" }) }),
});
const NamedRateLimitRef = builder.objectRef<NamedRateLimit>("NamedRateLimit").implement({
  description: "A programmable rate limit: startVerification(rateLimits: { <uniqueName>: value }) counts starts per value",
  fields: (t) => ({
    sid: t.exposeString("sid", { description: "RK…: how Twilio's REST API (RateLimits) names it; kept while the uniqueName is" }),
    uniqueName: t.exposeString("uniqueName", { description: "The key startVerification's rateLimits JSON uses" }),
    description: t.exposeString("description", { nullable: true, description: "Your note on what the limit counts" }),
    buckets: t.field({ type: [RateLimitBucketRef], description: "Every bucket must have room for a start to pass", resolve: (l) => l.buckets }),
  }),
});
const RateLimitsRef = builder.objectRef<RateLimitSettings>("RateLimits").implement({
  description: "Exceeding any bucket answers RATE_LIMITED with retryAfterSeconds; an empty list is no limit",
  fields: (t) => ({
    perTo: t.field({ type: [RateLimitBucketRef], description: "Starts per recipient", resolve: (r) => r.perTo }),
    perIp: t.field({ type: [RateLimitBucketRef], description: "Starts per end-user IP (the deviceIp input)", resolve: (r) => r.perIp }),
    perService: t.field({ type: [RateLimitBucketRef], description: "Starts per service", resolve: (r) => r.perService }),
    named: t.field({ type: [NamedRateLimitRef], description: "Programmable limits, counted per value startVerification passes in rateLimits", resolve: (r) => r.named }),
  }),
});
export const GeoChannelEnum = builder.enumType("GeoChannel", {
  description: "A channel whose destinations geo permissions restrict",
  values: catalogueValues("geo", (c) => c.geo),
});
const GeoPermissionRef = builder.objectRef<GeoPermission>("GeoPermission").implement({
  description: "The countries (ISO 3166-1 alpha-2) a channel may reach; a channel without an entry reaches every country",
  fields: (t) => ({
    channel: t.field({ type: GeoChannelEnum, description: "The channel restricted", resolve: (g) => g.channel }),
    allowedCountries: t.exposeStringList("allowedCountries", { description: "ISO 3166-1 alpha-2 codes; a start to any other country answers GEO_BLOCKED" }),
  }),
});

export const ServiceRef = builder.objectRef<Service>("Service").implement({
  description: "A verification service: one product's settings, keys and verifications",
  fields: (t) => ({
    id: t.exposeID("sid", { description: "The service sid (VA…), as `sid`" }),
    sid: t.exposeID("sid", { description: "VA followed by 32 lowercase hex digits" }),
    friendlyName: t.exposeString("friendlyName", { description: "Named in the messages sent; at most 30 characters, no links, at most 4 digits" }),
    codeLength: t.exposeInt("codeLength", { description: "Digits of a generated code, 4–10 (default 6)" }),
    ttlSeconds: t.exposeInt("ttlSeconds", { description: "How long a verification stays valid, 120–86400 seconds (default 600); also maxSendAttempts' window" }),
    maxCheckAttempts: t.exposeInt("maxCheckAttempts", { description: "Failed checks before a verification is MAX_ATTEMPTS_REACHED, 1–20 (default 5)" }),
    maxSendAttempts: t.exposeInt("maxSendAttempts", { description: "Sends to one `to` within ttlSeconds, 1–20 (default 5); the next answers MAX_SEND_ATTEMPTS_REACHED" }),
    customCodeEnabled: t.exposeBoolean("customCodeEnabled", { description: "startVerification may bring its own customCode (default false)" }),
    psd2Enabled: t.exposeBoolean("psd2Enabled", { description: "PSD2 dynamic linking: starts and checks carry amount and payee, not by CALL or SNA (default false)" }),
    doNotShareWarningEnabled: t.exposeBoolean("doNotShareWarningEnabled", { description: "Messages add a warning never to share the code (default false)" }),
    dtmfInputRequired: t.exposeBoolean("dtmfInputRequired", { description: "CALL: the callee presses a key before the code is read (default true)" }),
    lookupEnabled: t.exposeBoolean("lookupEnabled", { description: "Look up the carrier of each number; Verification.lookup.carrier (default false)" }),
    skipSmsToLandlines: t.exposeBoolean("skipSmsToLandlines", { description: "SMS to a fixed line answers LANDLINE_NOT_SUPPORTED instead of sending (default false)" }),
    defaultLocale: t.exposeString("defaultLocale", { description: "Message language when a start names none, a language tag such as en or pt-BR (default en)" }),
    channels: t.field({ type: [ChannelEnum], description: "Channels startVerification may use; another answers CHANNEL_DISABLED (default: all)", resolve: (s) => s.channels }),
    fraudGuard: t.field({ type: FraudGuardLevelEnum, description: "Fraud Guard's level against SMS pumping (default BASIC)", resolve: (s) => s.fraudGuard }),
    testNumbers: t.field({ type: [TestNumberRef], description: "Recipients with a fixed code, for end-to-end tests (none by default)", resolve: (s) => s.testNumbers }),
    rateLimits: t.field({ type: RateLimitsRef, description: "Limits on startVerification (default: 10 per `to` and 50 per IP an hour)", resolve: (s) => s.rateLimits }),
    geoPermissions: t.field({ type: [GeoPermissionRef], description: "Countries each channel may reach (none: everywhere); another answers GEO_BLOCKED", resolve: (s) => s.geoPermissions }),
    safeList: t.exposeStringList("safeList", { description: "Numbers that skip Fraud Guard and geo permissions" }),
    blockPremiumNumbers: t.exposeBoolean("blockPremiumNumbers", { description: "Refuse premium-rate and shared-cost numbers (default true)" }),
    webOtpDomain: t.exposeString("webOtpDomain", { nullable: true, description: "Domain of the SMS's WebOTP line (@domain #code)" }),
    defaultTemplateSid: t.exposeString("defaultTemplateSid", {
      nullable: true,
      description: "The template (HJ…) a start uses when it names none (where it has a text for the channel); null: the built-in texts",
    }),
    passkeys: t.field({ type: PasskeySettingsRef, description: "The WebAuthn relying party of the service's passkeys", resolve: (s) => s.passkeys }),
    totp: t.field({ type: TotpSettingsRef, description: "Defaults of new TOTP factors", resolve: (s) => s.totp }),
    dateCreated: t.field({ type: "DateTime", description: "When the service was created", resolve: (s) => s.dateCreated }),
    dateUpdated: t.field({ type: "DateTime", description: "When its settings last changed", resolve: (s) => s.dateUpdated }),
  }),
});

const PasskeySettingsRef = builder.objectRef<PasskeySettings>("PasskeySettings").implement({
  description: "The service's WebAuthn relying party; null fields use WEBAUTHN_RP_ID / WEBAUTHN_ORIGINS / PUBLIC_URL",
  fields: (t) => ({
    rpId: t.exposeString("rpId", { nullable: true, description: "The relying party id, a domain such as example.com; null: WEBAUTHN_RP_ID or PUBLIC_URL's host" }),
    rpName: t.exposeString("rpName", { nullable: true, description: "default: the service's friendly name" }),
    origins: t.exposeStringList("origins", { description: "Origins a ceremony may come from, such as https://example.com; empty: WEBAUTHN_ORIGINS or PUBLIC_URL" }),
    authenticatorAttachment: t.exposeString("authenticatorAttachment", { description: "PLATFORM, CROSS_PLATFORM or ANY" }),
    residentKey: t.exposeString("residentKey", { description: "REQUIRED, PREFERRED or DISCOURAGED" }),
    userVerification: t.exposeString("userVerification", { description: "REQUIRED, PREFERRED or DISCOURAGED" }),
  }),
});

const PasskeySettingsInput = builder.inputType("PasskeySettingsInput", {
  description: "The service's WebAuthn relying party; a field left out keeps its value",
  fields: (t) => ({
    rpId: t.string({ description: "A domain such as example.com (the relying party id)" }),
    rpName: t.string({ description: "Shown by authenticators, 1–64 characters; default: the service's friendly name" }),
    origins: t.stringList({ description: "At most 20 origins such as https://example.com (scheme and host, no path)" }),
    authenticatorAttachment: t.string({ description: "PLATFORM, CROSS_PLATFORM or ANY" }),
    residentKey: t.string({ description: "REQUIRED, PREFERRED or DISCOURAGED" }),
    userVerification: t.string({ description: "REQUIRED, PREFERRED or DISCOURAGED" }),
  }),
});

export const TotpAlgorithmEnum = builder.enumType("TotpAlgorithm", {
  description: "The HMAC a TOTP code is computed with (RFC 6238)",
  values: {
    SHA1: { description: "HMAC-SHA1, the default: what every authenticator app supports" },
    SHA256: { description: "HMAC-SHA256" },
    SHA512: { description: "HMAC-SHA512" },
  } as const,
});
const TotpSettingsRef = builder.objectRef<TotpServiceSettings>("TotpSettings").implement({
  description: "Defaults of the service's new TOTP factors",
  fields: (t) => ({
    issuer: t.exposeString("issuer", { nullable: true, description: "shown by authenticator apps; default: the service's friendly name" }),
    timeStep: t.exposeInt("timeStep", { description: "seconds, 20–60, default 30" }),
    codeLength: t.exposeInt("codeLength", { description: "6–8, default 6" }),
    skew: t.exposeInt("skew", { description: "steps accepted either side of now, 0–2, default 1" }),
    algorithm: t.field({ type: TotpAlgorithmEnum, description: "default SHA1", resolve: (s) => s.algorithm }),
  }),
});
export const TotpSettingsInput = builder.inputType("TotpSettingsInput", {
  description: "Defaults of the service's new TOTP factors; a field left out keeps its value",
  fields: (t) => ({
    issuer: t.string({ description: "Shown by authenticator apps, 1–64 characters, no colon; default: the service's friendly name" }),
    timeStep: t.int({ description: "20–60" }),
    codeLength: t.int({ description: "6–8" }),
    skew: t.int({ description: "0–2" }),
    algorithm: t.field({ type: TotpAlgorithmEnum, description: "default SHA1" }),
  }),
});

const ApiKeyRef = builder.objectRef<ApiKey>("ApiKey").implement({
  description: "An API key's record; the key itself is shown once, by createApiKey",
  fields: (t) => ({
    id: t.exposeID("sid", { description: "The key's sid (SK…), as `sid`" }),
    sid: t.exposeID("sid", { description: "SK followed by 32 lowercase hex digits; the REST API's Basic auth username" }),
    serviceSid: t.exposeID("serviceSid", { description: "The service (VA…) the key may act in" }),
    name: t.exposeString("name", { description: "Your label for the key" }),
    dateCreated: t.field({ type: "DateTime", description: "When the key was created", resolve: (k) => k.dateCreated }),
    revokedAt: t.field({ type: "DateTime", nullable: true, description: "When it was revoked; null while it works", resolve: (k) => k.revokedAt }),
  }),
});

const ServiceConnection = connection("Service", ServiceRef);

const TestNumberInput = builder.inputType("TestNumberInput", {
  description: "A recipient with a fixed code, for end-to-end tests",
  fields: (t) => ({ to: t.string({ required: true, description: "An E.164 number or an email address" }), code: t.string({ required: true, description: "4–10 letters or digits" }) }),
});

const RateLimitBucketInput = builder.inputType("RateLimitBucketInput", {
  description: "At most `max` starts per `interval` seconds; at most 5 buckets a limit, each with its own interval",
  fields: (t) => ({ max: t.int({ required: true, description: "1–1000000" }), interval: t.int({ required: true, description: "seconds, 1–2592000 (30 days)" }) }),
});
const NamedRateLimitInput = builder.inputType("NamedRateLimitInput", {
  description: "A programmable rate limit, counted per value startVerification passes under its uniqueName",
  fields: (t) => ({
    uniqueName: t.string({ required: true, description: "letters, digits, - _ . (no PII)" }),
    description: t.string({ description: "Your note, at most 256 characters" }),
    buckets: t.field({ type: [RateLimitBucketInput], required: true, description: "1–5 buckets" }),
  }),
});
const RateLimitsInput = builder.inputType("RateLimitsInput", {
  description: "Each list given replaces the current one; an empty list removes that limit",
  fields: (t) => ({
    perTo: t.field({ type: [RateLimitBucketInput], description: "Starts per recipient" }),
    perIp: t.field({ type: [RateLimitBucketInput], description: "Starts per end-user IP (startVerification's deviceIp)" }),
    perService: t.field({ type: [RateLimitBucketInput], description: "Starts per service: bounds what a leaked key can spend" }),
    named: t.field({ type: [NamedRateLimitInput], description: "At most 20, each uniqueName once" }),
  }),
});
const GeoPermissionInput = builder.inputType("GeoPermissionInput", {
  description: "The countries one channel may reach",
  fields: (t) => ({
    channel: t.field({ type: GeoChannelEnum, required: true, description: "Each channel at most once" }),
    allowedCountries: t.stringList({ required: true, description: "ISO 3166-1 alpha-2 codes such as US or FR" }),
  }),
});

const settingsFields = (t: Parameters<Parameters<typeof builder.inputType>[1]["fields"]>[0]) => ({
  codeLength: t.int({ description: "4–10, default 6" }),
  ttlSeconds: t.int({ description: "120–86400, default 600" }),
  maxCheckAttempts: t.int({ description: "1–20, default 5" }),
  maxSendAttempts: t.int({ description: "sends per `to` per ttl window, 1–20, default 5" }),
  customCodeEnabled: t.boolean({ description: "Let startVerification bring its own customCode (default false)" }),
  psd2Enabled: t.boolean({ description: "PSD2: starts and checks carry amount and payee (default false)" }),
  doNotShareWarningEnabled: t.boolean({ description: "Warn in messages never to share the code (default false)" }),
  dtmfInputRequired: t.boolean({ description: "CALL: a key press before the code is read (default true)" }),
  lookupEnabled: t.boolean({ description: "Look up each number's carrier (default false)" }),
  skipSmsToLandlines: t.boolean({ description: "Refuse SMS to fixed lines with LANDLINE_NOT_SUPPORTED (default false)" }),
  defaultLocale: t.string({ description: "A language tag such as en or pt-BR (default en)" }),
  channels: t.field({ type: [ChannelEnum], description: `enabled channels; available: ${enablableChannels().join(", ")}` }),
  fraudGuard: t.field({ type: FraudGuardLevelEnum, description: "default BASIC" }),
  testNumbers: t.field({ type: [TestNumberInput], description: "fixed codes, delivered into the dev outbox only, outside rate limits and Fraud Guard" }),
  rateLimits: t.field({ type: RateLimitsInput, description: "Each list given replaces that limit's buckets" }),
  geoPermissions: t.field({ type: [GeoPermissionInput], description: "replaces the list; [] lets every channel reach every country" }),
  safeList: t.stringList({ description: "E.164 numbers that skip Fraud Guard and geo permissions; replaces the list" }),
  blockPremiumNumbers: t.boolean({ description: "Refuse premium-rate and shared-cost numbers with INVALID_PARAMETER on `to` (default true)" }),
  webOtpDomain: t.string({ description: 'Adds the WebOTP line `@domain #code` to SMS so browsers autofill the code; "" removes it' }),
  passkeys: t.field({ type: PasskeySettingsInput, description: "The WebAuthn relying party of the service's passkeys" }),
  totp: t.field({ type: TotpSettingsInput, description: "Defaults of new TOTP factors; the issuer authenticator apps show" }),
});

const CreateServiceInput = builder.inputType("CreateServiceInput", {
  description: "A new service: a friendly name, and any setting that should not keep its default",
  fields: (t) => ({ friendlyName: t.string({ required: true, description: "1–30 characters, no links, at most 4 digits" }), ...settingsFields(t) }),
});
const UpdateServiceInput = builder.inputType("UpdateServiceInput", {
  description: "A service's changed settings; a field left out (or null) keeps its value",
  fields: (t) => ({
    sid: t.id({ required: true, description: "The service (VA…)" }),
    friendlyName: t.string({ description: "1–30 characters, no links, at most 4 digits" }),
    ...settingsFields(t),
    defaultTemplateSid: t.string({ description: 'A template (HJ…) of this service (else INVALID_PARAMETER), used when a start names none; "" clears it' }),
  }),
});
const CreateApiKeyInput = builder.inputType("CreateApiKeyInput", {
  description: "A new API key for one service",
  fields: (t) => ({ serviceSid: t.id({ required: true, description: "The service (VA…) the key may act in" }), name: t.string({ description: "Your label for the key" }) }),
});
const CreateApiKeyPayload = builder.objectRef<{ key: string; apiKey: ApiKey }>("CreateApiKeyPayload").implement({
  description: "A new API key: the secret, shown once, and its record",
  fields: (t) => ({
    key: t.exposeString("key", { description: "The secret; shown only in this response" }),
    apiKey: t.field({ type: ApiKeyRef, description: "The key's record (sid, name, dates)", resolve: (p) => p.apiKey }),
  }),
});

builder.queryFields((t) => ({
  service: t.field({
    type: ServiceRef,
    description: "One service; null when unknown or out of scope. Admin, or a key of that service; client, access and device tokens: FORBIDDEN.",
    nullable: true,
    args: { sid: t.arg.id({ required: true, description: "The service (VA…)" }) },
    resolve: async (_, { sid }, { principal, gateway }) => (inScope(authorize(principal, "service"), sid) ? gateway.services.get(sid) : null),
  }),
  services: t.field({
    type: ServiceConnection,
    description: "Every service for the admin key; a service key sees its own only. Client, access and device tokens: FORBIDDEN. Errors: INVALID_PARAMETER (first, after).",
    args: { first: t.arg.int({ description: pagingArgs.first }), after: t.arg.string({ description: pagingArgs.after }) },
    resolve: async (_, args, { principal, gateway }) => {
      const p = authorize(principal, "services");
      const first = pageSize(args.first);
      if (p.kind === "apiKey") {
        // A service key sees its own service only.
        const own = args.after ? null : await gateway.services.get(p.serviceSid);
        return own ? { edges: [{ cursor: "", node: own }], hasNextPage: false, endCursor: null } : emptyPage<Service>();
      }
      return gateway.records.services({ first, after: args.after ?? null });
    },
  }),
  apiKeys: t.field({
    type: [ApiKeyRef],
    description: "The service's API keys (records only; keys are never shown again); empty when out of scope. Admin, or a key of that service; client, access and device tokens: FORBIDDEN.",
    args: { serviceSid: t.arg.id({ required: true, description: "The service (VA…)" }) },
    resolve: async (_, { serviceSid }, { principal, gateway }) => (inScope(authorize(principal, "apiKeys"), serviceSid) ? gateway.records.apiKeys(serviceSid) : []),
  }),
}));

builder.mutationFields((t) => ({
  createService: t.field({
    type: ServiceRef,
    description: "Creates a service; settings left out take their defaults. Admin key only (others: FORBIDDEN). Errors: INVALID_PARAMETER.",
    args: { input: t.arg({ type: CreateServiceInput, required: true, description: "The new service's name and settings" }) },
    resolve: async (_, { input }, { principal, gateway }) => {
      authorize(principal, "createService");
      return gateway.services.create(input);
    },
  }),
  updateService: t.field({
    type: ServiceRef,
    description:
      "Changes a service's settings; lists given replace the current ones. Admin, or a key of that service; client, access and device tokens: FORBIDDEN. Errors: NOT_FOUND, INVALID_PARAMETER.",
    args: { input: t.arg({ type: UpdateServiceInput, required: true, description: "The service's sid and the settings to change" }) },
    resolve: async (_, { input }, { principal, gateway }) => {
      const { sid, ...patch } = input;
      if (!inScope(authorize(principal, "updateService"), sid)) throw notFound("Service");
      return gateway.services.update(sid, patch);
    },
  }),
  deleteService: t.field({
    type: ServiceRef,
    description:
      "Deletes a service, answering it as it was: its API keys stop working at once; its webhooks, templates, entities and factors go; its pending verifications are canceled; its history (verifications, attempts, events) stays. Admin only: API keys, client, access and device tokens: FORBIDDEN. Errors: NOT_FOUND.",
    args: { sid: t.arg.id({ required: true, description: "The service (VA…)" }) },
    resolve: async (_, { sid }, { principal, gateway }) => {
      authorize(principal, "deleteService");
      return gateway.services.delete(sid);
    },
  }),
  createApiKey: t.field({
    type: CreateApiKeyPayload,
    description:
      "Creates an API key for a service; the key is shown only in this answer and stored hashed. Admin, or a key of that service; client, access and device tokens: FORBIDDEN. Errors: NOT_FOUND, INVALID_PARAMETER.",
    args: { input: t.arg({ type: CreateApiKeyInput, required: true, description: "The service and the key's label" }) },
    resolve: async (_, { input }, { principal, gateway }) => {
      if (!inScope(authorize(principal, "createApiKey"), input.serviceSid)) throw notFound("Service");
      return gateway.services.createApiKey(input.serviceSid, input);
    },
  }),
  revokeApiKey: t.field({
    type: ApiKeyRef,
    description:
      "Revokes a key at once; requests that carry it are refused (UNAUTHENTICATED) from then on and its open subscriptions end, on every instance. Admin, or a key of the same service; client, access and device tokens: FORBIDDEN. Errors: NOT_FOUND.",
    args: { sid: t.arg.id({ required: true, description: "The key (SK…)" }) },
    resolve: async (_, { sid }, { principal, gateway }) => {
      return gateway.services.revokeApiKey(sid, serviceScope(authorize(principal, "revokeApiKey")));
    },
  }),
}));
