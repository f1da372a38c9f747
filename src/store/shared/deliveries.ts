import { and, asc, eq, inArray, ne, notExists, sql } from "drizzle-orm";
import { newEvent } from "../../domain/events.js";
import type { DeliveryStatus, VerificationStatus, VerifyEvent } from "../../domain/types.js";
import type { Step } from "../../domain/unit.js";
import { abandonedSend } from "../../domain/verification/abandoned.js";
import * as machine from "../../domain/verification/machine.js";
import type { DeliveryReceipt, DeliveryResult } from "../port.js";
import { type AttemptRow, type VerificationRow, toVerification } from "../rows.js";
import { type Q, all, chain, get, statement } from "./ops.js";
import { record } from "./record.js";
import { templates } from "./templates.js";
import type { AppliedTemplate, TemplateChoice } from "../../domain/template/templates.js";
import { verificationEvent } from "./verifications.js";

const p = sql.placeholder;

// The dispatcher's path runs once per message: prepared.
const attemptBySid = statement("attempt_by_sid", ({ db, t }) =>
  db
    .select()
    .from(t.sendAttempts)
    .where(eq(t.sendAttempts.sid, p("sid"))),
);
/** A delivery job's attempt and its verification, in one read. */
const attemptWithVerification = statement("attempt_with_verification", ({ db, t }) =>
  db
    .select({ attempt: t.sendAttempts, row: t.verifications })
    .from(t.sendAttempts)
    .innerJoin(t.verifications, eq(t.verifications.sid, t.sendAttempts.verificationSid))
    .where(eq(t.sendAttempts.sid, p("sid"))),
);
const deleteDeliveryJob = statement("delivery_job_delete", ({ db, t }) => db.delete(t.outbox).where(eq(t.outbox.id, p("id"))));
const recordAttempt = statement("attempt_record", ({ db, t }) =>
  db
    .update(t.sendAttempts)
    .set({
      status: sql`${p("status")}`,
      providerMessageId: sql`${p("providerMessageId")}`,
      errorCode: sql`${p("errorCode")}`,
      channel: sql`coalesce(${p("channel")}, ${t.sendAttempts.channel})`,
    })
    .where(eq(t.sendAttempts.sid, p("sid")))
    .returning(),
);
const bumpVersion = statement("verification_bump_version", ({ db, t }) =>
  db
    .update(t.verifications)
    .set({ version: sql`${t.verifications.version} + 1`, dateUpdated: sql`${p("now")}` })
    .where(eq(t.verifications.sid, p("sid")))
    .returning(),
);
/**
 * A verification with its attempts, oldest first, in one read; PostgreSQL locks the verification only.
 * `seenVersion` is the verification's version in the statement's snapshot: when the read waited for the
 * lock, the locked row is the newer one and `seenVersion` the older, and the attempts (read in that
 * snapshot) may be stale.
 */
const withAttempts = statement("verification_with_attempts", ({ db, t }) =>
  db
    .select({ row: t.verifications, attempt: t.sendAttempts, seenVersion: sql<number>`(select s.version from verifications s where s.sid = ${t.verifications.sid})` })
    .from(t.verifications)
    .leftJoin(t.sendAttempts, eq(t.sendAttempts.verificationSid, t.verifications.sid))
    .where(eq(t.verifications.sid, p("sid")))
    .orderBy(asc(t.sendAttempts.seq)),
);
/** The version of a verification moves (the unit knows the row it makes: see attemptChanged). */
const bump = statement("verification_bump", ({ db, t }) =>
  db
    .update(t.verifications)
    .set({ version: sql`${t.verifications.version} + 1`, dateUpdated: sql`${p("now")}` })
    .where(eq(t.verifications.sid, p("sid"))),
);

/** The hot statements of this area, by the names the sqlite plans test knows. */
export const deliveryStatements = { attemptBySid, recordAttempt, bumpVersion, attemptWithVerification, withAttempts, bump };

/**
 * A send attempt changed: the verification's version moves and subscribers get its new state. Only the
 * verification is locked: each attempt is locked by the unit that changes it, before the verification, so
 * locking the others here would deadlock two attempts of one verification changing together (a resend's
 * send and the first send's receipt). Usually the verification and its attempts are read at once (locked)
 * and the bump goes with the event: one statement each on PostgreSQL. When that read waited for the lock
 * (another unit changed the verification meanwhile), its attempts are as they were before the wait: the
 * bump then comes first and the attempts are read again after it, as they are now.
 */
function* attemptChanged(q: Q, attempt: AttemptRow, status: DeliveryStatus, now: number): Step<VerifyEvent> {
  const rows = yield* withAttempts.all({ sid: attempt.verificationSid }, { of: q.t.verifications });
  const fresh = rows.length > 0 && Number(rows[0].seenVersion) === rows[0].row.version;
  if (!fresh) {
    const row = (yield* bumpVersion.get({ sid: attempt.verificationSid, now })) as VerificationRow;
    return (yield* verificationEvent(q, machine.delivered(status), row, now)).event;
  }
  const row: VerificationRow = { ...rows[0].row, version: rows[0].row.version + 1, dateUpdated: now };
  const attempts = rows.flatMap((r) => (r.attempt ? [r.attempt] : []));
  const event = newEvent(machine.delivered(status), row.serviceSid, row.sid, toVerification(row, attempts), now);
  return yield* record(event, [{ statement: bump, params: { sid: row.sid, now } }]);
}

/** Send attempts: what the dispatcher needs to send one, and what became of it. */
export const deliveries = {
  /** The attempt and its verification (the caller adds the service). */
  *context(q: Q, attemptSid: string): Step<{ attempt: AttemptRow; row: VerificationRow; template: AppliedTemplate | null } | null> {
    const found = (yield* attemptWithVerification.get({ sid: attemptSid })) as { attempt: AttemptRow; row: VerificationRow } | undefined;
    if (!found) return null;
    // The template as it is now (a template deleted since the start: the built-in texts).
    const choice = found.row.template ? (JSON.parse(found.row.template) as TemplateChoice) : null;
    const template = choice ? yield* templates.get(q, choice.sid) : null;
    return { ...found, template: choice && template ? { template, substitutions: choice.substitutions } : null };
  },

  *recordDelivery(q: Q, result: DeliveryResult): Step<VerifyEvent | null> {
    // The job's deletion and the attempt's new state: one statement on PostgreSQL.
    const [attempt] = yield* chain([{ statement: deleteDeliveryJob, params: { id: result.jobId } }], recordAttempt, {
      sid: result.attemptSid,
      status: result.status,
      providerMessageId: result.providerMessageId,
      errorCode: result.errorCode,
      channel: result.channel ?? null,
    });
    return attempt ? yield* attemptChanged(q, attempt, result.status, result.now) : null;
  },

  *recordReceipt(q: Q, receipt: DeliveryReceipt): Step<VerifyEvent | null> {
    const a = q.t.sendAttempts;
    const attempt = yield* get(
      q.db
        .update(a)
        .set({ status: receipt.status, errorCode: receipt.errorCode })
        .where(and(eq(a.providerMessageId, receipt.providerMessageId), inArray(a.status, [...machine.RECEIPT_APPLIES])))
        .returning(),
    );
    return attempt ? yield* attemptChanged(q, attempt, receipt.status, receipt.now) : null;
  },

  *settleAbandoned(q: Q, now: number, limit: number): Step<VerifyEvent[]> {
    const { db, t } = q;
    const a = t.sendAttempts;
    const v = t.verifications;
    const o = t.outbox;
    // SKIP LOCKED: instances starting together settle each attempt once.
    const orphans = yield* all(
      db
        .select({ sid: a.sid, verificationStatus: v.status })
        .from(a)
        .innerJoin(v, eq(v.sid, a.verificationSid))
        .where(
          and(
            eq(a.status, machine.QUEUED),
            ne(v.status, machine.OPEN),
            notExists(
              db
                .select({ id: o.id })
                .from(o)
                .where(and(eq(o.kind, "delivery"), eq(o.refSid, a.sid))),
            ),
          ),
        )
        // Verifications are locked one by one below: in one order on every instance (no deadlock).
        .orderBy(asc(a.verificationSid), asc(a.seq))
        .limit(limit),
      { skipLocked: true, of: a },
    );
    const events: VerifyEvent[] = [];
    for (const orphan of orphans) {
      const settled = abandonedSend(orphan.verificationStatus as VerificationStatus);
      const attempt = (yield* recordAttempt.get({ sid: orphan.sid, status: settled.status, providerMessageId: null, errorCode: settled.errorCode, channel: null })) as AttemptRow;
      events.push(yield* attemptChanged(q, attempt, settled.status, now));
    }
    return events;
  },
};
