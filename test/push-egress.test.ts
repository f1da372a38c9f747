import { execFileSync } from "node:child_process";
import { createECDH, generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { type Server, createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DeviceClient } from "../src/client/device/kit.js";
import { type TestGateway, startGateway } from "./support/gateway.js";

// A device app chooses its Web Push endpoint, so it must not make the gateway dial its own network: the
// webhooks' egress guard (WEBHOOK_PRIVATE_NETWORKS) holds for push endpoints at enrolment and at each
// send, and WEB_PUSH_HOSTS limits them to known push services. The push service stand-in counts every
// TCP connection it is offered.

let pushService: Server;
let port: number;
let connections = 0;
const tls = mkdtempSync(join(tmpdir(), "verigate-push-egress-"));
let gw: TestGateway | undefined;

beforeAll(async () => {
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", join(tls, "key.pem"), "-out", join(tls, "cert.pem"), "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], { stdio: "ignore" });
  pushService = createServer({ key: readFileSync(join(tls, "key.pem")), cert: readFileSync(join(tls, "cert.pem")) }, (_req, res) => res.writeHead(201).end());
  pushService.on("connection", () => connections++);
  await new Promise<void>((r) => pushService.listen(0, "127.0.0.1", r));
  port = (pushService.address() as AddressInfo).port;
});
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});
afterAll(() => {
  pushService?.close();
  rmSync(tls, { recursive: true, force: true });
});

function subscription(endpoint: string) {
  const keys = createECDH("prime256v1");
  keys.generateKeys();
  return { endpoint, keys: { p256dh: keys.getPublicKey().toString("base64url"), auth: randomBytes(16).toString("base64url") } };
}

async function enrol(g: TestGateway, identity: string, endpoint: string) {
  const access = await g.gql(`mutation($input: CreateAccessTokenInput!) { createAccessToken(input: $input) { token } }`, { input: { serviceSid: g.defaultServiceSid, identity, factorType: "PUSH", ttlSeconds: 120 } });
  return DeviceClient.enroll({ url: g.url, token: access.data!.createAccessToken.token, serviceSid: g.defaultServiceSid, identity, friendlyName: "phone", webPushSubscription: subscription(endpoint) });
}

const deviceKey = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).publicKey.export({ type: "spki", format: "der" }).toString("base64");
const CREATE = `mutation($input: CreateFactorInput!) { createFactor(input: $input) { factor { sid } } }`;
const createInput = (g: TestGateway, endpoint: string) => ({
  serviceSid: g.defaultServiceSid,
  identity: "eve",
  friendlyName: "phone",
  factorType: "PUSH",
  push: { publicKey: deviceKey, webPushSubscription: subscription(endpoint) },
});

describe("Web Push egress guard", () => {
  it("with private networks denied, enrolment to a loopback, private or link-local endpoint is refused with the field", async () => {
    gw = await startGateway({ env: { WEBHOOK_PRIVATE_NETWORKS: "deny", PUSH_TLS_CA_FILE: join(tls, "cert.pem") } });
    for (const endpoint of [`https://127.0.0.1:${port}/push/1`, "https://localhost/push/2", "https://[::1]/push/3", "https://10.0.0.7/push/4", "https://169.254.169.254/latest"]) {
      const r = await gw.gql(CREATE, { input: createInput(gw, endpoint) });
      expect(r.errors?.[0].extensions, endpoint).toMatchObject({ code: "INVALID_PARAMETER", field: "push.webPushSubscription" });
    }
    expect(connections).toBe(0);
  });

  it("WEB_PUSH_HOSTS: an endpoint outside the listed push services is refused", async () => {
    gw = await startGateway({ env: { WEB_PUSH_HOSTS: "*.push.example.net,updates.push.services.mozilla.com" } });
    const refused = await gw.gql(CREATE, { input: createInput(gw, "https://attacker.example.org/push/1") });
    expect(refused.errors?.[0].extensions).toMatchObject({ code: "INVALID_PARAMETER", field: "push.webPushSubscription" });
    const suffixTrick = await gw.gql(CREATE, { input: createInput(gw, "https://evilpush.example.net/push/1") });
    expect(suffixTrick.errors?.[0].extensions).toMatchObject({ code: "INVALID_PARAMETER", field: "push.webPushSubscription" });
  });

  it("at send time, an endpoint whose name resolves to loopback is never dialled", async () => {
    gw = await startGateway({ env: { WEBHOOK_PRIVATE_NETWORKS: "deny", PUSH_TLS_CA_FILE: join(tls, "cert.pem") } });
    // Enrolled while its name pointed elsewhere (the policy checks literal addresses at enrolment and
    // every address the name resolves to at each send): the stored endpoint now names loopback.
    const device = await enrol(gw, "mallory", "https://push.example.net/push/1");
    await gw.sql("update factors set config = replace(config, 'https://push.example.net/push/1', ?) where sid = ?", [`https://localhost:${port}/push/1`, device.factorSid]);
    expect((await gw.sql<{ config: string }>("select config from factors where sid = ?", [device.factorSid]))[0].config).toContain(`localhost:${port}`);
    const before = connections;
    const created = await gw.gql(`mutation($input: CreateChallengeInput!) { createChallenge(input: $input) { challenge { sid } } }`, {
      input: { serviceSid: gw.defaultServiceSid, factorSid: device.factorSid, details: { message: "Sign in?" } },
    });
    expect(created.errors).toBeUndefined();
    await gw.app.dispatcher.idle();
    expect(connections - before).toBe(0);
    // Refused by the socket's own DNS lookup, not by the name: localhost resolved to loopback.
    expect(gw.logs()).toMatch(/localhost resolves to an internal address/);
  });
});
