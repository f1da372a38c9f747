import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/domain/clock.js";
import { CHECK, OUTBOX, START, type TestGateway, errorCode, startGateway } from "../support/gateway.js";

// What the console's Insights and Search screens added to the API: the attempts log filtered by
// recipient and verification sid, the funnel's middle step (`reached`) and conversion over time.

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
let gw: TestGateway;
let serviceSid: string;
const clock = new ManualClock(Date.UTC(2026, 0, 10, 12, 0, 0));
const t0 = clock.now();
const sids: Record<string, string> = {};

async function verify(to: string, channel: string, approve: boolean) {
  const started = await gw.gql(START, { input: { serviceSid, to, channel } });
  if (started.errors) throw new Error(JSON.stringify(started.errors));
  await gw.app.dispatcher.idle();
  if (approve) {
    const code = (await gw.gql(OUTBOX, { to })).data!.devOutbox[0].code;
    const checked = await gw.gql(CHECK, { input: { serviceSid, to, code } });
    expect(checked.data?.checkVerification.verification.status).toBe("APPROVED");
  }
  sids[to] = started.data!.startVerification.verification.sid;
}

beforeAll(async () => {
  gw = await startGateway({ clock });
  const created = await gw.gql(`mutation($input: CreateServiceInput!) { createService(input: $input) { sid } }`, { input: { friendlyName: "Shop" } });
  serviceSid = created.data!.createService.sid;
  await verify("+14155552001", "SMS", true);
  await verify("+14155552002", "SMS", false);
  clock.advance(2 * HOUR);
  await verify("+33612345601", "SMS", true);
  await verify("ada@example.com", "EMAIL", false);
  clock.advance(DAY);
  await verify("+14155552001", "SMS", false);
});
afterAll(async () => gw?.close());

const ATTEMPTS = `query($s: ID!, $f: VerificationAttemptFilter) {
  verificationAttempts(serviceSid: $s, filter: $f, first: 100) { nodes { to verificationSid channel } }
}`;
const attempts = async (f: Record<string, unknown>) => {
  const r = await gw.gql(ATTEMPTS, { s: serviceSid, f });
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data!.verificationAttempts.nodes as { to: string; verificationSid: string; channel: string }[];
};

describe("verificationAttempts filtered by recipient and verification", () => {
  it("`to` keeps the attempts to that recipient only, with the other conditions", async () => {
    expect((await attempts({ to: "+14155552001" })).map((a) => a.verificationSid)).toEqual([sids["+14155552001"], expect.stringMatching(/^VE/)]);
    expect(await attempts({ to: "+14155552001" })).toHaveLength(2);
    expect(await attempts({ to: "ada@example.com", channel: "EMAIL" })).toEqual([{ to: "ada@example.com", verificationSid: sids["ada@example.com"], channel: "EMAIL" }]);
    expect(await attempts({ to: "ada@example.com", channel: "SMS" })).toEqual([]);
    expect(await attempts({ to: "+10000000000" })).toEqual([]);
  });

  it("`verificationSid` keeps that verification's attempts only", async () => {
    expect(await attempts({ verificationSid: sids["+33612345601"] })).toEqual([{ to: "+33612345601", verificationSid: sids["+33612345601"], channel: "SMS" }]);
    expect(await attempts({ verificationSid: sids["+33612345601"], to: "+14155552002" })).toEqual([]);
  });
});

const STATS = `query($s: ID!, $after: DateTime, $before: DateTime, $bucket: TimeBucket!) {
  verificationStats(serviceSid: $s, dateCreatedAfter: $after, dateCreatedBefore: $before) {
    total converted reached
    overTime(bucket: $bucket) { from to total converted conversionRate }
  }
}`;

describe("verificationStats: the funnel and conversion over time", () => {
  it("counts the verifications that got a message through, and buckets by hour", async () => {
    const r = await gw.gql(STATS, { s: serviceSid, after: new Date(t0).toISOString(), before: new Date(t0 + 4 * HOUR).toISOString(), bucket: "HOUR" });
    expect(r.errors).toBeUndefined();
    const stats = r.data!.verificationStats;
    expect(stats).toMatchObject({ total: 4, converted: 2, reached: 4 });
    expect(stats.overTime).toEqual([
      { from: new Date(t0).toISOString(), to: new Date(t0 + HOUR).toISOString(), total: 2, converted: 1, conversionRate: 0.5 },
      { from: new Date(t0 + HOUR).toISOString(), to: new Date(t0 + 2 * HOUR).toISOString(), total: 0, converted: 0, conversionRate: null },
      { from: new Date(t0 + 2 * HOUR).toISOString(), to: new Date(t0 + 3 * HOUR).toISOString(), total: 2, converted: 1, conversionRate: 0.5 },
      { from: new Date(t0 + 3 * HOUR).toISOString(), to: new Date(t0 + 4 * HOUR).toISOString(), total: 0, converted: 0, conversionRate: null },
    ]);
  });

  it("buckets by day, the last bucket ending with the period", async () => {
    const r = await gw.gql(STATS, { s: serviceSid, after: new Date(t0).toISOString(), before: new Date(t0 + DAY + 3 * HOUR).toISOString(), bucket: "DAY" });
    const buckets = r.data!.verificationStats.overTime;
    expect(buckets.map((b: { total: number; converted: number }) => [b.total, b.converted])).toEqual([
      [4, 2],
      [1, 0],
    ]);
    expect(buckets[1].to).toBe(new Date(t0 + DAY + 3 * HOUR).toISOString());
  });

  it("refuses more than 1000 buckets", async () => {
    const r = await gw.gql(STATS, { s: serviceSid, after: new Date(t0 - 60 * DAY).toISOString(), before: new Date(t0).toISOString(), bucket: "HOUR" });
    expect(errorCode(r)).toBe("INVALID_PARAMETER");
  });
});
