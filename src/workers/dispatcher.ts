import type { EventSink } from "../domain/events.js";
import type { OutboxJob, Store } from "../store/port.js";
import { deliveryJob, type DeliveryJobDeps } from "./jobs/delivery.js";
import { snaFallbackJob } from "./jobs/sna-fallback.js";
import { webhookJob } from "./jobs/webhook.js";
import { type JobKind, type JobRegistry, OutboxRunner, type OutboxRunnerOptions } from "./outbox/runner.js";
import { defaultRetry } from "./outbox/retry.js";

export { WEBHOOK_USER_AGENT, webhookPayload } from "./jobs/webhook.js";

/** A job handler as a plain function: done, or retry (or not) with a reason. */
export type JobHandler = (job: OutboxJob) => Promise<{ done: true } | { done: false; retry: boolean; reason: string }>;

export interface DispatcherOptions extends Omit<DeliveryJobDeps, "store">, Omit<OutboxRunnerOptions, "jobs" | "store"> {
  /** Unused: the store publishes every event after its commit. */
  sink?: EventSink;
  store: Store;
  /** Jobs other than message deliveries, webhooks and SNA fallbacks (push notices, silent-approval fallbacks). */
  handlers?: Partial<Record<OutboxJob["kind"], JobHandler | JobKind>>;
  /** Tries per webhook delivery before it is FAILED. */
  webhookMaxTries?: number;
  /** May webhooks reach loopback, private and link-local addresses (SSRF guard off)? */
  webhookAllowInternal?: boolean;
}

/**
 * The outbox runner with the gateway's own job kinds (deliveries, webhooks, SNA fallbacks) built from
 * one bag of options, plus the given handlers. app.ts wires an OutboxRunner with its registry instead.
 */
export class Dispatcher extends OutboxRunner {
  constructor(o: DispatcherOptions) {
    super({ ...o, jobs: dispatcherJobs(o) });
  }
}

function dispatcherJobs(o: DispatcherOptions): JobRegistry {
  const jobs: JobRegistry = {
    delivery: deliveryJob(o),
    webhook: webhookJob({ ...o, maxTries: o.webhookMaxTries, timeoutMs: o.sendTimeoutMs, allowInternal: o.webhookAllowInternal }),
    sna_fallback: snaFallbackJob(o),
  };
  for (const [kind, handler] of Object.entries(o.handlers ?? {}) as [OutboxJob["kind"], JobHandler | JobKind][]) {
    jobs[kind] = typeof handler === "function" ? fromFunction(handler, o.maxTries) : handler;
  }
  return jobs;
}

/** A plain-function handler as a job kind: `retry: false` fails the job now. */
function fromFunction(handler: JobHandler, maxTries = defaultRetry.maxTries): JobKind {
  return {
    retry: { ...defaultRetry, maxTries },
    async run(job) {
      const outcome = await handler(job);
      if (outcome.done) return { done: true };
      return outcome.retry ? { retry: true, reason: outcome.reason } : { fail: true, reason: outcome.reason };
    },
  };
}
