import { authorize, inScope, serviceScope } from "../domain/access/rules.js";
import { notFound } from "../domain/errors.js";
import { type SidPrefix, isSid } from "../domain/ids.js";
import type { AttemptFilter } from "../domain/ports/index.js";
import type { VerificationAttempt } from "../domain/types.js";
import { invalidRestParameter } from "./errors.js";
import type { Params } from "./form.js";
import { type RestContext, type Route, iso, listPage } from "./router.js";

/** Twilio's attempt channels; rbm (RCS Business Messaging) is an SMS Verigate upgraded to RCS. */
const channels = ["sms", "call", "email", "whatsapp", "rbm"] as const;
const channelOf = (name: (typeof channels)[number]) => (name === "rbm" ? "RCS" : name.toUpperCase());
const restChannel = (channel: string) => (channel === "RCS" ? "rbm" : channel.toLowerCase());
/**
 * Attempts on these channels only: Twilio's Attempts describe messages and calls, and its channel enum has
 * no SNA (a data-session check, not a message) nor a plug-in's channels; GraphQL's verificationAttempts lists them.
 */
const TWILIO_CHANNELS = channels.map(channelOf);

/** A send attempt as Twilio's `verify.v2.verification_attempt`. Verigate prices nothing: `price` is null. */
export function presentAttempt(a: VerificationAttempt, c: RestContext) {
  const outcome = a.channel === "CALL" ? "call_status" : "message_status";
  return {
    sid: a.attemptSid,
    account_sid: c.accountSid,
    service_sid: a.serviceSid,
    verification_sid: a.verificationSid,
    date_created: iso(a.dateCreated),
    // The log keeps when an attempt was made, not when its delivery status last moved.
    date_updated: iso(a.dateCreated),
    conversion_status: a.converted ? "converted" : "unconverted",
    channel: restChannel(a.channel),
    price: null,
    channel_data: {
      verification_sid: a.verificationSid,
      to: a.to,
      status: a.converted ? "confirmed" : a.verificationStatus === "EXPIRED" ? "expired" : "unconfirmed",
      [outcome]: a.status.toLowerCase(),
      error_code: a.errorCode,
      country: a.country,
    },
    url: `${c.base}/v2/Attempts/${a.attemptSid}`,
  };
}

/** Twilio's date filters: ISO 8601 date-times; anything else answers 60200. */
function date(p: Params, name: string): number | null {
  const raw = p.string(name);
  if (raw === undefined) return null;
  const value = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(raw) ? Date.parse(raw) : Number.NaN;
  if (!Number.isFinite(value)) throw invalidRestParameter(name, "must be an ISO 8601 date-time such as 2024-01-31T12:00:00Z");
  return value;
}

function sid(p: Params, name: string, prefix: SidPrefix): string | null {
  const raw = p.string(name);
  if (raw === undefined) return null;
  if (!isSid(raw, prefix)) throw invalidRestParameter(name, `must be a ${prefix}… sid`);
  return raw;
}

/**
 * The filters both the list and the summary take, and the service they read: for the admin every
 * service (VerifyServiceSid narrows), for a service key its own service only (another service's sid
 * reads as an unknown one: nothing). `scope`: a service, null for every service, false for none.
 */
function filtersOf(p: Params, c: RestContext, operation: "list" | "summary"): { scope: string | null | false; filter: AttemptFilter } {
  const caller = authorize(c.principal, "verificationAttempts");
  const wanted = sid(p, "VerifyServiceSid", "VA");
  const own = serviceScope(caller);
  const scope = own === null ? wanted : wanted === null || wanted === own ? own : false;
  const country = p.string("Country");
  if (country !== undefined && !/^[A-Za-z]{2}$/.test(country)) throw invalidRestParameter("Country", "must be an ISO 3166-1 alpha-2 country code");
  const channel = p.choice("Channel", channels);
  const filter: AttemptFilter = {
    dateCreatedAfter: date(p, "DateCreatedAfter"),
    dateCreatedBefore: date(p, "DateCreatedBefore"),
    country: country?.toUpperCase() ?? null,
    channels: channel ? [channelOf(channel)] : TWILIO_CHANNELS,
  };
  if (operation === "list") {
    const status = p.choice("Status", ["converted", "unconverted"] as const);
    filter.converted = status === undefined ? null : status === "converted";
    filter.to = p.string("ChannelData.To") ?? null;
    filter.verificationSid = sid(p, "VerificationSid", "VE");
  } else {
    const prefix = p.string("DestinationPrefix");
    if (prefix !== undefined && !/^\+?\d{1,15}$/.test(prefix)) throw invalidRestParameter("DestinationPrefix", "must be the start of an E.164 number such as +57305");
    filter.toPrefix = prefix === undefined ? null : prefix.startsWith("+") ? prefix : `+${prefix}`;
  }
  return { scope, filter };
}

/** Twilio writes the rate as a string: (converted / total) × 100, nine decimals at most. */
const percentage = (converted: number, total: number) => (total === 0 ? null : String(Number(((converted / total) * 100).toFixed(9))));

export const attemptRoutes: Route[] = [
  {
    method: "GET",
    path: "/v2/Attempts",
    handle: async (request, c) => {
      const { scope, filter } = filtersOf(request.params, c, "list");
      return listPage(
        request,
        c,
        "attempts",
        async (page) => (scope === false ? { edges: [], hasNextPage: false, endCursor: null } : c.gateway.records.attempts(scope, filter, page)),
        (a) => presentAttempt(a, c),
      );
    },
  },
  {
    method: "GET",
    path: "/v2/Attempts/Summary",
    handle: async ({ params }, c) => {
      const { scope, filter } = filtersOf(params, c, "summary");
      const summary = scope === false ? { total: 0, converted: 0 } : await c.gateway.records.attemptsSummary(scope, filter);
      return {
        status: 200,
        body: {
          total_attempts: summary.total,
          total_converted: summary.converted,
          total_unconverted: summary.total - summary.converted,
          conversion_rate_percentage: percentage(summary.converted, summary.total),
          url: `${c.base}/v2/Attempts/Summary`,
        },
      };
    },
  },
  {
    method: "GET",
    path: "/v2/Attempts/{Sid}",
    handle: async ({ path }, c) => {
      const caller = authorize(c.principal, "verificationAttempts");
      const attempt = isSid(path.Sid, "VL") ? await c.gateway.records.attempt(path.Sid) : null;
      if (!attempt || !inScope(caller, attempt.serviceSid) || !TWILIO_CHANNELS.includes(attempt.channel)) throw notFound("Attempt");
      return { status: 200, body: presentAttempt(attempt, c) };
    },
  },
];
