import type { Page, VerifyEvent, Webhook, WebhookDelivery, WebhookDeliveryStatus, WebhookFormat } from "../types.js";
import type { PageRequest } from "./page.js";

/** A service's webhooks and their delivery history. Every write returns its events (the store publishes them after commit). */
export interface WebhookStore {
  createWebhook(webhook: Webhook, secretSealed: string): Promise<VerifyEvent>;
  updateWebhook(sid: string, serviceSid: string | null, patch: WebhookPatch, now: number): Promise<{ webhook: Webhook; event: VerifyEvent } | null>;
  /** Deletes a webhook; its pending deliveries are canceled. */
  deleteWebhook(sid: string, serviceSid: string | null, now: number): Promise<{ webhook: Webhook; event: VerifyEvent } | null>;
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
