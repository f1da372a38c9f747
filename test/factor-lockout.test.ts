import { Writable } from "node:stream";
import * as OTPAuth from "otpauth";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SoftAuthenticator } from "../bench/authenticator.js";
import { type App, buildApp } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { ManualClock } from "../src/domain/clock.js";
import { ADMIN_KEY, type GraphQLResponse, type TestGateway, errorCode, startGateway, subscribeWs } from "./support/gateway.js";

// DESIGN.md principle 8 for factors: a burst of answers with one token is judged at most five times, on
// either store and, on PostgreSQL, across two instances sharing one schema. The right answer comes last
// in the burst, and again after it: the cap holds against it too.
const CREATE = `mutation($input: CreateFactorInput!) { createFactor(input: $input) { factor { sid } totp { secret } passkeyCreationOptions } }`;
const VERIFY = `mutation($input: VerifyFactorInput!) { verifyFactor(input: $input) { sid status } }`;
const CHALLENGE = `mutation($input: CreateChallengeInput!) { createChallenge(input: $input) { challenge { sid } clientToken passkeyRequestOptions } }`;
const ANSWER = `mutation($input: UpdateChallengeInput!) { updateChallenge(input: $input) { sid status } }`;
const BURST = 200;

const clock = new ManualClock(Date.UTC(2026, 6, 1, 9, 0, 0));
let gw: TestGateway;
/** On PostgreSQL, a second gateway on the same schema (and the same secret, in the same data directory). */
let second: App | null = null;
let secondLogs = "";

async function post(url: string, query: string, variables: Record<string, unknown>, token: string): Promise<GraphQLResponse> {
  const response = await fetch(`${url}/graphql`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
  return (await response.json()) as GraphQLResponse;
}

/** Request i goes to one instance or the other, as a load balancer would send them. */
const via = (i: number) => (second && i % 2 === 1 ? second.url : gw.url);

const wrongCode = (right: string) => String((Number(right) + 1) % 1_000_000).padStart(6, "0");

async function events(resourceSid: string, type: string) {
  const rows = await gw.sql<{ type: string; data: string }>("select type, data from events where resource_sid = ? and type = ? order by seq", [resourceSid, type]);
  return rows.map((r) => JSON.parse(r.data) as Record<string, unknown>);
}

async function totpFactor(identity: string, verify: boolean) {
  const created = await gw.gql(CREATE, { input: { serviceSid: gw.defaultServiceSid, identity, friendlyName: identity, factorType: "TOTP" } });
  const sid = created.data!.createFactor.factor.sid as string;
  const device = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(created.data!.createFactor.totp.secret) });
  if (verify) {
    expect((await gw.gql(VERIFY, { input: { sid, code: device.generate({ timestamp: clock.now() }) } })).data?.verifyFactor.status).toBe("VERIFIED");
    clock.advance(60_000);
  }
  return { sid, code: () => device.generate({ timestamp: clock.now() }) };
}

/** Counts the answers of a burst by outcome: APPROVED/VERIFIED or the error code. */
function outcomes(answers: GraphQLResponse[]) {
  const tally: Record<string, number> = {};
  for (const a of answers) {
    const key = errorCode(a) ?? (a.data?.updateChallenge?.status as string) ?? (a.data?.verifyFactor?.status as string);
    tally[key] = (tally[key] ?? 0) + 1;
  }
  return tally;
}

// Two instances are deployed with Redis between them: the instance that denies a challenge may not be the
// one its subscriber is on.
const redisUrl = process.env.VERIGATE_TEST_STORE === "pg" ? (process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379") : null;

beforeAll(async () => {
  gw = await startGateway({ clock, env: redisUrl ? { REDIS_URL: redisUrl } : {} });
  if (process.env.VERIGATE_TEST_STORE === "pg") {
    const [{ schema }] = await gw.sql<{ schema: string }>("select current_schema() as schema");
    const config = loadConfig({ PORT: "0", DATA_DIR: gw.dataDir, VERIGATE_ADMIN_KEY: ADMIN_KEY, SWEEP_INTERVAL_MS: "50", NODE_ENV: "test", DATABASE_URL: process.env.TEST_PG_URL as string, DATABASE_SCHEMA: schema, REDIS_URL: redisUrl as string });
    const sink = new Writable({
      write(chunk, _enc, done) {
        secondLogs += chunk.toString();
        done();
      },
    });
    second = await buildApp(config, { clock, logger: pino({ level: "debug" }, sink), announce: () => {} });
    await second.start();
  }
});
afterAll(async () => {
  await second?.stop();
  await gw?.close();
});

describe(`parallel answers are judged at most five times (${process.env.VERIGATE_TEST_STORE === "pg" ? "PostgreSQL, two instances" : "SQLite"})`, () => {
  it(`${BURST} parallel TOTP answers with one client token: five judged, the challenge DENIED (subscribers see it), the right code refused after`, async () => {
    const factor = await totpFactor("burst-totp", true);
    const created = (await gw.gql(CHALLENGE, { input: { serviceSid: gw.defaultServiceSid, factorSid: factor.sid } })).data!.createChallenge;
    const sid = created.challenge.sid as string;
    const live = subscribeWs(gw.wsClient(ADMIN_KEY), `subscription($sid: ID!) { challengeUpdated(sid: $sid) { status } }`, { sid });
    await live.waitFor(1);
    const right = factor.code();
    const answers = await Promise.all(Array.from({ length: BURST }, (_, i) => post(via(i), ANSWER, { input: { sid, code: i === BURST - 1 ? right : wrongCode(right) } }, created.clientToken)));

    expect(outcomes(answers)).toEqual({ CHALLENGE_VERIFICATION_FAILED: 4, TOO_MANY_ATTEMPTS: BURST - 4 });
    const failures = await events(sid, "challenge.answer_failed");
    expect(failures.map((e) => e.failedAttempts).sort()).toEqual([1, 2, 3, 4, 5]);
    expect((await gw.sql<{ failed_attempts: number; status: string }>("select failed_attempts, status from challenges where sid = ?", [sid]))[0]).toMatchObject({ failed_attempts: 5, status: "DENIED" });
    await live.done;
    expect(live.values.at(-1)?.challengeUpdated.status).toBe("DENIED");
    expect(errorCode(await post(gw.url, ANSWER, { input: { sid, code: right } }, created.clientToken))).toBe("TOO_MANY_ATTEMPTS");
  });

  it(`${BURST} parallel TOTP verifyFactor calls: five judged, the factor stays UNVERIFIED, the right code refused after`, async () => {
    const factor = await totpFactor("burst-verify", false);
    const right = factor.code();
    const answers = await Promise.all(Array.from({ length: BURST }, (_, i) => post(via(i), VERIFY, { input: { sid: factor.sid, code: i === BURST - 1 ? right : wrongCode(right) } }, ADMIN_KEY)));

    expect(outcomes(answers)).toEqual({ FACTOR_VERIFICATION_FAILED: 4, TOO_MANY_ATTEMPTS: BURST - 4 });
    expect((await events(factor.sid, "factor.verification_failed")).map((e) => e.failedAttempts).sort()).toEqual([1, 2, 3, 4, 5]);
    expect((await gw.sql<{ failed_attempts: number; status: string }>("select failed_attempts, status from factors where sid = ?", [factor.sid]))[0]).toMatchObject({ failed_attempts: 5, status: "UNVERIFIED" });
    expect(errorCode(await post(gw.url, VERIFY, { input: { sid: factor.sid, code: right } }, ADMIN_KEY))).toBe("TOO_MANY_ATTEMPTS");
  });

  it("a malformed passkey response is bad input and uses no attempt (it was a masked 500 that consumed one)", async () => {
    const service = (await gw.gql(`mutation { createService(input: { friendlyName: "Passkeys 2", passkeys: { rpId: "example.com", origins: ["https://login.example.com"] } }) { sid } }`)).data!.createService.sid as string;
    const authenticator = new SoftAuthenticator("example.com", "https://login.example.com");
    const created = (await gw.gql(CREATE, { input: { serviceSid: service, identity: "malformed", friendlyName: "laptop", factorType: "PASSKEY" } })).data!.createFactor;
    await gw.gql(VERIFY, { input: { sid: created.factor.sid, passkeyResponse: authenticator.register(created.passkeyCreationOptions) } });
    const challenge = (await gw.gql(CHALLENGE, { input: { serviceSid: service, identity: "malformed" } })).data!.createChallenge;
    const answer = await post(gw.url, ANSWER, { input: { sid: challenge.challenge.sid, passkeyResponse: { id: created.factor.sid } } }, challenge.clientToken);
    expect(answer.errors?.[0].extensions).toMatchObject({ code: "INVALID_PARAMETER", field: "passkeyResponse" });
    expect((await gw.sql<{ failed_attempts: number }>("select failed_attempts from challenges where sid = ?", [challenge.challenge.sid]))[0].failed_attempts).toBe(0);
  });

  it(`${BURST} parallel passkey assertions: five judged, the challenge DENIED, the right assertion refused after`, async () => {
    // A relying party of its own, so both instances (on different ports) expect the same origin.
    const service = (await gw.gql(`mutation { createService(input: { friendlyName: "Passkeys", passkeys: { rpId: "example.com", origins: ["https://login.example.com"] } }) { sid } }`)).data!.createService.sid as string;
    const authenticator = new SoftAuthenticator("example.com", "https://login.example.com");
    const created = (await gw.gql(CREATE, { input: { serviceSid: service, identity: "burst-passkey", friendlyName: "laptop", factorType: "PASSKEY" } })).data!.createFactor;
    expect((await gw.gql(VERIFY, { input: { sid: created.factor.sid, passkeyResponse: authenticator.register(created.passkeyCreationOptions) } })).data?.verifyFactor.status).toBe("VERIFIED");
    const challenge = (await gw.gql(CHALLENGE, { input: { serviceSid: service, identity: "burst-passkey" } })).data!.createChallenge;
    const sid = challenge.challenge.sid as string;
    const right = authenticator.assert(challenge.passkeyRequestOptions.challenge);
    // Signed by the right key, for another challenge: a replayed or forged assertion.
    const wrong = authenticator.assert("c29tZSBvdGhlciBjaGFsbGVuZ2U");
    const answers = await Promise.all(Array.from({ length: BURST }, (_, i) => post(via(i), ANSWER, { input: { sid, passkeyResponse: i === BURST - 1 ? right : wrong } }, challenge.clientToken)));

    expect(outcomes(answers)).toEqual({ CHALLENGE_VERIFICATION_FAILED: 4, TOO_MANY_ATTEMPTS: BURST - 4 });
    expect((await events(sid, "challenge.answer_failed")).map((e) => e.failedAttempts).sort()).toEqual([1, 2, 3, 4, 5]);
    expect((await gw.sql<{ status: string }>("select status from challenges where sid = ?", [sid]))[0].status).toBe("DENIED");
    expect(errorCode(await post(gw.url, ANSWER, { input: { sid, passkeyResponse: right } }, challenge.clientToken))).toBe("TOO_MANY_ATTEMPTS");
  });

  it("a right answer inside the cap approves, and is not counted as a failure", async () => {
    const factor = await totpFactor("right-after-wrong", true);
    const created = (await gw.gql(CHALLENGE, { input: { serviceSid: gw.defaultServiceSid, factorSid: factor.sid } })).data!.createChallenge;
    const right = factor.code();
    for (let i = 0; i < 2; i++) expect(errorCode(await post(via(i), ANSWER, { input: { sid: created.challenge.sid, code: wrongCode(right) } }, created.clientToken))).toBe("CHALLENGE_VERIFICATION_FAILED");
    expect((await post(via(1), ANSWER, { input: { sid: created.challenge.sid, code: right } }, created.clientToken)).data?.updateChallenge.status).toBe("APPROVED");
    expect((await gw.sql<{ failed_attempts: number }>("select failed_attempts from challenges where sid = ?", [created.challenge.sid]))[0].failed_attempts).toBe(2);
  });

  it("refusals and lockouts are logged with sids and the client's address, never with a code", async () => {
    const security = /^(a challenge answer was refused|challenge denied after too many failed answers|a factor verification was refused|factor locked after too many failed verifications)$/;
    const entries = `${gw.logs()}${secondLogs}`
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((entry) => security.test(String(entry.msg)));
    // pino levels: 30 info, 40 warn; lockouts are warnings.
    expect(entries.filter((e) => e.level === 40).map((e) => e.msg)).toEqual(expect.arrayContaining(["challenge denied after too many failed answers", "factor locked after too many failed verifications"]));
    for (const entry of entries) {
      expect(entry.clientAddress).toMatch(/127\.0\.0\.1|::1/);
      expect(entry.serviceSid).toMatch(/^VA/);
      expect(Object.keys(entry)).not.toEqual(expect.arrayContaining(["code"]));
      const { pid: _pid, time: _time, hostname: _host, ...said } = entry;
      expect(JSON.stringify(said)).not.toMatch(/\b\d{6}\b|eyJ|vgc_/);
    }
  });
});
