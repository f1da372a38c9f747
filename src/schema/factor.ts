import { VerifyError, invalidParameter, notFound } from "../domain/errors.js";
import type { Scope } from "../domain/factor/factors.js";
import { signedFieldsOf } from "../domain/factor/push.js";
import type { Challenge, Factor, FactorType } from "../domain/types.js";
import { topics } from "../realtime/bus.js";
import { liveState } from "../realtime/live.js";
import { type Principal, canSee, forbidden, issueAccessToken, issueClientToken, requireAuthenticated, requireServiceAccess } from "../server/auth.js";
import { builder } from "./builder.js";
import { connection, pageSize } from "./connection.js";
import { TotpAlgorithmEnum } from "./service.js";

const FactorTypeEnum = builder.enumType("FactorType", { values: ["PUSH", "TOTP", "PASSKEY"] as const });
const FactorStatusEnum = builder.enumType("FactorStatus", { values: ["UNVERIFIED", "VERIFIED"] as const });
const ChallengeStatusEnum = builder.enumType("ChallengeStatus", { values: ["PENDING", "APPROVED", "DENIED", "EXPIRED"] as const });
const Preference = builder.enumType("PasskeyPreference", { values: ["REQUIRED", "PREFERRED", "DISCOURAGED"] as const });
const Attachment = builder.enumType("AuthenticatorAttachment", { values: ["PLATFORM", "CROSS_PLATFORM", "ANY"] as const });

const FactorRef = builder.objectRef<Factor>("Factor").implement({
  description: "A passkey, a push device's key or a TOTP seed of one identity",
  fields: (t) => ({
    id: t.exposeID("sid"),
    sid: t.exposeID("sid"),
    serviceSid: t.exposeID("serviceSid"),
    identity: t.exposeString("identity"),
    factorType: t.field({ type: FactorTypeEnum, resolve: (f) => f.factorType }),
    status: t.field({ type: FactorStatusEnum, resolve: (f) => f.status }),
    friendlyName: t.exposeString("friendlyName"),
    dateCreated: t.field({ type: "DateTime", resolve: (f) => f.dateCreated }),
  }),
});

const ChallengeFieldRef = builder.objectRef<{ label: string; value: string }>("ChallengeField").implement({
  fields: (t) => ({ label: t.exposeString("label"), value: t.exposeString("value") }),
});
const ChallengeDetailsRef = builder.objectRef<NonNullable<Challenge["details"]>>("ChallengeDetails").implement({
  fields: (t) => ({ message: t.exposeString("message"), fields: t.field({ type: [ChallengeFieldRef], resolve: (d) => d.fields }) }),
});

const ChallengeRef = builder.objectRef<Challenge>("Challenge").implement({
  description: "One approval asked of a factor",
  fields: (t) => ({
    id: t.exposeID("sid"),
    sid: t.exposeID("sid"),
    serviceSid: t.exposeID("serviceSid"),
    factorSid: t.exposeID("factorSid", { nullable: true }),
    identity: t.exposeString("identity", { nullable: true }),
    factorType: t.field({ type: FactorTypeEnum, resolve: (c) => c.factorType }),
    status: t.field({ type: ChallengeStatusEnum, resolve: (c) => c.status }),
    details: t.field({ type: ChallengeDetailsRef, nullable: true, resolve: (c) => c.details }),
    hiddenDetails: t.field({ type: "JSON", nullable: true, resolve: (c) => c.hiddenDetails }),
    signedFields: t.field({
      type: ["String"],
      description: "Push: the Challenge fields a device's answer signs, with the values this API returns, plus `status`",
      resolve: (c) => signedFieldsOf(c),
    }),
    silent: t.exposeBoolean("silent", { description: "Answered by a trusted device in the background, without asking the user" }),
    fallbackVerificationSid: t.exposeID("fallbackVerificationSid", { nullable: true, description: "The OTP verification started when a silent challenge went unanswered; its approval approves the challenge" }),
    dateCreated: t.field({ type: "DateTime", resolve: (c) => c.dateCreated }),
    expiresAt: t.field({ type: "DateTime", resolve: (c) => c.expiresAt }),
    dateResponded: t.field({ type: "DateTime", nullable: true, resolve: (c) => c.dateResponded }),
  }),
});

const PasskeyFactorInput = builder.inputType("PasskeyFactorInput", {
  fields: (t) => ({
    authenticatorAttachment: t.field({ type: Attachment }),
    residentKey: t.field({ type: Preference }),
    userVerification: t.field({ type: Preference }),
  }),
});
const NotificationPlatformEnum = builder.enumType("NotificationPlatform", { values: ["WEBPUSH", "FCM", "APN", "NONE"] as const });
const PushFactorInput = builder.inputType("PushFactorInput", {
  fields: (t) => ({
    publicKey: t.string({ required: true, description: "The device's P-256 public key, base64 DER SubjectPublicKeyInfo" }),
    alg: t.string({ description: "ES256 (the only one)" }),
    notificationPlatform: t.field({ type: NotificationPlatformEnum, description: "default: WEBPUSH with a webPushSubscription, else NONE (the device polls)" }),
    notificationToken: t.string({ description: "FCM / APN registration token" }),
    webPushSubscription: t.field({ type: "JSON", description: "The browser's PushSubscription.toJSON(): { endpoint, keys: { p256dh, auth } }" }),
    silentApproval: t.boolean({ description: "The device may answer silent challenges without asking its user" }),
  }),
});
const TotpFactorInput = builder.inputType("TotpFactorInput", {
  fields: (t) => ({
    timeStep: t.int({ description: "seconds, 20–60; default: the service's (30)" }),
    codeLength: t.int({ description: "6–8; default: the service's (6)" }),
    skew: t.int({ description: "steps accepted either side of now, 0–2; default: the service's (1)" }),
    algorithm: t.field({ type: TotpAlgorithmEnum }),
  }),
});
const CreateFactorInput = builder.inputType("CreateFactorInput", {
  fields: (t) => ({
    serviceSid: t.id({ required: true }),
    identity: t.string({ required: true, description: "Your opaque user id (no PII)" }),
    friendlyName: t.string({ required: true }),
    factorType: t.field({ type: FactorTypeEnum, required: true }),
    push: t.field({ type: PushFactorInput }),
    totp: t.field({ type: TotpFactorInput }),
    passkey: t.field({ type: PasskeyFactorInput }),
    metadata: t.field({ type: "JSON" }),
  }),
});
const TotpSecretRef = builder.objectRef<{ secret: string; uri: string; qrCodeSvg: string }>("TotpSecret").implement({
  description: "Shown once, at creation: the seed for the user's authenticator app",
  fields: (t) => ({
    secret: t.exposeString("secret", { description: "base32" }),
    uri: t.exposeString("uri", { description: "otpauth://totp/… for a QR code" }),
    qrCodeSvg: t.exposeString("qrCodeSvg", { description: "the uri as a QR code, SVG" }),
  }),
});
const CreateFactorPayload = builder
  .objectRef<{ factor: Factor; totp: { secret: string; uri: string; qrCodeSvg: string } | null; passkeyCreationOptions: unknown }>("CreateFactorPayload")
  .implement({
    fields: (t) => ({
      factor: t.field({ type: FactorRef, resolve: (p) => p.factor }),
      totp: t.field({ type: TotpSecretRef, nullable: true, resolve: (p) => p.totp }),
      passkeyCreationOptions: t.field({ type: "JSON", nullable: true, description: "PublicKeyCredentialCreationOptionsJSON for navigator.credentials.create", resolve: (p) => p.passkeyCreationOptions }),
    }),
  });
const VerifyFactorInput = builder.inputType("VerifyFactorInput", {
  fields: (t) => ({
    sid: t.id({ required: true }),
    code: t.string({ description: "TOTP: the first code the authenticator app shows" }),
    authPayload: t.string({ description: "PUSH: compact ES256 JWT { sub: factorSid } signed with the device key" }),
    passkeyResponse: t.field({ type: "JSON", description: "PASSKEY: RegistrationResponseJSON from the browser" }),
  }),
});

const ChallengeFieldInput = builder.inputType("ChallengeFieldInput", { fields: (t) => ({ label: t.string({ required: true }), value: t.string({ required: true }) }) });
const ChallengeDetailsInput = builder.inputType("ChallengeDetailsInput", {
  fields: (t) => ({ message: t.string({ required: true }), fields: t.field({ type: [ChallengeFieldInput], description: "at most 20" }) }),
});
const FallbackChannelEnum = builder.enumType("FallbackChannel", { values: ["SMS", "WHATSAPP", "CALL", "EMAIL"] as const });
const ChallengeFallbackInput = builder.inputType("ChallengeFallbackInput", {
  fields: (t) => ({
    channel: t.field({ type: FallbackChannelEnum, required: true }),
    to: t.string({ required: true }),
    afterSeconds: t.int({ description: "how long the device has to answer first; default 20, less than the expiry" }),
  }),
});
const CreateChallengeInput = builder.inputType("CreateChallengeInput", {
  fields: (t) => ({
    serviceSid: t.id({ required: true }),
    identity: t.string({ description: "Omit for a username-less (discoverable) passkey sign-in" }),
    factorSid: t.id({ description: "default: the identity's newest verified factor of factorType" }),
    factorType: t.field({ type: FactorTypeEnum }),
    details: t.field({ type: ChallengeDetailsInput, description: "Shown to the user (required for PUSH)" }),
    hiddenDetails: t.field({ type: "JSON", description: "Shown to the device, not to the user" }),
    expiresInSeconds: t.int({ description: "default 300, at most 3600" }),
    silent: t.boolean({ description: "PUSH: a trusted device enrolled with silentApproval answers without asking its user" }),
    fallback: t.field({ type: ChallengeFallbackInput, description: "A silent challenge unanswered after afterSeconds starts this OTP verification" }),
  }),
});
const CreateChallengePayload = builder.objectRef<{ challenge: Challenge; clientToken: string; passkeyRequestOptions: unknown }>("CreateChallengePayload").implement({
  fields: (t) => ({
    challenge: t.field({ type: ChallengeRef, resolve: (p) => p.challenge }),
    clientToken: t.exposeString("clientToken", { description: "For a frontend: read, subscribe to and answer this one challenge" }),
    passkeyRequestOptions: t.field({ type: "JSON", nullable: true, description: "PublicKeyCredentialRequestOptionsJSON for navigator.credentials.get", resolve: (p) => p.passkeyRequestOptions }),
  }),
});
const UpdateChallengeInput = builder.inputType("UpdateChallengeInput", {
  fields: (t) => ({
    sid: t.id({ required: true }),
    code: t.string({ description: "TOTP: the code the authenticator app shows" }),
    authPayload: t.string({ description: "PUSH: compact ES256 JWS whose claims are the signedFields' values plus status approved|denied" }),
    passkeyResponse: t.field({ type: "JSON", description: "PASSKEY: AuthenticationResponseJSON from the browser" }),
  }),
});
const CreateAccessTokenInput = builder.inputType("CreateAccessTokenInput", {
  fields: (t) => ({
    serviceSid: t.id({ required: true }),
    identity: t.string({ required: true }),
    factorType: t.field({ type: FactorTypeEnum, required: true }),
    ttlSeconds: t.int({ description: "60–300, default 60" }),
  }),
});
const CreateAccessTokenPayload = builder.objectRef<{ token: string; serviceSid: string; identity: string; factorType: FactorType; expiresAt: number }>("CreateAccessTokenPayload").implement({
  fields: (t) => ({
    token: t.exposeString("token", { description: "Lets a device app call createFactor for this identity and factor type until it expires" }),
    serviceSid: t.exposeID("serviceSid"),
    identity: t.exposeString("identity"),
    factorType: t.field({ type: FactorTypeEnum, resolve: (p) => p.factorType }),
    expiresAt: t.field({ type: "DateTime", resolve: (p) => p.expiresAt }),
  }),
});
const ChallengeConnection = connection("Challenge", ChallengeRef);

/** What a caller may touch: admin everything, a key its service, a client token one challenge, a device its factor. */
function scopeOf(principal: Principal, clientAddress: string | null = null): Scope {
  const p = requireAuthenticated(principal);
  switch (p.kind) {
    case "admin":
      return { serviceSid: null, clientAddress };
    case "apiKey":
      return { serviceSid: p.serviceSid, clientAddress };
    case "client":
      return { serviceSid: p.serviceSid, challengeSid: p.resourceSid, clientAddress };
    case "device":
      return { serviceSid: p.serviceSid, factorSid: p.factorSid, clientAddress };
    default:
      throw forbidden();
  }
}

builder.queryFields((t) => ({
  factor: t.field({
    type: FactorRef,
    nullable: true,
    args: { sid: t.arg.id({ required: true }) },
    resolve: async (_, { sid }, { principal, gateway }) => {
      requireAuthenticated(principal);
      const factor = await gateway.factors.getFactor(sid);
      return factor && canSee(principal, factor) ? factor : null;
    },
  }),
  challenge: t.field({
    type: ChallengeRef,
    nullable: true,
    args: { sid: t.arg.id({ required: true }) },
    resolve: async (_, { sid }, { principal, gateway }) => {
      requireAuthenticated(principal);
      const challenge = await gateway.factors.getChallenge(sid);
      return challenge && canSee(principal, challenge) ? challenge : null;
    },
  }),
  challenges: t.field({
    type: ChallengeConnection,
    description: "A factor's challenges, newest first: what a push device lists (with its device token)",
    args: { factorSid: t.arg.id({ required: true }), status: t.arg({ type: ChallengeStatusEnum }), first: t.arg.int(), after: t.arg.string() },
    resolve: async (_, args, { principal, gateway }) => {
      const scope = scopeOf(principal);
      if (scope.challengeSid) throw forbidden();
      return gateway.factors.listChallenges(args.factorSid, scope, args.status ?? null, { first: pageSize(args.first), after: args.after ?? null });
    },
  }),
  webPushPublicKey: t.string({
    description: "The VAPID public key a browser passes to PushManager.subscribe (applicationServerKey) before enrolling a WEBPUSH factor",
    resolve: (_, __, { gateway }) => gateway.notifier.vapidPublicKey,
  }),
}));

builder.mutationFields((t) => ({
  createAccessToken: t.field({
    type: CreateAccessTokenPayload,
    description: "A short-lived token a device app uses to enrol its own factor (createFactor for one identity and type)",
    args: { input: t.arg({ type: CreateAccessTokenInput, required: true }) },
    resolve: async (_, { input }, { principal, gateway }) => {
      if (requireServiceAccess(principal, input.serviceSid) === "out-of-scope") throw notFound("Service");
      const service = await gateway.services.require(input.serviceSid);
      const ttl = input.ttlSeconds ?? 60;
      if (!Number.isInteger(ttl) || ttl < 60 || ttl > 300) throw invalidParameter("ttlSeconds", "Invalid parameter `ttlSeconds`: must be between 60 and 300.");
      const identity = input.identity.trim();
      if (identity.length < 1 || identity.length > 256) throw invalidParameter("identity", "Invalid parameter `identity`: 1 to 256 characters.");
      const expiresAt = gateway.clock.now() + ttl * 1000;
      const token = issueAccessToken(gateway.keys, { svc: service.sid, idn: identity, ft: input.factorType, exp: Math.floor(expiresAt / 1000) });
      return { token, serviceSid: service.sid, identity, factorType: input.factorType, expiresAt };
    },
  }),
  createFactor: t.field({
    type: CreateFactorPayload,
    args: { input: t.arg({ type: CreateFactorInput, required: true }) },
    resolve: async (_, { input }, { principal, gateway }) => {
      if (principal.kind === "access") {
        // An enrolling device: only its identity, its factor type, its service.
        if (principal.serviceSid !== input.serviceSid || principal.identity !== input.identity.trim() || principal.factorType !== input.factorType) {
          throw new VerifyError("FORBIDDEN", "This access token enrols another identity or factor type.");
        }
      } else if (requireServiceAccess(principal, input.serviceSid) === "out-of-scope") {
        throw notFound("Service");
      }
      return gateway.factors.createFactor(input);
    },
  }),
  verifyFactor: t.field({
    type: FactorRef,
    args: { input: t.arg({ type: VerifyFactorInput, required: true }) },
    resolve: async (_, { input }, { principal, gateway, clientAddress }) => {
      const scope = scopeOf(principal, clientAddress);
      if (scope.challengeSid) throw forbidden();
      return gateway.factors.verifyFactor(input.sid, scope, input);
    },
  }),
  deleteFactor: t.field({
    type: FactorRef,
    args: { sid: t.arg.id({ required: true }) },
    resolve: async (_, { sid }, { principal, gateway }) => {
      const scope = scopeOf(principal);
      if (scope.challengeSid) throw forbidden();
      return gateway.factors.deleteFactor(sid, scope);
    },
  }),
  createChallenge: t.field({
    type: CreateChallengePayload,
    args: { input: t.arg({ type: CreateChallengeInput, required: true }) },
    resolve: async (_, { input }, { principal, gateway }) => {
      if (requireServiceAccess(principal, input.serviceSid) === "out-of-scope") throw notFound("Service");
      const created = await gateway.factors.createChallenge(input);
      const exp = Math.ceil(created.challenge.expiresAt / 1000) + 300;
      return { ...created, clientToken: issueClientToken(gateway.keys, { sid: created.challenge.sid, svc: created.challenge.serviceSid, exp }) };
    },
  }),
  updateChallenge: t.field({
    type: ChallengeRef,
    args: { input: t.arg({ type: UpdateChallengeInput, required: true }) },
    resolve: async (_, { input }, { principal, gateway, clientAddress }) => gateway.factors.updateChallenge(input.sid, scopeOf(principal, clientAddress), input),
  }),
}));

builder.subscriptionFields((t) => ({
  challengeUpdated: t.field({
    type: ChallengeRef,
    description: "The current state first, then each change; completes after a final state",
    args: { sid: t.arg.id({ required: true }) },
    subscribe: async (_, { sid }, { principal, gateway }) => {
      requireAuthenticated(principal);
      const existing = await gateway.factors.getChallenge(sid);
      if (!existing || !canSee(principal, existing)) throw notFound("Challenge");
      return liveState<Challenge>({
        bus: gateway.bus,
        topic: topics.resource(sid),
        current: () => gateway.factors.getChallenge(sid),
        fromEvent: (event) => (event.type.startsWith("challenge.") ? (event.data as unknown as Challenge) : null),
        isFinal: (c) => c.status !== "PENDING",
      });
    },
    resolve: (challenge) => challenge,
  }),
}));
