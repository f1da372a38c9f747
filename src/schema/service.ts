import { notFound } from "../domain/errors.js";
import { enablableChannels } from "../domain/service/settings.js";
import { type TotpServiceSettings, type ApiKey, type GeoPermission, type NamedRateLimit, type PasskeySettings, type RateLimitBucket, type RateLimitSettings, type Service, type TestNumber, channelNames, fraudGuardLevels, geoChannels } from "../domain/types.js";
import { requireAdmin, requireAuthenticated, requireServiceAccess, serviceScope, forbidden } from "../server/auth.js";
import { builder } from "./builder.js";
import { connection, emptyPage, pageSize } from "./connection.js";

export const ChannelEnum = builder.enumType("Channel", {
  values: channelNames,
  description: "AUTO is input only; a Verification shows the channel actually chosen",
});
export const FraudGuardLevelEnum = builder.enumType("FraudGuardLevel", { values: fraudGuardLevels });

const TestNumberRef = builder.objectRef<TestNumber>("TestNumber").implement({
  fields: (t) => ({ to: t.exposeString("to"), code: t.exposeString("code") }),
});

const RateLimitBucketRef = builder.objectRef<RateLimitBucket>("RateLimitBucket").implement({
  description: "At most `max` starts per `interval` seconds",
  fields: (t) => ({ max: t.exposeInt("max"), interval: t.exposeInt("interval", { description: "seconds" }) }),
});
const NamedRateLimitRef = builder.objectRef<NamedRateLimit>("NamedRateLimit").implement({
  description: "A programmable rate limit: startVerification(rateLimits: { <uniqueName>: value }) counts starts per value",
  fields: (t) => ({
    uniqueName: t.exposeString("uniqueName"),
    description: t.exposeString("description", { nullable: true }),
    buckets: t.field({ type: [RateLimitBucketRef], resolve: (l) => l.buckets }),
  }),
});
const RateLimitsRef = builder.objectRef<RateLimitSettings>("RateLimits").implement({
  description: "Exceeding any bucket answers RATE_LIMITED with retryAfterSeconds; an empty list is no limit",
  fields: (t) => ({
    perTo: t.field({ type: [RateLimitBucketRef], description: "Starts per recipient", resolve: (r) => r.perTo }),
    perIp: t.field({ type: [RateLimitBucketRef], description: "Starts per end-user IP (the deviceIp input)", resolve: (r) => r.perIp }),
    perService: t.field({ type: [RateLimitBucketRef], description: "Starts per service", resolve: (r) => r.perService }),
    named: t.field({ type: [NamedRateLimitRef], resolve: (r) => r.named }),
  }),
});
export const GeoChannelEnum = builder.enumType("GeoChannel", { values: geoChannels });
const GeoPermissionRef = builder.objectRef<GeoPermission>("GeoPermission").implement({
  description: "The countries (ISO 3166-1 alpha-2) a channel may reach; a channel without an entry reaches every country",
  fields: (t) => ({
    channel: t.field({ type: GeoChannelEnum, resolve: (g) => g.channel }),
    allowedCountries: t.exposeStringList("allowedCountries"),
  }),
});

export const ServiceRef = builder.objectRef<Service>("Service").implement({
  description: "A verification service: one product's settings, keys and verifications",
  fields: (t) => ({
    id: t.exposeID("sid"),
    sid: t.exposeID("sid"),
    friendlyName: t.exposeString("friendlyName"),
    codeLength: t.exposeInt("codeLength"),
    ttlSeconds: t.exposeInt("ttlSeconds"),
    maxCheckAttempts: t.exposeInt("maxCheckAttempts"),
    maxSendAttempts: t.exposeInt("maxSendAttempts"),
    customCodeEnabled: t.exposeBoolean("customCodeEnabled"),
    psd2Enabled: t.exposeBoolean("psd2Enabled"),
    doNotShareWarningEnabled: t.exposeBoolean("doNotShareWarningEnabled"),
    dtmfInputRequired: t.exposeBoolean("dtmfInputRequired"),
    lookupEnabled: t.exposeBoolean("lookupEnabled"),
    skipSmsToLandlines: t.exposeBoolean("skipSmsToLandlines"),
    defaultLocale: t.exposeString("defaultLocale"),
    channels: t.field({ type: [ChannelEnum], resolve: (s) => s.channels }),
    fraudGuard: t.field({ type: FraudGuardLevelEnum, resolve: (s) => s.fraudGuard }),
    testNumbers: t.field({ type: [TestNumberRef], resolve: (s) => s.testNumbers }),
    rateLimits: t.field({ type: RateLimitsRef, resolve: (s) => s.rateLimits }),
    geoPermissions: t.field({ type: [GeoPermissionRef], resolve: (s) => s.geoPermissions }),
    safeList: t.exposeStringList("safeList", { description: "Numbers that skip Fraud Guard and geo permissions" }),
    blockPremiumNumbers: t.exposeBoolean("blockPremiumNumbers", { description: "Refuse premium-rate and shared-cost numbers (default true)" }),
    webOtpDomain: t.exposeString("webOtpDomain", { nullable: true, description: "Domain of the SMS's WebOTP line (@domain #code)" }),
    passkeys: t.field({ type: PasskeySettingsRef, resolve: (s) => s.passkeys }),
    totp: t.field({ type: TotpSettingsRef, resolve: (s) => s.totp }),
    dateCreated: t.field({ type: "DateTime", resolve: (s) => s.dateCreated }),
    dateUpdated: t.field({ type: "DateTime", resolve: (s) => s.dateUpdated }),
  }),
});

const PasskeySettingsRef = builder.objectRef<PasskeySettings>("PasskeySettings").implement({
  description: "The service's WebAuthn relying party; null fields use WEBAUTHN_RP_ID / WEBAUTHN_ORIGINS / PUBLIC_URL",
  fields: (t) => ({
    rpId: t.exposeString("rpId", { nullable: true }),
    rpName: t.exposeString("rpName", { nullable: true, description: "default: the service's friendly name" }),
    origins: t.exposeStringList("origins"),
    authenticatorAttachment: t.exposeString("authenticatorAttachment", { description: "PLATFORM, CROSS_PLATFORM or ANY" }),
    residentKey: t.exposeString("residentKey", { description: "REQUIRED, PREFERRED or DISCOURAGED" }),
    userVerification: t.exposeString("userVerification", { description: "REQUIRED, PREFERRED or DISCOURAGED" }),
  }),
});

const PasskeySettingsInput = builder.inputType("PasskeySettingsInput", {
  fields: (t) => ({
    rpId: t.string(),
    rpName: t.string(),
    origins: t.stringList(),
    authenticatorAttachment: t.string({ description: "PLATFORM, CROSS_PLATFORM or ANY" }),
    residentKey: t.string({ description: "REQUIRED, PREFERRED or DISCOURAGED" }),
    userVerification: t.string({ description: "REQUIRED, PREFERRED or DISCOURAGED" }),
  }),
});

export const TotpAlgorithmEnum = builder.enumType("TotpAlgorithm", { values: ["SHA1", "SHA256", "SHA512"] as const });
const TotpSettingsRef = builder.objectRef<TotpServiceSettings>("TotpSettings").implement({
  description: "Defaults of the service's new TOTP factors",
  fields: (t) => ({
    issuer: t.exposeString("issuer", { nullable: true, description: "shown by authenticator apps; default: the service's friendly name" }),
    timeStep: t.exposeInt("timeStep", { description: "seconds, 20–60, default 30" }),
    codeLength: t.exposeInt("codeLength", { description: "6–8, default 6" }),
    skew: t.exposeInt("skew", { description: "steps accepted either side of now, 0–2, default 1" }),
    algorithm: t.field({ type: TotpAlgorithmEnum, resolve: (s) => s.algorithm }),
  }),
});
export const TotpSettingsInput = builder.inputType("TotpSettingsInput", {
  fields: (t) => ({
    issuer: t.string(),
    timeStep: t.int({ description: "20–60" }),
    codeLength: t.int({ description: "6–8" }),
    skew: t.int({ description: "0–2" }),
    algorithm: t.field({ type: TotpAlgorithmEnum }),
  }),
});

const ApiKeyRef = builder.objectRef<ApiKey>("ApiKey").implement({
  description: "An API key's record; the key itself is shown once, by createApiKey",
  fields: (t) => ({
    id: t.exposeID("sid"),
    sid: t.exposeID("sid"),
    serviceSid: t.exposeID("serviceSid"),
    name: t.exposeString("name"),
    dateCreated: t.field({ type: "DateTime", resolve: (k) => k.dateCreated }),
    revokedAt: t.field({ type: "DateTime", nullable: true, resolve: (k) => k.revokedAt }),
  }),
});

const ServiceConnection = connection("Service", ServiceRef);

const TestNumberInput = builder.inputType("TestNumberInput", {
  fields: (t) => ({ to: t.string({ required: true }), code: t.string({ required: true }) }),
});

const RateLimitBucketInput = builder.inputType("RateLimitBucketInput", {
  fields: (t) => ({ max: t.int({ required: true }), interval: t.int({ required: true, description: "seconds" }) }),
});
const NamedRateLimitInput = builder.inputType("NamedRateLimitInput", {
  fields: (t) => ({
    uniqueName: t.string({ required: true, description: "letters, digits, - _ . (no PII)" }),
    description: t.string(),
    buckets: t.field({ type: [RateLimitBucketInput], required: true }),
  }),
});
const RateLimitsInput = builder.inputType("RateLimitsInput", {
  description: "Each list given replaces the current one; an empty list removes that limit",
  fields: (t) => ({
    perTo: t.field({ type: [RateLimitBucketInput] }),
    perIp: t.field({ type: [RateLimitBucketInput] }),
    perService: t.field({ type: [RateLimitBucketInput] }),
    named: t.field({ type: [NamedRateLimitInput] }),
  }),
});
const GeoPermissionInput = builder.inputType("GeoPermissionInput", {
  fields: (t) => ({ channel: t.field({ type: GeoChannelEnum, required: true }), allowedCountries: t.stringList({ required: true }) }),
});

const settingsFields = (t: Parameters<Parameters<typeof builder.inputType>[1]["fields"]>[0]) => ({
  codeLength: t.int({ description: "4–10, default 6" }),
  ttlSeconds: t.int({ description: "120–86400, default 600" }),
  maxCheckAttempts: t.int({ description: "default 5" }),
  maxSendAttempts: t.int({ description: "sends per `to` per ttl window, default 5" }),
  customCodeEnabled: t.boolean(),
  psd2Enabled: t.boolean(),
  doNotShareWarningEnabled: t.boolean(),
  dtmfInputRequired: t.boolean(),
  lookupEnabled: t.boolean(),
  skipSmsToLandlines: t.boolean(),
  defaultLocale: t.string(),
  channels: t.field({ type: [ChannelEnum], description: `enabled channels; available: ${enablableChannels.join(", ")}` }),
  fraudGuard: t.field({ type: FraudGuardLevelEnum }),
  testNumbers: t.field({ type: [TestNumberInput], description: "fixed codes, delivered into the dev outbox only, outside rate limits and Fraud Guard" }),
  rateLimits: t.field({ type: RateLimitsInput }),
  geoPermissions: t.field({ type: [GeoPermissionInput], description: "replaces the list; [] lets every channel reach every country" }),
  safeList: t.stringList({ description: "E.164 numbers that skip Fraud Guard and geo permissions; replaces the list" }),
  blockPremiumNumbers: t.boolean(),
  webOtpDomain: t.string({ description: "Adds the WebOTP line `@domain #code` to SMS so browsers autofill the code" }),
  passkeys: t.field({ type: PasskeySettingsInput }),
  totp: t.field({ type: TotpSettingsInput, description: "Defaults of new TOTP factors; the issuer authenticator apps show" }),
});

const CreateServiceInput = builder.inputType("CreateServiceInput", {
  fields: (t) => ({ friendlyName: t.string({ required: true }), ...settingsFields(t) }),
});
const UpdateServiceInput = builder.inputType("UpdateServiceInput", {
  fields: (t) => ({ sid: t.id({ required: true }), friendlyName: t.string(), ...settingsFields(t) }),
});
const CreateApiKeyInput = builder.inputType("CreateApiKeyInput", {
  fields: (t) => ({ serviceSid: t.id({ required: true }), name: t.string() }),
});
const CreateApiKeyPayload = builder.objectRef<{ key: string; apiKey: ApiKey }>("CreateApiKeyPayload").implement({
  fields: (t) => ({
    key: t.exposeString("key", { description: "The secret; shown only in this response" }),
    apiKey: t.field({ type: ApiKeyRef, resolve: (p) => p.apiKey }),
  }),
});

builder.queryFields((t) => ({
  service: t.field({
    type: ServiceRef,
    nullable: true,
    args: { sid: t.arg.id({ required: true }) },
    resolve: async (_, { sid }, { principal, gateway }) =>
      requireServiceAccess(principal, sid) === "in-scope" ? gateway.services.get(sid) : null,
  }),
  services: t.field({
    type: ServiceConnection,
    args: { first: t.arg.int(), after: t.arg.string() },
    resolve: async (_, args, { principal, gateway }) => {
      const p = requireAuthenticated(principal);
      const first = pageSize(args.first);
      if (p.kind === "client") throw forbidden();
      if (p.kind === "apiKey") {
        // A service key sees its own service only.
        const own = args.after ? null : await gateway.services.get(p.serviceSid);
        return own ? { edges: [{ cursor: "", node: own }], hasNextPage: false, endCursor: null } : emptyPage<Service>();
      }
      return gateway.store.listServices({ first, after: args.after ?? null });
    },
  }),
  apiKeys: t.field({
    type: [ApiKeyRef],
    description: "The service's API keys (records only; keys are never shown again)",
    args: { serviceSid: t.arg.id({ required: true }) },
    resolve: async (_, { serviceSid }, { principal, gateway }) =>
      requireServiceAccess(principal, serviceSid) === "in-scope" ? gateway.store.listApiKeys(serviceSid) : [],
  }),
}));

builder.mutationFields((t) => ({
  createService: t.field({
    type: ServiceRef,
    args: { input: t.arg({ type: CreateServiceInput, required: true }) },
    resolve: async (_, { input }, { principal, gateway }) => {
      requireAdmin(principal);
      return gateway.services.create(input);
    },
  }),
  updateService: t.field({
    type: ServiceRef,
    args: { input: t.arg({ type: UpdateServiceInput, required: true }) },
    resolve: async (_, { input }, { principal, gateway }) => {
      const { sid, ...patch } = input;
      if (requireServiceAccess(principal, sid) === "out-of-scope") throw notFound("Service");
      return gateway.services.update(sid, patch);
    },
  }),
  createApiKey: t.field({
    type: CreateApiKeyPayload,
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    resolve: async (_, { input }, { principal, gateway }) => {
      if (requireServiceAccess(principal, input.serviceSid) === "out-of-scope") throw notFound("Service");
      return gateway.services.createApiKey(input.serviceSid, input);
    },
  }),
  revokeApiKey: t.field({
    type: ApiKeyRef,
    description: "Revokes a key at once; requests that carry it are refused from then on",
    args: { sid: t.arg.id({ required: true }) },
    resolve: async (_, { sid }, { principal, gateway }) => {
      requireServiceAccess(principal, null);
      return gateway.services.revokeApiKey(sid, serviceScope(principal));
    },
  }),
}));
