import { generateKeyPairSync, sign } from "node:crypto";
import * as OTPAuth from "otpauth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import twilio from "twilio";
import { type DeviceKey, deviceToken, generateDeviceKey } from "../../src/client/device/kit.js";
import { CompactSign } from "jose";
import { ACCOUNT_SID, type TwilioGateway, twilioGateway } from "./support.js";
import { validateResponse } from "./openapi.js";
import { ADMIN_KEY } from "../support/gateway.js";

// Entities, factors (TOTP and push), challenges and access tokens through the official `twilio` SDK; every
// answer is checked against Twilio's OpenAPI description before the SDK reads it.
let t: TwilioGateway;
let serviceSid: string;
let otherSid: string;
let n = 0;
const nextIdentity = () => `user-${Date.now().toString(36)}-${n++}`;

beforeAll(async () => {
  t = await twilioGateway();
  serviceSid = (await t.admin.verify.v2.services.create({ friendlyName: "Factors from Twilio" })).sid;
  otherSid = (await t.admin.verify.v2.services.create({ friendlyName: "Another service" })).sid;
});
afterAll(() => t?.close());

const svc = () => t.admin.verify.v2.services(serviceSid);

/** A TOTP factor created and verified; the authenticator app made from the secret the SDK returned. */
async function verifiedTotp(identity: string) {
  const created = await svc().entities(identity).newFactors.create({ friendlyName: "Phone app", factorType: "totp" });
  const app = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(created.binding.secret), digits: created.config.code_length, period: created.config.time_step });
  const verified = await svc().entities(identity).factors(created.sid).update({ authPayload: app.generate() });
  return { created, verified, app };
}

/** The fields a push answer signs, as the challenge's `Twilio-Verify-Signature-Fields` header lists them. */
let signatureFields: string[] = [];

/** The device's answer, as Twilio's SDKs make it: the listed fields as the REST API returned them, plus its decision, signed ES256. */
async function signRestAnswer(challenge: Record<string, unknown>, status: "approved" | "denied", key: DeviceKey): Promise<string> {
  const fields = signatureFields;
  expect(fields).toEqual(["sid", "factor_sid", "service_sid", "details", "hidden_details", "date_created", "expiration_date"]);
  const claims: Record<string, unknown> = { status };
  for (const f of fields) claims[f] = challenge[f] ?? null;
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims))).setProtectedHeader({ alg: "ES256", typ: "JWT" }).sign(key.privateKey);
}

/** The raw JSON the REST API answered (what a device reads and signs). */
async function rawGet(path: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${t.gw.url}${path}`, { headers: { authorization: `Basic ${Buffer.from(`${ACCOUNT_SID}:${ADMIN_KEY}`).toString("base64")}` } });
  const body = (await res.json()) as Record<string, unknown>;
  validateResponse("GET", path, res.status, body);
  signatureFields = res.headers.get("twilio-verify-signature-fields")?.split(",") ?? [];
  return body;
}

describe("entities through the twilio SDK", () => {
  it("creates, fetches, lists and deletes an entity; a second create answers 60301; a deleted one 20404", async () => {
    const identity = nextIdentity();
    const created = await svc().entities.create({ identity });
    expect(created.sid).toMatch(/^YE[0-9a-f]{32}$/);
    expect(created).toMatchObject({ identity, serviceSid, accountSid: ACCOUNT_SID });
    expect(created.links.factors).toContain(`/Entities/${identity}/Factors`);
    const again = await svc().entities.create({ identity }).catch((e) => e);
    expect(again).toMatchObject({ status: 409, code: 60301 });
    expect((await svc().entities(identity).fetch()).sid).toBe(created.sid);
    const listed = await svc().entities.list({ pageSize: 50 });
    expect(listed.map((e) => e.identity)).toContain(identity);
    // A factor made for it goes with it.
    const factor = await svc().entities(identity).newFactors.create({ friendlyName: "app", factorType: "totp" });
    expect(factor.entitySid).toBe(created.sid);
    expect(await svc().entities(identity).remove()).toBe(true);
    await expect(svc().entities(identity).fetch()).rejects.toMatchObject({ status: 404, code: 20404 });
    await expect(svc().entities(identity).factors(factor.sid).fetch()).rejects.toMatchObject({ status: 404, code: 20404 });
  });

  it("an identity's first factor creates its entity; list pages with the SDK's each()", async () => {
    const identity = nextIdentity();
    await svc().entities(identity).newFactors.create({ friendlyName: "a", factorType: "totp" });
    await svc().entities(identity).newFactors.create({ friendlyName: "b", factorType: "totp" });
    await svc().entities(identity).newFactors.create({ friendlyName: "c", factorType: "totp" });
    expect((await svc().entities(identity).fetch()).identity).toBe(identity);
    const names: string[] = [];
    await svc()
      .entities(identity)
      .factors.each({ pageSize: 2 }, (f) => {
        names.push(f.friendlyName);
      });
    expect(names).toEqual(["a", "b", "c"]);
  });
});

describe("TOTP factors and challenges through the twilio SDK", () => {
  it("creates a TOTP factor (binding: secret and uri), verifies it with the app's code, answers a challenge", async () => {
    const identity = nextIdentity();
    const { created, verified, app } = await verifiedTotp(identity);
    expect(created.sid).toMatch(/^YF[0-9a-f]{32}$/);
    expect(created).toMatchObject({ factorType: "totp", status: "unverified", identity, serviceSid });
    expect(created.binding.uri).toMatch(/^otpauth:\/\/totp\//);
    expect(created.config).toMatchObject({ time_step: 30, code_length: 6, skew: 1, alg: "sha1" });
    expect(verified.status).toBe("verified");
    expect((await svc().entities(identity).factors(created.sid).fetch()).status).toBe("verified");

    const challenge = await svc().entities(identity).challenges.create({ factorSid: created.sid });
    expect(challenge.sid).toMatch(/^YC[0-9a-f]{32}$/);
    expect(challenge).toMatchObject({ status: "pending", factorType: "totp", factorSid: created.sid, identity });
    // The code that verified the factor may not be used again: the app's next one (inside the skew) is.
    const answered = await svc()
      .entities(identity)
      .challenges(challenge.sid)
      .update({ authPayload: app.generate({ timestamp: Date.now() + 30_000 }) });
    expect(answered.status).toBe("approved");
    expect(answered.dateResponded).toBeInstanceOf(Date);
  });

  it("a TOTP code given at creation answers the challenge at once", async () => {
    const identity = nextIdentity();
    const { created, app } = await verifiedTotp(identity);
    const challenge = await svc()
      .entities(identity)
      .challenges.create({ factorSid: created.sid, authPayload: app.generate({ timestamp: Date.now() + 30_000 }) });
    expect(challenge.status).toBe("approved");
  });

  it("wrong codes: a factor answers 60311, a challenge 60324 (RestException with Twilio's code)", async () => {
    const identity = nextIdentity();
    const created = await svc().entities(identity).newFactors.create({ friendlyName: "app", factorType: "totp" });
    const app = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(created.binding.secret) });
    const wrong = app.generate() === "000000" ? "111111" : "000000";
    const error = await svc().entities(identity).factors(created.sid).update({ authPayload: wrong }).catch((e) => e);
    expect(error).toBeInstanceOf(twilio.RestException);
    expect(error).toMatchObject({ status: 403, code: 60311 });
    await svc().entities(identity).factors(created.sid).update({ authPayload: app.generate() });
    const challenge = await svc().entities(identity).challenges.create({ factorSid: created.sid });
    const refused = await svc().entities(identity).challenges(challenge.sid).update({ authPayload: wrong }).catch((e) => e);
    expect(refused).toBeInstanceOf(twilio.RestException);
    expect(refused).toMatchObject({ status: 403, code: 60324 });
    expect((await svc().entities(identity).challenges(challenge.sid).fetch()).status).toBe("pending");
  });

  it("lists an identity's challenges with Status, FactorSid and Order", async () => {
    const identity = nextIdentity();
    const { created, app } = await verifiedTotp(identity);
    const first = await svc().entities(identity).challenges.create({ factorSid: created.sid });
    const second = await svc().entities(identity).challenges.create({ factorSid: created.sid });
    await svc()
      .entities(identity)
      .challenges(first.sid)
      .update({ authPayload: app.generate({ timestamp: Date.now() + 30_000 }) });
    const all = await svc().entities(identity).challenges.list();
    expect(all.map((c) => c.sid)).toEqual([first.sid, second.sid]);
    const desc = await svc().entities(identity).challenges.list({ order: "desc" });
    expect(desc.map((c) => c.sid)).toEqual([second.sid, first.sid]);
    const pending = await svc().entities(identity).challenges.list({ status: "pending", factorSid: created.sid });
    expect(pending.map((c) => c.sid)).toEqual([second.sid]);
    expect(pending[0].entitySid).toMatch(/^YE/);
  });

  it("deletes a factor; a challenge for it is then 20404", async () => {
    const identity = nextIdentity();
    const { created } = await verifiedTotp(identity);
    expect(await svc().entities(identity).factors(created.sid).remove()).toBe(true);
    await expect(svc().entities(identity).challenges.create({ factorSid: created.sid })).rejects.toMatchObject({ status: 404, code: 20404 });
  });
});

describe("push factors through the twilio SDK", () => {
  it("creates a push factor with a P-256 key, verifies possession, and the device approves a challenge with its ES256 signature", async () => {
    const identity = nextIdentity();
    const key = await generateDeviceKey();
    const created = await svc()
      .entities(identity)
      .newFactors.create({ friendlyName: "Pixel", factorType: "push", "binding.alg": "ES256", "binding.publicKey": key.publicKey, "config.notificationPlatform": "none", "config.sdkVersion": "1.0.0" });
    expect(created).toMatchObject({ factorType: "push", status: "unverified" });
    expect(created.binding).toEqual({ public_key: key.publicKey, alg: "ES256" });
    expect(created.config).toMatchObject({ notification_platform: "none" });
    const verified = await svc()
      .entities(identity)
      .factors(created.sid)
      .update({ authPayload: await deviceToken(created.sid, key) });
    expect(verified.status).toBe("verified");

    const challenge = await svc()
      .entities(identity)
      .challenges.create({ factorSid: created.sid, "details.message": "Approve the sign-in from Paris?", "details.fields": [{ label: "IP", value: "1.2.3.4" }], hiddenDetails: { ip: "1.2.3.4" } });
    expect(challenge.details).toEqual({ message: "Approve the sign-in from Paris?", fields: [{ label: "IP", value: "1.2.3.4" }] });
    // The device reads the challenge over REST and signs what it read.
    const read = await rawGet(`/v2/Services/${serviceSid}/Entities/${identity}/Challenges/${challenge.sid}`);
    const approved = await svc()
      .entities(identity)
      .challenges(challenge.sid)
      .update({ authPayload: await signRestAnswer(read, "approved", key) });
    expect(approved.status).toBe("approved");
  });

  it("a signature by another key is refused (60324) and a tampered field too", async () => {
    const identity = nextIdentity();
    const key = await generateDeviceKey();
    const created = await svc().entities(identity).newFactors.create({ friendlyName: "Pixel", factorType: "push", "binding.alg": "ES256", "binding.publicKey": key.publicKey });
    await svc()
      .entities(identity)
      .factors(created.sid)
      .update({ authPayload: await deviceToken(created.sid, key) });
    const challenge = await svc().entities(identity).challenges.create({ factorSid: created.sid, "details.message": "Pay 10 EUR?" });
    const read = await rawGet(`/v2/Services/${serviceSid}/Entities/${identity}/Challenges/${challenge.sid}`);
    const stranger = await generateDeviceKey();
    await expect(
      svc()
        .entities(identity)
        .challenges(challenge.sid)
        .update({ authPayload: await signRestAnswer(read, "approved", stranger) }),
    ).rejects.toMatchObject({ code: 60324 });
    await expect(
      svc()
        .entities(identity)
        .challenges(challenge.sid)
        .update({ authPayload: await signRestAnswer({ ...read, details: { message: "Pay 1 EUR?", fields: [] } }, "approved", key) }),
    ).rejects.toMatchObject({ code: 60324 });
    const denied = await svc()
      .entities(identity)
      .challenges(challenge.sid)
      .update({ authPayload: await signRestAnswer(read, "denied", key) });
    expect(denied.status).toBe("denied");
  });

  it("a push factor without a public key answers 20001; with a bad one 60200", async () => {
    const identity = nextIdentity();
    await expect(svc().entities(identity).newFactors.create({ friendlyName: "x", factorType: "push" })).rejects.toMatchObject({ status: 400, code: 20001 });
    await expect(svc().entities(identity).newFactors.create({ friendlyName: "x", factorType: "push", "binding.publicKey": "bm90IGEga2V5" })).rejects.toMatchObject({ status: 400, code: 60200 });
  });
});

describe("as Twilio's device SDKs do it", () => {
  it("enrols with the access token as Basic `token:…` and proves possession with a DER signature over the factor sid", async () => {
    const identity = nextIdentity();
    const { token } = await svc().accessTokens.create({ identity, factorType: "push" });
    const device = t.withKey("token", token);
    const pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const publicKey = pair.publicKey.export({ format: "der", type: "spki" }).toString("base64");
    const created = await device.verify.v2
      .services(serviceSid)
      .entities(identity)
      .newFactors.create({ friendlyName: "iPhone", factorType: "push", "binding.alg": "ES256", "binding.publicKey": publicKey, "config.notificationPlatform": "none", "config.sdkVersion": "2.0.0", "config.appId": "com.example.app" });
    expect(created.status).toBe("unverified");
    // The access token enrols, nothing more.
    await expect(device.verify.v2.services(serviceSid).entities(identity).factors(created.sid).fetch()).rejects.toMatchObject({ status: 403 });
    const wrongProof = sign("sha256", Buffer.from("YF-someone-else"), pair.privateKey).toString("base64");
    await expect(svc().entities(identity).factors(created.sid).update({ authPayload: wrongProof })).rejects.toMatchObject({ code: 60311 });
    const proof = sign("sha256", Buffer.from(created.sid), pair.privateKey).toString("base64");
    expect((await svc().entities(identity).factors(created.sid).update({ authPayload: proof })).status).toBe("verified");
  });
});

describe("notifications through the twilio SDK", () => {
  it("sends a pending push challenge's notice again (201); a device without a platform answers 60307, a TOTP challenge 60200", async () => {
    const identity = nextIdentity();
    const key = await generateDeviceKey();
    const fcm = await svc()
      .entities(identity)
      .newFactors.create({ friendlyName: "Pixel", factorType: "push", "binding.alg": "ES256", "binding.publicKey": key.publicKey, "config.notificationPlatform": "fcm", "config.notificationToken": "f".repeat(64) });
    expect(fcm.config).toMatchObject({ notification_platform: "fcm", notification_token: "f".repeat(64) });
    await svc()
      .entities(identity)
      .factors(fcm.sid)
      .update({ authPayload: await deviceToken(fcm.sid, key) });
    const challenge = await svc().entities(identity).challenges.create({ factorSid: fcm.sid, "details.message": "Sign in?" });
    const notice = await svc().entities(identity).challenges(challenge.sid).notifications.create({ ttl: 60 });
    expect(notice.sid).toMatch(/^NT[0-9a-f]{32}$/);
    expect(notice).toMatchObject({ challengeSid: challenge.sid, identity, priority: "high", ttl: 60, serviceSid });

    // A device enrolled without notifications lists its challenges itself.
    const own = await generateDeviceKey();
    const polled = await svc().entities(identity).newFactors.create({ friendlyName: "Poller 2", factorType: "push", "binding.alg": "ES256", "binding.publicKey": own.publicKey, "config.notificationPlatform": "none" });
    await svc()
      .entities(identity)
      .factors(polled.sid)
      .update({ authPayload: await deviceToken(polled.sid, own) });
    const asked = await svc().entities(identity).challenges.create({ factorSid: polled.sid, "details.message": "Sign in?" });
    await expect(svc().entities(identity).challenges(asked.sid).notifications.create()).rejects.toMatchObject({ status: 400, code: 60307 });

    const totpUser = nextIdentity();
    const { created } = await verifiedTotp(totpUser);
    const totpChallenge = await svc().entities(totpUser).challenges.create({ factorSid: created.sid });
    await expect(svc().entities(totpUser).challenges(totpChallenge.sid).notifications.create()).rejects.toMatchObject({ status: 400, code: 60200 });
  });
});

describe("scope", () => {
  it("a factor or a challenge through another service's key, or under another identity, is 20404", async () => {
    const identity = nextIdentity();
    const { created } = await verifiedTotp(identity);
    const challenge = await svc().entities(identity).challenges.create({ factorSid: created.sid });
    const other = await t.apiKey(otherSid);
    const stranger = t.withKey(other.sid, other.key);
    await expect(stranger.verify.v2.services(serviceSid).entities(identity).factors(created.sid).fetch()).rejects.toMatchObject({ status: 404, code: 20404 });
    await expect(stranger.verify.v2.services(otherSid).entities(identity).factors(created.sid).fetch()).rejects.toMatchObject({ status: 404, code: 20404 });
    await expect(stranger.verify.v2.services(otherSid).entities(identity).challenges(challenge.sid).fetch()).rejects.toMatchObject({ status: 404, code: 20404 });
    await expect(stranger.verify.v2.services(serviceSid).entities(identity).fetch()).rejects.toMatchObject({ status: 404, code: 20404 });
    await expect(svc().entities("someone-else").factors(created.sid).fetch()).rejects.toMatchObject({ status: 404, code: 20404 });
    // The service's own key sees them.
    const own = await t.apiKey(serviceSid);
    const client = t.withKey(own.sid, own.key);
    expect((await client.verify.v2.services(serviceSid).entities(identity).challenges(challenge.sid).fetch()).sid).toBe(challenge.sid);
  });
});

describe("access tokens through the twilio SDK", () => {
  it("creates a push access token; its fetch by sid answers 20404 (tokens are not stored)", async () => {
    const identity = nextIdentity();
    const token = await svc().accessTokens.create({ identity, factorType: "push", factorFriendlyName: "Pixel", ttl: 120 });
    expect(token.sid).toMatch(/^YK[0-9a-f]{32}$/);
    expect(token).toMatchObject({ entityIdentity: identity, factorType: "push", factorFriendlyName: "Pixel", ttl: 120, serviceSid });
    expect(token.token).toMatch(/^vgt_/);
    await expect(svc().accessTokens(token.sid).fetch()).rejects.toMatchObject({ status: 404, code: 20404 });
    await expect(svc().accessTokens.create({ identity, factorType: "push", ttl: 10 })).rejects.toMatchObject({ status: 400 });
  });

  it("the token lets a device create its own push factor over REST (Bearer), nothing else", async () => {
    const identity = nextIdentity();
    const { token } = await svc().accessTokens.create({ identity, factorType: "push" });
    const key = await generateDeviceKey();
    const post = (who: string, body: Record<string, string>) =>
      fetch(`${t.gw.url}/v2/Services/${serviceSid}/Entities/${who}/Factors`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(body).toString(),
      });
    const ok = await post(identity, { FriendlyName: "Pixel", FactorType: "push", "Binding.Alg": "ES256", "Binding.PublicKey": key.publicKey });
    expect(ok.status).toBe(201);
    const created = (await ok.json()) as Record<string, unknown>;
    validateResponse("POST", `/v2/Services/${serviceSid}/Entities/${identity}/Factors`, 201, created);
    expect(created.factor_type).toBe("push");
    const other = await post(`${identity}-x`, { FriendlyName: "Pixel", FactorType: "push", "Binding.Alg": "ES256", "Binding.PublicKey": key.publicKey });
    expect(other.status).toBe(403);
  });
});
