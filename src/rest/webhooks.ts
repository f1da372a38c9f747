import { authorize, inScope, serviceScope } from "../domain/access/rules.js";
import { notFound } from "../domain/errors.js";
import { isSid } from "../domain/ids.js";
import type { Webhook } from "../domain/types.js";
import { fromTwilioEventTypes, toTwilioEventTypes } from "../domain/webhook/twilio.js";
import { RestError, missingParameter, unsupported } from "./errors.js";
import type { Params } from "./form.js";
import { type RestContext, type Route, iso, listPage, pageOf } from "./router.js";

/**
 * Verigate's webhook sids (WH…) as Twilio's (YW…) and back: the same 32 hex digits under the other
 * prefix, so the two are one-to-one and nothing is stored twice.
 */
export const twilioWebhookSid = (sid: string): string => `YW${sid.slice(2)}`;
export const verigateWebhookSid = (sid: string): string | null => (isSid(sid, "YW") ? `WH${sid.slice(2)}` : null);

/** A webhook as Twilio's `verify.v2.service.webhook`. */
export function presentWebhook(w: Webhook, c: RestContext) {
  const sid = twilioWebhookSid(w.sid);
  return {
    sid,
    service_sid: w.serviceSid,
    account_sid: c.accountSid,
    friendly_name: w.friendlyName,
    event_types: toTwilioEventTypes(w.eventTypes),
    status: w.enabled ? "enabled" : "disabled",
    version: "v2",
    webhook_url: w.url,
    webhook_method: "POST",
    date_created: iso(w.dateCreated),
    date_updated: iso(w.dateUpdated),
    url: `${c.base}/v2/Services/${w.serviceSid}/Webhooks/${sid}`,
  };
}

type Operation = "webhooks" | "createWebhook" | "updateWebhook" | "deleteWebhook";

/** The service a path names, if the caller may manage its webhooks (out of scope reads as unknown). */
async function scopedService(c: RestContext, sid: string, operation: Operation): Promise<string> {
  const p = authorize(c.principal, operation);
  const service = isSid(sid, "VA") && inScope(p, sid) ? await c.gateway.services.get(sid) : null;
  if (!service) throw notFound("Service");
  return service.sid;
}

/** The webhook a path names (YW…), in the service the path names. */
async function scopedWebhook(c: RestContext, path: Record<string, string>, operation: Operation): Promise<Webhook> {
  const serviceSid = await scopedService(c, path.ServiceSid, operation);
  const sid = verigateWebhookSid(path.Sid);
  const webhook = sid ? await c.gateway.webhooks.get(sid) : null;
  if (webhook?.serviceSid !== serviceSid) throw notFound("Webhook");
  return webhook;
}

/** Twilio's `Version`: v2 is the only payload Verigate sends; v1 (Twilio's legacy one) is refused. */
function version(p: Params): void {
  if (p.choice("Version", ["v1", "v2"] as const) === "v1") throw unsupported("Webhook Version v1");
}

function eventTypes(p: Params, required: boolean): string[] | undefined {
  const names = p.list("EventTypes", { maxItems: 50 });
  if (names === undefined || names.length === 0) {
    if (required) throw missingParameter("EventTypes");
    return undefined;
  }
  return fromTwilioEventTypes(names);
}

const enabledOf = (p: Params) => {
  const status = p.choice("Status", ["enabled", "disabled"] as const);
  return status === undefined ? undefined : status === "enabled";
};

export const webhookRoutes: Route[] = [
  {
    method: "POST",
    path: "/v2/Services/{ServiceSid}/Webhooks",
    handle: async ({ path, params }, c) => {
      const serviceSid = await scopedService(c, path.ServiceSid, "createWebhook");
      const friendlyName = params.required("FriendlyName");
      const types = eventTypes(params, true);
      const url = params.required("WebhookUrl");
      const enabled = enabledOf(params);
      version(params);
      // Twilio signs with the account's auth token: here, the secret the creator authenticated with.
      if (!c.credential) throw new RestError(400, 20001, "A webhook created over REST is signed with the HTTP Basic password it was created with: authenticate with HTTP Basic.");
      const { webhook } = await c.gateway.webhooks.create({ serviceSid, url, friendlyName, eventTypes: types, enabled, format: "twilio" }, { signingKey: c.credential });
      return { status: 201, body: presentWebhook(webhook, c) };
    },
  },
  {
    method: "GET",
    path: "/v2/Services/{ServiceSid}/Webhooks",
    handle: async (request, c) => {
      const serviceSid = await scopedService(c, request.path.ServiceSid, "webhooks");
      const list = await c.gateway.records.webhooks(serviceSid);
      return listPage(request, c, "webhooks", pageOf(list), (w) => presentWebhook(w, c));
    },
  },
  {
    method: "GET",
    path: "/v2/Services/{ServiceSid}/Webhooks/{Sid}",
    handle: async ({ path }, c) => ({ status: 200, body: presentWebhook(await scopedWebhook(c, path, "webhooks"), c) }),
  },
  {
    method: "POST",
    path: "/v2/Services/{ServiceSid}/Webhooks/{Sid}",
    handle: async ({ path, params }, c) => {
      const webhook = await scopedWebhook(c, path, "updateWebhook");
      const patch = { url: params.string("WebhookUrl"), friendlyName: params.string("FriendlyName"), eventTypes: eventTypes(params, false), enabled: enabledOf(params) };
      version(params);
      const updated = await c.gateway.webhooks.update(webhook.sid, patch, serviceScope(authorize(c.principal, "updateWebhook")));
      return { status: 200, body: presentWebhook(updated, c) };
    },
  },
  {
    method: "DELETE",
    path: "/v2/Services/{ServiceSid}/Webhooks/{Sid}",
    handle: async ({ path }, c) => {
      const webhook = await scopedWebhook(c, path, "deleteWebhook");
      await c.gateway.webhooks.delete(webhook.sid, serviceScope(authorize(c.principal, "deleteWebhook")));
      return { status: 204 };
    },
  },
];
