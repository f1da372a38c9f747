import { invalidParameter, notFound } from "../domain/errors.js";
import type { ConversionGroup, FraudBlock, VerificationAttempt, VerificationStats } from "../domain/types.js";
import { requireServiceAccess, serviceScope } from "../server/auth.js";
import { builder } from "./builder.js";
import { connection, emptyPage, pageSize } from "./connection.js";
import { ChannelEnum, FraudGuardLevelEnum } from "./service.js";
import { AttemptChannelEnum, DeliveryStatusEnum, VerificationStatusEnum } from "./verification.js";

const DAY_MS = 24 * 60 * 60 * 1000;
const ConversionStatusEnum = builder.enumType("ConversionStatus", { values: ["CONVERTED", "UNCONVERTED"] as const });

const VerificationAttemptRef = builder.objectRef<VerificationAttempt>("VerificationAttempt").implement({
  description: "One send attempt and whether its verification converted (was approved)",
  fields: (t) => ({
    id: t.exposeID("attemptSid"),
    attemptSid: t.exposeID("attemptSid"),
    verificationSid: t.exposeID("verificationSid"),
    serviceSid: t.exposeID("serviceSid"),
    to: t.exposeString("to"),
    channel: t.field({ type: AttemptChannelEnum, resolve: (a) => a.channel }),
    country: t.exposeString("country", { nullable: true, description: "ISO 3166-1 alpha-2; null for email" }),
    status: t.field({ type: DeliveryStatusEnum, description: "The attempt's delivery status", resolve: (a) => a.status }),
    errorCode: t.exposeString("errorCode", { nullable: true }),
    conversionStatus: t.field({ type: ConversionStatusEnum, resolve: (a) => (a.converted ? "CONVERTED" : "UNCONVERTED") }),
    verificationStatus: t.field({ type: VerificationStatusEnum, resolve: (a) => a.verificationStatus }),
    testMode: t.exposeBoolean("testMode", { description: "Sent to one of the service's test numbers" }),
    dateCreated: t.field({ type: "DateTime", resolve: (a) => a.dateCreated }),
  }),
});
const VerificationAttemptConnection = connection("VerificationAttempt", VerificationAttemptRef);

const VerificationAttemptFilter = builder.inputType("VerificationAttemptFilter", {
  fields: (t) => ({
    dateCreatedAfter: t.field({ type: "DateTime" }),
    dateCreatedBefore: t.field({ type: "DateTime" }),
    channel: t.field({ type: AttemptChannelEnum }),
    country: t.string({ description: "ISO 3166-1 alpha-2" }),
    status: t.field({ type: ConversionStatusEnum }),
  }),
});

const rate = (converted: number, total: number) => (total === 0 ? null : converted / total);

const ConversionGroupRef = builder.objectRef<ConversionGroup>("ConversionGroup").implement({
  fields: (t) => ({
    key: t.exposeString("key", { description: "The channel, or the country (empty for email)" }),
    total: t.exposeInt("total"),
    converted: t.exposeInt("converted"),
    conversionRate: t.float({ nullable: true, description: "converted / total, 0–1", resolve: (g) => rate(g.converted, g.total) }),
  }),
});

type Stats = VerificationStats & { from: number; to: number };
const DeliveryStatsRef = builder.objectRef<VerificationStats["attempts"]>("DeliveryStats").implement({
  description: "Send attempts of those verifications by delivery status",
  fields: (t) => ({
    attempts: t.int({ resolve: (a) => Object.values(a).reduce((x, y) => x + y, 0) }),
    queued: t.exposeInt("QUEUED"),
    sent: t.exposeInt("SENT"),
    delivered: t.exposeInt("DELIVERED"),
    undelivered: t.exposeInt("UNDELIVERED"),
    failed: t.exposeInt("FAILED"),
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
    from: t.field({ type: "DateTime", resolve: (s) => s.from }),
    to: t.field({ type: "DateTime", resolve: (s) => s.to }),
    total: t.exposeInt("total"),
    converted: t.exposeInt("converted"),
    unconverted: t.int({ resolve: (s) => s.total - s.converted }),
    conversionRate: t.float({ nullable: true, description: "converted / total, 0–1", resolve: (s) => rate(s.converted, s.total) }),
    byChannel: t.field({ type: [ConversionGroupRef], resolve: (s) => s.byChannel }),
    byCountry: t.field({ type: [ConversionGroupRef], resolve: (s) => s.byCountry }),
    delivery: t.field({ type: DeliveryStatsRef, resolve: (s) => s.attempts }),
  }),
});

const FraudBlockRef = builder.objectRef<FraudBlock>("FraudBlock").implement({
  description: "Fraud Guard blocked SMS to a destination prefix until blockedUntil",
  fields: (t) => ({
    id: t.exposeID("sid"),
    sid: t.exposeID("sid"),
    serviceSid: t.exposeID("serviceSid"),
    prefix: t.exposeString("prefix", { description: "E.164 without its last four digits" }),
    reason: t.exposeString("reason", { description: "velocity or low_conversion" }),
    severity: t.exposeInt("severity"),
    level: t.field({ type: FraudGuardLevelEnum, resolve: (b) => b.level }),
    blockedUntil: t.field({ type: "DateTime", resolve: (b) => b.blockedUntil }),
    dateCreated: t.field({ type: "DateTime", resolve: (b) => b.dateCreated }),
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
    description: "The attempts log, newest first (kept at least 30 days)",
    args: { serviceSid: t.arg.id({ required: true }), filter: t.arg({ type: VerificationAttemptFilter }), first: t.arg.int(), after: t.arg.string() },
    resolve: async (_, args, { principal, gateway }) => {
      const first = pageSize(args.first);
      if (requireServiceAccess(principal, args.serviceSid) === "out-of-scope") return emptyPage<VerificationAttempt>();
      const f = args.filter ?? {};
      return gateway.store.listVerificationAttempts(
        args.serviceSid,
        {
          dateCreatedAfter: ms(f.dateCreatedAfter, "dateCreatedAfter"),
          dateCreatedBefore: ms(f.dateCreatedBefore, "dateCreatedBefore"),
          channel: f.channel ?? null,
          country: f.country ? f.country.toUpperCase() : null,
          converted: f.status ? f.status === "CONVERTED" : null,
        },
        { first, after: args.after ?? null },
      );
    },
  }),
  verificationStats: t.field({
    type: VerificationStatsRef,
    nullable: true,
    description: "Conversion over a period (default: the last 30 days), by channel and country, and delivery success",
    args: {
      serviceSid: t.arg.id({ required: true }),
      dateCreatedAfter: t.arg({ type: "DateTime" }),
      dateCreatedBefore: t.arg({ type: "DateTime" }),
      channel: t.arg({ type: ChannelEnum }),
      country: t.arg.string(),
    },
    resolve: async (_, args, { principal, gateway }) => {
      if (requireServiceAccess(principal, args.serviceSid) === "out-of-scope" || !(await gateway.services.get(args.serviceSid))) return null;
      // Up to now, inclusive: [from, to) with to just past now.
      const to = ms(args.dateCreatedBefore, "dateCreatedBefore") ?? gateway.clock.now() + 1;
      const from = ms(args.dateCreatedAfter, "dateCreatedAfter") ?? to - 30 * DAY_MS;
      if (from > to) throw invalidParameter("dateCreatedAfter", "Invalid parameter `dateCreatedAfter`: after dateCreatedBefore.");
      const stats = await gateway.store.verificationStats(args.serviceSid, { from, to, channel: args.channel ?? null, country: args.country ? args.country.toUpperCase() : null });
      return { ...stats, from, to };
    },
  }),
  fraudBlocks: t.field({
    type: FraudBlockConnection,
    description: "Fraud Guard's blocks, newest first; `active: true` for those still in force",
    args: { serviceSid: t.arg.id({ required: true }), active: t.arg.boolean(), first: t.arg.int(), after: t.arg.string() },
    resolve: async (_, args, { principal, gateway }) => {
      const first = pageSize(args.first);
      if (requireServiceAccess(principal, args.serviceSid) === "out-of-scope") return emptyPage<FraudBlock>();
      return gateway.store.listFraudBlocks(args.serviceSid, args.active ? gateway.clock.now() : null, { first, after: args.after ?? null });
    },
  }),
}));

builder.mutationFields((t) => ({
  liftFraudBlock: t.field({
    type: FraudBlockRef,
    description: "Ends a Fraud Guard block now (a false positive); the prefix is judged afresh from then on",
    args: { sid: t.arg.id({ required: true }) },
    resolve: async (_, { sid }, { principal, gateway }) => {
      requireServiceAccess(principal, null);
      const lifted = await gateway.verifications.liftFraudBlock(sid, serviceScope(principal));
      if (!lifted) throw notFound("Fraud block");
      return lifted;
    },
  }),
}));
