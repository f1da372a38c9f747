import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY, START, type TestGateway, startGateway } from "./support/gateway.js";

// The fast path (POST /graphql served straight into the GraphQL pipeline) answers byte for byte what yoga
// answers: one gateway serves with it, one without it (FAST_PATH=false), and every request is sent to both.
let fast: TestGateway;
let yoga: TestGateway;
const keys = new Map<TestGateway, string>();

beforeAll(async () => {
  [fast, yoga] = await Promise.all([startGateway(), startGateway({ env: { FAST_PATH: "false" } })]);
  for (const gw of [fast, yoga]) {
    const created = await gw.gql<any>(`mutation($s: ID!) { createApiKey(input: { serviceSid: $s, name: "k" }) { key } }`, { s: gw.defaultServiceSid });
    keys.set(gw, created.data.createApiKey.key);
  }
});
afterAll(async () => Promise.all([fast?.close(), yoga?.close()]));

interface Answer {
  status: number;
  statusMessage: string;
  headers: string[];
  body: string;
}

/** One raw request: the status line, every header as sent (names as written, but Date), the body's bytes. */
function send(gw: TestGateway, body: string | Buffer, headers: Record<string, string>, path = "/graphql"): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, gw.url), { method: "POST", headers: { "content-length": String(Buffer.byteLength(body)), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (d: Buffer) => chunks.push(d));
      res.on("end", () => {
        const raw: string[] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) if (res.rawHeaders[i].toLowerCase() !== "date") raw.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
        resolve({ status: res.statusCode ?? 0, statusMessage: res.statusMessage ?? "", headers: raw, body: Buffer.concat(chunks).toString("latin1") });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Sids and times differ between the two gateways (same lengths): the rest of the bytes may not. */
const normalized = (answer: Answer): Answer => ({
  ...answer,
  body: answer.body.replace(/\b[A-Z]{2}[0-9a-f]{32}\b/g, "XX00000000000000000000000000000000").replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, "2000-01-01T00:00:00.000Z").replace(/vgc_[\w.-]+/g, "vgc_token"),
});

async function fastPosts(): Promise<number> {
  const text = await (await fetch(`${fast.url}/metrics`)).text();
  return Number(/^verigate_graphql_posts_total\{path="fast"\} (\d+)/m.exec(text)?.[1]);
}

const json = { "content-type": "application/json" };
const admin = { ...json, authorization: `Bearer ${ADMIN_KEY}` };
let phones = 0;
/** A new number per call; a case's body is built once per gateway, so `start` takes the number up front. */
const phone = () => `+1415555${String(1000 + phones++).padStart(4, "0")}`;

interface Case {
  name: string;
  /** Whether the fast path serves it (otherwise it goes on to yoga). */
  fastPath: boolean;
  headers: (gw: TestGateway) => Record<string, string>;
  body: (gw: TestGateway) => string | Buffer;
  path?: string;
}

const body = (query: string, variables?: unknown, extra: Record<string, unknown> = {}) => () => JSON.stringify({ query, variables, ...extra });
const start = (to: string, extra: Record<string, unknown> = {}) => (gw: TestGateway) => JSON.stringify({ query: START, variables: { input: { serviceSid: gw.defaultServiceSid, channel: "SMS", to, ...extra } } });
const deep = `{ services { nodes { ${"verifications { nodes { service { ".repeat(4)} sid ${"} } } ".repeat(4)} } } }`;

const cases: Case[] = [
  { name: "a query without a token", fastPath: true, headers: () => json, body: body("{ __typename }") },
  { name: "a query with the admin key", fastPath: true, headers: () => admin, body: body("{ services { nodes { sid friendlyName codeLength } } }") },
  { name: "startVerification (success)", fastPath: true, headers: () => admin, body: start(phone()) },
  { name: "a domain error (invalid number): masked VerifyError with its extensions", fastPath: true, headers: () => admin, body: start("+1") },
  {
    name: "checkVerification of nothing (NOT_FOUND)",
    fastPath: true,
    headers: () => admin,
    body: (gw) => JSON.stringify({ query: "mutation($i: CheckVerificationInput!) { checkVerification(input: $i) { verification { sid } } }", variables: { i: { serviceSid: gw.defaultServiceSid, to: "+14155550999", code: "123456" } } }),
  },
  { name: "a variable that does not coerce (BAD_USER_INPUT)", fastPath: true, headers: () => admin, body: body("mutation($input: StartVerificationInput!) { startVerification(input: $input) { clientToken } }", { input: { to: 5 } }) },
  { name: "a required variable missing", fastPath: true, headers: () => admin, body: body("mutation($input: StartVerificationInput!) { startVerification(input: $input) { clientToken } }") },
  { name: "a NUL character in a variable", fastPath: true, headers: () => admin, body: start(phone(), { locale: "en\u0000" }) },
  { name: "a NUL character in a literal", fastPath: true, headers: () => admin, body: (gw) => JSON.stringify({ query: `mutation { startVerification(input: { serviceSid: "${gw.defaultServiceSid}", to: "+14155550142", channel: SMS, locale: "fr\\u0000" }) { clientToken } }` }) },
  { name: "no token on a mutation (UNAUTHENTICATED at the door)", fastPath: true, headers: () => json, body: start(phone()) },
  { name: "an unknown token (UNAUTHENTICATED from the context)", fastPath: true, headers: () => ({ ...json, authorization: "Bearer vga_not_a_key_at_all_0123456789" }), body: body("{ services { nodes { sid } } }") },
  { name: "a malformed authorization header", fastPath: true, headers: () => ({ ...json, authorization: "Basic abc" }), body: body("{ __typename }") },
  { name: "an API key calling an admin operation (FORBIDDEN)", fastPath: true, headers: (gw) => ({ ...json, authorization: `Bearer ${keys.get(gw)}` }), body: body('mutation { createService(input: { friendlyName: "x" }) { sid } }') },
  { name: "operationName picks one of two operations", fastPath: true, headers: () => admin, body: body("query A { __typename } query B { services { nodes { sid } } }", null, { operationName: "B", extensions: {} }) },
  { name: "variables and operationName null", fastPath: true, headers: () => admin, body: body("{ __typename }", null, { operationName: null }) },
  { name: "content-type with charset", fastPath: true, headers: () => ({ ...admin, "content-type": "application/json; charset=utf-8" }), body: body("{ __typename }") },
  { name: "Accept: application/json", fastPath: true, headers: () => ({ ...admin, accept: "application/json" }), body: start("+1") },
  { name: "Accept: */*", fastPath: true, headers: () => ({ ...admin, accept: "*/*" }), body: body("{ __typename }") },
  { name: "Accept: application/graphql-response+json (success)", fastPath: true, headers: () => ({ ...admin, accept: "application/graphql-response+json" }), body: body("{ __typename }") },
  { name: "Accept: application/graphql-response+json (domain error)", fastPath: true, headers: () => ({ ...admin, accept: "application/graphql-response+json" }), body: start("+1") },
  { name: "Accept: application/graphql-response+json (variable coercion)", fastPath: true, headers: () => ({ ...admin, accept: "application/graphql-response+json" }), body: body("query($n: Int) { services(first: $n) { nodes { sid } } }", { n: "x" }) },
  { name: "Accept: both JSON types with q-values", fastPath: true, headers: () => ({ ...admin, accept: "application/graphql-response+json, application/json;q=0.9" }), body: body("{ __typename }") },
  { name: "the / alias of /graphql", fastPath: true, path: "/", headers: () => admin, body: body("{ __typename }") },
  { name: "introspection (on in development)", fastPath: true, headers: () => json, body: body("{ __schema { queryType { name } } }") },
  // Handed to yoga: the same answer, by the same code.
  { name: "a validation error (unknown field)", fastPath: false, headers: () => admin, body: body("{ nope }") },
  { name: "too deep (armor)", fastPath: false, headers: () => admin, body: body(deep) },
  { name: "too many aliases (armor)", fastPath: false, headers: () => admin, body: body(`{ ${Array.from({ length: 40 }, (_, i) => `a${i}: __typename`).join(" ")} }`) },
  { name: "too many tokens", fastPath: false, headers: () => admin, body: body(`{ ${"__typename ".repeat(3100)} }`) },
  { name: "a syntax error", fastPath: false, headers: () => admin, body: body("{ services ") },
  { name: "two operations and no operationName", fastPath: false, headers: () => admin, body: body("query A { __typename } query B { __typename }") },
  { name: "bad JSON", fastPath: false, headers: () => admin, body: () => '{"query": ' },
  { name: "a batch (array)", fastPath: false, headers: () => admin, body: () => JSON.stringify([{ query: "{ __typename }" }]) },
  { name: "an unknown parameter", fastPath: false, headers: () => admin, body: body("{ __typename }", null, { foo: 1 }) },
  { name: "query not a string", fastPath: false, headers: () => admin, body: () => JSON.stringify({ query: 1 }) },
  { name: "variables an array", fastPath: false, headers: () => admin, body: () => JSON.stringify({ query: "{ __typename }", variables: [] }) },
  { name: "a browser (Origin: CORS headers)", fastPath: false, headers: () => ({ ...admin, origin: "https://app.example.com" }), body: body("{ __typename }") },
  { name: "Accept: text/event-stream", fastPath: false, headers: () => ({ ...admin, accept: "text/event-stream" }), body: body("{ __typename }") },
  { name: "Accept: text/html only (406)", fastPath: false, headers: () => ({ ...admin, accept: "text/html" }), body: body("{ __typename }") },
  { name: "content-type application/graphql+json", fastPath: false, headers: () => ({ ...admin, "content-type": "application/graphql+json" }), body: body("{ __typename }") },
  { name: "content-type text/plain (415)", fastPath: false, headers: () => ({ ...admin, "content-type": "text/plain" }), body: body("{ __typename }") },
  { name: "a body with a BOM", fastPath: false, headers: () => admin, body: () => `\ufeff${JSON.stringify({ query: "{ __typename }" })}` },
  { name: "a body that is not UTF-8", fastPath: false, headers: () => admin, body: () => Buffer.concat([Buffer.from('{"query":"{ __typename }","extensions":{"x":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}}')]) },
  { name: "an empty body", fastPath: false, headers: () => admin, body: () => "" },
  { name: "a subscription over plain POST", fastPath: false, headers: () => admin, body: body('subscription { verificationUpdated(sid: "VE00000000000000000000000000000000") { status } }') },
];

describe("the fast path answers exactly what yoga answers", () => {
  it.each(cases)("$name", async (c) => {
    const before = await fastPosts();
    const viaFast = await send(fast, c.body(fast), c.headers(fast), c.path);
    expect(await fastPosts()).toBe(before + (c.fastPath ? 1 : 0));
    const viaYoga = await send(yoga, c.body(yoga), c.headers(yoga), c.path);
    expect(normalized(viaFast)).toEqual(normalized(viaYoga));
  });

  it("writes the same rows and events", async () => {
    const before = await Promise.all([fast.counts(), yoga.counts()]);
    const to = phone();
    for (const gw of [fast, yoga]) await send(gw, start(to)(gw), admin);
    await Promise.all([fast.app.dispatcher.idle(), yoga.app.dispatcher.idle()]);
    const after = await Promise.all([fast.counts(), yoga.counts()]);
    const delta = (a: Record<string, number>, b: Record<string, number>) => Object.fromEntries(Object.keys(a).map((k) => [k, a[k] - (b[k] ?? 0)]));
    expect(delta(after[0], before[0])).toEqual(delta(after[1], before[1]));
  });
});
