import { notFound } from "../domain/errors.js";
import type { Challenge, Factor } from "../domain/types.js";
import { topics } from "../realtime/bus.js";
import { liveState } from "../realtime/live.js";
import { canSee, issueClientToken, requireAuthenticated, requireServiceAccess, serviceScope } from "../server/auth.js";
import { builder } from "./builder.js";

const FactorTypeEnum = builder.enumType("FactorType", { values: ["PUSH", "TOTP", "PASSKEY"] as const });
const FactorStatusEnum = builder.enumType("FactorStatus", { values: ["UNVERIFIED", "VERIFIED"] as const });
const ChallengeStatusEnum = builder.enumType("ChallengeStatus", { values: ["PENDING", "APPROVED", "DENIED", "EXPIRED"] as const });
const Preference = builder.enumType("PasskeyPreference", { values: ["REQUIRED", "PREFERRED", "DISCOURAGED"] as const });
const Attachment = builder.enumType("AuthenticatorAttachment", { values: ["PLATFORM", "CROSS_PLATFORM", "ANY"] as const });

const FactorRef = builder.objectRef<Factor>("Factor").implement({
  description: "A passkey (or, later, a device key or TOTP seed) of one identity",
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
    signedFields: t.field({ type: ["String"], description: "Push challenges only", resolve: () => [] }),
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
const CreateFactorInput = builder.inputType("CreateFactorInput", {
  fields: (t) => ({
    serviceSid: t.id({ required: true }),
    identity: t.string({ required: true, description: "Your opaque user id (no PII)" }),
    friendlyName: t.string({ required: true }),
    factorType: t.field({ type: FactorTypeEnum, required: true }),
    passkey: t.field({ type: PasskeyFactorInput }),
    metadata: t.field({ type: "JSON" }),
  }),
});
const CreateFactorPayload = builder.objectRef<{ factor: Factor; passkeyCreationOptions: unknown }>("CreateFactorPayload").implement({
  fields: (t) => ({
    factor: t.field({ type: FactorRef, resolve: (p) => p.factor }),
    passkeyCreationOptions: t.field({ type: "JSON", nullable: true, description: "PublicKeyCredentialCreationOptionsJSON for navigator.credentials.create", resolve: (p) => p.passkeyCreationOptions }),
  }),
});
const VerifyFactorInput = builder.inputType("VerifyFactorInput", {
  fields: (t) => ({ sid: t.id({ required: true }), passkeyResponse: t.field({ type: "JSON", description: "RegistrationResponseJSON from the browser" }) }),
});

const ChallengeFieldInput = builder.inputType("ChallengeFieldInput", { fields: (t) => ({ label: t.string({ required: true }), value: t.string({ required: true }) }) });
const ChallengeDetailsInput = builder.inputType("ChallengeDetailsInput", {
  fields: (t) => ({ message: t.string({ required: true }), fields: t.field({ type: [ChallengeFieldInput] }) }),
});
const CreateChallengeInput = builder.inputType("CreateChallengeInput", {
  fields: (t) => ({
    serviceSid: t.id({ required: true }),
    identity: t.string({ description: "Omit for a username-less (discoverable) passkey sign-in" }),
    factorSid: t.id(),
    factorType: t.field({ type: FactorTypeEnum }),
    details: t.field({ type: ChallengeDetailsInput }),
    hiddenDetails: t.field({ type: "JSON" }),
    expiresInSeconds: t.int({ description: "default 300, at most 3600" }),
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
  fields: (t) => ({ sid: t.id({ required: true }), passkeyResponse: t.field({ type: "JSON", description: "AuthenticationResponseJSON from the browser" }) }),
});

builder.queryFields((t) => ({
  factor: t.field({
    type: FactorRef,
    nullable: true,
    args: { sid: t.arg.id({ required: true }) },
    resolve: async (_, { sid }, { principal, gateway }) => {
      requireServiceAccess(principal, null);
      const factor = await gateway.passkeys.getFactor(sid);
      return factor && canSee(principal, factor) ? factor : null;
    },
  }),
  challenge: t.field({
    type: ChallengeRef,
    nullable: true,
    args: { sid: t.arg.id({ required: true }) },
    resolve: async (_, { sid }, { principal, gateway }) => {
      requireAuthenticated(principal);
      const challenge = await gateway.passkeys.getChallenge(sid);
      return challenge && canSee(principal, challenge) ? challenge : null;
    },
  }),
}));

builder.mutationFields((t) => ({
  createFactor: t.field({
    type: CreateFactorPayload,
    args: { input: t.arg({ type: CreateFactorInput, required: true }) },
    resolve: async (_, { input }, { principal, gateway }) => {
      if (requireServiceAccess(principal, input.serviceSid) === "out-of-scope") throw notFound("Service");
      return gateway.passkeys.createFactor(input);
    },
  }),
  verifyFactor: t.field({
    type: FactorRef,
    args: { input: t.arg({ type: VerifyFactorInput, required: true }) },
    resolve: async (_, { input }, { principal, gateway }) => {
      requireServiceAccess(principal, null);
      return gateway.passkeys.verifyFactor(input.sid, serviceScope(principal), input.passkeyResponse);
    },
  }),
  deleteFactor: t.field({
    type: FactorRef,
    args: { sid: t.arg.id({ required: true }) },
    resolve: async (_, { sid }, { principal, gateway }) => {
      requireServiceAccess(principal, null);
      return gateway.passkeys.deleteFactor(sid, serviceScope(principal));
    },
  }),
  createChallenge: t.field({
    type: CreateChallengePayload,
    args: { input: t.arg({ type: CreateChallengeInput, required: true }) },
    resolve: async (_, { input }, { principal, gateway }) => {
      if (requireServiceAccess(principal, input.serviceSid) === "out-of-scope") throw notFound("Service");
      const created = await gateway.passkeys.createChallenge(input);
      const exp = Math.ceil(created.challenge.expiresAt / 1000) + 300;
      return { ...created, clientToken: issueClientToken(gateway.keys, { sid: created.challenge.sid, svc: created.challenge.serviceSid, exp }) };
    },
  }),
  updateChallenge: t.field({
    type: ChallengeRef,
    args: { input: t.arg({ type: UpdateChallengeInput, required: true }) },
    resolve: async (_, { input }, { principal, gateway }) => {
      const p = requireAuthenticated(principal);
      if (p.kind === "client" && p.resourceSid !== input.sid) throw notFound("Challenge");
      return gateway.passkeys.updateChallenge(input.sid, serviceScope(p), input.passkeyResponse);
    },
  }),
}));

builder.subscriptionFields((t) => ({
  challengeUpdated: t.field({
    type: ChallengeRef,
    description: "The current state first, then each change; completes after a final state",
    args: { sid: t.arg.id({ required: true }) },
    subscribe: async (_, { sid }, { principal, gateway }) => {
      if (requireAuthenticated(principal).kind === "client" && (principal as { resourceSid: string }).resourceSid !== sid) throw notFound("Challenge");
      const existing = await gateway.passkeys.getChallenge(sid);
      if (!existing || !canSee(principal, existing)) throw notFound("Challenge");
      return liveState<Challenge>({
        bus: gateway.bus,
        topic: topics.resource(sid),
        current: () => gateway.passkeys.getChallenge(sid),
        fromEvent: (event) => (event.type.startsWith("challenge.") ? (event.data as unknown as Challenge) : null),
        isFinal: (c) => c.status !== "PENDING",
      });
    },
    resolve: (challenge) => challenge,
  }),
}));

