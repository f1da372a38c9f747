import { Webhook } from "standardwebhooks";

/**
 * Standard Webhooks signatures (webhook-id, webhook-timestamp, webhook-signature: v1,<HMAC-SHA256>),
 * used both for what we send to HTTP providers and for the status callbacks they send us.
 */
export function signedHeaders(secret: string, id: string, body: string, now: Date = new Date()): Record<string, string> {
  const signature = new Webhook(secret).sign(id, now, body);
  return { "webhook-id": id, "webhook-timestamp": String(Math.floor(now.getTime() / 1000)), "webhook-signature": signature };
}

/** Throws unless the headers carry a valid, recent (5 min) signature of the body. */
export function verifySigned(secret: string, body: string, headers: Record<string, string>): unknown {
  return new Webhook(secret).verify(body, headers);
}
