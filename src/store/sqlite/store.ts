import Database from "better-sqlite3";
import { and, asc, desc, eq, gt, inArray, isNull, lt, lte, or, sql } from "drizzle-orm";
import { type BetterSQLite3Database, drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { newSid } from "../../domain/ids.js";
import type { FraudBlock, Webhook, WebhookDeliveryStatus, VerificationStats, Challenge, Entity, PasskeyCredential, Service, VerifyEvent } from "../../domain/types.js";
import { decodeCursor } from "../cursor.js";
import type { ChallengeFallback, ChallengeStatus, FactorType } from "../../domain/types.js";
import { type FraudBlockRow, toFraudBlock, toWebhook, toWebhookDelivery, toVerificationAttempt, wantsEvent, type ChallengeRow, type FactorRow, publicChallenge, publicFactor, toChallengeRecord, toFactorRecord, pageOf } from "../rows.js";
import type { AttemptClaim, ChallengeFailure, FactorFailure, AttemptFilter, PrefixTrafficQuery, StatsFilter, WebhookAttemptResult, WebhookJob, WebhookPatch, ChallengeRecord, ChallengeResponse, FactorRecord, NewFactor, OutboxJob, PageRequest, Store } from "../port.js";
import * as t from "./schema.js";
import { SharedStore } from "../shared/store.js";
import type { Statement } from "../shared/ops.js";
import { serviceBySid } from "../shared/services.js";
import { verificationStatements } from "../shared/verifications.js";
import { deliveryStatements } from "../shared/deliveries.js";
import { SqliteRunner } from "./runner.js";
import { RateLimiterSQLite, type RateLimiterAbstract } from "rate-limiter-flexible";
import type { PrefixCounts } from "../../domain/policy/fraud.js";
import { attemptConditions, statsConditions, statsOf } from "../insights.js";

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

  private readonly insertJob = this.prepared(() =>
    this.db.insert(t.outbox).values({ kind: p("kind"), refSid: p("refSid"), runAt: p("now"), createdAt: p("now") }).prepare(),
  );
  private readonly insertEventStmt = this.prepared(() =>
    this.db
      .insert(t.events)
      .values({ sid: p("sid"), type: p("type"), serviceSid: p("serviceSid"), resourceSid: p("resourceSid"), occurredAt: p("occurredAt"), data: p("data") })
      .prepare(),
  );

  // The dispatcher's path runs once per message: prepared as well.
  private readonly claimDue = this.prepared(() => {
    const o = t.outbox;
    const due = this.db
      .select({ id: o.id })
      .from(o)
      .where(and(lte(o.runAt, p("now")), or(isNull(o.leaseUntil), lte(o.leaseUntil, p("now")))))
      // By due time: the (run_at) index finds the due jobs without walking the ones scheduled later.
      .orderBy(asc(o.runAt), asc(o.id))
      .limit(p("limit"));
    return this.db
      .update(o)
      .set({ leaseUntil: sql`${p("until")}`, tries: sql`${o.tries} + 1` })
      .where(sql`${o.id} in ${due}`)
      .returning()
      .prepare();
  });
  private readonly deleteJob = this.prepared(() => this.db.delete(t.outbox).where(eq(t.outbox.id, p("id"))).prepare());
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
  /**
   * EXPLAIN QUERY PLAN of the statements every start, check and delivery runs. The planner has no
   * statistics here, so a plan can quietly become a scan that grows with the table; a test keeps them
   * on their indexes.
   */
  hotPathPlans(): Record<string, string[]> {
    const local = {
      webhooksOf: this.webhooksOf(),
      claimDue: this.claimDue(),
    };
    const shared: Record<string, Statement<unknown>> = { ...verificationStatements, serviceBySid, ...deliveryStatements };
    const queries = [
      ...Object.entries(shared).map(([name, statement]) => [name, this.runner.statementSql(statement)] as const),
      ...Object.entries(local).map(([name, statement]) => [name, (statement as unknown as { getQuery(): { sql: string; params: unknown[] } }).getQuery()] as const),
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

  async claimJobs(now: number, leaseMs: number, limit: number): Promise<OutboxJob[]> {
    const rows = await this.write(() => this.claimDue().all({ now, until: now + leaseMs, limit }));
    return rows.map((r) => ({ id: r.id, kind: r.kind as OutboxJob["kind"], refSid: r.refSid, tries: r.tries }));
  }

  async retryJob(jobId: number, runAt: number, error: string): Promise<void> {
    await this.write(() => this.db.update(t.outbox).set({ runAt, leaseUntil: null, lastError: error }).where(eq(t.outbox.id, jobId)).run());
  }

  async extendLeases(jobIds: number[], until: number): Promise<void> {
    if (jobIds.length > 0) this.db.update(t.outbox).set({ leaseUntil: until }).where(inArray(t.outbox.id, jobIds)).run();
  }

  async dropJob(jobId: number): Promise<void> {
    await this.write(() => this.deleteJob().run({ id: jobId }));
  }

  async pendingJobCount(): Promise<number> {
    return this.db.select({ n: sql<number>`count(*)` }).from(t.outbox).get()?.n ?? 0;
  }

  private factorRecord(row: FactorRow): FactorRecord {
    const entity = this.db.select({ userHandle: t.entities.userHandle }).from(t.entities).where(eq(t.entities.sid, row.entitySid)).get();
    return toFactorRecord(row, entity?.userHandle ?? "");
  }

  async ensureEntity(entity: Entity, now: number): Promise<Entity> {
    const e = t.entities;
    this.db.insert(e).values({ ...entity, dateCreated: now }).onConflictDoNothing().run();
    const row = this.db.select().from(e).where(and(eq(e.serviceSid, entity.serviceSid), eq(e.identity, entity.identity))).get() as typeof e.$inferSelect;
    return { sid: row.sid, serviceSid: row.serviceSid, identity: row.identity, userHandle: row.userHandle };
  }

  async createFactor(factor: NewFactor): Promise<VerifyEvent> {
    return this.write(() => {
      const { metadata, ...rest } = factor;
      const { secretSealed, config, ...columns } = rest;
      this.db.insert(t.factors).values({ ...columns, secret: secretSealed, config: config ? JSON.stringify(config) : null, metadata: metadata ? JSON.stringify(metadata) : null }).run();
      return this.event({ type: "factor.created", serviceSid: factor.serviceSid, resourceSid: factor.sid, data: publicFactor(toFactorRecord({ ...columns, seq: 0, credentialId: null, counter: 0, transports: null, failedAttempts: 0, metadata: null, config: null, secret: null }, "")), now: factor.dateCreated });
    });
  }

  async getFactor(sid: string): Promise<FactorRecord | null> {
    const row = this.db.select().from(t.factors).where(eq(t.factors.sid, sid)).get();
    return row ? this.factorRecord(row) : null;
  }

  async listPasskeys(serviceSid: string, identity: string): Promise<FactorRecord[]> {
    const f = t.factors;
    return this.db
      .select()
      .from(f)
      .where(and(eq(f.serviceSid, serviceSid), eq(f.identity, identity), eq(f.factorType, "PASSKEY"), eq(f.status, "VERIFIED")))
      .orderBy(asc(f.seq))
      .all()
      .map((row) => this.factorRecord(row));
  }

  async findPasskey(serviceSid: string, credentialId: string): Promise<FactorRecord | null> {
    const f = t.factors;
    const row = this.db.select().from(f).where(and(eq(f.serviceSid, serviceSid), eq(f.credentialId, credentialId), eq(f.status, "VERIFIED"))).get();
    return row ? this.factorRecord(row) : null;
  }

  async newestVerifiedFactor(serviceSid: string, identity: string, factorType: FactorType): Promise<FactorRecord | null> {
    const f = t.factors;
    const row = this.db
      .select()
      .from(f)
      .where(and(eq(f.serviceSid, serviceSid), eq(f.identity, identity), eq(f.factorType, factorType), eq(f.status, "VERIFIED")))
      .orderBy(desc(f.seq))
      .limit(1)
      .get();
    return row ? this.factorRecord(row) : null;
  }

  async expireChallenges(now: number, limit: number): Promise<VerifyEvent[]> {
    return this.write(() => {
      const c = t.challenges;
      const due = this.db.select({ sid: c.sid }).from(c).where(and(eq(c.status, "PENDING"), lte(c.expiresAt, now))).limit(limit).all();
      const events: VerifyEvent[] = [];
      for (const { sid } of due) {
        const row = this.db
          .update(c)
          .set({ status: "EXPIRED", dateUpdated: now, version: sql`${c.version} + 1` })
          .where(and(eq(c.sid, sid), eq(c.status, "PENDING")))
          .returning()
          .get();
        if (!row) continue;
        const challenge = publicChallenge(toChallengeRecord(row));
        events.push(this.event({ type: "challenge.expired", serviceSid: challenge.serviceSid, resourceSid: sid, data: challenge, now }));
      }
      return events;
    });
  }

  async claimFactorVerification(claim: AttemptClaim) {
    return this.write(() => {
      const f = t.factors;
      const row = this.db
        .update(f)
        .set({ failedAttempts: sql`${f.failedAttempts} + 1`, dateUpdated: claim.now })
        .where(and(eq(f.sid, claim.sid), eq(f.status, claim.status), lt(f.failedAttempts, claim.cap)))
        .returning()
        .get();
      if (row) return { claimed: true as const, factor: this.factorRecord(row) };
      const current = this.db.select().from(f).where(eq(f.sid, claim.sid)).get();
      return { claimed: false as const, factor: current ? this.factorRecord(current) : null };
    });
  }

  async verifyFactor(sid: string, proof: { credential?: PasskeyCredential; counter?: number }, now: number) {
    return this.write(() => {
      const f = t.factors;
      const { credential } = proof;
      // The claimed attempt is given back whether or not this answer was first: a right answer is no failure.
      this.db.update(f).set({ failedAttempts: sql`max(${f.failedAttempts} - 1, 0)` }).where(eq(f.sid, sid)).run();
      const row = this.db
        .update(f)
        .set({
          status: "VERIFIED",
          ...(credential ? { credentialId: credential.credentialId, publicKey: credential.publicKey, counter: credential.counter, transports: JSON.stringify(credential.transports) } : {}),
          ...(proof.counter !== undefined ? { counter: proof.counter } : {}),
          pendingChallenge: null,
          dateUpdated: now,
        })
        .where(and(eq(f.sid, sid), eq(f.status, "UNVERIFIED")))
        .returning()
        .get();
      if (!row) return null;
      const factor = publicFactor(this.factorRecord(row));
      return { factor, event: this.event({ type: "factor.verified", serviceSid: factor.serviceSid, resourceSid: sid, data: factor, now }) };
    });
  }

  async failFactor(failure: FactorFailure): Promise<VerifyEvent | null> {
    return this.write(() => {
      const row = this.db.select().from(t.factors).where(eq(t.factors.sid, failure.sid)).get();
      if (!row) return null;
      const factor = publicFactor(this.factorRecord(row));
      return this.event({ type: failure.type, serviceSid: factor.serviceSid, resourceSid: factor.sid, data: { ...factor, failedAttempts: failure.failedAttempts }, now: failure.now });
    });
  }

  async deleteFactor(sid: string, now: number) {
    return this.write(() => {
      const row = this.db.delete(t.factors).where(eq(t.factors.sid, sid)).returning().get();
      if (!row) return null;
      const factor = publicFactor(this.factorRecord(row));
      return { factor, event: this.event({ type: "factor.deleted", serviceSid: factor.serviceSid, resourceSid: sid, data: factor, now }) };
    });
  }

  async createChallenge(challenge: Challenge, extra: { webauthnChallenge?: string | null; fallback?: ChallengeFallback | null; jobs?: { kind: OutboxJob["kind"]; runAt: number }[] }): Promise<VerifyEvent> {
    return this.write(() => {
      this.db
        .insert(t.challenges)
        .values({
          ...challenge,
          silent: challenge.silent ? 1 : 0,
          details: challenge.details ? JSON.stringify(challenge.details) : null,
          hiddenDetails: challenge.hiddenDetails ? JSON.stringify(challenge.hiddenDetails) : null,
          webauthnChallenge: extra.webauthnChallenge ?? null,
          fallback: extra.fallback ? JSON.stringify(extra.fallback) : null,
          dateUpdated: challenge.dateCreated,
        })
        .run();
      for (const job of extra.jobs ?? []) this.db.insert(t.outbox).values({ kind: job.kind, refSid: challenge.sid, runAt: job.runAt, createdAt: challenge.dateCreated }).run();
      return this.event({ type: "challenge.created", serviceSid: challenge.serviceSid, resourceSid: challenge.sid, data: challenge, now: challenge.dateCreated });
    });
  }

  async getChallenge(sid: string): Promise<ChallengeRecord | null> {
    const row = this.db.select().from(t.challenges).where(eq(t.challenges.sid, sid)).get();
    return row ? toChallengeRecord(row) : null;
  }

  async listChallenges(factorSid: string, status: ChallengeStatus | null, page: PageRequest) {
    const c = t.challenges;
    const rows = this.db
      .select()
      .from(c)
      .where(and(eq(c.factorSid, factorSid), lt(c.seq, decodeCursor(page.after) || Number.MAX_SAFE_INTEGER), status ? eq(c.status, status) : undefined))
      .orderBy(desc(c.seq))
      .limit(page.first + 1)
      .all();
    return pageOf(rows, page.first, toChallengeRecord);
  }

  async linkChallengeFallback(sid: string, verificationSid: string, now: number) {
    return this.write(() => {
      const c = t.challenges;
      const row = this.db
        .update(c)
        .set({ fallbackVerificationSid: verificationSid, dateUpdated: now, version: sql`${c.version} + 1` })
        .where(and(eq(c.sid, sid), eq(c.status, "PENDING"), isNull(c.fallbackVerificationSid)))
        .returning()
        .get();
      if (!row) return null;
      const challenge = publicChallenge(toChallengeRecord(row));
      return { challenge, event: this.event({ type: "challenge.fallback_started", serviceSid: challenge.serviceSid, resourceSid: sid, data: challenge, now }) };
    });
  }

  async findChallengeByFallback(verificationSid: string) {
    const row = this.db.select().from(t.challenges).where(eq(t.challenges.fallbackVerificationSid, verificationSid)).get();
    return row ? toChallengeRecord(row) : null;
  }

  async respondChallenge(response: ChallengeResponse) {
    return this.write(() => {
      const c = t.challenges;
      const current = this.db.select().from(c).where(eq(c.sid, response.sid)).get();
      // A right answer that came too late gives its claimed attempt back all the same.
      const giveBack = { failedAttempts: sql`max(${c.failedAttempts} - 1, 0)` };
      const tooLate = (reason: "RESPONDED" | "EXPIRED") => {
        if (current && response.releaseClaim) this.db.update(c).set(giveBack).where(eq(c.sid, response.sid)).run();
        return { ok: false as const, reason };
      };
      if (!current || (current.status !== "PENDING" && current.status !== "EXPIRED")) return tooLate("RESPONDED");
      if (current.status === "EXPIRED" || current.expiresAt <= response.now) return tooLate("EXPIRED");
      if (response.counter) {
        const f = t.factors;
        const moved = this.db
          .update(f)
          .set({ counter: response.counter.to, dateUpdated: response.now })
          .where(and(eq(f.sid, response.factorSid), eq(f.counter, response.counter.from)))
          .returning()
          .get();
        if (!moved) return { ok: false as const, reason: "CLONED" as const };
      }
      if (response.totpStep !== undefined) {
        const f = t.factors;
        // A code's time step is accepted once: parallel answers with the same code race for this row.
        const moved = this.db
          .update(f)
          .set({ counter: response.totpStep, dateUpdated: response.now })
          .where(and(eq(f.sid, response.factorSid), lt(f.counter, response.totpStep)))
          .returning({ sid: f.sid })
          .get();
        if (!moved) return { ok: false as const, reason: "REPLAY" as const };
      }
      const row = this.db
        .update(c)
        .set({ status: response.status, factorSid: response.factorSid, identity: response.identity, dateResponded: response.now, dateUpdated: response.now, version: sql`${c.version} + 1`, ...(response.releaseClaim ? giveBack : {}) })
        .where(and(eq(c.sid, response.sid), eq(c.status, "PENDING")))
        .returning()
        .get() as ChallengeRow;
      const challenge = publicChallenge(toChallengeRecord(row));
      const event = this.event({ type: `challenge.${response.status.toLowerCase()}`, serviceSid: challenge.serviceSid, resourceSid: challenge.sid, data: challenge, now: response.now });
      return { ok: true as const, challenge, events: [event] };
    });
  }

  async claimChallengeAnswer(claim: AttemptClaim) {
    return this.write(() => {
      const c = t.challenges;
      const row = this.db
        .update(c)
        .set({ failedAttempts: sql`${c.failedAttempts} + 1`, dateUpdated: claim.now })
        .where(and(eq(c.sid, claim.sid), eq(c.status, claim.status), gt(c.expiresAt, claim.now), lt(c.failedAttempts, claim.cap)))
        .returning()
        .get();
      if (row) return { claimed: true as const, challenge: toChallengeRecord(row) };
      const current = this.db.select().from(c).where(eq(c.sid, claim.sid)).get();
      return { claimed: false as const, challenge: current ? toChallengeRecord(current) : null };
    });
  }

  async failChallenge(failure: ChallengeFailure): Promise<VerifyEvent[]> {
    return this.write(() => {
      const c = t.challenges;
      const found = this.db.select().from(c).where(eq(c.sid, failure.sid)).get();
      if (!found) return [];
      const current = publicChallenge(toChallengeRecord(found));
      const events = [this.event({ type: failure.type, serviceSid: current.serviceSid, resourceSid: current.sid, data: { ...current, failedAttempts: failure.failedAttempts }, now: failure.now })];
      if (!failure.settle) return events;
      const row = this.db
        .update(c)
        .set({ status: failure.settle, dateResponded: failure.now, dateUpdated: failure.now, version: sql`${c.version} + 1` })
        .where(and(eq(c.sid, failure.sid), eq(c.status, "PENDING")))
        .returning()
        .get();
      if (!row) return events;
      const settled = publicChallenge(toChallengeRecord(row));
      return [...events, this.event({ type: `challenge.${failure.settle.toLowerCase()}`, serviceSid: settled.serviceSid, resourceSid: settled.sid, data: settled, now: failure.now })];
    });
  }

  rateLimiter(options: { points: number; duration: number; keyPrefix: string }): RateLimiterAbstract {
    return new RateLimiterSQLite({ ...options, storeClient: this.sqlite, storeType: "better-sqlite3", tableName: "rate_limits", tableCreated: true });
  }

  async fraudBlocks(serviceSid: string, prefix: string, since: number): Promise<FraudBlock[]> {
    const b = t.fraudBlocks;
    const rows = this.db
      .select()
      .from(b)
      .where(and(eq(b.serviceSid, serviceSid), eq(b.prefix, prefix), gt(b.blockedUntil, since)))
      .orderBy(desc(b.blockedUntil))
      .all();
    return rows.map(toFraudBlock);
  }

  async prefixTraffic(q: PrefixTrafficQuery): Promise<PrefixCounts> {
    const v = t.verifications;
    const approved = sql`${v.status} = 'APPROVED'`;
    const recent = sql`${v.dateCreated} > ${q.recentStart}`;
    const matured = sql`${recent} and ${v.dateCreated} <= ${q.maturedBefore}`;
    const history = sql`${v.dateCreated} <= ${q.historyEnd}`;
    const count = (condition: ReturnType<typeof sql>) => sql<number>`coalesce(sum(case when ${condition} then 1 else 0 end), 0)`;
    return this.db
      .select({
        recent: count(recent),
        recentApproved: count(sql`${recent} and ${approved}`),
        matured: count(matured),
        maturedApproved: count(sql`${matured} and ${approved}`),
        history: count(history),
        historyApproved: count(sql`${history} and ${approved}`),
      })
      .from(v)
      .where(and(eq(v.serviceSid, q.serviceSid), eq(v.prefix, q.prefix), gt(v.dateCreated, q.historyStart), eq(v.testMode, false)))
      .get() as PrefixCounts;
  }

  async recordFraudBlock(block: FraudBlock, data: Record<string, unknown>) {
    return this.write(() => {
      const b = t.fraudBlocks;
      const active = this.db
        .select()
        .from(b)
        .where(and(eq(b.serviceSid, block.serviceSid), eq(b.prefix, block.prefix), gt(b.blockedUntil, block.dateCreated)))
        .get();
      if (active) return { block: toFraudBlock(active), event: null };
      this.db.insert(b).values(block).run();
      const event = this.event({ type: "fraud_guard.blocked", serviceSid: block.serviceSid, resourceSid: block.sid, data: { ...block, ...data }, now: block.dateCreated });
      return { block, event };
    });
  }

  async liftFraudBlock(sid: string, serviceSid: string | null, now: number) {
    return this.write(() => {
      const b = t.fraudBlocks;
      const found = this.db.select().from(b).where(serviceSid ? and(eq(b.sid, sid), eq(b.serviceSid, serviceSid)) : eq(b.sid, sid)).get();
      if (!found) return null;
      if (found.blockedUntil <= now) return { block: toFraudBlock(found), event: null };
      const row = this.db.update(b).set({ blockedUntil: now, liftedAt: now }).where(eq(b.sid, sid)).returning().get() as FraudBlockRow;
      const block = toFraudBlock(row);
      return { block, event: this.event({ type: "fraud_guard.lifted", serviceSid: block.serviceSid, resourceSid: sid, data: block, now }) };
    });
  }

  async listFraudBlocks(serviceSid: string, activeAt: number | null, page: PageRequest) {
    const b = t.fraudBlocks;
    const rows = this.db
      .select()
      .from(b)
      .where(and(eq(b.serviceSid, serviceSid), lt(b.seq, decodeCursor(page.after) || Number.MAX_SAFE_INTEGER), activeAt === null ? undefined : gt(b.blockedUntil, activeAt)))
      .orderBy(desc(b.seq))
      .limit(page.first + 1)
      .all();
    return pageOf(rows, page.first, toFraudBlock);
  }

  async createWebhook(webhook: Webhook, secretSealed: string): Promise<VerifyEvent> {
    return this.write(() => {
      this.db.insert(t.webhooks).values({ ...webhook, eventTypes: JSON.stringify(webhook.eventTypes), secretSealed }).run();
      return this.event({ type: "webhook.created", serviceSid: webhook.serviceSid, resourceSid: webhook.sid, data: webhook, now: webhook.dateCreated });
    });
  }

  async updateWebhook(sid: string, serviceSid: string | null, patch: WebhookPatch, now: number) {
    return this.write(() => {
      const w = t.webhooks;
      const { eventTypes, ...rest } = patch;
      const changes = { ...rest, ...(eventTypes ? { eventTypes: JSON.stringify(eventTypes) } : {}), dateUpdated: now };
      const row = this.db.update(w).set(changes).where(serviceSid ? and(eq(w.sid, sid), eq(w.serviceSid, serviceSid)) : eq(w.sid, sid)).returning().get();
      if (!row) return null;
      const webhook = toWebhook(row);
      return { webhook, event: this.event({ type: "webhook.updated", serviceSid: webhook.serviceSid, resourceSid: sid, data: webhook, now }) };
    });
  }

  async deleteWebhook(sid: string, serviceSid: string | null, now: number) {
    return this.write(() => {
      const w = t.webhooks;
      const row = this.db.delete(w).where(serviceSid ? and(eq(w.sid, sid), eq(w.serviceSid, serviceSid)) : eq(w.sid, sid)).returning().get();
      if (!row) return null;
      const d = t.webhookDeliveries;
      this.db.update(d).set({ status: "CANCELED", dateUpdated: now }).where(and(eq(d.webhookSid, sid), eq(d.status, "PENDING"))).run();
      const webhook = toWebhook(row);
      return { webhook, event: this.event({ type: "webhook.deleted", serviceSid: webhook.serviceSid, resourceSid: sid, data: webhook, now }) };
    });
  }

  async getWebhook(sid: string): Promise<Webhook | null> {
    const row = this.db.select().from(t.webhooks).where(eq(t.webhooks.sid, sid)).get();
    return row ? toWebhook(row) : null;
  }

  async listWebhooks(serviceSid: string): Promise<Webhook[]> {
    return this.db.select().from(t.webhooks).where(eq(t.webhooks.serviceSid, serviceSid)).orderBy(asc(t.webhooks.seq)).all().map(toWebhook);
  }

  async webhookJob(deliveryId: number): Promise<WebhookJob | null> {
    const delivery = this.db.select().from(t.webhookDeliveries).where(eq(t.webhookDeliveries.seq, deliveryId)).get();
    if (!delivery) return null;
    const hook = this.db.select().from(t.webhooks).where(eq(t.webhooks.sid, delivery.webhookSid)).get();
    const event = this.db.select().from(t.events).where(eq(t.events.sid, delivery.eventSid)).get();
    if (!event) return null;
    const { seq: _seq, ...e } = event;
    return {
      delivery: toWebhookDelivery(delivery),
      webhook: hook ? { ...toWebhook(hook), secretSealed: hook.secretSealed } : null,
      event: { ...e, data: JSON.parse(e.data) },
    } as WebhookJob;
  }

  async recordWebhookAttempt(result: WebhookAttemptResult): Promise<void> {
    await this.write(() => {
      const d = t.webhookDeliveries;
      const tried = result.outcome !== "CANCELED";
      const status = result.outcome === "RETRY" ? "PENDING" : result.outcome;
      this.db
        .update(d)
        .set({
          status,
          attempts: tried ? sql`${d.attempts} + 1` : d.attempts,
          ...(tried ? { lastStatusCode: result.statusCode, lastError: result.error } : {}),
          dateUpdated: result.now,
          deliveredAt: result.outcome === "DELIVERED" ? result.now : null,
        })
        .where(eq(d.seq, result.deliveryId))
        .run();
      if (result.outcome === "RETRY") this.db.update(t.outbox).set({ runAt: result.runAt, leaseUntil: null, lastError: result.error }).where(eq(t.outbox.id, result.jobId)).run();
      else this.deleteJob().run({ id: result.jobId });
    });
  }

  async listWebhookDeliveries(webhookSid: string, status: WebhookDeliveryStatus | null, page: PageRequest) {
    const d = t.webhookDeliveries;
    const rows = this.db
      .select()
      .from(d)
      .where(and(eq(d.webhookSid, webhookSid), lt(d.seq, decodeCursor(page.after) || Number.MAX_SAFE_INTEGER), status ? eq(d.status, status) : undefined))
      .orderBy(desc(d.seq))
      .limit(page.first + 1)
      .all();
    return pageOf(rows, page.first, toWebhookDelivery);
  }

  async listVerificationAttempts(serviceSid: string, filter: AttemptFilter, page: PageRequest) {
    const a = t.sendAttempts;
    const v = t.verifications;
    const rows = this.db
      .select({ attempt: a, status: v.status, country: v.country, testMode: v.testMode })
      .from(a)
      .innerJoin(v, eq(v.sid, a.verificationSid))
      .where(and(eq(a.serviceSid, serviceSid), lt(a.seq, decodeCursor(page.after) || Number.MAX_SAFE_INTEGER), ...attemptConditions({ attempts: a, verifications: v }, filter)))
      .orderBy(desc(a.seq))
      .limit(page.first + 1)
      .all();
    return pageOf(
      rows.map((r) => ({ ...r, seq: r.attempt.seq })),
      page.first,
      (r) => toVerificationAttempt(r.attempt, r),
    );
  }

  async verificationStats(serviceSid: string, filter: StatsFilter): Promise<VerificationStats> {
    const v = t.verifications;
    const a = t.sendAttempts;
    const where = and(...statsConditions({ attempts: a, verifications: v }, serviceSid, filter));
    const converted = sql<number>`coalesce(sum(case when ${v.status} = 'APPROVED' then 1 else 0 end), 0)`;
    const byChannel = this.db.select({ key: v.channel, total: sql<number>`count(*)`, converted }).from(v).where(where).groupBy(v.channel).all();
    const byCountry = this.db.select({ key: sql<string>`coalesce(${v.country}, '')`, total: sql<number>`count(*)`, converted }).from(v).where(where).groupBy(v.country).all();
    const attempts = this.db.select({ status: a.status, n: sql<number>`count(*)` }).from(a).innerJoin(v, eq(v.sid, a.verificationSid)).where(where).groupBy(a.status).all();
    return statsOf(byChannel, byCountry, attempts);
  }

}

