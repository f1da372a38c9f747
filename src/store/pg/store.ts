import { and, asc, desc, eq, gt, inArray, isNull, lt, lte, or, sql } from "drizzle-orm";
import { type NodePgDatabase, drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";
import { newSid } from "../../domain/ids.js";
import type { ChallengeFallback, ChallengeStatus, FactorType, FraudBlock, Webhook, WebhookDeliveryStatus, VerificationStats, Challenge, Entity, PasskeyCredential, VerifyEvent } from "../../domain/types.js";
import { decodeCursor } from "../cursor.js";
import type {
  AttemptClaim,
  ChallengeFailure,
  FactorFailure,
  AttemptFilter,
  PrefixTrafficQuery,
  StatsFilter,
  WebhookAttemptResult,
  WebhookJob,
  WebhookPatch,
  ChallengeRecord,
  ChallengeResponse,
  FactorRecord,
  NewFactor,
  OutboxJob,
  PageRequest,
  Store,
} from "../port.js";
import { toFraudBlock, toWebhook, toWebhookDelivery, toVerificationAttempt, wantsEvent, type FactorRow, publicChallenge, publicFactor, toChallengeRecord, toFactorRecord, pageOf } from "../rows.js";
import * as t from "./schema.js";
import { SharedStore } from "../shared/store.js";
import { PgRunner } from "./runner.js";
import { RateLimiterPostgres, type RateLimiterAbstract } from "rate-limiter-flexible";
import type { PrefixCounts } from "../../domain/policy/fraud.js";
import { attemptConditions, statsConditions, statsOf } from "../insights.js";
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

  async ping(): Promise<void> {
    await this.probe.query("select 1");
  }

  async claimJobs(now: number, leaseMs: number, limit: number): Promise<OutboxJob[]> {
    const o = t.outbox;
    // Many instances claim at once; SKIP LOCKED hands each job to exactly one of them.
    const due = this.db
      .select({ id: o.id })
      .from(o)
      .where(and(lte(o.runAt, now), or(isNull(o.leaseUntil), lte(o.leaseUntil, now))))
      .orderBy(asc(o.runAt), asc(o.id))
      .limit(limit)
      .for("update", { skipLocked: true });
    const rows = await this.db
      .update(o)
      .set({ leaseUntil: now + leaseMs, tries: sql`${o.tries} + 1` })
      .where(inArray(o.id, due))
      .returning();
    return rows.map((r) => ({ id: r.id, kind: r.kind as OutboxJob["kind"], refSid: r.refSid, tries: r.tries }));
  }

  async retryJob(jobId: number, runAt: number, error: string): Promise<void> {
    await this.db.update(t.outbox).set({ runAt, leaseUntil: null, lastError: error }).where(eq(t.outbox.id, jobId));
  }

  async extendLeases(jobIds: number[], until: number): Promise<void> {
    if (jobIds.length > 0) await this.db.update(t.outbox).set({ leaseUntil: until }).where(inArray(t.outbox.id, jobIds));
  }

  async dropJob(jobId: number): Promise<void> {
    await this.db.delete(t.outbox).where(eq(t.outbox.id, jobId));
  }

  async pendingJobCount(): Promise<number> {
    const [row] = await this.db.select({ n: sql<number>`count(*)::int` }).from(t.outbox);
    return row?.n ?? 0;
  }

  private async factorRecord(q: Q, row: FactorRow): Promise<FactorRecord> {
    const [entity] = await q.select({ userHandle: t.entities.userHandle }).from(t.entities).where(eq(t.entities.sid, row.entitySid));
    return toFactorRecord(row, entity?.userHandle ?? "");
  }

  async ensureEntity(entity: Entity, now: number): Promise<Entity> {
    const e = t.entities;
    await this.db.insert(e).values({ ...entity, dateCreated: now }).onConflictDoNothing();
    const [row] = await this.db.select().from(e).where(and(eq(e.serviceSid, entity.serviceSid), eq(e.identity, entity.identity)));
    return { sid: row.sid, serviceSid: row.serviceSid, identity: row.identity, userHandle: row.userHandle };
  }

  async createFactor(factor: NewFactor): Promise<VerifyEvent> {
    return this.db.transaction(async (tx) => {
      const { metadata, secretSealed, config, ...columns } = factor;
      await tx.insert(t.factors).values({ ...columns, secret: secretSealed, config: config ? JSON.stringify(config) : null, metadata: metadata ? JSON.stringify(metadata) : null });
      const data = publicFactor(toFactorRecord({ ...columns, seq: 0, credentialId: null, counter: 0, transports: null, failedAttempts: 0, metadata: null, config: null, secret: null }, ""));
      return this.event(tx, { type: "factor.created", serviceSid: factor.serviceSid, resourceSid: factor.sid, data, now: factor.dateCreated });
    });
  }

  async getFactor(sid: string): Promise<FactorRecord | null> {
    const [row] = await this.db.select().from(t.factors).where(eq(t.factors.sid, sid));
    return row ? this.factorRecord(this.db, row) : null;
  }

  async listPasskeys(serviceSid: string, identity: string): Promise<FactorRecord[]> {
    const f = t.factors;
    const rows = await this.db
      .select()
      .from(f)
      .where(and(eq(f.serviceSid, serviceSid), eq(f.identity, identity), eq(f.factorType, "PASSKEY"), eq(f.status, "VERIFIED")))
      .orderBy(asc(f.seq));
    return Promise.all(rows.map((row) => this.factorRecord(this.db, row)));
  }

  async findPasskey(serviceSid: string, credentialId: string): Promise<FactorRecord | null> {
    const f = t.factors;
    const [row] = await this.db.select().from(f).where(and(eq(f.serviceSid, serviceSid), eq(f.credentialId, credentialId), eq(f.status, "VERIFIED")));
    return row ? this.factorRecord(this.db, row) : null;
  }

  async newestVerifiedFactor(serviceSid: string, identity: string, factorType: FactorType): Promise<FactorRecord | null> {
    const f = t.factors;
    const [row] = await this.db
      .select()
      .from(f)
      .where(and(eq(f.serviceSid, serviceSid), eq(f.identity, identity), eq(f.factorType, factorType), eq(f.status, "VERIFIED")))
      .orderBy(desc(f.seq))
      .limit(1);
    return row ? this.factorRecord(this.db, row) : null;
  }

  async expireChallenges(now: number, limit: number): Promise<VerifyEvent[]> {
    return this.db.transaction(async (tx) => {
      const c = t.challenges;
      const due = await tx.select({ sid: c.sid }).from(c).where(and(eq(c.status, "PENDING"), lte(c.expiresAt, now))).limit(limit).for("update", { skipLocked: true });
      const events: VerifyEvent[] = [];
      for (const { sid } of due) {
        const [row] = await tx
          .update(c)
          .set({ status: "EXPIRED", dateUpdated: now, version: sql`${c.version} + 1` })
          .where(and(eq(c.sid, sid), eq(c.status, "PENDING")))
          .returning();
        if (!row) continue;
        const challenge = publicChallenge(toChallengeRecord(row));
        events.push(await this.event(tx, { type: "challenge.expired", serviceSid: challenge.serviceSid, resourceSid: sid, data: challenge, now }));
      }
      return events;
    });
  }

  async claimFactorVerification(claim: AttemptClaim) {
    const f = t.factors;
    // One statement: concurrent claims queue on the row lock and re-check the condition (no read-then-write).
    const [row] = await this.db
      .update(f)
      .set({ failedAttempts: sql`${f.failedAttempts} + 1`, dateUpdated: claim.now })
      .where(and(eq(f.sid, claim.sid), eq(f.status, claim.status), lt(f.failedAttempts, claim.cap)))
      .returning();
    if (row) return { claimed: true as const, factor: await this.factorRecord(this.db, row) };
    const [current] = await this.db.select().from(f).where(eq(f.sid, claim.sid));
    return { claimed: false as const, factor: current ? await this.factorRecord(this.db, current) : null };
  }

  async verifyFactor(sid: string, proof: { credential?: PasskeyCredential; counter?: number }, now: number) {
    return this.db.transaction(async (tx) => {
      const f = t.factors;
      const { credential } = proof;
      // The claimed attempt is given back whether or not this answer was first: a right answer is no failure.
      await tx.update(f).set({ failedAttempts: sql`greatest(${f.failedAttempts} - 1, 0)` }).where(eq(f.sid, sid));
      const [row] = await tx
        .update(f)
        .set({
          status: "VERIFIED",
          ...(credential ? { credentialId: credential.credentialId, publicKey: credential.publicKey, counter: credential.counter, transports: JSON.stringify(credential.transports) } : {}),
          ...(proof.counter !== undefined ? { counter: proof.counter } : {}),
          pendingChallenge: null,
          dateUpdated: now,
        })
        .where(and(eq(f.sid, sid), eq(f.status, "UNVERIFIED")))
        .returning();
      if (!row) return null;
      const factor = publicFactor(await this.factorRecord(tx, row));
      return { factor, event: await this.event(tx, { type: "factor.verified", serviceSid: factor.serviceSid, resourceSid: sid, data: factor, now }) };
    });
  }

  async failFactor(failure: FactorFailure): Promise<VerifyEvent | null> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.select().from(t.factors).where(eq(t.factors.sid, failure.sid));
      if (!row) return null;
      const factor = publicFactor(await this.factorRecord(tx, row));
      return this.event(tx, { type: failure.type, serviceSid: factor.serviceSid, resourceSid: factor.sid, data: { ...factor, failedAttempts: failure.failedAttempts }, now: failure.now });
    });
  }

  async deleteFactor(sid: string, now: number) {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.delete(t.factors).where(eq(t.factors.sid, sid)).returning();
      if (!row) return null;
      const factor = publicFactor(await this.factorRecord(tx, row));
      return { factor, event: await this.event(tx, { type: "factor.deleted", serviceSid: factor.serviceSid, resourceSid: sid, data: factor, now }) };
    });
  }

  async createChallenge(challenge: Challenge, extra: { webauthnChallenge?: string | null; fallback?: ChallengeFallback | null; jobs?: { kind: OutboxJob["kind"]; runAt: number }[] }): Promise<VerifyEvent> {
    return this.db.transaction(async (tx) => {
      await tx.insert(t.challenges).values({
        ...challenge,
        silent: challenge.silent ? 1 : 0,
        details: challenge.details ? JSON.stringify(challenge.details) : null,
        hiddenDetails: challenge.hiddenDetails ? JSON.stringify(challenge.hiddenDetails) : null,
        webauthnChallenge: extra.webauthnChallenge ?? null,
        fallback: extra.fallback ? JSON.stringify(extra.fallback) : null,
        dateUpdated: challenge.dateCreated,
      });
      for (const job of extra.jobs ?? []) await tx.insert(t.outbox).values({ kind: job.kind, refSid: challenge.sid, runAt: job.runAt, createdAt: challenge.dateCreated });
      return this.event(tx, { type: "challenge.created", serviceSid: challenge.serviceSid, resourceSid: challenge.sid, data: challenge, now: challenge.dateCreated });
    });
  }

  async getChallenge(sid: string): Promise<ChallengeRecord | null> {
    const [row] = await this.db.select().from(t.challenges).where(eq(t.challenges.sid, sid));
    return row ? toChallengeRecord(row) : null;
  }

  async listChallenges(factorSid: string, status: ChallengeStatus | null, page: PageRequest) {
    const c = t.challenges;
    const rows = await this.db
      .select()
      .from(c)
      .where(and(eq(c.factorSid, factorSid), lt(c.seq, decodeCursor(page.after) || Number.MAX_SAFE_INTEGER), status ? eq(c.status, status) : undefined))
      .orderBy(desc(c.seq))
      .limit(page.first + 1);
    return pageOf(rows, page.first, toChallengeRecord);
  }

  async linkChallengeFallback(sid: string, verificationSid: string, now: number) {
    return this.db.transaction(async (tx) => {
      const c = t.challenges;
      const [row] = await tx
        .update(c)
        .set({ fallbackVerificationSid: verificationSid, dateUpdated: now, version: sql`${c.version} + 1` })
        .where(and(eq(c.sid, sid), eq(c.status, "PENDING"), isNull(c.fallbackVerificationSid)))
        .returning();
      if (!row) return null;
      const challenge = publicChallenge(toChallengeRecord(row));
      return { challenge, event: await this.event(tx, { type: "challenge.fallback_started", serviceSid: challenge.serviceSid, resourceSid: sid, data: challenge, now }) };
    });
  }

  async findChallengeByFallback(verificationSid: string) {
    const [row] = await this.db.select().from(t.challenges).where(eq(t.challenges.fallbackVerificationSid, verificationSid));
    return row ? toChallengeRecord(row) : null;
  }

  async respondChallenge(response: ChallengeResponse) {
    return this.db.transaction(async (tx) => {
      const c = t.challenges;
      const [current] = await tx.select().from(c).where(eq(c.sid, response.sid)).for("update");
      // A right answer that came too late gives its claimed attempt back all the same.
      const giveBack = { failedAttempts: sql`greatest(${c.failedAttempts} - 1, 0)` };
      const tooLate = async (reason: "RESPONDED" | "EXPIRED") => {
        if (current && response.releaseClaim) await tx.update(c).set(giveBack).where(eq(c.sid, response.sid));
        return { ok: false as const, reason };
      };
      if (!current || (current.status !== "PENDING" && current.status !== "EXPIRED")) return tooLate("RESPONDED");
      if (current.status === "EXPIRED" || current.expiresAt <= response.now) return tooLate("EXPIRED");
      if (response.counter) {
        const f = t.factors;
        const [moved] = await tx
          .update(f)
          .set({ counter: response.counter.to, dateUpdated: response.now })
          .where(and(eq(f.sid, response.factorSid), eq(f.counter, response.counter.from)))
          .returning();
        if (!moved) return { ok: false as const, reason: "CLONED" as const };
      }
      if (response.totpStep !== undefined) {
        const f = t.factors;
        // A code's time step is accepted once: parallel answers with the same code queue on this row.
        const [moved] = await tx
          .update(f)
          .set({ counter: response.totpStep, dateUpdated: response.now })
          .where(and(eq(f.sid, response.factorSid), lt(f.counter, response.totpStep)))
          .returning({ sid: f.sid });
        if (!moved) return { ok: false as const, reason: "REPLAY" as const };
      }
      const [row] = await tx
        .update(c)
        .set({ status: response.status, factorSid: response.factorSid, identity: response.identity, dateResponded: response.now, dateUpdated: response.now, version: sql`${c.version} + 1`, ...(response.releaseClaim ? giveBack : {}) })
        .where(and(eq(c.sid, response.sid), eq(c.status, "PENDING")))
        .returning();
      const challenge = publicChallenge(toChallengeRecord(row));
      const event = await this.event(tx, { type: `challenge.${response.status.toLowerCase()}`, serviceSid: challenge.serviceSid, resourceSid: challenge.sid, data: challenge, now: response.now });
      return { ok: true as const, challenge, events: [event] };
    });
  }

  async claimChallengeAnswer(claim: AttemptClaim) {
    const c = t.challenges;
    // One statement: concurrent claims queue on the row lock and re-check the condition (no read-then-write).
    const [row] = await this.db
      .update(c)
      .set({ failedAttempts: sql`${c.failedAttempts} + 1`, dateUpdated: claim.now })
      .where(and(eq(c.sid, claim.sid), eq(c.status, claim.status), gt(c.expiresAt, claim.now), lt(c.failedAttempts, claim.cap)))
      .returning();
    if (row) return { claimed: true as const, challenge: toChallengeRecord(row) };
    const [current] = await this.db.select().from(c).where(eq(c.sid, claim.sid));
    return { claimed: false as const, challenge: current ? toChallengeRecord(current) : null };
  }

  async failChallenge(failure: ChallengeFailure): Promise<VerifyEvent[]> {
    return this.db.transaction(async (tx) => {
      const c = t.challenges;
      const [found] = await tx.select().from(c).where(eq(c.sid, failure.sid)).for("update");
      if (!found) return [];
      const current = publicChallenge(toChallengeRecord(found));
      const events = [await this.event(tx, { type: failure.type, serviceSid: current.serviceSid, resourceSid: current.sid, data: { ...current, failedAttempts: failure.failedAttempts }, now: failure.now })];
      if (!failure.settle) return events;
      const [row] = await tx
        .update(c)
        .set({ status: failure.settle, dateResponded: failure.now, dateUpdated: failure.now, version: sql`${c.version} + 1` })
        .where(and(eq(c.sid, failure.sid), eq(c.status, "PENDING")))
        .returning();
      if (!row) return events;
      const settled = publicChallenge(toChallengeRecord(row));
      return [...events, await this.event(tx, { type: `challenge.${failure.settle.toLowerCase()}`, serviceSid: settled.serviceSid, resourceSid: settled.sid, data: settled, now: failure.now })];
    });
  }

  rateLimiter(options: { points: number; duration: number; keyPrefix: string }): RateLimiterAbstract {
    return new RateLimiterPostgres({ ...options, storeClient: this.pool, tableName: "rate_limits", tableCreated: true });
  }

  async fraudBlocks(serviceSid: string, prefix: string, since: number): Promise<FraudBlock[]> {
    const b = t.fraudBlocks;
    const rows = await this.db
      .select()
      .from(b)
      .where(and(eq(b.serviceSid, serviceSid), eq(b.prefix, prefix), gt(b.blockedUntil, since)))
      .orderBy(desc(b.blockedUntil));
    return rows.map(toFraudBlock);
  }

  async prefixTraffic(q: PrefixTrafficQuery): Promise<PrefixCounts> {
    const v = t.verifications;
    const approved = sql`${v.status} = 'APPROVED'`;
    const recent = sql`${v.dateCreated} > ${q.recentStart}`;
    const matured = sql`${recent} and ${v.dateCreated} <= ${q.maturedBefore}`;
    const history = sql`${v.dateCreated} <= ${q.historyEnd}`;
    const count = (condition: ReturnType<typeof sql>) => sql<number>`coalesce(sum(case when ${condition} then 1 else 0 end), 0)::int`;
    const [traffic] = await this.db
      .select({
        recent: count(recent),
        recentApproved: count(sql`${recent} and ${approved}`),
        matured: count(matured),
        maturedApproved: count(sql`${matured} and ${approved}`),
        history: count(history),
        historyApproved: count(sql`${history} and ${approved}`),
      })
      .from(v)
      .where(and(eq(v.serviceSid, q.serviceSid), eq(v.prefix, q.prefix), gt(v.dateCreated, q.historyStart), eq(v.testMode, false)));
    return traffic as PrefixCounts;
  }

  async recordFraudBlock(block: FraudBlock, data: Record<string, unknown>) {
    return this.db.transaction(async (tx) => {
      // Instances that detect the same burst at once write one block.
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`fraud:${block.serviceSid}:${block.prefix}`}))`);
      const b = t.fraudBlocks;
      const [active] = await tx
        .select()
        .from(b)
        .where(and(eq(b.serviceSid, block.serviceSid), eq(b.prefix, block.prefix), gt(b.blockedUntil, block.dateCreated)));
      if (active) return { block: toFraudBlock(active), event: null };
      await tx.insert(b).values(block);
      const event = await this.event(tx, { type: "fraud_guard.blocked", serviceSid: block.serviceSid, resourceSid: block.sid, data: { ...block, ...data }, now: block.dateCreated });
      return { block, event };
    });
  }

  async liftFraudBlock(sid: string, serviceSid: string | null, now: number) {
    return this.db.transaction(async (tx) => {
      const b = t.fraudBlocks;
      const [found] = await tx.select().from(b).where(serviceSid ? and(eq(b.sid, sid), eq(b.serviceSid, serviceSid)) : eq(b.sid, sid)).for("update");
      if (!found) return null;
      if (found.blockedUntil <= now) return { block: toFraudBlock(found), event: null };
      const [row] = await tx.update(b).set({ blockedUntil: now, liftedAt: now }).where(eq(b.sid, sid)).returning();
      const block = toFraudBlock(row);
      return { block, event: await this.event(tx, { type: "fraud_guard.lifted", serviceSid: block.serviceSid, resourceSid: sid, data: block, now }) };
    });
  }

  async listFraudBlocks(serviceSid: string, activeAt: number | null, page: PageRequest) {
    const b = t.fraudBlocks;
    const rows = await this.db
      .select()
      .from(b)
      .where(and(eq(b.serviceSid, serviceSid), lt(b.seq, decodeCursor(page.after) || Number.MAX_SAFE_INTEGER), activeAt === null ? undefined : gt(b.blockedUntil, activeAt)))
      .orderBy(desc(b.seq))
      .limit(page.first + 1);
    return pageOf(rows, page.first, toFraudBlock);
  }

  async createWebhook(webhook: Webhook, secretSealed: string): Promise<VerifyEvent> {
    return this.db.transaction(async (tx) => {
      await tx.insert(t.webhooks).values({ ...webhook, eventTypes: JSON.stringify(webhook.eventTypes), secretSealed });
      return this.event(tx, { type: "webhook.created", serviceSid: webhook.serviceSid, resourceSid: webhook.sid, data: webhook, now: webhook.dateCreated });
    });
  }

  async updateWebhook(sid: string, serviceSid: string | null, patch: WebhookPatch, now: number) {
    return this.db.transaction(async (tx) => {
      const w = t.webhooks;
      const { eventTypes, ...rest } = patch;
      const changes = { ...rest, ...(eventTypes ? { eventTypes: JSON.stringify(eventTypes) } : {}), dateUpdated: now };
      const [row] = await tx.update(w).set(changes).where(serviceSid ? and(eq(w.sid, sid), eq(w.serviceSid, serviceSid)) : eq(w.sid, sid)).returning();
      if (!row) return null;
      const webhook = toWebhook(row);
      return { webhook, event: await this.event(tx, { type: "webhook.updated", serviceSid: webhook.serviceSid, resourceSid: sid, data: webhook, now }) };
    });
  }

  async deleteWebhook(sid: string, serviceSid: string | null, now: number) {
    return this.db.transaction(async (tx) => {
      const w = t.webhooks;
      const [row] = await tx.delete(w).where(serviceSid ? and(eq(w.sid, sid), eq(w.serviceSid, serviceSid)) : eq(w.sid, sid)).returning();
      if (!row) return null;
      const d = t.webhookDeliveries;
      await tx.update(d).set({ status: "CANCELED", dateUpdated: now }).where(and(eq(d.webhookSid, sid), eq(d.status, "PENDING")));
      const webhook = toWebhook(row);
      return { webhook, event: await this.event(tx, { type: "webhook.deleted", serviceSid: webhook.serviceSid, resourceSid: sid, data: webhook, now }) };
    });
  }

  async getWebhook(sid: string): Promise<Webhook | null> {
    const [row] = await this.db.select().from(t.webhooks).where(eq(t.webhooks.sid, sid));
    return row ? toWebhook(row) : null;
  }

  async listWebhooks(serviceSid: string): Promise<Webhook[]> {
    return (await this.db.select().from(t.webhooks).where(eq(t.webhooks.serviceSid, serviceSid)).orderBy(asc(t.webhooks.seq))).map(toWebhook);
  }

  async webhookJob(deliveryId: number): Promise<WebhookJob | null> {
    const [delivery] = await this.db.select().from(t.webhookDeliveries).where(eq(t.webhookDeliveries.seq, deliveryId));
    if (!delivery) return null;
    const [hook] = await this.db.select().from(t.webhooks).where(eq(t.webhooks.sid, delivery.webhookSid));
    const [event] = await this.db.select().from(t.events).where(eq(t.events.sid, delivery.eventSid));
    if (!event) return null;
    const { seq: _seq, ...e } = event;
    return {
      delivery: toWebhookDelivery(delivery),
      webhook: hook ? { ...toWebhook(hook), secretSealed: hook.secretSealed } : null,
      event: { ...e, data: JSON.parse(e.data) },
    };
  }

  async recordWebhookAttempt(result: WebhookAttemptResult): Promise<void> {
    await this.db.transaction(async (tx) => {
      const d = t.webhookDeliveries;
      const tried = result.outcome !== "CANCELED";
      const status = result.outcome === "RETRY" ? "PENDING" : result.outcome;
      await tx
        .update(d)
        .set({
          status,
          attempts: tried ? sql`${d.attempts} + 1` : d.attempts,
          ...(tried ? { lastStatusCode: result.statusCode, lastError: result.error } : {}),
          dateUpdated: result.now,
          deliveredAt: result.outcome === "DELIVERED" ? result.now : null,
        })
        .where(eq(d.seq, result.deliveryId));
      if (result.outcome === "RETRY") await tx.update(t.outbox).set({ runAt: result.runAt, leaseUntil: null, lastError: result.error }).where(eq(t.outbox.id, result.jobId));
      else await tx.delete(t.outbox).where(eq(t.outbox.id, result.jobId));
    });
  }

  async listWebhookDeliveries(webhookSid: string, status: WebhookDeliveryStatus | null, page: PageRequest) {
    const d = t.webhookDeliveries;
    const rows = await this.db
      .select()
      .from(d)
      .where(and(eq(d.webhookSid, webhookSid), lt(d.seq, decodeCursor(page.after) || Number.MAX_SAFE_INTEGER), status ? eq(d.status, status) : undefined))
      .orderBy(desc(d.seq))
      .limit(page.first + 1);
    return pageOf(rows, page.first, toWebhookDelivery);
  }

  async listVerificationAttempts(serviceSid: string, filter: AttemptFilter, page: PageRequest) {
    const a = t.sendAttempts;
    const v = t.verifications;
    const rows = await this.db
      .select({ attempt: a, status: v.status, country: v.country, testMode: v.testMode })
      .from(a)
      .innerJoin(v, eq(v.sid, a.verificationSid))
      .where(and(eq(a.serviceSid, serviceSid), lt(a.seq, decodeCursor(page.after) || Number.MAX_SAFE_INTEGER), ...attemptConditions({ attempts: a, verifications: v }, filter)))
      .orderBy(desc(a.seq))
      .limit(page.first + 1);
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
    const converted = sql<number>`coalesce(sum(case when ${v.status} = 'APPROVED' then 1 else 0 end), 0)::int`;
    const [byChannel, byCountry, attempts] = await Promise.all([
      this.db.select({ key: v.channel, total: sql<number>`count(*)::int`, converted }).from(v).where(where).groupBy(v.channel),
      this.db.select({ key: sql<string>`coalesce(${v.country}, '')`, total: sql<number>`count(*)::int`, converted }).from(v).where(where).groupBy(v.country),
      this.db.select({ status: a.status, n: sql<number>`count(*)::int` }).from(a).innerJoin(v, eq(v.sid, a.verificationSid)).where(where).groupBy(a.status),
    ]);
    return statsOf(byChannel, byCountry, attempts);
  }

}
