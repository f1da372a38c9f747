import { and, asc, eq, inArray, isNull, lte, or, sql } from "drizzle-orm";
import type { Step } from "../../domain/unit.js";
import type { OutboxJob } from "../port.js";
import { type Q, get, lockedRows, run, statement } from "./ops.js";

const p = sql.placeholder;

/**
 * Claims due jobs in one statement: UPDATE … WHERE id IN (due ids, by due time) RETURNING. The
 * (run_at) index finds the due jobs without walking the ones scheduled later; on PostgreSQL, many
 * instances claim at once and SKIP LOCKED hands each job to exactly one of them.
 */
const claimDue = statement("outbox_claim", ({ db, t: { outbox: o } }) => {
  const due = db
    .select({ id: o.id })
    .from(o)
    .where(and(lte(o.runAt, p("now")), or(isNull(o.leaseUntil), lte(o.leaseUntil, p("now")))))
    .orderBy(asc(o.runAt), asc(o.id))
    .limit(p("limit"));
  return db
    .update(o)
    .set({ leaseUntil: sql`${p("until")}`, tries: sql`${o.tries} + 1` })
    .where(inArray(o.id, lockedRows(due, { skipLocked: true })))
    .returning();
});
export const deleteJob = statement("outbox_delete", ({ db, t }) => db.delete(t.outbox).where(eq(t.outbox.id, p("id"))));

/** Hot statements the sqlite plans test checks. */
export const outboxStatements = { claimDue };

/** The durable outbox (DESIGN.md principle 4): claims with leases, retries, drops. */
export const outbox = {
  *claimJobs(_q: Q, now: number, leaseMs: number, limit: number): Step<OutboxJob[]> {
    const rows = yield* claimDue.all({ now, until: now + leaseMs, limit });
    return rows.map((r) => ({ id: r.id, kind: r.kind as OutboxJob["kind"], refSid: r.refSid, tries: r.tries }));
  },

  *retryJob({ db, t }: Q, jobId: number, runAt: number, error: string): Step<void> {
    yield* run(db.update(t.outbox).set({ runAt, leaseUntil: null, lastError: error }).where(eq(t.outbox.id, jobId)));
  },

  *extendLeases({ db, t }: Q, jobIds: number[], until: number): Step<void> {
    if (jobIds.length > 0) yield* run(db.update(t.outbox).set({ leaseUntil: until }).where(inArray(t.outbox.id, jobIds)));
  },

  *dropJob(_q: Q, jobId: number): Step<void> {
    yield* deleteJob.run({ id: jobId });
  },

  *pendingJobCount({ db, t }: Q): Step<number> {
    return (yield* get(db.select({ n: sql<number>`cast(count(*) as integer)` }).from(t.outbox)))?.n ?? 0;
  },
};
