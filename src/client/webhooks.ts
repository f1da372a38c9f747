import { Webhook } from "standardwebhooks";

/**
 * Receiver side: checks a Verigate webhook's Standard Webhooks signature (webhook-id, webhook-timestamp,
 * webhook-signature; HMAC-SHA256, at most 5 minutes old) over the raw body and answers the event. Throws
 * on a bad or stale signature. Any Standard Webhooks library, in any language, does the same.
 */
export interface VerigateWebhookEvent {
  id: string;
  type: string;
  timestamp: string;
  serviceSid: string;
  resourceSid: string;
  data: Record<string, unknown>;
}

export function verifyWebhook(secret: string, rawBody: string, headers: Record<string, string | string[] | undefined>): VerigateWebhookEvent {
  const flat: Record<string, string> = {};
  for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"]) {
    const value = headers[name];
    flat[name] = Array.isArray(value) ? value[0] : (value ?? "");
  }
  return new Webhook(secret).verify(rawBody, flat) as VerigateWebhookEvent;
}
