import type { Logger } from "pino";
import type { Clock } from "../domain/clock.js";
import type { EventSink } from "../domain/events.js";
import type { Store } from "../store/port.js";

/**
 * Expires pending verifications whose time is up, so subscribers see EXPIRED without anyone asking.
 * Each expiry is a conditional update, so any number of instances may sweep at once.
 */
export class ExpirySweeper {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<number> | null = null;

  constructor(private readonly o: { store: Store; clock: Clock /** Unused: the store publishes what it expires after commit. */; sink?: EventSink; logger: Logger; intervalMs: number }) {}

  start(): void {
    this.timer = setInterval(() => {
      void this.sweep().catch((error) => this.o.logger.error({ err: error }, "expiry sweep failed"));
    }, this.o.intervalMs);
    this.timer.unref();
  }

  /** Waits for a sweep in flight to end; how it ended is the sweep's business (its caller hears it). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping?.catch(() => {});
  }

  /** Expires everything due now; answers how many verifications expired. */
  async sweep(): Promise<number> {
    if (this.sweeping) return this.sweeping;
    this.sweeping = (async () => {
      let total = 0;
      for (;;) {
        const now = this.o.clock.now();
        const events = await this.o.store.expireDue(now, 500);
        // Both kinds' events are published by the store after its commit.
        const challenges = await this.o.store.expireChallenges(now, 500);
        total += events.length;
        if (events.length < 500 && challenges.length < 500) return total;
      }
    })().finally(() => {
      this.sweeping = null;
    });
    return this.sweeping;
  }
}
