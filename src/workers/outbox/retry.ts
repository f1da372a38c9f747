/** How often a job kind is tried, and how long it waits at most between two tries. */
export interface RetryPolicy {
  /** Tries before the job is given up (its kind's failure is recorded). */
  maxTries: number;
  /** The longest wait between two tries. */
  capMs: number;
}

/** Messages, push notices, silent-approval fallbacks: 5 tries, at most a minute apart. */
export const defaultRetry: RetryPolicy = { maxTries: 5, capMs: 60_000 };

/**
 * The outbox's one retry policy: after try n, wait 2^(n-1) s (at most `capMs`), of which a random half is
 * jitter, so retries of one burst spread out. Whole milliseconds: PostgreSQL keeps times in bigint columns.
 * `random` is in [0, 1) (Math.random unless a test pins it).
 */
export function nextTry(now: number, tries: number, capMs: number, random: () => number = Math.random): number {
  const backoff = Math.min(capMs, 1000 * 2 ** (tries - 1));
  return Math.round(now + backoff / 2 + random() * (backoff / 2));
}

/** When a job that has been tried `tries` times runs again; null when it is out of tries. */
export function retryAt(policy: RetryPolicy, now: number, tries: number, random: () => number = Math.random): number | null {
  if (tries >= policy.maxTries) return null;
  return nextTry(now, tries, policy.capMs, random);
}
