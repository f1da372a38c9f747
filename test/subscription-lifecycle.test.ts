import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { deviceToken, generateDeviceKey } from "../src/client/device/kit.js";
import { type TestGateway, startGateway, subscribeSse, subscribeWs } from "./support/gateway.js";

// Issue 14, items 6 and 7: a stream lives no longer than the token that opened it, and nobody holds
// unbounded subscriptions or sockets.
const EVENTS = `subscription($s: ID!) { serviceEvents(serviceSid: $s) { type } }`;
const CHALLENGE = `subscription($c: ID!) { challengeUpdated(sid: $c) { status } }`;

async function apiKey(gw: TestGateway): Promise<{ key: string; sid: string }> {
  const created = await gw.gql(`mutation($s: ID!) { createApiKey(input: { serviceSid: $s }) { key apiKey { sid } } }`, { s: gw.defaultServiceSid });
  return { key: created.data!.createApiKey.key, sid: created.data!.createApiKey.apiKey.sid };
}
const poke = (gw: TestGateway) => gw.gql(`mutation($s: ID!) { updateService(input: { sid: $s, friendlyName: "Poked" }) { sid } }`, { s: gw.defaultServiceSid });
const revoke = (gw: TestGateway, sid: string) => gw.gql(`mutation($k: ID!) { revokeApiKey(sid: $k) { sid } }`, { k: sid });

/** A pending push challenge and a device token for its factor that expires in `seconds`. */
async function pendingChallenge(gw: TestGateway, seconds: number) {
  const key = await generateDeviceKey();
  const created = await gw.gql(`mutation($i: CreateFactorInput!) { createFactor(input: $i) { factor { sid } } }`, {
    i: { serviceSid: gw.defaultServiceSid, identity: `id-${randomBytes(4).toString("hex")}`, friendlyName: "phone", factorType: "PUSH", push: { publicKey: key.publicKey } },
  });
  const factorSid = created.data!.createFactor.factor.sid as string;
  await gw.gql(`mutation($i: VerifyFactorInput!) { verifyFactor(input: $i) { status } }`, { i: { sid: factorSid, authPayload: await deviceToken(factorSid, key) } });
  const challenge = await gw.gql(`mutation($i: CreateChallengeInput!) { createChallenge(input: $i) { challenge { sid } } }`, {
    i: { serviceSid: gw.defaultServiceSid, factorSid, details: { message: "Sign in?" } },
  });
  return { challengeSid: challenge.data!.createChallenge.challenge.sid as string, token: await deviceToken(factorSid, key, { ttlSeconds: seconds }) };
}

/** The key may open one more stream (eventually: slots are given back as the server closes streams). */
async function hasFreeSlot(gw: TestGateway, key: string): Promise<void> {
  await vi.waitFor(async () => {
    const again = await subscribeSse(gw.url, EVENTS, { s: gw.defaultServiceSid }, key);
    await poke(gw);
    await again.waitFor(() => again.events.length > 0);
    again.close();
    expect(again.events[0].data.errors).toBeUndefined();
  });
}

/** Opens a raw graphql-ws socket and says how it ended, if it did within the time given. */
function rawSocket(url: string) {
  const socket = new WebSocket(`${url.replace("http", "ws")}/graphql`, "graphql-transport-ws");
  const closed = new Promise<number>((resolve) => socket.on("close", (code) => resolve(code)));
  const acked = new Promise<boolean>((resolve) => {
    socket.on("open", () => socket.send(JSON.stringify({ type: "connection_init", payload: {} })));
    socket.on("message", (data) => JSON.parse(String(data)).type === "connection_ack" && resolve(true));
    socket.on("close", () => resolve(false));
  });
  return { socket, closed, acked };
}

describe("a stream ends when its token is revoked or expires (item 6)", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("graphql-ws: revoking the API key ends its serviceEvents stream with UNAUTHENTICATED; nothing arrives after", async () => {
    const { key, sid } = await apiKey(gw);
    const live = subscribeWs(gw.wsClient(key), EVENTS, { s: gw.defaultServiceSid });
    await vi.waitFor(async () => {
      await poke(gw);
      expect(live.values.length).toBeGreaterThan(0);
    });
    await revoke(gw, sid);
    await live.done;
    expect(live.errors).toMatchObject([{ extensions: { code: "UNAUTHENTICATED" } }]);
    const seen = live.values.length;
    await poke(gw);
    await poke(gw);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(live.values.length).toBe(seen);
  });

  it("SSE: revoking the API key ends its stream (an UNAUTHENTICATED result, then complete)", async () => {
    const { key, sid } = await apiKey(gw);
    const sse = await subscribeSse(gw.url, EVENTS, { s: gw.defaultServiceSid }, key);
    await vi.waitFor(async () => {
      await poke(gw);
      expect(sse.events.filter((e) => e.event === "next").length).toBeGreaterThan(0);
    });
    await revoke(gw, sid);
    await sse.waitFor(() => sse.events.some((e) => e.event === "complete"));
    const last = sse.events.filter((e) => e.event === "next").at(-1);
    expect(last?.data.errors[0].extensions.code).toBe("UNAUTHENTICATED");
    await sse.done;
  });

  it("graphql-ws and SSE: a device token's stream ends when the token expires", async () => {
    const { challengeSid, token } = await pendingChallenge(gw, 2);
    const live = subscribeWs(gw.wsClient(token), CHALLENGE, { c: challengeSid });
    const sse = await subscribeSse(gw.url, CHALLENGE, { c: challengeSid }, token);
    await live.waitFor(1);
    expect(live.values[0]).toEqual({ challengeUpdated: { status: "PENDING" } });
    await live.done;
    expect(live.errors).toMatchObject([{ extensions: { code: "UNAUTHENTICATED" } }]);
    await sse.waitFor(() => sse.events.some((e) => e.event === "complete"));
    expect(sse.events.filter((e) => e.event === "next").at(-1)?.data.errors[0].extensions.code).toBe("UNAUTHENTICATED");
  });
});

describe.runIf(process.env.VERIGATE_TEST_STORE === "pg")("revocation reaches every instance (item 6, PostgreSQL + Redis)", () => {
  let a: TestGateway;
  let b: TestGateway;
  beforeAll(async () => {
    a = await startGateway({ env: { REDIS_URL: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379", VERIGATE_SECRET: "shared-secret-of-both-instances-0123456789" } });
    // The second instance on the first one's schema, as a load balancer's second backend.
    const [schema] = await a.sql<{ schema: string }>("select current_schema() as schema");
    b = await startGateway({
      env: { REDIS_URL: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379", VERIGATE_SECRET: "shared-secret-of-both-instances-0123456789", DATABASE_URL: process.env.TEST_PG_URL as string, DATABASE_SCHEMA: schema.schema },
    });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it("a key revoked on instance A ends its streams on instance B, over graphql-ws and SSE", async () => {
    const { key, sid } = await apiKey(a);
    const live = subscribeWs(b.wsClient(key), EVENTS, { s: a.defaultServiceSid });
    const sse = await subscribeSse(b.url, EVENTS, { s: a.defaultServiceSid }, key);
    await vi.waitFor(async () => {
      await poke(a);
      expect(live.values.length).toBeGreaterThan(0);
      expect(sse.events.filter((e) => e.event === "next").length).toBeGreaterThan(0);
    });
    await revoke(a, sid);
    await live.done;
    expect(live.errors).toMatchObject([{ extensions: { code: "UNAUTHENTICATED" } }]);
    await sse.waitFor(() => sse.events.some((e) => e.event === "complete"));
  });
});

describe("caps on subscriptions and sockets (item 7)", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ env: { MAX_SUBSCRIPTIONS_PER_SOCKET: "3", MAX_SUBSCRIPTIONS_PER_TOKEN: "5", MAX_SOCKETS_PER_ADDRESS: "4" } });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("a socket holds at most MAX_SUBSCRIPTIONS_PER_SOCKET streams; the next one is SUBSCRIPTION_LIMIT", async () => {
    const { key } = await apiKey(gw);
    const client = gw.wsClient(key);
    const open = [1, 2, 3].map(() => subscribeWs(client, EVENTS, { s: gw.defaultServiceSid }));
    await vi.waitFor(async () => {
      await poke(gw);
      for (const s of open) expect(s.values.length).toBeGreaterThan(0);
    });
    const fourth = subscribeWs(client, EVENTS, { s: gw.defaultServiceSid });
    await fourth.done;
    // graphql-ws delivers a refusal as one `error` message holding the list of errors.
    expect(fourth.errors.flat()).toMatchObject([{ extensions: { code: "SUBSCRIPTION_LIMIT" } }]);
    await client.dispose();
  });

  it("a token holds at most MAX_SUBSCRIPTIONS_PER_TOKEN streams over every socket and SSE; a closed one frees its slot", async () => {
    const { key } = await apiKey(gw);
    const first = gw.wsClient(key);
    const second = gw.wsClient(key);
    const open = [...[1, 2, 3].map(() => subscribeWs(first, EVENTS, { s: gw.defaultServiceSid })), ...[1, 2].map(() => subscribeWs(second, EVENTS, { s: gw.defaultServiceSid }))];
    await vi.waitFor(async () => {
      await poke(gw);
      for (const s of open) expect(s.values.length).toBeGreaterThan(0);
    });
    const sixth = await subscribeSse(gw.url, EVENTS, { s: gw.defaultServiceSid }, key);
    await sixth.waitFor(() => sixth.events.some((e) => e.event === "complete"));
    expect(sixth.events.find((e) => e.event === "next")?.data.errors[0].extensions.code).toBe("SUBSCRIPTION_LIMIT");
    await second.dispose();
    await hasFreeSlot(gw, key);
    await first.dispose();
  });

  it("a subscription closed before its first event (subscribe then complete at once) gives its slot back", async () => {
    const { key } = await apiKey(gw);
    const socket = new WebSocket(`${gw.url.replace("http", "ws")}/graphql`, "graphql-transport-ws");
    const acked = new Promise<void>((resolve) => socket.on("message", (data) => JSON.parse(String(data)).type === "connection_ack" && resolve()));
    socket.on("open", () => socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${key}` } })));
    await acked;
    // Twice the cap: each `complete` arrives while the server is still opening the stream (a React
    // StrictMode double mount does this), so graphql-ws returns the stream before anyone read from it.
    for (let i = 0; i < 10; i++) {
      socket.send(JSON.stringify({ id: `s${i}`, type: "subscribe", payload: { query: EVENTS, variables: { s: gw.defaultServiceSid } } }));
      socket.send(JSON.stringify({ id: `s${i}`, type: "complete" }));
    }
    await hasFreeSlot(gw, key);
    socket.close();
  });

  it("a client address holds at most MAX_SOCKETS_PER_ADDRESS sockets; the next is closed with 4429", async () => {
    // The sockets of the tests above close asynchronously on the server's side: each of these four is
    // opened once the address has room for it.
    const sockets: ReturnType<typeof rawSocket>[] = [];
    for (let i = 0; i < 4; i++) {
      await vi.waitFor(async () => {
        const s = rawSocket(gw.url);
        expect(await s.acked).toBe(true);
        sockets.push(s);
      });
    }
    const extra = rawSocket(gw.url);
    expect(await extra.closed).toBe(4429);
    sockets[0].socket.close();
    await sockets[0].closed;
    await vi.waitFor(async () => {
      const again = rawSocket(gw.url);
      expect(await again.acked).toBe(true);
      again.socket.close();
    });
    for (const s of sockets.slice(1)) s.socket.close();
  });
});
