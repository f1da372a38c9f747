import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GraphQLResponse, type TestGateway, errorCode, startGateway } from "./support/gateway.js";

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => gw.close());

const SERVICE_FIELDS = `sid id friendlyName codeLength ttlSeconds maxCheckAttempts maxSendAttempts customCodeEnabled psd2Enabled
  doNotShareWarningEnabled dtmfInputRequired lookupEnabled skipSmsToLandlines defaultLocale channels fraudGuard testNumbers { to code } dateCreated`;
const CREATE = `mutation($input: CreateServiceInput!) { createService(input: $input) { ${SERVICE_FIELDS} } }`;
const UPDATE = `mutation($input: UpdateServiceInput!) { updateService(input: $input) { ${SERVICE_FIELDS} } }`;

describe("services", () => {
  it("the first start created a service named Default with Twilio's defaults", async () => {
    const r = await gw.gql(`query($s: ID!) { service(sid: $s) { ${SERVICE_FIELDS} } }`, { s: gw.defaultServiceSid });
    expect(r.data?.service).toMatchObject({
      friendlyName: "Default",
      codeLength: 6,
      ttlSeconds: 600,
      maxCheckAttempts: 5,
      maxSendAttempts: 5,
      customCodeEnabled: false,
      psd2Enabled: false,
      dtmfInputRequired: true,
      fraudGuard: "BASIC",
      channels: ["SMS", "WHATSAPP", "CALL", "EMAIL", "SNA", "AUTO"],
      testNumbers: [],
      defaultLocale: "en",
    });
    expect(r.data?.service.id).toBe(gw.defaultServiceSid);
    expect(r.data?.service.sid).toMatch(/^VA[0-9a-f]{32}$/);
  });

  it("creates and updates a service with every setting", async () => {
    const created = await gw.gql(CREATE, {
      input: { friendlyName: "Acme Shop", codeLength: 8, ttlSeconds: 300, maxCheckAttempts: 3, maxSendAttempts: 2, customCodeEnabled: true, psd2Enabled: true, doNotShareWarningEnabled: true, dtmfInputRequired: false, lookupEnabled: true, skipSmsToLandlines: true, defaultLocale: "pt-BR", channels: ["SMS", "EMAIL", "SMS"], fraudGuard: "MAX", testNumbers: [{ to: "+14155550000", code: "123456" }] },
    });
    expect(created.errors).toBeUndefined();
    const s = created.data?.createService;
    expect(s).toMatchObject({ friendlyName: "Acme Shop", codeLength: 8, ttlSeconds: 300, maxCheckAttempts: 3, maxSendAttempts: 2, customCodeEnabled: true, psd2Enabled: true, defaultLocale: "pt-BR", channels: ["SMS", "EMAIL"], fraudGuard: "MAX" });
    const updated = await gw.gql(UPDATE, { input: { sid: s.sid, friendlyName: "Acme", codeLength: 4, channels: ["CALL"] } });
    expect(updated.data?.updateService).toMatchObject({ sid: s.sid, friendlyName: "Acme", codeLength: 4, ttlSeconds: 300, channels: ["CALL"], psd2Enabled: true });
  });

  it.each([
    ["friendlyName", { friendlyName: "x".repeat(31) }],
    ["friendlyName", { friendlyName: "Call 555-12345" }],
    ["friendlyName", { friendlyName: "https://evil.example" }],
    ["friendlyName", { friendlyName: "Visit shop.com" }],
    ["friendlyName", { friendlyName: "   " }],
    ["codeLength", { friendlyName: "Ok", codeLength: 3 }],
    ["codeLength", { friendlyName: "Ok", codeLength: 11 }],
    ["ttlSeconds", { friendlyName: "Ok", ttlSeconds: 119 }],
    ["ttlSeconds", { friendlyName: "Ok", ttlSeconds: 86401 }],
    ["defaultLocale", { friendlyName: "Ok", defaultLocale: "english please" }],
    ["channels", { friendlyName: "Ok", channels: ["AUTO", "SMS"] }],
    ["testNumbers.0.code", { friendlyName: "Ok", testNumbers: [{ to: "+14155550000", code: "12" }] }],
  ])("refuses a bad %s with INVALID_PARAMETER naming it, and writes nothing", async (field, input) => {
    const before = await gw.counts();
    const r = await gw.gql(CREATE, { input });
    expect(r.errors?.[0].extensions).toMatchObject({ code: "INVALID_PARAMETER", field, twilioCode: 60200 });
    expect(await gw.counts()).toEqual(before);
  });

  it("accepts names that Twilio accepts", async () => {
    for (const friendlyName of ["My App", "Café Zoë", "Shop_2024", "A-B"]) {
      expect((await gw.gql(CREATE, { input: { friendlyName } })).errors).toBeUndefined();
    }
  });

  it("an update of an unknown service → NOT_FOUND; a bad value → INVALID_PARAMETER and the service is unchanged", async () => {
    expect(errorCode(await gw.gql(UPDATE, { input: { sid: `VA${"b".repeat(32)}`, codeLength: 6 } }))).toBe("NOT_FOUND");
    const r = await gw.gql(UPDATE, { input: { sid: gw.defaultServiceSid, codeLength: 6, ttlSeconds: 5 } });
    expect(r.errors?.[0].extensions).toMatchObject({ code: "INVALID_PARAMETER", field: "ttlSeconds" });
    const read = await gw.gql(`query($s: ID!) { service(sid: $s) { ttlSeconds } }`, { s: gw.defaultServiceSid });
    expect(read.data?.service.ttlSeconds).toBe(600);
  });

  it("pages through services with Relay cursors", async () => {
    const all: string[] = [];
    let after: string | null = null;
    for (;;) {
      const r: GraphQLResponse = await gw.gql(`query($after: String) { services(first: 2, after: $after) { edges { cursor node { sid } } pageInfo { hasNextPage endCursor } } }`, { after });
      const page: { edges: { cursor: string; node: { sid: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } = r.data?.services;
      all.push(...page.edges.map((e: { node: { sid: string } }) => e.node.sid));
      expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)?.cursor ?? null);
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(all[0]).toBe(gw.defaultServiceSid);
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBeGreaterThan(2);
    expect(errorCode(await gw.gql(`{ services(first: 101) { nodes { sid } } }`))).toBe("INVALID_PARAMETER");
  });

  it("an API key is created, listed without its secret and revoked", async () => {
    const created = await gw.gql(`mutation($s: ID!) { createApiKey(input: { serviceSid: $s, name: "ci" }) { key apiKey { sid name serviceSid revokedAt } } }`, { s: gw.defaultServiceSid });
    const { key, apiKey } = created.data?.createApiKey;
    expect(apiKey).toMatchObject({ name: "ci", serviceSid: gw.defaultServiceSid, revokedAt: null });
    expect(apiKey.sid).toMatch(/^SK[0-9a-f]{32}$/);
    expect((await gw.gql(`query($s: ID!) { service(sid: $s) { sid } }`, { s: gw.defaultServiceSid }, key)).data?.service.sid).toBe(gw.defaultServiceSid);
    const listed = await gw.gql(`query($s: ID!) { apiKeys(serviceSid: $s) { sid revokedAt } }`, { s: gw.defaultServiceSid }, key);
    expect(listed.data?.apiKeys).toContainEqual({ sid: apiKey.sid, revokedAt: null });
    // A key may revoke itself; from then on it is refused.
    await gw.gql(`mutation($sid: ID!) { revokeApiKey(sid: $sid) { sid } }`, { sid: apiKey.sid }, key);
    expect(errorCode(await gw.gql(`query($s: ID!) { service(sid: $s) { sid } }`, { s: gw.defaultServiceSid }, key))).toBe("UNAUTHENTICATED");
    expect(errorCode(await gw.gql(`mutation { createApiKey(input: { serviceSid: "VA00000000000000000000000000000000" }) { key } }`))).toBe("NOT_FOUND");
  });
});

describe("errors", () => {
  it("an unexpected failure is masked as 'Unexpected error.' and logged", async () => {
    const local = await startGateway();
    try {
      local.app.store.close();
      const r = await local.gql(`query($s: ID!) { service(sid: $s) { sid } }`, { s: local.defaultServiceSid });
      expect(r.errors?.[0].message).toBe("Unexpected error.");
      expect(JSON.stringify(r)).not.toMatch(/sqlite|database|stack/i);
      expect(local.logs()).toMatch(/database connection is not open|after calling end on the pool/);
    } finally {
      await local.close();
    }
  });
});
