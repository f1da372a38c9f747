import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { CHECK, OUTBOX, START, type TestGateway, errorCode, startGateway } from "./support/gateway.js";
import { HTTP_SECRET, startHttpPeer } from "./support/peers.js";

// Rate limits, geo permissions, lookup, safe list and test numbers, through the real server.

type Peer = Awaited<ReturnType<typeof startHttpPeer>>;
let gw: TestGateway;
let vendor: Peer;
let carrierApi: Peer;
beforeAll(async () => {
  // A real SMS vendor and a real carrier lookup service, so "never reaches a provider" can be observed.
  vendor = await startHttpPeer(() => ({ status: 200, body: { messageId: "m" } }));
  carrierApi = await startHttpPeer((request) => ({ status: 200, body: { carrier: request.path.includes("%2B33") ? "Orange France" : "Sandbox Mobile" } }));
  gw = await startGateway({ env: { HTTP_SMS_URL: vendor.url, HTTP_PROVIDER_SECRET: HTTP_SECRET, LOOKUP_URL: `${carrierApi.url}/lookup` } });
});
afterAll(async () => {
  await gw.close();
  await vendor.close();
  await carrierApi.close();
});
afterEach(() => {
  vi.useRealTimers();
});

let n = 0;
/** Distinct valid US numbers, each in its own prefix. */
const nextPhone = () => `+1415${300 + (n++ % 600)}${String(1000 + n).slice(-4)}`;

const SERVICE = `sid rateLimits { perTo { max interval } perIp { max interval } perService { max interval } named { uniqueName description buckets { max interval } } }
  geoPermissions { channel allowedCountries } safeList blockPremiumNumbers testNumbers { to code } fraudGuard`;
async function createService(input: Record<string, unknown>) {
  const created = await gw.gql(`mutation($input: CreateServiceInput!) { createService(input: $input) { ${SERVICE} } }`, { input: { friendlyName: "Shop", ...input } });
  if (created.errors) throw new Error(JSON.stringify(created.errors));
  return created.data!.createService as { sid: string } & Record<string, any>;
}
const start = (serviceSid: string, input: Record<string, unknown>) => gw.gql(START, { input: { serviceSid, channel: "SMS", ...input } });

/** Asserts the stable refusal and that no row of any table changed. */
async function refused(promise: () => Promise<any>, expected: Record<string, unknown>) {
  await gw.app.dispatcher.idle();
  const before = await gw.counts();
  const response = await promise();
  expect(response.errors?.[0]?.extensions).toMatchObject(expected);
  expect(response.data?.startVerification ?? null).toBeNull();
  await gw.app.dispatcher.idle();
  expect(await gw.counts()).toEqual(before);
  return response.errors[0].extensions as Record<string, any>;
}

describe("rate limits", () => {
  it("services get the default limits; every limit is configurable through the API", async () => {
    const service = await createService({});
    expect(service.rateLimits).toEqual({ perTo: [{ max: 10, interval: 3600 }], perIp: [{ max: 50, interval: 3600 }], perService: [], named: [] });
    const updated = await gw.gql(`mutation($input: UpdateServiceInput!) { updateService(input: $input) { ${SERVICE} } }`, {
      input: { sid: service.sid, rateLimits: { perService: [{ max: 100, interval: 60 }, { max: 1000, interval: 3600 }], named: [{ uniqueName: "end_user_ip_address", buckets: [{ max: 3, interval: 600 }] }] } },
    });
    expect(updated.errors).toBeUndefined();
    expect(updated.data?.updateService.rateLimits).toEqual({
      perTo: [{ max: 10, interval: 3600 }],
      perIp: [{ max: 50, interval: 3600 }],
      perService: [{ max: 100, interval: 60 }, { max: 1000, interval: 3600 }],
      named: [{ uniqueName: "end_user_ip_address", description: null, buckets: [{ max: 3, interval: 600 }] }],
    });
  });

  it.each([
    ["rateLimits.perTo", { perTo: [{ max: 1, interval: 60 }, { max: 5, interval: 60 }] }],
    ["rateLimits.perIp.0.max", { perIp: [{ max: 0, interval: 60 }] }],
    ["rateLimits.perService.0.interval", { perService: [{ max: 5, interval: 0 }] }],
    ["rateLimits.named.0.uniqueName", { named: [{ uniqueName: "has space", buckets: [{ max: 1, interval: 60 }] }] }],
    ["rateLimits.named.0.buckets", { named: [{ uniqueName: "ok", buckets: [] }] }],
    ["rateLimits.named", { named: [{ uniqueName: "a", buckets: [{ max: 1, interval: 1 }] }, { uniqueName: "a", buckets: [{ max: 1, interval: 1 }] }] }],
  ])("a bad rate limit setting names %s", async (field, rateLimits) => {
    const service = await createService({});
    const before = await gw.counts();
    const r = await gw.gql(`mutation($input: UpdateServiceInput!) { updateService(input: $input) { sid } }`, { input: { sid: service.sid, rateLimits } });
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: "INVALID_PARAMETER", field });
    expect(await gw.counts()).toEqual(before);
  });

  it("per `to`: past the bucket the start is RATE_LIMITED with retryAfterSeconds, nothing written; another number passes", async () => {
    const service = await createService({ rateLimits: { perTo: [{ max: 2, interval: 3600 }] } });
    const to = nextPhone();
    expect((await start(service.sid, { to })).errors).toBeUndefined();
    expect((await start(service.sid, { to })).errors).toBeUndefined();
    const extensions = await refused(() => start(service.sid, { to }), { code: "RATE_LIMITED", twilioCode: 20429 });
    expect(extensions.retryAfterSeconds).toBeGreaterThan(3500);
    expect(extensions.retryAfterSeconds).toBeLessThanOrEqual(3600);
    expect((await start(service.sid, { to: nextPhone() })).errors).toBeUndefined();
  });

  it("per service and per end-user IP (deviceIp)", async () => {
    const service = await createService({ rateLimits: { perService: [{ max: 4, interval: 60 }], perIp: [{ max: 2, interval: 600 }] } });
    expect((await start(service.sid, { to: nextPhone(), deviceIp: "203.0.113.7" })).errors).toBeUndefined();
    expect((await start(service.sid, { to: nextPhone(), deviceIp: "203.0.113.7" })).errors).toBeUndefined();
    await refused(() => start(service.sid, { to: nextPhone(), deviceIp: "203.0.113.7" }), { code: "RATE_LIMITED" });
    expect((await start(service.sid, { to: nextPhone(), deviceIp: "203.0.113.8" })).errors).toBeUndefined();
    // Four starts counted (the refused one too): the service's bucket of 4 is spent.
    const extensions = await refused(() => start(service.sid, { to: nextPhone() }), { code: "RATE_LIMITED" });
    expect(extensions.retryAfterSeconds).toBeLessThanOrEqual(60);
  });

  it("programmable limits count per value given in `rateLimits`; an unknown name is an input error", async () => {
    const service = await createService({ rateLimits: { named: [{ uniqueName: "end_user_ip_address", description: "per user", buckets: [{ max: 1, interval: 600 }] }] } });
    const limited = { end_user_ip_address: "198.51.100.1" };
    expect((await start(service.sid, { to: nextPhone(), rateLimits: limited })).errors).toBeUndefined();
    await refused(() => start(service.sid, { to: nextPhone(), rateLimits: limited }), { code: "RATE_LIMITED" });
    expect((await start(service.sid, { to: nextPhone(), rateLimits: { end_user_ip_address: "198.51.100.2" } })).errors).toBeUndefined();
    await refused(() => start(service.sid, { to: nextPhone(), rateLimits: { unknown_limit: "x" } }), { code: "INVALID_PARAMETER", field: "rateLimits" });
    await refused(() => start(service.sid, { to: nextPhone(), rateLimits: { end_user_ip_address: { nested: true } } }), { code: "INVALID_PARAMETER" });
  });

  it("counters hold across a restart (they live in the store, not in memory)", async () => {
    const service = await createService({ rateLimits: { perTo: [{ max: 1, interval: 3600 }] } });
    const to = nextPhone();
    expect((await start(service.sid, { to })).errors).toBeUndefined();
    await gw.restart();
    expect(errorCode(await start(service.sid, { to }))).toBe("RATE_LIMITED");
    const rows = await gw.sql<{ key: string }>("select key from rate_limits");
    // Keys name the service and the kind of limit; the number itself is hashed.
    expect(rows.some((r) => r.key.includes(service.sid))).toBe(true);
    expect(rows.every((r) => !r.key.includes(to.slice(1)))).toBe(true);
  });

  it("a bucket refills after its interval", async () => {
    const service = await createService({ rateLimits: { perTo: [{ max: 1, interval: 60 }] } });
    const to = nextPhone();
    expect((await start(service.sid, { to })).errors).toBeUndefined();
    expect(errorCode(await start(service.sid, { to }))).toBe("RATE_LIMITED");
    // rate-limiter-flexible reads the system clock: move only Date, 61 s ahead.
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 61_000 });
    expect((await start(service.sid, { to })).errors).toBeUndefined();
  });
});

describe("geo permissions", () => {
  it("refuses a country a channel does not allow (GEO_BLOCKED), per channel; safe list and riskCheck DISABLE bypass it", async () => {
    const service = await createService({ geoPermissions: [{ channel: "SMS", allowedCountries: ["fr", "DE"] }] });
    expect(service.geoPermissions).toEqual([{ channel: "SMS", allowedCountries: ["FR", "DE"] }]);
    await refused(() => start(service.sid, { to: "+14155550123" }), { code: "GEO_BLOCKED", twilioCode: 60605 });
    expect((await start(service.sid, { to: "+33612345678" })).errors).toBeUndefined();
    // CALL has no rule: every country.
    expect((await start(service.sid, { to: "+14155550124", channel: "CALL" })).errors).toBeUndefined();
    expect((await start(service.sid, { to: "+14155550125", riskCheck: "DISABLE" })).errors).toBeUndefined();
    await gw.gql(`mutation($input: UpdateServiceInput!) { updateService(input: $input) { sid } }`, { input: { sid: service.sid, safeList: ["+1 415 555 0126"] } });
    const safe = await gw.gql(`query($s: ID!) { service(sid: $s) { safeList } }`, { s: service.sid });
    expect(safe.data?.service.safeList).toEqual(["+14155550126"]);
    expect((await start(service.sid, { to: "+14155550126" })).errors).toBeUndefined();
  });

  it("refuses bad geo settings", async () => {
    const service = await createService({});
    for (const [field, geoPermissions] of [
      ["geoPermissions.0.allowedCountries.0", [{ channel: "SMS", allowedCountries: ["France"] }]],
      ["geoPermissions", [{ channel: "SMS", allowedCountries: [] }, { channel: "SMS", allowedCountries: ["FR"] }]],
    ] as const) {
      const r = await gw.gql(`mutation($input: UpdateServiceInput!) { updateService(input: $input) { sid } }`, { input: { sid: service.sid, geoPermissions } });
      expect(r.errors?.[0]?.extensions).toMatchObject({ code: "INVALID_PARAMETER", field });
    }
    const r = await gw.gql(`mutation($input: UpdateServiceInput!) { updateService(input: $input) { sid } }`, { input: { sid: service.sid, safeList: ["not a number"] } });
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: "INVALID_PARAMETER", field: "safeList.0" });
  });
});

describe("lookup", () => {
  it("shows country and line type from libphonenumber and the carrier from the lookup service", async () => {
    const service = await createService({ lookupEnabled: true });
    const query = `mutation($input: StartVerificationInput!) { startVerification(input: $input) { verification { lookup { countryCode lineType carrier } } } }`;
    const mobile = await gw.gql(query, { input: { serviceSid: service.sid, to: "+33612345679", channel: "SMS" } });
    expect(mobile.data?.startVerification.verification.lookup).toEqual({ countryCode: "FR", lineType: "mobile", carrier: "Orange France" });
    const tollFree = await gw.gql(query, { input: { serviceSid: service.sid, to: "+18005550199", channel: "CALL" } });
    expect(tollFree.data?.startVerification.verification.lookup).toMatchObject({ countryCode: "US", lineType: "toll_free", carrier: "Sandbox Mobile" });
    expect(carrierApi.requests.map((r) => new URL(r.path, "http://x").searchParams.get("phoneNumber"))).toEqual(expect.arrayContaining(["+33612345679", "+18005550199"]));
  });

  it("refuses premium-rate and shared-cost numbers by default; blockPremiumNumbers: false lets them through", async () => {
    const service = await createService({});
    expect(service.blockPremiumNumbers).toBe(true);
    await refused(() => start(service.sid, { to: "+19005550123" }), { code: "INVALID_PARAMETER", field: "to" });
    await refused(() => start(service.sid, { to: "+448712345678", channel: "CALL" }), { code: "INVALID_PARAMETER", field: "to" });
    await refused(() => start(service.sid, { to: "+33810123456" }), { code: "INVALID_PARAMETER", field: "to" });
    const open = await createService({ blockPremiumNumbers: false });
    expect((await start(open.sid, { to: "+19005550123" })).errors).toBeUndefined();
  });
});

describe("test numbers", () => {
  it("get their fixed code in the dev outbox, never reach the provider, and skip rate limits and the send cap", async () => {
    const service = await createService({
      maxSendAttempts: 1,
      rateLimits: { perTo: [{ max: 1, interval: 3600 }], perService: [{ max: 1, interval: 3600 }] },
      testNumbers: [{ to: "+1 (415) 555-0177", code: "424242" }, { to: "QA@Example.COM", code: "1357" }],
    });
    expect(service.testNumbers).toEqual([{ to: "+14155550177", code: "424242" }, { to: "QA@example.com", code: "1357" }]);
    const before = vendor.requests.length;
    for (let i = 0; i < 3; i++) {
      const started = await start(service.sid, { to: "+14155550177" });
      expect(started.errors).toBeUndefined();
      await gw.app.dispatcher.idle();
      const sid = started.data!.startVerification.verification.sid;
      const outbox = await gw.gql(OUTBOX, { to: "+14155550177" });
      expect(outbox.data?.devOutbox[0]).toMatchObject({ verificationSid: sid, code: "424242", channel: "SMS" });
      const checked = await gw.gql(CHECK, { input: { serviceSid: service.sid, verificationSid: sid, code: "424242" } });
      expect(checked.data?.checkVerification.verification.status).toBe("APPROVED");
    }
    const email = await start(service.sid, { to: "QA@EXAMPLE.com", channel: "EMAIL" });
    expect(email.errors).toBeUndefined();
    await gw.app.dispatcher.idle();
    expect((await gw.gql(OUTBOX, { to: "QA@example.com" })).data?.devOutbox[0]).toMatchObject({ code: "1357", channel: "EMAIL" });
    // Nothing for a test number reached the SMS vendor; a real number does. (Judged by recipient: a delivery
    // of an earlier test may still reach the vendor meanwhile.)
    const recipients = () => vendor.requests.slice(before).map((r) => r.json?.to as string);
    expect(recipients()).not.toContain("+14155550177");
    const real = nextPhone();
    expect((await start(service.sid, { to: real })).errors).toBeUndefined();
    await gw.app.dispatcher.idle();
    expect(recipients()).toContain(real);
    expect(recipients()).not.toContain("+14155550177");
  });

  it("refuses a test number that is neither a phone number nor an email address", async () => {
    const r = await gw.gql(`mutation($input: CreateServiceInput!) { createService(input: $input) { sid } }`, { input: { friendlyName: "Shop", testNumbers: [{ to: "12345", code: "1234" }] } });
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: "INVALID_PARAMETER", field: "testNumbers.0.to" });
  });
});

describe("metrics", () => {
  it("counts blocks by reason and observes delivery latency", async () => {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    // The restart above began a fresh registry; the later tests refused geo, premium and rate-limited starts.
    expect(text).toMatch(/verigate_blocks_total\{reason="geo"\} [1-9]/);
    expect(text).toMatch(/verigate_blocks_total\{reason="premium_number"\} [1-9]/);
    expect(text).toMatch(/verigate_blocks_total\{reason="rate_limit"\} [1-9]/);
    expect(text).toMatch(/verigate_delivery_latency_seconds_count\{channel="SMS"\} [1-9]/);
  });
});
