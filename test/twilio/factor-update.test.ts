import * as OTPAuth from "otpauth";
import twilio from "twilio";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type DeviceKey, deviceToken, generateDeviceKey } from "../../src/client/device/kit.js";
import { verifyWebhook } from "../../src/client/webhooks.js";
import { ADMIN_KEY, errorCode } from "../support/gateway.js";
import { httpPeers } from "../support/peers.js";
import { type TwilioGateway, twilioGateway } from "./support.js";

// Updating a factor (Twilio's POST …/Factors/{Sid} with FriendlyName and Config.*) through the official
// `twilio` SDK, every answer checked against Twilio's OpenAPI description; the same operation over GraphQL
// (updateFactor), and the factor.updated event a webhook subscribes to.
let t: TwilioGateway;
let serviceSid: string;
let otherSid: string;
let n = 0;
const nextIdentity = () => `upd-${Date.now().toString(36)}-${n++}`;
const peers = httpPeers();

beforeAll(async () => {
  t = await twilioGateway();
  serviceSid = (await t.admin.verify.v2.services.create({ friendlyName: "Factor updates" })).sid;
  otherSid = (await t.admin.verify.v2.services.create({ friendlyName: "Another service" })).sid;
});
afterAll(() => t?.close());
afterEach(() => peers.closeAll());

const svc = () => t.admin.verify.v2.services(serviceSid);
const token = (c: string) => c.repeat(64);

/** A push factor created over REST, UNVERIFIED. */
async function pushFactor(identity: string, config: Record<string, string> = { "config.notificationPlatform": "fcm", "config.notificationToken": token("a") }) {
  const key = await generateDeviceKey();
  const created = await svc()
    .entities(identity)
    .newFactors.create({ friendlyName: "Pixel", factorType: "push", "binding.alg": "ES256", "binding.publicKey": key.publicKey, ...config });
  return { sid: created.sid, key };
}

/** The SDK as the device app holds it: its device token as Basic `token:…`, as Twilio's device SDKs send it. */
const asDevice = async (sid: string, key: DeviceKey) => t.withKey("token", await deviceToken(sid, key)).verify.v2.services(serviceSid);

const eventsOf = (sid: string) => t.gw.sql<{ type: string; data: string }>("select type, data from events where resource_sid = ? order by seq", [sid]);

describe("updating a push factor through the twilio SDK", () => {
  it("a device sends its proof with a new token (as Twilio's SDKs do): both apply; later a new token alone; each change is a factor.updated event without the token", async () => {
    const identity = nextIdentity();
    const { sid, key } = await pushFactor(identity);
    const device = await asDevice(sid, key);
    const first = await device
      .entities(identity)
      .factors(sid)
      .update({ authPayload: await deviceToken(sid, key), "config.notificationToken": token("b"), "config.notificationPlatform": "fcm", "config.sdkVersion": "0.12.0", friendlyName: "Pixel 9" });
    expect(first).toMatchObject({ sid, status: "verified", friendlyName: "Pixel 9", config: { notification_platform: "fcm", notification_token: token("b") } });

    // The app starts again with a rotated token.
    const rotated = await device.entities(identity).factors(sid).update({ "config.notificationToken": token("c") });
    expect(rotated.config).toMatchObject({ notification_platform: "fcm", notification_token: token("c") });
    expect(rotated.friendlyName).toBe("Pixel 9");
    const fetched = await svc().entities(identity).factors(sid).fetch();
    expect(fetched.config).toMatchObject({ notification_token: token("c") });
    expect(fetched.dateUpdated.getTime()).toBeGreaterThanOrEqual(fetched.dateCreated.getTime());

    // The same token again changes nothing and writes nothing.
    await device.entities(identity).factors(sid).update({ "config.notificationToken": token("c"), "config.notificationPlatform": "fcm" });
    const events = await eventsOf(sid);
    const updates = events.filter((e) => e.type === "factor.updated").map((e) => JSON.parse(e.data));
    expect(updates.map((u) => u.changed)).toEqual([["friendlyName", "notificationToken"], ["notificationToken"]]);
    expect(updates[0]).toMatchObject({ sid, serviceSid, identity, factorType: "PUSH", friendlyName: "Pixel 9" });
    for (const e of events) expect(e.data).not.toMatch(/bbbb|cccc/);
    // The change came before the proof, in the same request.
    expect(events.map((e) => e.type)).toEqual(["factor.created", "factor.updated", "factor.verified", "factor.updated"]);
  });

  it("a token belongs to its platform: none → fcm needs it in the same request, fcm → none drops it; apn; TOTP settings on a push factor are 60200", async () => {
    const identity = nextIdentity();
    const { sid } = await pushFactor(identity, { "config.notificationPlatform": "none" });
    const factor = () => svc().entities(identity).factors(sid);
    await expect(factor().update({ "config.notificationToken": token("d") })).rejects.toMatchObject({ status: 400, code: 60200 });
    await expect(factor().update({ "config.notificationPlatform": "fcm" })).rejects.toMatchObject({ status: 400, code: 60200 });
    const fcm = await factor().update({ "config.notificationPlatform": "fcm", "config.notificationToken": token("d") });
    expect(fcm.config).toMatchObject({ notification_platform: "fcm", notification_token: token("d") });
    // Another platform: the old platform's token is no address there.
    await expect(factor().update({ "config.notificationPlatform": "apn" })).rejects.toMatchObject({ status: 400, code: 60200 });
    const apn = await factor().update({ "config.notificationPlatform": "apn", "config.notificationToken": token("e") });
    expect(apn.config).toMatchObject({ notification_platform: "apn", notification_token: token("e") });
    const none = await factor().update({ "config.notificationPlatform": "none" });
    expect(none.config).toMatchObject({ notification_platform: "none", notification_token: null });
    await expect(factor().update({ "config.timeStep": 60 })).rejects.toMatchObject({ status: 400, code: 60200 });
    await expect(factor().update({ "config.notificationPlatform": "webpush" })).rejects.toMatchObject({ status: 400, code: 60200 });
    await expect(factor().update({ friendlyName: "x".repeat(65) })).rejects.toMatchObject({ status: 400, code: 60200 });
    // No parameter at all: the factor as it is.
    expect((await factor().update()).config).toMatchObject({ notification_platform: "none" });
  });

  it("another service's key, another identity's path or another factor's device token: 404 20404, and nothing changes", async () => {
    const identity = nextIdentity();
    const { sid } = await pushFactor(identity);
    const other = await t.apiKey(otherSid);
    await expect(t.withKey(other.sid, other.key).verify.v2.services(serviceSid).entities(identity).factors(sid).update({ friendlyName: "Stolen" })).rejects.toMatchObject({
      status: 404,
      code: 20404,
    });
    await expect(t.withKey(other.sid, other.key).verify.v2.services(otherSid).entities(identity).factors(sid).update({ friendlyName: "Stolen" })).rejects.toMatchObject({
      status: 404,
      code: 20404,
    });
    await expect(svc().entities(nextIdentity()).factors(sid).update({ friendlyName: "Stolen" })).rejects.toMatchObject({ status: 404, code: 20404 });
    const stranger = await pushFactor(identity);
    await expect((await asDevice(stranger.sid, stranger.key)).entities(identity).factors(sid).update({ friendlyName: "Stolen" })).rejects.toMatchObject({ status: 404, code: 20404 });
    // The service's own key may.
    const own = await t.apiKey(serviceSid);
    expect((await t.withKey(own.sid, own.key).verify.v2.services(serviceSid).entities(identity).factors(sid).update({ friendlyName: "Kept" })).friendlyName).toBe("Kept");
    expect((await eventsOf(sid)).filter((e) => e.type === "factor.updated")).toHaveLength(1);
  });
});

describe("updating a TOTP factor through the twilio SDK", () => {
  it("its parameters change while unverified and a code made with the new ones verifies it in the same request; once verified only skew and the name change", async () => {
    const identity = nextIdentity();
    const created = await svc().entities(identity).newFactors.create({ friendlyName: "Phone app", factorType: "totp" });
    expect(created.config).toMatchObject({ time_step: 30, code_length: 6, alg: "sha1" });
    const factor = () => svc().entities(identity).factors(created.sid);
    const changed = await factor().update({ "config.timeStep": 60, "config.codeLength": 8, "config.alg": "sha256" });
    expect(changed.config).toMatchObject({ time_step: 60, code_length: 8, skew: 1, alg: "sha256" });
    expect(changed.status).toBe("unverified");

    // The app set up with the new parameters (the seed the create answered); its code and a rename in one request.
    const app = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(created.binding.secret), digits: 8, period: 60, algorithm: "SHA256" });
    // A code of the old length is refused.
    await expect(factor().update({ authPayload: "123456" })).rejects.toMatchObject({ code: 60311 });
    const verified = await factor().update({ authPayload: app.generate(), friendlyName: "Authenticator" });
    expect(verified).toMatchObject({ status: "verified", friendlyName: "Authenticator", config: { time_step: 60, code_length: 8, alg: "sha256" } });

    for (const change of [{ "config.codeLength": 6 }, { "config.timeStep": 30 }, { "config.alg": "sha1" as const }]) {
      await expect(factor().update(change)).rejects.toMatchObject({ status: 400, code: 60200 });
    }
    // The same values again are no change; skew is the gateway's own tolerance.
    expect((await factor().update({ "config.codeLength": 8, "config.skew": 0 })).config).toMatchObject({ code_length: 8, skew: 0 });
    await expect(factor().update({ "config.notificationToken": token("f") })).rejects.toMatchObject({ status: 400, code: 60200 });
  });

  it("a refused code with a change: the change is made, the code answers 60311", async () => {
    const identity = nextIdentity();
    const created = await svc().entities(identity).newFactors.create({ friendlyName: "Phone app", factorType: "totp" });
    await expect(svc().entities(identity).factors(created.sid).update({ friendlyName: "Renamed", authPayload: "000000" })).rejects.toMatchObject({ status: 403, code: 60311 });
    expect(await svc().entities(identity).factors(created.sid).fetch()).toMatchObject({ friendlyName: "Renamed", status: "unverified" });
  });
});

const CREATE = `mutation($input: CreateFactorInput!) { createFactor(input: $input) { factor { sid status } } }`;
const VERIFY = `mutation($input: VerifyFactorInput!) { verifyFactor(input: $input) { sid status } }`;
const UPDATE = `mutation($input: UpdateFactorInput!) { updateFactor(input: $input) { sid friendlyName status factorType } }`;

async function gqlPushFactor(identity: string, verified = true) {
  const key = await generateDeviceKey();
  const r = await t.gw.gql(CREATE, { input: { serviceSid, identity, friendlyName: "Browser", factorType: "PUSH", push: { publicKey: key.publicKey, notificationPlatform: "FCM", notificationToken: token("g") } } });
  expect(r.errors).toBeUndefined();
  const sid = r.data!.createFactor.factor.sid as string;
  if (verified) expect((await t.gw.gql(VERIFY, { input: { sid, authPayload: await deviceToken(sid, key) } })).data?.verifyFactor.status).toBe("VERIFIED");
  return { sid, key, token: await deviceToken(sid, key) };
}

describe("updateFactor over GraphQL", () => {
  it("its own device token renames it and moves it to Web Push; another factor's device, another service's key → NOT_FOUND; bad input → INVALID_PARAMETER", async () => {
    const identity = nextIdentity();
    const mine = await gqlPushFactor(identity);
    const renamed = await t.gw.gql(UPDATE, { input: { sid: mine.sid, friendlyName: "Work laptop", push: { notificationToken: token("h") } } }, mine.token);
    expect(renamed.errors).toBeUndefined();
    expect(renamed.data?.updateFactor).toEqual({ sid: mine.sid, friendlyName: "Work laptop", status: "VERIFIED", factorType: "PUSH" });
    // The same factor over REST shows the new token.
    expect((await svc().entities(identity).factors(mine.sid).fetch()).config).toMatchObject({ notification_platform: "fcm", notification_token: token("h") });

    const subscription = { endpoint: "https://push.example.com/send/abc", keys: { p256dh: "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM", auth: "tBHItJI5svbpez7KI4CCXg" } };
    const webPush = await t.gw.gql(UPDATE, { input: { sid: mine.sid, push: { notificationPlatform: "WEBPUSH", webPushSubscription: subscription } } }, mine.token);
    expect(webPush.errors).toBeUndefined();
    const [row] = await t.gw.sql<{ config: string }>("select config from factors where sid = ?", [mine.sid]);
    expect(JSON.parse(row.config)).toMatchObject({ notificationPlatform: "WEBPUSH", notificationToken: null, webPushSubscription: subscription });

    const theirs = await gqlPushFactor(identity);
    expect(errorCode(await t.gw.gql(UPDATE, { input: { sid: theirs.sid, friendlyName: "Stolen" } }, mine.token))).toBe("NOT_FOUND");
    // An unverified factor's device may update its own factor (a token may rotate before the proof).
    const fresh = await gqlPushFactor(identity, false);
    expect((await t.gw.gql(UPDATE, { input: { sid: fresh.sid, push: { notificationToken: token("i") } } }, fresh.token)).data?.updateFactor.status).toBe("UNVERIFIED");
    const other = await t.apiKey(otherSid);
    expect(errorCode(await t.gw.gql(UPDATE, { input: { sid: mine.sid, friendlyName: "Stolen" } }, other.key))).toBe("NOT_FOUND");
    const own = await t.apiKey(serviceSid);
    expect((await t.gw.gql(UPDATE, { input: { sid: theirs.sid, friendlyName: "Spare phone" } }, own.key)).data?.updateFactor.friendlyName).toBe("Spare phone");

    for (const input of [{ sid: mine.sid }, { sid: mine.sid, totp: { skew: 0 } }, { sid: mine.sid, friendlyName: " " }, { sid: mine.sid, push: { notificationToken: token("j") } }]) {
      expect(errorCode(await t.gw.gql(UPDATE, { input }, ADMIN_KEY))).toBe("INVALID_PARAMETER");
    }
    expect(errorCode(await t.gw.gql(UPDATE, { input: { sid: "YF00000000000000000000000000000000", friendlyName: "x" } }, ADMIN_KEY))).toBe("NOT_FOUND");
    expect((await svc().entities(identity).factors(theirs.sid).fetch()).friendlyName).toBe("Spare phone");
  });

  it("a webhook subscribed to factor.updated receives it, in Standard Webhooks and in Twilio's format", async () => {
    const receiver = await peers.start(() => ({ status: 200 }));
    const created = await t.gw.gql(`mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { secret webhook { sid } } }`, {
      input: { serviceSid, url: `${receiver.url}/standard`, eventTypes: ["factor.updated"] },
    });
    expect(created.errors).toBeUndefined();
    const secret = created.data!.createWebhook.secret as string;
    const twilioUrl = `${receiver.url}/twilio`;
    const hook = await svc().webhooks.create({ friendlyName: "factor updates", eventTypes: ["factor.updated"], webhookUrl: twilioUrl });
    expect(hook.eventTypes).toEqual(["factor.updated"]);

    const identity = nextIdentity();
    const { sid, token: device } = await gqlPushFactor(identity);
    await t.gw.app.dispatcher.idle();
    expect(receiver.requests).toHaveLength(0);
    expect((await t.gw.gql(UPDATE, { input: { sid, friendlyName: "Renamed phone" } }, device)).errors).toBeUndefined();
    await t.gw.app.dispatcher.idle();
    await receiver.until(2);

    const standard = receiver.requests.find((r) => r.path === "/standard")!;
    const event = verifyWebhook(secret, standard.body, standard.headers);
    expect(event).toMatchObject({ type: "factor.updated", serviceSid, resourceSid: sid, data: { sid, identity, friendlyName: "Renamed phone", status: "VERIFIED", changed: ["friendlyName"] } });

    const form = receiver.requests.find((r) => r.path === "/twilio")!;
    const params = Object.fromEntries(new URLSearchParams(form.body));
    expect(params).toMatchObject({ type: "factor.updated", service_sid: serviceSid, entity_identity: identity, factor_sid: sid, factor_type: "push", factor_friendly_name: "Renamed phone", factor_status: "verified" });
    expect(twilio.validateRequest(ADMIN_KEY, form.headers["x-twilio-signature"] as string, twilioUrl, params)).toBe(true);
    expect(receiver.requests).toHaveLength(2);
  });
});
