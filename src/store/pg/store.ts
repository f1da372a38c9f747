import { and, asc, desc, eq, gt, inArray, isNull, lt, lte, ne, notExists, sql } from "drizzle-orm";
import { type NodePgDatabase, drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";
import { newSid } from "../../domain/ids.js";
import { abandonedSend } from "../../domain/verification/abandoned.js";
import type { ChallengeFallback, ChallengeStatus, FactorType, Challenge, Entity, PasskeyCredential, ApiKey, AttemptChannel, DeliveryStatus, OutboxMessage, Service, ServiceSettings, Verification, VerificationStatus, VerifyEvent, FraudBlock, Webhook, WebhookDeliveryStatus, VerificationStats } from "../../domain/types.js";
import { decodeCursor } from "../cursor.js";
import type { AttemptClaim, ChallengeFailure, FactorFailure, ChallengeRecord, ChallengeResponse, FactorRecord, NewFactor, CheckJudge, CheckOutcome, CheckRequest, DeliveryContext, DeliveryReceipt, DeliveryResult, OutboxJob, PageRequest, SnaResult, StartOutcome, StartPlan, StatusChange, StatusOutcome, Store, VerificationFilter, AttemptFilter, PrefixTrafficQuery, StatsFilter, WebhookAttemptResult, WebhookJob, WebhookPatch } from "../port.js";
import { wantsEvent, type FactorRow, publicChallenge, publicFactor, toChallengeRecord, toFactorRecord, type AttemptRow, type VerificationRow, fromService, fromSettings, pageOf, toApiKey, toService, toVerification, toDeliveryContext, toFraudBlock, toWebhook, toWebhookDelivery, toVerificationAttempt } from "../rows.js";
import * as t from "./schema.js";
import { SharedStore } from "../shared/store.js";
import { PgRunner } from "./runner.js";
import { RateLimiterPostgres, type RateLimiterAbstract } from "rate-limiter-flexible";
import { reportingUnavailable } from "./availability.js";

type Db = NodePgDatabase<typeof t>;
type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
type Q = Db | Tx;
type EventDraft = { type: string; serviceSid: string; resourceSid: string; data: object; now: number };

/**
 * The PostgreSQL store, for several gateway instances on one database. Same port, same rules as the
 * SQLite store; what SQLite gets from one writer, this gets from row locks (`FOR UPDATE`), conditional
 * updates, an advisory lock per (service, to) for the send cap, and `FOR UPDATE SKIP LOCKED` claims.
 */
export class PgStore extends SharedStore implements Store {
  protected readonly runner: PgRunner;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly db: Db,
    /** One connection of its own for /health and /ready: a pool busy with requests is not a database that is down. */
    private readonly probe: pg.Pool,
  ) {
    super();
    this.runner = new PgRunner(db, t, () => this.sink);
  }

  /**
   * `onConnectionError` hears every connection that PostgreSQL dropped or refused (a restart, a
   * `pg_terminate_backend`): the pool and each of its clients get a listener, because an `'error'` event
   * nobody listens to ends the process. Calls that fail that way answer SERVICE_UNAVAILABLE.
   */
  static async open(url: string, migrationsFolder: string, options: { searchPath?: string; poolSize?: number; onConnectionError?: (error: unknown) => void } = {}): Promise<PgStore> {
    const onConnectionError = options.onConnectionError ?? (() => {});
    const connect = (max: number) => {
      const created = new pg.Pool({
        connectionString: url,
        max,
        // A database that does not answer at all fails the request after 5 s instead of holding it forever.
        connectionTimeoutMillis: 5000,
        keepAlive: true,
        ...(options.searchPath ? { options: `-c search_path=${options.searchPath}` } : {}),
      });
      // An idle client's error reaches the pool; a checked-out client's error reaches only the client.
      created.on("error", onConnectionError);
      created.on("connect", (client) => client.on("error", onConnectionError));
      return created;
    };
    const pool = connect(options.poolSize ?? 10);
    const db = drizzle(pool, { schema: t });
    // One instance migrates at a time; the others wait on the same advisory lock and find nothing to do.
    const client = await pool.connect();
    try {
      await client.query("select pg_advisory_lock(727274)");
      await migrate(drizzle(client, { schema: t }), { migrationsFolder, migrationsSchema: options.searchPath ?? "drizzle" });
    } finally {
      await client.query("select pg_advisory_unlock(727274)").catch(() => {});
      client.release();
    }
    return reportingUnavailable(new PgStore(pool, db, connect(1)), onConnectionError);
  }

  private closed = false;

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([this.pool.end(), this.probe.end()]);
  }

  private async event(q: Q, draft: EventDraft): Promise<VerifyEvent> {
    const event: VerifyEvent = { sid: newSid("EV"), type: draft.type, serviceSid: draft.serviceSid, resourceSid: draft.resourceSid, occurredAt: draft.now, data: draft.data as Record<string, unknown> };
    await q.insert(t.events).values({ ...event, data: JSON.stringify(event.data) });
    await this.enqueueWebhooks(q, event);
    return event;
  }

  /** Each enabled webhook that wants this event gets a delivery and an outbox job, in the event's transaction. */
  private async enqueueWebhooks(q: Q, event: VerifyEvent): Promise<void> {
    const w = t.webhooks;
    const hooks = await q.select({ sid: w.sid, eventTypes: w.eventTypes }).from(w).where(and(eq(w.serviceSid, event.serviceSid), eq(w.enabled, true)));
    const wanted = hooks.filter((hook) => wantsEvent(JSON.parse(hook.eventTypes) as string[], event.type));
    if (wanted.length === 0) return;
    const deliveries = await q
      .insert(t.webhookDeliveries)
      .values(wanted.map((hook) => ({ webhookSid: hook.sid, serviceSid: event.serviceSid, eventSid: event.sid, eventType: event.type, status: "PENDING", dateCreated: event.occurredAt, dateUpdated: event.occurredAt })))
      .returning({ seq: t.webhookDeliveries.seq });
    await q.insert(t.outbox).values(deliveries.map((d) => ({ kind: "webhook", refSid: String(d.seq), runAt: event.occurredAt, createdAt: event.occurredAt })));
  }

  private async view(q: Q, row: VerificationRow): Promise<Verification> {
    const attempts = await q.select().from(t.sendAttempts).where(eq(t.sendAttempts.verificationSid, row.sid)).orderBy(asc(t.sendAttempts.seq));
    return toVerification(row, attempts);
  }

  private async verificationEvent(q: Q, type: string, row: VerificationRow, now: number) {
    const verification = await this.view(q, row);
    return { verification, event: await this.event(q, { type, serviceSid: row.serviceSid, resourceSid: row.sid, data: verification, now }) };
  }

  private async locked(q: Q, sid: string): Promise<VerificationRow | undefined> {
    const [row] = await q.select().from(t.verifications).where(eq(t.verifications.sid, sid)).for("update");
    return row;
  }

  private async settle(q: Q, sid: string, status: string, now: number): Promise<VerificationRow | undefined> {
    const v = t.verifications;
    const [row] = await q
      .update(v)
      .set({ status, codeSealed: null, version: sql`${v.version} + 1`, dateUpdated: now })
      .where(and(eq(v.sid, sid), eq(v.status, "PENDING")))
      .returning();
    return row;
  }

  async ping(): Promise<void> {
    await this.probe.query("select 1");
  }

  async startVerification(plan: StartPlan): Promise<StartOutcome> {
    return this.db.transaction(async (tx): Promise<StartOutcome> => {
      // Starts for one recipient are serialised across instances, so the send cap and the reuse of a
      // pending verification hold exactly.
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`${plan.serviceSid}:${plan.to}`}))`);
      const a = t.sendAttempts;
      const [{ n }] = await tx
        .select({ n: sql<number>`count(*)::int` })
        .from(a)
        .where(and(eq(a.serviceSid, plan.serviceSid), eq(a.to, plan.to), gt(a.time, plan.sendWindowStart)));
      if (n >= plan.maxSendAttempts) return { ok: false, reason: "MAX_SEND_ATTEMPTS_REACHED" };
      const v = t.verifications;
      let [pending]: (VerificationRow | undefined)[] = await tx
        .select()
        .from(v)
        .where(and(eq(v.serviceSid, plan.serviceSid), eq(v.to, plan.to), eq(v.status, "PENDING"), gt(v.expiresAt, plan.now)))
        .orderBy(desc(v.seq))
        .limit(1)
        .for("update");
      const events: VerifyEvent[] = [];
      if (pending && !plan.resends(pending)) {
        const canceled = (await this.settle(tx, pending.sid, "CANCELED", plan.now)) as VerificationRow;
        events.push((await this.verificationEvent(tx, "verification.canceled", canceled, plan.now)).event);
        pending = undefined;
      }
      const { fresh } = plan;
      const [row] = pending
        ? await tx.update(v).set({ channel: plan.channel, version: sql`${v.version} + 1`, dateUpdated: plan.now }).where(eq(v.sid, pending.sid)).returning()
        : await tx
            .insert(v)
            .values({
              ...fresh,
              serviceSid: plan.serviceSid,
              to: plan.to,
              channel: plan.channel,
              status: "PENDING",
              lookup: fresh.lookup ? JSON.stringify(fresh.lookup) : null,
              tags: fresh.tags ? JSON.stringify(fresh.tags) : null,
              dateCreated: plan.now,
              dateUpdated: plan.now,
            })
            .returning();
      await tx.insert(a).values({ sid: plan.attemptSid, verificationSid: row.sid, serviceSid: plan.serviceSid, to: plan.to, channel: plan.attemptChannel, status: plan.sna ? "SENT" : "QUEUED", time: plan.now });
      let current = row;
      if (plan.sna) {
        const sna = plan.sna;
        await tx.insert(t.snaSessions).values({ tokenHash: sna.tokenHash, verificationSid: row.sid, attemptSid: plan.attemptSid, expiresAt: row.expiresAt });
        if (sna.fallbackAt !== null) await tx.insert(t.outbox).values({ kind: "sna_fallback", refSid: row.sid, runAt: sna.fallbackAt, createdAt: plan.now });
        [current] = await tx
          .update(v)
          .set({ snaState: "awaiting", snaErrorCodes: sql`coalesce(${v.snaErrorCodes}, '[]')`, snaClientTokenRequired: sna.clientTokenRequired, autoFallback: sna.fallbackAt !== null })
          .where(eq(v.sid, row.sid))
          .returning();
      } else {
        await tx.insert(t.outbox).values({ kind: "delivery", refSid: plan.attemptSid, runAt: plan.now, createdAt: plan.now });
      }
      const { verification, event } = await this.verificationEvent(tx, pending ? "verification.resent" : "verification.started", current, plan.now);
      events.push(event);
      return { ok: true, verification, created: !pending, events };
    });
  }

  async checkVerification(request: CheckRequest, judge: CheckJudge): Promise<CheckOutcome> {
    return this.db.transaction(async (tx): Promise<CheckOutcome> => {
      const v = t.verifications;
      const [found] = request.sid
        ? await tx.select().from(v).where(eq(v.sid, request.sid)).for("update")
        : await tx
            .select()
            .from(v)
            .where(and(eq(v.serviceSid, request.serviceSid), eq(v.to, request.to ?? "")))
            .orderBy(desc(v.seq))
            .limit(1)
            .for("update");
      if (!found || found.serviceSid !== request.serviceSid) return { ok: false, reason: "NOT_FOUND", events: [] };
      if (found.status === "APPROVED" && found.channel === "SNA" && request.acceptApprovedSna && found.expiresAt > request.now) {
        return { ok: true, verification: await this.view(tx, found), valid: true, events: [] };
      }
      if (found.status !== "PENDING") return { ok: false, reason: found.status as VerificationStatus, events: [] };
      if (found.expiresAt <= request.now) return this.expireOne(tx, found.sid, request.now);
      const verdict = judge(found);
      if (typeof verdict === "object") {
        if (verdict.notYet === null) return { ok: true, verification: await this.view(tx, found), valid: false, events: [] };
        const row = await this.appendSnaError(tx, found.sid, verdict.notYet, request.now);
        const { verification, event } = await this.verificationEvent(tx, "verification.sna_pending", row, request.now);
        return { ok: true, verification, valid: false, events: [event] };
      }
      // The same conditional claim as the embedded store; the row lock above already serialises checks.
      const [claimed] = await tx
        .update(v)
        .set({ checkAttempts: sql`${v.checkAttempts} + 1` })
        .where(and(eq(v.sid, found.sid), eq(v.status, "PENDING"), lt(v.checkAttempts, v.maxCheckAttempts), gt(v.expiresAt, request.now)))
        .returning();
      if (!claimed) return { ok: false, reason: "MAX_ATTEMPTS_REACHED", events: [] };
      const valid = verdict;
      const finalStatus = valid ? "APPROVED" : claimed.checkAttempts >= claimed.maxCheckAttempts ? "MAX_ATTEMPTS_REACHED" : null;
      if (!finalStatus) {
        const { verification, event } = await this.verificationEvent(tx, "verification.check_failed", claimed, request.now);
        return { ok: true, verification, valid: false, events: [event] };
      }
      const settled = (await this.settle(tx, claimed.sid, finalStatus, request.now)) as VerificationRow;
      const { verification, event } = await this.verificationEvent(tx, valid ? "verification.approved" : "verification.max_attempts_reached", settled, request.now);
      return { ok: true, verification, valid, events: [event] };
    });
  }

  private async expireOne(q: Q, sid: string, now: number): Promise<CheckOutcome & StatusOutcome> {
    const row = await this.settle(q, sid, "EXPIRED", now);
    const events = row ? [(await this.verificationEvent(q, "verification.expired", row, now)).event] : [];
    return { ok: false, reason: "EXPIRED", events };
  }

  async setVerificationStatus(change: StatusChange): Promise<StatusOutcome> {
    return this.db.transaction(async (tx): Promise<StatusOutcome> => {
      const found = await this.locked(tx, change.sid);
      if (!found || (change.serviceSid && found.serviceSid !== change.serviceSid)) return { ok: false, reason: "NOT_FOUND", events: [] };
      if (found.status !== "PENDING") return { ok: false, reason: found.status as VerificationStatus, events: [] };
      if (found.expiresAt <= change.now) return this.expireOne(tx, found.sid, change.now);
      const row = (await this.settle(tx, found.sid, change.status, change.now)) as VerificationRow;
      const { verification, event } = await this.verificationEvent(tx, `verification.${change.status.toLowerCase()}`, row, change.now);
      return { ok: true, verification, events: [event] };
    });
  }

  async expireDue(now: number, limit: number): Promise<VerifyEvent[]> {
    return this.db.transaction(async (tx) => {
      const v = t.verifications;
      // Several instances sweep at once: each takes the rows nobody else holds.
      const due = await tx.select({ sid: v.sid }).from(v).where(and(eq(v.status, "PENDING"), lte(v.expiresAt, now))).limit(limit).for("update", { skipLocked: true });
      const events: VerifyEvent[] = [];
      for (const { sid } of due) events.push(...(await this.expireOne(tx, sid, now)).events);
      return events;
    });
  }

  private async appendSnaError(q: Q, sid: string, code: number, now: number, changes: Partial<typeof t.verifications.$inferInsert> = {}): Promise<VerificationRow> {
    const v = t.verifications;
    const [row] = await q
      .update(v)
      .set({ ...changes, snaErrorCodes: sql`(coalesce(${v.snaErrorCodes}, '[]')::jsonb || to_jsonb(${code}::int))::text`, version: sql`${v.version} + 1`, dateUpdated: now })
      .where(eq(v.sid, sid))
      .returning();
    return row;
  }

  async openSnaSession(tokenHash: string, now: number) {
    return this.db.transaction(async (tx) => {
      const s = t.snaSessions;
      const [session] = await tx.select().from(s).where(eq(s.tokenHash, tokenHash));
      if (!session) return null;
      const [claimed] = await tx.update(s).set({ openedAt: now }).where(and(eq(s.tokenHash, tokenHash), isNull(s.openedAt), gt(s.expiresAt, now))).returning();
      const row = claimed && (await this.locked(tx, claimed.verificationSid));
      if (!row || row.status !== "PENDING" || row.channel !== "SNA") return "gone" as const;
      return { verificationSid: row.sid, attemptSid: session.attemptSid, to: row.to, clientTokenRequired: row.snaClientTokenRequired, autoFallback: row.autoFallback };
    });
  }

  async recordSnaResult(result: SnaResult): Promise<VerifyEvent[]> {
    return this.db.transaction(async (tx) => {
      const found = await this.locked(tx, result.verificationSid);
      if (!found || found.status !== "PENDING") return [];
      const { errorCode, now } = result;
      if (found.channel !== "SNA" || found.snaState !== "awaiting") {
        // AUTO already fell back (the timeout won the race): the late result only completes its attempt.
        await tx.update(t.sendAttempts).set({ status: errorCode === null ? "DELIVERED" : "UNDELIVERED", errorCode: errorCode === null ? null : String(errorCode) }).where(eq(t.sendAttempts.sid, result.attemptSid));
        return [];
      }
      await tx.delete(t.outbox).where(and(eq(t.outbox.kind, "sna_fallback"), eq(t.outbox.refSid, found.sid)));
      await tx
        .update(t.sendAttempts)
        .set({ status: errorCode === null ? "DELIVERED" : "UNDELIVERED", errorCode: errorCode === null ? null : String(errorCode) })
        .where(eq(t.sendAttempts.sid, result.attemptSid));
      const v = t.verifications;
      if (errorCode === null && !result.clientTokenHash) {
        await tx.update(v).set({ snaState: "confirmed" }).where(eq(v.sid, found.sid));
        const approved = (await this.settle(tx, found.sid, "APPROVED", now)) as VerificationRow;
        return [(await this.verificationEvent(tx, "verification.approved", approved, now)).event];
      }
      if (errorCode === null) {
        const [row] = await tx
          .update(v)
          .set({ snaState: "confirmed", snaClientTokenHash: result.clientTokenHash, version: sql`${v.version} + 1`, dateUpdated: now })
          .where(eq(v.sid, found.sid))
          .returning();
        return [(await this.verificationEvent(tx, "verification.sna_confirmed", row, now)).event];
      }
      const failed = await this.appendSnaError(tx, found.sid, errorCode, now, { snaState: "failed" });
      if (!result.fallbackAttemptSid) return [(await this.verificationEvent(tx, "verification.sna_failed", failed, now)).event];
      return [await this.fallBackToSms(tx, failed, result.fallbackAttemptSid, now)];
    });
  }

  private async fallBackToSms(q: Q, row: VerificationRow, attemptSid: string, now: number): Promise<VerifyEvent> {
    await q.insert(t.sendAttempts).values({ sid: attemptSid, verificationSid: row.sid, serviceSid: row.serviceSid, to: row.to, channel: "SMS", status: "QUEUED", time: now });
    await q.insert(t.outbox).values({ kind: "delivery", refSid: attemptSid, runAt: now, createdAt: now });
    const v = t.verifications;
    const [switched] = await q.update(v).set({ channel: "SMS", version: sql`${v.version} + 1`, dateUpdated: now }).where(eq(v.sid, row.sid)).returning();
    return (await this.verificationEvent(q, "verification.fallback", switched, now)).event;
  }

  async snaTimedOut(jobId: number, verificationSid: string, fallbackAttemptSid: string, now: number): Promise<VerifyEvent[]> {
    return this.db.transaction(async (tx) => {
      await tx.delete(t.outbox).where(eq(t.outbox.id, jobId));
      const found = await this.locked(tx, verificationSid);
      if (!found || found.status !== "PENDING" || found.channel !== "SNA" || found.snaState !== "awaiting") return [];
      const a = t.sendAttempts;
      await tx
        .update(a)
        .set({ status: "UNDELIVERED", errorCode: "60519" })
        .where(and(eq(a.verificationSid, verificationSid), eq(a.channel, "SNA"), eq(a.status, "SENT")));
      const failed = await this.appendSnaError(tx, verificationSid, 60519, now, { snaState: "failed" });
      return [await this.fallBackToSms(tx, failed, fallbackAttemptSid, now)];
    });
  }

  async getVerification(sid: string): Promise<Verification | null> {
    const [row] = await this.db.select().from(t.verifications).where(eq(t.verifications.sid, sid));
    return row ? this.view(this.db, row) : null;
  }

  async listVerifications(serviceSid: string, filter: VerificationFilter, page: PageRequest) {
    const v = t.verifications;
    const rows = await this.db
      .select()
      .from(v)
      .where(
        and(
          eq(v.serviceSid, serviceSid),
          lt(v.seq, decodeCursor(page.after) || Number.MAX_SAFE_INTEGER),
          filter.status ? eq(v.status, filter.status) : undefined,
          filter.to ? eq(v.to, filter.to) : undefined,
          filter.channel ? eq(v.channel, filter.channel) : undefined,
        ),
      )
      .orderBy(desc(v.seq))
      .limit(page.first + 1);
    const views = await Promise.all(rows.map((row) => this.view(this.db, row)));
    return pageOf(rows.map((row, i) => ({ ...row, view: views[i] })), page.first, (row) => row.view);
  }

  async deliveryContext(attemptSid: string): Promise<DeliveryContext | null> {
    const [attempt] = await this.db.select().from(t.sendAttempts).where(eq(t.sendAttempts.sid, attemptSid));
    if (!attempt) return null;
    const [row] = await this.db.select().from(t.verifications).where(eq(t.verifications.sid, attempt.verificationSid));
    const [service] = row ? await this.db.select().from(t.services).where(eq(t.services.sid, row.serviceSid)) : [];
    if (!row || !service) return null;
    return toDeliveryContext(row, attempt, toService(service));
  }

  async recordDelivery(result: DeliveryResult): Promise<VerifyEvent | null> {
    return this.db.transaction(async (tx) => {
      await tx.delete(t.outbox).where(eq(t.outbox.id, result.jobId));
      const [attempt] = await tx
        .update(t.sendAttempts)
        .set({ status: result.status, providerMessageId: result.providerMessageId, errorCode: result.errorCode, ...(result.channel ? { channel: result.channel } : {}) })
        .where(eq(t.sendAttempts.sid, result.attemptSid))
        .returning();
      return attempt ? this.attemptChanged(tx, attempt, result.status, result.now) : null;
    });
  }

  async recordReceipt(receipt: DeliveryReceipt): Promise<VerifyEvent | null> {
    return this.db.transaction(async (tx) => {
      const a = t.sendAttempts;
      const [attempt] = await tx
        .update(a)
        .set({ status: receipt.status, errorCode: receipt.errorCode })
        .where(and(eq(a.providerMessageId, receipt.providerMessageId), inArray(a.status, ["QUEUED", "SENT"])))
        .returning();
      return attempt ? this.attemptChanged(tx, attempt, receipt.status, receipt.now) : null;
    });
  }

  private async attemptChanged(q: Q, attempt: AttemptRow, status: DeliveryStatus, now: number): Promise<VerifyEvent> {
    const v = t.verifications;
    const [row] = await q.update(v).set({ version: sql`${v.version} + 1`, dateUpdated: now }).where(eq(v.sid, attempt.verificationSid)).returning();
    return (await this.verificationEvent(q, `delivery.${status.toLowerCase()}`, row, now)).event;
  }

  async settleAbandonedAttempts(now: number, limit: number): Promise<VerifyEvent[]> {
    return this.db.transaction(async (tx) => {
      const a = t.sendAttempts;
      const v = t.verifications;
      const o = t.outbox;
      // SKIP LOCKED: instances starting together settle each attempt once.
      const orphans = await tx
        .select({ sid: a.sid, verificationStatus: v.status })
        .from(a)
        .innerJoin(v, eq(v.sid, a.verificationSid))
        .where(and(eq(a.status, "QUEUED"), ne(v.status, "PENDING"), notExists(tx.select({ id: o.id }).from(o).where(and(eq(o.kind, "delivery"), eq(o.refSid, a.sid))))))
        .limit(limit)
        .for("update", { of: a, skipLocked: true });
      const events: VerifyEvent[] = [];
      for (const orphan of orphans) {
        const settled = abandonedSend(orphan.verificationStatus as VerificationStatus);
        const [attempt] = await tx.update(a).set({ status: settled.status, errorCode: settled.errorCode, providerMessageId: null }).where(eq(a.sid, orphan.sid)).returning();
        events.push(await this.attemptChanged(tx, attempt, settled.status, now));
      }
      return events;
    });
  }


  rateLimiter(options: { points: number; duration: number; keyPrefix: string }): RateLimiterAbstract {
    return new RateLimiterPostgres({ ...options, storeClient: this.pool, tableName: "rate_limits", tableCreated: true });
  }

}
