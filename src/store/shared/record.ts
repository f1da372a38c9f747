import { newDeliveryStatus } from "../../domain/webhook/delivery.js";
import { and, eq, sql } from "drizzle-orm";
import type { VerifyEvent } from "../../domain/types.js";
import type { Step } from "../../domain/unit.js";
import { wantsEvent } from "../rows.js";
import { type Q, published, statement } from "./ops.js";

const p = sql.placeholder;

const insertEvent = statement("event_insert", ({ db, t }) =>
  db.insert(t.events).values({ sid: p("sid"), type: p("type"), serviceSid: p("serviceSid"), resourceSid: p("resourceSid"), occurredAt: p("occurredAt"), data: p("data") }),
);
const webhooksOf = statement("webhooks_enabled", ({ db, t }) =>
  db
    .select({ sid: t.webhooks.sid, eventTypes: t.webhooks.eventTypes })
    .from(t.webhooks)
    .where(and(eq(t.webhooks.serviceSid, p("serviceSid")), eq(t.webhooks.enabled, true))),
);
const insertWebhookDelivery = statement("webhook_delivery_insert", ({ db, t }) =>
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
 * that wants it, and hands it to the runner to publish after commit.
 */
export function* record(event: VerifyEvent): Step<VerifyEvent> {
  const { type, serviceSid, occurredAt: now } = event;
  yield* insertEvent.run({ ...event, data: JSON.stringify(event.data) });
  for (const hook of yield* webhooksOf.all({ serviceSid })) {
    if (!wantsEvent(JSON.parse(hook.eventTypes) as string[], type)) continue;
    const delivery = yield* insertWebhookDelivery.get({ webhookSid: hook.sid, serviceSid, eventSid: event.sid, eventType: type, now });
    yield* insertJob.run({ kind: "webhook", refSid: String(delivery?.seq), runAt: now, now });
  }
  yield* published(event);
  return event;
}

export type { Q };
