import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import type { EventSink } from "../domain/events.js";
import type { VerifyEvent } from "../domain/types.js";

/** Prometheus metrics, fed by the same committed events as subscriptions (one stream, many readers). */
export class Metrics implements EventSink {
  readonly registry = new Registry();
  private readonly started = new Counter({ name: "verigate_verifications_started_total", help: "Verifications started, by channel", labelNames: ["channel"], registers: [this.registry] });
  private readonly approved = new Counter({ name: "verigate_verifications_approved_total", help: "Verifications approved, by channel", labelNames: ["channel"], registers: [this.registry] });
  private readonly failedChecks = new Counter({ name: "verigate_checks_failed_total", help: "Checks with a wrong code", registers: [this.registry] });
  private readonly deliveries = new Counter({ name: "verigate_deliveries_total", help: "Delivery results, by status", labelNames: ["status"], registers: [this.registry] });

  constructor(liveSubscriptions: () => number) {
    collectDefaultMetrics({ register: this.registry, prefix: "verigate_" });
    new Gauge({ name: "verigate_live_subscriptions", help: "Subscription listeners attached", registers: [this.registry], collect() { this.set(liveSubscriptions()); } });
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
        default:
          if (event.type.startsWith("delivery.")) this.deliveries.inc({ status: event.type.slice("delivery.".length) });
      }
    }
  }
}
