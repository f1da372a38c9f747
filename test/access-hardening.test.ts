import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DeviceKey, deviceToken, generateDeviceKey } from "../src/client/device/kit.js";
import { ADMIN_KEY, type TestGateway, errorCode, startGateway } from "./support/gateway.js";

// Issue 14, items 8, 14, 15 and the security-event logs of tokens and denied access.
let gw: TestGateway;
let factorSid: string;
let key: DeviceKey;
const FACTOR = `query($f: ID!) { factor(sid: $f) { sid } }`;

/** A device token with exactly these claims (seconds), signed by the factor's key. */
const tokenWith = (claims: { iat: number; exp: number }) =>
  new SignJWT({}).setProtectedHeader({ alg: "ES256", typ: "JWT" }).setSubject(factorSid).setIssuedAt(claims.iat).setExpirationTime(claims.exp).sign(key.privateKey);
const nowSeconds = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  gw = await startGateway();
  key = await generateDeviceKey();
  const created = await gw.gql(`mutation($i: CreateFactorInput!) { createFactor(input: $i) { factor { sid } } }`, {
    i: { serviceSid: gw.defaultServiceSid, identity: "dora", friendlyName: "phone", factorType: "PUSH", push: { publicKey: key.publicKey } },
  });
  factorSid = created.data!.createFactor.factor.sid;
  const verified = await gw.gql(`mutation($i: VerifyFactorInput!) { verifyFactor(input: $i) { status } }`, { i: { sid: factorSid, authPayload: await deviceToken(factorSid, key) } });
  expect(verified.data?.verifyFactor.status).toBe("VERIFIED");
});
afterAll(async () => {
  await gw?.close();
});

describe("device tokens live at most 10 minutes (item 8)", () => {
  it("a token issued in the future beyond the 60 s tolerance is refused, even with a short life", async () => {
    const now = nowSeconds();
    const future = await tokenWith({ iat: now + 3600, exp: now + 3900 });
    expect(errorCode(await gw.gql(FACTOR, { f: factorSid }, future))).toBe("UNAUTHENTICATED");
    const yearLong = await tokenWith({ iat: now + 365 * 86400, exp: now + 365 * 86400 + 600 });
    expect(errorCode(await gw.gql(FACTOR, { f: factorSid }, yearLong))).toBe("UNAUTHENTICATED");
  });

  it("a token whose exp − iat exceeds 600 s is refused; a device clock 30 s ahead is tolerated", async () => {
    const now = nowSeconds();
    expect(errorCode(await gw.gql(FACTOR, { f: factorSid }, await tokenWith({ iat: now, exp: now + 601 })))).toBe("UNAUTHENTICATED");
    const ahead = await gw.gql(FACTOR, { f: factorSid }, await tokenWith({ iat: now + 30, exp: now + 630 }));
    expect(ahead.errors).toBeUndefined();
    expect(ahead.data?.factor.sid).toBe(factorSid);
  });
});

describe("authentication comes before input validation (item 14)", () => {
  const START = `mutation($in: StartVerificationInput!) { startVerification(input: $in) { clientToken } }`;
  const input = () => ({ serviceSid: gw.defaultServiceSid, to: "+14155550142", channel: "SMS", locale: "fr\u0000" });

  it("a tokenless request with a NUL in `locale` is UNAUTHENTICATED, not INVALID_PARAMETER", async () => {
    const response = await gw.gql(START, { in: input() }, null);
    expect(errorCode(response)).toBe("UNAUTHENTICATED");
    const literal = await gw.gql(`mutation { startVerification(input: { serviceSid: "${gw.defaultServiceSid}", to: "+14155550142", channel: SMS, locale: "fr\\u0000" }) { clientToken } }`, {}, null);
    expect(errorCode(literal)).toBe("UNAUTHENTICATED");
  });

  it("with a token, the NUL error names the input field, not the variable's path", async () => {
    const response = await gw.gql(START, { in: input() });
    expect(errorCode(response)).toBe("INVALID_PARAMETER");
    expect(response.errors![0].extensions!.field).toBe("locale");
    const literal = await gw.gql(`mutation { startVerification(input: { serviceSid: "${gw.defaultServiceSid}", to: "+14155550142", channel: SMS, locale: "fr\\u0000" }) { clientToken } }`);
    expect(errorCode(literal)).toBe("INVALID_PARAMETER");
    expect(literal.errors![0].extensions!.field).toBe("locale");
    const nested = await gw.gql(`mutation($d: ChallengeDetailsInput) { createChallenge(input: { serviceSid: "${gw.defaultServiceSid}", identity: "dora", factorType: PUSH, details: $d }) { clientToken } }`, {
      d: { message: "ok", fields: [{ label: "a", value: "b\u0000" }] },
    });
    expect(errorCode(nested)).toBe("INVALID_PARAMETER");
    expect(nested.errors![0].extensions!.field).toBe("details.fields.value");
  });
});

describe("the alias limit counts __typename too (item 15)", () => {
  it("100 aliases of __typename are refused before execution; 30 pass", async () => {
    const many = `{ ${Array.from({ length: 100 }, (_, i) => `a${i}: __typename`).join(" ")} }`;
    const refused = await gw.gql(many, {});
    expect(errorCode(refused)).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(refused.data ?? null).toBeNull();
    const thirty = `{ ${Array.from({ length: 30 }, (_, i) => `a${i}: __typename`).join(" ")} }`;
    expect((await gw.gql(thirty, {})).errors).toBeUndefined();
  });
});

describe("security events are logged without tokens (item 11, tokens and denied access)", () => {
  it("forged, revoked and expired tokens and FORBIDDEN decisions leave a line with the kind and sids, never the token", async () => {
    const before = gw.logs().length;
    const created = await gw.gql(`mutation($s: ID!) { createApiKey(input: { serviceSid: $s, name: "leaver" }) { key apiKey { sid } } }`, { s: gw.defaultServiceSid });
    const apiKey = created.data!.createApiKey.key as string;
    const keySid = created.data!.createApiKey.apiKey.sid as string;
    await gw.gql(`mutation($k: ID!) { revokeApiKey(sid: $k) { sid } }`, { k: keySid });
    expect(errorCode(await gw.gql(`{ services { nodes { sid } } }`, {}, apiKey))).toBe("UNAUTHENTICATED");

    const forged = `vgc_${Buffer.from(JSON.stringify({ sid: "VE0", svc: gw.defaultServiceSid, exp: 9_999_999_999 })).toString("base64url")}.forgedsignature`;
    expect(errorCode(await gw.gql(FACTOR, { f: factorSid }, forged))).toBe("UNAUTHENTICATED");

    const now = nowSeconds();
    const expired = await tokenWith({ iat: now - 700, exp: now - 200 });
    expect(errorCode(await gw.gql(FACTOR, { f: factorSid }, expired))).toBe("UNAUTHENTICATED");

    const device = await deviceToken(factorSid, key);
    expect(errorCode(await gw.gql(`{ services { nodes { sid } } }`, {}, device))).toBe("FORBIDDEN");

    const lines = gw
      .logs()
      .slice(before)
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => typeof line.security === "string");
    const revoked = lines.find((l) => l.security === "token_refused" && l.reason === "revoked");
    expect(revoked).toMatchObject({ tokenKind: "apiKey", keySid, serviceSid: gw.defaultServiceSid, level: 40 });
    expect(lines.find((l) => l.security === "token_refused" && l.tokenKind === "client" && l.reason === "bad signature")).toMatchObject({ level: 40 });
    expect(lines.find((l) => l.security === "token_refused" && l.tokenKind === "device" && l.reason === "expired")).toMatchObject({ factorSid, level: 30 });
    expect(lines.find((l) => l.security === "access_denied")).toMatchObject({ tokenKind: "device", factorSid, serviceSid: gw.defaultServiceSid, operations: ["services"], level: 40 });
    const text = gw.logs().slice(before);
    for (const secret of [apiKey, forged, expired, device, ADMIN_KEY]) expect(text).not.toContain(secret);
    expect(text).not.toContain("forgedsignature");
  });
});
