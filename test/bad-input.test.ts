import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY, CHECK, type GraphQLResponse, START, type TestGateway, startAndReadCode, startGateway } from "./support/gateway.js";

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => gw.close());

/** Runs a request and asserts its stable error code and that no row anywhere changed. */
async function refusedWithNothingWritten(query: string, variables: Record<string, unknown>, expected: Record<string, unknown>, token?: string | null) {
  await gw.app.dispatcher.idle();
  const before = await gw.counts();
  const response = await gw.gql(query, variables, token);
  expect(response.errors?.[0]?.extensions).toMatchObject(expected);
  expect(response.data?.startVerification ?? response.data?.checkVerification ?? null).toBeNull();
  await gw.app.dispatcher.idle();
  expect(await gw.counts()).toEqual(before);
  return response;
}

const start = (input: Record<string, unknown>) => ({ input: { serviceSid: gw.defaultServiceSid, channel: "SMS", ...input } });

describe("bad input gets a stable code and writes nothing", () => {
  it.each([
    ["no leading +", "4155552671"],
    ["too short", "+1415"],
    ["letters", "+1415555ABCD"],
    ["not a number at all", "hello"],
    ["an unassigned range", "+19999999999"],
  ])("invalid phone (%s) → INVALID_PARAMETER on `to`", async (_label, to) => {
    await refusedWithNothingWritten(START, start({ to }), { code: "INVALID_PARAMETER", field: "to", twilioCode: 60200 });
  });

  it("an email address on SMS → INVALID_PARAMETER on `to`", async () => {
    await refusedWithNothingWritten(START, start({ to: "ada@example.com" }), { code: "INVALID_PARAMETER", field: "to" });
  });

  it.each(["ada", "ada@", "@example.com", "ada@example", "ada@@example.com", "a da@example.com", "ada@exa_mple.com"])(
    "an invalid email address (%s) on EMAIL → INVALID_PARAMETER on `to`",
    async (to) => {
      await refusedWithNothingWritten(START, start({ to, channel: "EMAIL" }), { code: "INVALID_PARAMETER", field: "to" });
    },
  );

  it("an unknown or malformed service → NOT_FOUND", async () => {
    await refusedWithNothingWritten(START, { input: { serviceSid: `VA${"a".repeat(32)}`, to: "+14155552671", channel: "SMS" } }, { code: "NOT_FOUND", twilioCode: 20404 });
    await refusedWithNothingWritten(START, { input: { serviceSid: "nonsense", to: "+14155552671", channel: "SMS" } }, { code: "NOT_FOUND" });
    await refusedWithNothingWritten(CHECK, { input: { serviceSid: `VA${"a".repeat(32)}`, to: "+14155552671", code: "123456" } }, { code: "NOT_FOUND" });
  });

  it("a code of the wrong length → INVALID_PARAMETER on `code`, and it does not count as an attempt", async () => {
    const { sid, code } = await startAndReadCode(gw, { to: "+14155555001" });
    for (const bad of ["12345", "1234567", "12", "12345678901", "12 456", "12345!"]) {
      await refusedWithNothingWritten(CHECK, { input: { serviceSid: gw.defaultServiceSid, verificationSid: sid, code: bad } }, { code: "INVALID_PARAMETER", field: "code" });
    }
    const checked = await gw.gql(CHECK, { input: { serviceSid: gw.defaultServiceSid, verificationSid: sid, code } });
    expect(checked.data?.checkVerification.verification.status).toBe("APPROVED");
  });

  it("a check without code, or without `to` and verificationSid → INVALID_PARAMETER", async () => {
    await startAndReadCode(gw, { to: "+14155552690" });
    await refusedWithNothingWritten(CHECK, { input: { serviceSid: gw.defaultServiceSid, to: "+14155552690" } }, { code: "INVALID_PARAMETER", field: "code" });
    await refusedWithNothingWritten(CHECK, { input: { serviceSid: gw.defaultServiceSid, code: "123456" } }, { code: "INVALID_PARAMETER", field: "to" });
  });

  it("a check for a number with no verification → NOT_FOUND", async () => {
    await refusedWithNothingWritten(CHECK, { input: { serviceSid: gw.defaultServiceSid, to: "+14155555999", code: "123456" } }, { code: "NOT_FOUND" });
  });

  it("a missing token → UNAUTHENTICATED", async () => {
    await refusedWithNothingWritten(START, start({ to: "+14155552671" }), { code: "UNAUTHENTICATED", twilioCode: 20003 }, null);
  });

  it("SNA to an email address, a bad deviceIp, or a client token on SMS → INVALID_PARAMETER", async () => {
    await refusedWithNothingWritten(START, start({ to: "ada@example.com", channel: "SNA" }), { code: "INVALID_PARAMETER", field: "to" });
    await refusedWithNothingWritten(START, start({ to: "+14155552671", channel: "AUTO", deviceIp: "10.0.0.300" }), { code: "INVALID_PARAMETER", field: "deviceIp" });
    await refusedWithNothingWritten(START, start({ to: "+14155552671", enableSnaClientToken: true }), { code: "INVALID_PARAMETER", field: "enableSnaClientToken" });
  });

  it("bad optional fields name themselves", async () => {
    await refusedWithNothingWritten(START, start({ to: "+14155552671", locale: "not a locale" }), { code: "INVALID_PARAMETER", field: "locale" });
    await refusedWithNothingWritten(START, start({ to: "+14155552671", customFriendlyName: "Visit www.scam.com" }), { code: "INVALID_PARAMETER", field: "customFriendlyName" });
    await refusedWithNothingWritten(START, start({ to: "+14155552671", tags: { a: 1 } }), { code: "INVALID_PARAMETER" });
    await refusedWithNothingWritten(START, start({ to: "+14155552671", tags: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, "v"])) }), { code: "INVALID_PARAMETER", field: "tags" });
  });

  it("variables that do not coerce → BAD_USER_INPUT", async () => {
    await refusedWithNothingWritten(START, start({ to: "+14155552671", channel: "PIGEON" }), { code: "BAD_USER_INPUT" });
    await refusedWithNothingWritten(START, { input: { to: "+14155552671", channel: "SMS" } }, { code: "BAD_USER_INPUT" });
  });

  it("a too deep query → GRAPHQL_VALIDATION_FAILED", async () => {
    // Each inline fragment is a level (armor does not flatten fragments), so real fields are not needed.
    const deep = `{ ${"... on Query { ".repeat(13)}__typename${" }".repeat(13)} }`;
    const response = await refusedWithNothingWritten(deep, {}, { code: "GRAPHQL_VALIDATION_FAILED" });
    expect(response.errors?.[0].message).toMatch(/depth/i);
  });

  it("too many aliases → GRAPHQL_VALIDATION_FAILED", async () => {
    const aliases = Array.from({ length: 40 }, (_, i) => `a${i}: services(first: 1) { pageInfo { hasNextPage } }`).join(" ");
    const response = await refusedWithNothingWritten(`{ ${aliases} }`, {}, { code: "GRAPHQL_VALIDATION_FAILED" });
    expect(response.errors?.[0].message).toMatch(/alias/i);
  });

  it("a huge query (past the token limit) → GRAPHQL_PARSE_FAILED", async () => {
    const huge = `{ ${Array.from({ length: 3001 }, () => "__typename").join(" ")} }`;
    const response = await refusedWithNothingWritten(huge, {}, { code: "GRAPHQL_PARSE_FAILED" });
    expect(response.errors?.[0].message).toMatch(/token/i);
  });

  it("a costly query → GRAPHQL_VALIDATION_FAILED", async () => {
    const field = `verifications(serviceSid: "${"VA".padEnd(34, "0")}", first: 100) { nodes { sendCodeAttempts { attemptSid status channel time } lookup { countryCode lineType carrier } } }`;
    const costly = `{ ${Array.from({ length: 25 }, (_, i) => `v${i}: ${field}`).join(" ")} }`;
    const response = await refusedWithNothingWritten(costly, {}, { code: "GRAPHQL_VALIDATION_FAILED" });
    expect(response.errors?.[0].message).toMatch(/cost/i);
  });

  it("a malformed query → GRAPHQL_PARSE_FAILED; an unknown field → GRAPHQL_VALIDATION_FAILED", async () => {
    await refusedWithNothingWritten("{ services { ", {}, { code: "GRAPHQL_PARSE_FAILED" });
    await refusedWithNothingWritten("{ nope }", {}, { code: "GRAPHQL_VALIDATION_FAILED" });
  });
});

describe("JSON inputs are bounded in depth and size", () => {
  const CREATE_FACTOR = `mutation($input: CreateFactorInput!) { createFactor(input: $input) { factor { sid } } }`;
  const factor = (metadata: unknown) => ({ input: { serviceSid: gw.defaultServiceSid, identity: "user-json-caps", friendlyName: "phone", factorType: "TOTP", metadata } });
  /** An array nested `levels` deep. */
  const nested = (levels: number): unknown => {
    let value: unknown = "deep";
    for (let i = 0; i < levels; i++) value = [value];
    return value;
  };

  it("a 100,000-deep `metadata` → INVALID_PARAMETER naming `metadata`, never a masked error", async () => {
    // JSON.stringify itself cannot write such a value: the body is written by hand, as an attacker would.
    const variables = JSON.stringify(factor("HERE")).replace('"HERE"', `{"a": ${"[".repeat(100_000)}1${"]".repeat(100_000)}}`);
    await gw.app.dispatcher.idle();
    const before = await gw.counts();
    const response = await fetch(`${gw.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN_KEY}` },
      body: `{"query": ${JSON.stringify(CREATE_FACTOR)}, "variables": ${variables}}`,
    });
    const body = (await response.json()) as GraphQLResponse;
    expect(body.errors?.[0].extensions).toMatchObject({ code: "INVALID_PARAMETER", field: "metadata", twilioCode: 60200 });
    expect(body.errors?.[0].message).toMatch(/metadata.*deep/i);
    expect(await gw.counts()).toEqual(before);
  });

  it("JSON deeper than 8 levels, or larger than 16 kB, is refused on every JSON input; 8 levels pass", async () => {
    await refusedWithNothingWritten(CREATE_FACTOR, factor({ a: nested(8) }), { code: "INVALID_PARAMETER", field: "metadata" });
    await refusedWithNothingWritten(CREATE_FACTOR, factor({ note: "x".repeat(17 * 1024) }), { code: "INVALID_PARAMETER", field: "metadata" });
    await refusedWithNothingWritten(START, start({ to: "+14155552671", tags: { a: nested(10) } }), { code: "INVALID_PARAMETER", field: "tags" });
    await refusedWithNothingWritten(START, start({ to: "+14155552671", rateLimits: { ip: "x".repeat(20_000) } }), { code: "INVALID_PARAMETER", field: "rateLimits" });
    const ok = await gw.gql(CREATE_FACTOR, factor({ a: nested(7) }));
    expect(ok.errors).toBeUndefined();
  });

  it("a deep JSON literal in the query is refused the same way", async () => {
    const literal = `${"[".repeat(40)}1${"]".repeat(40)}`;
    const query = `mutation { createFactor(input: { serviceSid: "${gw.defaultServiceSid}", identity: "user-json-literal", friendlyName: "phone", factorType: TOTP, metadata: { a: ${literal} } }) { factor { sid } } }`;
    const response = await refusedWithNothingWritten(query, {}, { code: "INVALID_PARAMETER" });
    expect(response.errors?.[0].message).toMatch(/deep/i);
  });
});
