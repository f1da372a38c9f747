import { newDeliveryStatus, wantsEvent } from "../../domain/webhook/delivery.js";
import { and, eq, sql } from "drizzle-orm";
import type { VerifyEvent } from "../../domain/types.js";
import type { Step } from "../../domain/unit.js";
import { type Pending, type Q, chain, published, statement } from "./ops.js";

const p = sql.placeholder;

export const insertEvent = statement("event_insert", ({ db, t }) =>
  db.insert(t.events).values({ sid: p("sid"), type: p("type"), serviceSid: p("serviceSid"), resourceSid: p("resourceSid"), occurredAt: p("occurredAt"), data: p("data") }),
);
const webhooksOf = statement("webhooks_enabled", ({ db, t }) =>
  db
    .select({ sid: t.webhooks.sid, eventTypes: t.webhooks.eventTypes })
    .from(t.webhooks)
    .where(and(eq(t.webhooks.serviceSid, p("serviceSid")), eq(t.webhooks.enabled, true))),
);
export const insertWebhookDelivery = statement("webhook_delivery_insert", ({ db, t }) =>
  db
    .insert(t.webhookDeliveries)
    .values({ webhookSid: p("webhookSid"), serviceSid: p("serviceSid"), eventSid: p("eventSid"), eventType: p("eventType"), status: newDeliveryStatus, dateCreated: p("now"), dateUpdated: p("now") })
    .returning({ seq: t.webhookDeliveries.seq }),
);
export const insertJob = statement("outbox_insert", ({ db, t }) => db.insert(t.outbox).values({ kind: p("kind"), refSid: p("refSid"), runAt: p("runAt"), createdAt: p("now") }));

/** Hot read the sqlite plans test checks (webhooks are read on every event). */
export const recordStatements = { webhooksOf };

/**
 * Writes one event (made by the domain: domain/events.ts and the state machines) in the unit's transaction, with a delivery and an outbox job for each enabled webhook
 * that wants it, and hands it to the runner to publish after commit. `before`: writes of the unit that
 * go with it (PostgreSQL sends them, the event and the webhook lookup as one statement).
 */
export function* record(event: VerifyEvent, before: Pending[] = []): Step<VerifyEvent> {
  const { type, serviceSid, occurredAt: now } = event;
  // The event and the read of the service's webhooks are one round trip on PostgreSQL (the read does not
  // see the event: it reads another table).
  const hooks = yield* chain([...before, { statement: insertEvent, params: { ...event, data: JSON.stringify(event.data) } }], webhooksOf, { serviceSid });
  for (const hook of hooks) {
    if (!wantsEvent(JSON.parse(hook.eventTypes) as string[], type)) continue;
    const delivery = yield* insertWebhookDelivery.get({ webhookSid: hook.sid, serviceSid, eventSid: event.sid, eventType: type, now });
    yield* insertJob.run({ kind: "webhook", refSid: String(delivery?.seq), runAt: now, now });
  }
  yield* published(event);
  return event;
}

export type { Q };
