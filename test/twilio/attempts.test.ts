import { afterAll, beforeAll, describe, expect, it } from "vitest";
import twilio from "twilio";
import { ACCOUNT_SID, type TwilioGateway, lastCode, twilioGateway } from "./support.js";

// Twilio's Attempts (account-wide send attempts and their conversion) and Services DELETE, through the
// official SDK; every answer is checked against Twilio's OpenAPI description before the SDK reads it.
let t: TwilioGateway;
let serviceA: string;
let serviceB: string;
let keyB: { sid: string; key: string };
const started: { a: string[]; b: string[] } = { a: [], b: [] };
let phone = 0;
const nextPhone = () => `+1415556${String(1000 + phone++).padStart(4, "0")}`;

async function startAndMaybeApprove(serviceSid: string, to: string, channel: "sms" | "email", approve: boolean): Promise<string> {
  const v = await t.admin.verify.v2.services(serviceSid).verifications.create({ to, channel });
  if (approve) {
    const checked = await t.admin.verify.v2.services(serviceSid).verificationChecks.create({ to, code: await lastCode(t.gw, to) });
    expect(checked.status).toBe("approved");
  }
  return v.sid;
}

// Seeded: service A has 4 attempts (3 sms, 1 email), 3 of them converted; service B has 1 sms, unconverted.
beforeAll(async () => {
  t = await twilioGateway();
  serviceA = (await t.admin.verify.v2.services.create({ friendlyName: "Attempts A" })).sid;
  serviceB = (await t.admin.verify.v2.services.create({ friendlyName: "Attempts B" })).sid;
  keyB = await t.apiKey(serviceB);
  started.a.push(await startAndMaybeApprove(serviceA, nextPhone(), "sms", true));
  started.a.push(await startAndMaybeApprove(serviceA, nextPhone(), "sms", true));
  started.a.push(await startAndMaybeApprove(serviceA, nextPhone(), "sms", false));
  started.a.push(await startAndMaybeApprove(serviceA, "attempts-a@example.com", "email", true));
  started.b.push(await startAndMaybeApprove(serviceB, nextPhone(), "sms", false));
});
afterAll(() => t?.close());

describe("Attempts through the twilio SDK", () => {
  it("lists every service's attempts for the account, newest first, with conversion", async () => {
    const all = await t.admin.verify.v2.verificationAttempts.list();
    expect(all).toHaveLength(5);
    expect(all.map((a) => a.verificationSid)).toEqual([started.b[0], ...[...started.a].reverse()]);
    expect(all.filter((a) => a.conversionStatus === "converted")).toHaveLength(3);
    const first = all.find((a) => a.verificationSid === started.a[0]);
    expect(first).toMatchObject({ accountSid: ACCOUNT_SID, serviceSid: serviceA, channel: "sms", conversionStatus: "converted", price: null });
    expect(first?.sid).toMatch(/^VL[0-9a-f]{32}$/);
    expect(first?.channelData).toMatchObject({ verification_sid: started.a[0], status: "confirmed", country: "US" });
    expect(first?.url).toBe(`${t.gw.url}/v2/Attempts/${first?.sid}`);
  });

  it("narrows by service, channel, status, verification, recipient and dates", async () => {
    const api = t.admin.verify.v2.verificationAttempts;
    expect(await api.list({ verifyServiceSid: serviceA })).toHaveLength(4);
    expect(await api.list({ verifyServiceSid: serviceB })).toHaveLength(1);
    expect((await api.list({ channel: "email" })).map((a) => a.verificationSid)).toEqual([started.a[3]]);
    expect(await api.list({ verifyServiceSid: serviceA, status: "converted" })).toHaveLength(3);
    expect(await api.list({ status: "unconverted" })).toHaveLength(2);
    expect((await api.list({ verificationSid: started.a[2] })).map((a) => a.conversionStatus)).toEqual(["unconverted"]);
    expect(await api.list({ "channelData.to": "attempts-a@example.com" })).toHaveLength(1);
    expect(await api.list({ country: "US" })).toHaveLength(4);
    expect(await api.list({ dateCreatedAfter: new Date(Date.now() + 60_000) })).toHaveLength(0);
    expect(await api.list({ dateCreatedBefore: new Date(Date.now() + 60_000), dateCreatedAfter: new Date(Date.now() - 600_000) })).toHaveLength(5);
  });

  it("pages with PageSize and the SDK's each()", async () => {
    const page = await t.admin.verify.v2.verificationAttempts.page({ pageSize: 2 });
    expect(page.instances).toHaveLength(2);
    const seen: string[] = [];
    await t.admin.verify.v2.verificationAttempts.each({ pageSize: 2 }, (a) => {
      seen.push(a.sid);
    });
    expect(new Set(seen).size).toBe(5);
  });

  it("fetches one attempt by its VL sid; an unknown one is 404 / 20404", async () => {
    const [newest] = await t.admin.verify.v2.verificationAttempts.list({ limit: 1 });
    const fetched = await t.admin.verify.v2.verificationAttempts(newest.sid).fetch();
    expect(fetched).toMatchObject({ sid: newest.sid, verificationSid: newest.verificationSid, conversionStatus: newest.conversionStatus });
    const missing = await t.admin.verify.v2.verificationAttempts(`VL${"0".repeat(32)}`).fetch().catch((e) => e);
    expect(missing).toBeInstanceOf(twilio.RestException);
    expect(missing).toMatchObject({ status: 404, code: 20404 });
  });

  it("summarises attempts and conversion with the same filters", async () => {
    const all = await t.admin.verify.v2.verificationAttemptsSummary().fetch();
    expect(all).toMatchObject({ totalAttempts: 5, totalConverted: 3, totalUnconverted: 2, conversionRatePercentage: "60" });
    const a = await t.admin.verify.v2.verificationAttemptsSummary().fetch({ verifyServiceSid: serviceA });
    expect(a).toMatchObject({ totalAttempts: 4, totalConverted: 3, totalUnconverted: 1, conversionRatePercentage: "75" });
    const sms = await t.admin.verify.v2.verificationAttemptsSummary().fetch({ verifyServiceSid: serviceA, channel: "sms" });
    expect(sms).toMatchObject({ totalAttempts: 3, totalConverted: 2, conversionRatePercentage: "66.666666667" });
    const prefix = await t.admin.verify.v2.verificationAttemptsSummary().fetch({ destinationPrefix: "+1415556" });
    expect(prefix.totalAttempts).toBe(4);
    const none = await t.admin.verify.v2.verificationAttemptsSummary().fetch({ country: "FR" });
    expect(none).toMatchObject({ totalAttempts: 0, totalConverted: 0, totalUnconverted: 0, conversionRatePercentage: null });
  });

  it("a service key sees its own service's attempts only", async () => {
    const client = t.withKey(keyB.sid, keyB.key);
    const own = await client.verify.v2.verificationAttempts.list();
    expect(own.map((a) => a.verificationSid)).toEqual(started.b);
    expect(await client.verify.v2.verificationAttempts.list({ verifyServiceSid: serviceA })).toHaveLength(0);
    const [ofA] = await t.admin.verify.v2.verificationAttempts.list({ verifyServiceSid: serviceA, limit: 1 });
    expect(await client.verify.v2.verificationAttempts(ofA.sid).fetch().catch((e) => e)).toMatchObject({ status: 404, code: 20404 });
    expect(await client.verify.v2.verificationAttemptsSummary().fetch()).toMatchObject({ totalAttempts: 1, totalConverted: 0, conversionRatePercentage: "0" });
    expect(await client.verify.v2.verificationAttemptsSummary().fetch({ verifyServiceSid: serviceA })).toMatchObject({ totalAttempts: 0 });
  });

  it("answers a malformed filter with 400 / 60200", async () => {
    const bad = await t.admin.verify.v2.verificationAttempts.list({ verifyServiceSid: "VAnope" }).catch((e) => e);
    expect(bad).toBeInstanceOf(twilio.RestException);
    expect(bad).toMatchObject({ status: 400, code: 60200 });
  });
});

describe("Services DELETE through the twilio SDK", () => {
  it("a service key may not delete its service (403); an unknown sid is 404", async () => {
    const keyA = await t.apiKey(serviceA);
    const refused = await t.withKey(keyA.sid, keyA.key).verify.v2.services(serviceA).remove().catch((e) => e);
    expect(refused).toBeInstanceOf(twilio.RestException);
    expect(refused.status).toBe(403);
    expect(await t.admin.verify.v2.services(`VA${"0".repeat(32)}`).remove().catch((e) => e)).toMatchObject({ status: 404, code: 20404 });
  });

  it("deletes a service: 204; its sid is 404, its keys are refused 401 at once, its history stays", async () => {
    const client = t.withKey(keyB.sid, keyB.key);
    // Warm every cache that could keep the service or its key alive.
    expect((await client.verify.v2.services(serviceB).fetch()).sid).toBe(serviceB);
    const pending = await client.verify.v2.services(serviceB).verifications.create({ to: nextPhone(), channel: "sms" });
    const hook = await t.gw.gql<{ createWebhook: { webhook: { sid: string } } }>(
      `mutation($s: ID!) { createWebhook(input: { serviceSid: $s, url: "https://example.com/hook", eventTypes: ["*"] }) { webhook { sid } } }`,
      { s: serviceB },
    );
    expect(hook.errors).toBeUndefined();

    expect(await t.admin.verify.v2.services(serviceB).remove()).toBe(true);

    expect(await t.admin.verify.v2.services(serviceB).fetch().catch((e) => e)).toMatchObject({ status: 404, code: 20404 });
    expect(await client.verify.v2.services(serviceB).fetch().catch((e) => e)).toMatchObject({ status: 401, code: 20003 });
    expect(await client.verify.v2.verificationAttempts.list().catch((e) => e)).toMatchObject({ status: 401, code: 20003 });
    expect(await t.admin.verify.v2.services(serviceB).verifications.create({ to: nextPhone(), channel: "sms" }).catch((e) => e)).toMatchObject({ status: 404, code: 20404 });
    expect(await t.admin.verify.v2.services(serviceB).remove().catch((e) => e)).toMatchObject({ status: 404, code: 20404 });
    expect((await t.admin.verify.v2.services.list()).map((s) => s.sid)).not.toContain(serviceB);

    const rows = await t.gw.sql<{ n: number }>("select count(*) as n from api_keys where service_sid = ?", [serviceB]);
    expect(Number(rows[0].n)).toBe(0);
    const hooks = await t.gw.sql<{ n: number }>("select count(*) as n from webhooks where service_sid = ?", [serviceB]);
    expect(Number(hooks[0].n)).toBe(0);
    const status = await t.gw.sql<{ status: string }>("select status from verifications where sid = ?", [pending.sid]);
    expect(status[0].status).toBe("CANCELED");
    // The account's attempts keep the deleted service's history.
    expect(await t.admin.verify.v2.verificationAttempts.list({ verifyServiceSid: serviceB })).toHaveLength(2);
    // The other service is untouched.
    expect((await t.admin.verify.v2.services(serviceA).fetch()).sid).toBe(serviceA);
  });

  it("deleteService over GraphQL is the admin's; the event is in the log", async () => {
    const sid = (await t.admin.verify.v2.services.create({ friendlyName: "Deleted over GraphQL" })).sid;
    const key = await t.apiKey(sid);
    const byKey = await t.gw.gql(`mutation($s: ID!) { deleteService(sid: $s) { sid } }`, { s: sid }, key.key);
    expect(byKey.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const byAdmin = await t.gw.gql<{ deleteService: { sid: string; friendlyName: string } }>(`mutation($s: ID!) { deleteService(sid: $s) { sid friendlyName } }`, { s: sid });
    expect(byAdmin.data?.deleteService).toEqual({ sid, friendlyName: "Deleted over GraphQL" });
    const again = await t.gw.gql(`mutation($s: ID!) { deleteService(sid: $s) { sid } }`, { s: sid });
    expect(again.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    const events = await t.gw.sql<{ type: string }>("select type from events where service_sid = ? order by seq", [sid]);
    expect(events.map((e) => e.type)).toEqual(["service.created", "api_key.created", "api_key.revoked", "service.deleted"]);
  });
});
