import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { EventSink } from "../domain/events.js";
import type { VerifyEvent } from "../domain/types.js";

/** Prometheus metrics, fed by the same committed events as subscriptions (one stream, many readers). */
export class Metrics implements EventSink {
  readonly registry = new Registry();
  private readonly started = new Counter({ name: "verigate_verifications_started_total", help: "Verifications started, by channel", labelNames: ["channel"], registers: [this.registry] });
  private readonly approved = new Counter({ name: "verigate_verifications_approved_total", help: "Verifications approved, by channel", labelNames: ["channel"], registers: [this.registry] });
  private readonly failedChecks = new Counter({ name: "verigate_checks_failed_total", help: "Checks with a wrong code", registers: [this.registry] });
  private readonly deliveries = new Counter({ name: "verigate_deliveries_total", help: "Delivery results, by status", labelNames: ["status"], registers: [this.registry] });
  private readonly latency = new Histogram({
    name: "verigate_delivery_latency_seconds",
    help: "From a send attempt queued to a provider accepting it, by channel",
    labelNames: ["channel"],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });
  private readonly blocks = new Counter({
    name: "verigate_blocks_total",
    help: "Starts refused by a protection, by reason (rate_limit, geo, fraud_guard, landline, premium_number)",
    labelNames: ["reason"],
    registers: [this.registry],
  });
  private readonly totpReplays = new Counter({ name: "verigate_totp_replays_total", help: "TOTP codes refused because their time step was already used", registers: [this.registry] });
  private readonly failedAnswers = new Counter({
    name: "verigate_factor_answers_failed_total",
    help: "Refused challenge answers and factor verifications, by factor type",
    labelNames: ["factor_type"],
    registers: [this.registry],
  });
  private readonly fraudBlocks = new Counter({
    name: "verigate_fraud_guard_blocks_total",
    help: "Prefixes blocked by Fraud Guard, by detection",
    labelNames: ["detection"],
    registers: [this.registry],
  });

  private readonly rateLimitFallbacks = new Counter({
    name: "verigate_rate_limit_fallbacks_total",
    help: "Rate-limit decisions counted in the store's table because Redis was unavailable",
    registers: [this.registry],
  });
  private readonly unrelayedEvents = new Counter({
    name: "verigate_events_not_relayed_total",
    help: "Event batches Redis did not take while it was unavailable: other instances' subscribers missed them",
    registers: [this.registry],
  });
  private readonly storeRetries = new Counter({
    name: "verigate_store_retries_total",
    help: "PostgreSQL writes rolled back as a deadlock or serialization victim and run again, by reason",
    labelNames: ["reason"],
    registers: [this.registry],
  });
  private readonly graphqlPosts = new Counter({
    name: "verigate_graphql_posts_total",
    help: "POST /graphql requests by what served them: fast (straight into the GraphQL pipeline) or yoga (its HTTP layer)",
    labelNames: ["path"],
    registers: [this.registry],
  });
  private readonly servedFast = this.graphqlPosts.labels("fast");
  private readonly servedByYoga = this.graphqlPosts.labels("yoga");

  /** `dependencies` answers, per dependency (store, redis), whether it is reachable now. */
  constructor(liveSubscriptions: () => number, outboxJobs: () => Promise<number>, dependencies: () => Promise<Record<string, boolean>>) {
    collectDefaultMetrics({ register: this.registry, prefix: "verigate_" });
    new Gauge({
      name: "verigate_live_subscriptions",
      help: "Subscription listeners attached",
      registers: [this.registry],
      collect() {
        this.set(liveSubscriptions());
      },
    });
    new Gauge({
      name: "verigate_outbox_jobs",
      help: "Jobs in the outbox: messages, webhooks and notices not yet done, including retries scheduled later",
      registers: [this.registry],
      async collect() {
        try {
          this.set(await outboxJobs());
        } catch {
          // The store is down: the last count stands, and verigate_dependency_up says why.
        }
      },
    });
    new Gauge({
      name: "verigate_dependency_up",
      help: "1 while a dependency (store, redis) is reachable, 0 while it is not",
      labelNames: ["dependency"],
      registers: [this.registry],
      async collect() {
        for (const [dependency, up] of Object.entries(await dependencies())) this.set({ dependency }, up ? 1 : 0);
      },
    });
  }

  /** Redis was unavailable: a rate limit was counted in the store, or an event batch stayed on this instance. */
  fallback(what: "rate_limit" | "event_relay"): void {
    if (what === "rate_limit") this.rateLimitFallbacks.inc();
    else this.unrelayedEvents.inc();
  }

  /** A write PostgreSQL rolled back (deadlock, serialization) ran again. */
  storeRetried(reason: "deadlock" | "serialization"): void {
    this.storeRetries.inc({ reason });
  }

  /** A POST /graphql was answered by the fast path, or handed to yoga. */
  graphqlPost(fast: boolean): void {
    (fast ? this.servedFast : this.servedByYoga).inc();
  }

  blocked(reason: string): void {
    this.blocks.inc({ reason });
  }

  delivered(channel: string, latencyMs: number): void {
    this.latency.observe({ channel }, Math.max(0, latencyMs) / 1000);
  }

  publish(events: readonly VerifyEvent[]): void {
    for (const event of events) {
      const channel = String(event.data.channel ?? "unknown");
      switch (event.type) {
        case "verification.started":
          this.started.inc({ channel });
          break;
        case "verification.approved":
          this.approved.inc({ channel });
          break;
        case "verification.check_failed":
        case "verification.max_attempts_reached":
          this.failedChecks.inc();
          break;
        case "challenge.replay_refused":
          this.totpReplays.inc();
          this.failedAnswers.inc({ factor_type: String(event.data.factorType ?? "unknown") });
          break;
        case "challenge.answer_failed":
        case "factor.verification_failed":
          this.failedAnswers.inc({ factor_type: String(event.data.factorType ?? "unknown") });
          break;
        case "fraud_guard.blocked":
          this.fraudBlocks.inc({ detection: String(event.data.reason ?? "unknown") });
          break;
        default:
          if (event.type.startsWith("delivery.")) this.deliveries.inc({ status: event.type.slice("delivery.".length) });
      }
    }
  }
}
