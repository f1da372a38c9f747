import { invalidParameter, notFound } from "../domain/errors.js";
import type { VerifyEvent } from "../domain/types.js";
import { topics } from "../realtime/bus.js";
import { eventStream } from "../realtime/live.js";
import { authorize, inScope, serviceScope } from "../domain/access/rules.js";
import { builder } from "./builder.js";
import { connection, pageSize, pagingArgs } from "./connection.js";

const VerifyEventRef = builder.objectRef<VerifyEvent>("VerifyEvent").implement({
  description: "A domain event: the resource's new state in `data`",
  fields: (t) => ({
    id: t.exposeID("sid", { description: "The event sid (EV…); also the webhook-id header of its webhook deliveries" }),
    type: t.exposeString("type", { description: "e.g. verification.started, verification.approved, delivery.sent" }),
    serviceSid: t.exposeID("serviceSid", { description: "The service (VA…) the event belongs to" }),
    resourceSid: t.exposeID("resourceSid", { description: "The sid of the resource that changed: a verification (VE…), challenge (YC…), factor (YF…), service (VA…), API key (SK…) …" }),
    occurredAt: t.field({ type: "DateTime", description: "When the change committed", resolve: (e) => e.occurredAt }),
    data: t.field({ type: "JSON", description: "The resource's new state, as its GraphQL type shows it; never a code", resolve: (e) => e.data }),
  }),
});

/** The most events a `serviceEvents` subscription replays before the live ones. */
const MAX_REPLAY = 500;

const VerifyEventConnection = connection("VerifyEvent", VerifyEventRef);

builder.queryFields((t) => ({
  events: t.field({
    type: VerifyEventConnection,
    description:
      "The events of one resource (a verification VE…, challenge YC…, factor YF…, service VA…, API key SK…), oldest first: its history, as `serviceEvents` told it. Admin or a key of its service (other services' resources answer an empty page, as unknown sids do); client, access and device tokens: FORBIDDEN. Errors: INVALID_PARAMETER (first, after).",
    args: {
      resourceSid: t.arg.id({ required: true, description: "The resource whose events to read" }),
      first: t.arg.int({ description: pagingArgs.first }),
      after: t.arg.string({ description: pagingArgs.after }),
    },
    resolve: (_, args, { principal, gateway }) => {
      const first = pageSize(args.first);
      return gateway.records.events(String(args.resourceSid), serviceScope(authorize(principal, "events")), { first, after: args.after ?? null });
    },
  }),
}));

builder.subscriptionFields((t) => ({
  serviceEvents: t.field({
    type: VerifyEventRef,
    description:
      "Every domain event of a service, as it commits; with `replay`, its latest events first. Admin or a key of that service; client, access and device tokens: FORBIDDEN. Errors: NOT_FOUND (unknown or out-of-scope service), INVALID_PARAMETER (replay).",
    args: {
      serviceSid: t.arg.id({ required: true, description: "The service (VA…) to follow" }),
      replay: t.arg.int({
        description: `How many of the service's latest events to send first, oldest first (0–${MAX_REPLAY}; default 0): no event is missed or repeated between them and the live ones`,
      }),
    },
    subscribe: async (_, { serviceSid, replay }, { principal, gateway }) => {
      if (!inScope(authorize(principal, "serviceEvents"), serviceSid) || !(await gateway.services.get(serviceSid))) {
        throw notFound("Service");
      }
      const count = replay ?? 0;
      if (!Number.isInteger(count) || count < 0 || count > MAX_REPLAY) throw invalidParameter("replay", `Invalid parameter \`replay\`: between 0 and ${MAX_REPLAY}.`);
      return eventStream(gateway.bus, topics.service(serviceSid), count > 0 ? () => gateway.records.recentEvents(serviceSid, count) : undefined);
    },
    resolve: (event) => event,
  }),
}));
