import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DeviceKey, deviceToken, generateDeviceKey } from "../src/client/device/kit.js";
import { accessRules } from "../src/domain/access/rules.js";
import { ADMIN_KEY, type GraphQLResponse, type TestGateway, startGateway, subscribeWs } from "./support/gateway.js";

// Every operation of the schema × every kind of token of two services (API.md "Authentication"):
// each cell is one real request, and its answer is what the contract says. Resources are service A's;
// "Other" columns are service B's tokens of the same kind, so out-of-scope is proven beside in-scope.
const columns = [
  "admin",
  "keyOwn",
  "keyOther",
  "clientVerification",
  "clientVerificationOther",
  "clientChallenge",
  "clientChallengeOther",
  "access",
  "device",
  "deviceUnverified",
  "deviceOther",
  "anonymous",
] as const;
type Column = (typeof columns)[number];
/** allowed: answered with data; none: null or an empty list (unknown-looking); the rest are error codes. */
type Outcome = "allowed" | "none" | "FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED";

interface World {
  serviceA: string;
  serviceB: string;
  tokens: Record<Exclude<Column, "anonymous">, string>;
  verificationA: string;
  challengeA: string;
  factorA: string;
  unverifiedFactorA: string;
  webhookA: string;
  templateA: string;
}

interface Cell {
  variables: Record<string, unknown>;
  /** A token of the column's kind bound to a fresh resource (the cell would otherwise consume the shared one). */
  token?: string;
}

interface Case {
  kind: "query" | "mutation" | "subscription";
  document: string;
  /** Outcomes that differ from the default: admin allowed, anonymous UNAUTHENTICATED, every other FORBIDDEN. */
  grants: Partial<Record<Column, Outcome>>;
  cell: (world: World, column: Column) => Promise<Cell> | Cell;
}

let gw: TestGateway;
let world: World;
let counter = 0;
const phone = () => `+1415${String(5_550_000 + (counter++ % 10_000)).padStart(7, "0")}`;

const must = async <T = any>(query: string, variables: Record<string, unknown> = {}, token: string = ADMIN_KEY): Promise<T> => {
  const response = await gw.gql<any>(query, variables, token);
  if (response.errors) throw new Error(`${query}: ${JSON.stringify(response.errors)}`);
  return response.data as T;
};

async function service(name: string) {
  const { createService } = await must(`mutation($n: String!) { createService(input: { friendlyName: $n, fraudGuard: OFF }) { sid } }`, { n: name });
  const { createApiKey } = await must(`mutation($s: ID!) { createApiKey(input: { serviceSid: $s, name: "k" }) { key } }`, { s: createService.sid });
  return { sid: createService.sid as string, key: createApiKey.key as string };
}

async function startVerification(serviceSid: string) {
  const { startVerification } = await must(`mutation($i: StartVerificationInput!) { startVerification(input: $i) { verification { sid } clientToken } }`, {
    i: { serviceSid, to: phone(), channel: "SMS" },
  });
  return { sid: startVerification.verification.sid as string, token: startVerification.clientToken as string };
}

async function pushFactor(serviceSid: string, verified: boolean): Promise<{ sid: string; key: DeviceKey; token: string }> {
  const key = await generateDeviceKey();
  const { createFactor } = await must(`mutation($i: CreateFactorInput!) { createFactor(input: $i) { factor { sid } } }`, {
    i: { serviceSid, identity: "alice", friendlyName: "phone", factorType: "PUSH", push: { publicKey: key.publicKey } },
  });
  const sid = createFactor.factor.sid as string;
  if (verified) await must(`mutation($i: VerifyFactorInput!) { verifyFactor(input: $i) { status } }`, { i: { sid, authPayload: await deviceToken(sid, key) } });
  return { sid, key, token: await deviceToken(sid, key, { ttlSeconds: 600 }) };
}

async function challenge(serviceSid: string, factorSid: string) {
  const { createChallenge } = await must(`mutation($i: CreateChallengeInput!) { createChallenge(input: $i) { challenge { sid } clientToken } }`, {
    i: { serviceSid, factorSid, details: { message: "Sign in?" } },
  });
  return { sid: createChallenge.challenge.sid as string, token: createChallenge.clientToken as string };
}

async function webhook(serviceSid: string) {
  const { createWebhook } = await must(`mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { webhook { sid } } }`, {
    i: { serviceSid, url: "http://127.0.0.1:9/hook", eventTypes: ["*"] },
  });
  return createWebhook.webhook.sid as string;
}

async function template(serviceSid: string) {
  const { createTemplate } = await must(`mutation($i: CreateTemplateInput!) { createTemplate(input: $i) { sid } }`, {
    i: { serviceSid, friendlyName: "t", translations: [{ locale: "en", channel: "SMS", text: "{{code}}" }] },
  });
  return createTemplate.sid as string;
}

async function fraudBlock(serviceSid: string) {
  // Tripping Fraud Guard takes hundreds of starts; the block's row is what the operations read.
  const sid = `FB${randomBytes(16).toString("hex")}`;
  const now = Date.now();
  await gw.sql(`insert into fraud_blocks (sid, service_sid, prefix, reason, severity, level, blocked_until, date_created) values (?, ?, ?, ?, ?, ?, ?, ?)`, [
    sid,
    serviceSid,
    `+1415${counter++}`,
    "velocity",
    1,
    "STANDARD",
    now + 3_600_000,
    now,
  ]);
  return sid;
}

async function accessToken(serviceSid: string) {
  const { createAccessToken } = await must(`mutation($i: CreateAccessTokenInput!) { createAccessToken(input: $i) { token } }`, {
    i: { serviceSid, identity: "alice", factorType: "PUSH", ttlSeconds: 300 },
  });
  return createAccessToken.token as string;
}

const serviceRead = { keyOwn: "allowed", keyOther: "none" } as const;
const serviceWrite = { keyOwn: "allowed", keyOther: "NOT_FOUND" } as const;
const everyone = Object.fromEntries(columns.map((c) => [c, "allowed"])) as Record<Column, Outcome>;

const cases: Record<string, Case> = {
  // ── queries ─────────────────────────────────────────────────────────────────────────────────────
  apiKeys: { kind: "query", document: `query($s: ID!) { apiKeys(serviceSid: $s) { sid } }`, grants: serviceRead, cell: (w) => ({ variables: { s: w.serviceA } }) },
  service: { kind: "query", document: `query($s: ID!) { service(sid: $s) { sid testNumbers { code } safeList } }`, grants: serviceRead, cell: (w) => ({ variables: { s: w.serviceA } }) },
  services: { kind: "query", document: `{ services { nodes { sid testNumbers { code } } } }`, grants: { keyOwn: "allowed", keyOther: "allowed" }, cell: () => ({ variables: {} }) },
  verifications: { kind: "query", document: `query($s: ID!) { verifications(serviceSid: $s) { nodes { sid } } }`, grants: serviceRead, cell: (w) => ({ variables: { s: w.serviceA } }) },
  verificationAttempts: { kind: "query", document: `query($s: ID!) { verificationAttempts(serviceSid: $s) { nodes { attemptSid } } }`, grants: serviceRead, cell: (w) => ({ variables: { s: w.serviceA } }) },
  verificationStats: { kind: "query", document: `query($s: ID!) { verificationStats(serviceSid: $s) { total } }`, grants: serviceRead, cell: (w) => ({ variables: { s: w.serviceA } }) },
  fraudBlocks: { kind: "query", document: `query($s: ID!) { fraudBlocks(serviceSid: $s) { nodes { sid } } }`, grants: serviceRead, cell: (w) => ({ variables: { s: w.serviceA } }) },
  webhooks: { kind: "query", document: `query($s: ID!) { webhooks(serviceSid: $s) { nodes { sid } } }`, grants: serviceRead, cell: (w) => ({ variables: { s: w.serviceA } }) },
  templates: { kind: "query", document: `query($s: ID!) { templates(serviceSid: $s) { nodes { sid } } }`, grants: serviceRead, cell: (w) => ({ variables: { s: w.serviceA } }) },
  webhookDeliveries: { kind: "query", document: `query($w: ID!) { webhookDeliveries(webhookSid: $w) { nodes { eventSid } } }`, grants: serviceRead, cell: (w) => ({ variables: { w: w.webhookA } }) },
  events: { kind: "query", document: `query($v: ID!) { events(resourceSid: $v) { nodes { type } } }`, grants: serviceRead, cell: (w) => ({ variables: { v: w.verificationA } }) },
  devOutbox: { kind: "query", document: `{ devOutbox { to } }`, grants: {}, cell: () => ({ variables: {} }) },
  webPushPublicKey: { kind: "query", document: `{ webPushPublicKey }`, grants: everyone, cell: () => ({ variables: {} }) },
  viewer: { kind: "query", document: `{ viewer { kind serviceSid } }`, grants: Object.fromEntries(columns.filter((c) => c !== "anonymous").map((c) => [c, "allowed"])), cell: () => ({ variables: {} }) },
  verification: {
    kind: "query",
    document: `query($v: ID!) { verification(sid: $v) { sid } }`,
    grants: { ...serviceRead, clientVerification: "allowed", clientVerificationOther: "none", clientChallenge: "none", clientChallengeOther: "none" },
    cell: (w) => ({ variables: { v: w.verificationA } }),
  },
  factor: {
    kind: "query",
    document: `query($f: ID!) { factor(sid: $f) { sid } }`,
    grants: { ...serviceRead, device: "allowed", deviceUnverified: "none", deviceOther: "none" },
    cell: (w) => ({ variables: { f: w.factorA } }),
  },
  challenge: {
    kind: "query",
    document: `query($c: ID!) { challenge(sid: $c) { sid } }`,
    grants: { ...serviceRead, clientChallenge: "allowed", clientChallengeOther: "none", clientVerification: "none", clientVerificationOther: "none", device: "allowed", deviceUnverified: "none", deviceOther: "none" },
    cell: (w) => ({ variables: { c: w.challengeA } }),
  },
  challenges: {
    kind: "query",
    document: `query($f: ID!) { challenges(factorSid: $f) { nodes { sid } } }`,
    grants: { ...serviceRead, device: "allowed", deviceUnverified: "none", deviceOther: "none" },
    cell: (w) => ({ variables: { f: w.factorA } }),
  },
  // ── mutations (a fresh resource per cell where an allowed call would use the shared one up) ────
  createService: { kind: "mutation", document: `mutation { createService(input: { friendlyName: "Gamma" }) { sid } }`, grants: {}, cell: () => ({ variables: {} }) },
  updateService: { kind: "mutation", document: `mutation($s: ID!) { updateService(input: { sid: $s, friendlyName: "Alpha" }) { sid } }`, grants: serviceWrite, cell: (w) => ({ variables: { s: w.serviceA } }) },
  deleteService: {
    kind: "mutation",
    document: `mutation($s: ID!) { deleteService(sid: $s) { sid } }`,
    grants: {},
    cell: async () => ({ variables: { s: (await must(`mutation { createService(input: { friendlyName: "Doomed" }) { sid } }`)).createService.sid } }),
  },
  createApiKey: { kind: "mutation", document: `mutation($s: ID!) { createApiKey(input: { serviceSid: $s }) { key } }`, grants: serviceWrite, cell: (w) => ({ variables: { s: w.serviceA } }) },
  revokeApiKey: {
    kind: "mutation",
    document: `mutation($k: ID!) { revokeApiKey(sid: $k) { sid } }`,
    grants: serviceWrite,
    cell: async (w) => {
      const { createApiKey } = await must(`mutation($s: ID!) { createApiKey(input: { serviceSid: $s }) { apiKey { sid } } }`, { s: w.serviceA });
      return { variables: { k: createApiKey.apiKey.sid } };
    },
  },
  startVerification: {
    kind: "mutation",
    document: `mutation($i: StartVerificationInput!) { startVerification(input: $i) { clientToken } }`,
    grants: serviceWrite,
    cell: (w) => ({ variables: { i: { serviceSid: w.serviceA, to: phone(), channel: "SMS" } } }),
  },
  checkVerification: {
    kind: "mutation",
    document: `mutation($i: CheckVerificationInput!) { checkVerification(input: $i) { verification { status } } }`,
    grants: { ...serviceWrite, clientVerification: "allowed", clientVerificationOther: "NOT_FOUND", clientChallenge: "NOT_FOUND", clientChallengeOther: "NOT_FOUND" },
    cell: async (w, column) => {
      const fresh = await startVerification(w.serviceA);
      return { variables: { i: { serviceSid: w.serviceA, verificationSid: fresh.sid, code: "000000" } }, token: column === "clientVerification" ? fresh.token : undefined };
    },
  },
  updateVerification: {
    kind: "mutation",
    document: `mutation($v: ID!) { updateVerification(input: { sid: $v, status: CANCELED }) { status } }`,
    grants: serviceWrite,
    cell: async (w) => ({ variables: { v: (await startVerification(w.serviceA)).sid } }),
  },
  createAccessToken: {
    kind: "mutation",
    document: `mutation($s: ID!) { createAccessToken(input: { serviceSid: $s, identity: "alice", factorType: PUSH }) { token } }`,
    grants: serviceWrite,
    cell: (w) => ({ variables: { s: w.serviceA } }),
  },
  createFactor: {
    kind: "mutation",
    document: `mutation($i: CreateFactorInput!) { createFactor(input: $i) { factor { sid } } }`,
    grants: { ...serviceWrite, access: "allowed" },
    cell: async (w) => ({
      variables: { i: { serviceSid: w.serviceA, identity: "alice", friendlyName: "phone", factorType: "PUSH", push: { publicKey: (await generateDeviceKey()).publicKey } } },
    }),
  },
  verifyFactor: {
    kind: "mutation",
    document: `mutation($i: VerifyFactorInput!) { verifyFactor(input: $i) { sid } }`,
    grants: { ...serviceWrite, device: "NOT_FOUND", deviceUnverified: "allowed", deviceOther: "NOT_FOUND" },
    // A wrong proof: an allowed caller reaches the factor and is told the proof failed.
    cell: (w) => ({ variables: { i: { sid: w.unverifiedFactorA, authPayload: "not-a-proof" } } }),
  },
  updateFactor: {
    kind: "mutation",
    document: `mutation($i: UpdateFactorInput!) { updateFactor(input: $i) { sid } }`,
    grants: { ...serviceWrite, device: "allowed", deviceUnverified: "NOT_FOUND", deviceOther: "NOT_FOUND" },
    cell: (w) => ({ variables: { i: { sid: w.factorA, friendlyName: "Renamed" } } }),
  },
  deleteFactor: {
    kind: "mutation",
    document: `mutation($f: ID!) { deleteFactor(sid: $f) { sid } }`,
    grants: { ...serviceWrite, device: "allowed", deviceUnverified: "NOT_FOUND", deviceOther: "NOT_FOUND" },
    cell: async (w, column) => {
      const fresh = await pushFactor(w.serviceA, true);
      return { variables: { f: fresh.sid }, token: column === "device" ? fresh.token : undefined };
    },
  },
  createChallenge: {
    kind: "mutation",
    document: `mutation($i: CreateChallengeInput!) { createChallenge(input: $i) { clientToken } }`,
    grants: serviceWrite,
    cell: (w) => ({ variables: { i: { serviceSid: w.serviceA, factorSid: w.factorA, details: { message: "Sign in?" } } } }),
  },
  updateChallenge: {
    kind: "mutation",
    document: `mutation($i: UpdateChallengeInput!) { updateChallenge(input: $i) { sid } }`,
    grants: {
      ...serviceWrite,
      clientChallenge: "allowed",
      clientChallengeOther: "NOT_FOUND",
      clientVerification: "NOT_FOUND",
      clientVerificationOther: "NOT_FOUND",
      device: "allowed",
      deviceUnverified: "NOT_FOUND",
      deviceOther: "NOT_FOUND",
    },
    // A bad signature: an allowed caller reaches the challenge and is told the answer failed.
    cell: async (w, column) => {
      const fresh = await challenge(w.serviceA, w.factorA);
      return { variables: { i: { sid: fresh.sid, authPayload: "not-a-signature" } }, token: column === "clientChallenge" ? fresh.token : undefined };
    },
  },
  createWebhook: {
    kind: "mutation",
    document: `mutation($s: ID!) { createWebhook(input: { serviceSid: $s, url: "http://127.0.0.1:9/x", eventTypes: ["*"] }) { webhook { sid } } }`,
    grants: serviceWrite,
    cell: (w) => ({ variables: { s: w.serviceA } }),
  },
  updateWebhook: {
    kind: "mutation",
    document: `mutation($h: ID!) { updateWebhook(input: { sid: $h, enabled: true }) { sid } }`,
    grants: serviceWrite,
    cell: (w) => ({ variables: { h: w.webhookA } }),
  },
  deleteWebhook: {
    kind: "mutation",
    document: `mutation($h: ID!) { deleteWebhook(sid: $h) { sid } }`,
    grants: serviceWrite,
    // A service has at most 10 webhooks: a fresh one only for the callers that will delete it.
    cell: async (w, column) => ({ variables: { h: column === "admin" || column === "keyOwn" ? await webhook(w.serviceA) : w.webhookA } }),
  },
  testWebhook: { kind: "mutation", document: `mutation($h: ID!) { testWebhook(sid: $h) { id } }`, grants: serviceWrite, cell: (w) => ({ variables: { h: w.webhookA } }) },
  retryWebhookDelivery: {
    kind: "mutation",
    document: `mutation($d: ID!) { retryWebhookDelivery(id: $d) { id } }`,
    // A PENDING delivery of service A: its own callers get in (and are told it is not FAILED).
    grants: serviceWrite,
    cell: async (w) => ({ variables: { d: (await must(`mutation($h: ID!) { testWebhook(sid: $h) { id } }`, { h: w.webhookA })).testWebhook.id } }),
  },
  createTemplate: {
    kind: "mutation",
    document: `mutation($s: ID!) { createTemplate(input: { serviceSid: $s, friendlyName: "m", translations: [{ locale: "en", channel: "SMS", text: "{{code}}" }] }) { sid } }`,
    grants: serviceWrite,
    cell: (w) => ({ variables: { s: w.serviceA } }),
  },
  updateTemplate: {
    kind: "mutation",
    document: `mutation($t: ID!) { updateTemplate(input: { sid: $t, friendlyName: "renamed" }) { sid } }`,
    grants: serviceWrite,
    cell: (w) => ({ variables: { t: w.templateA } }),
  },
  deleteTemplate: {
    kind: "mutation",
    document: `mutation($t: ID!) { deleteTemplate(sid: $t) { sid } }`,
    grants: serviceWrite,
    // A fresh one only for the callers that will delete it.
    cell: async (w, column) => ({ variables: { t: column === "admin" || column === "keyOwn" ? await template(w.serviceA) : w.templateA } }),
  },
  liftFraudBlock: { kind: "mutation", document: `mutation($b: ID!) { liftFraudBlock(sid: $b) { sid } }`, grants: serviceWrite, cell: async (w) => ({ variables: { b: await fraudBlock(w.serviceA) } }) },
  // ── subscriptions (over graphql-ws) ─────────────────────────────────────────────────────────────
  verificationUpdated: {
    kind: "subscription",
    document: `subscription($v: ID!) { verificationUpdated(sid: $v) { sid } }`,
    grants: { ...serviceWrite, clientVerification: "allowed", clientVerificationOther: "NOT_FOUND", clientChallenge: "NOT_FOUND", clientChallengeOther: "NOT_FOUND" },
    cell: (w) => ({ variables: { v: w.verificationA } }),
  },
  challengeUpdated: {
    kind: "subscription",
    document: `subscription($c: ID!) { challengeUpdated(sid: $c) { sid } }`,
    grants: {
      ...serviceWrite,
      clientChallenge: "allowed",
      clientChallengeOther: "NOT_FOUND",
      clientVerification: "NOT_FOUND",
      clientVerificationOther: "NOT_FOUND",
      device: "allowed",
      deviceUnverified: "NOT_FOUND",
      deviceOther: "NOT_FOUND",
    },
    cell: (w) => ({ variables: { c: w.challengeA } }),
  },
  serviceEvents: { kind: "subscription", document: `subscription($s: ID!) { serviceEvents(serviceSid: $s) { type } }`, grants: serviceWrite, cell: (w) => ({ variables: { s: w.serviceA } }) },
};

const expected = (c: Case, column: Column): Outcome => c.grants[column] ?? (column === "admin" ? "allowed" : column === "anonymous" ? "UNAUTHENTICATED" : "FORBIDDEN");

/** What a response says, in the matrix's terms. */
function outcomeOf(response: GraphQLResponse, field: string): string {
  const code = response.errors?.[0]?.extensions?.code as string | undefined;
  if (code === "FORBIDDEN" || code === "NOT_FOUND" || code === "UNAUTHENTICATED") return code;
  if (response.errors) {
    // Another domain error is the operation's own answer (a wrong proof, a bad answer): the caller got in.
    if (code && !/^(GRAPHQL_|BAD_USER_INPUT)/.test(code)) return "allowed";
    // A protocol error means the matrix asked wrongly, not that access was decided.
    return `broken request: ${response.errors[0].message}`;
  }
  const value = response.data?.[field];
  if (value === null || value === undefined) return "none";
  const list = Array.isArray(value) ? value : Array.isArray(value.nodes) ? value.nodes : null;
  if (list) return list.length === 0 ? "none" : "allowed";
  return "allowed";
}

async function subscribeOnce(document: string, variables: Record<string, unknown>, token: string | null, field: string): Promise<GraphQLResponse> {
  const client = gw.wsClient(token);
  const live = subscribeWs(client, document, variables);
  // serviceEvents has no current state: events are made until one arrives (or the stream is refused).
  const poke = field === "serviceEvents" ? setInterval(() => void gw.gql(`mutation($s: ID!) { updateService(input: { sid: $s, friendlyName: "Alpha" }) { sid } }`, { s: world.serviceA }), 100) : null;
  try {
    await Promise.race([live.waitFor(1), live.done, new Promise((resolve) => setTimeout(resolve, 5000))]);
  } finally {
    if (poke) clearInterval(poke);
    await client.dispose();
  }
  const errors = live.errors as GraphQLResponse["errors"];
  return errors && errors.length > 0 ? { errors } : { data: live.values[0] ?? null };
}

beforeAll(async () => {
  gw = await startGateway();
  const a = await service("Alpha");
  const b = await service("Beta");
  const vA = await startVerification(a.sid);
  const vB = await startVerification(b.sid);
  const fA = await pushFactor(a.sid, true);
  const fB = await pushFactor(b.sid, true);
  const unverified = await pushFactor(a.sid, false);
  const cA = await challenge(a.sid, fA.sid);
  const cB = await challenge(b.sid, fB.sid);
  const webhookA = await webhook(a.sid);
  const templateA = await template(a.sid);
  await fraudBlock(a.sid);
  // Something for the webhook to deliver, so its delivery list is not empty.
  await startVerification(a.sid);
  world = {
    serviceA: a.sid,
    serviceB: b.sid,
    verificationA: vA.sid,
    challengeA: cA.sid,
    factorA: fA.sid,
    unverifiedFactorA: unverified.sid,
    webhookA,
    templateA,
    tokens: {
      admin: ADMIN_KEY,
      keyOwn: a.key,
      keyOther: b.key,
      clientVerification: vA.token,
      clientVerificationOther: vB.token,
      clientChallenge: cA.token,
      clientChallengeOther: cB.token,
      access: await accessToken(a.sid),
      device: fA.token,
      deviceUnverified: unverified.token,
      deviceOther: fB.token,
    },
  };
});
afterAll(async () => {
  await gw?.close();
});

describe("access matrix: every operation × every token kind of two services", () => {
  it("every operation of the schema has a row in the code's access table and in this matrix", async () => {
    const { __schema } = await must(`{ __schema { queryType { fields { name } } mutationType { fields { name } } subscriptionType { fields { name } } } }`);
    const operations = [__schema.queryType, __schema.mutationType, __schema.subscriptionType].flatMap((type: { fields: { name: string }[] }) => type.fields.map((f) => f.name)).sort();
    expect(Object.keys(cases).sort()).toEqual(operations);
    expect(Object.keys(accessRules).sort()).toEqual(operations);
  });

  it("each cell answers as API.md says", async () => {
    const mismatches: string[] = [];
    for (const [operation, c] of Object.entries(cases)) {
      for (const column of columns) {
        const cell = await c.cell(world, column);
        const token = cell.token ?? (column === "anonymous" ? null : world.tokens[column]);
        const response = c.kind === "subscription" ? await subscribeOnce(c.document, cell.variables, token, operation) : await gw.gql(c.document, cell.variables, token);
        const got = outcomeOf(response, operation);
        const want = expected(c, column);
        if (got !== want) mismatches.push(`${operation} × ${column}: expected ${want}, got ${got}${response.errors ? ` (${response.errors[0].message})` : ""}`);
      }
    }
    expect(mismatches).toEqual([]);
  }, 120_000);

  it("a service key's `services` lists its own service only; no other token reads test numbers or safe lists", async () => {
    const own = await must(`{ services { nodes { sid } } }`, {}, world.tokens.keyOwn);
    expect(own.services.nodes).toEqual([{ sid: world.serviceA }]);
    const all = await must(`{ services(first: 100) { nodes { sid } } }`);
    expect(all.services.nodes.map((n: { sid: string }) => n.sid)).toEqual(expect.arrayContaining([world.serviceA, world.serviceB]));
    for (const column of ["clientVerification", "clientChallenge", "access", "device", "deviceUnverified"] as const) {
      const response = await gw.gql(`{ services { nodes { sid testNumbers { to code } safeList } } }`, {}, world.tokens[column]);
      expect(response.errors?.[0].extensions?.code, column).toBe("FORBIDDEN");
      expect(response.data ?? null, column).toBeNull();
    }
  });
});
