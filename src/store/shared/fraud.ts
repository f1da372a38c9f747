import { convertedStatus } from "../../domain/types.js";
import { and, desc, eq, gt, lt, sql } from "drizzle-orm";
import { lifeEvents } from "../../domain/events.js";
import { type PrefixCounts, liftBlock } from "../../domain/policy/fraud.js";
import type { FraudBlock, VerifyEvent } from "../../domain/types.js";
import type { Step } from "../../domain/unit.js";
import { decodeCursor } from "../cursor.js";
import type { PageRequest, PrefixTrafficQuery } from "../port.js";
import { pageOf, toFraudBlock } from "../rows.js";
import { type Q, all, get, run, serialize } from "./ops.js";
import { record } from "./record.js";

type Condition = ReturnType<typeof sql>;
const count = (condition: Condition) => sql<number>`cast(coalesce(sum(case when ${condition} then 1 else 0 end), 0) as integer)`;

/** Fraud Guard's blocks and the prefix traffic it judges: written once for both dialects. */
export const fraud = {
  *blocks({ db, t }: Q, serviceSid: string, prefix: string, since: number): Step<FraudBlock[]> {
    const b = t.fraudBlocks;
    const rows = yield* all(
      db
        .select()
        .from(b)
        .where(and(eq(b.serviceSid, serviceSid), eq(b.prefix, prefix), gt(b.blockedUntil, since)))
        .orderBy(desc(b.blockedUntil)),
    );
    return rows.map(toFraudBlock);
  },

  *prefixTraffic({ db, t }: Q, query: PrefixTrafficQuery): Step<PrefixCounts> {
    const v = t.verifications;
    const approved = sql`${v.status} = ${convertedStatus}`;
    const recent = sql`${v.dateCreated} > ${query.recentStart}`;
    const matured = sql`${recent} and ${v.dateCreated} <= ${query.maturedBefore}`;
    const history = sql`${v.dateCreated} <= ${query.historyEnd}`;
    const traffic = yield* get(
      db
        .select({
          recent: count(recent),
          recentApproved: count(sql`${recent} and ${approved}`),
          matured: count(matured),
          maturedApproved: count(sql`${matured} and ${approved}`),
          history: count(history),
          historyApproved: count(sql`${history} and ${approved}`),
        })
        .from(v)
        .where(and(eq(v.serviceSid, query.serviceSid), eq(v.prefix, query.prefix), gt(v.dateCreated, query.historyStart), eq(v.testMode, false))),
    );
    return traffic as PrefixCounts;
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
