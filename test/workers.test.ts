import { Writable } from "node:stream";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../src/domain/clock.js";
import { devOutboxProvider } from "../src/providers/dev-outbox/index.js";
import { Dispatcher } from "../src/workers/dispatcher.js";
import { ExpirySweeper } from "../src/workers/sweeper.js";
import { type TestGateway, startGateway } from "./support/gateway.js";

// The background workers driven against the real store of the run (SQLite, or PostgreSQL in the pg project).
let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

function capturedLogger() {
  let text = "";
  const logger = pino({ level: "debug" }, new Writable({ write: (chunk, _enc, done) => ((text += chunk.toString()), done()) }));
  return { logger, logs: () => text };
}

describe("workers", () => {
  it("a job handler asking for a retry is rescheduled at a whole millisecond, with its own reason", async () => {
    // The retry's jitter is a random fraction of its backoff: the time it computes has a fraction.
    const clock = new ManualClock(Date.now());
    gw = await startGateway({ clock });
    // This test's dispatcher alone works the outbox.
    await gw.app.dispatcher.stop();
    const { logger, logs } = capturedLogger();
    const store = gw.app.store;
    const outbox = devOutboxProvider(store, clock);
    const dispatcher = new Dispatcher({
      store,
      clock,
      keys: gw.app.gateway.keys,
      sink: gw.app.bus,
      providers: { SMS: outbox, WHATSAPP: outbox, CALL: outbox, EMAIL: outbox },
      routing: { rcs: null, whatsappFallbackToSms: false },
      callScript: gw.app.callScript,
      logger,
      testProvider: outbox,
      handlers: { push_notify: async () => ({ done: false, retry: true, reason: "push service answered 503" }) },
    });
    const now = Math.floor(clock.now());
    await gw.sql("insert into outbox (kind, ref_sid, run_at, tries, created_at) values (?, ?, ?, 0, ?)", ["push_notify", "YC00000000000000000000000000000001", now, now]);
    await dispatcher.idle();
    const [job] = await gw.sql<{ run_at: number | string; tries: number; last_error: string }>("select run_at, tries, last_error from outbox where kind = 'push_notify'");
    expect(logs()).not.toMatch(/delivery crashed|could not reschedule/);
    expect(job.last_error).toBe("push service answered 503");
    expect(Number(job.tries)).toBe(1);
    expect(Number.isInteger(Number(job.run_at))).toBe(true);
    // The first retry waits 0.5–1 s.
    expect(Number(job.run_at) - now).toBeGreaterThanOrEqual(500);
    expect(Number(job.run_at) - now).toBeLessThanOrEqual(1001);
  });

  it("stopping the expiry sweeper while a sweep fails resolves: the failure is the sweep's, not the shutdown's", async () => {
    gw = await startGateway();
    const { logger } = capturedLogger();
    const sweeper = new ExpirySweeper({ store: gw.app.store, clock: new ManualClock(Date.now()), sink: gw.app.bus, logger, intervalMs: 60_000 });
    // A real failure of the store under the sweep: its table is gone for a moment.
    await gw.sql("alter table verifications rename to verifications_away");
    try {
      const sweep = sweeper.sweep();
      const stopped = sweeper.stop();
      await expect(sweep).rejects.toThrow();
      await expect(stopped).resolves.toBeUndefined();
    } finally {
      await gw.sql("alter table verifications_away rename to verifications");
    }
  });
});
