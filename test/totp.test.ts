import * as OTPAuth from "otpauth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../src/domain/clock.js";
import { ADMIN_KEY, type TestGateway, errorCode, startGateway, subscribeWs } from "./support/gateway.js";

// Codes come from `otpauth`, another RFC 6238 implementation than the gateway's (otplib): what an
// authenticator app computes is what the gateway accepts.
const CREATE = /* GraphQL */ `
  mutation($input: CreateFactorInput!) {
    createFactor(input: $input) { factor { sid status factorType identity friendlyName } totp { secret uri qrCodeSvg } }
  }`;
const VERIFY = `mutation($input: VerifyFactorInput!) { verifyFactor(input: $input) { sid status } }`;
const CHALLENGE = `mutation($input: CreateChallengeInput!) { createChallenge(input: $input) { challenge { sid status factorSid factorType signedFields } clientToken } }`;
const ANSWER = `mutation($input: UpdateChallengeInput!) { updateChallenge(input: $input) { sid status dateResponded } }`;

let gw: TestGateway;
const clock = new ManualClock(Date.UTC(2026, 5, 1, 12, 0, 0));

function app(secret: string, o: { algorithm?: string; digits?: number; period?: number } = {}) {
  return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), algorithm: o.algorithm ?? "SHA1", digits: o.digits ?? 6, period: o.period ?? 30 });
}
const codeAt = (totp: OTPAuth.TOTP, ms: number) => totp.generate({ timestamp: ms });

async function enrol(identity: string, totp?: Record<string, unknown>) {
  const created = await gw.gql(CREATE, { input: { serviceSid: gw.defaultServiceSid, identity, friendlyName: `${identity}'s phone`, factorType: "TOTP", ...(totp ? { totp } : {}) } });
  expect(created.errors).toBeUndefined();
  return created.data!.createFactor as { factor: { sid: string; status: string }; totp: { secret: string; uri: string; qrCodeSvg: string } };
}

async function verifiedFactor(identity: string) {
  const { factor, totp } = await enrol(identity);
  const device = app(totp.secret);
  const verified = await gw.gql(VERIFY, { input: { sid: factor.sid, code: codeAt(device, clock.now()) } });
  expect(verified.data?.verifyFactor.status).toBe("VERIFIED");
  clock.advance(60_000); // the enrolment code's step is spent; the one after it is fresh
  return { sid: factor.sid, device };
}

beforeAll(async () => {
  gw = await startGateway({ clock });
});
afterAll(async () => {
  await gw?.close();
});

describe("TOTP factors", () => {
  it("createFactor returns the base32 secret, an otpauth URI (issuer = service name, label = friendly name) and an SVG QR code", async () => {
    const { factor, totp } = await enrol("alice");
    expect(factor.status).toBe("UNVERIFIED");
    expect(totp.secret).toMatch(/^[A-Z2-7]{32}$/);
    const parsed = OTPAuth.URI.parse(totp.uri) as OTPAuth.TOTP;
    expect(parsed.issuer).toBe("Default");
    expect(parsed.label).toBe("alice's phone");
    expect(parsed.secret.base32).toBe(totp.secret);
    expect([parsed.digits, parsed.period, parsed.algorithm]).toEqual([6, 30, "SHA1"]);
    expect(totp.qrCodeSvg).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
    // The secret is shown once: the stored copy is sealed, and reads never return it.
    const rows = await gw.sql<{ secret: string }>("select secret from factors where sid = ?", [factor.sid]);
    expect(rows[0].secret).not.toContain(totp.secret);
    expect(JSON.stringify(await gw.gql(`{ factor(sid: "${factor.sid}") { sid status } }`))).not.toContain(totp.secret);
    expect(gw.logs()).not.toContain(totp.secret);
  });

  it("per-factor settings: SHA512, 8 digits, 60 s steps — the app computing with them is accepted", async () => {
    const { factor, totp } = await enrol("bob", { algorithm: "SHA512", codeLength: 8, timeStep: 60, skew: 0 });
    const parsed = OTPAuth.URI.parse(totp.uri) as OTPAuth.TOTP;
    expect([parsed.digits, parsed.period, parsed.algorithm]).toEqual([8, 60, "SHA512"]);
    expect(OTPAuth.Secret.fromBase32(totp.secret).bytes.length).toBe(64);
    const device = app(totp.secret, { algorithm: "SHA512", digits: 8, period: 60 });
    expect((await gw.gql(VERIFY, { input: { sid: factor.sid, code: codeAt(device, clock.now()) } })).data?.verifyFactor.status).toBe("VERIFIED");
  });

  it("service defaults apply to new factors; settings out of range are refused with the field", async () => {
    const svc = await gw.gql(`mutation { createService(input: { friendlyName: "Bank", totp: { issuer: "Acme Bank", codeLength: 7, algorithm: SHA256 } }) { sid totp { issuer codeLength timeStep skew algorithm } } }`);
    expect(svc.data?.createService.totp).toEqual({ issuer: "Acme Bank", codeLength: 7, timeStep: 30, skew: 1, algorithm: "SHA256" });
    const created = await gw.gql(CREATE, { input: { serviceSid: svc.data!.createService.sid, identity: "carol", friendlyName: "carol", factorType: "TOTP" } });
    const parsed = OTPAuth.URI.parse(created.data!.createFactor.totp.uri) as OTPAuth.TOTP;
    expect([parsed.issuer, parsed.digits, parsed.algorithm]).toEqual(["Acme Bank", 7, "SHA256"]);
    for (const [totp, field] of [
      [{ timeStep: 10 }, "totp.timeStep"],
      [{ codeLength: 9 }, "totp.codeLength"],
      // Fewer than 6 digits is too easy to guess (RFC 4226 §5.3, ASVS 2.8).
      [{ codeLength: 5 }, "totp.codeLength"],
      [{ skew: 3 }, "totp.skew"],
    ] as const) {
      const r = await gw.gql(CREATE, { input: { serviceSid: gw.defaultServiceSid, identity: "x", friendlyName: "x", factorType: "TOTP", totp } });
      expect(r.errors?.[0].extensions).toMatchObject({ code: "INVALID_PARAMETER", field });
    }
    const short = await gw.gql(`mutation($s: ID!) { updateService(input: { sid: $s, totp: { codeLength: 4 } }) { sid } }`, { s: svc.data!.createService.sid });
    expect(short.errors?.[0].extensions).toMatchObject({ code: "INVALID_PARAMETER", field: "totp.codeLength" });
  });

  it("a wrong first code → FACTOR_VERIFICATION_FAILED (event factor.verification_failed); the fifth locks the factor (TOO_MANY_ATTEMPTS 60310), even for the right code", async () => {
    const { factor, totp } = await enrol("dave");
    const device = app(totp.secret);
    const wrong = String((Number(codeAt(device, clock.now())) + 1) % 1_000_000).padStart(6, "0");
    for (let i = 0; i < 4; i++) expect((await gw.gql(VERIFY, { input: { sid: factor.sid, code: wrong } })).errors?.[0].extensions).toMatchObject({ code: "FACTOR_VERIFICATION_FAILED", twilioCode: 60311 });
    expect((await gw.gql(VERIFY, { input: { sid: factor.sid, code: wrong } })).errors?.[0].extensions).toMatchObject({ code: "TOO_MANY_ATTEMPTS", twilioCode: 60310 });
    expect((await gw.gql(VERIFY, { input: { sid: factor.sid, code: codeAt(device, clock.now()) } })).errors?.[0].extensions).toMatchObject({ code: "TOO_MANY_ATTEMPTS" });
    expect((await gw.gql(`{ factor(sid: "${factor.sid}") { status } }`)).data?.factor.status).toBe("UNVERIFIED");
    const failures = await gw.sql<{ data: string }>("select data from events where resource_sid = ? and type = 'factor.verification_failed'", [factor.sid]);
    expect(failures.map((r) => JSON.parse(r.data)).map((d) => [d.sid, d.failedAttempts])).toEqual([1, 2, 3, 4, 5].map((n) => [factor.sid, n]));
    expect(failures.map((r) => r.data).join()).not.toContain(wrong);
  });

  it("a challenge on an unverified factor → FACTOR_NOT_VERIFIED", async () => {
    const { factor } = await enrol("erin");
    expect((await gw.gql(CHALLENGE, { input: { serviceSid: gw.defaultServiceSid, factorSid: factor.sid } })).errors?.[0].extensions).toMatchObject({ code: "FACTOR_NOT_VERIFIED", twilioCode: 60318 });
  });

  it("a code approves its challenge; a subscriber sees PENDING then APPROVED; the same code again is refused (replay)", async () => {
    const { sid, device } = await verifiedFactor("frank");
    const first = await gw.gql(CHALLENGE, { input: { serviceSid: gw.defaultServiceSid, identity: "frank", factorType: "TOTP" } });
    const challenge = first.data!.createChallenge.challenge;
    expect(challenge).toMatchObject({ status: "PENDING", factorSid: sid, factorType: "TOTP", signedFields: [] });
    const live = subscribeWs(gw.wsClient(first.data!.createChallenge.clientToken), `subscription($sid: ID!) { challengeUpdated(sid: $sid) { status } }`, { sid: challenge.sid });
    await live.waitFor(1);
    const code = codeAt(device, clock.now());
    const approved = await gw.gql(ANSWER, { input: { sid: challenge.sid, code } }, first.data!.createChallenge.clientToken);
    expect(approved.data?.updateChallenge.status).toBe("APPROVED");
    await live.done;
    expect(live.values.map((v) => v.challengeUpdated.status)).toEqual(["PENDING", "APPROVED"]);
    expect(errorCode(await gw.gql(ANSWER, { input: { sid: challenge.sid, code } }))).toBe("CHALLENGE_ALREADY_RESPONDED");

    const second = (await gw.gql(CHALLENGE, { input: { serviceSid: gw.defaultServiceSid, factorSid: sid } })).data!.createChallenge.challenge;
    const replay = await gw.gql(ANSWER, { input: { sid: second.sid, code } });
    expect(replay.errors?.[0].extensions).toMatchObject({ code: "CHALLENGE_VERIFICATION_FAILED", twilioCode: 60324 });
    expect(replay.errors?.[0].message).toMatch(/already used/);
    // ASVS 2.8.5: a replay leaves a trace — an event, a warning with the sids and the client's address, a metric; never the code.
    const traces = await gw.sql<{ data: string }>("select data from events where resource_sid = ? and type = 'challenge.replay_refused'", [second.sid]);
    expect(traces.map((r) => JSON.parse(r.data))).toEqual([expect.objectContaining({ sid: second.sid, factorSid: sid, serviceSid: gw.defaultServiceSid, failedAttempts: 1 })]);
    expect(traces[0].data).not.toContain(code);
    const warning = gw.logs().split("\n").find((line) => line.includes("a TOTP code was replayed") && line.includes(second.sid));
    expect(JSON.parse(warning ?? "{}")).toMatchObject({ level: 40, challengeSid: second.sid, factorSid: sid, clientAddress: expect.stringMatching(/127\.0\.0\.1|::1/) });
    expect(warning).not.toContain(code);
    expect(await (await fetch(`${gw.url}/metrics`)).text()).toMatch(/^verigate_totp_replays_total 1$/m);
    clock.advance(30_000);
    expect((await gw.gql(ANSWER, { input: { sid: second.sid, code: codeAt(device, clock.now()) } })).data?.updateChallenge.status).toBe("APPROVED");
  });

  it("replay protection holds under parallel requests: one code, 10 challenges at once → exactly one APPROVED", async () => {
    const { sid, device } = await verifiedFactor("grace");
    const challenges = await Promise.all(
      Array.from({ length: 10 }, async () => (await gw.gql(CHALLENGE, { input: { serviceSid: gw.defaultServiceSid, factorSid: sid } })).data!.createChallenge.challenge.sid as string),
    );
    const code = codeAt(device, clock.now());
    const answers = await Promise.all(challenges.map((c) => gw.gql(ANSWER, { input: { sid: c, code } })));
    expect(answers.filter((a) => a.data?.updateChallenge.status === "APPROVED")).toHaveLength(1);
    expect(answers.filter((a) => errorCode(a) === "CHALLENGE_VERIFICATION_FAILED")).toHaveLength(9);
  });

  it("skew: a code one step old is accepted and its drift logged; one from three steps away is refused like any wrong code (no drift oracle)", async () => {
    const { sid, device } = await verifiedFactor("heidi");
    const c1 = (await gw.gql(CHALLENGE, { input: { serviceSid: gw.defaultServiceSid, factorSid: sid } })).data!.createChallenge.challenge.sid;
    expect((await gw.gql(ANSWER, { input: { sid: c1, code: codeAt(device, clock.now() - 30_000) } })).data?.updateChallenge.status).toBe("APPROVED");
    // The accepted code tells the operator how far the device's clock is off; refused ones below tell nothing.
    const drift = gw.logs().split("\n").filter((line) => line.includes('"driftSteps"'));
    expect(drift).toHaveLength(1);
    expect(JSON.parse(drift[0])).toMatchObject({ level: 30, challengeSid: c1, factorSid: sid, driftSteps: -1 });
    clock.advance(30_000);
    const c2 = (await gw.gql(CHALLENGE, { input: { serviceSid: gw.defaultServiceSid, factorSid: sid } })).data!.createChallenge.challenge.sid;
    // The device's clock runs 90 s slow (or 120 s fast): a refusal must not tell which window its code was from.
    const wrong = await gw.gql(ANSWER, { input: { sid: c2, code: String((Number(codeAt(device, clock.now())) + 1) % 1_000_000).padStart(6, "0") } });
    const slow = await gw.gql(ANSWER, { input: { sid: c2, code: codeAt(device, clock.now() - 90_000) } });
    const fast = await gw.gql(ANSWER, { input: { sid: c2, code: codeAt(device, clock.now() + 120_000) } });
    for (const refused of [slow, fast]) {
      expect(refused.errors?.[0].extensions).toEqual(wrong.errors?.[0].extensions);
      expect(refused.errors?.[0].message).toBe(wrong.errors?.[0].message);
    }
    expect(slow.errors?.[0].extensions).toEqual({ code: "CHALLENGE_VERIFICATION_FAILED", twilioCode: 60324 });
    expect((await gw.gql(`{ challenge(sid: "${c2}") { status } }`)).data?.challenge.status).toBe("PENDING");
    expect(gw.logs().split("\n").filter((line) => line.includes('"driftSteps"'))).toHaveLength(1);
  });

  it("five wrong codes deny the challenge (TOO_MANY_ATTEMPTS 60308); subscribers see DENIED, serviceEvents each failed answer", async () => {
    const { sid } = await verifiedFactor("ivan");
    const created = (await gw.gql(CHALLENGE, { input: { serviceSid: gw.defaultServiceSid, factorSid: sid } })).data!.createChallenge;
    const live = subscribeWs(gw.wsClient(ADMIN_KEY), `subscription($sid: ID!) { challengeUpdated(sid: $sid) { status } }`, { sid: created.challenge.sid });
    const feed = subscribeWs(gw.wsClient(ADMIN_KEY), `subscription($s: ID!) { serviceEvents(serviceSid: $s) { type resourceSid data } }`, { s: gw.defaultServiceSid });
    await live.waitFor(1);
    // serviceEvents sends nothing before the first event: a throw-away event proves the feed is listening.
    await gw.gql(CHALLENGE, { input: { serviceSid: gw.defaultServiceSid, factorSid: sid } });
    await feed.waitFor(1);
    const codes = await Promise.all(Array.from({ length: 5 }, () => gw.gql(ANSWER, { input: { sid: created.challenge.sid, code: "000000" } })));
    expect(codes.map(errorCode).sort()).toEqual(["CHALLENGE_VERIFICATION_FAILED", "CHALLENGE_VERIFICATION_FAILED", "CHALLENGE_VERIFICATION_FAILED", "CHALLENGE_VERIFICATION_FAILED", "TOO_MANY_ATTEMPTS"]);
    await live.done;
    expect(live.values.at(-1)?.challengeUpdated.status).toBe("DENIED");
    await feed.waitFor(7);
    const mine = feed.values.map((v) => v.serviceEvents).filter((e) => e.resourceSid === created.challenge.sid);
    expect(mine.filter((e) => e.type === "challenge.answer_failed").map((e) => e.data.failedAttempts).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(mine.map((e) => e.type)).toContain("challenge.denied");
    for (const e of mine) expect(Object.keys(e.data)).not.toContain("code");
  });

  it("an unanswered challenge expires: subscribers see EXPIRED; a late code → CHALLENGE_EXPIRED", async () => {
    const { sid, device } = await verifiedFactor("judy");
    const created = (await gw.gql(CHALLENGE, { input: { serviceSid: gw.defaultServiceSid, factorSid: sid, expiresInSeconds: 60 } })).data!.createChallenge;
    const live = subscribeWs(gw.wsClient(ADMIN_KEY), `subscription($sid: ID!) { challengeUpdated(sid: $sid) { status } }`, { sid: created.challenge.sid });
    await live.waitFor(1);
    clock.advance(61_000);
    await live.done;
    expect(live.values.map((v) => v.challengeUpdated.status)).toEqual(["PENDING", "EXPIRED"]);
    expect(errorCode(await gw.gql(ANSWER, { input: { sid: created.challenge.sid, code: codeAt(device, clock.now()) } }))).toBe("CHALLENGE_EXPIRED");
  });

  it("bad input: a code of letters → INVALID_PARAMETER code; no code → INVALID_PARAMETER; a deleted factor's challenges cannot be answered", async () => {
    const { sid, device } = await verifiedFactor("mallory");
    const c = (await gw.gql(CHALLENGE, { input: { serviceSid: gw.defaultServiceSid, factorSid: sid } })).data!.createChallenge.challenge.sid;
    expect((await gw.gql(ANSWER, { input: { sid: c, code: "12ab56" } })).errors?.[0].extensions).toMatchObject({ code: "INVALID_PARAMETER", field: "code" });
    expect((await gw.gql(ANSWER, { input: { sid: c } })).errors?.[0].extensions).toMatchObject({ code: "INVALID_PARAMETER", field: "code" });
    expect((await gw.gql(`mutation { deleteFactor(sid: "${sid}") { sid } }`)).data?.deleteFactor.sid).toBe(sid);
    expect(errorCode(await gw.gql(ANSWER, { input: { sid: c, code: codeAt(device, clock.now()) } }))).toBe("CHALLENGE_VERIFICATION_FAILED");
  });
});
