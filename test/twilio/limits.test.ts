import { afterAll, beforeAll, describe, expect, it } from "vitest";
import twilio from "twilio";
import { withNamedSids } from "../../src/domain/service/settings.js";
import type { RateLimitSettings } from "../../src/domain/types.js";
import { ACCOUNT_SID, type TwilioGateway, twilioGateway } from "./support.js";

// Programmable rate limits and buckets, the account's safe list, messaging configurations and forms,
// through the official `twilio` SDK (every answer checked against Twilio's OpenAPI description).
let t: TwilioGateway;
let serviceSid: string;
let otherSid: string;
let phone = 0;
const nextPhone = () => `+1415556${String(1000 + phone++).padStart(4, "0")}`;
const refusal = (promise: Promise<unknown>) => promise.then(
  () => {
    throw new Error("expected the SDK to raise a RestException");
  },
  (error: unknown) => {
    expect(error).toBeInstanceOf(twilio.RestException);
    return error as { status: number; code: number };
  },
);

beforeAll(async () => {
  t = await twilioGateway();
  serviceSid = (await t.admin.verify.v2.services.create({ friendlyName: "Limits" })).sid;
  otherSid = (await t.admin.verify.v2.services.create({ friendlyName: "Other" })).sid;
});
afterAll(() => t?.close());

describe("rate limits and buckets through the twilio SDK", () => {
  it("a bucket of 2 per 60 s refuses the third start for the same value with 429 / 20429", async () => {
    const service = t.admin.verify.v2.services(serviceSid);
    const limit = await service.rateLimits.create({ uniqueName: "end_user_id", description: "per user" });
    expect(limit.sid).toMatch(/^RK[0-9a-f]{32}$/);
    expect(limit).toMatchObject({ serviceSid, accountSid: ACCOUNT_SID, uniqueName: "end_user_id", description: "per user" });
    const bucket = await service.rateLimits(limit.sid).buckets.create({ max: 2, interval: 60 });
    expect(bucket.sid).toMatch(/^BL[0-9a-f]{32}$/);
    expect(bucket).toMatchObject({ rateLimitSid: limit.sid, serviceSid, max: 2, interval: 60 });

    for (let i = 0; i < 2; i++) await service.verifications.create({ to: nextPhone(), channel: "sms", rateLimits: { end_user_id: "user-1" } });
    const third = await refusal(service.verifications.create({ to: nextPhone(), channel: "sms", rateLimits: { end_user_id: "user-1" } }));
    expect(third).toMatchObject({ status: 429, code: 20429 });
    // Another value has its own counter.
    await service.verifications.create({ to: nextPhone(), channel: "sms", rateLimits: { end_user_id: "user-2" } });
  });

  it("lists, fetches, updates and deletes rate limits and buckets; GraphQL shows the same sids", async () => {
    const service = t.admin.verify.v2.services(serviceSid);
    const limit = await service.rateLimits.create({ uniqueName: "tenant" });
    expect(limit.description).toBeNull();
    const listed = await service.rateLimits.list();
    expect(listed.map((l) => l.uniqueName)).toContain("tenant");
    expect((await service.rateLimits(limit.sid).fetch()).uniqueName).toBe("tenant");
    const updated = await service.rateLimits(limit.sid).update({ description: "per tenant" });
    expect(updated.description).toBe("per tenant");

    const minute = await service.rateLimits(limit.sid).buckets.create({ max: 10, interval: 60 });
    const hour = await service.rateLimits(limit.sid).buckets.create({ max: 100, interval: 3600 });
    expect((await service.rateLimits(limit.sid).buckets.list()).map((b) => b.sid)).toEqual([minute.sid, hour.sid]);
    const changed = await service.rateLimits(limit.sid).buckets(minute.sid).update({ max: 20 });
    expect(changed).toMatchObject({ sid: minute.sid, max: 20, interval: 60 });
    expect((await service.rateLimits(limit.sid).buckets(minute.sid).fetch()).max).toBe(20);

    // A duplicate interval and a duplicate name answer Twilio's numbers.
    expect(await refusal(service.rateLimits(limit.sid).buckets.create({ max: 1, interval: 3600 }))).toMatchObject({ status: 400, code: 60211 });
    expect(await refusal(service.rateLimits.create({ uniqueName: "tenant" }))).toMatchObject({ status: 400, code: 60208 });
    expect(await refusal(service.rateLimits.create({ uniqueName: "has space" }))).toMatchObject({ status: 400, code: 60209 });
    expect(await refusal(service.rateLimits.create({ uniqueName: "x".repeat(65) }))).toMatchObject({ status: 400, code: 60209 });

    // GraphQL shows the same limit and bucket; an updateService that keeps the name keeps the sid.
    const read = await t.gw.gql<any>("query($s: ID!) { service(sid: $s) { rateLimits { named { sid uniqueName description buckets { max interval } } } } }", { s: serviceSid });
    const named = read.data.service.rateLimits.named as { sid: string; uniqueName: string; description: string | null; buckets: { max: number; interval: number }[] }[];
    expect(named.find((l) => l.uniqueName === "tenant")?.sid).toBe(limit.sid);
    // (GraphQL's input asks for at least one bucket per limit; every limit here has one.)
    const kept = named.map(({ sid: _sid, ...l }) => l);
    const saved = await t.gw.gql<any>("mutation($i: UpdateServiceInput!) { updateService(input: $i) { sid } }", { i: { sid: serviceSid, rateLimits: { named: kept } } });
    expect(saved.errors).toBeUndefined();
    expect((await service.rateLimits(limit.sid).buckets(hour.sid).fetch()).max).toBe(100);
    expect((await service.rateLimits(limit.sid).fetch()).description).toBe("per tenant");

    await service.rateLimits(limit.sid).buckets(hour.sid).remove();
    expect(await refusal(service.rateLimits(limit.sid).buckets(hour.sid).fetch())).toMatchObject({ status: 404, code: 20404 });
    expect(await service.rateLimits(limit.sid).remove()).toBe(true);
    expect(await refusal(service.rateLimits(limit.sid).fetch())).toMatchObject({ status: 404, code: 20404 });
    expect((await service.rateLimits.list()).map((l) => l.uniqueName)).not.toContain("tenant");
  });

  it("limits stored before they had sids read with stable derived ones", () => {
    const legacy = { perTo: [], perIp: [], perService: [], named: [{ uniqueName: "old", description: null, buckets: [{ max: 1, interval: 60 }] }] } as unknown as RateLimitSettings;
    const first = withNamedSids(legacy, serviceSid, 1_700_000_000_000);
    const again = withNamedSids(legacy, serviceSid, 1_700_000_000_000);
    expect(first.named[0].sid).toMatch(/^RK[0-9a-f]{32}$/);
    expect(first.named[0].buckets[0].sid).toMatch(/^BL[0-9a-f]{32}$/);
    expect(again).toEqual(first);
    expect(withNamedSids(first, serviceSid, 0)).toBe(first);
  });

  it("parallel creates on one service all land (the list is merged inside the locked write)", async () => {
    const service = t.admin.verify.v2.services(otherSid);
    const names = Array.from({ length: 8 }, (_, i) => `parallel_${i}`);
    await Promise.all(names.map((uniqueName) => service.rateLimits.create({ uniqueName })));
    expect((await service.rateLimits.list()).map((l) => l.uniqueName).sort()).toEqual(names);
  });

  it("another service's key gets 404 for this service's rate limits; a missing Max answers 400", async () => {
    const limit = (await t.admin.verify.v2.services(serviceSid).rateLimits.list())[0];
    const key = await t.apiKey(otherSid);
    const other = t.withKey(key.sid, key.key);
    expect(await refusal(other.verify.v2.services(serviceSid).rateLimits(limit.sid).fetch())).toMatchObject({ status: 404, code: 20404 });
    expect(await refusal(other.verify.v2.services(serviceSid).rateLimits.list())).toMatchObject({ status: 404, code: 20404 });
    expect(await refusal(other.verify.v2.services(serviceSid).rateLimits.create({ uniqueName: "sneaky" }))).toMatchObject({ status: 404, code: 20404 });
    // Its own service's key may manage them.
    const own = await t.apiKey(serviceSid);
    const mine = t.withKey(own.sid, own.key);
    expect((await mine.verify.v2.services(serviceSid).rateLimits(limit.sid).fetch()).sid).toBe(limit.sid);
    const response = await fetch(`${t.gw.url}/v2/Services/${serviceSid}/RateLimits/${limit.sid}/Buckets`, {
      method: "POST",
      headers: { authorization: `Basic ${Buffer.from(`${own.sid}:${own.key}`).toString("base64")}`, "content-type": "application/x-www-form-urlencoded" },
      body: "Interval=30",
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 20001, status: 400 });
  });
});

describe("the account's safe list through the twilio SDK", () => {
  it("adds, fetches and deletes a number; a duplicate answers 60411", async () => {
    const added = await t.admin.verify.v2.safelist.create({ phoneNumber: "+14155557001" });
    expect(added.sid).toMatch(/^GN[0-9a-f]{32}$/);
    expect(added.phoneNumber).toBe("+14155557001");
    expect((await t.admin.verify.v2.safelist("+14155557001").fetch()).sid).toBe(added.sid);
    expect((await refusal(t.admin.verify.v2.safelist.create({ phoneNumber: "+14155557001" }))).code).toBe(60411);
    expect(await t.admin.verify.v2.safelist("+14155557001").remove()).toBe(true);
    expect(await refusal(t.admin.verify.v2.safelist("+14155557001").fetch())).toMatchObject({ status: 404, code: 20404 });
    expect(await refusal(t.admin.verify.v2.safelist("+14155557001").remove())).toMatchObject({ status: 404, code: 20404 });
  });

  it("a safe-listed number skips the service's geo permissions", async () => {
    const geo = await t.gw.gql<any>("mutation($i: UpdateServiceInput!) { updateService(input: $i) { sid } }", {
      i: { sid: otherSid, geoPermissions: [{ channel: "SMS", allowedCountries: ["US"] }] },
    });
    expect(geo.errors).toBeUndefined();
    const service = t.admin.verify.v2.services(otherSid);
    const fr = "+33612345671";
    expect(await refusal(service.verifications.create({ to: fr, channel: "sms" }))).toMatchObject({ status: 403, code: 60605 });
    await t.admin.verify.v2.safelist.create({ phoneNumber: fr });
    const started = await service.verifications.create({ to: fr, channel: "sms" });
    expect(started.status).toBe("pending");
    await t.admin.verify.v2.safelist(fr).remove();
    expect(await refusal(service.verifications.create({ to: "+33612345672", channel: "sms" }))).toMatchObject({ status: 403, code: 60605 });
  });

  it("a safe-listed number passes a Fraud Guard block in force on its prefix; a neighbour does not", async () => {
    const blocked = (await t.admin.verify.v2.services.create({ friendlyName: "Blocked prefix" })).sid;
    // Tripping Fraud Guard takes hundreds of starts; the block's row is what a start reads.
    await t.gw.sql("insert into fraud_blocks (sid, service_sid, prefix, reason, severity, level, blocked_until, date_created) values (?, ?, ?, ?, ?, ?, ?, ?)", [
      `FB${"ab".repeat(16)}`, blocked, "+1415558", "velocity", 1, "STANDARD", Date.now() + 3_600_000, Date.now(),
    ]);
    const service = t.admin.verify.v2.services(blocked);
    expect(await refusal(service.verifications.create({ to: "+14155580001", channel: "sms" }))).toMatchObject({ status: 403, code: 60410 });
    await t.admin.verify.v2.safelist.create({ phoneNumber: "+14155580002" });
    expect((await service.verifications.create({ to: "+14155580002", channel: "sms" })).status).toBe("pending");
    expect(await refusal(service.verifications.create({ to: "+14155580003", channel: "sms" }))).toMatchObject({ status: 403, code: 60410 });
    await t.admin.verify.v2.safelist("+14155580002").remove();
  });

  it("a service's API key is refused with 403: the safe list is account-wide", async () => {
    const key = await t.apiKey(serviceSid);
    const client = t.withKey(key.sid, key.key);
    expect(await refusal(client.verify.v2.safelist.create({ phoneNumber: "+14155557002" }))).toMatchObject({ status: 403, code: 20003 });
    expect(await refusal(client.verify.v2.safelist("+14155557002").fetch())).toMatchObject({ status: 403, code: 20003 });
    expect(await refusal(client.verify.v2.safelist("+14155557002").remove())).toMatchObject({ status: 403, code: 20003 });
  });
});

describe("messaging configurations through the twilio SDK", () => {
  const mg = (n: number) => `MG${String(n).repeat(32)}`;

  it("creates, lists, fetches, updates and deletes them; a duplicate country answers 60213", async () => {
    const service = t.admin.verify.v2.services(serviceSid);
    const created = await service.messagingConfigurations.create({ country: "us", messagingServiceSid: mg(1) });
    expect(created).toMatchObject({ serviceSid, accountSid: ACCOUNT_SID, country: "US", messagingServiceSid: mg(1) });
    await service.messagingConfigurations.create({ country: "all", messagingServiceSid: mg(2) });
    expect((await service.messagingConfigurations.list()).map((m) => m.country)).toEqual(["US", "all"]);
    expect((await service.messagingConfigurations("US").fetch()).messagingServiceSid).toBe(mg(1));
    expect((await service.messagingConfigurations("US").update({ messagingServiceSid: mg(3) })).messagingServiceSid).toBe(mg(3));
    expect(await refusal(service.messagingConfigurations.create({ country: "US", messagingServiceSid: mg(4) }))).toMatchObject({ status: 400, code: 60213 });
    expect(await refusal(service.messagingConfigurations.create({ country: "USA", messagingServiceSid: mg(4) }))).toMatchObject({ status: 400, code: 60200 });
    expect(await refusal(service.messagingConfigurations.create({ country: "FR", messagingServiceSid: "not-a-sid" }))).toMatchObject({ status: 400, code: 60200 });
    expect(await service.messagingConfigurations("US").remove()).toBe(true);
    expect(await refusal(service.messagingConfigurations("US").fetch())).toMatchObject({ status: 404, code: 20404 });
    expect((await service.messagingConfigurations.list()).map((m) => m.country)).toEqual(["all"]);
  });

  it("another service's key gets 404", async () => {
    const key = await t.apiKey(otherSid);
    const other = t.withKey(key.sid, key.key);
    expect(await refusal(other.verify.v2.services(serviceSid).messagingConfigurations("all").fetch())).toMatchObject({ status: 404, code: 20404 });
    expect(await refusal(other.verify.v2.services(serviceSid).messagingConfigurations("all").remove())).toMatchObject({ status: 404, code: 20404 });
  });
});

describe("forms through the twilio SDK", () => {
  it("answers form-push; another form type is 404", async () => {
    const form = await t.admin.verify.v2.forms("form-push").fetch();
    expect(form.formType).toBe("form-push");
    expect(form.forms).toHaveProperty("create_factor");
    expect(await refusal(t.admin.verify.v2.forms("form-sms" as "form-push").fetch())).toMatchObject({ status: 404, code: 20404 });
  });
});
