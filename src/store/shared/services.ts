import { and, asc, desc, eq, gt, inArray, ne, or, sql } from "drizzle-orm";
import { lifeEvents } from "../../domain/events.js";
import type { ApiKey, AttemptChannel, OutboxMessage, Page, Service, ServiceSettings, VerifyEvent } from "../../domain/types.js";
import type { Step } from "../../domain/unit.js";
import { decodeCursor } from "../cursor.js";
import type { PageRequest } from "../port.js";
import { fromService, fromSettings, pageOf, toApiKey, toService } from "../rows.js";
import { type Q, all, get, run, statement } from "./ops.js";
import { record } from "./record.js";

const p = sql.placeholder;

const toEvent = ({ seq: _seq, ...e }: { seq: number; sid: string; type: string; serviceSid: string; resourceSid: string; occurredAt: number; data: string }): VerifyEvent => ({
  ...e,
  data: JSON.parse(e.data),
});

export const serviceBySid = statement("service_by_sid", ({ db, t }) =>
  db
    .select()
    .from(t.services)
    .where(eq(t.services.sid, p("sid"))),
);
const insertDevMessage = statement("dev_message_insert", ({ db, t }) =>
  db
    .insert(t.devOutbox)
    .values({ to: p("to"), channel: p("channel"), body: p("body"), code: p("code"), verificationSid: p("verificationSid"), attemptSid: p("attemptSid"), createdAt: p("createdAt") }),
);

/** Settings, services, API keys, the event log and the dev outbox: written once for both dialects. */
export const services = {
  *getSetting({ db, t }: Q, key: string): Step<string | null> {
    return (yield* get(db.select().from(t.settings).where(eq(t.settings.key, key))))?.value ?? null;
  },

  *initSetting(q: Q, key: string, value: string): Step<string> {
    yield* run(q.db.insert(q.t.settings).values({ key, value }).onConflictDoNothing());
    return (yield* services.getSetting(q, key)) as string;
  },

  /** Sets the value only if the key is absent; true when it was absent. */
  *addSetting({ db, t }: Q, key: string, value: string): Step<boolean> {
    const rows = yield* all(db.insert(t.settings).values({ key, value }).onConflictDoNothing().returning({ key: t.settings.key }));
    return rows.length > 0;
  },

  /** true when the key was there. */
  *deleteSetting({ db, t }: Q, key: string): Step<boolean> {
    const rows = yield* all(db.delete(t.settings).where(eq(t.settings.key, key)).returning({ key: t.settings.key }));
    return rows.length > 0;
  },

  *create({ db, t }: Q, service: Service): Step<VerifyEvent> {
    yield* run(db.insert(t.services).values(fromService(service)));
    return yield* record(lifeEvents.serviceCreated(service));
  },

  *update({ db, t }: Q, sid: string, change: (current: Service) => Partial<ServiceSettings>, now: number): Step<{ service: Service; event: VerifyEvent } | null> {
    const current = yield* get(db.select().from(t.services).where(eq(t.services.sid, sid)), {});
    if (!current) return null;
    const patch = change(toService(current));
    const row = yield* get(
      db
        .update(t.services)
        .set({ ...fromSettings(patch), dateUpdated: now })
        .where(eq(t.services.sid, sid))
        .returning(),
    );
    if (!row) return null;
    const service = toService(row);
    return { service, event: yield* record(lifeEvents.serviceUpdated(service, now)) };
  },

  /**
   * Removes a service and what belongs to it alone: its API keys (each recorded as revoked, so streams
   * opened with one end), webhooks with their deliveries and pending webhook jobs, templates, entities
   * with their factors (secrets) and challenges and those challenges' jobs. Its pending verifications
   * are canceled (a send still queued settles as abandoned; a check finds no service). The history stays:
   * verifications, send attempts (Twilio's Attempts are the account's), events, Fraud Guard blocks.
   * The `service.deleted` event is recorded last, once no webhook is left to deliver it. A delivery that
   * an event's transaction wrote while this one ran (it read the webhook before the delete committed) is
   * canceled by the courier, which finds its webhook gone.
   */
  *delete(q: Q, sid: string, now: number): Step<{ service: Service; events: VerifyEvent[] } | null> {
    const { db, t } = q;
    const current = yield* get(db.select().from(t.services).where(eq(t.services.sid, sid)), {});
    if (!current) return null;
    const service = toService(current);
    const events: VerifyEvent[] = [];
    const keys = yield* all(db.delete(t.apiKeys).where(eq(t.apiKeys.serviceSid, sid)).returning());
    for (const key of keys) if (key.revokedAt === null) events.push(yield* record(lifeEvents.apiKeyRevoked(toApiKey({ ...key, revokedAt: now }), now)));
    // Row locks in the order every other unit takes them (PostgreSQL; the other orders deadlock): a
    // webhook before its deliveries (deleteWebhook), a delivery before its job (the courier recording a
    // try), a challenge before its jobs; rows of one table in key order, jobs by id (the lease heartbeat).
    const w = t.webhooks;
    const d = t.webhookDeliveries;
    const c = t.challenges;
    const o = t.outbox;
    yield* all(db.select({ sid: w.sid }).from(w).where(eq(w.serviceSid, sid)).orderBy(asc(w.sid)), {});
    yield* all(db.select({ seq: d.seq }).from(d).where(eq(d.serviceSid, sid)).orderBy(asc(d.seq)), {});
    yield* all(db.select({ sid: c.sid }).from(c).where(eq(c.serviceSid, sid)).orderBy(asc(c.sid)), {});
    const deliveries = db
      .select({ ref: sql<string>`cast(${d.seq} as text)` })
      .from(d)
      .where(eq(d.serviceSid, sid));
    const challenges = db.select({ sid: c.sid }).from(c).where(eq(c.serviceSid, sid));
    const jobs = or(and(eq(o.kind, "webhook"), inArray(o.refSid, deliveries)), and(ne(o.kind, "webhook"), inArray(o.refSid, challenges)));
    yield* all(db.select({ id: o.id }).from(o).where(jobs).orderBy(asc(o.id)), {});
    yield* run(db.delete(o).where(jobs));
    yield* run(db.delete(d).where(eq(d.serviceSid, sid)));
    yield* run(db.delete(w).where(eq(w.serviceSid, sid)));
    yield* run(db.delete(t.templates).where(eq(t.templates.serviceSid, sid)));
    yield* run(db.delete(c).where(eq(c.serviceSid, sid)));
    // An entity before its factors, as a factor's creation and deleteEntity lock them: a factor being
    // created now is in (and deleted below) or finds its entity gone.
    yield* all(db.select({ sid: t.entities.sid }).from(t.entities).where(eq(t.entities.serviceSid, sid)).orderBy(asc(t.entities.sid)), {});
    yield* run(db.delete(t.factors).where(eq(t.factors.serviceSid, sid)));
    yield* run(db.delete(t.entities).where(eq(t.entities.serviceSid, sid)));
    yield* run(
      db
        .update(t.verifications)
        .set({ status: "CANCELED", dateUpdated: now })
        .where(and(eq(t.verifications.serviceSid, sid), eq(t.verifications.status, "PENDING"))),
    );
    yield* run(db.delete(t.services).where(eq(t.services.sid, sid)));
    events.push(yield* record(lifeEvents.serviceDeleted(service, now)));
    return { service, events };
  },

  *get(_q: Q, sid: string): Step<Service | null> {
    const row = yield* serviceBySid.get({ sid });
    return row ? toService(row) : null;
  },

  *list({ db, t }: Q, page: PageRequest) {
    const rows = yield* all(
      db
        .select()
        .from(t.services)
        .where(gt(t.services.seq, decodeCursor(page.after)))
        .orderBy(asc(t.services.seq))
        .limit(page.first + 1),
    );
    return pageOf(rows, page.first, toService);
  },

  *count({ db, t }: Q): Step<number> {
    return (yield* get(db.select({ n: sql<number>`cast(count(*) as integer)` }).from(t.services)))?.n ?? 0;
  },

  *createApiKey({ db, t }: Q, key: ApiKey, keyHash: string): Step<VerifyEvent> {
    yield* run(db.insert(t.apiKeys).values({ ...key, keyHash }));
    return yield* record(lifeEvents.apiKeyCreated(key));
  },

  *findApiKeyByHash({ db, t }: Q, keyHash: string): Step<ApiKey | null> {
    const row = yield* get(db.select().from(t.apiKeys).where(eq(t.apiKeys.keyHash, keyHash)));
    return row ? toApiKey(row) : null;
  },

  *revokeApiKey({ db, t }: Q, sid: string, serviceSid: string | null, now: number): Step<{ apiKey: ApiKey; event: VerifyEvent | null } | null> {
    const scope = serviceSid ? and(eq(t.apiKeys.sid, sid), eq(t.apiKeys.serviceSid, serviceSid)) : eq(t.apiKeys.sid, sid);
    const current = yield* get(db.select().from(t.apiKeys).where(scope), {});
    if (!current) return null;
    if (current.revokedAt !== null) return { apiKey: toApiKey(current), event: null };
    const row = yield* get(db.update(t.apiKeys).set({ revokedAt: now }).where(eq(t.apiKeys.sid, sid)).returning());
    const apiKey = toApiKey(row as typeof current);
    return { apiKey, event: yield* record(lifeEvents.apiKeyRevoked(apiKey, now)) };
  },

  *listApiKeys({ db, t }: Q, serviceSid: string): Step<ApiKey[]> {
    return (yield* all(db.select().from(t.apiKeys).where(eq(t.apiKeys.serviceSid, serviceSid)).orderBy(asc(t.apiKeys.seq)))).map(toApiKey);
  },

  *listEvents({ db, t }: Q, resourceSid: string): Step<VerifyEvent[]> {
    const rows = yield* all(db.select().from(t.events).where(eq(t.events.resourceSid, resourceSid)).orderBy(asc(t.events.seq)));
    return rows.map(toEvent);
  },

  /** A page of one resource's events, oldest first; `serviceSid` (when not null) keeps to that service's events. */
  *pageEvents({ db, t }: Q, resourceSid: string, serviceSid: string | null, page: PageRequest): Step<Page<VerifyEvent>> {
    const e = t.events;
    const rows = yield* all(
      db
        .select()
        .from(e)
        .where(and(eq(e.resourceSid, resourceSid), serviceSid ? eq(e.serviceSid, serviceSid) : undefined, gt(e.seq, decodeCursor(page.after))))
        .orderBy(asc(e.seq))
        .limit(page.first + 1),
    );
    return pageOf(rows, page.first, toEvent);
  },

  /** A service's last `limit` events, oldest first (the events_service index, read backwards). */
  *recentEvents({ db, t }: Q, serviceSid: string, limit: number): Step<VerifyEvent[]> {
    const e = t.events;
    const rows = yield* all(db.select().from(e).where(eq(e.serviceSid, serviceSid)).orderBy(desc(e.seq)).limit(limit));
    return rows.reverse().map(toEvent);
  },

  *addDevMessage(_q: Q, message: OutboxMessage): Step<void> {
    yield* insertDevMessage.run({ ...message });
  },

  *listDevMessages({ db, t }: Q, to: string | null, limit: number): Step<OutboxMessage[]> {
    const rows = yield* all(
      db
        .select()
        .from(t.devOutbox)
        .where(to ? eq(t.devOutbox.to, to) : undefined)
        .orderBy(desc(t.devOutbox.seq))
        .limit(limit),
    );
    return rows.map(({ seq: _seq, ...m }) => ({ ...m, channel: m.channel as AttemptChannel }));
  },
};
