import { findMessagingConfiguration } from "../domain/service/messaging.js";
import type { MessagingConfiguration } from "../domain/types.js";
import { type RestContext, type Route, iso, listPage, pageOf } from "./router.js";
import { scopedService } from "./services.js";

/** A messaging configuration as Twilio's `verify.v2.service.messaging_configuration`. */
function presentConfiguration(serviceSid: string, m: MessagingConfiguration, c: RestContext) {
  return {
    account_sid: c.accountSid,
    service_sid: serviceSid,
    country: m.country,
    messaging_service_sid: m.messagingServiceSid,
    date_created: iso(m.dateCreated),
    date_updated: iso(m.dateUpdated),
    url: `${c.base}/v2/Services/${serviceSid}/MessagingConfigurations/${m.country}`,
  };
}

const base = "/v2/Services/{ServiceSid}/MessagingConfigurations";

/**
 * Twilio's MessagingConfigurations: stored and answered (Service.messagingConfigurations); Verigate's
 * SMS provider sends every message, so they do not change routing.
 */
export const messagingRoutes: Route[] = [
  {
    method: "POST",
    path: base,
    handle: async ({ path, params }, c) => {
      const service = await scopedService(c, path.ServiceSid, "updateService");
      const input = { country: params.required("Country"), messagingServiceSid: params.required("MessagingServiceSid") };
      return { status: 201, body: presentConfiguration(service.sid, await c.gateway.services.createMessagingConfiguration(service.sid, input), c) };
    },
  },
  {
    method: "GET",
    path: base,
    handle: async (request, c) => {
      const service = await scopedService(c, request.path.ServiceSid);
      return listPage(request, c, "messaging_configurations", pageOf(service.messagingConfigurations), (m) => presentConfiguration(service.sid, m, c));
    },
  },
  {
    method: "GET",
    path: `${base}/{Country}`,
    handle: async ({ path }, c) => {
      const service = await scopedService(c, path.ServiceSid);
      return { status: 200, body: presentConfiguration(service.sid, findMessagingConfiguration(service.messagingConfigurations, path.Country), c) };
    },
  },
  {
    method: "POST",
    path: `${base}/{Country}`,
    handle: async ({ path, params }, c) => {
      const service = await scopedService(c, path.ServiceSid, "updateService");
      const updated = await c.gateway.services.updateMessagingConfiguration(service.sid, path.Country, { messagingServiceSid: params.required("MessagingServiceSid") });
      return { status: 200, body: presentConfiguration(service.sid, updated, c) };
    },
  },
  {
    method: "DELETE",
    path: `${base}/{Country}`,
    handle: async ({ path }, c) => {
      const service = await scopedService(c, path.ServiceSid, "updateService");
      await c.gateway.services.deleteMessagingConfiguration(service.sid, path.Country);
      return { status: 204 };
    },
  },
];
