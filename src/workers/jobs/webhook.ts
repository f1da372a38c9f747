import type { Logger } from "pino";
import type { Clock } from "../../domain/clock.js";
import { type Keyring, open } from "../../domain/crypto.js";
import type { VerifyEvent, Webhook } from "../../domain/types.js";
import { twilioSignature, twilioWebhookParams } from "../../domain/webhook/twilio.js";
import { postOutside } from "../../providers/egress/guard.js";
import { signedHeaders } from "../../providers/http/signing.js";
import type { OutboxJob, Store } from "../../store/port.js";
import type { JobAnswer, JobKind, Trouble } from "../outbox/runner.js";

export interface WebhookJobDeps {
  store: Pick<Store, "webhookJob" | "recordWebhookAttempt" | "dropJob">;
  clock: Clock;
  keys: Keyring;
  logger: Logger;
  /** Tries per webhook delivery before it is FAILED. */
  maxTries?: number;
  timeoutMs?: number;
  /** May webhooks reach loopback, private and link-local addresses (SSRF guard off)? */
  allowInternal?: boolean;
  /** The account sid Twilio-format deliveries carry (`account_sid`); left out when not given. */
  accountSid?: () => string | null;
}

/** What a webhook try's retry and failure records carry besides the error. */
interface WebhookTry {
  statusCode: number | null;
  webhookSid: string;
  eventSid: string;
}

/**
 * One try of one webhook delivery, signed per Standard Webhooks with the webhook's secret; the
 * webhook-id is the event sid, the same on every retry, so a receiver can drop duplicates. A 2xx
 * ends it; anything else retries with backoff (1 s doubling, at most 1 h) until its tries are used.
 */
export function webhookJob(deps: WebhookJobDeps): JobKind<WebhookTry> {
  const { store, clock, keys, logger } = deps;
  const base = (job: OutboxJob) => ({ jobId: job.id, deliveryId: Number(job.refSid), statusCode: null, error: null, runAt: 0 });

  async function run(job: OutboxJob): Promise<JobAnswer<WebhookTry>> {
    const work = await store.webhookJob(Number(job.refSid));
    if (work?.delivery.status !== "PENDING") {
      await store.dropJob(job.id);
      return { done: true };
    }
    if (!work.webhook?.enabled) {
      await store.recordWebhookAttempt({ ...base(job), outcome: "CANCELED", now: clock.now() });
      return { done: true };
    }
    const secret = open(keys, work.webhook.secretSealed, work.webhook.sid);
    const request = webhookRequest(work.webhook, work.event, secret, deps.accountSid?.() ?? null);
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      // Redirects are not followed; internal destinations are refused unless allowed (SSRF).
      statusCode = await postOutside(work.webhook.url, {
        headers: request.headers,
        body: request.body,
        timeoutMs: deps.timeoutMs ?? 10_000,
        allowInternal: deps.allowInternal ?? false,
      });
      if (statusCode < 200 || statusCode > 299) error = `answered ${statusCode}`;
    } catch (e) {
      error = (e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e)).slice(0, 300);
    }
    if (error === null) {
      await store.recordWebhookAttempt({ ...base(job), outcome: "DELIVERED", statusCode, now: clock.now() });
      return { done: true };
    }
    return { retry: true, reason: error, statusCode, webhookSid: work.webhook.sid, eventSid: work.event.sid };
  }

  async function reschedule(job: OutboxJob, runAt: number, answer: { reason: string } & WebhookTry): Promise<void> {
    await store.recordWebhookAttempt({ ...base(job), outcome: "RETRY", statusCode: answer.statusCode, error: answer.reason, runAt, now: clock.now() });
  }

  async function fail(job: OutboxJob, trouble: Trouble<WebhookTry>): Promise<void> {
    logger.warn({ webhookSid: trouble.webhookSid, eventSid: trouble.eventSid, tries: job.tries, error: trouble.reason }, "webhook delivery failed");
    await store.recordWebhookAttempt({ ...base(job), outcome: "FAILED", statusCode: trouble.statusCode ?? null, error: trouble.reason, now: clock.now() });
  }

  return { retry: { maxTries: deps.maxTries ?? 10, capMs: 3_600_000 }, recordsItsEnd: true, run, reschedule, fail };
}

export const WEBHOOK_USER_AGENT = "Verigate-Webhooks/1";

/**
 * One delivery's request in its webhook's format: Standard Webhooks (JSON, `webhook-*` headers) or
 * Twilio's (a form signed with `X-Twilio-Signature` over the webhook's URL and the form's parameters;
 * `I-Twilio-Idempotency-Token` is the event sid, the same on every retry).
 */
export function webhookRequest(webhook: Pick<Webhook, "url" | "format">, event: VerifyEvent, secret: string, accountSid: string | null): { headers: Record<string, string>; body: string } {
  if (webhook.format === "twilio") {
    const params = twilioWebhookParams(event, accountSid);
    return {
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "user-agent": WEBHOOK_USER_AGENT,
        "x-twilio-signature": twilioSignature(secret, webhook.url, params),
        "i-twilio-idempotency-token": event.sid,
      },
      body: new URLSearchParams(params).toString(),
    };
  }
  const body = webhookPayload(event);
  // The wall clock, not the injected one: receivers check webhook-timestamp against their own clocks.
  return { headers: { "content-type": "application/json", "user-agent": WEBHOOK_USER_AGENT, ...signedHeaders(secret, event.sid, body, new Date()) }, body };
}

/** The JSON a webhook receiver gets: Standard Webhooks' `type` / `timestamp` / `data`, plus the event's ids. */
export function webhookPayload(event: VerifyEvent): string {
  return JSON.stringify({
    id: event.sid,
    type: event.type,
    timestamp: new Date(event.occurredAt).toISOString(),
    serviceSid: event.serviceSid,
    resourceSid: event.resourceSid,
    data: event.data,
  });
}
