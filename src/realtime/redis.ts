import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import { type RateLimiterAbstract, RateLimiterCompatibleAbstract, RateLimiterRedis, type RateLimiterRes } from "rate-limiter-flexible";
import type { VerifyEvent } from "../domain/types.js";
import type { EventRelay } from "./bus.js";

const EVENTS_CHANNEL = "verigate:events";

/**
 * The two Redis connections an instance holds (commands, and a subscriber, which Redis keeps apart), with
 * what an outage changes. Every client has an 'error' listener (an unheard one would end the process);
 * ioredis reconnects by itself, and events and counters go back to Redis as soon as both are ready.
 */
export class RedisLink {
  /** Publishes and rate-limit counters: while Redis is away they fail at once (no offline queue) and fall back. */
  readonly commands: Redis;
  /** Its SUBSCRIBE waits for Redis however long it takes, and is renewed after every reconnect. */
  readonly subscriber: Redis;
  private state: "connecting" | "up" | "down" | "closed" = "connecting";

  constructor(
    url: string,
    private readonly o: { logger: Logger; onFallback: (what: "rate_limit" | "event_relay") => void },
  ) {
    this.commands = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 1000 });
    this.subscriber = new Redis(url, { maxRetriesPerRequest: null });
    for (const client of [this.commands, this.subscriber]) {
      client.on("error", (error: Error) => this.lost(error.message));
      client.on("close", () => this.lost("connection closed"));
      client.on("ready", () => this.maybeBack());
    }
  }

  get up(): boolean {
    return this.commands.status === "ready" && this.subscriber.status === "ready";
  }

  // Said once per outage, not once per reconnect attempt (ioredis retries every 2 s at most, forever).
  private lost(reason: string): void {
    if (this.state === "down" || this.state === "closed") return;
    this.state = "down";
    this.o.logger.warn({ reason }, "Redis unavailable: events reach this instance's subscribers only, rate limits fall back to the store");
  }

  private maybeBack(): void {
    if (!this.up || this.state === "up") return;
    if (this.state === "down") this.o.logger.info("Redis is back: events reach the other instances again, rate limits count in Redis");
    this.state = "up";
  }

  fallback(what: "rate_limit" | "event_relay"): void {
    this.o.onFallback(what);
  }

  close(): void {
    this.state = "closed";
    this.commands.disconnect();
    this.subscriber.disconnect();
  }
}

/**
 * Events between instances over one Redis channel. Each message names the instance that sent it, which
 * ignores its own (its subscribers already have them). A publish that fails is counted, not retried: the
 * other instances' subscribers catch up from the current state when they next subscribe, and webhooks
 * do not travel this way (they are outbox rows).
 */
export class RedisRelay implements EventRelay {
  private readonly origin = randomUUID();

  constructor(private readonly link: RedisLink) {
    void link.subscriber.subscribe(EVENTS_CHANNEL).catch(() => {
      // Only a disconnect() ends the wait; ioredis subscribes again on every reconnect.
    });
  }

  publish(events: readonly VerifyEvent[]): void {
    if (events.length === 0) return;
    this.link.commands.publish(EVENTS_CHANNEL, JSON.stringify({ origin: this.origin, events })).catch(() => this.link.fallback("event_relay"));
  }

  onRemoteEvents(deliver: (events: readonly VerifyEvent[]) => void): void {
    this.link.subscriber.on("message", (channel: string, message: string) => {
      if (channel !== EVENTS_CHANNEL) return;
      let relayed: { origin: string; events: VerifyEvent[] };
      try {
        relayed = JSON.parse(message) as typeof relayed;
      } catch {
        return; // not one of ours: anyone with access to this Redis may publish on the channel
      }
      if (relayed.origin !== this.origin && Array.isArray(relayed.events)) deliver(relayed.events);
    });
  }
}

/**
 * A limiter whose counters live in Redis; while Redis is not ready, rate-limiter-flexible asks the
 * insurance limiter instead: the store's own (its `rate_limits` table), which also holds across instances
 * on PostgreSQL. Each fallback is reported.
 */
export function redisLimiter(link: RedisLink, options: { points: number; duration: number; keyPrefix: string }, store: RateLimiterAbstract): RateLimiterAbstract {
  return new RateLimiterRedis({ ...options, storeClient: link.commands, rejectIfRedisNotReady: true, insuranceLimiter: new ReportedFallback(store, () => link.fallback("rate_limit")) });
}

/** The store's limiter, as rate-limiter-flexible's insurance: the same answers, each use reported. */
class ReportedFallback extends RateLimiterCompatibleAbstract {
  // Own fields (the base only has throwing accessors); rate-limiter-flexible copies its settings here.
  override readonly keyPrefix: string;
  override blockDuration: number;
  override execEvenly: boolean;

  constructor(
    private readonly inner: RateLimiterAbstract,
    private readonly onUse: () => void,
  ) {
    super();
    this.keyPrefix = inner.keyPrefix;
    this.blockDuration = inner.blockDuration;
    this.execEvenly = inner.execEvenly;
  }

  private used<T>(answer: Promise<T>): Promise<T> {
    this.onUse();
    return answer;
  }

  override consume(key: string | number, points?: number, options?: Record<string, unknown>): Promise<RateLimiterRes> {
    return this.used(this.inner.consume(key, points, options));
  }
  override penalty(key: string | number, points?: number, options?: Record<string, unknown>): Promise<RateLimiterRes> {
    return this.used(this.inner.penalty(key, points, options));
  }
  override reward(key: string | number, points?: number, options?: Record<string, unknown>): Promise<RateLimiterRes> {
    return this.used(this.inner.reward(key, points, options));
  }
  override get(key: string | number, options?: Record<string, unknown>): Promise<RateLimiterRes | null> {
    return this.used(this.inner.get(key, options));
  }
  override set(key: string | number, points: number, secDuration: number, options?: Record<string, unknown>): Promise<RateLimiterRes> {
    return this.used(this.inner.set(key, points, secDuration, options));
  }
  override block(key: string | number, secDuration: number, options?: Record<string, unknown>): Promise<RateLimiterRes> {
    return this.used(this.inner.block(key, secDuration, options));
  }
  override delete(key: string | number, options?: Record<string, unknown>): Promise<boolean> {
    return this.used(this.inner.delete(key, options));
  }
}
