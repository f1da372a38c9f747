import { createHash } from "node:crypto";
import { Redis } from "ioredis";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { START, type TestGateway, startGateway } from "./support/gateway.js";

// Rate-limit counters are keyed by a hash of the phone number or IP. A bare SHA-256 of a phone number
// is reversed by enumerating the numbering plan in milliseconds, so the hash must be keyed (HMAC under
// VERIGATE_SECRET): a leaked counter table or Redis dump then names no one.

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const to = "+14155552671";
const deviceIp = "198.51.100.23";
const bareHashes = [to, deviceIp].map((value) => createHash("sha256").update(value).digest("hex"));

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

function expectKeyed(keys: string[], serviceSid: string) {
  const ours = keys.filter((key) => key.includes(serviceSid));
  // Per to and per IP, one counter each (the default buckets).
  expect(ours.filter((key) => key.includes(":to:") || key.includes(":ip:"))).toHaveLength(2);
  for (const key of ours) {
    expect(key).not.toContain(to);
    expect(key).not.toContain(deviceIp);
    for (const bare of bareHashes) expect(key).not.toContain(bare.slice(0, 16));
  }
}

describe("rate-limit keys", () => {
  it("in the store's rate_limits table are keyed hashes, not SHA-256 of the number or IP", async () => {
    gw = await startGateway();
    const started = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to, channel: "SMS", deviceIp } });
    expect(started.errors).toBeUndefined();
    const rows = await gw.sql<{ key: string }>("select key from rate_limits");
    expectKeyed(rows.map((r) => r.key), gw.defaultServiceSid);
  });

  describe("in Redis", () => {
    let reachable = false;
    beforeAll(async () => {
      const probe = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      reachable = await probe.connect().then(
        () => true,
        () => false,
      );
      probe.disconnect();
      if (!reachable && process.env.CI) throw new Error(`Redis is not reachable at ${REDIS_URL}; CI must run this suite`);
      if (!reachable) console.warn(`skipping the Redis rate-limit key test: no Redis at ${REDIS_URL}`);
    });

    it("are keyed hashes, not SHA-256 of the number or IP", async (context) => {
      if (!reachable) return context.skip();
      gw = await startGateway({ env: { REDIS_URL } });
      const started = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to, channel: "SMS", deviceIp } });
      expect(started.errors).toBeUndefined();
      const redis = new Redis(REDIS_URL);
      try {
        expectKeyed(await redis.keys(`*${gw.defaultServiceSid}*`), gw.defaultServiceSid);
      } finally {
        redis.disconnect();
      }
    });
  });
});
