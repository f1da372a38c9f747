import { and, asc, desc, eq, gt, isNull, lt, lte, sql } from "drizzle-orm";
import { type EventType, newEvent } from "../../domain/events.js";
import type { Verification, VerifyEvent } from "../../domain/types.js";
import type { Step } from "../../domain/unit.js";
import * as machine from "../../domain/verification/machine.js";
import { decodeCursor } from "../cursor.js";
import type { CheckJudge, CheckOutcome, CheckRequest, PageRequest, SnaResult, SnaSession, StartOutcome, StartPlan, StatusChange, StatusOutcome, VerificationFilter } from "../port.js";
import { type AttemptRow, type VerificationRow, pageOf, toVerification } from "../rows.js";
import { type Q, all, both, chain, get, run, serialize, statement } from "./ops.js";
import { insertJob, record } from "./record.js";

const p = sql.placeholder;
const { OPEN } = machine;

// The statements every start and check runs: prepared once (SQLite keeps their plans on the indexes:
// test/sqlite-plans.test.ts).
export const verificationBySid = statement("verification_by_sid", ({ db, t }) =>
  db
    .select()
    .from(t.verifications)
    .where(eq(t.verifications.sid, p("sid"))),
);
const latestByTo = statement("verification_latest_by_to", ({ db, t }) =>
  db
    .select()
    .from(t.verifications)
    .where(and(eq(t.verifications.serviceSid, p("serviceSid")), eq(t.verifications.to, p("to"))))
    .orderBy(desc(t.verifications.seq))
    .limit(1),
);
const pendingByTo = statement("verification_pending_by_to", ({ db, t }) =>
  db
    .select()
    .from(t.verifications)
    // `+expires_at`: without it SQLite's planner (no statistics) walks every pending verification by
    // (status, expires_at) instead of this recipient's few rows; a start then cost O(pending).
    .where(and(eq(t.verifications.serviceSid, p("serviceSid")), eq(t.verifications.to, p("to")), eq(t.verifications.status, OPEN), gt(sql`+${t.verifications.expiresAt}`, p("now"))))
    .orderBy(desc(t.verifications.seq))
    .limit(1),
);
export const attemptsOf = statement("verification_attempts", ({ db, t }) =>
  db
    .select()
    .from(t.sendAttempts)
    .where(eq(t.sendAttempts.verificationSid, p("sid")))
    .orderBy(asc(t.sendAttempts.seq)),
);
const sendsSince = statement("verification_sends_since", ({ db, t }) =>
  db
    .select({ n: sql<number>`cast(count(*) as integer)` })
    .from(t.sendAttempts)
    .where(and(eq(t.sendAttempts.serviceSid, p("serviceSid")), eq(t.sendAttempts.to, p("to")), gt(t.sendAttempts.time, p("since")))),
);
/** A new verification's columns, as parameters (its defaults: see `freshRow`). */
const verificationValues = () => ({
  sid: p("sid"),
  serviceSid: p("serviceSid"),
  to: p("to"),
  channel: p("channel"),
  status: OPEN,
  codeHash: p("codeHash"),
  codeSealed: p("codeSealed"),
  codeLength: p("codeLength"),
  maxCheckAttempts: p("maxCheckAttempts"),
  amount: p("amount"),
  payee: p("payee"),
  locale: p("locale"),
  customFriendlyName: p("customFriendlyName"),
  template: p("template"),
  deliveryOptions: p("deliveryOptions"),
  lookup: p("lookup"),
  tags: p("tags"),
  country: p("country"),
  prefix: p("prefix"),
  testMode: p("testMode"),
  dateCreated: p("now"),
  dateUpdated: p("now"),
  expiresAt: p("expiresAt"),
});
const insertVerification = statement("verification_insert", ({ db, t }) => db.insert(t.verifications).values(verificationValues()).returning());
/** The same insert when the unit already knows the row it writes (a start reads nothing back). */
const writeVerification = statement("verification_write", ({ db, t }) => db.insert(t.verifications).values(verificationValues()));
const touchForResend = statement("verification_resend", ({ db, t }) =>
  db
    .update(t.verifications)
    // A resend is sent as this start asks (its digits, its sender), not as the first one did.
    .set({ channel: sql`${p("channel")}`, deliveryOptions: sql`${p("deliveryOptions")}`, version: sql`${t.verifications.version} + 1`, dateUpdated: sql`${p("now")}` })
    .where(eq(t.verifications.sid, p("sid")))
    .returning(),
);
const attemptValues = () => ({ sid: p("sid"), verificationSid: p("verificationSid"), serviceSid: p("serviceSid"), to: p("to"), channel: p("channel"), status: p("status"), time: p("now") });
const insertAttempt = statement("attempt_insert", ({ db, t }) => db.insert(t.sendAttempts).values(attemptValues()).returning());
const writeAttempt = statement("attempt_write", ({ db, t }) => db.insert(t.sendAttempts).values(attemptValues()));
/** Claims one check attempt atomically: the cap holds however many checks run at once. */
const claimCheck = statement("verification_claim_check", ({ db, t }) =>
  db
    .update(t.verifications)
    .set({ checkAttempts: sql`${t.verifications.checkAttempts} + 1` })
    .where(and(eq(t.verifications.sid, p("sid")), eq(t.verifications.status, OPEN), lt(t.verifications.checkAttempts, t.verifications.maxCheckAttempts), gt(t.verifications.expiresAt, p("now"))))
    .returning(),
);
/** Moves a pending verification to a final state; the sealed code is destroyed with it. */
const settleChanges = (t: Q["t"]) => ({ status: sql`${p("status")}`, codeSealed: null, version: sql`${t.verifications.version} + 1`, dateUpdated: sql`${p("now")}` });
const settle = statement("verification_settle", ({ db, t }) =>
  db
    .update(t.verifications)
    .set(settleChanges(t))
    .where(and(eq(t.verifications.sid, p("sid")), eq(t.verifications.status, OPEN)))
    .returning(),
);
/** `settle` for a unit that holds the pending row (locked, or the embedded store's one writer) and knows what it becomes: `settled`. */
const settleHeld = statement("verification_settle_held", ({ db, t }) =>
  db
    .update(t.verifications)
    .set(settleChanges(t))
    .where(and(eq(t.verifications.sid, p("sid")), eq(t.verifications.status, OPEN))),
);
/** The row `settle` makes of a pending one. */
const settled = (row: VerificationRow, status: string, now: number): VerificationRow => ({ ...row, status, codeSealed: null, version: row.version + 1, dateUpdated: now });

/** The hot statements of this area, by the names the sqlite plans test knows. */
export const verificationStatements = { sendsSince, pendingByTo, latestByTo, verificationBySid, attemptsOf, claimCheck, settle };

/** The verification as it now is; pass `attempts` when they are already in hand. */
export function* view(_q: Q, row: VerificationRow, attempts?: AttemptRow[]): Step<Verification> {
  return toVerification(row, attempts ?? (yield* attemptsOf.all({ sid: row.sid })));
}

/** Writes the verification's event (its data: the verification as it now is). */
export function* verificationEvent(q: Q, type: EventType, row: VerificationRow, now: number, attempts?: AttemptRow[]): Step<{ verification: Verification; event: VerifyEvent }> {
  const verification = yield* view(q, row, attempts);
  return { verification, event: yield* record(newEvent(type, row.serviceSid, row.sid, verification, now)) };
}

function* settleWith(q: Q, sid: string, to: machine.Settle, now: number): Step<{ verification: Verification; event: VerifyEvent } | null> {
  const row = yield* settle.get({ sid, status: to.status, now });
  return row ? yield* verificationEvent(q, to.event, row, now) : null;
}

function* expireOne(q: Q, sid: string, now: number): Step<CheckOutcome & StatusOutcome> {
  const expired = yield* settleWith(q, sid, machine.expiry, now);
  return { ok: false, reason: machine.expiry.status, events: expired ? [expired.event] : [] };
}

/** Changes columns of a verification as a new version of it. */
function* change({ db, t }: Q, sid: string, changes: Partial<typeof t.verifications.$inferInsert>, now: number): Step<VerificationRow> {
  const v = t.verifications;
  return (yield* get(
    db
      .update(v)
      .set({ ...changes, version: sql`${v.version} + 1`, dateUpdated: now })
      .where(eq(v.sid, sid))
      .returning(),
  )) as VerificationRow;
}

/** AUTO: the same verification continues over SMS, with a new send attempt and a delivery job. */
function* fallBackToSms(q: Q, row: VerificationRow, attemptSid: string, now: number): Step<VerifyEvent> {
  const to = machine.fallback;
  yield* insertAttempt.run({ sid: attemptSid, verificationSid: row.sid, serviceSid: row.serviceSid, to: row.to, channel: to.channel, status: to.attempt, now });
  yield* insertJob.run({ kind: "delivery", refSid: attemptSid, runAt: now, now });
  const switched = yield* change(q, row.sid, { channel: to.channel }, now);
  return (yield* verificationEvent(q, to.event, switched, now)).event;
}

/** An SNA attempt: no message leaves; the URL is the attempt, and AUTO may fall back later. */
function* beginSna(q: Q, row: VerificationRow, sna: NonNullable<StartPlan["sna"]>, attemptSid: string, now: number): Step<VerificationRow> {
  const { db, t } = q;
  yield* run(db.insert(t.snaSessions).values({ tokenHash: sna.tokenHash, verificationSid: row.sid, attemptSid, expiresAt: row.expiresAt }));
  if (sna.fallbackAt !== null) yield* insertJob.run({ kind: "sna_fallback", refSid: row.sid, runAt: sna.fallbackAt, now });
  const begun = machine.snaBegin(row);
  const v = t.verifications;
  return (yield* get(
    db
      .update(v)
      .set({ ...begun, snaClientTokenRequired: sna.clientTokenRequired, autoFallback: sna.fallbackAt !== null })
      .where(eq(v.sid, row.sid))
      .returning(),
  )) as VerificationRow;
}

/**
 * The row a fresh verification is written as: the plan's columns and the table's defaults (`seq` is
 * the database's and read by nobody from this row).
 */
function freshRow(plan: StartPlan, lookup: string | null, tags: string | null, template: string | null, deliveryOptions: string | null): VerificationRow {
  const { fresh } = plan;
  return {
    seq: 0,
    sid: fresh.sid,
    serviceSid: plan.serviceSid,
    to: plan.to,
    channel: plan.channel,
    status: OPEN,
    codeHash: fresh.codeHash,
    codeSealed: fresh.codeSealed,
    codeLength: fresh.codeLength,
    checkAttempts: 0,
    maxCheckAttempts: fresh.maxCheckAttempts,
    amount: fresh.amount,
    payee: fresh.payee,
    locale: fresh.locale,
    customFriendlyName: fresh.customFriendlyName,
    template,
    deliveryOptions,
    lookup,
    tags,
    country: fresh.country,
    prefix: fresh.prefix,
    testMode: fresh.testMode,
    snaErrorCodes: null,
    snaState: null,
    snaClientTokenRequired: false,
    snaClientTokenHash: null,
    autoFallback: false,
    version: 1,
    dateCreated: plan.now,
    dateUpdated: plan.now,
    expiresAt: fresh.expiresAt,
  };
}

/** Verifications and SNA: written once for both dialects; every transition is the machine's. */
export const verifications = {
  *start(q: Q, plan: StartPlan): Step<StartOutcome> {
    // Starts for one recipient are serialised (PostgreSQL: across instances), so the send cap and the
    // reuse of a pending verification hold exactly.
    yield* serialize(`${plan.serviceSid}:${plan.to}`);
    // The recipient's sends in the window and its pending verification (locked): one read.
    const [sent, pending] = yield* both(
      sendsSince,
      { serviceSid: plan.serviceSid, to: plan.to, since: plan.sendWindowStart },
      pendingByTo,
      { serviceSid: plan.serviceSid, to: plan.to, now: plan.now },
      {},
    );
    if (machine.sendCapReached(Number(sent?.n ?? 0), plan.maxSendAttempts)) return { ok: false, reason: "MAX_SEND_ATTEMPTS_REACHED" };
    const decision = machine.start(pending, plan.resends);
    const events: VerifyEvent[] = [];
    if (pending && decision.cancel) {
      const canceled = yield* settleWith(q, pending.sid, decision.cancel, plan.now);
      if (canceled) events.push(canceled.event);
    }
    const { fresh } = plan;
    const lookup = fresh.lookup ? JSON.stringify(fresh.lookup) : null;
    const tags = fresh.tags ? JSON.stringify(fresh.tags) : null;
    const template = fresh.template ? JSON.stringify(fresh.template) : null;
    const deliveryOptions = fresh.deliveryOptions ? JSON.stringify(fresh.deliveryOptions) : null;
    if (!decision.reuse && !plan.sna) {
      // A fresh verification sent by a message: the unit knows every column it writes, so it reads
      // nothing back; its rows, its delivery job and its event go as one statement on PostgreSQL.
      const row = freshRow(plan, lookup, tags, template, deliveryOptions);
      const attempt: AttemptRow = {
        seq: 0,
        sid: plan.attemptSid,
        verificationSid: row.sid,
        serviceSid: plan.serviceSid,
        to: plan.to,
        channel: plan.attemptChannel,
        status: machine.firstAttempt(false),
        time: plan.now,
        providerMessageId: null,
        errorCode: null,
      };
      const verification = toVerification(row, [attempt]);
      const event = yield* record(newEvent(decision.event, row.serviceSid, row.sid, verification, plan.now), [
        { statement: writeVerification, params: { ...fresh, serviceSid: plan.serviceSid, to: plan.to, channel: plan.channel, lookup, tags, template, deliveryOptions, now: plan.now } },
        { statement: writeAttempt, params: { sid: attempt.sid, verificationSid: row.sid, serviceSid: plan.serviceSid, to: plan.to, channel: attempt.channel, status: attempt.status, now: plan.now } },
        { statement: insertJob, params: { kind: "delivery", refSid: plan.attemptSid, runAt: plan.now, now: plan.now } },
      ]);
      events.push(event);
      return { ok: true, verification, created: true, events };
    }
    const row = (
      pending && decision.reuse
        ? yield* touchForResend.get({ sid: pending.sid, channel: plan.channel, deliveryOptions, now: plan.now })
        : yield* insertVerification.get({
            ...fresh,
            serviceSid: plan.serviceSid,
            to: plan.to,
            channel: plan.channel,
            lookup,
            tags,
            template,
            deliveryOptions,
            now: plan.now,
          })
    ) as VerificationRow;
    const attempt = (yield* insertAttempt.get({
      sid: plan.attemptSid,
      verificationSid: row.sid,
      serviceSid: plan.serviceSid,
      to: plan.to,
      channel: plan.attemptChannel,
      status: machine.firstAttempt(plan.sna !== null),
      now: plan.now,
    })) as AttemptRow;
    const current = plan.sna ? yield* beginSna(q, row, plan.sna, plan.attemptSid, plan.now) : row;
    if (!plan.sna) yield* insertJob.run({ kind: "delivery", refSid: plan.attemptSid, runAt: plan.now, now: plan.now });
    // A new verification's only attempt is the row just written: no need to read it back.
    const { verification, event } = yield* verificationEvent(q, decision.event, current, plan.now, decision.reuse ? undefined : [attempt]);
    events.push(event);
    return { ok: true, verification, created: !decision.reuse, events };
  },

  *check(q: Q, request: CheckRequest, judge: CheckJudge): Step<CheckOutcome> {
    const { now } = request;
    const found = request.sid ? yield* verificationBySid.get({ sid: request.sid }, {}) : yield* latestByTo.get({ serviceSid: request.serviceSid, to: request.to ?? "" }, {});
    if (!found || found.serviceSid !== request.serviceSid) return { ok: false, reason: "NOT_FOUND", events: [] };
    const gate = machine.checkGate(found, now, request.acceptApprovedSna);
    if (gate.kind === "answer") return { ok: true, verification: yield* view(q, found), valid: true, events: [] };
    if (gate.kind === "refuse") return { ok: false, reason: gate.reason, events: [] };
    if (gate.kind === "expire") return yield* expireOne(q, found.sid, now);
    const verdict = judge(found);
    if (typeof verdict === "object") {
      if (verdict.notYet === null) return { ok: true, verification: yield* view(q, found), valid: false, events: [] };
      const pending = machine.snaNotYet(found, verdict.notYet);
      const row = yield* change(q, found.sid, { snaErrorCodes: pending.snaErrorCodes }, now);
      const { verification, event } = yield* verificationEvent(q, pending.event, row, now);
      return { ok: true, verification, valid: false, events: [event] };
    }
    const claimed = yield* claimCheck.get({ sid: found.sid, now });
    const outcome = machine.checked(claimed, verdict);
    if (outcome.kind === "refuse") return { ok: false, reason: outcome.reason, events: [] };
    if (outcome.kind === "failed") {
      const { verification, event } = yield* verificationEvent(q, outcome.event, claimed as VerificationRow, now);
      return { ok: true, verification, valid: false, events: [event] };
    }
    // The claim left the row pending and this unit holds it: the settled row is known, and the
    // settlement goes with the read of the attempts (one statement on PostgreSQL).
    const row = settled(claimed as VerificationRow, outcome.settle.status, now);
    const attempts = yield* chain([{ statement: settleHeld, params: { sid: found.sid, status: outcome.settle.status, now } }], attemptsOf, { sid: found.sid });
    const { verification, event } = yield* verificationEvent(q, outcome.settle.event, row, now, attempts);
    return { ok: true, verification, valid: outcome.valid, events: [event] };
  },

  *setStatus(q: Q, request: StatusChange): Step<StatusOutcome> {
    const found = yield* verificationBySid.get({ sid: request.sid }, {});
    if (!found || (request.serviceSid && found.serviceSid !== request.serviceSid)) return { ok: false, reason: "NOT_FOUND", events: [] };
    const gate = machine.statusChange(found, request.now, request.status);
    if (gate.kind === "refuse") return { ok: false, reason: gate.reason, events: [] };
    if (gate.kind === "expire") return yield* expireOne(q, found.sid, request.now);
    const { verification, event } = (yield* settleWith(q, found.sid, gate.settle, request.now)) as { verification: Verification; event: VerifyEvent };
    return { ok: true, verification, events: [event] };
  },

  *expireDue(q: Q, now: number, limit: number): Step<VerifyEvent[]> {
    const v = q.t.verifications;
    // Several instances sweep at once: each takes the rows nobody else holds.
    const due = yield* all(
      q.db
        .select({ sid: v.sid })
        .from(v)
        .where(and(eq(v.status, OPEN), lte(v.expiresAt, now)))
        .limit(limit),
      { skipLocked: true },
    );
    const events: VerifyEvent[] = [];
    for (const { sid } of due) events.push(...(yield* expireOne(q, sid, now)).events);
    return events;
  },

  *get(q: Q, sid: string): Step<Verification | null> {
    const row = yield* verificationBySid.get({ sid });
    return row ? yield* view(q, row) : null;
  },

  *list(q: Q, serviceSid: string, filter: VerificationFilter, page: PageRequest) {
    const v = q.t.verifications;
    const rows = yield* all(
      q.db
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
        .limit(page.first + 1),
    );
    const views: Verification[] = [];
    for (const row of rows.slice(0, page.first)) views.push(yield* view(q, row));
    return pageOf(
      rows.map((row, i) => ({ seq: row.seq, i })),
      page.first,
      ({ i }) => views[i],
    );
  },

  *openSnaSession(q: Q, tokenHash: string, now: number): Step<SnaSession | "gone" | null> {
    const s = q.t.snaSessions;
    const session = yield* get(q.db.select().from(s).where(eq(s.tokenHash, tokenHash)));
    if (!session) return null;
    const claimed = yield* get(
      q.db
        .update(s)
        .set({ openedAt: now })
        .where(and(eq(s.tokenHash, tokenHash), isNull(s.openedAt), gt(s.expiresAt, now)))
        .returning(),
    );
    const row = claimed && (yield* verificationBySid.get({ sid: claimed.verificationSid }, {}));
    if (!row || !machine.snaOpenable(row)) return "gone";
    return { verificationSid: row.sid, attemptSid: session.attemptSid, to: row.to, clientTokenRequired: row.snaClientTokenRequired, autoFallback: row.autoFallback };
  },

  *recordSnaResult(q: Q, result: SnaResult): Step<VerifyEvent[]> {
    const { db, t } = q;
    const { now } = result;
    const found = yield* verificationBySid.get({ sid: result.verificationSid }, {});
    if (!found) return [];
    const outcome = machine.snaResult(found, { errorCode: result.errorCode, clientTokenHash: result.clientTokenHash, fallback: result.fallbackAttemptSid !== null });
    if (outcome.kind === "ignore") return [];
    const completeAttempt = run(db.update(t.sendAttempts).set(outcome.attempt).where(eq(t.sendAttempts.sid, result.attemptSid)));
    if (outcome.kind === "late") {
      yield* completeAttempt;
      return [];
    }
    // The carrier answered: the AUTO timeout has nothing left to do.
    yield* run(db.delete(t.outbox).where(and(eq(t.outbox.kind, "sna_fallback"), eq(t.outbox.refSid, found.sid))));
    yield* completeAttempt;
    const v = t.verifications;
    if (outcome.kind === "approve") {
      yield* run(db.update(v).set({ snaState: outcome.snaState }).where(eq(v.sid, found.sid)));
      const approved = yield* settleWith(q, found.sid, outcome.settle, now);
      return approved ? [approved.event] : [];
    }
    if (outcome.kind === "confirm") {
      const row = yield* change(q, found.sid, { snaState: outcome.snaState, snaClientTokenHash: outcome.clientTokenHash }, now);
      return [(yield* verificationEvent(q, outcome.event, row, now)).event];
    }
    const failed = yield* change(q, found.sid, { snaState: outcome.snaState, snaErrorCodes: outcome.snaErrorCodes }, now);
    if (!outcome.fallback || !result.fallbackAttemptSid) return [(yield* verificationEvent(q, outcome.event, failed, now)).event];
    return [yield* fallBackToSms(q, failed, result.fallbackAttemptSid, now)];
  },

  *snaTimedOut(q: Q, jobId: number, verificationSid: string, fallbackAttemptSid: string, now: number): Step<VerifyEvent[]> {
    const { db, t } = q;
    // The verification is locked before the job, the order recordSnaResult takes them in (the other
    // order deadlocks with a carrier answer arriving as the timer fires).
    const found = yield* verificationBySid.get({ sid: verificationSid }, {});
    yield* run(db.delete(t.outbox).where(eq(t.outbox.id, jobId)));
    const timeout = found && machine.snaTimeout(found);
    if (!timeout) return [];
    const a = t.sendAttempts;
    yield* run(
      db
        .update(a)
        .set(timeout.attempt)
        .where(and(eq(a.verificationSid, verificationSid), eq(a.channel, machine.SNA), eq(a.status, timeout.attemptWas))),
    );
    const failed = yield* change(q, verificationSid, { snaState: timeout.snaState, snaErrorCodes: timeout.snaErrorCodes }, now);
    return [yield* fallBackToSms(q, failed, fallbackAttemptSid, now)];
  },
};
