import { describe, expect, it } from "vitest";
import { defaultRetry, nextTry, retryAt } from "../src/workers/outbox/retry.js";

// The outbox's one retry policy, on fixed numbers: no clock, no randomness but the one given.
const now = 1_700_000_000_000;
const least = () => 0;
const most = () => 1 - 2 ** -52;

describe("outbox retry policy", () => {
  it("after try n waits 2^(n-1) s, of which the second half is jitter", () => {
    expect(nextTry(now, 1, 60_000, least) - now).toBe(500);
    expect(nextTry(now, 1, 60_000, most) - now).toBe(1000);
    expect(nextTry(now, 2, 60_000, least) - now).toBe(1000);
    expect(nextTry(now, 3, 60_000, () => 0.5) - now).toBe(3000);
    expect(nextTry(now, 4, 60_000, least) - now).toBe(4000);
  });

  it("never waits longer than the cap", () => {
    // 2^6 s = 64 s, above a minute.
    expect(nextTry(now, 7, 60_000, least) - now).toBe(30_000);
    expect(nextTry(now, 7, 60_000, most) - now).toBe(60_000);
    // Webhooks: at most an hour, reached after try 13 (2^12 s = 4096 s).
    expect(nextTry(now, 12, 3_600_000, least) - now).toBe(1_024_000);
    expect(nextTry(now, 13, 3_600_000, least) - now).toBe(1_800_000);
    expect(nextTry(now, 20, 3_600_000, most) - now).toBe(3_600_000);
  });

  it("is a whole millisecond, even from a fractional clock", () => {
    const at = nextTry(now + 0.25, 1, 60_000, () => 0.123456);
    expect(Number.isInteger(at)).toBe(true);
    expect(at).toBe(Math.round(now + 0.25 + 500 + 61.728));
  });

  it("gives up once a job has used its tries", () => {
    expect(defaultRetry).toEqual({ maxTries: 5, capMs: 60_000 });
    expect(retryAt(defaultRetry, now, 4, least)).toBe(now + 4000);
    expect(retryAt(defaultRetry, now, 5, least)).toBeNull();
    expect(retryAt({ maxTries: 10, capMs: 3_600_000 }, now, 9, least)).toBe(now + 128_000);
    expect(retryAt({ maxTries: 10, capMs: 3_600_000 }, now, 10, least)).toBeNull();
  });
});
