import { VerifyError, invalidParameter, notFound } from "../domain/errors.js";
import type { Scope } from "../domain/factor/factors.js";
import { factorTypes, signedFieldsOf } from "../domain/factor/types/index.js";
import type { Challenge, Factor, FactorType } from "../domain/types.js";
import { topics } from "../realtime/bus.js";
import { liveState } from "../realtime/live.js";
import { authorize, canSee, inScope } from "../domain/access/rules.js";
import { type Principal, issueAccessToken, issueClientToken } from "../domain/access/principal.js";
import { builder } from "./builder.js";
import { catalogueValues } from "./channels.js";
import { connection, pageSize, pagingArgs } from "./connection.js";
import { TotpAlgorithmEnum } from "./service.js";

const FactorTypeEnum = builder.enumType("FactorType", {
  description: "What kind of second factor",
  values: Object.fromEntries(factorTypes().map((s) => [s.type, { description: s.description }])) as Record<string, { description: string }>,
});
const FactorStatusEnum = builder.enumType("FactorStatus", {
  description: "Whether a factor has proven itself",
  values: {
    UNVERIFIED: { description: "Created; verifyFactor has not succeeded yet, so it cannot be challenged" },
    VERIFIED: { description: "Proven by verifyFactor; challenges may use it" },
  } as const,
});
const ChallengeStatusEnum = builder.enumType("ChallengeStatus", {
  description: "Where a challenge stands; every status but PENDING is final",
  values: {
    PENDING: { description: "Waiting for an answer until expiresAt" },
    APPROVED: { description: "Final: answered and approved (or its fallback verification was approved)" },
    DENIED: { description: "Final: the device denied it, or the fifth wrong answer was given" },
    EXPIRED: { description: "Final: not answered before expiresAt" },
  } as const,
});
const Preference = builder.enumType("PasskeyPreference", {
  description: "A WebAuthn preference (residentKey, userVerification)",
  values: {
    REQUIRED: { description: "Required: the ceremony fails without it" },
    PREFERRED: { description: "Used when the authenticator can" },
    DISCOURAGED: { description: "Avoided when possible" },
  } as const,
});
const Attachment = builder.enumType("AuthenticatorAttachment", {
  description: "Which authenticators a passkey may live on",
  values: {
    PLATFORM: { description: "Built into the device (Touch ID, Windows Hello, Android)" },
    CROSS_PLATFORM: { description: "Roaming: a security key or a phone nearby" },
    ANY: { description: "Either" },
  } as const,
});

const FactorRef = builder.objectRef<Factor>("Factor").implement({
  description: "A passkey, a push device's key or a TOTP seed of one identity",
  fields: (t) => ({
    id: t.exposeID("sid", { description: "The factor sid (YF…), as `sid`" }),
    sid: t.exposeID("sid", { description: "YF followed by 32 lowercase hex digits" }),
    serviceSid: t.exposeID("serviceSid", { description: "The service (VA…) it belongs to" }),
    identity: t.exposeString("identity", { description: "Your opaque id of the user it belongs to" }),
    factorType: t.field({ type: FactorTypeEnum, description: "PUSH, TOTP or PASSKEY", resolve: (f) => f.factorType }),
    status: t.field({ type: FactorStatusEnum, description: "UNVERIFIED until verifyFactor succeeds", resolve: (f) => f.status }),
    friendlyName: t.exposeString("friendlyName", { description: "Its name for the user, e.g. the device's" }),
    dateCreated: t.field({ type: "DateTime", description: "When it was created", resolve: (f) => f.dateCreated }),
  }),
});

const ChallengeFieldRef = builder.objectRef<{ label: string; value: string }>("ChallengeField").implement({
  description: "One labelled line shown with a challenge, e.g. Amount: 10 EUR",
  fields: (t) => ({ label: t.exposeString("label", { description: "e.g. Amount" }), value: t.exposeString("value", { description: "e.g. 10 EUR" }) }),
});
const ChallengeDetailsRef = builder.objectRef<NonNullable<Challenge["details"]>>("ChallengeDetails").implement({
  description: "What the user is asked to approve",
  fields: (t) => ({
    message: t.exposeString("message", { description: "e.g. Approve the sign-in from Paris?" }),
    fields: t.field({ type: [ChallengeFieldRef], description: "Labelled lines shown under the message (at most 20)", resolve: (d) => d.fields }),
  }),
});

const ChallengeRef = builder.objectRef<Challenge>("Challenge").implement({
  description: "One approval asked of a factor",
  fields: (t) => ({
    id: t.exposeID("sid", { description: "The challenge sid (YC…), as `sid`" }),
    sid: t.exposeID("sid", { description: "YC followed by 32 lowercase hex digits" }),
    serviceSid: t.exposeID("serviceSid", { description: "The service (VA…) it belongs to" }),
    factorSid: t.exposeID("factorSid", { nullable: true, description: "The factor asked; null for a username-less passkey sign-in until answered" }),
    identity: t.exposeString("identity", { nullable: true, description: "The user asked; null for a username-less passkey sign-in until answered" }),
    factorType: t.field({ type: FactorTypeEnum, description: "The kind of factor that must answer", resolve: (c) => c.factorType }),
    status: t.field({ type: ChallengeStatusEnum, description: "PENDING until answered or expired (a PENDING one past expiresAt reads EXPIRED)", resolve: (c) => c.status }),
    details: t.field({ type: ChallengeDetailsRef, nullable: true, description: "What the user is shown; always set for PUSH", resolve: (c) => c.details }),
    hiddenDetails: t.field({ type: "JSON", nullable: true, description: "Data for the device, not shown to the user", resolve: (c) => c.hiddenDetails }),
    signedFields: t.field({
      type: ["String"],
      description: "Push: the Challenge fields a device's answer signs, with the values this API returns, plus `status`",
      resolve: (c) => signedFieldsOf(c),
    }),
    silent: t.exposeBoolean("silent", { description: "Answered by a trusted device in the background, without asking the user" }),
    fallbackVerificationSid: t.exposeID("fallbackVerificationSid", {
      nullable: true,
      description: "The OTP verification started when a silent challenge went unanswered; its approval approves the challenge",
    }),
    dateCreated: t.field({ type: "DateTime", description: "When it was created", resolve: (c) => c.dateCreated }),
    expiresAt: t.field({ type: "DateTime", description: "dateCreated + expiresInSeconds; an answer after it is CHALLENGE_EXPIRED", resolve: (c) => c.expiresAt }),
    dateResponded: t.field({ type: "DateTime", nullable: true, description: "When it was answered; null while PENDING or if it expired", resolve: (c) => c.dateResponded }),
  }),
});

const PasskeyFactorInput = builder.inputType("PasskeyFactorInput", {
  description: "How this passkey is registered; each left out takes the service's passkeys setting",
  fields: (t) => ({
    authenticatorAttachment: t.field({ type: Attachment, description: "Where the passkey may live; default: the service's (ANY)" }),
    residentKey: t.field({ type: Preference, description: "A discoverable credential (username-less sign-in); default: the service's (PREFERRED)" }),
    userVerification: t.field({ type: Preference, description: "PIN or biometrics on the authenticator; default: the service's (PREFERRED)" }),
  }),
});
const NotificationPlatformEnum = builder.enumType("NotificationPlatform", {
  description: "How a push device hears of a new challenge",
  values: {
    WEBPUSH: { description: "Web Push (VAPID) to a browser; needs webPushSubscription" },
    FCM: { description: "Firebase Cloud Messaging; needs notificationToken" },
    APN: { description: "Apple Push Notification service; needs notificationToken" },
    NONE: { description: "No notification: the device lists its challenges itself" },
  } as const,
});
const PushFactorInput = builder.inputType("PushFactorInput", {
  description: "A push device's key and how to notify it",
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
  description: "This TOTP factor's parameters; each left out takes the service's TOTP default",
  fields: (t) => ({
    timeStep: t.int({ description: "seconds, 20–60; default: the service's (30)" }),
    codeLength: t.int({ description: "6–8; default: the service's (6)" }),
    skew: t.int({ description: "steps accepted either side of now, 0–2; default: the service's (1)" }),
    algorithm: t.field({ type: TotpAlgorithmEnum, description: "default: the service's (SHA1)" }),
  }),
});
const CreateFactorInput = builder.inputType("CreateFactorInput", {
  description: "A new, UNVERIFIED factor for one identity; verifyFactor proves it",
  fields: (t) => ({
    serviceSid: t.id({ required: true, description: "The service (VA…)" }),
    identity: t.string({ required: true, description: "Your opaque user id (no PII)" }),
    friendlyName: t.string({ required: true, description: "Its name for the user, 1–64 characters" }),
    factorType: t.field({ type: FactorTypeEnum, required: true, description: "PUSH, TOTP or PASSKEY" }),
    push: t.field({ type: PushFactorInput, description: "PUSH only, and required for it" }),
    totp: t.field({ type: TotpFactorInput, description: "TOTP only" }),
    passkey: t.field({ type: PasskeyFactorInput, description: "PASSKEY only" }),
    metadata: t.field({ type: "JSON", description: "A JSON object of your own, kept with the factor" }),
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
const CreateFactorPayload = builder.objectRef<{ factor: Factor; totp: { secret: string; uri: string; qrCodeSvg: string } | null; passkeyCreationOptions: unknown }>("CreateFactorPayload").implement({
  description: "A new factor and what the device needs to verify it",
  fields: (t) => ({
    factor: t.field({ type: FactorRef, description: "The factor, UNVERIFIED", resolve: (p) => p.factor }),
    totp: t.field({ type: TotpSecretRef, nullable: true, description: "TOTP: the seed, shown only here; null for other types", resolve: (p) => p.totp }),
    passkeyCreationOptions: t.field({ type: "JSON", nullable: true, description: "PublicKeyCredentialCreationOptionsJSON for navigator.credentials.create", resolve: (p) => p.passkeyCreationOptions }),
  }),
});
const UpdatePushFactorInput = builder.inputType("UpdatePushFactorInput", {
  description:
    "How a push factor's device is notified from now on. A token or subscription belongs to its platform: moving to FCM or APN needs the new notificationToken in the same update, to WEBPUSH the new webPushSubscription; NONE drops both. The device key and silentApproval never change (a new key is a new factor).",
  fields: (t) => ({
    notificationPlatform: t.field({ type: NotificationPlatformEnum, description: "default: unchanged" }),
    notificationToken: t.string({ description: "FCM / APN: the device's new registration token" }),
    webPushSubscription: t.field({ type: "JSON", description: "WEBPUSH: the browser's renewed PushSubscription.toJSON(): { endpoint, keys: { p256dh, auth } }" }),
  }),
});
const UpdateTotpFactorInput = builder.inputType("UpdateTotpFactorInput", {
  description:
    "A TOTP factor's parameters; each left out stays. timeStep, codeLength and algorithm change only while the factor is UNVERIFIED (the authenticator app was set up with them, and the seed is shown only at creation); skew may change at any time.",
  fields: (t) => ({
    timeStep: t.int({ description: "seconds, 20–60 (UNVERIFIED only)" }),
    codeLength: t.int({ description: "6–8 (UNVERIFIED only)" }),
    skew: t.int({ description: "steps accepted either side of now, 0–2" }),
    algorithm: t.field({ type: TotpAlgorithmEnum, description: "UNVERIFIED only" }),
  }),
});
const UpdateFactorInput = builder.inputType("UpdateFactorInput", {
  description: "What to change of a factor: its name, and the settings of its own type (settings of another type are INVALID_PARAMETER); give at least one",
  fields: (t) => ({
    sid: t.id({ required: true, description: "The factor (YF…)" }),
    friendlyName: t.string({ description: "Its new name for the user, 1–64 characters" }),
    push: t.field({ type: UpdatePushFactorInput, description: "PUSH only" }),
    totp: t.field({ type: UpdateTotpFactorInput, description: "TOTP only" }),
  }),
});
const VerifyFactorInput = builder.inputType("VerifyFactorInput", {
  description: "The proof that makes a factor VERIFIED; give the one its type needs",
  fields: (t) => ({
    sid: t.id({ required: true, description: "The factor (YF…)" }),
    code: t.string({ description: "TOTP: the first code the authenticator app shows" }),
    authPayload: t.string({ description: "PUSH: compact ES256 JWT { sub: factorSid } signed with the device key" }),
    passkeyResponse: t.field({ type: "JSON", description: "PASSKEY: RegistrationResponseJSON from the browser" }),
  }),
});

const ChallengeFieldInput = builder.inputType("ChallengeFieldInput", {
  description: "One labelled line shown with the challenge",
  fields: (t) => ({ label: t.string({ required: true, description: "1–128 characters, e.g. Amount" }), value: t.string({ required: true, description: "At most 1024 characters, e.g. 10 EUR" }) }),
});
const ChallengeDetailsInput = builder.inputType("ChallengeDetailsInput", {
  description: "What the user is asked to approve",
  fields: (t) => ({ message: t.string({ required: true, description: "1–1024 characters" }), fields: t.field({ type: [ChallengeFieldInput], description: "at most 20" }) }),
});
const FallbackChannelEnum = builder.enumType("FallbackChannel", {
  description: "The OTP channel a silent challenge falls back to",
  values: catalogueValues("fallback", (c) => c.selectable && c.delivers),
});
const ChallengeFallbackInput = builder.inputType("ChallengeFallbackInput", {
  description: "An OTP verification started when a silent challenge is not answered in time; its approval approves the challenge",
  fields: (t) => ({
    channel: t.field({ type: FallbackChannelEnum, required: true, description: "The OTP verification's channel; it must be enabled on the service when the fallback starts" }),
    to: t.string({ required: true, description: "E.164 number, or an address for EMAIL" }),
    afterSeconds: t.int({ description: "how long the device has to answer first; default 20, less than the expiry" }),
  }),
});
const CreateChallengeInput = builder.inputType("CreateChallengeInput", {
  description: "An approval to ask of a factor: by factorSid, or the identity's newest verified factor of factorType",
  fields: (t) => ({
    serviceSid: t.id({ required: true, description: "The service (VA…)" }),
    identity: t.string({ description: "Omit for a username-less (discoverable) passkey sign-in" }),
    factorSid: t.id({ description: "default: the identity's newest verified factor of factorType" }),
    factorType: t.field({ type: FactorTypeEnum, description: "Without factorSid: which of the identity's factors (PASSKEY when neither is given)" }),
    details: t.field({ type: ChallengeDetailsInput, description: "Shown to the user (required for PUSH)" }),
    hiddenDetails: t.field({ type: "JSON", description: "Shown to the device, not to the user" }),
    expiresInSeconds: t.int({ description: "default 300, 1–3600" }),
    silent: t.boolean({ description: "PUSH: a trusted device enrolled with silentApproval answers without asking its user" }),
    fallback: t.field({ type: ChallengeFallbackInput, description: "A silent challenge unanswered after afterSeconds starts this OTP verification" }),
  }),
});
const CreateChallengePayload = builder.objectRef<{ challenge: Challenge; clientToken: string; passkeyRequestOptions: unknown }>("CreateChallengePayload").implement({
  description: "A new PENDING challenge, a client token for it, and, for passkeys, the browser's request options",
  fields: (t) => ({
    challenge: t.field({ type: ChallengeRef, description: "The challenge, PENDING", resolve: (p) => p.challenge }),
    clientToken: t.exposeString("clientToken", { description: "For a frontend: read, subscribe to and answer this one challenge" }),
    passkeyRequestOptions: t.field({ type: "JSON", nullable: true, description: "PublicKeyCredentialRequestOptionsJSON for navigator.credentials.get", resolve: (p) => p.passkeyRequestOptions }),
  }),
});
const UpdateChallengeInput = builder.inputType("UpdateChallengeInput", {
  description: "An answer to a challenge; give the one its factor type needs",
  fields: (t) => ({
    sid: t.id({ required: true, description: "The challenge (YC…)" }),
    code: t.string({ description: "TOTP: the code the authenticator app shows" }),
    authPayload: t.string({ description: "PUSH: compact ES256 JWS whose claims are the signedFields' values plus status approved|denied" }),
    passkeyResponse: t.field({ type: "JSON", description: "PASSKEY: AuthenticationResponseJSON from the browser" }),
  }),
});
const CreateAccessTokenInput = builder.inputType("CreateAccessTokenInput", {
  description: "Whom a device app may enrol a factor for",
  fields: (t) => ({
    serviceSid: t.id({ required: true, description: "The service (VA…)" }),
    identity: t.string({ required: true, description: "The user the device enrols for, 1–256 characters" }),
    factorType: t.field({ type: FactorTypeEnum, required: true, description: "The only factor type the token may create" }),
    ttlSeconds: t.int({ description: "60–300, default 60" }),
  }),
});
const CreateAccessTokenPayload = builder.objectRef<{ token: string; serviceSid: string; identity: string; factorType: FactorType; expiresAt: number }>("CreateAccessTokenPayload").implement({
  description: "An access token (vgt_…) and what it allows",
  fields: (t) => ({
    token: t.exposeString("token", { description: "Lets a device app call createFactor for this identity and factor type until it expires" }),
    serviceSid: t.exposeID("serviceSid", { description: "The service it enrols in" }),
    identity: t.exposeString("identity", { description: "The identity it enrols for (trimmed)" }),
    factorType: t.field({ type: FactorTypeEnum, description: "The factor type it may create", resolve: (p) => p.factorType }),
    expiresAt: t.field({ type: "DateTime", description: "When it stops working", resolve: (p) => p.expiresAt }),
  }),
});
const ChallengeConnection = connection("Challenge", ChallengeRef);

/** What a caller may touch: admin everything, a key its service, a client token one challenge, a device its factor. */
function scopeOf(p: Exclude<Principal, { kind: "anonymous" | "access" }>, clientAddress: string | null = null): Scope {
  switch (p.kind) {
    case "admin":
      return { serviceSid: null, clientAddress };
    case "apiKey":
      return { serviceSid: p.serviceSid, clientAddress };
    case "client":
      return { serviceSid: p.serviceSid, challengeSid: p.resourceSid, clientAddress };
    case "device":
      return { serviceSid: p.serviceSid, factorSid: p.factorSid, clientAddress };
  }
}

builder.queryFields((t) => ({
  factor: t.field({
    type: FactorRef,
    description: "One factor; null when unknown or out of scope. Admin, a key of its service, or its own push device's token; client and access tokens: FORBIDDEN.",
    nullable: true,
    args: { sid: t.arg.id({ required: true, description: "The factor (YF…)" }) },
    resolve: async (_, { sid }, { principal, gateway }) => {
      const p = authorize(principal, "factor");
      const factor = await gateway.factors.getFactor(sid);
      return factor && canSee(p, factor) ? factor : null;
    },
  }),
  challenge: t.field({
    type: ChallengeRef,
    description: "One challenge; null when unknown or out of scope. Admin, a key of its service, its client token, or its factor's device token; access tokens: FORBIDDEN.",
    nullable: true,
    args: { sid: t.arg.id({ required: true, description: "The challenge (YC…)" }) },
    resolve: async (_, { sid }, { principal, gateway }) => {
      const p = authorize(principal, "challenge");
      const challenge = await gateway.factors.getChallenge(sid);
      return challenge && canSee(p, challenge) ? challenge : null;
    },
  }),
  challenges: t.field({
    type: ChallengeConnection,
    description:
      "A factor's challenges, newest first: what a push device lists (with its device token); empty when out of scope. Admin, a key of its service, or that factor's device token; client and access tokens: FORBIDDEN. Errors: INVALID_PARAMETER (first, after).",
    args: {
      factorSid: t.arg.id({ required: true, description: "The factor (YF…)" }),
      status: t.arg({ type: ChallengeStatusEnum, description: "Only challenges in this status (PENDING: those still answerable)" }),
      first: t.arg.int({ description: pagingArgs.first }),
      after: t.arg.string({ description: pagingArgs.after }),
    },
    resolve: async (_, args, { principal, gateway }) => {
      const scope = scopeOf(authorize(principal, "challenges"));
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
    description:
      "A short-lived token a device app uses to enrol its own factor (createFactor for one identity and type). Admin, or a key of that service; client, access and device tokens: FORBIDDEN. Errors: NOT_FOUND, INVALID_PARAMETER (ttlSeconds, identity).",
    args: { input: t.arg({ type: CreateAccessTokenInput, required: true, description: "The service, identity, factor type and lifetime" }) },
    resolve: async (_, { input }, { principal, gateway }) => {
      if (!inScope(authorize(principal, "createAccessToken"), input.serviceSid)) throw notFound("Service");
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
    description:
      "Creates an UNVERIFIED factor. Admin, a key of that service, or an access token for that identity and factor type (another: FORBIDDEN); client and device tokens: FORBIDDEN. Errors: NOT_FOUND, INVALID_PARAMETER.",
    args: { input: t.arg({ type: CreateFactorInput, required: true, description: "The identity, the factor's type and its settings" }) },
    resolve: async (_, { input }, { principal, gateway }) => {
      const p = authorize(principal, "createFactor");
      if (p.kind === "access") {
        // An enrolling device: only its identity, its factor type, its service.
        if (p.serviceSid !== input.serviceSid || p.identity !== input.identity.trim() || p.factorType !== input.factorType) {
          throw new VerifyError("FORBIDDEN", "This access token enrols another identity or factor type.");
        }
      } else if (!inScope(p, input.serviceSid)) {
        throw notFound("Service");
      }
      return gateway.factors.createFactor(input);
    },
  }),
  verifyFactor: t.field({
    type: FactorRef,
    description:
      "Proves a new factor (a first TOTP code, a signed JWT, or the passkey registration); a VERIFIED factor is returned as it is. Admin, a key of its service, or its own device token; client and access tokens: FORBIDDEN. Errors: NOT_FOUND, INVALID_PARAMETER, FACTOR_VERIFICATION_FAILED, TOO_MANY_ATTEMPTS (after 5 failures).",
    args: { input: t.arg({ type: VerifyFactorInput, required: true, description: "The factor and its proof" }) },
    resolve: async (_, { input }, { principal, gateway, clientAddress }) => gateway.factors.verifyFactor(input.sid, scopeOf(authorize(principal, "verifyFactor"), clientAddress), input),
  }),
  updateFactor: t.field({
    type: FactorRef,
    description:
      "Renames a factor and/or changes its settings: a push device's notification token, platform or Web Push subscription (at any status), a TOTP factor's parameters (while UNVERIFIED; skew at any time). Writes the event factor.updated when something changed. Admin, a key of its service, or its own device token (verified or not); client and access tokens: FORBIDDEN. Errors: NOT_FOUND (unknown or out of scope), INVALID_PARAMETER (nothing to change, settings of another type, a token without its platform, TOTP parameters of a verified factor).",
    args: { input: t.arg({ type: UpdateFactorInput, required: true, description: "The factor and what to change" }) },
    resolve: async (_, { input }, { principal, gateway }) => gateway.factors.updateFactor(input.sid, input, scopeOf(authorize(principal, "updateFactor"))),
  }),
  deleteFactor: t.field({
    type: FactorRef,
    description: "Deletes a factor; its pending challenges can no longer be approved. Admin, a key of its service, or its own device token; client and access tokens: FORBIDDEN. Errors: NOT_FOUND.",
    args: { sid: t.arg.id({ required: true, description: "The factor (YF…)" }) },
    resolve: async (_, { sid }, { principal, gateway }) => {
      return gateway.factors.deleteFactor(sid, scopeOf(authorize(principal, "deleteFactor")));
    },
  }),
  createChallenge: t.field({
    type: CreateChallengePayload,
    description:
      "Asks a factor for an approval (push notification, TOTP code or passkey sign-in). Admin, or a key of that service; client, access and device tokens: FORBIDDEN. Errors: NOT_FOUND, INVALID_PARAMETER, FACTOR_NOT_VERIFIED.",
    args: { input: t.arg({ type: CreateChallengeInput, required: true, description: "Which factor, what to show, and for how long" }) },
    resolve: async (_, { input }, { principal, gateway }) => {
      if (!inScope(authorize(principal, "createChallenge"), input.serviceSid)) throw notFound("Service");
      const created = await gateway.factors.createChallenge(input);
      const exp = Math.ceil(created.challenge.expiresAt / 1000) + 300;
      return { ...created, clientToken: issueClientToken(gateway.keys, { sid: created.challenge.sid, svc: created.challenge.serviceSid, exp }) };
    },
  }),
  updateChallenge: t.field({
    type: ChallengeRef,
    description:
      "Answers a challenge: a TOTP code, the device's signed answer (approved or denied) or a passkey assertion. Admin, a key of its service, its client token, or its factor's device token; access tokens: FORBIDDEN. Errors: NOT_FOUND, INVALID_PARAMETER, CHALLENGE_VERIFICATION_FAILED, CHALLENGE_ALREADY_RESPONDED, CHALLENGE_EXPIRED, TOO_MANY_ATTEMPTS (the fifth wrong answer denies it).",
    args: { input: t.arg({ type: UpdateChallengeInput, required: true, description: "The challenge and the answer" }) },
    resolve: async (_, { input }, { principal, gateway, clientAddress }) => gateway.factors.updateChallenge(input.sid, scopeOf(authorize(principal, "updateChallenge"), clientAddress), input),
  }),
}));

builder.subscriptionFields((t) => ({
  challengeUpdated: t.field({
    type: ChallengeRef,
    description:
      "A challenge's current state first, then each change; completes after a final state. Admin, a key of its service, its client token, or its factor's device token; access tokens: FORBIDDEN. Errors: NOT_FOUND.",
    args: { sid: t.arg.id({ required: true, description: "The challenge (YC…)" }) },
    subscribe: async (_, { sid }, { principal, gateway }) => {
      const p = authorize(principal, "challengeUpdated");
      const existing = await gateway.factors.getChallenge(sid);
      if (!existing || !canSee(p, existing)) throw notFound("Challenge");
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
