import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../src/domain/clock.js";
import { CHECK, OUTBOX, START, type TestGateway, startGateway } from "./support/gateway.js";

// The attempts log and conversion stats over traffic whose outcome the test decides.

const DAY = 24 * 60 * 60 * 1000;
let gw: TestGateway;
let serviceSid: string;
const clock = new ManualClock(Date.now());
const t0 = clock.now();

async function verify(to: string, channel: string, approve: boolean) {
  const started = await gw.gql(START, { input: { serviceSid, to, channel } });
  if (started.errors) throw new Error(JSON.stringify(started.errors));
  await gw.app.dispatcher.idle();
  if (approve) {
    const code = (await gw.gql(OUTBOX, { to })).data!.devOutbox[0].code;
    const checked = await gw.gql(CHECK, { input: { serviceSid, to, code } });
    expect(checked.data?.checkVerification.verification.status).toBe("APPROVED");
  }
  return started.data!.startVerification.verification.sid as string;
}

beforeAll(async () => {
  gw = await startGateway({ clock });
  const created = await gw.gql(`mutation($input: CreateServiceInput!) { createService(input: $input) { sid } }`, {
    input: { friendlyName: "Shop", testNumbers: [{ to: "+14155550199", code: "1111" }] },
  });
  serviceSid = created.data!.createService.sid;
  // Day 0: 3 SMS to the US (2 approved), 1 SMS to France (not), 1 email (approved), 1 call to Germany (not),
  // and a test number (approved, but test traffic is not a product metric).
  await verify("+14155552001", "SMS", true);
  await verify("+14155552002", "SMS", true);
  await verify("+14155552003", "SMS", false);
  await verify("+33612345601", "SMS", false);
  await verify("ada@example.com", "EMAIL", true);
  await verify("+4915112345601", "CALL", false);
  await verify("+14155550199", "SMS", true);
  // Day 2: one more SMS to France, approved.
  clock.advance(2 * DAY);
  await verify("+33612345602", "SMS", true);
});
afterAll(async () => gw.close());

const ATTEMPTS = `query($s: ID!, $f: VerificationAttemptFilter, $first: Int, $after: String) {
  verificationAttempts(serviceSid: $s, filter: $f, first: $first, after: $after) {
    edges { cursor node { attemptSid verificationSid to channel country status conversionStatus verificationStatus testMode dateCreated } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const attempts = async (f: Record<string, unknown> = {}, first = 100) => {
  const r = await gw.gql(ATTEMPTS, { s: serviceSid, f, first });
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data!.verificationAttempts.edges.map((e: { node: any }) => e.node);
};

describe("verificationAttempts", () => {
  it("lists every send attempt, newest first, with country and conversion", async () => {
    const all = await attempts();
    expect(all).toHaveLength(8);
    expect(all[0]).toMatchObject({ to: "+33612345602", channel: "SMS", country: "FR", status: "SENT", conversionStatus: "CONVERTED", verificationStatus: "APPROVED", testMode: false });
    expect(all.find((a: any) => a.to === "ada@example.com")).toMatchObject({ country: null, channel: "EMAIL", conversionStatus: "CONVERTED" });
    expect(all.find((a: any) => a.to === "+14155550199")).toMatchObject({ testMode: true });
    expect(new Date(all[0].dateCreated).getTime()).toBe(t0 + 2 * DAY);
  });

  it("filters by channel, country, conversion and date", async () => {
    expect((await attempts({ channel: "SMS" })).map((a: any) => a.to)).toEqual(["+33612345602", "+14155550199", "+33612345601", "+14155552003", "+14155552002", "+14155552001"]);
    expect((await attempts({ country: "fr" })).map((a: any) => a.to)).toEqual(["+33612345602", "+33612345601"]);
    expect((await attempts({ status: "CONVERTED" })).map((a: any) => a.to)).toEqual(["+33612345602", "+14155550199", "ada@example.com", "+14155552002", "+14155552001"]);
    expect((await attempts({ status: "UNCONVERTED", channel: "CALL" })).map((a: any) => a.to)).toEqual(["+4915112345601"]);
    const since = new Date(t0 + DAY).toISOString();
    expect((await attempts({ dateCreatedAfter: since })).map((a: any) => a.to)).toEqual(["+33612345602"]);
    expect(await attempts({ dateCreatedBefore: since })).toHaveLength(7);
  });

  it("pages with Relay cursors, without overlap", async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const r: { data?: any } = await gw.gql(ATTEMPTS, { s: serviceSid, first: 3, after });
      const page: { edges: any[]; pageInfo: { hasNextPage: boolean; endCursor: string } } = r.data!.verificationAttempts;
      seen.push(...page.edges.map((e: any) => e.node.attemptSid));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toHaveLength(8);
    expect(new Set(seen).size).toBe(8);
    const bad = await gw.gql(ATTEMPTS, { s: serviceSid, after: "garbage" });
    expect(bad.errors?.[0].extensions).toMatchObject({ code: "INVALID_PARAMETER", field: "after" });
  });

  it("keeps at least 30 days, and shows nothing of other services", async () => {
    clock.advance(31 * DAY);
    expect(await attempts()).toHaveLength(8);
    const other = await gw.gql(`mutation { createService(input: { friendlyName: "Other" }) { sid } }`);
    const key = (await gw.gql(`mutation($s: ID!) { createApiKey(input: { serviceSid: $s }) { key } }`, { s: other.data!.createService.sid })).data!.createApiKey.key;
    const foreign = await gw.gql(ATTEMPTS, { s: serviceSid }, key);
    expect(foreign.data?.verificationAttempts.edges).toEqual([]);
    const stats = await gw.gql(`query($s: ID!) { verificationStats(serviceSid: $s) { total } }`, { s: serviceSid }, key);
    expect(stats.data?.verificationStats).toBeNull();
    clock.advance(-31 * DAY);
  });
});

const STATS = `query($s: ID!, $after: DateTime, $before: DateTime, $channel: Channel, $country: String) {
  verificationStats(serviceSid: $s, dateCreatedAfter: $after, dateCreatedBefore: $before, channel: $channel, country: $country) {
    from to total converted unconverted conversionRate
    byChannel { key total converted conversionRate }
    byCountry { key total converted conversionRate }
    delivery { attempts queued sent delivered undelivered failed successRate }
  }
}`;

describe("verificationStats", () => {
  it("conversion over the last 30 days by channel and country, delivery success; test numbers excluded", async () => {
    const r = await gw.gql(STATS, { s: serviceSid });
    expect(r.errors).toBeUndefined();
    const s = r.data!.verificationStats;
    expect(s).toMatchObject({ total: 7, converted: 4, unconverted: 3 });
    expect(s.conversionRate).toBeCloseTo(4 / 7);
    expect(s.byChannel).toEqual([
      { key: "SMS", total: 5, converted: 3, conversionRate: 0.6 },
      { key: "CALL", total: 1, converted: 0, conversionRate: 0 },
      { key: "EMAIL", total: 1, converted: 1, conversionRate: 1 },
    ]);
    expect(s.byCountry).toEqual([
      { key: "US", total: 3, converted: 2, conversionRate: 2 / 3 },
      { key: "FR", total: 2, converted: 1, conversionRate: 0.5 },
      { key: "", total: 1, converted: 1, conversionRate: 1 },
      { key: "DE", total: 1, converted: 0, conversionRate: 0 },
    ]);
    expect(s.delivery).toEqual({ attempts: 7, queued: 0, sent: 7, delivered: 0, undelivered: 0, failed: 0, successRate: 1 });
    expect(new Date(s.to).getTime() - new Date(s.from).getTime()).toBe(30 * DAY);
  });

  it("over a chosen period, channel or country", async () => {
    const day0 = await gw.gql(STATS, { s: serviceSid, after: new Date(t0 - 1000).toISOString(), before: new Date(t0 + DAY).toISOString() });
    expect(day0.data!.verificationStats).toMatchObject({ total: 6, converted: 3 });
    const france = await gw.gql(STATS, { s: serviceSid, country: "FR" });
    expect(france.data!.verificationStats).toMatchObject({ total: 2, converted: 1, conversionRate: 0.5 });
    const calls = await gw.gql(STATS, { s: serviceSid, channel: "CALL" });
    expect(calls.data!.verificationStats).toMatchObject({ total: 1, converted: 0, conversionRate: 0, delivery: { attempts: 1 } });
    const empty = await gw.gql(STATS, { s: serviceSid, after: new Date(t0 + 10 * DAY).toISOString(), before: new Date(t0 + 11 * DAY).toISOString() });
    expect(empty.data!.verificationStats).toMatchObject({ total: 0, conversionRate: null, delivery: { successRate: null } });
    const backwards = await gw.gql(STATS, { s: serviceSid, after: new Date(t0 + DAY).toISOString(), before: new Date(t0).toISOString() });
    expect(backwards.errors?.[0].extensions).toMatchObject({ code: "INVALID_PARAMETER", field: "dateCreatedAfter" });
  });
});
