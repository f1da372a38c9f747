import { newSid } from "./ids.js";
import type { DeliveryStatus, VerifyEvent } from "./types.js";

/** Where committed events go: live subscribers, metrics, the dispatcher's wake-up. */
export interface EventSink {
  publish(events: readonly VerifyEvent[]): void;
}

/**
 * The event catalogue: every event type the gateway writes, in one place. Webhook subscriptions,
 * subscriptions and the attempts log read these names; a store never spells one.
 */
export const eventTypes = [
  "service.created",
  "service.updated",
  "service.deleted",
  "api_key.created",
  "api_key.revoked",
  "verification.started",
  "verification.resent",
  "verification.canceled",
  "verification.approved",
  "verification.expired",
  "verification.check_failed",
  "verification.max_attempts_reached",
  "verification.sna_pending",
  "verification.sna_confirmed",
  "verification.sna_failed",
  "verification.fallback",
  "delivery.queued",
  "delivery.sent",
  "delivery.delivered",
  "delivery.undelivered",
  "delivery.failed",
  "factor.created",
  "factor.verified",
  "factor.verification_failed",
  "factor.updated",
  "factor.deleted",
  "challenge.created",
  "challenge.approved",
  "challenge.denied",
  "challenge.expired",
  "challenge.answer_failed",
  "challenge.replay_refused",
  "challenge.fallback_started",
  "fraud_guard.blocked",
  "fraud_guard.lifted",
  "webhook.created",
  "webhook.updated",
  "webhook.deleted",
  "webhook.test",
] as const;
export type EventType = (typeof eventTypes)[number];

/** A delivery's event is named after the attempt's new status. */
export const deliveryEvent = (status: DeliveryStatus) => `delivery.${status.toLowerCase()}` as EventType;

/** A new event about one resource (its data is the resource as it now is). */
export function newEvent(type: EventType, serviceSid: string, resourceSid: string, data: object, now: number): VerifyEvent {
  return { sid: newSid("EV"), type, serviceSid, resourceSid, occurredAt: now, data: data as Record<string, unknown> };
}

type Owned = { sid: string; serviceSid: string };

/**
 * Constructors of the events that record a resource's life (created, updated, revoked…). Events of a
 * state machine's transitions are chosen by the machine (verification/machine.ts, factor/machine.ts).
 */
export const lifeEvents = {
  serviceCreated: (service: { sid: string; dateCreated: number }) => newEvent("service.created", service.sid, service.sid, service, service.dateCreated),
  serviceUpdated: (service: { sid: string }, now: number) => newEvent("service.updated", service.sid, service.sid, service, now),
  serviceDeleted: (service: { sid: string }, now: number) => newEvent("service.deleted", service.sid, service.sid, service, now),
  apiKeyCreated: (key: Owned & { dateCreated: number }) => newEvent("api_key.created", key.serviceSid, key.sid, key, key.dateCreated),
  apiKeyRevoked: (key: Owned, now: number) => newEvent("api_key.revoked", key.serviceSid, key.sid, key, now),
  webhookCreated: (hook: Owned & { dateCreated: number }) => newEvent("webhook.created", hook.serviceSid, hook.sid, hook, hook.dateCreated),
  webhookUpdated: (hook: Owned, now: number) => newEvent("webhook.updated", hook.serviceSid, hook.sid, hook, now),
  webhookDeleted: (hook: Owned, now: number) => newEvent("webhook.deleted", hook.serviceSid, hook.sid, hook, now),
  /** A synthetic event testWebhook sends to one webhook only (no subscription pattern selects it). */
  webhookTest: (hook: Owned & { url: string }, now: number) => newEvent("webhook.test", hook.serviceSid, hook.sid, { sid: hook.sid, serviceSid: hook.serviceSid, url: hook.url, test: true }, now),
  fraudBlocked: (block: Owned & { dateCreated: number }, data: Record<string, unknown>) => newEvent("fraud_guard.blocked", block.serviceSid, block.sid, { ...block, ...data }, block.dateCreated),
  fraudLifted: (block: Owned, now: number) => newEvent("fraud_guard.lifted", block.serviceSid, block.sid, block, now),
};
