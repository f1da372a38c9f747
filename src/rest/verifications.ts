import { authorize, inScope, serviceScope } from "../domain/access/rules.js";
import { notFound } from "../domain/errors.js";
import { isSid } from "../domain/ids.js";
import type { Verification } from "../domain/types.js";
import { missingParameter } from "./errors.js";
import type { Params } from "./form.js";
import { type RestContext, type Route, iso } from "./router.js";

/** The channels a start may name over REST (Twilio's, lower case; `auto` picks SNA or SMS). */
const channels = ["sms", "whatsapp", "call", "email", "sna", "auto"] as const;

/** The fields a verification and a check's answer share, as Twilio names them. */
function common(v: Verification, c: RestContext) {
  return {
    sid: v.sid,
    service_sid: v.serviceSid,
    account_sid: c.accountSid,
    to: v.to,
    channel: v.channel.toLowerCase(),
    status: v.status.toLowerCase(),
    valid: v.valid,
    amount: v.amount,
    payee: v.payee,
    date_created: iso(v.dateCreated),
    date_updated: iso(v.dateUpdated),
  };
}

/** A verification as Twilio's `verify.v2.service.verification`. */
export function presentVerification(v: Verification, c: RestContext) {
  return {
    ...common(v, c),
    lookup: lookupOf(v),
    send_code_attempts: v.sendCodeAttempts.map((a) => ({ attempt_sid: a.attemptSid, channel: a.channel.toLowerCase(), time: iso(a.time) })),
    sna: v.sna ? { url: v.sna.url } : null,
    url: `${c.base}/v2/Services/${v.serviceSid}/Verifications/${v.sid}`,
  };
}

/** Twilio's `lookup`: `{ carrier: { … } }` when the service looks numbers up, `{}` otherwise. */
function lookupOf(v: Verification) {
  const l = v.lookup;
  if (!l || (l.lineType === null && l.carrier === null)) return {};
  return { carrier: { error_code: null, name: l.carrier, mobile_country_code: null, mobile_network_code: null, type: l.lineType?.toLowerCase() ?? null } };
}

/** A check's answer as Twilio's `verify.v2.service.verification_check`. */
export function presentCheck(v: Verification, c: RestContext) {
  return { ...common(v, c), sna_attempts_error_codes: v.snaAttemptsErrorCodes ?? [] };
}

/** Twilio's start parameters as the domain's start input; the domain validates them as it does for GraphQL. */
function startInput(serviceSid: string, p: Params) {
  const to = p.required("To");
  const channel = p.choice("Channel", channels, { required: true }) as string;
  const riskCheck = p.choice("RiskCheck", ["enable", "disable"] as const);
  const tags = p.json("Tags");
  // Twilio's email ChannelConfiguration: `from` and `from_name` are applied; its SendGrid-only keys
  // (`template_id`, `substitutions`) are ignored.
  const configuration = p.json("ChannelConfiguration");
  return {
    serviceSid,
    to,
    channel: channel.toUpperCase(),
    locale: p.string("Locale"),
    customFriendlyName: p.string("CustomFriendlyName"),
    customCode: p.string("CustomCode"),
    amount: p.string("Amount"),
    payee: p.string("Payee"),
    deviceIp: p.string("DeviceIp"),
    appHash: p.string("AppHash"),
    enableSnaClientToken: p.bool("EnableSnaClientToken"),
    riskCheck: riskCheck?.toUpperCase(),
    rateLimits: p.json("RateLimits"),
    templateSid: p.string("TemplateSid"),
    templateCustomSubstitutions: p.json("TemplateCustomSubstitutions"),
    tags,
    sendDigits: p.string("SendDigits"),
    emailFrom: configuration?.from,
    emailFromName: configuration?.from_name,
  };
}

export const verificationRoutes: Route[] = [
  {
    method: "POST",
    path: "/v2/Services/{ServiceSid}/Verifications",
    handle: async ({ path, params }, c) => {
      if (!inScope(authorize(c.principal, "startVerification"), path.ServiceSid)) throw notFound("Service");
      const verification = await c.gateway.verifications.start(startInput(path.ServiceSid, params));
      return { status: 201, body: presentVerification(verification, c) };
    },
  },
  {
    method: "GET",
    path: "/v2/Services/{ServiceSid}/Verifications/{Sid}",
    handle: async ({ path }, c) => {
      const p = authorize(c.principal, "verification");
      const verification = isSid(path.Sid, "VE") ? await c.gateway.verifications.get(path.Sid) : null;
      if (!verification || verification.serviceSid !== path.ServiceSid || p.kind === "client" || !inScope(p, verification.serviceSid)) throw notFound("Verification");
      return { status: 200, body: presentVerification(verification, c) };
    },
  },
  {
    method: "POST",
    path: "/v2/Services/{ServiceSid}/Verifications/{Sid}",
    handle: async ({ path, params }, c) => {
      const scope = serviceScope(authorize(c.principal, "updateVerification"));
      const status = params.choice("Status", ["canceled", "approved"] as const, { required: true });
      if (scope !== null && scope !== path.ServiceSid) throw notFound("Verification");
      const current = isSid(path.Sid, "VE") ? await c.gateway.verifications.get(path.Sid) : null;
      if (!current || current.serviceSid !== path.ServiceSid) throw notFound("Verification");
      const updated = await c.gateway.verifications.setStatus(path.Sid, status === "canceled" ? "CANCELED" : "APPROVED", path.ServiceSid);
      return { status: 200, body: presentVerification(updated, c) };
    },
  },
  {
    method: "POST",
    path: "/v2/Services/{ServiceSid}/VerificationCheck",
    handle: async ({ path, params }, c) => {
      if (!inScope(authorize(c.principal, "checkVerification"), path.ServiceSid)) throw notFound("Service");
      const to = params.string("To");
      const verificationSid = params.string("VerificationSid");
      if (!to && !verificationSid) throw missingParameter("To");
      const verification = await c.gateway.verifications.check({
        serviceSid: path.ServiceSid,
        to,
        verificationSid,
        code: params.string("Code"),
        amount: params.string("Amount"),
        payee: params.string("Payee"),
        snaClientToken: params.string("SnaClientToken"),
      });
      return { status: 200, body: presentCheck(verification, c) };
    },
  },
];
