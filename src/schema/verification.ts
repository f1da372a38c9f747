import { notFound } from "../domain/errors.js";
import { type SendAttempt, type Verification, deliveryStatuses, finalVerificationStatuses, verificationStatuses } from "../domain/types.js";
import { liveState } from "../realtime/live.js";
import { topics } from "../realtime/bus.js";
import { authorize, canSee, inScope, serviceScope } from "../domain/access/rules.js";
import { forbidden, issueClientToken } from "../domain/access/principal.js";
import { builder } from "./builder.js";
import { connection, emptyPage, pageSize, pagingArgs } from "./connection.js";
import { ChannelEnum } from "./service.js";
import { catalogueValues } from "./channels.js";
import { describedValues } from "./describe.js";

export const VerificationStatusEnum = builder.enumType("VerificationStatus", {
  description: "Where a verification stands; every status but PENDING is final",
  values: describedValues(verificationStatuses, {
    PENDING: "Waiting for the right code (or the SNA result); a wrong code leaves it PENDING",
    APPROVED: "Final: the right code was checked, the carrier confirmed the number (SNA), or updateVerification approved it",
    CANCELED: "Final: canceled by updateVerification",
    MAX_ATTEMPTS_REACHED: "Final: the service's maxCheckAttempts failed checks; a later check answers MAX_CHECK_ATTEMPTS_REACHED",
    EXPIRED: "Final: ttlSeconds passed without approval",
    FAILED: "Final: the verification could not be completed (Twilio's failed)",
  }),
});
export const DeliveryStatusEnum = builder.enumType("DeliveryStatus", {
  description: "How far one send attempt got, as its provider reports it",
  values: describedValues(deliveryStatuses, {
    QUEUED: "Waiting in the outbox for its provider",
    SENT: "Handed to the provider",
    DELIVERED: "The provider confirmed delivery to the handset or inbox",
    UNDELIVERED: "The provider reported it did not arrive (e.g. SMPP UNDELIV, EXPIRED, REJECTD)",
    FAILED: "The provider refused it, or every retry failed",
  }),
});
export const AttemptChannelEnum = builder.enumType("AttemptChannel", {
  description: "The channel a message actually took (RCS where an SMS was upgraded)",
  values: catalogueValues("attempt", (c) => c.attempt),
});

const SendCodeAttemptRef = builder.objectRef<SendAttempt>("SendCodeAttempt").implement({
  description: "One sending of the code; a start again for the same pending verification adds one",
  fields: (t) => ({
    attemptSid: t.exposeID("attemptSid", { description: "The attempt's sid (VL…)" }),
    channel: t.field({ type: AttemptChannelEnum, description: "The channel actually used", resolve: (a) => a.channel }),
    time: t.field({ type: "DateTime", description: "When the attempt was made", resolve: (a) => a.time }),
    status: t.field({ type: DeliveryStatusEnum, description: "Its delivery status, updated as the provider reports", resolve: (a) => a.status }),
    providerMessageId: t.exposeString("providerMessageId", { nullable: true, description: "The provider's id for the message, once sent" }),
    errorCode: t.exposeString("errorCode", { nullable: true, description: "The provider's or SNA's error code when it did not get through" }),
  }),
});

const LookupRef = builder.objectRef<NonNullable<Verification["lookup"]>>("Lookup").implement({
  description: "What is known of a phone number (lookupEnabled services)",
  fields: (t) => ({
    countryCode: t.exposeString("countryCode", { nullable: true, description: "ISO 3166-1 alpha-2" }),
    lineType: t.exposeString("lineType", { nullable: true, description: "e.g. mobile, fixed_line, voip, premium_rate, as the numbering plan tells" }),
    carrier: t.exposeString("carrier", { nullable: true, description: "The carrier's name, when a carrier lookup is configured" }),
  }),
});

const SnaRef = builder.objectRef<{ url: string }>("Sna").implement({
  description: "Silent Network Auth: what the device needs to prove its number",
  fields: (t) => ({ url: t.exposeString("url", { description: "Single use: the device opens it over mobile data (not Wi-Fi); a second opening answers 410" }) }),
});

export const VerificationRef = builder.objectRef<Verification>("Verification").implement({
  description: "One OTP (or SNA) verification of a phone number or email address; the code itself is never shown",
  fields: (t) => ({
    id: t.exposeID("sid", { description: "The verification sid (VE…), as `sid`" }),
    sid: t.exposeID("sid", { description: "VE followed by 32 lowercase hex digits" }),
    serviceSid: t.exposeID("serviceSid", { description: "The service (VA…) it belongs to" }),
    to: t.exposeString("to", { description: "The recipient, normalised: E.164 or the email address" }),
    channel: t.field({ type: ChannelEnum, description: "The channel used (AUTO shows as SNA or SMS)", resolve: (v) => v.channel }),
    status: t.field({ type: VerificationStatusEnum, description: "PENDING until a final status", resolve: (v) => v.status }),
    valid: t.exposeBoolean("valid", { description: "True once approved; a wrong code answers false with status PENDING" }),
    lookup: t.field({ type: LookupRef, nullable: true, description: "What is known of the number; null unless lookupEnabled, and for email", resolve: (v) => v.lookup }),
    amount: t.exposeString("amount", { nullable: true, description: "PSD2: the amount the code is bound to" }),
    payee: t.exposeString("payee", { nullable: true, description: "PSD2: the payee the code is bound to" }),
    sendCodeAttempts: t.field({ type: [SendCodeAttemptRef], description: "Every sending of the code, oldest first", resolve: (v) => v.sendCodeAttempts }),
    sna: t.field({
      type: SnaRef,
      nullable: true,
      description: "SNA: the single-use URL the device opens over mobile data; only in the startVerification answer that made it (a bearer secret: null on later reads)",
      resolve: (v) => v.sna,
    }),
    snaAttemptsErrorCodes: t.field({
      type: ["Int"],
      nullable: true,
      description: "SNA error codes (605xx) in the order they happened; null when no SNA attempt was made",
      resolve: (v) => v.snaAttemptsErrorCodes,
    }),
    dateCreated: t.field({ type: "DateTime", description: "When it was started", resolve: (v) => v.dateCreated }),
    dateUpdated: t.field({ type: "DateTime", description: "When it last changed", resolve: (v) => v.dateUpdated }),
    expiresAt: t.field({ type: "DateTime", description: "dateCreated + the service's ttlSeconds; a check after it answers VERIFICATION_EXPIRED", resolve: (v) => v.expiresAt }),
  }),
});

const VerificationConnection = connection("Verification", VerificationRef);

const VerificationFilter = builder.inputType("VerificationFilter", {
  description: "Narrows a list of verifications; the conditions given all hold",
  fields: (t) => ({
    status: t.field({ type: VerificationStatusEnum, description: "Only this status" }),
    to: t.string({ description: "Only this recipient (E.164 or the address)" }),
    channel: t.field({ type: ChannelEnum, description: "Only this channel" }),
  }),
});

const RiskCheckEnum = builder.enumType("RiskCheck", {
  description: "Whether Fraud Guard and geo permissions judge a start",
  values: {
    ENABLE: { description: "They do (the default)" },
    DISABLE: { description: "They are skipped for this start (rate limits still apply)" },
  } as const,
});

const StartVerificationInput = builder.inputType("StartVerificationInput", {
  description: "Sends a code (or an SNA URL) to a recipient; a PENDING verification for the same `to` is re-sent, same code and sid",
  fields: (t) => ({
    serviceSid: t.id({ required: true, description: "The service (VA…)" }),
    to: t.string({ required: true, description: "E.164 phone number (with +) or, for EMAIL, an address" }),
    channel: t.field({ type: ChannelEnum, required: true, description: "Must be enabled on the service (else CHANNEL_DISABLED); AUTO picks SNA or SMS" }),
    locale: t.string({ description: "Message language; default: the service's defaultLocale" }),
    customFriendlyName: t.string({ description: "Names the product in this message instead of the service's friendlyName" }),
    customCode: t.string({ description: "4–10 letters or digits; needs customCodeEnabled on the service (else INVALID_PARAMETER)" }),
    amount: t.string({ description: "PSD2: needs psd2Enabled; at most 32 characters" }),
    payee: t.string({ description: "PSD2: needs psd2Enabled; at most 64 characters" }),
    appHash: t.string({ description: "Android SMS Retriever hash, 11 characters (SMS only)" }),
    deviceIp: t.string({ description: "AUTO: the device's public IP; SNA is tried only when the carrier can reach it" }),
    enableSnaClientToken: t.boolean({ description: "SNA/AUTO: opening the SNA URL returns a token the check must echo" }),
    tags: t.field({ type: "JSON", description: "Up to 10 string key/values (128 characters each), echoed in events" }),
    riskCheck: t.field({ type: RiskCheckEnum, description: "DISABLE skips Fraud Guard and geo permissions for this request (default ENABLE)" }),
    rateLimits: t.field({ type: "JSON", description: "Values for the service's programmable rate limits: { <uniqueName>: value }" }),
    templateSid: t.id({
      description: "A template (HJ…) of this service that has a text for the channel (else INVALID_PARAMETER); default: the service's defaultTemplateSid where it has one, else the built-in texts",
    }),
    templateCustomSubstitutions: t.field({
      type: "JSON",
      description: "Values of the template's {{custom.<name>}} placeholders: { <name>: value }, at most 10, 64 characters each; every one the template uses is required",
    }),
    sendDigits: t.string({
      description:
        "CALL only (else INVALID_PARAMETER): digits dialled as soon as the call is answered, before anything is said (an extension); up to 32 of 0-9, #, * and w (a half-second pause). Twilio's SendDigits",
    }),
    emailFrom: t.string({
      description:
        "EMAIL only: the From address of this verification's email; it must be at the domain of the gateway's configured sender (EMAIL_FROM), else INVALID_PARAMETER (no configured sender: always). Default: the configured sender",
    }),
    emailFromName: t.string({ description: "EMAIL only: the display name of the From header, at most 100 characters; default: the configured sender's" }),
  }),
});
const StartVerificationPayload = builder.objectRef<{ verification: Verification; clientToken: string }>("StartVerificationPayload").implement({
  description: "The verification started (or re-sent) and a client token for it",
  fields: (t) => ({
    verification: t.field({ type: VerificationRef, description: "The verification, PENDING with a new send attempt", resolve: (p) => p.verification }),
    clientToken: t.exposeString("clientToken", { description: "For a frontend: read, subscribe to and check this one verification" }),
  }),
});

const CheckVerificationInput = builder.inputType("CheckVerificationInput", {
  description: "A code to check against a verification, found by `verificationSid` or by `to` (its pending one)",
  fields: (t) => ({
    serviceSid: t.id({ required: true, description: "The service (VA…)" }),
    to: t.string({ description: "The recipient, when no verificationSid is given" }),
    verificationSid: t.id({ description: "The verification (VE…); a client token must check by sid" }),
    code: t.string({ description: "The code the user typed, 4–10 letters or digits; omit for SNA" }),
    amount: t.string({ description: "PSD2: must equal the started amount" }),
    payee: t.string({ description: "PSD2: must equal the started payee" }),
    snaClientToken: t.string({ description: "SNA with enableSnaClientToken: the token the SNA URL returned" }),
  }),
});
const CheckVerificationPayload = builder.objectRef<{ verification: Verification }>("CheckVerificationPayload").implement({
  description: "The verification after the check",
  fields: (t) => ({
    verification: t.field({
      type: VerificationRef,
      description: "APPROVED with valid: true on the right code; PENDING with valid: false (or MAX_ATTEMPTS_REACHED) on a wrong one",
      resolve: (p) => p.verification,
    }),
  }),
});

const SettableStatus = builder.enumType("VerificationStatusUpdate", {
  description: "A final status a backend may set on a PENDING verification",
  values: {
    CANCELED: { description: "Cancel it: later checks answer VERIFICATION_CANCELED" },
    APPROVED: { description: "Approve it without a code (e.g. the user proved the number another way)" },
  } as const,
});
const UpdateVerificationInput = builder.inputType("UpdateVerificationInput", {
  description: "Sets a PENDING verification's final status",
  fields: (t) => ({
    sid: t.id({ required: true, description: "The verification (VE…)" }),
    status: t.field({ type: SettableStatus, required: true, description: "CANCELED or APPROVED" }),
  }),
});

builder.queryFields((t) => ({
  verification: t.field({
    type: VerificationRef,
    description: "One verification; null when unknown or out of scope. Admin, a key of its service, or its client token; access and device tokens: FORBIDDEN.",
    nullable: true,
    args: { sid: t.arg.id({ required: true, description: "The verification (VE…)" }) },
    resolve: async (_, { sid }, { principal, gateway }) => {
      const p = authorize(principal, "verification");
      const verification = await gateway.verifications.get(sid);
      return verification && canSee(p, verification) ? verification : null;
    },
  }),
  verifications: t.field({
    type: VerificationConnection,
    description:
      "A service's verifications, newest first; empty when out of scope. Admin, or a key of that service; client, access and device tokens: FORBIDDEN. Errors: INVALID_PARAMETER (first, after).",
    args: {
      serviceSid: t.arg.id({ required: true, description: "The service (VA…)" }),
      filter: t.arg({ type: VerificationFilter, description: "Only the verifications that match" }),
      first: t.arg.int({ description: pagingArgs.first }),
      after: t.arg.string({ description: pagingArgs.after }),
    },
    resolve: async (_, args, { principal, gateway }) => {
      const first = pageSize(args.first);
      if (!inScope(authorize(principal, "verifications"), args.serviceSid)) return emptyPage<Verification>();
      return gateway.records.verifications(args.serviceSid, args.filter ?? {}, { first, after: args.after ?? null });
    },
  }),
}));

builder.mutationFields((t) => ({
  startVerification: t.field({
    type: StartVerificationPayload,
    description:
      "Starts a verification (or re-sends the PENDING one for the same `to`). Admin, or a key of that service; client, access and device tokens: FORBIDDEN. Errors: NOT_FOUND, INVALID_PARAMETER, CHANNEL_DISABLED, LANDLINE_NOT_SUPPORTED, GEO_BLOCKED, FRAUD_BLOCKED, RATE_LIMITED, MAX_SEND_ATTEMPTS_REACHED.",
    args: { input: t.arg({ type: StartVerificationInput, required: true, description: "Who to verify, over which channel, and how" }) },
    resolve: async (_, { input }, { principal, gateway }) => {
      if (!inScope(authorize(principal, "startVerification"), input.serviceSid)) throw notFound("Service");
      const verification = await gateway.verifications.start(input);
      const exp = Math.ceil(verification.expiresAt / 1000) + 300;
      return { verification, clientToken: issueClientToken(gateway.keys, { sid: verification.sid, svc: verification.serviceSid, exp }) };
    },
  }),
  checkVerification: t.field({
    type: CheckVerificationPayload,
    description:
      "Checks a code; a wrong code is not an error (valid: false). Admin, a key of that service, or the verification's client token by verificationSid (by `to`: FORBIDDEN). Errors: NOT_FOUND, INVALID_PARAMETER, MAX_CHECK_ATTEMPTS_REACHED, VERIFICATION_EXPIRED, VERIFICATION_ALREADY_APPROVED, VERIFICATION_CANCELED.",
    args: { input: t.arg({ type: CheckVerificationInput, required: true, description: "The verification and the code" }) },
    resolve: async (_, { input }, { principal, gateway }) => {
      const p = authorize(principal, "checkVerification");
      if (p.kind === "client") {
        if (!input.verificationSid) throw forbidden("A client token checks by `verificationSid`.");
        if (input.verificationSid !== p.resourceSid || input.serviceSid !== p.serviceSid) throw notFound("Verification");
      } else if (!inScope(p, input.serviceSid)) {
        throw notFound("Service");
      }
      return { verification: await gateway.verifications.check(input) };
    },
  }),
  updateVerification: t.field({
    type: VerificationRef,
    description:
      "Cancels or approves a PENDING verification. Admin, or a key of its service; client, access and device tokens: FORBIDDEN. Errors: NOT_FOUND, VERIFICATION_EXPIRED, VERIFICATION_ALREADY_APPROVED, VERIFICATION_CANCELED, MAX_CHECK_ATTEMPTS_REACHED.",
    args: { input: t.arg({ type: UpdateVerificationInput, required: true, description: "The verification and its new status" }) },
    resolve: async (_, { input }, { principal, gateway }) => {
      return gateway.verifications.setStatus(input.sid, input.status, serviceScope(authorize(principal, "updateVerification")));
    },
  }),
}));

builder.subscriptionFields((t) => ({
  verificationUpdated: t.field({
    type: VerificationRef,
    description:
      "A verification's current state first, then each change; completes after a final state. Admin, a key of its service, or its client token; access and device tokens: FORBIDDEN. Errors: NOT_FOUND.",
    args: { sid: t.arg.id({ required: true, description: "The verification (VE…)" }) },
    subscribe: async (_, { sid }, { principal, gateway }) => {
      const p = authorize(principal, "verificationUpdated");
      const existing = await gateway.verifications.get(sid);
      if (!existing || !canSee(p, existing)) throw notFound("Verification");
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
