import type { Logger } from "pino";
import type { Clock } from "../../domain/clock.js";
import type { OutboxJob, Store } from "../../store/port.js";
import { type RetryPolicy, retryAt } from "./retry.js";

/**
 * A handler's answer for one try of one job: `done` (it ended), `retry` (try again later: the runner
 * picks when, from the kind's retry policy, and gives up past its tries) or `fail` (give up now). `X` is
 * what a kind's own retry and failure records need besides the reason (a webhook's HTTP status…).
 */
export type JobAnswer<X extends object = object> = { done: true } | ({ retry: true; reason: string } & X) | ({ fail: true; reason: string } & X);

/** Why a job is given up: its handler's answer, or a crash (then only the reason is known). */
export type Trouble<X extends object = object> = { reason: string } & Partial<X>;

/** One kind of outbox job: how one try runs, and how its retries and its end are recorded. */
export interface JobKind<X extends object = object> {
  retry: RetryPolicy;
  run(job: OutboxJob): Promise<JobAnswer<X>>;
  /**
   * The kind's own store writes end its jobs (recordDelivery, recordWebhookAttempt, snaTimedOut remove
   * the job they record): `done` needs nothing more. Otherwise the runner drops a done job.
   */
  recordsItsEnd?: boolean;
  /** Records an answered retry due at `runAt` (default: the job waits until then, with its reason). */
  reschedule?(job: OutboxJob, runAt: number, answer: { reason: string } & X): Promise<void>;
  /** Records a job given up, failed or out of tries (default: a warning, and the job is dropped). */
  fail?(job: OutboxJob, trouble: Trouble<X>): Promise<void>;
  /** Once when the runner starts, before idle() resolves: settles what a crash left behind. */
  recover?(): Promise<void>;
}

// biome-ignore lint/suspicious/noExplicitAny: each kind keeps its own extra answer fields.
export type JobRegistry = Partial<Record<OutboxJob["kind"], JobKind<any>>>;

export type OutboxStore = Pick<Store, "claimJobs" | "extendLeases" | "retryJob" | "dropJob">;

export interface OutboxRunnerOptions {
  store: OutboxStore;
  clock: Clock;
  logger: Logger;
  /** One handler per job kind. */
  jobs: JobRegistry;
  /** How often to look for due retries and expired leases when nothing wakes us. */
  pollMs?: number;
  leaseMs?: number;
  /** Jobs in flight at once; each runs on its own, so a hanging provider holds back nobody else. */
  maxInFlight?: number;
}

/**
 * Drains the durable outbox: claims due jobs with a lease (a crashed worker's jobs come back when the
 * lease ends; a live worker's heartbeat keeps its own), hands each to its kind's handler and applies the
 * answer: done, retry (exponential backoff with jitter, the kind's policy; past its tries the job is
 * given up) or fail. A handler that throws has used a try as well.
 */
export class OutboxRunner {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private again = false;
  /** The last claim stopped because every slot was busy: a finished job must claim again. */
  private starved = false;
  private scheduled: NodeJS.Immediate | null = null;
  private stopped = true;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly inFlightJobs = new Set<number>();
  private heartbeat: NodeJS.Timeout | undefined;
  /** The start-up pass of the kinds' recover() (attempts a crash left QUEUED under final verifications…). */
  private settling: Promise<void> = Promise.resolve();
  private readonly o: Required<OutboxRunnerOptions>;

  constructor(options: OutboxRunnerOptions) {
    this.o = { pollMs: 1000, leaseMs: 30_000, maxInFlight: 256, ...options };
  }

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.wake(), this.o.pollMs);
    this.timer.unref();
    // A slow job keeps its lease while this worker lives; a dead worker's leases run out.
    this.heartbeat = setInterval(
      () => {
        if (this.inFlightJobs.size === 0) return;
        this.o.store.extendLeases([...this.inFlightJobs], this.o.clock.now() + this.o.leaseMs).catch((error) => this.o.logger.error({ err: error }, "lease extension failed"));
      },
      Math.max(50, Math.floor(this.o.leaseMs / 3)),
    );
    this.heartbeat.unref();
    this.settling = Promise.all(Object.entries(this.o.jobs).map(([kind, handler]) => handler?.recover?.().catch((error) => this.o.logger.error({ err: error, kind }, "outbox recovery failed")))).then(
      () => {},
    );
    this.wake();
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

  /** Resolves once every job due now has been done or rescheduled. Tests await it instead of sleeping. */
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
        const work: Promise<void> = this.work(job).finally(() => {
          this.inFlight.delete(work);
          this.inFlightJobs.delete(job.id);
          if (this.starved) this.wake();
        });
        this.inFlight.add(work);
      }
      // A short batch means nothing else is due: no second query to learn it.
      if (jobs.length < limit) return;
    }
  }

  private async work(job: OutboxJob): Promise<void> {
    const handler = this.o.jobs[job.kind];
    if (!handler) {
      this.o.logger.warn({ kind: job.kind, ref: job.refSid }, "no handler for this outbox job kind; dropped");
      await this.o.store.dropJob(job.id).catch((error) => this.o.logger.error({ err: error }, "could not drop an outbox job"));
      return;
    }
    try {
      await this.apply(job, handler, await handler.run(job));
    } catch (error) {
      // Not the handler's answer (a store error, a code that no longer opens…): it still counts as a try.
      const reason = `internal: ${error instanceof Error ? error.message : String(error)}`;
      this.o.logger.error({ err: error, kind: job.kind, attemptSid: job.refSid }, "delivery crashed");
      await this.crashed(job, handler, reason).catch((e) => this.o.logger.error({ err: e }, "could not reschedule a delivery"));
    }
  }

  private async apply<X extends object>(job: OutboxJob, handler: JobKind<X>, answer: JobAnswer<X>): Promise<void> {
    if ("done" in answer) {
      if (!handler.recordsItsEnd) await this.o.store.dropJob(job.id);
      return;
    }
    if ("fail" in answer) return this.giveUp(job, handler, answer);
    const runAt = retryAt(handler.retry, this.o.clock.now(), job.tries);
    if (runAt === null) return this.giveUp(job, handler, answer);
    if (handler.reschedule) await handler.reschedule(job, runAt, answer);
    else await this.o.store.retryJob(job.id, runAt, answer.reason.slice(0, 300));
  }

  private async crashed<X extends object>(job: OutboxJob, handler: JobKind<X>, reason: string): Promise<void> {
    const runAt = retryAt(handler.retry, this.o.clock.now(), job.tries);
    if (runAt === null) await this.giveUp(job, handler, { reason } as Trouble<X>);
    else await this.o.store.retryJob(job.id, runAt, reason.slice(0, 300));
  }

  private async giveUp<X extends object>(job: OutboxJob, handler: JobKind<X>, trouble: Trouble<X>): Promise<void> {
    if (handler.fail) return handler.fail(job, trouble);
    this.o.logger.warn({ kind: job.kind, ref: job.refSid, tries: job.tries, reason: trouble.reason }, "outbox job given up");
    await this.o.store.dropJob(job.id);
  }
}
