import { notFound } from "../domain/errors.js";
import {
  type SendAttempt,
  type Verification,
  deliveryStatuses,
  finalVerificationStatuses,
  verificationStatuses,
} from "../domain/types.js";
import { liveState } from "../realtime/live.js";
import { topics } from "../realtime/bus.js";
import { canSee, forbidden, issueClientToken, requireAuthenticated, requireServiceAccess, serviceScope } from "../server/auth.js";
import { builder } from "./builder.js";
import { connection, emptyPage, pageSize } from "./connection.js";
import { ChannelEnum } from "./service.js";

export const VerificationStatusEnum = builder.enumType("VerificationStatus", { values: verificationStatuses });
export const DeliveryStatusEnum = builder.enumType("DeliveryStatus", { values: deliveryStatuses });
export const AttemptChannelEnum = builder.enumType("AttemptChannel", { values: ["SMS", "RCS", "WHATSAPP", "CALL", "EMAIL", "SNA"] as const });

const SendCodeAttemptRef = builder.objectRef<SendAttempt>("SendCodeAttempt").implement({
  fields: (t) => ({
    attemptSid: t.exposeID("attemptSid"),
    channel: t.field({ type: AttemptChannelEnum, resolve: (a) => a.channel }),
    time: t.field({ type: "DateTime", resolve: (a) => a.time }),
    status: t.field({ type: DeliveryStatusEnum, resolve: (a) => a.status }),
    providerMessageId: t.exposeString("providerMessageId", { nullable: true }),
    errorCode: t.exposeString("errorCode", { nullable: true }),
  }),
});

const LookupRef = builder.objectRef<NonNullable<Verification["lookup"]>>("Lookup").implement({
  fields: (t) => ({
    countryCode: t.exposeString("countryCode", { nullable: true }),
    lineType: t.exposeString("lineType", { nullable: true }),
    carrier: t.exposeString("carrier", { nullable: true }),
  }),
});

const SnaRef = builder.objectRef<{ url: string }>("Sna").implement({ fields: (t) => ({ url: t.exposeString("url") }) });

export const VerificationRef = builder.objectRef<Verification>("Verification").implement({
  fields: (t) => ({
    id: t.exposeID("sid"),
    sid: t.exposeID("sid"),
    serviceSid: t.exposeID("serviceSid"),
    to: t.exposeString("to"),
    channel: t.field({ type: ChannelEnum, resolve: (v) => v.channel }),
    status: t.field({ type: VerificationStatusEnum, resolve: (v) => v.status }),
    valid: t.exposeBoolean("valid"),
    lookup: t.field({ type: LookupRef, nullable: true, resolve: (v) => v.lookup }),
    amount: t.exposeString("amount", { nullable: true }),
    payee: t.exposeString("payee", { nullable: true }),
    sendCodeAttempts: t.field({ type: [SendCodeAttemptRef], resolve: (v) => v.sendCodeAttempts }),
    sna: t.field({ type: SnaRef, nullable: true, description: "SNA: the single-use URL the device opens over mobile data; only in the startVerification answer that made it (a bearer secret: null on later reads)", resolve: (v) => v.sna }),
    snaAttemptsErrorCodes: t.field({
      type: ["Int"],
      nullable: true,
      description: "SNA error codes (605xx) in the order they happened; null when no SNA attempt was made",
      resolve: (v) => v.snaAttemptsErrorCodes,
    }),
    dateCreated: t.field({ type: "DateTime", resolve: (v) => v.dateCreated }),
    dateUpdated: t.field({ type: "DateTime", resolve: (v) => v.dateUpdated }),
    expiresAt: t.field({ type: "DateTime", resolve: (v) => v.expiresAt }),
  }),
});

const VerificationConnection = connection("Verification", VerificationRef);

const VerificationFilter = builder.inputType("VerificationFilter", {
  fields: (t) => ({
    status: t.field({ type: VerificationStatusEnum }),
    to: t.string(),
    channel: t.field({ type: ChannelEnum }),
  }),
});

const RiskCheckEnum = builder.enumType("RiskCheck", { values: ["ENABLE", "DISABLE"] as const });

const StartVerificationInput = builder.inputType("StartVerificationInput", {
  fields: (t) => ({
    serviceSid: t.id({ required: true }),
    to: t.string({ required: true, description: "E.164 phone number (with +) or, for EMAIL, an address" }),
    channel: t.field({ type: ChannelEnum, required: true }),
    locale: t.string({ description: "Message language; default: the service's defaultLocale" }),
    customFriendlyName: t.string(),
    customCode: t.string({ description: "Needs customCodeEnabled on the service" }),
    amount: t.string({ description: "PSD2: needs psd2Enabled" }),
    payee: t.string({ description: "PSD2: needs psd2Enabled" }),
    appHash: t.string({ description: "Android SMS Retriever hash (SMS only)" }),
    deviceIp: t.string({ description: "AUTO: the device's public IP; SNA is tried only when the carrier can reach it" }),
    enableSnaClientToken: t.boolean({ description: "SNA/AUTO: opening the SNA URL returns a token the check must echo" }),
    tags: t.field({ type: "JSON", description: "Up to 10 string key/values, echoed in events" }),
    riskCheck: t.field({ type: RiskCheckEnum, description: "DISABLE skips Fraud Guard and geo permissions for this request (default ENABLE)" }),
    rateLimits: t.field({ type: "JSON", description: "Values for the service's programmable rate limits: { <uniqueName>: value }" }),
  }),
});
const StartVerificationPayload = builder.objectRef<{ verification: Verification; clientToken: string }>("StartVerificationPayload").implement({
  fields: (t) => ({
    verification: t.field({ type: VerificationRef, resolve: (p) => p.verification }),
    clientToken: t.exposeString("clientToken", { description: "For a frontend: read, subscribe to and check this one verification" }),
  }),
});

const CheckVerificationInput = builder.inputType("CheckVerificationInput", {
  fields: (t) => ({
    serviceSid: t.id({ required: true }),
    to: t.string(),
    verificationSid: t.id(),
    code: t.string(),
    amount: t.string(),
    payee: t.string(),
    snaClientToken: t.string({ description: "SNA with enableSnaClientToken: the token the SNA URL returned" }),
  }),
});
const CheckVerificationPayload = builder.objectRef<{ verification: Verification }>("CheckVerificationPayload").implement({
  fields: (t) => ({ verification: t.field({ type: VerificationRef, resolve: (p) => p.verification }) }),
});

const SettableStatus = builder.enumType("VerificationStatusUpdate", { values: ["CANCELED", "APPROVED"] as const });
const UpdateVerificationInput = builder.inputType("UpdateVerificationInput", {
  fields: (t) => ({ sid: t.id({ required: true }), status: t.field({ type: SettableStatus, required: true }) }),
});

builder.queryFields((t) => ({
  verification: t.field({
    type: VerificationRef,
    nullable: true,
    args: { sid: t.arg.id({ required: true }) },
    resolve: async (_, { sid }, { principal, gateway }) => {
      requireAuthenticated(principal);
      const verification = await gateway.verifications.get(sid);
      return verification && canSee(principal, verification) ? verification : null;
    },
  }),
  verifications: t.field({
    type: VerificationConnection,
    description: "Newest first",
    args: { serviceSid: t.arg.id({ required: true }), filter: t.arg({ type: VerificationFilter }), first: t.arg.int(), after: t.arg.string() },
    resolve: async (_, args, { principal, gateway }) => {
      const first = pageSize(args.first);
      if (requireServiceAccess(principal, args.serviceSid) === "out-of-scope") return emptyPage<Verification>();
      return gateway.store.listVerifications(args.serviceSid, args.filter ?? {}, { first, after: args.after ?? null });
    },
  }),
}));

builder.mutationFields((t) => ({
  startVerification: t.field({
    type: StartVerificationPayload,
    args: { input: t.arg({ type: StartVerificationInput, required: true }) },
    resolve: async (_, { input }, { principal, gateway }) => {
      if (requireServiceAccess(principal, input.serviceSid) === "out-of-scope") throw notFound("Service");
      const verification = await gateway.verifications.start(input);
      const exp = Math.ceil(verification.expiresAt / 1000) + 300;
      return { verification, clientToken: issueClientToken(gateway.keys, { sid: verification.sid, svc: verification.serviceSid, exp }) };
    },
  }),
  checkVerification: t.field({
    type: CheckVerificationPayload,
    args: { input: t.arg({ type: CheckVerificationInput, required: true }) },
    resolve: async (_, { input }, { principal, gateway }) => {
      const p = requireAuthenticated(principal);
      if (p.kind === "client") {
        if (!input.verificationSid) throw forbidden("A client token checks by `verificationSid`.");
        if (input.verificationSid !== p.resourceSid || input.serviceSid !== p.serviceSid) throw notFound("Verification");
      } else if (requireServiceAccess(p, input.serviceSid) === "out-of-scope") {
        throw notFound("Service");
      }
      return { verification: await gateway.verifications.check(input) };
    },
  }),
  updateVerification: t.field({
    type: VerificationRef,
    args: { input: t.arg({ type: UpdateVerificationInput, required: true }) },
    resolve: async (_, { input }, { principal, gateway }) => {
      requireServiceAccess(principal, null);
      return gateway.verifications.setStatus(input.sid, input.status, serviceScope(principal));
    },
  }),
}));

builder.subscriptionFields((t) => ({
  verificationUpdated: t.field({
    type: VerificationRef,
    description: "The current state first, then each change; completes after a final state",
    args: { sid: t.arg.id({ required: true }) },
    subscribe: async (_, { sid }, { principal, gateway }) => {
      requireAuthenticated(principal);
      const existing = await gateway.verifications.get(sid);
      if (!existing || !canSee(principal, existing)) throw notFound("Verification");
      return liveState<Verification>({
        bus: gateway.bus,
        topic: topics.resource(sid),
        current: () => gateway.verifications.get(sid),
        fromEvent: (event) => (event.type.startsWith("verification.") || event.type.startsWith("delivery.") ? (event.data as unknown as Verification) : null),
        isFinal: (v) => finalVerificationStatuses.has(v.status),
      });
    },
    resolve: (verification) => verification,
  }),
}));
