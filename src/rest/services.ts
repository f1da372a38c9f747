import { authorize, inScope } from "../domain/access/rules.js";
import { notFound } from "../domain/errors.js";
import { isSid } from "../domain/ids.js";
import type { Service } from "../domain/types.js";
import type { Params } from "./form.js";
import { type RestContext, type Route, iso, listPage } from "./router.js";

/** A service as Twilio's `verify.v2.service`. */
export function presentService(s: Service, c: RestContext) {
  const url = `${c.base}/v2/Services/${s.sid}`;
  return {
    sid: s.sid,
    account_sid: c.accountSid,
    friendly_name: s.friendlyName,
    code_length: s.codeLength,
    lookup_enabled: s.lookupEnabled,
    psd2_enabled: s.psd2Enabled,
    skip_sms_to_landlines: s.skipSmsToLandlines,
    dtmf_input_required: s.dtmfInputRequired,
    tts_name: null,
    do_not_share_warning_enabled: s.doNotShareWarningEnabled,
    custom_code_enabled: s.customCodeEnabled,
    push: { include_date: false, apn_credential_sid: null, fcm_credential_sid: null },
    totp: { issuer: s.totp.issuer, time_step: s.totp.timeStep, code_length: s.totp.codeLength, skew: s.totp.skew },
    default_template_sid: s.defaultTemplateSid,
    whatsapp: { msg_service_sid: null, from: null },
    passkeys: {
      relying_party: { id: s.passkeys.rpId, name: s.passkeys.rpName, origins: s.passkeys.origins.length > 0 ? s.passkeys.origins : null },
      authenticator_attachment: twilioCase(s.passkeys.authenticatorAttachment),
      discoverable_credentials: twilioCase(s.passkeys.residentKey),
      user_verification: twilioCase(s.passkeys.userVerification),
    },
    verify_event_subscription_enabled: false,
    date_created: iso(s.dateCreated),
    date_updated: iso(s.dateUpdated),
    url,
    links: {
      verification_checks: `${url}/VerificationCheck`,
      verifications: `${url}/Verifications`,
      rate_limits: `${url}/RateLimits`,
      messaging_configurations: `${url}/MessagingConfigurations`,
      entities: `${url}/Entities`,
      webhooks: `${url}/Webhooks`,
      access_tokens: `${url}/AccessTokens`,
    },
  };
}

/** PLATFORM → platform, CROSS_PLATFORM → cross-platform. */
const twilioCase = (value: string) => value.toLowerCase().replace(/_/g, "-");
const domainCase = (value: string | undefined) => value?.toUpperCase().replace(/-/g, "_");

/** Twilio's service parameters as the domain's settings (unknown Twilio-only ones are accepted and ignored). */
function settingsFrom(p: Params) {
  const totp = { issuer: p.string("Totp.Issuer"), timeStep: p.int("Totp.TimeStep"), codeLength: p.int("Totp.CodeLength"), skew: p.int("Totp.Skew") };
  const origins = p.string("Passkeys.RelyingParty.Origins");
  const passkeys = {
    rpId: p.string("Passkeys.RelyingParty.Id"),
    rpName: p.string("Passkeys.RelyingParty.Name"),
    origins: origins === undefined ? undefined : origins.split(",").map((o) => o.trim()),
    authenticatorAttachment: domainCase(p.string("Passkeys.AuthenticatorAttachment")),
    residentKey: domainCase(p.string("Passkeys.DiscoverableCredentials")),
    userVerification: domainCase(p.string("Passkeys.UserVerification")),
  };
  const given = <T extends Record<string, unknown>>(o: T) => (Object.values(o).some((v) => v !== undefined) ? o : undefined);
  return {
    friendlyName: p.string("FriendlyName"),
    codeLength: p.int("CodeLength"),
    lookupEnabled: p.bool("LookupEnabled"),
    skipSmsToLandlines: p.bool("SkipSmsToLandlines"),
    dtmfInputRequired: p.bool("DtmfInputRequired"),
    psd2Enabled: p.bool("Psd2Enabled"),
    doNotShareWarningEnabled: p.bool("DoNotShareWarningEnabled"),
    customCodeEnabled: p.bool("CustomCodeEnabled"),
    // Given empty, it clears the service's default template.
    defaultTemplateSid: p.has("DefaultTemplateSid") ? (p.string("DefaultTemplateSid") ?? "") : undefined,
    totp: given(totp),
    passkeys: given(passkeys),
  };
}

/** The service a path names, if the caller may see it (out of scope reads as unknown). */
export async function scopedService(c: RestContext, sid: string, operation: "service" | "updateService" = "service"): Promise<Service> {
  const p = authorize(c.principal, operation);
  const service = isSid(sid, "VA") && inScope(p, sid) ? await c.gateway.services.get(sid) : null;
  if (!service) throw notFound("Service");
  return service;
}

export const serviceRoutes: Route[] = [
  {
    method: "POST",
    path: "/v2/Services",
    handle: async ({ params }, c) => {
      authorize(c.principal, "createService");
      params.required("FriendlyName");
      return { status: 201, body: presentService(await c.gateway.services.create(settingsFrom(params)), c) };
    },
  },
  {
    method: "GET",
    path: "/v2/Services",
    handle: async (request, c) => {
      const p = authorize(c.principal, "services");
      return listPage(
        request,
        c,
        "services",
        async (page) => {
          if (p.kind !== "apiKey") return c.gateway.records.services(page);
          // A service key sees its own service only.
          const own = page.after ? null : await c.gateway.services.get(p.serviceSid);
          return { edges: own ? [{ cursor: "", node: own }] : [], hasNextPage: false, endCursor: null };
        },
        (s) => presentService(s, c),
      );
    },
  },
  {
    method: "GET",
    path: "/v2/Services/{Sid}",
    handle: async ({ path }, c) => ({ status: 200, body: presentService(await scopedService(c, path.Sid), c) }),
  },
  {
    method: "POST",
    path: "/v2/Services/{Sid}",
    handle: async ({ path, params }, c) => {
      await scopedService(c, path.Sid, "updateService");
      return { status: 200, body: presentService(await c.gateway.services.update(path.Sid, settingsFrom(params)), c) };
    },
  },
  {
    method: "DELETE",
    path: "/v2/Services/{Sid}",
    handle: async ({ path }, c) => {
      authorize(c.principal, "deleteService");
      await c.gateway.services.delete(path.Sid);
      return { status: 204 };
    },
  },
];
