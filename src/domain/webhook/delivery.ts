import type { WebhookDeliveryStatus } from "../types.js";

/** How one try of a webhook delivery ended (CANCELED: not tried, its webhook is gone or disabled). */
export type WebhookOutcome = "DELIVERED" | "RETRY" | "FAILED" | "CANCELED";

/**
 * A delivery after one try: RETRY keeps it PENDING and its job is rescheduled; DELIVERED, FAILED and
 * CANCELED end it and its job. A canceled delivery was not tried: its count and last result stay.
 */
export function webhookTry(outcome: WebhookOutcome, now: number): { status: WebhookDeliveryStatus; tried: boolean; deliveredAt: number | null; rescheduled: boolean } {
  return {
    status: outcome === "RETRY" ? "PENDING" : outcome,
    tried: outcome !== "CANCELED",
    deliveredAt: outcome === "DELIVERED" ? now : null,
    rescheduled: outcome === "RETRY",
  };
}

/**
 * A try that will be retried keeps a delivery PENDING only if it still is: one canceled while its POST was
 * in flight (its webhook deleted) stays CANCELED and is not tried again. A try that ended (delivered,
 * failed) is written whatever happened meanwhile: it is what the receiver saw.
 */
export const webhookRetryKeeps: WebhookDeliveryStatus = "PENDING";

/** Deleting a webhook cancels its deliveries that still wait to be sent. */
export const webhookDeletion: { cancels: WebhookDeliveryStatus; to: WebhookDeliveryStatus } = { cancels: "PENDING", to: "CANCELED" };

/** A delivery is written PENDING with its event, and its outbox job tries it. */
export const newDeliveryStatus: WebhookDeliveryStatus = "PENDING";

/** Does a webhook subscribed to these patterns ("verification.*", "delivery.sent", "*") want this event type? */
export const wantsEvent = (patterns: readonly string[], type: string): boolean => patterns.some((p) => p === "*" || p === type || (p.endsWith(".*") && type.startsWith(p.slice(0, -1))));

/** Only a FAILED delivery may be queued again (retryWebhookDelivery): it becomes PENDING with a fresh job and fresh tries. */
export const webhookRetry: { from: WebhookDeliveryStatus; to: WebhookDeliveryStatus } = { from: "FAILED", to: "PENDING" };
