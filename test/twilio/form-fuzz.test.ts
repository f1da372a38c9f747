import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY } from "../support/gateway.js";
import { validateResponse } from "./openapi.js";
import { ACCOUNT_SID, type TwilioGateway, twilioGateway } from "./support.js";

// The form parser under fire, over real HTTP with Basic auth as Twilio's SDKs send it: repeated keys,
// missing and mistyped parameters, bad JSON, unknown parameters, 1 MB values, garbage bytes, broken
// percent-encoding and wrong content types. Never a 500: always Twilio's error body or a success the spec
// describes, and a refused start or create writes nothing.
let t: TwilioGateway;
let serviceSid: string;
const auth = `Basic ${Buffer.from(`${ACCOUNT_SID}:${ADMIN_KEY}`).toString("base64")}`;
const MB = 1024 * 1024;

beforeAll(async () => {
  // Bodies up to 4 MiB are read, so a 1 MB value reaches the parser (past the cap: 413, tested below).
  t = await twilioGateway({ env: { MAX_BODY_BYTES: String(4 * MB) } });
  serviceSid = (await t.admin.verify.v2.services.create({ friendlyName: "Fuzzed" })).sid;
});
afterAll(() => t?.close());

interface Answer {
  status: number;
  body: unknown;
}

/** One raw request; its answer checked against Twilio's spec (a 5xx fails at once). */
async function send(method: string, path: string, options: { query?: string; body?: string | Uint8Array; contentType?: string | null } = {}): Promise<Answer> {
  const headers: Record<string, string> = { authorization: auth };
  if (options.contentType !== null) headers["content-type"] = options.contentType ?? "application/x-www-form-urlencoded";
  const response = await fetch(`${t.gw.url}${path}${options.query ? `?${options.query}` : ""}`, { method, headers, body: typeof options.body === "object" ? new Uint8Array(options.body) : options.body });
  const text = await response.text();
  let body: unknown;
  try {
    body = text === "" ? undefined : JSON.parse(text);
  } catch {
    throw new Error(`${method} ${path} answered ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
  if (response.status >= 500) throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 500)}`);
  validateResponse(method, new URL(`${t.gw.url}${path}`).pathname, response.status, body);
  return { status: response.status, body };
}

const written = async () => {
  const c = await t.gw.counts();
  return { services: c.services, verifications: c.verifications, send_attempts: c.send_attempts, webhooks: c.webhooks };
};

// ── what goes into a form ────────────────────────────────────────────────────────────────────────
const long = (n: number) => fc.constant("x".repeat(n));
const junk = fc.oneof(
  fc.constantFrom("", " ", "true", "false", "TRUE", "yes", "1", "0", "-1", "1.5", "1e3", "99999999999999999999", "NaN", "null", "[]", "{}", "{", '{"a":', "[1,2]", '"s"'),
  fc.constantFrom('{"perTo":[{"max":"x"}]}', '{"__proto__":{"polluted":true}}', '{"constructor":{"prototype":{}}}', `{"a":${"[".repeat(500)}${"]".repeat(500)}}`),
  fc.constantFrom("+14155550100", "+1415555", "+999", "someone@example.com", "not an address", "sms", "SMS", "email", "call", "whatsapp", "sna", "auto", "carrier-pigeon"),
  fc.constantFrom("en", "pt-BR", "zz-ZZ-ZZZZZZZZZZ", "<script>", "%00", "\u0000", "\uFFFD", "\uD800", "platform", "cross-platform", "required", "https://a.example,https://b.example", ","),
  fc.constantFrom(`VE${"0".repeat(32)}`, `VA${"f".repeat(32)}`, "VE", "2024-01-31T12:00:00Z", "1970-01-01", "2024-02-30T25:61:61Z", "+1", "+57305", "CO", "converted", "UNCONVERTED", "c2VxOjE", "c2VxOi0x"),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  long(4097),
  long(70_000),
);
const startNames = [
  "To",
  "Channel",
  "CustomFriendlyName",
  "CustomMessage",
  "SendDigits",
  "Locale",
  "CustomCode",
  "Amount",
  "Payee",
  "RateLimits",
  "ChannelConfiguration",
  "AppHash",
  "TemplateSid",
  "TemplateCustomSubstitutions",
  "DeviceIp",
  "EnableSnaClientToken",
  "RiskCheck",
  "Tags",
];
const serviceNames = ["FriendlyName", "CodeLength", "LookupEnabled", "SkipSmsToLandlines", "DtmfInputRequired", "TtsName", "Psd2Enabled", "DoNotShareWarningEnabled", "CustomCodeEnabled", "Push.IncludeDate", "Totp.Issuer", "Totp.TimeStep", "Totp.CodeLength", "Totp.Skew", "DefaultTemplateSid", "Passkeys.RelyingParty.Id", "Passkeys.RelyingParty.Name", "Passkeys.RelyingParty.Origins", "Passkeys.AuthenticatorAttachment", "Passkeys.DiscoverableCredentials", "Passkeys.UserVerification", "VerifyEventSubscriptionEnabled"];
const checkNames = ["To", "Code", "VerificationSid", "Amount", "Payee", "SnaClientToken"];
const listNames = ["PageSize", "Page", "PageToken", "DateCreatedAfter", "DateCreatedBefore", "ChannelData.To", "Country", "Channel", "VerifyServiceSid", "VerificationSid", "Status", "DestinationPrefix"];

const pairs = (names: string[], base: [string, string][] = []) =>
  fc
    .tuple(
      fc.subarray(base),
      fc.array(fc.tuple(fc.oneof(fc.constantFrom(...names), fc.string({ maxLength: 12 })), junk), { maxLength: 6 }),
      // Repeated keys: a known parameter given again.
      fc.array(fc.constantFrom(...names), { maxLength: 2 }),
    )
    .map(([kept, extra, again]) => [...kept, ...extra, ...again.map((n) => [n, "again"] as [string, string])]);

const encoded = (list: [string, string][]) => new URLSearchParams(list).toString();

/** A form, or bytes that are not one: garbage, broken percent-encoding, a JSON body. */
const body = (names: string[], base: [string, string][]) =>
  fc.oneof(
    { weight: 6, arbitrary: pairs(names, base).map(encoded) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) },
    { weight: 1, arbitrary: fc.constantFrom("%", "%zz", "To=%E0%A4%A", "To=%FF%FE&Channel=sms", "=&=&&==", "To", "&&&", "To=+14155550100&Channel=%73ms%") },
    { weight: 1, arbitrary: pairs(names, base).map((list) => JSON.stringify(Object.fromEntries(list))) },
  );
const contentType = fc.constantFrom<string | null>("application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=utf-8", "application/json", "text/plain", "multipart/form-data; boundary=x", null);

const phones = Array.from({ length: 40 }, (_, i) => `+1415557${String(1000 + i)}`);

describe("the REST form parser, fuzzed over HTTP", () => {
  it("a bad Authorization header answers 401 / 20003 in REST's words, before any parameter is read", async () => {
    for (const header of ["Basic !!!!", `Basic ${Buffer.from("SKxx").toString("base64")}`, `Basic ${Buffer.from(":").toString("base64")}`, "Bearer nope", "Digest x"]) {
      const response = await fetch(`${t.gw.url}/v2/Services?PageSize=ten`, { headers: { authorization: header } });
      const body = await response.json();
      validateResponse("GET", "/v2/Services", response.status, body);
      expect(body).toMatchObject({ status: 401, code: 20003 });
      expect(body.message).toContain("HTTP Basic");
    }
  });

  it("POST Verifications: never a 500; a refused start writes nothing", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...phones), body(startNames, []), contentType, async (to, raw, type) => {
        // Half of the cases start from a valid start and break it.
        const form = typeof raw === "string" && raw.length > 0 && !raw.startsWith("{") ? `To=${encodeURIComponent(to)}&Channel=sms&${raw}` : raw;
        const before = await written();
        const answer = await send("POST", `/v2/Services/${serviceSid}/Verifications`, { body: form, contentType: type });
        if (answer.status >= 400) expect(await written()).toEqual(before);
        else expect(answer.status).toBe(201);
      }),
      { numRuns: 150 },
    );
  }, 120_000);

  it("POST Services: never a 500; a refused create writes nothing", async () => {
    await fc.assert(
      fc.asyncProperty(body(serviceNames, [["FriendlyName", "Fuzz"]]), contentType, async (raw, type) => {
        const before = await written();
        const answer = await send("POST", "/v2/Services", { body: raw, contentType: type });
        if (answer.status >= 400) expect(await written()).toEqual(before);
        else expect(answer.status).toBe(201);
      }),
      { numRuns: 120 },
    );
  }, 120_000);

  it("POST Services/{sid} (update) and VerificationCheck: never a 500", async () => {
    await fc.assert(
      fc.asyncProperty(body(serviceNames, []), body(checkNames, [["To", phones[0]]]), contentType, async (update, check, type) => {
        await send("POST", `/v2/Services/${serviceSid}`, { body: update, contentType: type });
        const before = await written();
        const answer = await send("POST", `/v2/Services/${serviceSid}/VerificationCheck`, { body: check, contentType: type });
        if (answer.status >= 400) expect(await written()).toEqual(before);
      }),
      { numRuns: 120 },
    );
  }, 120_000);

  it("GET lists and Attempts/Summary: never a 500 whatever the query", async () => {
    const paths = ["/v2/Services", "/v2/Attempts", "/v2/Attempts/Summary", `/v2/Services/${serviceSid}`];
    const brokenQuery = fc.constantFrom("PageSize=%", "PageToken=%zz", "Page=%E0%A4%A", "PageSize=1&PageSize=2", "DateCreatedAfter=2024-13-45T99:99:99Z", "PageToken=c2VxOjE", "PageToken=c2VxOi0x", "PageSize=0", "PageSize=1001", "Page=-1");
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), fc.oneof(pairs(listNames).map(encoded), brokenQuery), async (path, query) => {
        // A query string travels in the request line: Node caps headers at 16 KiB (431 before any route).
        await send("GET", path, { query: query.length > 8000 ? query.slice(0, 8000) : query, contentType: null });
      }),
      { numRuns: 150 },
    );
  }, 120_000);

  it("1 MB values: a known parameter is refused 60200, an unknown one ignored; past the body cap 413", async () => {
    const huge = "9".repeat(MB);
    const before = await written();
    const known = await send("POST", `/v2/Services/${serviceSid}/Verifications`, { body: `To=${huge}&Channel=sms` });
    expect(known).toMatchObject({ status: 400, body: { code: 60200 } });
    const json = await send("POST", `/v2/Services/${serviceSid}/Verifications`, { body: `To=${encodeURIComponent(phones[39])}&Channel=sms&RateLimits=${huge}` });
    expect(json).toMatchObject({ status: 400, body: { code: 60200 } });
    expect(await written()).toEqual(before);
    const unknown = await send("POST", "/v2/Services", { body: `FriendlyName=Big&Whatever=${huge}` });
    expect(unknown.status).toBe(201);
    const tooBig = await send("POST", "/v2/Services", { body: `FriendlyName=Big&Whatever=${"x".repeat(5 * MB)}` }).catch((e) => e);
    // The server answers 413 and closes without reading the rest: the client sees the 413 or a reset.
    if (!(tooBig instanceof Error)) expect(tooBig).toMatchObject({ status: 413, body: { status: 413 } });
  }, 60_000);

  it("repeated keys, missing and mistyped parameters answer Twilio's codes", async () => {
    const start = (form: string) => send("POST", `/v2/Services/${serviceSid}/Verifications`, { body: form });
    expect(await start("Channel=sms")).toMatchObject({ status: 400, body: { code: 20001 } });
    expect(await start(`To=${encodeURIComponent(phones[38])}&To=${encodeURIComponent(phones[37])}&Channel=sms`)).toMatchObject({ status: 400, body: { code: 60200 } });
    expect(await start(`To=${encodeURIComponent(phones[38])}&Channel=sms&Tags={`)).toMatchObject({ status: 400, body: { code: 60200 } });
    expect(await start(`To=${encodeURIComponent(phones[38])}&Channel=sms&EnableSnaClientToken=maybe`)).toMatchObject({ status: 400, body: { code: 60200 } });
    expect(await send("POST", "/v2/Services", { body: "FriendlyName=Typed&CodeLength=six" })).toMatchObject({ status: 400, body: { code: 60200 } });
    expect(await send("POST", "/v2/Services", { body: "FriendlyName=Typed&RateLimits=[]&Unknown=1" })).toMatchObject({ status: 201 });
    expect(await send("GET", "/v2/Services", { query: "PageSize=ten", contentType: null })).toMatchObject({ status: 400, body: { code: 60200 } });
    const token = await send("GET", "/v2/Attempts", { query: "PageToken=zz", contentType: null });
    expect(token).toMatchObject({ status: 400, body: { code: 60200 } });
    expect((token.body as { message: string }).message).toContain("PageToken");
  });
});
