import * as OTPAuth from "otpauth";
import twilio from "twilio";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY, startAndReadCode } from "../support/gateway.js";
import { httpPeers } from "../support/peers.js";
import { ACCOUNT_SID, type TwilioGateway, twilioGateway } from "./support.js";
import { validateResponse } from "./openapi.js";

// Webhooks through the official `twilio` SDK (every answer checked against Twilio's OpenAPI description),
// and Twilio-format deliveries to a real receiver whose X-Twilio-Signature the SDK's own validateRequest checks.
let t: TwilioGateway;
const peers = httpPeers();

beforeAll(async () => {
  t = await twilioGateway();
});
afterAll(() => t?.close());
afterEach(() => peers.closeAll());

const newService = async (name: string) => (await t.admin.verify.v2.services.create({ friendlyName: name })).sid;
const form = (body: string) => Object.fromEntries(new URLSearchParams(body));

const FACTOR = `mutation($input: CreateFactorInput!) { createFactor(input: $input) { factor { sid } totp { secret } } }`;
async function totpFactor(serviceSid: string, identity: string) {
  return (await enrol(serviceSid, identity)).sid;
}
async function enrol(serviceSid: string, identity: string) {
  const r = await t.gw.gql<{ createFactor: { factor: { sid: string }; totp: { secret: string } } }>(FACTOR, {
    input: { serviceSid, identity, friendlyName: `${identity}'s phone`, factorType: "TOTP" },
  });
  expect(r.errors).toBeUndefined();
  const device = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(r.data!.createFactor.totp.secret) });
  return { sid: r.data!.createFactor.factor.sid, device };
}

describe("webhooks through the twilio SDK", () => {
  it("creates, fetches, lists, updates and deletes a webhook; sids are YW… over REST", async () => {
    const serviceSid = await newService("Webhooks CRUD");
    const hooks = t.admin.verify.v2.services(serviceSid).webhooks;
    const created = await hooks.create({ friendlyName: "backend", eventTypes: ["factor.created", "factor.verified"], webhookUrl: "https://hooks.example.com/verify", versionParam: "v2" });
    expect(created.sid).toMatch(/^YW[0-9a-f]{32}$/);
    expect(created).toMatchObject({
      serviceSid,
      accountSid: ACCOUNT_SID,
      friendlyName: "backend",
      eventTypes: ["factor.created", "factor.verified"],
      webhookUrl: "https://hooks.example.com/verify",
      webhookMethod: "POST",
      status: "enabled",
      version: "v2",
      url: expect.stringContaining(`/v2/Services/${serviceSid}/Webhooks/${created.sid}`),
    });
    // The same webhook over GraphQL: WH… with the same digits, Twilio's format.
    const gql = await t.gw.gql<{ webhooks: { nodes: { sid: string; format: string; eventTypes: string[] }[] } }>("query($s: ID!) { webhooks(serviceSid: $s) { nodes { sid friendlyName format eventTypes } } }", { s: serviceSid });
    expect(gql.data?.webhooks.nodes).toEqual([{ sid: `WH${created.sid.slice(2)}`, friendlyName: "backend", format: "TWILIO", eventTypes: ["factor.created", "factor.verified"] }]);
    expect((await t.admin.verify.v2.services(serviceSid).webhooks(created.sid).update({ friendlyName: "renamed" })).friendlyName).toBe("renamed");
    expect((await t.admin.verify.v2.services(serviceSid).webhooks(created.sid).update({ friendlyName: "backend" })).friendlyName).toBe("backend");

    const all = await hooks.create({ friendlyName: "everything", eventTypes: ["*"], webhookUrl: "https://hooks.example.com/all", status: "disabled" });
    expect(all).toMatchObject({ eventTypes: ["*"], status: "disabled" });

    expect(await hooks(created.sid).fetch()).toMatchObject({ sid: created.sid, webhookUrl: "https://hooks.example.com/verify" });
    const listed = await hooks.list({ pageSize: 1 });
    expect(listed.map((w) => w.sid)).toEqual([created.sid, all.sid]);

    const updated = await hooks(created.sid).update({ status: "disabled", eventTypes: ["challenge.approved", "challenge.denied"], webhookUrl: "https://hooks.example.com/v2" });
    expect(updated).toMatchObject({ status: "disabled", eventTypes: ["challenge.approved", "challenge.denied"], webhookUrl: "https://hooks.example.com/v2" });

    expect(await hooks(created.sid).remove()).toBe(true);
    const gone = await hooks(created.sid)
      .fetch()
      .catch((e) => e);
    expect(gone).toBeInstanceOf(twilio.RestException);
    expect(gone).toMatchObject({ status: 404, code: 20404 });
    expect((await hooks.list()).map((w) => w.sid)).toEqual([all.sid]);
  });

  it("answers Twilio's errors for missing parameters, unknown event types and Version v1", async () => {
    const serviceSid = await newService("Webhooks errors");
    const hooks = t.admin.verify.v2.services(serviceSid).webhooks;
    const bad = (p: Promise<unknown>) => p.catch((e) => e);
    expect(await bad(hooks.create({ friendlyName: "x", eventTypes: ["nothing.here"], webhookUrl: "https://hooks.example.com" }))).toMatchObject({ status: 400, code: 60200 });
    expect(await bad(hooks.create({ friendlyName: "x", eventTypes: ["*"], webhookUrl: "not a url" }))).toMatchObject({ status: 400, code: 60200 });
    expect(await bad(hooks.create({ friendlyName: "x", eventTypes: ["*"], webhookUrl: "https://hooks.example.com", versionParam: "v1" }))).toMatchObject({ status: 400, code: 20001 });
    // Where the SDK insists on its required parameters, a raw request leaves them out.
    const raw = await fetch(`${t.gw.url}/v2/Services/${serviceSid}/Webhooks`, {
      method: "POST",
      headers: { authorization: `Basic ${Buffer.from(`${ACCOUNT_SID}:${ADMIN_KEY}`).toString("base64")}`, "content-type": "application/x-www-form-urlencoded" },
      body: "FriendlyName=x&WebhookUrl=https%3A%2F%2Fhooks.example.com",
    });
    const body = await raw.json();
    validateResponse("POST", `/v2/Services/${serviceSid}/Webhooks`, raw.status, body);
    expect(body).toMatchObject({ status: 400, code: 20001 });
    expect(await bad(hooks("YW0123456789abcdef0123456789abcdef").fetch())).toMatchObject({ status: 404, code: 20404 });
  });

  it("another service's key sees none of its webhooks (404); its own key manages its own", async () => {
    const a = await newService("Webhooks A");
    const b = await newService("Webhooks B");
    const hook = await t.admin.verify.v2.services(a).webhooks.create({ friendlyName: "a", eventTypes: ["*"], webhookUrl: "https://hooks.example.com/a" });
    const keyB = await t.apiKey(b);
    const asB = t.withKey(keyB.sid, keyB.key);
    for (const attempt of [
      () => asB.verify.v2.services(a).webhooks(hook.sid).fetch(),
      () => asB.verify.v2.services(a).webhooks.list(),
      () => asB.verify.v2.services(a).webhooks(hook.sid).update({ status: "disabled" }),
      () => asB.verify.v2.services(a).webhooks(hook.sid).remove(),
      () => asB.verify.v2.services(a).webhooks.create({ friendlyName: "b", eventTypes: ["*"], webhookUrl: "https://hooks.example.com/b" }),
      // A's webhook under B's path is not B's either.
      () => asB.verify.v2.services(b).webhooks(hook.sid).fetch(),
    ]) {
      const error = await attempt().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(twilio.RestException);
      expect(error).toMatchObject({ status: 404, code: 20404 });
    }
    expect((await t.admin.verify.v2.services(a).webhooks(hook.sid).fetch()).status).toBe("enabled");
    const own = await asB.verify.v2.services(b).webhooks.create({ friendlyName: "b", eventTypes: ["*"], webhookUrl: "https://hooks.example.com/b" });
    expect((await asB.verify.v2.services(b).webhooks.list()).map((w) => w.sid)).toEqual([own.sid]);
  });
});

describe("Twilio-format deliveries", () => {
  it("a REST webhook POSTs Twilio's form for a factor event, signed with the admin key (the auth token)", async () => {
    const serviceSid = await newService("Twilio deliveries");
    const receiver = await peers.start(() => ({ status: 200 }));
    const webhookUrl = `${receiver.url}/hooks/twilio?tenant=7`;
    await t.admin.verify.v2.services(serviceSid).webhooks.create({ friendlyName: "backend", eventTypes: ["factor.created"], webhookUrl });

    const factorSid = await totpFactor(serviceSid, "user-0001");
    await t.gw.app.dispatcher.idle();
    await receiver.until(1);
    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests;
    expect(request.path).toBe("/hooks/twilio?tenant=7");
    expect(request.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    const params = form(request.body);
    expect(params).toMatchObject({
      uuid: expect.stringMatching(/^EV[0-9a-f]{32}$/),
      type: "factor.created",
      account_sid: ACCOUNT_SID,
      service_sid: serviceSid,
      entity_identity: "user-0001",
      factor_sid: factorSid,
      factor_type: "totp",
      factor_friendly_name: "user-0001's phone",
    });
    expect(request.headers["i-twilio-idempotency-token"]).toBe(params.uuid);
    const signature = request.headers["x-twilio-signature"] as string;
    expect(twilio.validateRequest(ADMIN_KEY, signature, webhookUrl, params)).toBe(true);
    // One altered parameter, another URL or another key: refused.
    expect(twilio.validateRequest(ADMIN_KEY, signature, webhookUrl, { ...params, factor_sid: factorSid.replace(/.$/, (c) => (c === "0" ? "1" : "0")) })).toBe(false);
    expect(twilio.validateRequest(ADMIN_KEY, signature, webhookUrl, { ...params, entity_identity: "user-0002" })).toBe(false);
    expect(twilio.validateRequest(ADMIN_KEY, signature, `${receiver.url}/hooks/twilio`, params)).toBe(false);
    expect(twilio.validateRequest(`${ADMIN_KEY}x`, signature, webhookUrl, params)).toBe(false);
    // Events the webhook did not subscribe to are not sent.
    await totpFactor(serviceSid, "user-0002");
    await t.gw.app.dispatcher.idle();
    expect(receiver.requests).toHaveLength(2);
    const deliveries = await t.gw.gql("query($w: ID!) { webhookDeliveries(webhookSid: $w) { nodes { status lastStatusCode } } }", {
      w: (await t.gw.gql("query($s: ID!) { webhooks(serviceSid: $s) { nodes { sid } } }", { s: serviceSid })).data?.webhooks.nodes[0].sid,
    });
    expect(deliveries.data?.webhookDeliveries.nodes).toEqual([
      { status: "DELIVERED", lastStatusCode: 200 },
      { status: "DELIVERED", lastStatusCode: 200 },
    ]);
  });

  it("a challenge approved with a TOTP code is sent as Twilio's challenge.approved", async () => {
    const serviceSid = await newService("Twilio challenge events");
    const receiver = await peers.start(() => ({ status: 200 }));
    const webhookUrl = `${receiver.url}/challenges`;
    await t.admin.verify.v2.services(serviceSid).webhooks.create({ friendlyName: "challenges", eventTypes: ["challenge.approved", "factor.verified"], webhookUrl });
    const { sid: factorSid, device } = await enrol(serviceSid, "user-0009");
    const verified = await t.gw.gql("mutation($input: VerifyFactorInput!) { verifyFactor(input: $input) { status } }", { input: { sid: factorSid, code: device.generate() } });
    expect(verified.data?.verifyFactor.status).toBe("VERIFIED");
    const challenge = await t.gw.gql<{ createChallenge: { challenge: { sid: string }; clientToken: string } }>(
      "mutation($input: CreateChallengeInput!) { createChallenge(input: $input) { challenge { sid } clientToken } }",
      { input: { serviceSid, factorSid } },
    );
    expect(challenge.errors).toBeUndefined();
    const { sid: challengeSid } = challenge.data!.createChallenge.challenge;
    // The enrolment spent this time step's code: the next step's (within the skew) answers the challenge.
    const code = device.generate({ timestamp: Date.now() + 30_000 });
    const answered = await t.gw.gql("mutation($input: UpdateChallengeInput!) { updateChallenge(input: $input) { status } }", { input: { sid: challengeSid, code } }, challenge.data!.createChallenge.clientToken);
    expect(answered.data?.updateChallenge.status).toBe("APPROVED");
    await t.gw.app.dispatcher.idle();
    await receiver.until(2);
    const [factorEvent, challengeEvent] = receiver.requests.map((r) => ({ params: form(r.body), signature: r.headers["x-twilio-signature"] as string }));
    expect(factorEvent.params).toMatchObject({ type: "factor.verified", factor_sid: factorSid, factor_type: "totp", entity_identity: "user-0009" });
    expect(challengeEvent.params).toMatchObject({
      type: "challenge.approved",
      account_sid: ACCOUNT_SID,
      service_sid: serviceSid,
      entity_identity: "user-0009",
      factor_sid: factorSid,
      factor_type: "totp",
      challenge_sid: challengeSid,
      challenge_status: "approved",
    });
    for (const { params, signature } of [factorEvent, challengeEvent]) {
      expect(twilio.validateRequest(ADMIN_KEY, signature, webhookUrl, params)).toBe(true);
      expect(twilio.validateRequest(ADMIN_KEY, signature, webhookUrl, { ...params, type: "challenge.denied" })).toBe(false);
    }
  });

  it("a webhook created with an API key is signed with that key's secret", async () => {
    const serviceSid = await newService("Twilio deliveries by key");
    const key = await t.apiKey(serviceSid);
    const receiver = await peers.start(() => ({ status: 204 }));
    const webhookUrl = `${receiver.url}/verify-events`;
    await t.withKey(key.sid, key.key).verify.v2.services(serviceSid).webhooks.create({ friendlyName: "keyed", eventTypes: ["*"], webhookUrl });
    const factorSid = await totpFactor(serviceSid, "user-0003");
    await t.gw.app.dispatcher.idle();
    await receiver.until(1);
    const params = form(receiver.requests[0].body);
    expect(params).toMatchObject({ type: "factor.created", factor_sid: factorSid });
    const signature = receiver.requests[0].headers["x-twilio-signature"] as string;
    expect(twilio.validateRequest(key.key, signature, webhookUrl, params)).toBe(true);
    expect(twilio.validateRequest(ADMIN_KEY, signature, webhookUrl, params)).toBe(false);
    expect(twilio.validateRequest(key.key, signature, webhookUrl, { ...params, type: "factor.deleted" })).toBe(false);
  });

  it("GraphQL: format TWILIO sends verification events in Twilio's form signed with the returned secret; STANDARD stays the default", async () => {
    const receiver = await peers.start(() => ({ status: 200 }));
    const webhookUrl = `${receiver.url}/twilio-format`;
    const created = await t.gw.gql<{ createWebhook: { secret: string; webhook: { sid: string; format: string } } }>(
      "mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { secret webhook { sid format } } }",
      { input: { serviceSid: t.gw.defaultServiceSid, url: webhookUrl, eventTypes: ["verification.started"], format: "TWILIO" } },
    );
    expect(created.errors).toBeUndefined();
    const { secret, webhook } = created.data!.createWebhook;
    expect(webhook.format).toBe("TWILIO");
    const standard = await t.gw.gql("mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { format } } }", {
      input: { serviceSid: t.gw.defaultServiceSid, url: `${receiver.url}/standard`, eventTypes: ["verification.started"] },
    });
    expect(standard.data?.createWebhook.webhook.format).toBe("STANDARD");

    const { sid } = await startAndReadCode(t.gw, { to: "+14155550199" });
    await t.gw.app.dispatcher.idle();
    await receiver.until(2);
    const twilioRequest = receiver.requests.find((r) => r.path === "/twilio-format")!;
    const standardRequest = receiver.requests.find((r) => r.path === "/standard")!;
    expect(standardRequest.json).toMatchObject({ type: "verification.started", resourceSid: sid });
    expect(standardRequest.headers["webhook-signature"]).toBeDefined();
    const params = form(twilioRequest.body);
    expect(params).toMatchObject({ type: "verification.started", service_sid: t.gw.defaultServiceSid, verification_sid: sid, verification_status: "pending", to: "+14155550199", channel: "sms" });
    const signature = twilioRequest.headers["x-twilio-signature"] as string;
    expect(twilio.validateRequest(secret, signature, webhookUrl, params)).toBe(true);
    expect(twilio.validateRequest(secret, signature, webhookUrl, { ...params, verification_status: "approved" })).toBe(false);

    // updateWebhook switches the format; the secret stays.
    const switched = await t.gw.gql("mutation($input: UpdateWebhookInput!) { updateWebhook(input: $input) { format } }", { input: { sid: webhook.sid, format: "STANDARD" } });
    expect(switched.data?.updateWebhook.format).toBe("STANDARD");
  });
});
