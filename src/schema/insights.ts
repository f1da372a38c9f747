import { invalidParameter, notFound } from "../domain/errors.js";
import type { ConversionBucket, ConversionGroup, FraudBlock, VerificationAttempt, VerificationStats } from "../domain/types.js";
import { authorize, inScope, serviceScope } from "../domain/access/rules.js";
import type { StatsFilter } from "../domain/ports/index.js";
import { builder } from "./builder.js";
import { connection, emptyPage, pageSize, pagingArgs } from "./connection.js";
import { ChannelEnum, FraudGuardLevelEnum } from "./service.js";
import { AttemptChannelEnum, DeliveryStatusEnum, VerificationStatusEnum } from "./verification.js";

const DAY_MS = 24 * 60 * 60 * 1000;
const serviceCallers = "Admin, or a key of that service; client, access and device tokens: FORBIDDEN.";
const ConversionStatusEnum = builder.enumType("ConversionStatus", {
  description: "Whether a send attempt's verification was approved",
  values: {
    CONVERTED: { description: "Its verification was approved" },
    UNCONVERTED: { description: "Its verification was not (yet) approved" },
  } as const,
});

const VerificationAttemptRef = builder.objectRef<VerificationAttempt>("VerificationAttempt").implement({
  description: "One send attempt and whether its verification converted (was approved)",
  fields: (t) => ({
    id: t.exposeID("attemptSid", { description: "The attempt sid (VL…), as `attemptSid`" }),
    attemptSid: t.exposeID("attemptSid", { description: "VL followed by 32 lowercase hex digits" }),
    verificationSid: t.exposeID("verificationSid", { description: "The verification (VE…) it sent the code of" }),
    serviceSid: t.exposeID("serviceSid", { description: "The service (VA…)" }),
    to: t.exposeString("to", { description: "The recipient: E.164 or an email address" }),
    channel: t.field({ type: AttemptChannelEnum, description: "The channel actually used", resolve: (a) => a.channel }),
    country: t.exposeString("country", { nullable: true, description: "ISO 3166-1 alpha-2; null for email" }),
    status: t.field({ type: DeliveryStatusEnum, description: "The attempt's delivery status", resolve: (a) => a.status }),
    errorCode: t.exposeString("errorCode", { nullable: true, description: "The provider's error code when it did not get through" }),
    conversionStatus: t.field({ type: ConversionStatusEnum, description: "Whether its verification was approved", resolve: (a) => (a.converted ? "CONVERTED" : "UNCONVERTED") }),
    verificationStatus: t.field({ type: VerificationStatusEnum, description: "Its verification's status now", resolve: (a) => a.verificationStatus }),
    testMode: t.exposeBoolean("testMode", { description: "Sent to one of the service's test numbers" }),
    dateCreated: t.field({ type: "DateTime", description: "When the attempt was made", resolve: (a) => a.dateCreated }),
  }),
});
const VerificationAttemptConnection = connection("VerificationAttempt", VerificationAttemptRef);

const VerificationAttemptFilter = builder.inputType("VerificationAttemptFilter", {
  description: "Narrows the attempts log; the conditions given all hold",
  fields: (t) => ({
    dateCreatedAfter: t.field({ type: "DateTime", description: "Only attempts made at or after this time" }),
    dateCreatedBefore: t.field({ type: "DateTime", description: "Only attempts made before this time" }),
    channel: t.field({ type: AttemptChannelEnum, description: "Only this channel" }),
    country: t.string({ description: "ISO 3166-1 alpha-2" }),
    status: t.field({ type: ConversionStatusEnum, description: "Only converted, or only unconverted, attempts" }),
    to: t.string({ description: "Only attempts to this recipient: an E.164 number or an email address, exactly" }),
    verificationSid: t.id({ description: "Only the attempts of this verification (VE…)" }),
  }),
});

const rate = (converted: number, total: number) => (total === 0 ? null : converted / total);

const ConversionGroupRef = builder.objectRef<ConversionGroup>("ConversionGroup").implement({
  description: "Conversion of the verifications of one channel or one country",
  fields: (t) => ({
    key: t.exposeString("key", { description: "The channel, or the country (empty for email)" }),
    total: t.exposeInt("total", { description: "Verifications started" }),
    converted: t.exposeInt("converted", { description: "Of those, approved" }),
    conversionRate: t.float({ nullable: true, description: "converted / total, 0–1", resolve: (g) => rate(g.converted, g.total) }),
  }),
});

type Stats = VerificationStats & { from: number; to: number; serviceSid: string; channel: StatsFilter["channel"]; country: StatsFilter["country"] };

const HOUR_MS = 60 * 60 * 1000;
const MAX_BUCKETS = 1000;
const TimeBucketEnum = builder.enumType("TimeBucket", {
  description: "The width of a bucket of `overTime`",
  values: { HOUR: { description: "One hour" }, DAY: { description: "24 hours" } } as const,
});
const ConversionBucketRef = builder.objectRef<ConversionBucket>("ConversionBucket").implement({
  description: "Conversion of the verifications started in [from, to)",
  fields: (t) => ({
    from: t.field({ type: "DateTime", description: "Start of the bucket (inclusive)", resolve: (b) => b.from }),
    to: t.field({ type: "DateTime", description: "End of the bucket (exclusive; the period's end for the last one)", resolve: (b) => b.to }),
    total: t.exposeInt("total", { description: "Verifications started" }),
    converted: t.exposeInt("converted", { description: "Of those, approved" }),
    conversionRate: t.float({ nullable: true, description: "converted / total, 0–1", resolve: (b) => rate(b.converted, b.total) }),
  }),
});
const DeliveryStatsRef = builder.objectRef<VerificationStats["attempts"]>("DeliveryStats").implement({
  description: "Send attempts of those verifications by delivery status",
  fields: (t) => ({
    attempts: t.int({ description: "Every send attempt", resolve: (a) => Object.values(a).reduce((x, y) => x + y, 0) }),
    queued: t.exposeInt("QUEUED", { description: "Attempts still QUEUED" }),
    sent: t.exposeInt("SENT", { description: "Attempts SENT (no receipt yet)" }),
    delivered: t.exposeInt("DELIVERED", { description: "Attempts DELIVERED" }),
    undelivered: t.exposeInt("UNDELIVERED", { description: "Attempts UNDELIVERED" }),
    failed: t.exposeInt("FAILED", { description: "Attempts FAILED" }),
    successRate: t.float({
      nullable: true,
      description: "(sent + delivered) / every attempt with an outcome, 0–1",
      resolve: (a) => rate(a.SENT + a.DELIVERED, a.SENT + a.DELIVERED + a.UNDELIVERED + a.FAILED),
    }),
  }),
});
const VerificationStatsRef = builder.objectRef<Stats>("VerificationStats").implement({
  description: "Conversion of the verifications started in [from, to), test numbers excluded",
  fields: (t) => ({
    from: t.field({ type: "DateTime", description: "Start of the period (inclusive)", resolve: (s) => s.from }),
    to: t.field({ type: "DateTime", description: "End of the period (exclusive)", resolve: (s) => s.to }),
    total: t.exposeInt("total", { description: "Verifications started" }),
    converted: t.exposeInt("converted", { description: "Of those, approved" }),
    unconverted: t.int({ description: "Of those, not approved", resolve: (s) => s.total - s.converted }),
    conversionRate: t.float({ nullable: true, description: "converted / total, 0–1", resolve: (s) => rate(s.converted, s.total) }),
    byChannel: t.field({ type: [ConversionGroupRef], description: "The same, per channel", resolve: (s) => s.byChannel }),
    byCountry: t.field({ type: [ConversionGroupRef], description: "The same, per country", resolve: (s) => s.byCountry }),
    delivery: t.field({ type: DeliveryStatsRef, description: "Their send attempts by delivery status", resolve: (s) => s.attempts }),
    reached: t.exposeInt("reached", { description: "Of those, verifications with at least one send attempt SENT or DELIVERED (the funnel's middle step)" }),
    overTime: t.field({
      type: [ConversionBucketRef],
      description: `The same, in consecutive buckets from \`from\` (every bucket, empty ones too; at most ${MAX_BUCKETS}). Whoever may read the stats. Errors: INVALID_PARAMETER (bucket: more than ${MAX_BUCKETS} buckets).`,
      args: { bucket: t.arg({ type: TimeBucketEnum, required: true, description: "HOUR or DAY" }) },
      resolve: async (s, { bucket }, { gateway }) => {
        const bucketMs = bucket === "HOUR" ? HOUR_MS : DAY_MS;
        if (Math.ceil((s.to - s.from) / bucketMs) > MAX_BUCKETS) throw invalidParameter("bucket", `Invalid parameter \`bucket\`: more than ${MAX_BUCKETS} buckets in the period.`);
        return gateway.records.statsOverTime(s.serviceSid, { from: s.from, to: s.to, channel: s.channel, country: s.country }, bucketMs);
      },
    }),
  }),
});

const FraudBlockRef = builder.objectRef<FraudBlock>("FraudBlock").implement({
  description: "Fraud Guard blocked SMS to a destination prefix until blockedUntil",
  fields: (t) => ({
    id: t.exposeID("sid", { description: "The block sid (FB…), as `sid`" }),
    sid: t.exposeID("sid", { description: "FB followed by 32 lowercase hex digits" }),
    serviceSid: t.exposeID("serviceSid", { description: "The service (VA…) whose SMS it blocks" }),
    prefix: t.exposeString("prefix", { description: "E.164 without its last four digits" }),
    reason: t.exposeString("reason", { description: "velocity or low_conversion" }),
    severity: t.exposeInt("severity", { description: "0 at the threshold, +1 per doubling past it and per earlier block that day; the block lasts 5 min × 2^severity, at most 12 h" }),
    level: t.field({ type: FraudGuardLevelEnum, description: "The service's Fraud Guard level when it blocked", resolve: (b) => b.level }),
    blockedUntil: t.field({ type: "DateTime", description: "When the block ends (now, once lifted)", resolve: (b) => b.blockedUntil }),
    dateCreated: t.field({ type: "DateTime", description: "When Fraud Guard blocked", resolve: (b) => b.dateCreated }),
  }),
});
const FraudBlockConnection = connection("FraudBlock", FraudBlockRef);

const ms = (date: Date | null | undefined, field: string): number | null => {
  if (!date) return null;
  const value = date.getTime();
  if (!Number.isFinite(value)) throw invalidParameter(field, `Invalid parameter \`${field}\`: not a date.`);
  return value;
};

builder.queryFields((t) => ({
  verificationAttempts: t.field({
    type: VerificationAttemptConnection,
    description: `The attempts log, newest first (kept at least 30 days); empty when out of scope. ${serviceCallers} Errors: INVALID_PARAMETER (first, after).`,
    args: {
      serviceSid: t.arg.id({ required: true, description: "The service (VA…)" }),
      filter: t.arg({ type: VerificationAttemptFilter, description: "Only the attempts that match" }),
      first: t.arg.int({ description: pagingArgs.first }),
      after: t.arg.string({ description: pagingArgs.after }),
    },
    resolve: async (_, args, { principal, gateway }) => {
      const first = pageSize(args.first);
      if (!inScope(authorize(principal, "verificationAttempts"), args.serviceSid)) return emptyPage<VerificationAttempt>();
      const f = args.filter ?? {};
      return gateway.records.attempts(
        args.serviceSid,
        {
          dateCreatedAfter: ms(f.dateCreatedAfter, "dateCreatedAfter"),
          dateCreatedBefore: ms(f.dateCreatedBefore, "dateCreatedBefore"),
          channels: f.channel ? [f.channel] : null,
          country: f.country ? f.country.toUpperCase() : null,
          to: f.to ? f.to.trim() : null,
          verificationSid: f.verificationSid ? f.verificationSid.trim() : null,
          converted: f.status ? f.status === "CONVERTED" : null,
        },
        { first, after: args.after ?? null },
      );
    },
  }),
  verificationStats: t.field({
    type: VerificationStatsRef,
    nullable: true,
    description: `Conversion over a period (default: the last 30 days), by channel and country, and delivery success; null when the service is unknown or out of scope. ${serviceCallers} Errors: INVALID_PARAMETER (dateCreatedAfter after dateCreatedBefore).`,
    args: {
      serviceSid: t.arg.id({ required: true, description: "The service (VA…)" }),
      dateCreatedAfter: t.arg({ type: "DateTime", description: "Start of the period (inclusive); default: 30 days before its end" }),
      dateCreatedBefore: t.arg({ type: "DateTime", description: "End of the period (exclusive); default: now" }),
      channel: t.arg({ type: ChannelEnum, description: "Only verifications of this channel" }),
      country: t.arg.string({ description: "Only this country, ISO 3166-1 alpha-2" }),
    },
    resolve: async (_, args, { principal, gateway }) => {
      if (!inScope(authorize(principal, "verificationStats"), args.serviceSid) || !(await gateway.services.get(args.serviceSid))) return null;
      // Up to now, inclusive: [from, to) with to just past now.
      const to = ms(args.dateCreatedBefore, "dateCreatedBefore") ?? gateway.clock.now() + 1;
      const from = ms(args.dateCreatedAfter, "dateCreatedAfter") ?? to - 30 * DAY_MS;
      if (from > to) throw invalidParameter("dateCreatedAfter", "Invalid parameter `dateCreatedAfter`: after dateCreatedBefore.");
      const filter = { from, to, channel: args.channel ?? null, country: args.country ? args.country.toUpperCase() : null };
      const stats = await gateway.records.stats(args.serviceSid, filter);
      return { ...stats, ...filter, serviceSid: args.serviceSid };
    },
  }),
  fraudBlocks: t.field({
    type: FraudBlockConnection,
    description: `Fraud Guard's blocks, newest first; \`active: true\` for those still in force; empty when out of scope. ${serviceCallers} Errors: INVALID_PARAMETER (first, after).`,
    args: {
      serviceSid: t.arg.id({ required: true, description: "The service (VA…)" }),
      active: t.arg.boolean({ description: "true: only blocks still in force" }),
      first: t.arg.int({ description: pagingArgs.first }),
      after: t.arg.string({ description: pagingArgs.after }),
    },
    resolve: async (_, args, { principal, gateway }) => {
      const first = pageSize(args.first);
      if (!inScope(authorize(principal, "fraudBlocks"), args.serviceSid)) return emptyPage<FraudBlock>();
      return gateway.records.fraudBlocks(args.serviceSid, args.active ? gateway.clock.now() : null, { first, after: args.after ?? null });
    },
  }),
}));

builder.mutationFields((t) => ({
  liftFraudBlock: t.field({
    type: FraudBlockRef,
    description: `Ends a Fraud Guard block now (a false positive); the prefix is judged afresh from then on. Admin, or a key of the block's service; client, access and device tokens: FORBIDDEN. Errors: NOT_FOUND.`,
    args: { sid: t.arg.id({ required: true, description: "The block (FB…)" }) },
    resolve: async (_, { sid }, { principal, gateway }) => {
      const lifted = await gateway.verifications.liftFraudBlock(sid, serviceScope(authorize(principal, "liftFraudBlock")));
      if (!lifted) throw notFound("Fraud block");
      return lifted;
    },
  }),
}));
