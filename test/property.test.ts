import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../src/domain/clock.js";
import { errorCodes } from "../src/domain/errors.js";
import { deviceToken, generateDeviceKey } from "../src/client/device/kit.js";
import { START, type TestGateway, startGateway } from "./support/gateway.js";
import { startHttpPeer } from "./support/peers.js";

// Random and hostile input at every mutation, through the real server: each answer is a success or an
// error with a stable code (never "Unexpected error."), and an error leaves every table as it was.

const STABLE = new Set<string>([...Object.keys(errorCodes), "BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED"]);
/** Refusals that are themselves a record: a Fraud Guard block writes the block and its event. */
const WRITES_ON_ERROR: Record<string, string[]> = {
  FRAUD_BLOCKED: ["fraud_blocks", "events", "webhook_deliveries", "outbox"],
  // The fifth failed answer denies the challenge: a state change subscribers and webhooks hear about.
  TOO_MANY_ATTEMPTS: ["events", "webhook_deliveries", "outbox"],
  // Every failed answer is a security event (challenge.answer_failed, factor.verification_failed).
  CHALLENGE_VERIFICATION_FAILED: ["events", "webhook_deliveries", "outbox"],
  FACTOR_VERIFICATION_FAILED: ["events", "webhook_deliveries", "outbox"],
};
const RUNS = Number(process.env.PROPERTY_RUNS ?? 60);

let gw: TestGateway;
let hookPeer: Awaited<ReturnType<typeof startHttpPeer>>;
const pool: Record<string, string[]> = { VA: [], VE: [], SK: [], YF: [], YC: [], WH: [], FB: [], KEY: [], JWT: [] };

beforeAll(async () => {
  hookPeer = await startHttpPeer(() => ({ status: 200 }));
  // A still clock: no retry or expiry runs in the background between two row counts.
  gw = await startGateway({ clock: new ManualClock(Date.now()), env: { PROVIDER_TIMEOUT_MS: "500" } });
  const must = async (query: string, variables: Record<string, unknown>) => {
    const r = await gw.gql(query, variables);
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return r.data!;
  };
  pool.VA.push(gw.defaultServiceSid);
  pool.VA.push((await must(`mutation { createService(input: { friendlyName: "Other", psd2Enabled: true, customCodeEnabled: true }) { sid } }`, {})).createService.sid);
  pool.VE.push((await must(START, { input: { serviceSid: gw.defaultServiceSid, to: "+14155550101", channel: "SMS" } })).startVerification.verification.sid);
  pool.SK.push((await must(`mutation($s: ID!) { createApiKey(input: { serviceSid: $s }) { apiKey { sid } } }`, { s: gw.defaultServiceSid })).createApiKey.apiKey.sid);
  pool.YF.push((await must(`mutation($s: ID!) { createFactor(input: { serviceSid: $s, identity: "ada", friendlyName: "Ada's key", factorType: PASSKEY }) { factor { sid } } }`, { s: gw.defaultServiceSid })).createFactor.factor.sid);
  pool.YC.push((await must(`mutation($s: ID!) { createChallenge(input: { serviceSid: $s, factorType: PASSKEY }) { challenge { sid } } }`, { s: gw.defaultServiceSid })).createChallenge.challenge.sid);
  // A push factor (with its key and a proof) and a TOTP factor, and a challenge of each.
  const device = await generateDeviceKey();
  pool.KEY.push(device.publicKey);
  const push = (await must(`mutation($s: ID!, $k: String!) { createFactor(input: { serviceSid: $s, identity: "ada", friendlyName: "Ada's phone", factorType: PUSH, push: { publicKey: $k, silentApproval: true } }) { factor { sid } } }`, { s: gw.defaultServiceSid, k: device.publicKey })).createFactor.factor.sid;
  const proof = await deviceToken(push, device, { now: Date.now() });
  pool.JWT.push(proof);
  await must(`mutation($sid: ID!, $p: String!) { verifyFactor(input: { sid: $sid, authPayload: $p }) { sid } }`, { sid: push, p: proof });
  pool.YF.push(push);
  pool.YF.push((await must(`mutation($s: ID!) { createFactor(input: { serviceSid: $s, identity: "ada", friendlyName: "Ada's app", factorType: TOTP }) { factor { sid } } }`, { s: gw.defaultServiceSid })).createFactor.factor.sid);
  pool.YC.push((await must(`mutation($s: ID!, $f: ID!) { createChallenge(input: { serviceSid: $s, factorSid: $f, details: { message: "m" } }) { challenge { sid } } }`, { s: gw.defaultServiceSid, f: push })).createChallenge.challenge.sid);
  pool.WH.push((await must(`mutation($s: ID!, $u: String!) { createWebhook(input: { serviceSid: $s, url: $u, eventTypes: ["*"] }) { webhook { sid } } }`, { s: gw.defaultServiceSid, u: hookPeer.url })).createWebhook.webhook.sid);
  await gw.app.dispatcher.idle();
});
afterAll(async () => {
  await gw.close();
  await hookPeer.close();
});

// ---- arbitraries -------------------------------------------------------------------------------
const hostile = fc.constantFrom(
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "'; drop table services; --",
  "<script>alert(1)</script>",
  "a".repeat(5000),
  "+14155552671",
  "+33612345678",
  "+19005550123",
  "+1415555",
  "+92300123" + "4567",
  "ada@example.com",
  "Ada@EXAMPLE.com",
  "%00%ff",
  "${7*7}{{7*7}}",
  "../../etc/passwd",
  "\u202egnp.exe",
  "😀".repeat(40),
  "9".repeat(40),
  "-1",
  "NaN",
  "null",
  "verification.*",
  "https://127.0.0.1:1/hook",
  "whsec_AAAA",
  "203.0.113.9",
  "::1",
  `VA${"0".repeat(32)}`,
);
const str = fc.oneof({ weight: 3, arbitrary: hostile }, { weight: 2, arbitrary: fc.string({ maxLength: 40 }) }, { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) });
const int = fc.oneof(fc.integer({ min: -10, max: 200 }), fc.integer(), fc.constantFrom(0, 4, 10, 3600, 2_147_483_647));
const json = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.dictionary(fc.string({ maxLength: 12 }), str, { maxKeys: 4 }));
const hex32 = fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 32, maxLength: 32 });
const sid = (prefix: string) => fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...(pool[prefix].length ? pool[prefix] : [`${prefix}${"0".repeat(32)}`])) }, hex32.map((h) => prefix + h), str);
const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 3 });
const list = <T>(arb: fc.Arbitrary<T>) => fc.array(arb, { maxLength: 4 });
const phone = fc.oneof(str, fc.integer({ min: 2_000_000, max: 9_999_999 }).map((n) => `+1415${n}`), fc.constantFrom("+33612345678", "+4915112345678", "+442079460018"));
const channel = fc.constantFrom("SMS", "WHATSAPP", "CALL", "EMAIL", "SNA", "AUTO");
const bucket = fc.record({ max: int, interval: int });
const serviceSettings = {
  friendlyName: opt(str),
  codeLength: opt(int),
  ttlSeconds: opt(int),
  maxCheckAttempts: opt(int),
  maxSendAttempts: opt(int),
  customCodeEnabled: opt(fc.boolean()),
  psd2Enabled: opt(fc.boolean()),
  lookupEnabled: opt(fc.boolean()),
  skipSmsToLandlines: opt(fc.boolean()),
  defaultLocale: opt(str),
  channels: opt(list(channel)),
  fraudGuard: opt(fc.constantFrom("OFF", "BASIC", "STANDARD", "MAX")),
  testNumbers: opt(list(fc.record({ to: phone, code: str }))),
  rateLimits: opt(fc.record({ perTo: opt(list(bucket)), perIp: opt(list(bucket)), perService: opt(list(bucket)), named: opt(list(fc.record({ uniqueName: str, description: opt(str), buckets: list(bucket) }))) })),
  geoPermissions: opt(list(fc.record({ channel: fc.constantFrom("SMS", "CALL", "WHATSAPP"), allowedCountries: list(fc.oneof(str, fc.constantFrom("US", "fr", "DE"))) }))),
  safeList: opt(list(phone)),
  blockPremiumNumbers: opt(fc.boolean()),
  webOtpDomain: opt(str),
  passkeys: opt(fc.record({ rpId: opt(str), rpName: opt(str), origins: opt(list(str)), authenticatorAttachment: opt(str), residentKey: opt(str), userVerification: opt(str) })),
  totp: opt(fc.record({ issuer: opt(str), timeStep: opt(int), codeLength: opt(int), skew: opt(int), algorithm: opt(fc.constantFrom("SHA1", "SHA256", "SHA512")) })),
};
const totpSettings = fc.record({ timeStep: opt(int), codeLength: opt(int), skew: opt(int), algorithm: opt(fc.constantFrom("SHA1", "SHA256", "SHA512")) });
const pushSettings = fc.record({
  publicKey: fc.oneof(str, fc.constant("KEY").map(() => pool.KEY[0])),
  alg: opt(fc.oneof(str, fc.constant("ES256"))),
  notificationPlatform: opt(fc.constantFrom("WEBPUSH", "FCM", "APN", "NONE")),
  notificationToken: opt(str),
  webPushSubscription: opt(fc.oneof(json, fc.record({ endpoint: fc.oneof(str, fc.webUrl()), keys: fc.record({ p256dh: str, auth: str }) }))),
  silentApproval: opt(fc.boolean()),
});
const authPayload = fc.oneof(str, fc.constant("JWT").map(() => pool.JWT[0]), fc.constant("eyJhbGciOiJFUzI1NiJ9.e30.AAAA"));

interface MutationSpec {
  name: string;
  query: string;
  /** Input fields and what to throw at each. */
  fields: Record<string, fc.Arbitrary<unknown>>;
  /** A valid input: most runs replace one field of it, so the hostile value reaches deep into the domain. */
  base?: () => Record<string, unknown>;
  /** Mutations that take a bare `sid` instead of an input object. */
  bare?: boolean;
}

const serviceFields = (sidField: boolean) => ({ ...serviceSettings, ...(sidField ? { sid: sid("VA") } : { friendlyName: str }) });
let phoneSeq = 0;
const validPhone = () => `+1415${2_000_000 + ((phoneSeq++ * 7919) % 7_000_000)}`;

const specs: MutationSpec[] = [
  { name: "createService", query: `mutation($input: CreateServiceInput!) { createService(input: $input) { sid } }`, fields: serviceFields(false), base: () => ({ friendlyName: "Shop" }) },
  { name: "updateService", query: `mutation($input: UpdateServiceInput!) { updateService(input: $input) { sid } }`, fields: serviceFields(true), base: () => ({ sid: pool.VA[1] }) },
  { name: "createApiKey", query: `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key } }`, fields: { serviceSid: sid("VA"), name: str }, base: () => ({ serviceSid: pool.VA[0], name: "k" }) },
  { name: "revokeApiKey", query: `mutation($sid: ID!) { revokeApiKey(sid: $sid) { sid } }`, fields: { sid: sid("SK") }, bare: true },
  {
    name: "startVerification",
    query: START,
    fields: {
      serviceSid: sid("VA"),
      to: phone,
      channel,
      locale: str,
      customFriendlyName: str,
      customCode: str,
      amount: str,
      payee: str,
      appHash: str,
      deviceIp: str,
      enableSnaClientToken: fc.boolean(),
      tags: json,
      riskCheck: fc.constantFrom("ENABLE", "DISABLE"),
      rateLimits: json,
    },
    base: () => ({ serviceSid: pool.VA[0], to: validPhone(), channel: "SMS" }),
  },
  {
    name: "checkVerification",
    query: `mutation($input: CheckVerificationInput!) { checkVerification(input: $input) { verification { sid status } } }`,
    fields: { serviceSid: sid("VA"), to: phone, verificationSid: sid("VE"), code: fc.oneof(str, fc.integer({ min: 0, max: 999_999 }).map(String)), amount: str, payee: str, snaClientToken: str },
    base: () => ({ serviceSid: pool.VA[0], verificationSid: pool.VE[0], code: "000000" }),
  },
  { name: "updateVerification", query: `mutation($input: UpdateVerificationInput!) { updateVerification(input: $input) { sid } }`, fields: { sid: sid("VE"), status: fc.constantFrom("CANCELED", "APPROVED") } },
  {
    name: "createFactor",
    query: `mutation($input: CreateFactorInput!) { createFactor(input: $input) { factor { sid } } }`,
    fields: { serviceSid: sid("VA"), identity: str, friendlyName: str, factorType: fc.constantFrom("PASSKEY", "TOTP", "PUSH"), push: pushSettings, totp: totpSettings, metadata: json },
    base: () => ({ serviceSid: pool.VA[0], identity: "grace", friendlyName: "Grace's key", factorType: "PASSKEY" }),
  },
  {
    name: "verifyFactor",
    query: `mutation($input: VerifyFactorInput!) { verifyFactor(input: $input) { sid } }`,
    fields: { sid: sid("YF"), passkeyResponse: json, code: fc.oneof(str, fc.integer({ min: 0, max: 999_999 }).map(String)), authPayload },
    base: () => ({ sid: pool.YF[2] }),
  },
  {
    name: "createAccessToken",
    query: `mutation($input: CreateAccessTokenInput!) { createAccessToken(input: $input) { token } }`,
    fields: { serviceSid: sid("VA"), identity: str, factorType: fc.constantFrom("PASSKEY", "TOTP", "PUSH"), ttlSeconds: int },
    base: () => ({ serviceSid: pool.VA[0], identity: "grace", factorType: "PUSH" }),
  },
  { name: "deleteFactor", query: `mutation($sid: ID!) { deleteFactor(sid: $sid) { sid } }`, fields: { sid: fc.oneof(hex32.map((h) => `YF${h}`), str) }, bare: true },
  {
    name: "createChallenge",
    query: `mutation($input: CreateChallengeInput!) { createChallenge(input: $input) { challenge { sid } } }`,
    fields: {
      serviceSid: sid("VA"),
      identity: str,
      factorSid: sid("YF"),
      factorType: fc.constantFrom("PASSKEY", "TOTP", "PUSH"),
      details: fc.record({ message: str, fields: opt(list(fc.record({ label: str, value: str }))) }),
      hiddenDetails: json,
      expiresInSeconds: int,
      silent: fc.boolean(),
      fallback: fc.record({ channel: fc.constantFrom("SMS", "WHATSAPP", "CALL", "EMAIL"), to: phone, afterSeconds: opt(int) }),
    },
    base: () => (Math.random() < 0.5 ? { serviceSid: pool.VA[0], factorType: "PASSKEY" } : { serviceSid: pool.VA[0], factorSid: pool.YF[1], details: { message: "Sign in?" }, silent: true }),
  },
  {
    name: "updateChallenge",
    query: `mutation($input: UpdateChallengeInput!) { updateChallenge(input: $input) { sid } }`,
    fields: { sid: sid("YC"), passkeyResponse: json, code: fc.oneof(str, fc.integer({ min: 0, max: 999_999 }).map(String)), authPayload },
    base: () => ({ sid: pool.YC[Math.random() < 0.5 ? 0 : 1] }),
  },
  {
    name: "createWebhook",
    query: `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { sid } } }`,
    fields: { serviceSid: sid("VA"), url: fc.oneof(str, fc.webUrl()), eventTypes: list(fc.oneof(str, fc.constantFrom("verification.*", "delivery.sent", "*", "fraud_guard.*"))), enabled: fc.boolean() },
    base: () => ({ serviceSid: pool.VA[1], url: hookPeer.url, eventTypes: ["factor.*"] }),
  },
  {
    name: "updateWebhook",
    query: `mutation($input: UpdateWebhookInput!) { updateWebhook(input: $input) { sid } }`,
    fields: { sid: sid("WH"), url: fc.oneof(str, fc.webUrl()), eventTypes: list(fc.oneof(str, fc.constantFrom("factor.*", "challenge.approved"))), enabled: fc.boolean() },
    base: () => ({ sid: pool.WH[0] }),
  },
  { name: "deleteWebhook", query: `mutation($sid: ID!) { deleteWebhook(sid: $sid) { sid } }`, fields: { sid: fc.oneof(hex32.map((h) => `WH${h}`), str) }, bare: true },
  { name: "liftFraudBlock", query: `mutation($sid: ID!) { liftFraudBlock(sid: $sid) { sid } }`, fields: { sid: sid("FB") }, bare: true },
];

/** Variables: one hostile field in a valid input, or every field random (some missing). */
function variablesOf(spec: MutationSpec): fc.Arbitrary<Record<string, unknown>> {
  if (spec.bare) return fc.record(spec.fields);
  const random = fc.record(Object.fromEntries(Object.entries(spec.fields).map(([k, arb]) => [k, opt(arb)])));
  const base = spec.base;
  if (!base) return fc.record({ input: random });
  const targeted = fc.constantFrom(...Object.keys(spec.fields)).chain((field) => spec.fields[field].map((value) => ({ ...base(), [field]: value })));
  return fc.record({ input: fc.oneof({ weight: 3, arbitrary: targeted }, { weight: 1, arbitrary: random }) });
}

describe("every mutation under random and hostile input", () => {
  it.each(specs.map((m) => [m.name, m] as const))("%s answers a stable code or a success, and an error writes nothing", async (_name, mutation) => {
    await fc.assert(
      fc.asyncProperty(variablesOf(mutation), async (variables) => {
        await gw.app.dispatcher.idle();
        const before = await gw.counts();
        const response = await gw.gql(mutation.query, variables);
        await gw.app.dispatcher.idle();
        const after = await gw.counts();
        if (!response.errors) {
          expect(response.data).toBeTruthy();
          return;
        }
        for (const error of response.errors) {
          expect(error.message).not.toBe("Unexpected error.");
          expect(STABLE.has(error.extensions?.code)).toBe(true);
        }
        const allowed = new Set(WRITES_ON_ERROR[response.errors[0].extensions?.code] ?? []);
        for (const table of Object.keys(before)) if (!allowed.has(table)) expect({ table, rows: after[table] }).toEqual({ table, rows: before[table] });
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
  });

  it("a NUL character anywhere (variable or literal) is INVALID_PARAMETER naming the field, on both stores", async () => {
    const before = await gw.counts();
    const r = await gw.gql(`mutation($input: CreateFactorInput!) { createFactor(input: $input) { factor { sid } } }`, { input: { serviceSid: pool.VA[0], identity: "a\u0000b", friendlyName: "k", factorType: "PASSKEY" } });
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: "INVALID_PARAMETER", field: "identity" });
    const literal = await gw.gql(`mutation { createApiKey(input: { serviceSid: "${pool.VA[0]}", name: "x\\u0000y" }) { key } }`);
    expect(literal.errors?.[0]?.extensions).toMatchObject({ code: "INVALID_PARAMETER" });
    expect(await gw.counts()).toEqual(before);
  });

  it("the gateway logged no unexpected failure", () => {
    const failures = gw.logs().split("\n").filter((line) => line.includes('"msg":"request failed"'));
    expect(failures.slice(0, 1)).toEqual([]);
  });
});
