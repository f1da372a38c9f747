import { convertedStatus } from "../../domain/types.js";
import { and, desc, eq, gt, lt, sql } from "drizzle-orm";
import { lifeEvents } from "../../domain/events.js";
import { type PrefixCounts, liftBlock } from "../../domain/policy/fraud.js";
import type { FraudBlock, VerifyEvent } from "../../domain/types.js";
import type { Step } from "../../domain/unit.js";
import { decodeCursor } from "../cursor.js";
import type { PageRequest, PrefixTrafficQuery } from "../port.js";
import { pageOf, toFraudBlock } from "../rows.js";
import { type Q, all, get, run, serialize, statement } from "./ops.js";
import { record } from "./record.js";

const p = sql.placeholder;
type Condition = ReturnType<typeof sql>;
const count = (condition: Condition) => sql<number>`cast(coalesce(sum(case when ${condition} then 1 else 0 end), 0) as integer)`;

// The two reads every guarded start makes: prepared once (SQLite keeps their plans on the prefix
// indexes: test/sqlite-plans.test.ts).
export const blocksOfPrefix = statement("fraud_blocks_of_prefix", ({ db, t }) =>
  db
    .select()
    .from(t.fraudBlocks)
    .where(and(eq(t.fraudBlocks.serviceSid, p("serviceSid")), eq(t.fraudBlocks.prefix, p("prefix")), gt(t.fraudBlocks.blockedUntil, p("since"))))
    .orderBy(desc(t.fraudBlocks.blockedUntil)),
);
export const trafficOfPrefix = statement("fraud_prefix_traffic", ({ db, t }) => {
  const v = t.verifications;
  const approved = sql`${v.status} = ${convertedStatus}`;
  const recent = sql`${v.dateCreated} > ${p("recentStart")}`;
  const matured = sql`${recent} and ${v.dateCreated} <= ${p("maturedBefore")}`;
  const history = sql`${v.dateCreated} <= ${p("historyEnd")}`;
  return db
    .select({
      recent: count(recent),
      recentApproved: count(sql`${recent} and ${approved}`),
      matured: count(matured),
      maturedApproved: count(sql`${matured} and ${approved}`),
      history: count(history),
      historyApproved: count(sql`${history} and ${approved}`),
    })
    .from(v)
    .where(and(eq(v.serviceSid, p("serviceSid")), eq(v.prefix, p("prefix")), gt(v.dateCreated, p("historyStart")), eq(v.testMode, false)));
});

/** Fraud Guard's blocks and the prefix traffic it judges: written once for both dialects. */
export const fraud = {
  *blocks(_q: Q, serviceSid: string, prefix: string, since: number): Step<FraudBlock[]> {
    const rows = yield* blocksOfPrefix.all({ serviceSid, prefix, since });
    return rows.map(toFraudBlock);
  },

  *prefixTraffic(_q: Q, query: PrefixTrafficQuery): Step<PrefixCounts> {
    return (yield* trafficOfPrefix.get({ ...query })) as PrefixCounts;
  },

  *recordBlock({ db, t }: Q, block: FraudBlock, data: Record<string, unknown>): Step<{ block: FraudBlock; event: VerifyEvent | null }> {
    // Instances that detect the same burst at once write one block.
    yield* serialize(`fraud:${block.serviceSid}:${block.prefix}`);
    const b = t.fraudBlocks;
    const active = yield* get(
      db
        .select()
        .from(b)
        .where(and(eq(b.serviceSid, block.serviceSid), eq(b.prefix, block.prefix), gt(b.blockedUntil, block.dateCreated))),
    );
    if (active) return { block: toFraudBlock(active), event: null };
    yield* run(db.insert(b).values(block));
    return { block, event: yield* record(lifeEvents.fraudBlocked(block, data)) };
  },

  *liftBlock({ db, t }: Q, sid: string, serviceSid: string | null, now: number): Step<{ block: FraudBlock; event: VerifyEvent | null } | null> {
    const b = t.fraudBlocks;
    const found = yield* get(
      db
        .select()
        .from(b)
        .where(serviceSid ? and(eq(b.sid, sid), eq(b.serviceSid, serviceSid)) : eq(b.sid, sid)),
      {},
    );
    if (!found) return null;
    const lifted = liftBlock(toFraudBlock(found), now);
    if (!lifted) return { block: toFraudBlock(found), event: null };
    const row = yield* get(db.update(b).set({ blockedUntil: lifted.blockedUntil, liftedAt: lifted.liftedAt }).where(eq(b.sid, sid)).returning());
    const block = toFraudBlock(row as typeof found);
    return { block, event: yield* record(lifeEvents.fraudLifted(block, now)) };
  },

  *listBlocks({ db, t }: Q, serviceSid: string, activeAt: number | null, page: PageRequest) {
    const b = t.fraudBlocks;
    const rows = yield* all(
      db
        .select()
        .from(b)
        .where(and(eq(b.serviceSid, serviceSid), lt(b.seq, decodeCursor(page.after) || Number.MAX_SAFE_INTEGER), activeAt === null ? undefined : gt(b.blockedUntil, activeAt)))
        .orderBy(desc(b.seq))
        .limit(page.first + 1),
    );
    return pageOf(rows, page.first, toFraudBlock);
  },
};
