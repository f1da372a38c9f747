import { and, asc, desc, eq, lt, sql } from "drizzle-orm";
import { lifeEvents } from "../../domain/events.js";
import type { VerifyEvent, Webhook, WebhookDelivery, WebhookDeliveryStatus } from "../../domain/types.js";
import type { Step } from "../../domain/unit.js";
import { newDeliveryStatus, webhookDeletion, webhookRetry, webhookRetryKeeps, webhookTry } from "../../domain/webhook/delivery.js";
import { decodeCursor } from "../cursor.js";
import type { PageRequest, WebhookAttemptResult, WebhookJob, WebhookPatch } from "../port.js";
import { pageOf, toWebhook, toWebhookDelivery } from "../rows.js";
import { type Q, all, get, published, run } from "./ops.js";
import { deleteJob } from "./outbox.js";
import { insertEvent, insertJob, insertWebhookDelivery, record } from "./record.js";

/** A service's webhooks and their deliveries: written once for both dialects. */
export const webhooks = {
  *create({ db, t }: Q, webhook: Webhook, secretSealed: string): Step<VerifyEvent> {
    yield* run(db.insert(t.webhooks).values({ ...webhook, eventTypes: JSON.stringify(webhook.eventTypes), secretSealed }));
    return yield* record(lifeEvents.webhookCreated(webhook));
  },

  *update({ db, t }: Q, sid: string, serviceSid: string | null, patch: WebhookPatch, now: number): Step<{ webhook: Webhook; event: VerifyEvent } | null> {
    const w = t.webhooks;
    const { eventTypes, ...rest } = patch;
    const changes = { ...rest, ...(eventTypes ? { eventTypes: JSON.stringify(eventTypes) } : {}), dateUpdated: now };
    const row = yield* get(
      db
        .update(w)
        .set(changes)
        .where(serviceSid ? and(eq(w.sid, sid), eq(w.serviceSid, serviceSid)) : eq(w.sid, sid))
        .returning(),
    );
    if (!row) return null;
    const webhook = toWebhook(row);
    return { webhook, event: yield* record(lifeEvents.webhookUpdated(webhook, now)) };
  },

  *delete({ db, t }: Q, sid: string, serviceSid: string | null, now: number): Step<{ webhook: Webhook; event: VerifyEvent } | null> {
    const w = t.webhooks;
    const row = yield* get(
      db
        .delete(w)
        .where(serviceSid ? and(eq(w.sid, sid), eq(w.serviceSid, serviceSid)) : eq(w.sid, sid))
        .returning(),
    );
    if (!row) return null;
    const d = t.webhookDeliveries;
    yield* run(
      db
        .update(d)
        .set({ status: webhookDeletion.to, dateUpdated: now })
        .where(and(eq(d.webhookSid, sid), eq(d.status, webhookDeletion.cancels))),
    );
    const webhook = toWebhook(row);
    return { webhook, event: yield* record(lifeEvents.webhookDeleted(webhook, now)) };
  },

  *get({ db, t }: Q, sid: string): Step<Webhook | null> {
    const row = yield* get(db.select().from(t.webhooks).where(eq(t.webhooks.sid, sid)));
    return row ? toWebhook(row) : null;
  },

  *list({ db, t }: Q, serviceSid: string): Step<Webhook[]> {
    return (yield* all(db.select().from(t.webhooks).where(eq(t.webhooks.serviceSid, serviceSid)).orderBy(asc(t.webhooks.seq)))).map(toWebhook);
  },

  *job({ db, t }: Q, deliveryId: number): Step<WebhookJob | null> {
    const delivery = yield* get(db.select().from(t.webhookDeliveries).where(eq(t.webhookDeliveries.seq, deliveryId)));
    if (!delivery) return null;
    const hook = yield* get(db.select().from(t.webhooks).where(eq(t.webhooks.sid, delivery.webhookSid)));
    const event = yield* get(db.select().from(t.events).where(eq(t.events.sid, delivery.eventSid)));
    if (!event) return null;
    const { seq: _seq, ...e } = event;
    return {
      delivery: toWebhookDelivery(delivery),
      webhook: hook ? { ...toWebhook(hook), secretSealed: hook.secretSealed } : null,
      event: { ...e, data: JSON.parse(e.data) },
    };
  },

  *recordAttempt({ db, t }: Q, result: WebhookAttemptResult): Step<void> {
    const d = t.webhookDeliveries;
    const next = webhookTry(result.outcome, result.now);
    const written = yield* all(
      db
        .update(d)
        .set({
          status: next.status,
          attempts: next.tried ? sql`${d.attempts} + 1` : d.attempts,
          ...(next.tried ? { lastStatusCode: result.statusCode, lastError: result.error } : {}),
          dateUpdated: result.now,
          deliveredAt: next.deliveredAt,
        })
        .where(next.rescheduled ? and(eq(d.seq, result.deliveryId), eq(d.status, webhookRetryKeeps)) : eq(d.seq, result.deliveryId))
        .returning({ seq: d.seq }),
    );
    if (next.rescheduled && written.length > 0) yield* run(db.update(t.outbox).set({ runAt: result.runAt, leaseUntil: null, lastError: result.error }).where(eq(t.outbox.id, result.jobId)));
    else yield* deleteJob.run({ id: result.jobId });
  },

  *listDeliveries({ db, t }: Q, webhookSid: string, status: WebhookDeliveryStatus | null, page: PageRequest) {
    const d = t.webhookDeliveries;
    const rows = yield* all(
      db
        .select()
        .from(d)
        .where(and(eq(d.webhookSid, webhookSid), lt(d.seq, decodeCursor(page.after) || Number.MAX_SAFE_INTEGER), status ? eq(d.status, status) : undefined))
        .orderBy(desc(d.seq))
        .limit(page.first + 1),
    );
    return pageOf(rows, page.first, toWebhookDelivery);
  },

  /**
   * testWebhook: a synthetic `webhook.test` event, written and published like any other, with a delivery
   * and an outbox job for this one webhook only (no other webhook receives it, whatever it subscribes to).
   */
  *test({ db, t }: Q, sid: string, serviceSid: string | null, now: number): Step<{ delivery: WebhookDelivery; event: VerifyEvent } | null> {
    const w = t.webhooks;
    const row = yield* get(
      db
        .select()
        .from(w)
        .where(serviceSid ? and(eq(w.sid, sid), eq(w.serviceSid, serviceSid)) : eq(w.sid, sid)),
    );
    if (!row) return null;
    const event = lifeEvents.webhookTest(toWebhook(row), now);
    yield* insertEvent.run({ ...event, data: JSON.stringify(event.data) });
    const inserted = yield* insertWebhookDelivery.get({ webhookSid: row.sid, serviceSid: row.serviceSid, eventSid: event.sid, eventType: event.type, now });
    const id = Number(inserted?.seq);
    yield* insertJob.run({ kind: "webhook", refSid: String(id), runAt: now, now });
    yield* published(event);
    const delivery: WebhookDelivery = {
      id,
      webhookSid: row.sid,
      serviceSid: row.serviceSid,
      eventSid: event.sid,
      eventType: event.type,
      status: newDeliveryStatus,
      attempts: 0,
      lastStatusCode: null,
      lastError: null,
      dateCreated: now,
      dateUpdated: now,
      deliveredAt: null,
    };
    return { delivery, event };
  },

  /**
   * retryWebhookDelivery: a FAILED delivery becomes PENDING with a new outbox job (its tries start again;
   * `attempts` keeps counting). Null when unknown or out of scope; a delivery in another status is returned
   * unchanged (`retried: false`) for the domain to refuse.
   */
  *retryDelivery({ db, t }: Q, id: number, serviceSid: string | null, now: number): Step<{ delivery: WebhookDelivery; retried: boolean } | null> {
    const d = t.webhookDeliveries;
    const scope = serviceSid ? and(eq(d.seq, id), eq(d.serviceSid, serviceSid)) : eq(d.seq, id);
    const updated = yield* get(
      db
        .update(d)
        .set({ status: webhookRetry.to, dateUpdated: now, deliveredAt: null })
        .where(and(scope, eq(d.status, webhookRetry.from)))
        .returning(),
    );
    if (updated) {
      yield* insertJob.run({ kind: "webhook", refSid: String(id), runAt: now, now });
      return { delivery: toWebhookDelivery(updated), retried: true };
    }
    const row = yield* get(db.select().from(d).where(scope));
    return row ? { delivery: toWebhookDelivery(row), retried: false } : null;
  },
};
