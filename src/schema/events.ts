import { notFound } from "../domain/errors.js";
import type { VerifyEvent } from "../domain/types.js";
import { topics } from "../realtime/bus.js";
import { eventStream } from "../realtime/live.js";
import { requireServiceAccess } from "../server/auth.js";
import { builder } from "./builder.js";

const VerifyEventRef = builder.objectRef<VerifyEvent>("VerifyEvent").implement({
  description: "A domain event: the resource's new state in `data`",
  fields: (t) => ({
    id: t.exposeID("sid"),
    type: t.exposeString("type", { description: "e.g. verification.started, verification.approved, delivery.sent" }),
    serviceSid: t.exposeID("serviceSid"),
    resourceSid: t.exposeID("resourceSid"),
    occurredAt: t.field({ type: "DateTime", resolve: (e) => e.occurredAt }),
    data: t.field({ type: "JSON", resolve: (e) => e.data }),
  }),
});

builder.subscriptionFields((t) => ({
  serviceEvents: t.field({
    type: VerifyEventRef,
    description: "Every domain event of a service, as it commits; admin or that service's key",
    args: { serviceSid: t.arg.id({ required: true }) },
    subscribe: async (_, { serviceSid }, { principal, gateway }) => {
      if (requireServiceAccess(principal, serviceSid) === "out-of-scope" || !(await gateway.services.get(serviceSid))) {
        throw notFound("Service");
      }
      return eventStream(gateway.bus, topics.service(serviceSid));
    },
    resolve: (event) => event,
  }),
}));
