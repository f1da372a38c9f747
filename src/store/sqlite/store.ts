import Database from "better-sqlite3";
import { and, asc, desc, eq, gt, inArray, isNull, lt, lte, ne, notExists, sql } from "drizzle-orm";
import { type BetterSQLite3Database, drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { newSid } from "../../domain/ids.js";
import { abandonedSend } from "../../domain/verification/abandoned.js";
import type { Challenge, Entity, PasskeyCredential, ApiKey, AttemptChannel, OutboxMessage, ChannelName, DeliveryStatus, Service, ServiceSettings, Verification, VerificationStatus, VerifyEvent, ChallengeFallback, ChallengeStatus, FactorType, FraudBlock, Webhook, WebhookDeliveryStatus, VerificationStats } from "../../domain/types.js";
import { decodeCursor } from "../cursor.js";
import { wantsEvent, type ChallengeRow, type FactorRow, publicChallenge, publicFactor, toChallengeRecord, toFactorRecord, type AttemptRow, type VerificationRow, fromService, fromSettings, pageOf, toApiKey, toService, toVerification, toDeliveryContext, type FraudBlockRow, toFraudBlock, toWebhook, toWebhookDelivery, toVerificationAttempt } from "../rows.js";
import type { AttemptClaim, ChallengeFailure, FactorFailure, ChallengeRecord, ChallengeResponse, FactorRecord, NewFactor, SnaResult, DeliveryReceipt, CheckJudge, CheckOutcome, CheckRequest, DeliveryContext, DeliveryResult, OutboxJob, PageRequest, StartOutcome, StartPlan, StatusChange, StatusOutcome, Store, VerificationFilter, AttemptFilter, PrefixTrafficQuery, StatsFilter, WebhookAttemptResult, WebhookJob, WebhookPatch } from "../port.js";
import * as t from "./schema.js";
import { SharedStore } from "../shared/store.js";
import { SqliteRunner } from "./runner.js";
import { outboxStatements } from "../shared/outbox.js";
import { RateLimiterSQLite, type RateLimiterAbstract } from "rate-limiter-flexible";

type EventDraft = { type: string; serviceSid: string; resourceSid: string; data: object; now: number };

const p = sql.placeholder;

/**
 * The embedded store. better-sqlite3 is synchronous, so every transaction here is a synchronous callback
 * (an async one would silently not be atomic); the async Store port hides that from the domain.
 */
export class SqliteStore extends SharedStore implements Store {
  private readonly sqlite: Database.Database;
  private readonly db: BetterSQLite3Database<typeof t>;
  protected readonly runner: SqliteRunner;
  // One writer (this process): a service read once stays true until updateService, which drops it.
  protected override readonly serviceCache = new Map<string, Service>();

  constructor(file: string, migrationsFolder: string) {
    super();
    this.sqlite = new Database(file);
    this.sqlite.pragma("journal_mode = WAL");
    this.sqlite.pragma("synchronous = NORMAL");
    this.sqlite.pragma("busy_timeout = 5000");
    this.db = drizzle(this.sqlite, { schema: t });
    migrate(this.db, { migrationsFolder });
    this.runner = new SqliteRunner(this.sqlite, this.db, t, () => this.sink);
  }

  async close(): Promise<void> {
    this.flush();
    this.sqlite.close();
  }

  async ping(): Promise<void> {
    this.sqlite.prepare("select 1").get();
  }

  private write<T>(body: () => T): Promise<T> {
    // biome-ignore lint/correctness/useYield: a body not yet written as a unit
    return this.runner.write(function* () {
      return body();
    });
  }

  private flush(): void {
    this.runner.flush();
  }

  // Hot-path statements are prepared once, on first use; the query builder would re-prepare on every call.
  private prepared<T>(build: () => T): () => T {
    let cached: T | undefined;
    return () => (cached ??= build());
  }

  private readonly serviceBySid = this.prepared(() => this.db.select().from(t.services).where(eq(t.services.sid, p("sid"))).prepare());
  private readonly verificationBySid = this.prepared(() => this.db.select().from(t.verifications).where(eq(t.verifications.sid, p("sid"))).prepare());
  private readonly latestByTo = this.prepared(() =>
    this.db
      .select()
      .from(t.verifications)
      .where(and(eq(t.verifications.serviceSid, p("serviceSid")), eq(t.verifications.to, p("to"))))
      .orderBy(desc(t.verifications.seq))
      .limit(1)
      .prepare(),
  );
  private readonly pendingByTo = this.prepared(() =>
    this.db
      .select()
      .from(t.verifications)
      // `+expires_at`: without it SQLite's planner (no statistics) walks every pending verification by
      // (status, expires_at) instead of this recipient's few rows; a start then cost O(pending).
      .where(and(eq(t.verifications.serviceSid, p("serviceSid")), eq(t.verifications.to, p("to")), eq(t.verifications.status, "PENDING"), gt(sql`+${t.verifications.expiresAt}`, p("now"))))
      .orderBy(desc(t.verifications.seq))
      .limit(1)
      .prepare(),
  );
  private readonly attemptsOf = this.prepared(() =>
    this.db.select().from(t.sendAttempts).where(eq(t.sendAttempts.verificationSid, p("sid"))).orderBy(asc(t.sendAttempts.seq)).prepare(),
  );
  private readonly sendsSince = this.prepared(() =>
    this.db
      .select({ n: sql<number>`count(*)` })
      .from(t.sendAttempts)
      .where(and(eq(t.sendAttempts.serviceSid, p("serviceSid")), eq(t.sendAttempts.to, p("to")), gt(t.sendAttempts.time, p("since"))))
      .prepare(),
  );
  private readonly insertVerification = this.prepared(() =>
    this.db
      .insert(t.verifications)
      .values({
        sid: p("sid"),
        serviceSid: p("serviceSid"),
        to: p("to"),
        channel: p("channel"),
        status: "PENDING",
        codeHash: p("codeHash"),
        codeSealed: p("codeSealed"),
        codeLength: p("codeLength"),
        maxCheckAttempts: p("maxCheckAttempts"),
        amount: p("amount"),
        payee: p("payee"),
        locale: p("locale"),
        customFriendlyName: p("customFriendlyName"),
        lookup: p("lookup"),
        tags: p("tags"),
        country: p("country"),
        prefix: p("prefix"),
        testMode: p("testMode"),
        dateCreated: p("now"),
        dateUpdated: p("now"),
        expiresAt: p("expiresAt"),
      })
      .returning()
      .prepare(),
  );
  private readonly touchForResend = this.prepared(() =>
    this.db
      .update(t.verifications)
      .set({ channel: sql`${p("channel")}`, version: sql`${t.verifications.version} + 1`, dateUpdated: sql`${p("now")}` })
      .where(eq(t.verifications.sid, p("sid")))
      .returning()
      .prepare(),
  );
  private readonly insertAttempt = this.prepared(() =>
    this.db
      .insert(t.sendAttempts)
      .values({
        sid: p("sid"),
        verificationSid: p("verificationSid"),
        serviceSid: p("serviceSid"),
        to: p("to"),
        channel: p("channel"),
        status: "QUEUED",
        time: p("now"),
      })
      .returning()
      .prepare(),
  );
  private readonly insertJob = this.prepared(() =>
    this.db.insert(t.outbox).values({ kind: p("kind"), refSid: p("refSid"), runAt: p("now"), createdAt: p("now") }).prepare(),
  );
  private readonly insertEventStmt = this.prepared(() =>
    this.db
      .insert(t.events)
      .values({ sid: p("sid"), type: p("type"), serviceSid: p("serviceSid"), resourceSid: p("resourceSid"), occurredAt: p("occurredAt"), data: p("data") })
      .prepare(),
  );
  /** Claims one check attempt atomically: the cap holds however many checks run at once. */
  private readonly claimCheck = this.prepared(() =>
    this.db
      .update(t.verifications)
      .set({ checkAttempts: sql`${t.verifications.checkAttempts} + 1` })
      .where(
        and(
          eq(t.verifications.sid, p("sid")),
          eq(t.verifications.status, "PENDING"),
          lt(t.verifications.checkAttempts, t.verifications.maxCheckAttempts),
          gt(t.verifications.expiresAt, p("now")),
        ),
      )
      .returning()
      .prepare(),
  );
  /** Moves a pending verification to a final state; the sealed code is destroyed with it. */
  private readonly settle = this.prepared(() =>
    this.db
      .update(t.verifications)
      .set({ status: sql`${p("status")}`, codeSealed: null, version: sql`${t.verifications.version} + 1`, dateUpdated: sql`${p("now")}` })
      .where(and(eq(t.verifications.sid, p("sid")), eq(t.verifications.status, "PENDING")))
      .returning()
      .prepare(),
  );

  // The dispatcher's path runs once per message: prepared as well.
  private readonly attemptBySid = this.prepared(() => this.db.select().from(t.sendAttempts).where(eq(t.sendAttempts.sid, p("sid"))).prepare());
  private readonly deleteJob = this.prepared(() => this.db.delete(t.outbox).where(eq(t.outbox.id, p("id"))).prepare());
  private readonly recordAttempt = this.prepared(() =>
    this.db
      .update(t.sendAttempts)
      .set({
        status: sql`${p("status")}`,
        providerMessageId: sql`${p("providerMessageId")}`,
        errorCode: sql`${p("errorCode")}`,
        channel: sql`coalesce(${p("channel")}, ${t.sendAttempts.channel})`,
      })
      .where(eq(t.sendAttempts.sid, p("sid")))
      .returning()
      .prepare(),
  );
  private readonly bumpVersion = this.prepared(() =>
    this.db
      .update(t.verifications)
      .set({ version: sql`${t.verifications.version} + 1`, dateUpdated: sql`${p("now")}` })
      .where(eq(t.verifications.sid, p("sid")))
      .returning()
      .prepare(),
  );
  private readonly webhooksOf = this.prepared(() =>
    this.db
      .select({ sid: t.webhooks.sid, eventTypes: t.webhooks.eventTypes })
      .from(t.webhooks)
      .where(and(eq(t.webhooks.serviceSid, p("serviceSid")), eq(t.webhooks.enabled, true)))
      .prepare(),
  );
  private readonly insertWebhookDelivery = this.prepared(() =>
    this.db
      .insert(t.webhookDeliveries)
      .values({ webhookSid: p("webhookSid"), serviceSid: p("serviceSid"), eventSid: p("eventSid"), eventType: p("eventType"), status: "PENDING", dateCreated: p("now"), dateUpdated: p("now") })
      .returning({ seq: t.webhookDeliveries.seq })
      .prepare(),
  );
  private cachedService(sid: string): Service | null {
    const cached = this.serviceCache.get(sid);
    if (cached) return cached;
    const row = this.serviceBySid().get({ sid });
    if (!row) return null;
    const service = Object.freeze(toService(row));
    this.serviceCache.set(sid, service);
    return service;
  }

  /**
   * EXPLAIN QUERY PLAN of the statements every start, check and delivery runs. The planner has no
   * statistics here, so a plan can quietly become a scan that grows with the table; a test keeps them
   * on their indexes.
   */
  hotPathPlans(): Record<string, string[]> {
    const statements = {
      sendsSince: this.sendsSince(),
      pendingByTo: this.pendingByTo(),
      latestByTo: this.latestByTo(),
      verificationBySid: this.verificationBySid(),
      serviceBySid: this.serviceBySid(),
      attemptsOf: this.attemptsOf(),
      attemptBySid: this.attemptBySid(),
      claimCheck: this.claimCheck(),
      settle: this.settle(),
      recordAttempt: this.recordAttempt(),
      bumpVersion: this.bumpVersion(),
      webhooksOf: this.webhooksOf(),
    };
    const shared = { claimDue: outboxStatements.claimDue };
    const queries = [
      ...Object.entries(statements).map(([name, statement]) => [name, (statement as unknown as { getQuery(): { sql: string; params: unknown[] } }).getQuery()] as const),
      ...Object.entries(shared).map(([name, statement]) => [name, this.runner.statementSql(statement)] as const),
    ];
    return Object.fromEntries(
      queries.map(([name, { sql: text, params }]) => {
        const rows = this.sqlite.prepare(`explain query plan ${text}`).all(...params.map(() => 1)) as { detail: string }[];
        return [name, rows.map((r) => r.detail)];
      }),
    );
  }

  private event(draft: EventDraft): VerifyEvent {
    const event: VerifyEvent = {
      sid: newSid("EV"),
      type: draft.type,
      serviceSid: draft.serviceSid,
      resourceSid: draft.resourceSid,
      occurredAt: draft.now,
      data: draft.data as Record<string, unknown>,
    };
    this.insertEventStmt().run({ ...event, data: JSON.stringify(event.data) });
    this.enqueueWebhooks(event);
    return event;
  }

  /** Each enabled webhook that wants this event gets a delivery and an outbox job, in the event's transaction. */
  private enqueueWebhooks(event: VerifyEvent): void {
    for (const hook of this.webhooksOf().all({ serviceSid: event.serviceSid })) {
      if (!wantsEvent(JSON.parse(hook.eventTypes) as string[], event.type)) continue;
      const delivery = this.insertWebhookDelivery().get({ webhookSid: hook.sid, serviceSid: event.serviceSid, eventSid: event.sid, eventType: event.type, now: event.occurredAt });
      this.insertJob().run({ kind: "webhook", refSid: String(delivery?.seq), now: event.occurredAt });
    }
  }

  private view(row: VerificationRow): Verification {
    return toVerification(row, this.attemptsOf().all({ sid: row.sid }));
  }

  /** The verification as it now is, and its event; pass `attempts` when they are already in hand. */
  private verificationEvent(type: string, row: VerificationRow, now: number, attempts?: AttemptRow[]): { verification: Verification; event: VerifyEvent } {
    const verification = attempts ? toVerification(row, attempts) : this.view(row);
    return { verification, event: this.event({ type, serviceSid: row.serviceSid, resourceSid: row.sid, data: verification, now }) };
  }

  async startVerification(plan: StartPlan): Promise<StartOutcome> {
    return this.write((): StartOutcome => {
      const sends = this.sendsSince().get({ serviceSid: plan.serviceSid, to: plan.to, since: plan.sendWindowStart })?.n ?? 0;
      if (sends >= plan.maxSendAttempts) return { ok: false, reason: "MAX_SEND_ATTEMPTS_REACHED" };
      let pending = this.pendingByTo().get({ serviceSid: plan.serviceSid, to: plan.to, now: plan.now });
      const events: VerifyEvent[] = [];
      if (pending && !plan.resends(pending)) {
        const canceled = this.settle().get({ sid: pending.sid, status: "CANCELED", now: plan.now }) as VerificationRow;
        events.push(this.verificationEvent("verification.canceled", canceled, plan.now).event);
        pending = undefined;
      }
      const { fresh } = plan;
      const row = pending
        ? (this.touchForResend().get({ sid: pending.sid, channel: plan.channel, now: plan.now }) as VerificationRow)
        : (this.insertVerification().get({
            ...fresh,
            serviceSid: plan.serviceSid,
            to: plan.to,
            channel: plan.channel,
            lookup: fresh.lookup ? JSON.stringify(fresh.lookup) : null,
            tags: fresh.tags ? JSON.stringify(fresh.tags) : null,
            testMode: fresh.testMode ? 1 : 0,
            now: plan.now,
          }) as VerificationRow);
      const attempt = this.insertAttempt().get({ sid: plan.attemptSid, verificationSid: row.sid, serviceSid: plan.serviceSid, to: plan.to, channel: plan.attemptChannel, now: plan.now }) as AttemptRow;
      const current = plan.sna ? this.beginSna(row, plan.sna, plan.attemptSid, plan.now) : row;
      if (!plan.sna) this.insertJob().run({ kind: "delivery", refSid: plan.attemptSid, now: plan.now });
      const type = pending ? "verification.resent" : "verification.started";
      // A new verification's only attempt is the row just written: no need to read it back (SNA changes it).
      const { verification, event } = this.verificationEvent(type, current, plan.now, pending || plan.sna ? undefined : [attempt]);
      events.push(event);
      return { ok: true, verification, created: !pending, events };
    });
  }

  /** An SNA attempt: no message leaves; the URL is the attempt, SENT at once, and AUTO may fall back later. */
  private beginSna(row: VerificationRow, sna: StartPlan["sna"] & object, attemptSid: string, now: number): VerificationRow {
    this.db.update(t.sendAttempts).set({ status: "SENT" }).where(eq(t.sendAttempts.sid, attemptSid)).run();
    this.db.insert(t.snaSessions).values({ tokenHash: sna.tokenHash, verificationSid: row.sid, attemptSid, expiresAt: row.expiresAt }).run();
    if (sna.fallbackAt !== null) this.db.insert(t.outbox).values({ kind: "sna_fallback", refSid: row.sid, runAt: sna.fallbackAt, createdAt: now }).run();
    return this.db
      .update(t.verifications)
      .set({
        snaState: "awaiting",
        snaErrorCodes: sql`coalesce(${t.verifications.snaErrorCodes}, '[]')`,
        snaClientTokenRequired: sna.clientTokenRequired,
        autoFallback: sna.fallbackAt !== null,
      })
      .where(eq(t.verifications.sid, row.sid))
      .returning()
      .get() as VerificationRow;
  }

  async checkVerification(request: CheckRequest, judge: CheckJudge): Promise<CheckOutcome> {
    return this.write((): CheckOutcome => {
      const found = request.sid
        ? this.verificationBySid().get({ sid: request.sid })
        : this.latestByTo().get({ serviceSid: request.serviceSid, to: request.to ?? "" });
      if (!found || found.serviceSid !== request.serviceSid) return { ok: false, reason: "NOT_FOUND", events: [] };
      if (found.status === "APPROVED" && found.channel === "SNA" && request.acceptApprovedSna && found.expiresAt > request.now) {
        return { ok: true, verification: this.view(found), valid: true, events: [] };
      }
      if (found.status !== "PENDING") return { ok: false, reason: found.status as VerificationStatus, events: [] };
      if (found.expiresAt <= request.now) return this.expireOne(found.sid, request.now);
      const verdict = judge(found);
      if (typeof verdict === "object") {
        if (verdict.notYet === null) return { ok: true, verification: this.view(found), valid: false, events: [] };
        const row = this.appendSnaError(found.sid, verdict.notYet, request.now);
        const { verification, event } = this.verificationEvent("verification.sna_pending", row, request.now);
        return { ok: true, verification, valid: false, events: [event] };
      }
      const claimed = this.claimCheck().get({ sid: found.sid, now: request.now });
      if (!claimed) return { ok: false, reason: "MAX_ATTEMPTS_REACHED", events: [] };
      const valid = verdict;
      const finalStatus = valid ? "APPROVED" : claimed.checkAttempts >= claimed.maxCheckAttempts ? "MAX_ATTEMPTS_REACHED" : null;
      if (!finalStatus) {
        const { verification, event } = this.verificationEvent("verification.check_failed", claimed, request.now);
        return { ok: true, verification, valid: false, events: [event] };
      }
      const settled = this.settle().get({ sid: claimed.sid, status: finalStatus, now: request.now }) as VerificationRow;
      const { verification, event } = this.verificationEvent(valid ? "verification.approved" : "verification.max_attempts_reached", settled, request.now);
      return { ok: true, verification, valid, events: [event] };
    });
  }

  private expireOne(sid: string, now: number): CheckOutcome & StatusOutcome {
    const row = this.settle().get({ sid, status: "EXPIRED", now });
    const events = row ? [this.verificationEvent("verification.expired", row, now).event] : [];
    return { ok: false, reason: "EXPIRED", events };
  }

  async setVerificationStatus(change: StatusChange): Promise<StatusOutcome> {
    return this.write((): StatusOutcome => {
      const found = this.verificationBySid().get({ sid: change.sid });
      if (!found || (change.serviceSid && found.serviceSid !== change.serviceSid)) return { ok: false, reason: "NOT_FOUND", events: [] };
      if (found.status !== "PENDING") return { ok: false, reason: found.status as VerificationStatus, events: [] };
      if (found.expiresAt <= change.now) return this.expireOne(found.sid, change.now);
      const row = this.settle().get({ sid: found.sid, status: change.status, now: change.now }) as VerificationRow;
      const { verification, event } = this.verificationEvent(`verification.${change.status.toLowerCase()}`, row, change.now);
      return { ok: true, verification, events: [event] };
    });
  }

  async expireDue(now: number, limit: number): Promise<VerifyEvent[]> {
    return this.write(() => {
      const due = this.db
        .select({ sid: t.verifications.sid })
        .from(t.verifications)
        .where(and(eq(t.verifications.status, "PENDING"), lte(t.verifications.expiresAt, now)))
        .limit(limit)
        .all();
      return due.flatMap(({ sid }) => this.expireOne(sid, now).events);
    });
  }

  private appendSnaError(sid: string, code: number, now: number, changes: Partial<typeof t.verifications.$inferInsert> = {}): VerificationRow {
    const v = t.verifications;
    return this.db
      .update(v)
      .set({ ...changes, snaErrorCodes: sql`json_insert(coalesce(${v.snaErrorCodes}, '[]'), '$[#]', ${code})`, version: sql`${v.version} + 1`, dateUpdated: now })
      .where(eq(v.sid, sid))
      .returning()
      .get() as VerificationRow;
  }

  async openSnaSession(tokenHash: string, now: number) {
    return this.write(() => {
      const s = t.snaSessions;
      const session = this.db.select().from(s).where(eq(s.tokenHash, tokenHash)).get();
      if (!session) return null;
      const claimed = this.db
        .update(s)
        .set({ openedAt: now })
        .where(and(eq(s.tokenHash, tokenHash), isNull(s.openedAt), gt(s.expiresAt, now)))
        .returning()
        .get();
      const row = claimed && this.verificationBySid().get({ sid: claimed.verificationSid });
      if (!row || row.status !== "PENDING" || row.channel !== "SNA") return "gone" as const;
      return { verificationSid: row.sid, attemptSid: session.attemptSid, to: row.to, clientTokenRequired: row.snaClientTokenRequired, autoFallback: row.autoFallback };
    });
  }

  async recordSnaResult(result: SnaResult): Promise<VerifyEvent[]> {
    return this.write(() => {
      const found = this.verificationBySid().get({ sid: result.verificationSid });
      if (!found || found.status !== "PENDING") return [];
      const { errorCode, now } = result;
      if (found.channel !== "SNA" || found.snaState !== "awaiting") {
        // AUTO already fell back (the timeout won the race): the late result only completes its attempt.
        this.db.update(t.sendAttempts).set({ status: errorCode === null ? "DELIVERED" : "UNDELIVERED", errorCode: errorCode === null ? null : String(errorCode) }).where(eq(t.sendAttempts.sid, result.attemptSid)).run();
        return [];
      }
      // The carrier answered: the AUTO timeout has nothing left to do.
      this.db.delete(t.outbox).where(and(eq(t.outbox.kind, "sna_fallback"), eq(t.outbox.refSid, found.sid))).run();
      this.db
        .update(t.sendAttempts)
        .set({ status: errorCode === null ? "DELIVERED" : "UNDELIVERED", errorCode: errorCode === null ? null : String(errorCode) })
        .where(eq(t.sendAttempts.sid, result.attemptSid))
        .run();
      if (errorCode === null && !result.clientTokenHash) {
        this.db.update(t.verifications).set({ snaState: "confirmed" }).where(eq(t.verifications.sid, found.sid)).run();
        const approved = this.settle().get({ sid: found.sid, status: "APPROVED", now }) as VerificationRow;
        return [this.verificationEvent("verification.approved", approved, now).event];
      }
      if (errorCode === null) {
        const row = this.db
          .update(t.verifications)
          .set({ snaState: "confirmed", snaClientTokenHash: result.clientTokenHash, version: sql`${t.verifications.version} + 1`, dateUpdated: now })
          .where(eq(t.verifications.sid, found.sid))
          .returning()
          .get() as VerificationRow;
        return [this.verificationEvent("verification.sna_confirmed", row, now).event];
      }
      const failed = this.appendSnaError(found.sid, errorCode, now, { snaState: "failed" });
      if (!result.fallbackAttemptSid) return [this.verificationEvent("verification.sna_failed", failed, now).event];
      return [this.fallBackToSms(failed, result.fallbackAttemptSid, now)];
    });
  }

  /** AUTO: the same verification continues over SMS, with a new send attempt and a delivery job. */
  private fallBackToSms(row: VerificationRow, attemptSid: string, now: number): VerifyEvent {
    this.insertAttempt().run({ sid: attemptSid, verificationSid: row.sid, serviceSid: row.serviceSid, to: row.to, channel: "SMS", now });
    this.insertJob().run({ kind: "delivery", refSid: attemptSid, now });
    const switched = this.db
      .update(t.verifications)
      .set({ channel: "SMS", version: sql`${t.verifications.version} + 1`, dateUpdated: now })
      .where(eq(t.verifications.sid, row.sid))
      .returning()
      .get() as VerificationRow;
    return this.verificationEvent("verification.fallback", switched, now).event;
  }

  async snaTimedOut(jobId: number, verificationSid: string, fallbackAttemptSid: string, now: number): Promise<VerifyEvent[]> {
    return this.write(() => {
      this.db.delete(t.outbox).where(eq(t.outbox.id, jobId)).run();
      const found = this.verificationBySid().get({ sid: verificationSid });
      if (!found || found.status !== "PENDING" || found.channel !== "SNA" || found.snaState !== "awaiting") return [];
      // The SNA attempt that never completed: the result is still pending (60519) when SMS takes over.
      this.db
        .update(t.sendAttempts)
        .set({ status: "UNDELIVERED", errorCode: "60519" })
        .where(and(eq(t.sendAttempts.verificationSid, verificationSid), eq(t.sendAttempts.channel, "SNA"), eq(t.sendAttempts.status, "SENT")))
        .run();
      const failed = this.appendSnaError(verificationSid, 60519, now, { snaState: "failed" });
      return [this.fallBackToSms(failed, fallbackAttemptSid, now)];
    });
  }

  async getVerification(sid: string): Promise<Verification | null> {
    const row = this.verificationBySid().get({ sid });
    return row ? this.view(row) : null;
  }

  async listVerifications(serviceSid: string, filter: VerificationFilter, page: PageRequest) {
    const v = t.verifications;
    const rows = this.db
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
      .limit(page.first + 1)
      .all();
    return pageOf(rows, page.first, (row) => this.view(row));
  }

  async deliveryContext(attemptSid: string): Promise<DeliveryContext | null> {
    // One read transaction for both rows: outside one, each statement takes and drops its own locks.
    return this.sqlite.transaction(() => {
      const attempt = this.attemptBySid().get({ sid: attemptSid });
      if (!attempt) return null;
      const row = this.verificationBySid().get({ sid: attempt.verificationSid });
      const service = row && this.cachedService(row.serviceSid);
      if (!row || !service) return null;
      return toDeliveryContext(row, attempt, service);
    })();
  }

  async recordDelivery(result: DeliveryResult): Promise<VerifyEvent | null> {
    return this.write(() => {
      this.deleteJob().run({ id: result.jobId });
      const attempt = this.recordAttempt().get({
        sid: result.attemptSid,
        status: result.status,
        providerMessageId: result.providerMessageId,
        errorCode: result.errorCode,
        channel: result.channel ?? null,
      });
      return attempt ? this.attemptChanged(attempt, result.status, result.now) : null;
    });
  }

  async recordReceipt(receipt: DeliveryReceipt): Promise<VerifyEvent | null> {
    return this.write(() => {
      const a = t.sendAttempts;
      const attempt = this.db
        .update(a)
        .set({ status: receipt.status, errorCode: receipt.errorCode })
        .where(and(eq(a.providerMessageId, receipt.providerMessageId), inArray(a.status, ["QUEUED", "SENT"])))
        .returning()
        .get();
      return attempt ? this.attemptChanged(attempt, receipt.status, receipt.now) : null;
    });
  }

  /** A send attempt changed: the verification's version moves and subscribers get its new state. */
  private attemptChanged(attempt: AttemptRow, status: DeliveryStatus, now: number): VerifyEvent {
    const row = this.bumpVersion().get({ sid: attempt.verificationSid, now }) as VerificationRow;
    return this.verificationEvent(`delivery.${status.toLowerCase()}`, row, now).event;
  }

  async settleAbandonedAttempts(now: number, limit: number): Promise<VerifyEvent[]> {
    return this.write(() => {
      const a = t.sendAttempts;
      const v = t.verifications;
      const o = t.outbox;
      const orphans = this.db
        .select({ sid: a.sid, verificationStatus: v.status })
        .from(a)
        .innerJoin(v, eq(v.sid, a.verificationSid))
        .where(and(eq(a.status, "QUEUED"), ne(v.status, "PENDING"), notExists(this.db.select({ id: o.id }).from(o).where(and(eq(o.kind, "delivery"), eq(o.refSid, a.sid))))))
        .limit(limit)
        .all();
      return orphans.map((orphan) => {
        const settled = abandonedSend(orphan.verificationStatus as VerificationStatus);
        const attempt = this.recordAttempt().get({ sid: orphan.sid, status: settled.status, providerMessageId: null, errorCode: settled.errorCode, channel: null }) as AttemptRow;
        return this.attemptChanged(attempt, settled.status, now);
      });
    });
  }


  rateLimiter(options: { points: number; duration: number; keyPrefix: string }): RateLimiterAbstract {
    return new RateLimiterSQLite({ ...options, storeClient: this.sqlite, storeType: "better-sqlite3", tableName: "rate_limits", tableCreated: true });
  }

}

