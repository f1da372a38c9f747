import { createHmac } from "node:crypto";
import type { EventType } from "../events.js";
import type { VerifyEvent } from "../types.js";

/**
 * Twilio's Verify webhook event types and the Verigate event each one is (one table). Twilio's `*` is
 * every event of this table, not Verigate's `*` (which is every event of the catalogue).
 */
export const twilioWebhookEvents = [
  { twilio: "factor.created", verigate: "factor.created" },
  { twilio: "factor.verified", verigate: "factor.verified" },
  { twilio: "factor.deleted", verigate: "factor.deleted" },
  { twilio: "challenge.approved", verigate: "challenge.approved" },
  { twilio: "challenge.denied", verigate: "challenge.denied" },
] as const satisfies readonly { twilio: string; verigate: EventType }[];

const TWILIO_ALL = "*";

/**
 * Twilio event types as Verigate subscription patterns: each of Twilio's names is its Verigate event,
 * `*` is all of them; any other name is taken as Verigate's own (the directory validates it).
 */
export function fromTwilioEventTypes(names: readonly string[]): string[] {
  const out: string[] = [];
  for (const name of names) {
    if (name === TWILIO_ALL) out.push(...twilioWebhookEvents.map((e) => e.verigate));
    else out.push(twilioWebhookEvents.find((e) => e.twilio === name)?.verigate ?? name);
  }
  return [...new Set(out)];
}

/** Verigate subscription patterns as Twilio names: all of Twilio's events at once read as `*`. */
export function toTwilioEventTypes(patterns: readonly string[]): string[] {
  const all = twilioWebhookEvents.every((e) => patterns.includes(e.verigate));
  const named = patterns.map((p) => twilioEventName(p));
  if (!all) return named;
  const mine = new Set<string>(twilioWebhookEvents.map((e) => e.twilio));
  return [TWILIO_ALL, ...named.filter((n) => !mine.has(n))];
}

/** The `type` a Twilio-format delivery carries: Twilio's name, or Verigate's own for events Twilio has not. */
export const twilioEventName = (type: string): string => twilioWebhookEvents.find((e) => e.verigate === type)?.twilio ?? type;

/**
 * A Twilio-format delivery's parameters (Twilio's Verify webhook fields: `uuid`, `type`, `account_sid`,
 * `service_sid`, `entity_identity`, `factor_*`, `challenge_*`; for Verigate's verification events the
 * `verification_*` fields it can map). `uuid` is the event sid, the same on every retry. Empty fields are left out.
 */
export function twilioWebhookParams(event: VerifyEvent, accountSid: string | null): Record<string, string> {
  const d = event.data;
  const str = (value: unknown): string | undefined => (typeof value === "string" ? value : typeof value === "number" || typeof value === "boolean" ? String(value) : undefined);
  const lower = (value: unknown) => str(value)?.toLowerCase();
  const json = (value: unknown) => (value && typeof value === "object" ? JSON.stringify(value) : undefined);
  const when = (value: unknown) => (typeof value === "number" ? new Date(value).toISOString().replace(/\.\d{3}Z$/, "Z") : undefined);
  const family = event.type.slice(0, event.type.indexOf("."));
  const fields: Record<string, string | undefined> = {
    uuid: event.sid,
    type: twilioEventName(event.type),
    account_sid: accountSid ?? undefined,
    service_sid: event.serviceSid,
    date_created: when(event.occurredAt),
  };
  if (family === "factor") {
    Object.assign(fields, {
      entity_identity: str(d.identity),
      factor_sid: event.resourceSid,
      factor_type: lower(d.factorType),
      factor_friendly_name: str(d.friendlyName),
      factor_status: lower(d.status),
    });
  } else if (family === "challenge") {
    Object.assign(fields, {
      entity_identity: str(d.identity),
      factor_sid: str(d.factorSid),
      factor_type: lower(d.factorType),
      challenge_sid: event.resourceSid,
      challenge_status: lower(d.status),
      challenge_details: json(d.details),
      challenge_hidden_details: json(d.hiddenDetails),
      challenge_date_responded: when(d.dateResponded),
    });
  } else if (family === "verification") {
    Object.assign(fields, {
      verification_sid: event.resourceSid,
      verification_status: lower(d.status),
      to: str(d.to),
      channel: lower(d.channel),
    });
  } else {
    fields.resource_sid = event.resourceSid;
  }
  return Object.fromEntries(Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ""));
}

/**
 * Twilio's request signature (`X-Twilio-Signature`): base64 of HMAC-SHA1, keyed by the auth token, of the
 * URL followed by each parameter's name and value, sorted by name; what `twilio.validateRequest` checks.
 */
export function twilioSignature(key: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, name) => acc + name + params[name], url);
  return createHmac("sha1", key).update(Buffer.from(data, "utf8")).digest("base64");
}
