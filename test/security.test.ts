import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY, CHECK, START, type TestGateway, errorCode, startAndReadCode, startGateway, subscribeWs } from "./support/gateway.js";

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => gw.close());

const wrong = (code: string) => (code === "000000" ? "111111" : "000000");
const READ = `query($sid: ID!) { verification(sid: $sid) { sid status } }`;

async function serviceWithKey(name: string) {
  const service = (await gw.gql(`mutation($n: String!) { createService(input: { friendlyName: $n }) { sid } }`, { n: name })).data?.createService.sid as string;
  const key = (await gw.gql(`mutation($s: ID!) { createApiKey(input: { serviceSid: $s, name: "backend" }) { key apiKey { sid } } }`, { s: service })).data?.createApiKey;
  return { service, key: key.key as string, keySid: key.apiKey.sid as string };
}

describe("brute force", () => {
  it("20 parallel wrong checks count exactly maxCheckAttempts", async () => {
    const { sid, code } = await startAndReadCode(gw, { to: "+14155554001" });
    const results = await Promise.all(
      Array.from({ length: 20 }, () => gw.gql(CHECK, { input: { serviceSid: gw.defaultServiceSid, verificationSid: sid, code: wrong(code) } })),
    );
    const statuses = results.map((r) => r.data?.checkVerification.verification.status ?? r.errors?.[0].extensions?.code);
    expect(statuses.filter((s) => s === "PENDING")).toHaveLength(4);
    expect(statuses.filter((s) => s === "MAX_ATTEMPTS_REACHED")).toHaveLength(1);
    expect(statuses.filter((s) => s === "MAX_CHECK_ATTEMPTS_REACHED")).toHaveLength(15);
    const events = await gw.app.store.listEvents(sid);
    expect(events.filter((e) => e.type === "verification.check_failed")).toHaveLength(4);
    expect(events.filter((e) => e.type === "verification.max_attempts_reached")).toHaveLength(1);
    // The right code is of no use any more.
    expect(errorCode(await gw.gql(CHECK, { input: { serviceSid: gw.defaultServiceSid, verificationSid: sid, code } }))).toBe("MAX_CHECK_ATTEMPTS_REACHED");
  });

  it("parallel right and wrong guesses approve at most once", async () => {
    const { sid, code } = await startAndReadCode(gw, { to: "+14155554002" });
    const guesses = [code, wrong(code), code, wrong(code), code];
    const results = await Promise.all(guesses.map((c) => gw.gql(CHECK, { input: { serviceSid: gw.defaultServiceSid, verificationSid: sid, code: c } })));
    const approvals = results.filter((r) => r.data?.checkVerification.verification.status === "APPROVED");
    expect(approvals).toHaveLength(1);
    expect((await gw.app.store.listEvents(sid)).filter((e) => e.type === "verification.approved")).toHaveLength(1);
  });
});

describe("codes stay secret", () => {
  it("codes never appear in logs or API responses (the dev outbox aside)", async () => {
    const responses: string[] = [];
    const record = async (query: string, variables: Record<string, unknown>, token?: string) => {
      const r = await gw.gql(query, variables, token);
      responses.push(JSON.stringify(r));
      return r;
    };
    const started = await record(START, { input: { serviceSid: gw.defaultServiceSid, to: "+14155554003", channel: "SMS" } });
    const sid = started.data?.startVerification.verification.sid;
    await gw.app.dispatcher.idle();
    const outbox = await gw.gql(`{ devOutbox(to: "+14155554003") { code } }`);
    const code = outbox.data?.devOutbox[0].code as string;
    await record(START, { input: { serviceSid: gw.defaultServiceSid, to: "+14155554003", channel: "CALL" } });
    await record(CHECK, { input: { serviceSid: gw.defaultServiceSid, verificationSid: sid, code: wrong(code) } });
    await record(READ, { sid });
    await record(`query($s: ID!) { verifications(serviceSid: $s) { nodes { sid to status sendCodeAttempts { attemptSid status providerMessageId } } } }`, { s: gw.defaultServiceSid });
    await record(CHECK, { input: { serviceSid: gw.defaultServiceSid, verificationSid: sid, code } });
    await gw.app.dispatcher.idle();
    const events = await gw.app.store.listEvents(sid);
    expect(code).toMatch(/^\d{6}$/);
    for (const text of [...responses, gw.logs(), JSON.stringify(events)]) expect(text).not.toContain(code);
  });

  it("the code rests as a keyed hash and a sealed copy, never in clear, and the sealed copy is destroyed at a final state", async () => {
    const { sid, code } = await startAndReadCode(gw, { to: "+14155554004" });
    const row = async () => (await gw.sql<Record<string, string | null>>("select * from verifications where sid = ?", [sid]))[0];
    expect(JSON.stringify(await row())).not.toContain(code);
    expect((await row()).code_hash).toMatch(/^k1:/);
    expect((await row()).code_sealed).toMatch(/^k1:/);
    await gw.gql(CHECK, { input: { serviceSid: gw.defaultServiceSid, verificationSid: sid, code } });
    expect((await row()).code_sealed).toBeNull();
  });
});

describe("tokens", () => {
  it("no token → UNAUTHENTICATED; a bad token → UNAUTHENTICATED", async () => {
    for (const token of [null, "nope", "vgc_forged.signature"]) {
      const r = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to: "+14155554005", channel: "SMS" } }, token);
      expect(r.errors?.[0].extensions).toMatchObject({ code: "UNAUTHENTICATED", twilioCode: 20003 });
    }
  });

  it("a client token reads, subscribes to and checks its own verification only", async () => {
    const mine = await startAndReadCode(gw, { to: "+14155554006" });
    const other = await startAndReadCode(gw, { to: "+14155554007" });
    const token = mine.clientToken;
    expect((await gw.gql(READ, { sid: mine.sid }, token)).data?.verification).toEqual({ sid: mine.sid, status: "PENDING" });
    // Out of scope looks exactly like unknown.
    expect((await gw.gql(READ, { sid: other.sid }, token)).data?.verification).toBeNull();
    expect(errorCode(await gw.gql(CHECK, { input: { serviceSid: gw.defaultServiceSid, verificationSid: other.sid, code: other.code } }, token))).toBe("NOT_FOUND");
    expect((await gw.gql(READ, { sid: other.sid })).data?.verification.status).toBe("PENDING");
    // Operations a client token may never call.
    expect(errorCode(await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to: "+14155554006", channel: "SMS" } }, token))).toBe("FORBIDDEN");
    expect(errorCode(await gw.gql(`{ services { nodes { sid } } }`, {}, token))).toBe("FORBIDDEN");
    expect(errorCode(await gw.gql(`mutation($sid: ID!) { updateVerification(input: { sid: $sid, status: APPROVED }) { status } }`, { sid: mine.sid }, token))).toBe("FORBIDDEN");
    expect(errorCode(await gw.gql(CHECK, { input: { serviceSid: gw.defaultServiceSid, to: "+14155554006", code: mine.code } }, token))).toBe("FORBIDDEN");
    expect(errorCode(await gw.gql(`{ devOutbox { code } }`, {}, token))).toBe("FORBIDDEN");
    // Its own verification, by sid.
    const checked = await gw.gql(CHECK, { input: { serviceSid: gw.defaultServiceSid, verificationSid: mine.sid, code: mine.code } }, token);
    expect(checked.data?.checkVerification.verification.status).toBe("APPROVED");
    // Subscribing to another verification is refused like an unknown sid.
    const client = gw.wsClient(token);
    const result = await new Promise<unknown[]>((resolve) => {
      const errors: unknown[] = [];
      client.subscribe({ query: `subscription($sid: ID!) { verificationUpdated(sid: $sid) { status } }`, variables: { sid: other.sid } }, {
        next: (r) => errors.push(...(r.errors ?? [])),
        error: (e) => resolve([...errors, e]),
        complete: () => resolve(errors),
      });
    });
    expect(JSON.stringify(result)).toContain("NOT_FOUND");
  });

  it("a client token expires five minutes after its verification", async () => {
    const { ManualClock } = await import("../src/domain/clock.js");
    const clock = new ManualClock(Date.now());
    const local = await startGateway({ clock });
    try {
      const { sid, clientToken } = await startAndReadCode(local, { to: "+14155554008" });
      clock.advance(600_000 + 299_000);
      expect((await local.gql(READ, { sid }, clientToken)).data?.verification.sid).toBe(sid);
      clock.advance(2_000);
      expect(errorCode(await local.gql(READ, { sid }, clientToken))).toBe("UNAUTHENTICATED");
    } finally {
      await local.close();
    }
  });

  it("an API key acts inside its own service only, and stops working once revoked", async () => {
    const a = await serviceWithKey("Alpha");
    const b = await serviceWithKey("Beta");
    const startA = await gw.gql(START, { input: { serviceSid: a.service, to: "+14155554009", channel: "SMS" } }, a.key);
    expect(startA.errors).toBeUndefined();
    const sidA = startA.data?.startVerification.verification.sid;
    // Another service's key: unknown service, unknown verification.
    expect(errorCode(await gw.gql(START, { input: { serviceSid: a.service, to: "+14155554009", channel: "SMS" } }, b.key))).toBe("NOT_FOUND");
    expect((await gw.gql(READ, { sid: sidA }, b.key)).data?.verification).toBeNull();
    expect((await gw.gql(`query($s: ID!) { service(sid: $s) { sid } }`, { s: a.service }, b.key)).data?.service).toBeNull();
    expect(errorCode(await gw.gql(`mutation($sid: ID!) { updateVerification(input: { sid: $sid, status: CANCELED }) { status } }`, { sid: sidA }, b.key))).toBe("NOT_FOUND");
    expect(errorCode(await gw.gql(`mutation($s: ID!) { updateService(input: { sid: $s, codeLength: 4 }) { sid } }`, { s: a.service }, b.key))).toBe("NOT_FOUND");
    expect((await gw.gql(`{ services { nodes { sid } } }`, {}, b.key)).data?.services.nodes).toEqual([{ sid: b.service }]);
    // Only the admin creates services or reads the dev outbox.
    expect(errorCode(await gw.gql(`mutation { createService(input: { friendlyName: "Gamma" }) { sid } }`, {}, a.key))).toBe("FORBIDDEN");
    expect(errorCode(await gw.gql(`{ devOutbox { code } }`, {}, a.key))).toBe("FORBIDDEN");
    // A key cannot revoke another service's key.
    expect(errorCode(await gw.gql(`mutation($sid: ID!) { revokeApiKey(sid: $sid) { sid } }`, { sid: a.keySid }, b.key))).toBe("NOT_FOUND");
    const revoked = await gw.gql(`mutation($sid: ID!) { revokeApiKey(sid: $sid) { sid revokedAt } }`, { sid: a.keySid }, ADMIN_KEY);
    expect(revoked.data?.revokeApiKey.revokedAt).toBeTruthy();
    expect(errorCode(await gw.gql(READ, { sid: sidA }, a.key))).toBe("UNAUTHENTICATED");
  });

  it("the API key is shown once and stored only as a hash", async () => {
    const { service, key } = await serviceWithKey("Delta");
    expect(key).toMatch(/^vgk_[A-Za-z0-9_-]{43}$/);
    const listed = await gw.gql(`query($s: ID!) { apiKeys(serviceSid: $s) { sid name revokedAt } }`, { s: service });
    expect(JSON.stringify(listed)).not.toContain(key);
    expect(JSON.stringify(await gw.sql("select * from api_keys"))).not.toContain(key);
  });

  it("a key revoked while its WebSocket is open stops working on that socket at once", async () => {
    const { service, key, keySid } = await serviceWithKey("Echo");
    const client = gw.wsClient(key);
    const first = subscribeWs(client, `subscription($s: ID!) { serviceEvents(serviceSid: $s) { type } }`, { s: service });
    await new Promise((r) => setTimeout(r, 100));
    expect(first.errors).toEqual([]);
    await gw.gql(`mutation($sid: ID!) { revokeApiKey(sid: $sid) { sid } }`, { sid: keySid });
    // The open stream ends with its key.
    await first.done;
    expect(JSON.stringify(first.errors)).toContain("UNAUTHENTICATED");
    // The lazy client closed its idle socket; the new one is refused at connection_init (4403).
    const second = subscribeWs(client, `subscription($s: ID!) { serviceEvents(serviceSid: $s) { type } }`, { s: service });
    await second.done;
    expect((second.errors[0] as { code?: number }).code).toBe(4403);
  });

  it("a request target the URL parser refuses does not take the server down", async () => {
    const { connect } = await import("node:net");
    const { port } = new URL(gw.url);
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(Number(port), "127.0.0.1", () => socket.write("GET //% HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
      let data = "";
      socket.on("data", (d) => (data += d));
      socket.on("close", () => resolve(data));
      socket.on("error", () => resolve(data));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 (400|404)/);
    expect((await fetch(`${gw.url}/health`)).status).toBe(200);
  });

  it("a bad token closes a graphql-ws connection with 4403", async () => {
    const client = gw.wsClient("not-a-key");
    const closed = await new Promise<unknown>((resolve) => {
      client.subscribe({ query: `subscription($s: ID!) { serviceEvents(serviceSid: $s) { type } }`, variables: { s: gw.defaultServiceSid } }, {
        next: () => {},
        error: resolve,
        complete: () => resolve(null),
      });
    });
    expect((closed as { code?: number }).code).toBe(4403);
  });
});
