import type { Logger } from "pino";
import { channels } from "../channels/registry.js";
import type { Clock } from "../domain/clock.js";
import { type Keyring, open } from "../domain/crypto.js";
import type { EventSink } from "../domain/events.js";
import type { DeliveryChannel } from "../domain/types.js";
import type { ProviderRegistry } from "../providers/registry.js";
import type { OutboxJob, Store } from "../store/port.js";

export interface DispatcherOptions {
  store: Store;
  clock: Clock;
  keys: Keyring;
  sink: EventSink;
  providers: ProviderRegistry;
  logger: Logger;
  /** How often to look for due retries and expired leases when nothing wakes us. */
  pollMs?: number;
  leaseMs?: number;
  batch?: number;
  maxTries?: number;
  sendTimeoutMs?: number;
}

/**
 * Drains the durable outbox: claims due jobs with a lease (a crashed worker's jobs come back when the
 * lease ends), renders the message, hands it to the channel's provider, records the result as an event.
 * Failures retry with exponential backoff and jitter; past maxTries the attempt is FAILED.
 */
export class Dispatcher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;
  private readonly o: Required<Omit<DispatcherOptions, "logger">> & { logger: Logger };

  constructor(options: DispatcherOptions) {
    this.o = { pollMs: 1000, leaseMs: 30_000, batch: 32, maxTries: 5, sendTimeoutMs: 10_000, ...options };
  }

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.wake(), this.o.pollMs);
    this.timer.unref();
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** Called after a commit that queued a job; coalesces bursts into one drain loop. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((error) => this.o.logger.error({ err: error }, "outbox drain failed"))
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** Runs until the outbox has nothing due; resolves when idle. Tests await it instead of sleeping. */
  async drain(): Promise<void> {
    for (;;) {
      const jobs = await this.o.store.claimJobs(this.o.clock.now(), this.o.leaseMs, this.o.batch);
      if (jobs.length === 0 || this.stopped) return;
      await Promise.all(jobs.map((job) => this.deliver(job)));
    }
  }

  /** Resolves once every job due now has been delivered or rescheduled, whoever claimed it. */
  async idle(): Promise<void> {
    do {
      await this.running;
      await this.drain();
    } while (this.running);
  }

  private async deliver(job: OutboxJob): Promise<void> {
    const { store, clock, keys, sink } = this.o;
    const context = await store.deliveryContext(job.refSid);
    if (!context || context.status !== "PENDING" || !context.codeSealed) {
      await store.dropJob(job.id);
      return;
    }
    const channel = context.channel as DeliveryChannel;
    const { code, appHash } = JSON.parse(open(keys, context.codeSealed, context.verificationSid)) as { code: string; appHash: string | null };
    const rendered = channels[channel].render({
      to: context.to,
      code,
      friendlyName: context.customFriendlyName ?? context.service.friendlyName,
      locale: context.locale ?? context.service.defaultLocale,
      amount: context.amount,
      payee: context.payee,
      doNotShareWarning: context.service.doNotShareWarningEnabled,
    });
    // Android's SMS Retriever reads messages that start with <#> and end with the app's hash.
    const message = appHash && channel === "SMS" ? { ...rendered, body: `<#> ${rendered.body}\n${appHash}` } : rendered;
    const provider = this.o.providers[channel];
    try {
      const receipt = await withTimeout(
        provider.send({ ...message, code, attemptSid: job.refSid, verificationSid: context.verificationSid }),
        this.o.sendTimeoutMs,
      );
      const event = await store.recordDelivery({ jobId: job.id, attemptSid: job.refSid, status: receipt.status, providerMessageId: receipt.providerMessageId, errorCode: null, now: clock.now() });
      if (event) sink.publish([event]);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.o.logger.warn({ attemptSid: job.refSid, provider: provider.name, tries: job.tries, reason }, "delivery failed");
      if (job.tries >= this.o.maxTries) {
        const event = await store.recordDelivery({ jobId: job.id, attemptSid: job.refSid, status: "FAILED", providerMessageId: null, errorCode: reason.slice(0, 200), now: clock.now() });
        if (event) sink.publish([event]);
      } else {
        const backoff = Math.min(60_000, 1000 * 2 ** (job.tries - 1));
        await store.retryJob(job.id, clock.now() + backoff / 2 + Math.random() * (backoff / 2), reason.slice(0, 200));
      }
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`provider timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
