import type { Logger } from "pino";
import type { CallScript } from "../channels/call/script.js";
import { messageInput, openSecret } from "../channels/compose.js";
import { channels, type RoutingOptions, route } from "../channels/registry.js";
import type { Clock } from "../domain/clock.js";
import { type Keyring, open } from "../domain/crypto.js";
import type { EventSink } from "../domain/events.js";
import { newSid } from "../domain/ids.js";
import { abandonedSend } from "../domain/verification/abandoned.js";
import type { AttemptChannel, DeliveryChannel, VerifyEvent } from "../domain/types.js";
import { signedHeaders } from "../providers/http/signing.js";
import type { Provider, SendReceipt } from "../providers/provider.js";
import type { ProviderRegistry } from "../providers/registry.js";
import type { OutboxJob, Store } from "../store/port.js";
import { postOutside } from "../providers/egress/guard.js";

export type JobHandler = (job: OutboxJob) => Promise<{ done: true } | { done: false; retry: boolean; reason: string }>;

export interface DispatcherOptions {
  store: Store;
  clock: Clock;
  keys: Keyring;
  sink: EventSink;
  providers: ProviderRegistry;
  routing: RoutingOptions;
  callScript: CallScript;
  logger: Logger;
  /** How often to look for due retries and expired leases when nothing wakes us. */
  pollMs?: number;
  leaseMs?: number;
  maxTries?: number;
  sendTimeoutMs?: number;
  /** Jobs other than message deliveries (push notices, silent-approval fallbacks): done, or retry with a reason. */
  handlers?: Partial<Record<OutboxJob["kind"], JobHandler>>;
  /** Deliveries in flight at once; each runs on its own, so a hanging provider holds back nobody else. */
  maxInFlight?: number;
  /** Where test numbers' messages go instead of a provider: the dev outbox. */
  testProvider: Provider;
  /** Tries per webhook delivery before it is FAILED. */
  webhookMaxTries?: number;
  /** May webhooks reach loopback, private and link-local addresses (SSRF guard off)? */
  webhookAllowInternal?: boolean;
  /** A provider accepted a message: how long after it was queued (metrics). */
  onDelivered?: (channel: AttemptChannel, latencyMs: number) => void;
}

/**
 * Drains the durable outbox: claims due jobs with a lease (a crashed worker's jobs come back when the
 * lease ends), words the message, hands it to the transports of its route (RCS then SMS…), records the
 * result as an event. Failures retry with exponential backoff and jitter; past maxTries the attempt is
 * FAILED. The attempt sid is the idempotency key every provider receives.
 */
export class Dispatcher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private again = false;
  /** The last claim stopped because every slot was busy: a finished delivery must claim again. */
  private starved = false;
  private scheduled: NodeJS.Immediate | null = null;
  private stopped = true;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly inFlightJobs = new Set<number>();
  private heartbeat: NodeJS.Timeout | undefined;
  /** The start-up pass over attempts a crash left QUEUED under final verifications. */
  private settling: Promise<void> = Promise.resolve();
  private readonly o: Required<DispatcherOptions>;

  constructor(options: DispatcherOptions) {
    this.o = { pollMs: 1000, leaseMs: 30_000, maxTries: 5, sendTimeoutMs: 10_000, maxInFlight: 256, handlers: {}, webhookMaxTries: 10, webhookAllowInternal: false, onDelivered: () => {}, ...options };
  }

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.wake(), this.o.pollMs);
    this.timer.unref();
    // A slow delivery keeps its lease while this worker lives; a dead worker's leases run out.
    this.heartbeat = setInterval(() => {
      if (this.inFlightJobs.size === 0) return;
      this.o.store.extendLeases([...this.inFlightJobs], this.o.clock.now() + this.o.leaseMs).catch((error) => this.o.logger.error({ err: error }, "lease extension failed"));
    }, Math.max(50, Math.floor(this.o.leaseMs / 3)));
    this.heartbeat.unref();
    this.settling = this.settleAbandoned().catch((error) => this.o.logger.error({ err: error }, "settling abandoned sends failed"));
    this.wake();
  }

  /** Attempts whose job a crash (or an older gateway) lost while their verification ended: settled, with their events. */
  private async settleAbandoned(): Promise<void> {
    for (;;) {
      const events = await this.o.store.settleAbandonedAttempts(this.o.clock.now(), 500);
      if (events.length > 0) this.o.logger.info({ attempts: events.length }, "settled send attempts abandoned by a crash");
      if (events.length < 500) return;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearInterval(this.heartbeat);
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = null;
    await this.settling;
    await this.running;
    await Promise.all(this.inFlight);
  }

  /** Called after a commit that queued a job; coalesces bursts (one turn of the event loop) into one claim. */
  wake(): void {
    if (this.stopped || this.scheduled) return;
    this.scheduled = setImmediate(() => {
      this.scheduled = null;
      this.claimNow();
    });
  }

  private claimNow(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.claim()
      .catch((error) => this.o.logger.error({ err: error }, "outbox claim failed"))
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.claimNow();
        }
      });
  }

  /** Resolves once every job due now has been delivered or rescheduled. Tests await it instead of sleeping. */
  async idle(): Promise<void> {
    await this.settling;
    do {
      await this.running;
      await Promise.all(this.inFlight);
      await this.claim();
    } while (this.running || this.inFlight.size > 0);
  }

  private async claim(): Promise<void> {
    for (;;) {
      const room = this.o.maxInFlight - this.inFlight.size;
      this.starved = room <= 0;
      if (this.starved) return;
      const limit = Math.min(room, 64);
      const jobs = await this.o.store.claimJobs(this.o.clock.now(), this.o.leaseMs, limit);
      for (const job of jobs) {
        this.inFlightJobs.add(job.id);
        const delivery: Promise<void> = this.deliver(job).finally(() => {
            this.inFlight.delete(delivery);
            this.inFlightJobs.delete(job.id);
            if (this.starved) this.wake();
          });
        this.inFlight.add(delivery);
      }
      // A short batch means nothing else is due: no second query to learn it.
      if (jobs.length < limit) return;
    }
  }

  private async deliver(job: OutboxJob): Promise<void> {
    try {
      await this.attempt(job);
    } catch (error) {
      // Not a transport's answer (a store error, a code that no longer opens…): it still counts as a try.
      const reason = error instanceof Error ? error.message : String(error);
      this.o.logger.error({ err: error, attemptSid: job.refSid }, "delivery crashed");
      await this.retryOrFail(job, `internal: ${reason}`).catch((e) => this.o.logger.error({ err: e }, "could not reschedule a delivery"));
    }
  }

  private async attempt(job: OutboxJob): Promise<void> {
    const { store, clock, keys } = this.o;
    if (job.kind === "sna_fallback") {
      await store.snaTimedOut(job.id, job.refSid, newSid("VL"), clock.now());
      return;
    }
    const handler = this.o.handlers[job.kind];
    if (handler) {
      const outcome = await handler(job);
      if (outcome.done || !outcome.retry || job.tries >= this.o.maxTries) {
        if (!outcome.done) this.o.logger.warn({ kind: job.kind, ref: job.refSid, tries: job.tries, reason: outcome.reason }, "outbox job given up");
        await store.dropJob(job.id);
        return;
      }
      await store.retryJob(job.id, nextTry(clock.now(), job.tries, 60_000), outcome.reason.slice(0, 300));
      return;
    }
    if (job.kind === "webhook") return this.sendWebhook(job);
    const context = await store.deliveryContext(job.refSid);
    if (context && context.status !== "PENDING") {
      // The verification ended before this send was recorded (a crash mid-send, then an approval or an
      // expiry): settle the attempt rather than leave it QUEUED forever.
      const settled = abandonedSend(context.status);
      await store.recordDelivery({ jobId: job.id, attemptSid: job.refSid, status: settled.status, providerMessageId: null, errorCode: settled.errorCode, now: clock.now() });
      return;
    }
    const secret = context ? openSecret(keys, context) : null;
    if (!context || !secret) {
      await store.dropJob(job.id);
      return;
    }
    const input = messageInput(context, secret);
    // A test number never reaches a provider: its message goes to the dev outbox on its own channel.
    const transports = context.testMode ? [context.channel] : await route(context.channel as DeliveryChannel, context.to, this.o.routing);
    const failures: string[] = [];
    for (const channel of transports) {
      const provider = context.testMode ? this.o.testProvider : this.o.providers[channel];
      const renderer = channels[channel];
      if (!provider || !renderer) continue;
      let receipt: SendReceipt;
      try {
        receipt = await withTimeout(
          provider.send({
            ...renderer.render(input),
            code: secret.code,
            attemptSid: job.refSid,
            verificationSid: context.verificationSid,
            ...(channel === "CALL" ? { voice: this.o.callScript.urls(job.refSid) } : {}),
          }),
          this.o.sendTimeoutMs,
        );
      } catch (error) {
        failures.push(`${channel} via ${provider.name}: ${error instanceof Error ? error.message : String(error)}`);
        // A provider that timed out may still send: trying the next transport now could deliver twice.
        // The retry goes to the same provider with the same attempt sid (its idempotency key).
        if (error instanceof SendTimeout) break;
        continue;
      }
      // Recorded outside the send's try: a store failure here must not look like a failed send.
      await store.recordDelivery({ jobId: job.id, attemptSid: job.refSid, channel, status: receipt.status, providerMessageId: receipt.providerMessageId, errorCode: null, now: clock.now() });
      this.o.onDelivered(channel, clock.now() - context.queuedAt);
      return;
    }
    const reason = failures.join("; ").slice(0, 300) || "no transport for this channel";
    this.o.logger.warn({ attemptSid: job.refSid, tries: job.tries, reason }, "delivery failed");
    await this.retryOrFail(job, reason);
  }

  /**
   * One try of one webhook delivery, signed per Standard Webhooks with the webhook's secret; the
   * webhook-id is the event sid, the same on every retry, so a receiver can drop duplicates. A 2xx
   * ends it; anything else retries with backoff (1 s doubling, at most 1 h) until webhookMaxTries.
   */
  private async sendWebhook(job: OutboxJob): Promise<void> {
    const { store, clock, keys } = this.o;
    const work = await store.webhookJob(Number(job.refSid));
    const base = { jobId: job.id, deliveryId: Number(job.refSid), statusCode: null, error: null, runAt: 0 };
    if (!work || work.delivery.status !== "PENDING") {
      await store.dropJob(job.id);
      return;
    }
    if (!work.webhook || !work.webhook.enabled) {
      await store.recordWebhookAttempt({ ...base, outcome: "CANCELED", now: clock.now() });
      return;
    }
    const secret = open(keys, work.webhook.secretSealed, work.webhook.sid);
    const body = webhookPayload(work.event);
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      // Redirects are not followed; internal destinations are refused unless allowed (SSRF).
      statusCode = await postOutside(work.webhook.url, {
        // The wall clock, not the injected one: receivers check webhook-timestamp against their own clocks.
        headers: { "content-type": "application/json", "user-agent": WEBHOOK_USER_AGENT, ...signedHeaders(secret, work.event.sid, body, new Date()) },
        body,
        timeoutMs: this.o.sendTimeoutMs,
        allowInternal: this.o.webhookAllowInternal,
      });
      if (statusCode < 200 || statusCode > 299) error = `answered ${statusCode}`;
    } catch (e) {
      error = (e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e)).slice(0, 300);
    }
    const now = clock.now();
    if (error === null) {
      await store.recordWebhookAttempt({ ...base, outcome: "DELIVERED", statusCode, now });
      return;
    }
    if (job.tries >= this.o.webhookMaxTries) {
      this.o.logger.warn({ webhookSid: work.webhook.sid, eventSid: work.event.sid, tries: job.tries, error }, "webhook delivery failed");
      await store.recordWebhookAttempt({ ...base, outcome: "FAILED", statusCode, error, now });
      return;
    }
    await store.recordWebhookAttempt({ ...base, outcome: "RETRY", statusCode, error, runAt: nextTry(now, job.tries, 3_600_000), now });
  }

  /** Exponential backoff with jitter; past maxTries the attempt is FAILED and subscribers hear it. */
  private async retryOrFail(job: OutboxJob, reason: string): Promise<void> {
    const { store, clock } = this.o;
    if (job.tries >= this.o.maxTries) {
      await store.recordDelivery({ jobId: job.id, attemptSid: job.refSid, status: "FAILED", providerMessageId: null, errorCode: reason.slice(0, 300), now: clock.now() });
      return;
    }
    await store.retryJob(job.id, nextTry(clock.now(), job.tries, 60_000), reason.slice(0, 300));
  }
}

/**
 * The queue's one retry policy: after try n, wait 2^(n-1) s (at most `capMs`), of which a random half is
 * jitter, so retries of one burst spread out. Whole milliseconds: PostgreSQL keeps times in bigint columns.
 */
function nextTry(now: number, tries: number, capMs: number): number {
  const backoff = Math.min(capMs, 1000 * 2 ** (tries - 1));
  return Math.round(now + backoff / 2 + Math.random() * (backoff / 2));
}

class SendTimeout extends Error {}

export const WEBHOOK_USER_AGENT = "Verigate-Webhooks/1";

/** The JSON a webhook receives: Standard Webhooks' `type` / `timestamp` / `data`, plus the event's ids. */
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

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SendTimeout(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

