import { execFileSync, spawn } from "node:child_process";
import { createECDH, generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createSecureServer as createHttp2Server } from "node:http2";
import { type Server, createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ece from "http_ece";
import { CompactSign, decodeJwt, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type ChallengeView, DeviceClient, deviceToken, generateDeviceKey, signAnswer } from "../src/client/device/kit.js";
import { ADMIN_KEY, type TestGateway, errorCode, startGateway, subscribeWs } from "./support/gateway.js";

// A real push service stand-in over HTTPS (its own certificate, trusted through PUSH_TLS_CA_FILE): the
// gateway's Web Push message is decrypted with the subscription's keys (RFC 8291) as a browser would.
let gw: TestGateway;
let pushService: Server;
let pushUrl: string;
const tls = mkdtempSync(join(tmpdir(), "verigate-push-"));
const received: { path: string; headers: Record<string, string | string[] | undefined>; body: Buffer }[] = [];
let onPush: (() => void) | undefined;

const ACCESS = `mutation($input: CreateAccessTokenInput!) { createAccessToken(input: $input) { token expiresAt } }`;
const CREATE = `mutation($input: CreateFactorInput!) { createFactor(input: $input) { factor { sid status factorType identity } } }`;
const VERIFY = `mutation($input: VerifyFactorInput!) { verifyFactor(input: $input) { sid status } }`;
const CHALLENGE = `mutation($input: CreateChallengeInput!) { createChallenge(input: $input) { challenge { sid status signedFields silent } clientToken } }`;
const ANSWER = `mutation($input: UpdateChallengeInput!) { updateChallenge(input: $input) { sid status dateResponded } }`;
const READ = `query($sid: ID!) { challenge(sid: $sid) { sid factorSid serviceSid status silent details { message fields { label value } } hiddenDetails dateCreated expiresAt signedFields fallbackVerificationSid } }`;

beforeAll(async () => {
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", join(tls, "key.pem"), "-out", join(tls, "cert.pem"), "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
  pushService = createServer({ key: readFileSync(join(tls, "key.pem")), cert: readFileSync(join(tls, "cert.pem")) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(201).end();
      onPush?.();
    });
  });
  await new Promise<void>((r) => pushService.listen(0, "127.0.0.1", r));
  pushUrl = `https://127.0.0.1:${(pushService.address() as AddressInfo).port}`;
  gw = await startGateway({ env: { PUSH_TLS_CA_FILE: join(tls, "cert.pem") } });
});
afterAll(async () => {
  await gw?.close();
  pushService?.close();
  rmSync(tls, { recursive: true, force: true });
});

async function enrolled(identity: string, o: { silentApproval?: boolean; webPushSubscription?: unknown } = {}) {
  const access = await gw.gql(ACCESS, { input: { serviceSid: gw.defaultServiceSid, identity, factorType: "PUSH", ttlSeconds: 120 } });
  return DeviceClient.enroll({ url: gw.url, token: access.data!.createAccessToken.token, serviceSid: gw.defaultServiceSid, identity, friendlyName: `${identity}'s phone`, ...o });
}

async function challengeFor(device: DeviceClient, extra: Record<string, unknown> = {}) {
  const r = await gw.gql(CHALLENGE, {
    input: {
      serviceSid: gw.defaultServiceSid,
      factorSid: device.factorSid,
      details: { message: "Sign in from Firefox on Linux?", fields: [{ label: "Location", value: "Lisbon" }, { label: "IP", value: "192.0.2.7" }] },
      hiddenDetails: { ip: "192.0.2.7", session: "s-1" },
      ...extra,
    },
  });
  expect(r.errors).toBeUndefined();
  return r.data!.createChallenge as { challenge: { sid: string; signedFields: string[] }; clientToken: string };
}

describe("push factors: enrolment and device tokens", () => {
  it("a device app enrols with an access token (its identity and type only) and proves its key", async () => {
    const access = await gw.gql(ACCESS, { input: { serviceSid: gw.defaultServiceSid, identity: "alice", factorType: "PUSH" } });
    const token = access.data!.createAccessToken.token as string;
    const key = await generateDeviceKey();
    const other = await gw.gql(CREATE, { input: { serviceSid: gw.defaultServiceSid, identity: "bob", friendlyName: "x", factorType: "PUSH", push: { publicKey: key.publicKey } } }, token);
    expect(errorCode(other)).toBe("FORBIDDEN");
    expect(errorCode(await gw.gql(`mutation { startVerification(input: { serviceSid: "${gw.defaultServiceSid}", to: "+15005550006", channel: SMS }) { clientToken } }`, {}, token))).toBe("FORBIDDEN");
    const created = await gw.gql(CREATE, { input: { serviceSid: gw.defaultServiceSid, identity: "alice", friendlyName: "Alice's phone", factorType: "PUSH", push: { publicKey: key.publicKey } } }, token);
    const factor = created.data!.createFactor.factor;
    expect(factor).toMatchObject({ status: "UNVERIFIED", factorType: "PUSH", identity: "alice" });
    // A proof by another key is refused; the device's own key verifies the factor.
    const stranger = await generateDeviceKey();
    expect((await gw.gql(VERIFY, { input: { sid: factor.sid, authPayload: await deviceToken(factor.sid, stranger) } }, ADMIN_KEY)).errors?.[0].extensions).toMatchObject({ code: "FACTOR_VERIFICATION_FAILED", twilioCode: 60311 });
    const own = await deviceToken(factor.sid, key);
    expect((await gw.gql(VERIFY, { input: { sid: factor.sid, authPayload: own } }, own)).data?.verifyFactor.status).toBe("VERIFIED");
  });

  it("access tokens: ttl 60–300 s, service keys or admin only", async () => {
    expect((await gw.gql(ACCESS, { input: { serviceSid: gw.defaultServiceSid, identity: "a", factorType: "PUSH", ttlSeconds: 30 } })).errors?.[0].extensions).toMatchObject({ code: "INVALID_PARAMETER", field: "ttlSeconds" });
    expect(errorCode(await gw.gql(ACCESS, { input: { serviceSid: gw.defaultServiceSid, identity: "a", factorType: "PUSH" } }, null))).toBe("UNAUTHENTICATED");
    expect((await gw.gql(ACCESS, { input: { serviceSid: gw.defaultServiceSid, identity: "a", factorType: "PUSH", ttlSeconds: 300 } })).data?.createAccessToken.token).toMatch(/^vgt_/);
  });

  it("bad keys are refused with the field: not base64 DER, not P-256", async () => {
    const rsa = execFileSync("openssl", ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"]).toString();
    const rsaDer = execFileSync("openssl", ["pkey", "-pubout", "-outform", "DER"], { input: rsa }).toString("base64");
    for (const publicKey of ["not a key", rsaDer]) {
      const r = await gw.gql(CREATE, { input: { serviceSid: gw.defaultServiceSid, identity: "x", friendlyName: "x", factorType: "PUSH", push: { publicKey } } });
      expect(r.errors?.[0].extensions).toMatchObject({ code: "INVALID_PARAMETER", field: "push.publicKey" });
    }
  });

  it("device tokens: only its own factor and challenges; expired or long-lived tokens are refused", async () => {
    const a = await enrolled("carol");
    const b = await enrolled("dave");
    const { challenge } = await challengeFor(b);
    // A's token sees nothing of B: unknown and out of scope look the same.
    expect((await a.request<{ challenge: unknown }>(READ, { sid: challenge.sid })).challenge).toBeNull();
    expect((await a.request<{ challenges: { nodes: unknown[] } }>(`query($f: ID!) { challenges(factorSid: $f) { nodes { sid } } }`, { f: b.factorSid })).challenges.nodes).toEqual([]);
    const view = (await b.request<{ challenge: ChallengeView }>(READ, { sid: challenge.sid })).challenge;
    await expect(a.request(ANSWER, { input: { sid: challenge.sid, authPayload: await signAnswer(view, "approved", a.key) } })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(a.request(CHALLENGE, { input: { serviceSid: gw.defaultServiceSid, factorSid: a.factorSid, details: { message: "x" } } })).rejects.toMatchObject({ code: "FORBIDDEN" });
    const expired = await deviceToken(a.factorSid, a.key, { now: Date.now() - 3_600_000 });
    expect(errorCode(await gw.gql(`{ factor(sid: "${a.factorSid}") { sid } }`, {}, expired))).toBe("UNAUTHENTICATED");
    const tooLong = await deviceToken(a.factorSid, a.key, { ttlSeconds: 3600 });
    expect(errorCode(await gw.gql(`{ factor(sid: "${a.factorSid}") { sid } }`, {}, tooLong))).toBe("UNAUTHENTICATED");
    const forged = await deviceToken(a.factorSid, b.key);
    expect(errorCode(await gw.gql(`{ factor(sid: "${a.factorSid}") { sid } }`, {}, forged))).toBe("UNAUTHENTICATED");
    expect((await gw.gql(`{ factor(sid: "${a.factorSid}") { sid } }`, {}, await deviceToken(a.factorSid, a.key))).data?.factor.sid).toBe(a.factorSid);
  });
});

describe("push challenges", () => {
  it("the device lists, reads and approves; subscribers see PENDING → APPROVED; a second answer → CHALLENGE_ALREADY_RESPONDED", async () => {
    const device = await enrolled("erin");
    const { challenge, clientToken } = await challengeFor(device);
    expect(challenge.signedFields).toEqual(["sid", "factorSid", "serviceSid", "details", "hiddenDetails", "dateCreated", "expiresAt"]);
    const live = subscribeWs(gw.wsClient(clientToken), `subscription($sid: ID!) { challengeUpdated(sid: $sid) { status } }`, { sid: challenge.sid });
    await live.waitFor(1);
    const pending = await device.pendingChallenges();
    expect(pending.map((c) => c.sid)).toEqual([challenge.sid]);
    expect(pending[0]).toMatchObject({ details: { message: "Sign in from Firefox on Linux?" }, hiddenDetails: { ip: "192.0.2.7", session: "s-1" } });
    expect(await device.answer(pending[0], "approved")).toBe("APPROVED");
    await live.done;
    expect(live.values.map((v) => v.challengeUpdated.status)).toEqual(["PENDING", "APPROVED"]);
    await expect(device.answer(pending[0], "denied")).rejects.toMatchObject({ code: "CHALLENGE_ALREADY_RESPONDED" });
    expect(await device.pendingChallenges()).toEqual([]);
  });

  it("the device denies → DENIED", async () => {
    const device = await enrolled("frank");
    const { challenge } = await challengeFor(device);
    expect(await device.answer((await device.challenge(challenge.sid))!, "denied")).toBe("DENIED");
    expect((await gw.gql(READ, { sid: challenge.sid })).data?.challenge.status).toBe("DENIED");
  });

  it("signed values are compared parsed: other key order and another ISO form of a date are accepted; a changed value is refused", async () => {
    const device = await enrolled("grace");
    const { challenge } = await challengeFor(device);
    const view = (await device.challenge(challenge.sid))!;
    const tampered = await signAnswer({ ...view, details: { ...(view.details as object), message: "Pay 1 EUR?" } }, "approved", device.key);
    const refused = await gw.gql(ANSWER, { input: { sid: challenge.sid, authPayload: tampered } });
    expect(refused.errors?.[0].extensions).toMatchObject({ code: "CHALLENGE_VERIFICATION_FAILED", twilioCode: 60324 });
    expect(refused.errors?.[0].message).toMatch(/details/);
    const stranger = await generateDeviceKey();
    expect(errorCode(await gw.gql(ANSWER, { input: { sid: challenge.sid, authPayload: await signAnswer(view, "approved", stranger) } }))).toBe("CHALLENGE_VERIFICATION_FAILED");
    // Same values, different spelling: keys reordered, the date with an explicit offset.
    const reordered = { ...view, hiddenDetails: { session: "s-1", ip: "192.0.2.7" }, dateCreated: String(view.dateCreated).replace("Z", "+00:00") };
    expect((await gw.gql(ANSWER, { input: { sid: challenge.sid, authPayload: await signAnswer(reordered, "approved", device.key) } })).data?.updateChallenge.status).toBe("APPROVED");
  });

  it("an answer without status, or unsigned, is refused (event challenge.answer_failed); five refusals deny the challenge, then even a right answer → TOO_MANY_ATTEMPTS", async () => {
    const device = await enrolled("heidi");
    const { challenge } = await challengeFor(device);
    const view = (await device.challenge(challenge.sid))!;
    const noStatus = await new CompactSign(new TextEncoder().encode(JSON.stringify({ sid: view.sid }))).setProtectedHeader({ alg: "ES256", typ: "JWT" }).sign(device.key.privateKey);
    for (const payload of [noStatus, "e30.e30.", "not-a-jws"]) {
      expect(errorCode(await gw.gql(ANSWER, { input: { sid: challenge.sid, authPayload: payload } }))).toBe("CHALLENGE_VERIFICATION_FAILED");
    }
    expect(errorCode(await gw.gql(ANSWER, { input: { sid: challenge.sid, authPayload: "x.y.z" } }))).toBe("CHALLENGE_VERIFICATION_FAILED");
    expect(errorCode(await gw.gql(ANSWER, { input: { sid: challenge.sid, authPayload: "x.y.z" } }))).toBe("TOO_MANY_ATTEMPTS");
    expect((await gw.gql(READ, { sid: challenge.sid })).data?.challenge.status).toBe("DENIED");
    await expect(device.answer(view, "approved")).rejects.toMatchObject({ code: "TOO_MANY_ATTEMPTS" });
    const failures = await gw.sql<{ data: string }>("select data from events where resource_sid = ? and type = 'challenge.answer_failed' order by seq", [challenge.sid]);
    expect(failures.map((r) => JSON.parse(r.data).failedAttempts)).toEqual([1, 2, 3, 4, 5]);
    expect(failures.map((r) => r.data).join()).not.toMatch(/eyJ/);
  });

  it("a late answer → CHALLENGE_EXPIRED", async () => {
    const device = await enrolled("ivan");
    const { challenge } = await challengeFor(device, { expiresInSeconds: 1 });
    const view = (await device.challenge(challenge.sid))!;
    await new Promise((r) => setTimeout(r, 1100));
    await expect(device.answer(view, "approved")).rejects.toMatchObject({ code: "CHALLENGE_EXPIRED" });
  });

  it("bad input: a push challenge needs details; at most 20 fields; expiry at most 3600 s", async () => {
    const device = await enrolled("judy");
    const base = { serviceSid: gw.defaultServiceSid, factorSid: device.factorSid };
    expect((await gw.gql(CHALLENGE, { input: base })).errors?.[0].extensions).toMatchObject({ code: "INVALID_PARAMETER", field: "details" });
    const fields = Array.from({ length: 21 }, (_, i) => ({ label: `l${i}`, value: "v" }));
    expect((await gw.gql(CHALLENGE, { input: { ...base, details: { message: "m", fields } } })).errors?.[0].extensions).toMatchObject({ code: "INVALID_PARAMETER", field: "details.fields" });
    expect((await gw.gql(CHALLENGE, { input: { ...base, details: { message: "m" }, expiresInSeconds: 3601 } })).errors?.[0].extensions).toMatchObject({ code: "INVALID_PARAMETER", field: "expiresInSeconds" });
  });
});

describe("Web Push delivery", () => {
  it("a real Web Push round trip: the push service gets a VAPID-signed, RFC 8291-encrypted notice; the device decrypts it and approves", async () => {
    const vapidKey = (await gw.gql(`{ webPushPublicKey }`)).data?.webPushPublicKey as string;
    expect(Buffer.from(vapidKey, "base64url")).toHaveLength(65);
    // The browser side of PushManager.subscribe: a P-256 key pair and an auth secret.
    const browserKeys = createECDH("prime256v1");
    browserKeys.generateKeys();
    const auth = randomBytes(16);
    const subscription = { endpoint: `${pushUrl}/push/sub-1`, keys: { p256dh: browserKeys.getPublicKey().toString("base64url"), auth: auth.toString("base64url") } };
    const device = await enrolled("kim", { webPushSubscription: subscription });
    const arrived = new Promise<void>((r) => (onPush = r));
    const { challenge } = await challengeFor(device);
    await arrived;
    const push = received.at(-1)!;
    expect(push.path).toBe("/push/sub-1");
    expect(push.headers["content-encoding"]).toBe("aes128gcm");
    expect(Number(push.headers.ttl)).toBeGreaterThan(250);
    // VAPID: the JWT is signed for the push service's origin, with the key the gateway publishes.
    const [, jwt, k] = /^vapid t=([^,]+), k=(.+)$/.exec(String(push.headers.authorization))!;
    expect(k).toBe(vapidKey);
    expect(decodeJwt(jwt).aud).toBe(pushUrl);
    const notice = JSON.parse(ece.decrypt(push.body, { version: "aes128gcm", privateKey: browserKeys, authSecret: auth.toString("base64url") }).toString());
    expect(notice).toMatchObject({ type: "verigate.challenge", challengeSid: challenge.sid, factorSid: device.factorSid, message: "Sign in from Firefox on Linux?", silent: false });
    const view = (await device.challenge(notice.challengeSid))!;
    expect(await device.answer(view, "approved")).toBe("APPROVED");
  });
});

describe("FCM delivery (HTTP v1 against a local stand-in of Google's token and messages endpoints)", () => {
  it("the gateway gets an OAuth token with its service account, sends a data message to the device's registration token, and reuses the token", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const calls: { path: string; auth?: string; body: string }[] = [];
    const google = createHttpServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", async () => {
        calls.push({ path: req.url ?? "", auth: req.headers.authorization, body });
        if (req.url === "/token") {
          const form = new URLSearchParams(body);
          const ok = form.get("grant_type") === "urn:ietf:params:oauth:grant-type:jwt-bearer" && (await jwtVerify(form.get("assertion") ?? "", publicKey, { audience: `${fcmUrl}/token`, issuer: "verigate@demo.iam.gserviceaccount.com" }).then((r) => r.payload.scope === "https://www.googleapis.com/auth/firebase.messaging", () => false));
          res.writeHead(ok ? 200 : 400, { "content-type": "application/json" }).end(JSON.stringify(ok ? { access_token: "ya29.stand-in", expires_in: 3600 } : { error: "invalid_grant" }));
          return;
        }
        const authorized = req.headers.authorization === "Bearer ya29.stand-in" && req.url === "/v1/projects/demo-project/messages:send";
        res.writeHead(authorized ? 200 : 401, { "content-type": "application/json" }).end(JSON.stringify(authorized ? { name: "projects/demo-project/messages/1" } : {}));
      });
    });
    await new Promise<void>((r) => google.listen(0, "127.0.0.1", r));
    const fcmUrl = `http://127.0.0.1:${(google.address() as AddressInfo).port}`;
    const accountFile = join(tls, "service-account.json");
    writeFileSync(accountFile, JSON.stringify({ type: "service_account", project_id: "demo-project", client_email: "verigate@demo.iam.gserviceaccount.com", private_key: privateKey.export({ type: "pkcs8", format: "pem" }), token_uri: `${fcmUrl}/token` }));
    const fcmGateway = await startGateway({ env: { FCM_SERVICE_ACCOUNT: accountFile, FCM_API_URL: fcmUrl } });
    try {
      const access = await fcmGateway.gql(ACCESS, { input: { serviceSid: fcmGateway.defaultServiceSid, identity: "fay", factorType: "PUSH" } });
      const device = await DeviceClient.enroll({ url: fcmGateway.url, token: access.data!.createAccessToken.token, serviceSid: fcmGateway.defaultServiceSid, identity: "fay", friendlyName: "Fay's Android", notificationPlatform: "FCM", notificationToken: "fcm-registration-token-1" });
      for (const message of ["Sign in?", "Pay 10 EUR?"]) {
        await fcmGateway.gql(CHALLENGE, { input: { serviceSid: fcmGateway.defaultServiceSid, factorSid: device.factorSid, details: { message } } });
        await fcmGateway.app.dispatcher.idle();
      }
      expect(calls.map((c) => c.path)).toEqual(["/token", "/v1/projects/demo-project/messages:send", "/v1/projects/demo-project/messages:send"]);
      const sent = JSON.parse(calls[1].body).message;
      expect(sent).toMatchObject({ token: "fcm-registration-token-1", android: { priority: "HIGH" }, data: { type: "verigate.challenge", factorSid: device.factorSid, message: "Sign in?", silent: "false" } });
      expect(Number(sent.android.ttl.replace("s", ""))).toBeGreaterThan(250);
      const view = (await device.challenge(sent.data.challengeSid))!;
      expect(await device.answer(view, "approved")).toBe("APPROVED");
    } finally {
      await fcmGateway.close();
      google.close();
    }
  });
});

describe("APNs delivery (HTTP/2 with a provider token, against a local stand-in of Apple's service)", () => {
  it("alerts go as alert pushes, silent challenges as background pushes, both signed with the team's key", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const keyFile = join(tls, "AuthKey_ABCDE12345.p8");
    writeFileSync(keyFile, privateKey.export({ type: "pkcs8", format: "pem" }));
    const pushes: { headers: Record<string, string | string[] | undefined>; body: Record<string, any> }[] = [];
    const apple = createHttp2Server({ key: readFileSync(join(tls, "key.pem")), cert: readFileSync(join(tls, "cert.pem")) });
    apple.on("stream", (stream, headers) => {
      let body = "";
      stream.on("data", (c: Buffer) => (body += c.toString()));
      stream.on("end", async () => {
        const jwt = String(headers.authorization ?? "").replace(/^bearer /, "");
        const trusted = await jwtVerify(jwt, publicKey, { issuer: "TEAM123456" }).then((r) => r.protectedHeader.kid === "ABCDE12345", () => false);
        pushes.push({ headers, body: JSON.parse(body) });
        stream.respond({ ":status": trusted ? 200 : 403 });
        stream.end(trusted ? "" : JSON.stringify({ reason: "InvalidProviderToken" }));
      });
    });
    await new Promise<void>((r) => apple.listen(0, "127.0.0.1", r));
    const appleUrl = `https://127.0.0.1:${(apple.address() as AddressInfo).port}`;
    const gateway = await startGateway({
      env: { APNS_KEY_FILE: keyFile, APNS_KEY_ID: "ABCDE12345", APNS_TEAM_ID: "TEAM123456", APNS_TOPIC: "com.example.bank", APNS_URL: appleUrl, PUSH_TLS_CA_FILE: join(tls, "cert.pem") },
    });
    try {
      const access = await gateway.gql(ACCESS, { input: { serviceSid: gateway.defaultServiceSid, identity: "ian", factorType: "PUSH" } });
      const device = await DeviceClient.enroll({ url: gateway.url, token: access.data!.createAccessToken.token, serviceSid: gateway.defaultServiceSid, identity: "ian", friendlyName: "Ian's iPhone", notificationPlatform: "APN", notificationToken: "a1b2c3d4", silentApproval: true });
      await gateway.gql(CHALLENGE, { input: { serviceSid: gateway.defaultServiceSid, factorSid: device.factorSid, details: { message: "Sign in on the web?" } } });
      await gateway.app.dispatcher.idle();
      await gateway.gql(CHALLENGE, { input: { serviceSid: gateway.defaultServiceSid, factorSid: device.factorSid, details: { message: "Background check" }, silent: true } });
      await gateway.app.dispatcher.idle();
      expect(pushes).toHaveLength(2);
      expect(pushes[0].headers).toMatchObject({ ":path": "/3/device/a1b2c3d4", "apns-topic": "com.example.bank", "apns-push-type": "alert", "apns-priority": "10" });
      expect(pushes[0].body).toMatchObject({ aps: { alert: { body: "Sign in on the web?" } }, type: "verigate.challenge", factorSid: device.factorSid, silent: false });
      expect(pushes[1].headers).toMatchObject({ "apns-push-type": "background", "apns-priority": "5" });
      expect(pushes[1].body.aps).toEqual({ "content-available": 1 });
      expect(await device.answer((await device.challenge(pushes[0].body.challengeSid))!, "approved")).toBe("APPROVED");
    } finally {
      await gateway.close();
      apple.close();
    }
  });
});

describe("silent device approval", () => {
  const runCli = (args: string[]) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "device", ...args], { cwd: process.cwd(), env: { ...process.env, NODE_ENV: "test" } });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on("exit", r));
    return { child, output: () => out, exited };
  };

  it("silent challenges need a factor enrolled with silentApproval", async () => {
    const device = await enrolled("leo");
    const r = await gw.gql(CHALLENGE, { input: { serviceSid: gw.defaultServiceSid, factorSid: device.factorSid, details: { message: "m" }, silent: true } });
    expect(r.errors?.[0].extensions).toMatchObject({ code: "INVALID_PARAMETER", field: "silent" });
  });

  it("the simulator (`verigate device`) enrols, then answers a silent challenge by itself while a prompted one is denied", async () => {
    const state = join(tls, "device.json");
    const access = (await gw.gql(ACCESS, { input: { serviceSid: gw.defaultServiceSid, identity: "mona", factorType: "PUSH" } })).data!.createAccessToken.token;
    const enrol = runCli(["enroll", "--url", gw.url, "--token", access, "--service", gw.defaultServiceSid, "--identity", "mona", "--silent", "--state", state]);
    expect(await enrol.exited).toBe(0);
    const factorSid = /Enrolled factor (YF[0-9a-f]{32})/.exec(enrol.output())?.[1] as string;
    expect(factorSid).toBeTruthy();
    const listen = runCli(["listen", "--auto", "deny", "--interval", "200", "--state", state]);
    try {
      const silent = (await gw.gql(CHALLENGE, { input: { serviceSid: gw.defaultServiceSid, factorSid, details: { message: "Background check" }, silent: true } })).data!.createChallenge;
      const prompted = (await gw.gql(CHALLENGE, { input: { serviceSid: gw.defaultServiceSid, factorSid, details: { message: "Sign in?" } } })).data!.createChallenge;
      expect(silent.challenge.silent).toBe(true);
      const watch = subscribeWs(gw.wsClient(silent.clientToken), `subscription($sid: ID!) { challengeUpdated(sid: $sid) { status } }`, { sid: silent.challenge.sid });
      await watch.done;
      expect(watch.values.at(-1)?.challengeUpdated.status).toBe("APPROVED");
      const other = subscribeWs(gw.wsClient(prompted.clientToken), `subscription($sid: ID!) { challengeUpdated(sid: $sid) { status } }`, { sid: prompted.challenge.sid });
      await other.done;
      expect(other.values.at(-1)?.challengeUpdated.status).toBe("DENIED");
      // The simulator prints its answer when its HTTP answer comes back, which may be after subscribers
      // heard the approval (the event is published at commit): wait for the line, do not race it.
      await vi.waitFor(() => expect(listen.output()).toMatch(new RegExp(`${silent.challenge.sid}: APPROVED \\(silently\\)`)), { timeout: 5_000 });
    } finally {
      listen.child.kill("SIGINT");
      await listen.exited;
    }
  }, 60_000);

  it("unanswered in time, a silent challenge falls back to an OTP verification; its approval approves the challenge", async () => {
    const device = await enrolled("nina", { silentApproval: true }); // enrolled, but not listening
    const to = "+14155550111";
    const created = await gw.gql(CHALLENGE, {
      input: { serviceSid: gw.defaultServiceSid, factorSid: device.factorSid, details: { message: "Background check" }, silent: true, fallback: { channel: "SMS", to, afterSeconds: 1 } },
    });
    const { challenge, clientToken } = created.data!.createChallenge;
    const live = subscribeWs(gw.wsClient(clientToken), `subscription($sid: ID!) { challengeUpdated(sid: $sid) { status fallbackVerificationSid } }`, { sid: challenge.sid });
    await live.waitFor(2);
    const verificationSid = live.values[1].challengeUpdated.fallbackVerificationSid as string;
    expect(verificationSid).toMatch(/^VE[0-9a-f]{32}$/);
    expect(live.values[1].challengeUpdated.status).toBe("PENDING");
    // The OTP goes out through the outbox like any other: wait for it to land in the dev outbox.
    let message: { code: string; verificationSid: string } | undefined;
    for (let i = 0; i < 50 && !message; i++) {
      message = (await gw.gql(`query($to: String) { devOutbox(to: $to, first: 1) { code verificationSid } }`, { to })).data?.devOutbox[0];
      if (!message) await new Promise((r) => setTimeout(r, 100));
    }
    expect(message?.verificationSid).toBe(verificationSid);
    const checked = await gw.gql(`mutation($input: CheckVerificationInput!) { checkVerification(input: $input) { verification { status } } }`, {
      input: { serviceSid: gw.defaultServiceSid, verificationSid, code: message?.code },
    });
    expect(checked.data?.checkVerification.verification.status).toBe("APPROVED");
    await live.done;
    expect(live.values.at(-1)?.challengeUpdated.status).toBe("APPROVED");
  });

  it("a bad fallback is refused at creation, with the field", async () => {
    const device = await enrolled("oscar", { silentApproval: true });
    const base = { serviceSid: gw.defaultServiceSid, factorSid: device.factorSid, details: { message: "m" } };
    expect((await gw.gql(CHALLENGE, { input: { ...base, silent: true, fallback: { channel: "SMS", to: "not a number" } } })).errors?.[0].extensions).toMatchObject({ code: "INVALID_PARAMETER", field: "fallback.to" });
    expect((await gw.gql(CHALLENGE, { input: { ...base, fallback: { channel: "SMS", to: "+14155550111" } } })).errors?.[0].extensions).toMatchObject({ code: "INVALID_PARAMETER", field: "fallback" });
  });
});


