import { type Column, type SQL, eq, gte, lt, ne } from "drizzle-orm";
import { type ConversionGroup, type DeliveryStatus, type VerificationStats, deliveryStatuses } from "../domain/types.js";
import type { AttemptFilter, StatsFilter } from "./port.js";

// The attempts log and the stats read the same columns in both dialects; the conditions are built once here.
interface Columns {
  attempts: { time: Column; channel: Column };
  verifications: { serviceSid: Column; dateCreated: Column; channel: Column; country: Column; status: Column; testMode: Column };
}

export function attemptConditions(c: Columns, filter: AttemptFilter): (SQL | undefined)[] {
  return [
    filter.dateCreatedAfter != null ? gte(c.attempts.time, filter.dateCreatedAfter) : undefined,
    filter.dateCreatedBefore != null ? lt(c.attempts.time, filter.dateCreatedBefore) : undefined,
    filter.channel ? eq(c.attempts.channel, filter.channel) : undefined,
    filter.country ? eq(c.verifications.country, filter.country) : undefined,
    filter.converted == null ? undefined : filter.converted ? eq(c.verifications.status, "APPROVED") : ne(c.verifications.status, "APPROVED"),
  ];
}

export function statsConditions(c: Columns, serviceSid: string, filter: StatsFilter): (SQL | undefined)[] {
  const v = c.verifications;
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
  };
}
