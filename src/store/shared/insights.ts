import { convertedStatus } from "../../domain/types.js";
import { type SQL, and, desc, eq, gte, inArray, like, lt, ne, sql } from "drizzle-orm";
import { type ConversionBucket, type ConversionGroup, type DeliveryStatus, type VerificationAttempt, type VerificationStats, deliveryStatuses } from "../../domain/types.js";
import type { Step } from "../../domain/unit.js";
import { decodeCursor } from "../cursor.js";
import type { AttemptFilter, AttemptsSummary, PageRequest, StatsFilter } from "../port.js";
import { pageOf, toVerificationAttempt } from "../rows.js";
import { type Q, type Tables, all, get } from "./ops.js";

function attemptConditions({ sendAttempts: a, verifications: v }: Tables, filter: AttemptFilter): (SQL | undefined)[] {
  return [
    filter.dateCreatedAfter != null ? gte(a.time, filter.dateCreatedAfter) : undefined,
    filter.dateCreatedBefore != null ? lt(a.time, filter.dateCreatedBefore) : undefined,
    filter.channels ? inArray(a.channel, [...filter.channels]) : undefined,
    filter.country ? eq(v.country, filter.country) : undefined,
    filter.converted == null ? undefined : filter.converted ? eq(v.status, convertedStatus) : ne(v.status, convertedStatus),
    filter.to ? eq(a.to, filter.to) : undefined,
    // A prefix holds digits and `+` only (the caller checks), so it needs no LIKE escaping.
    filter.toPrefix ? like(a.to, `${filter.toPrefix}%`) : undefined,
    filter.verificationSid ? eq(a.verificationSid, filter.verificationSid) : undefined,
  ];
}

function statsConditions({ verifications: v }: Tables, serviceSid: string, filter: StatsFilter): (SQL | undefined)[] {
  return [
    eq(v.serviceSid, serviceSid),
    gte(v.dateCreated, filter.from),
    lt(v.dateCreated, filter.to),
    eq(v.testMode, false),
    filter.channel ? eq(v.channel, filter.channel) : undefined,
    filter.country ? eq(v.country, filter.country) : undefined,
  ];
}

const num = (value: unknown) => Number(value ?? 0);

/** Totals from the per-channel and per-country groups and the attempts' delivery results. */
export function statsOf(
  byChannel: { key: string; total: unknown; converted: unknown }[],
  byCountry: { key: string | null; total: unknown; converted: unknown }[],
  attempts: { status: string; n: unknown }[],
  reached: unknown = 0,
): VerificationStats {
  const groups = (rows: { key: string | null; total: unknown; converted: unknown }[]): ConversionGroup[] =>
    rows.map((r) => ({ key: r.key ?? "", total: num(r.total), converted: num(r.converted) })).sort((x, y) => y.total - x.total || x.key.localeCompare(y.key));
  const channels = groups(byChannel);
  const counts = Object.fromEntries(deliveryStatuses.map((s) => [s, 0])) as Record<DeliveryStatus, number>;
  for (const row of attempts) if (row.status in counts) counts[row.status as DeliveryStatus] = num(row.n);
  return {
    total: channels.reduce((sum, g) => sum + g.total, 0),
    converted: channels.reduce((sum, g) => sum + g.converted, 0),
    byChannel: channels,
    byCountry: groups(byCountry),
    attempts: counts,
    reached: num(reached),
  };
}

const countAll = sql<number>`cast(count(*) as integer)`;

/** The attempts log and conversion stats (reads only): written once for both dialects. */
export const insights = {
  /** `serviceSid` null: every service's attempts (the admin's account-wide log). */
  *listAttempts({ db, t }: Q, serviceSid: string | null, filter: AttemptFilter, page: PageRequest) {
    const a = t.sendAttempts;
    const v = t.verifications;
    const rows = yield* all(
      db
        .select({ attempt: a, status: v.status, country: v.country, testMode: v.testMode })
        .from(a)
        .innerJoin(v, eq(v.sid, a.verificationSid))
        .where(and(serviceSid === null ? undefined : eq(a.serviceSid, serviceSid), lt(a.seq, decodeCursor(page.after) || Number.MAX_SAFE_INTEGER), ...attemptConditions(t, filter)))
        .orderBy(desc(a.seq))
        .limit(page.first + 1),
    );
    return pageOf(
      rows.map((r) => ({ ...r, seq: r.attempt.seq })),
      page.first,
      (r) => toVerificationAttempt(r.attempt, r),
    );
  },

  *getAttempt({ db, t }: Q, sid: string): Step<VerificationAttempt | null> {
    const a = t.sendAttempts;
    const v = t.verifications;
    const row = yield* get(db.select({ attempt: a, status: v.status, country: v.country, testMode: v.testMode }).from(a).innerJoin(v, eq(v.sid, a.verificationSid)).where(eq(a.sid, sid)));
    return row ? toVerificationAttempt(row.attempt, row) : null;
  },

  /** What listAttempts would list with the same filter: how many, and how many of those converted. */
  *attemptsSummary({ db, t }: Q, serviceSid: string | null, filter: AttemptFilter): Step<AttemptsSummary> {
    const a = t.sendAttempts;
    const v = t.verifications;
    const converted = sql<number>`cast(coalesce(sum(case when ${v.status} = ${convertedStatus} then 1 else 0 end), 0) as integer)`;
    const row = yield* get(
      db
        .select({ total: countAll, converted })
        .from(a)
        .innerJoin(v, eq(v.sid, a.verificationSid))
        .where(and(serviceSid === null ? undefined : eq(a.serviceSid, serviceSid), ...attemptConditions(t, filter))),
    );
    return { total: num(row?.total), converted: num(row?.converted) };
  },

  *stats({ db, t }: Q, serviceSid: string, filter: StatsFilter): Step<VerificationStats> {
    const v = t.verifications;
    const a = t.sendAttempts;
    const where = and(...statsConditions(t, serviceSid, filter));
    const converted = sql<number>`cast(coalesce(sum(case when ${v.status} = ${convertedStatus} then 1 else 0 end), 0) as integer)`;
    const byChannel = yield* all(db.select({ key: v.channel, total: countAll, converted }).from(v).where(where).groupBy(v.channel));
    const byCountry = yield* all(
      db
        .select({ key: sql<string>`coalesce(${v.country}, '')`, total: countAll, converted })
        .from(v)
        .where(where)
        .groupBy(v.country),
    );
    const attempts = yield* all(db.select({ status: a.status, n: countAll }).from(a).innerJoin(v, eq(v.sid, a.verificationSid)).where(where).groupBy(a.status));
    const reached = yield* all(
      db
        .select({ n: sql<number>`cast(count(distinct ${v.sid}) as integer)` })
        .from(a)
        .innerJoin(v, eq(v.sid, a.verificationSid))
        .where(and(where, inArray(a.status, ["SENT", "DELIVERED"]))),
    );
    return statsOf(byChannel, byCountry, attempts, reached[0]?.n);
  },

  /** The same verifications in consecutive buckets of `bucketMs` from `filter.from`; every bucket, empty ones too. */
  *overTime({ db, t }: Q, serviceSid: string, filter: StatsFilter, bucketMs: number): Step<ConversionBucket[]> {
    const v = t.verifications;
    // Inlined integers (not parameters): PostgreSQL matches the GROUP BY expression to the selected one only when both are the same text.
    const bucket = sql<number>`cast((${v.dateCreated} - ${sql.raw(String(Math.trunc(filter.from)))}) / ${sql.raw(String(Math.trunc(bucketMs)))} as integer)`;
    const converted = sql<number>`cast(coalesce(sum(case when ${v.status} = ${convertedStatus} then 1 else 0 end), 0) as integer)`;
    const rows = yield* all(
      db
        .select({ bucket, total: countAll, converted })
        .from(v)
        .where(and(...statsConditions(t, serviceSid, filter)))
        .groupBy(bucket),
    );
    const count = Math.max(1, Math.ceil((filter.to - filter.from) / bucketMs));
    const buckets: ConversionBucket[] = Array.from({ length: count }, (_, i) => ({
      from: filter.from + i * bucketMs,
      to: Math.min(filter.to, filter.from + (i + 1) * bucketMs),
      total: 0,
      converted: 0,
    }));
    for (const r of rows) {
      const b = buckets[num(r.bucket)];
      if (b) {
        b.total = num(r.total);
        b.converted = num(r.converted);
      }
    }
    return buckets;
  },
};
