import type { RateLimiterAbstract, RateLimiterRes } from "rate-limiter-flexible";
import { VerifyError } from "../errors.js";
import type { RateLimitBucket } from "../types.js";

/** Builds a limiter of `points` per `duration` seconds on the shared store (SQL table or Redis). */
export type LimiterFactory = (options: { points: number; duration: number; keyPrefix: string }) => RateLimiterAbstract;

export interface LimitCheck {
  /** What is counted, e.g. `VA…:to`. */
  scope: string;
  /** The counted value (a number, an IP…) as a keyed hash (`limitValueHash`), so keys hold no PII. */
  valueHash: string;
  buckets: readonly RateLimitBucket[];
}

/**
 * Rate limits on rate-limiter-flexible: one limiter per bucket shape, all on one store, so counters hold
 * across restarts and across instances (SQL table, or Redis when REDIS_URL is set). Every bucket of
 * every check is counted; if any is exhausted the request is RATE_LIMITED with the longest wait.
 */
export class RateLimits {
  private readonly limiters = new Map<string, RateLimiterAbstract>();

  constructor(
    private readonly factory: LimiterFactory,
    private readonly onStoreError: (error: unknown) => void,
  ) {}

  async enforce(checks: readonly LimitCheck[]): Promise<void> {
    // A scope with no buckets (per service, by default) costs nothing.
    const consumed = checks
      .filter((check) => check.buckets.length > 0)
      .flatMap((check) => {
        const key = `${check.scope}:${check.valueHash}`;
        return check.buckets.map((bucket) => this.consume(key, bucket));
      });
    const waits = (await Promise.all(consumed)).filter((ms): ms is number => ms !== null);
    if (waits.length === 0) return;
    const retryAfterSeconds = Math.max(1, Math.ceil(Math.max(...waits) / 1000));
    throw new VerifyError("RATE_LIMITED", `Too many requests: a rate limit was reached; retry in ${retryAfterSeconds} seconds.`, { retryAfterSeconds });
  }

  /** Milliseconds to wait when the bucket is exhausted, null when the request may pass. */
  private async consume(key: string, bucket: RateLimitBucket): Promise<number | null> {
    const shape = `${bucket.max}/${bucket.interval}`;
    let limiter = this.limiters.get(shape);
    if (!limiter) {
      // The shape is part of the key: changing a bucket starts its counters afresh.
      limiter = this.factory({ points: bucket.max, duration: bucket.interval, keyPrefix: `vg${bucket.max}_${bucket.interval}` });
      this.limiters.set(shape, limiter);
    }
    try {
      await limiter.consume(key, 1);
      return null;
    } catch (rejection) {
      if (isLimiterAnswer(rejection)) return rejection.msBeforeNext;
      // The counter store is down: verifications keep flowing (Fraud Guard and the send cap still hold).
      this.onStoreError(rejection);
      return null;
    }
  }
}

const isLimiterAnswer = (value: unknown): value is RateLimiterRes => typeof value === "object" && value !== null && "msBeforeNext" in value && !(value instanceof Error);
