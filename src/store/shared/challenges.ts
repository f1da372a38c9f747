import { and, desc, eq, gt, isNull, lt, lte, sql } from "drizzle-orm";
import { type AnswerRefusal, challengeEvents, challengeMachine } from "../../domain/factor/machine.js";
import { publicChallenge } from "../../domain/factor/projections.js";
import type { Challenge, ChallengeFallback, ChallengeStatus, Page, VerifyEvent } from "../../domain/types.js";
import type { Step } from "../../domain/unit.js";
import { decodeCursor } from "../cursor.js";
import type { AttemptClaim, ChallengeFailure, ChallengeRecord, ChallengeResponse, OutboxJob, PageRequest } from "../port.js";
import { type ChallengeRow, pageOf, toChallengeRecord } from "../rows.js";
import { oneBack } from "./factors.js";
import { type Q, all, get, run } from "./ops.js";
import { insertJob, record } from "./record.js";

export type ChallengeExtra = { webauthnChallenge?: string | null; fallback?: ChallengeFallback | null; jobs?: { kind: OutboxJob["kind"]; runAt: number }[] };

const view = (row: ChallengeRow): Challenge => publicChallenge(toChallengeRecord(row));

/** Challenges of factors: written once for both dialects (PostgreSQL locks the challenge row where noted). */
export const challenges = {
  /** Inserts the challenge with its outbox jobs (push notification, silent fallback). */
  *create({ db, t }: Q, challenge: Challenge, extra: ChallengeExtra): Step<VerifyEvent> {
    yield* run(
      db.insert(t.challenges).values({
        ...challenge,
        silent: challenge.silent ? 1 : 0,
        details: challenge.details ? JSON.stringify(challenge.details) : null,
        hiddenDetails: challenge.hiddenDetails ? JSON.stringify(challenge.hiddenDetails) : null,
        webauthnChallenge: extra.webauthnChallenge ?? null,
        fallback: extra.fallback ? JSON.stringify(extra.fallback) : null,
        dateUpdated: challenge.dateCreated,
      }),
    );
    for (const job of extra.jobs ?? []) yield* insertJob.run({ kind: job.kind, refSid: challenge.sid, runAt: job.runAt, now: challenge.dateCreated });
    return yield* record(challengeEvents.created(challenge));
  },

  *get({ db, t }: Q, sid: string): Step<ChallengeRecord | null> {
    const row = yield* get(db.select().from(t.challenges).where(eq(t.challenges.sid, sid)));
    return row ? toChallengeRecord(row) : null;
  },

  /** The passkey challenge whose ceremony has this WebAuthn challenge (Twilio's ApproveChallenge names no challenge). */
  *findByWebauthn({ db, t }: Q, serviceSid: string, webauthnChallenge: string): Step<ChallengeRecord | null> {
    const c = t.challenges;
    const row = yield* get(
      db
        .select()
        .from(c)
        .where(and(eq(c.serviceSid, serviceSid), eq(c.webauthnChallenge, webauthnChallenge))),
    );
    return row ? toChallengeRecord(row) : null;
  },

  /** Queues the push notice of a challenge again, unless one is still waiting to be sent (true: queued). */
  *queueNotice({ db, t }: Q, sid: string, now: number): Step<boolean> {
    const o = t.outbox;
    // The challenge's row lock makes parallel calls take turns (PostgreSQL): one of them queues.
    const challenge = yield* get(db.select({ sid: t.challenges.sid }).from(t.challenges).where(eq(t.challenges.sid, sid)), {});
    if (!challenge) return false;
    const waiting = yield* get(
      db
        .select({ id: o.id })
        .from(o)
        .where(and(eq(o.kind, "push_notify"), eq(o.refSid, sid))),
    );
    if (waiting) return false;
    yield* insertJob.run({ kind: "push_notify", refSid: sid, runAt: now, now });
    return true;
  },

  /** A factor's challenges, newest first. */
  *list({ db, t }: Q, factorSid: string, status: ChallengeStatus | null, page: PageRequest): Step<Page<ChallengeRecord>> {
    const c = t.challenges;
    const rows = yield* all(
      db
        .select()
        .from(c)
        .where(and(eq(c.factorSid, factorSid), lt(c.seq, decodeCursor(page.after) || Number.MAX_SAFE_INTEGER), status ? eq(c.status, status) : undefined))
        .orderBy(desc(c.seq))
        .limit(page.first + 1),
    );
    return pageOf(rows, page.first, toChallengeRecord);
  },

  /** An identity's challenges, oldest first unless `order` is desc; optionally of one factor, in one status. */
  *listOfEntity(
    { db, t }: Q,
    filter: { serviceSid: string; identity: string; factorSid: string | null; status: ChallengeStatus | null; order: "asc" | "desc" },
    page: PageRequest,
  ): Step<Page<ChallengeRecord>> {
    const c = t.challenges;
    const after = decodeCursor(page.after);
    const ascending = filter.order === "asc";
    const rows = yield* all(
      db
        .select()
        .from(c)
        .where(
          and(
            eq(c.serviceSid, filter.serviceSid),
            eq(c.identity, filter.identity),
            filter.factorSid ? eq(c.factorSid, filter.factorSid) : undefined,
            filter.status ? eq(c.status, filter.status) : undefined,
            ascending ? gt(c.seq, after) : lt(c.seq, after || Number.MAX_SAFE_INTEGER),
          ),
        )
        .orderBy(ascending ? c.seq : desc(c.seq))
        .limit(page.first + 1),
    );
    return pageOf(rows, page.first, toChallengeRecord);
  },

  /** Expires open challenges past their expiry; PostgreSQL skips rows another instance is expiring. */
  *expire({ db, t }: Q, now: number, limit: number): Step<VerifyEvent[]> {
    const c = t.challenges;
    const change = challengeMachine.expired();
    const due = yield* all(
      db
        .select({ sid: c.sid })
        .from(c)
        .where(and(eq(c.status, change.from), lte(c.expiresAt, now)))
        .limit(limit),
      { skipLocked: true },
    );
    const events: VerifyEvent[] = [];
    for (const { sid } of due) {
      const row = yield* get(
        db
          .update(c)
          .set({ status: change.to, dateUpdated: now, version: sql`${c.version} + 1` })
          .where(and(eq(c.sid, sid), eq(c.status, change.from)))
          .returning(),
      );
      if (row) events.push(yield* record(challengeEvents.changed(change, view(row), now)));
    }
    return events;
  },

  /** Records the fallback verification of an open challenge, once. */
  *linkFallback({ db, t }: Q, sid: string, verificationSid: string, now: number): Step<{ challenge: Challenge; event: VerifyEvent } | null> {
    const c = t.challenges;
    const row = yield* get(
      db
        .update(c)
        .set({ fallbackVerificationSid: verificationSid, dateUpdated: now, version: sql`${c.version} + 1` })
        .where(and(eq(c.sid, sid), eq(c.status, challengeMachine.open), isNull(c.fallbackVerificationSid)))
        .returning(),
    );
    if (!row) return null;
    const challenge = view(row);
    return { challenge, event: yield* record(challengeEvents.changed(challengeMachine.fallbackLinked, challenge, now)) };
  },

  *findByFallback({ db, t }: Q, verificationSid: string): Step<ChallengeRecord | null> {
    const row = yield* get(db.select().from(t.challenges).where(eq(t.challenges.fallbackVerificationSid, verificationSid)));
    return row ? toChallengeRecord(row) : null;
  },

  /**
   * Settles an open, unexpired challenge once (the row is locked first); a passkey's counter or a TOTP
   * step moves forward in the same transaction, or the answer is refused (CLONED, REPLAY).
   */
  *respond({ db, t }: Q, response: ChallengeResponse): Step<{ ok: true; challenge: Challenge; events: VerifyEvent[] } | { ok: false; reason: AnswerRefusal }> {
    const c = t.challenges;
    const f = t.factors;
    const current = yield* get(db.select().from(c).where(eq(c.sid, response.sid)), {});
    const giveBack = { failedAttempts: oneBack(c.failedAttempts) };
    const refusal = challengeMachine.refusal(current ? toChallengeRecord(current) : null, response.now);
    if (refusal) {
      // A right answer that came too late gives its claimed attempt back all the same.
      if (current && response.releaseClaim) yield* run(db.update(c).set(giveBack).where(eq(c.sid, response.sid)));
      return { ok: false, reason: refusal };
    }
    if (response.counter) {
      const moved = yield* get(
        db
          .update(f)
          .set({ counter: response.counter.to, dateUpdated: response.now })
          .where(and(eq(f.sid, response.factorSid), eq(f.counter, response.counter.from)))
          .returning({ sid: f.sid }),
      );
      if (!moved) return { ok: false, reason: "CLONED" };
    }
    if (response.totpStep !== undefined) {
      // A code's time step is accepted once: parallel answers with the same code race for this row.
      const moved = yield* get(
        db
          .update(f)
          .set({ counter: response.totpStep, dateUpdated: response.now })
          .where(and(eq(f.sid, response.factorSid), lt(f.counter, response.totpStep)))
          .returning({ sid: f.sid }),
      );
      if (!moved) return { ok: false, reason: "REPLAY" };
    }
    const change = challengeMachine.answered(response.status);
    const row = (yield* get(
      db
        .update(c)
        .set({
          status: change.to,
          factorSid: response.factorSid,
          identity: response.identity,
          dateResponded: response.now,
          dateUpdated: response.now,
          version: sql`${c.version} + 1`,
          ...(response.releaseClaim ? giveBack : {}),
        })
        .where(and(eq(c.sid, response.sid), eq(c.status, change.from)))
        .returning(),
    )) as ChallengeRow;
    const challenge = view(row);
    return { ok: true, challenge, events: [yield* record(challengeEvents.changed(change, challenge, response.now))] };
  },

  /** One conditional write (concurrent claims queue on the row and re-check it; no read-then-write). */
  *claimAnswer({ db, t }: Q, claim: AttemptClaim): Step<{ claimed: true; challenge: ChallengeRecord } | { claimed: false; challenge: ChallengeRecord | null }> {
    const c = t.challenges;
    const row = yield* get(
      db
        .update(c)
        .set({ failedAttempts: sql`${c.failedAttempts} + 1`, dateUpdated: claim.now })
        .where(and(eq(c.sid, claim.sid), eq(c.status, claim.status), gt(c.expiresAt, claim.now), lt(c.failedAttempts, claim.cap)))
        .returning(),
    );
    if (row) return { claimed: true, challenge: toChallengeRecord(row) };
    const current = yield* get(db.select().from(c).where(eq(c.sid, claim.sid)));
    return { claimed: false, challenge: current ? toChallengeRecord(current) : null };
  },

  /** A claimed answer that failed: its event, and the status it settles the challenge in, once (the row is locked first). */
  *fail({ db, t }: Q, failure: ChallengeFailure): Step<VerifyEvent[]> {
    const c = t.challenges;
    const found = yield* get(db.select().from(c).where(eq(c.sid, failure.sid)), {});
    if (!found) return [];
    const events = [yield* record(challengeEvents.failed(failure.type, view(found), failure.failedAttempts, failure.now))];
    const change = challengeMachine.failureSettles(failure.settle);
    if (!change) return events;
    const row = yield* get(
      db
        .update(c)
        .set({ status: change.to, dateResponded: failure.now, dateUpdated: failure.now, version: sql`${c.version} + 1` })
        .where(and(eq(c.sid, failure.sid), eq(c.status, change.from)))
        .returning(),
    );
    if (!row) return events;
    return [...events, yield* record(challengeEvents.changed(change, view(row), failure.now))];
  },
};
