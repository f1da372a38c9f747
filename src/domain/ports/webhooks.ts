import type { Page, VerifyEvent, Webhook, WebhookDelivery, WebhookDeliveryStatus, WebhookFormat } from "../types.js";
import type { PageRequest } from "./page.js";

/** A service's webhooks and their delivery history. Every write returns its events (the store publishes them after commit). */
export interface WebhookStore {
  createWebhook(webhook: Webhook, secretSealed: string): Promise<VerifyEvent>;
  updateWebhook(sid: string, serviceSid: string | null, patch: WebhookPatch, now: number): Promise<{ webhook: Webhook; event: VerifyEvent } | null>;
  /** Deletes a webhook; its pending deliveries are canceled. */
  deleteWebhook(sid: string, serviceSid: string | null, now: number): Promise<{ webhook: Webhook; event: VerifyEvent } | null>;
  /** Queues a synthetic webhook.test event to this one webhook; null when unknown or out of scope. */
  testWebhook(sid: string, serviceSid: string | null, now: number): Promise<{ delivery: WebhookDelivery; event: VerifyEvent } | null>;
  /** Queues a FAILED delivery again (retried: true); another status is returned unchanged; null when unknown or out of scope. */
  retryWebhookDelivery(id: number, serviceSid: string | null, now: number): Promise<{ delivery: WebhookDelivery; retried: boolean } | null>;
  getWebhook(sid: string): Promise<Webhook | null>;
  listWebhooks(serviceSid: string): Promise<Webhook[]>;
  listWebhookDeliveries(webhookSid: string, status: WebhookDeliveryStatus | null, page: PageRequest): Promise<Page<WebhookDelivery>>;
}

export interface WebhookPatch {
  url?: string;
  friendlyName?: string;
  eventTypes?: string[];
  enabled?: boolean;
  format?: WebhookFormat;
}
