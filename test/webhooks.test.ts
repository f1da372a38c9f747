import { hostname } from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../src/domain/clock.js";
import { verifyWebhook } from "../src/client/webhooks.js";
import { CHECK, START, type TestGateway, errorCode, startAndReadCode, startGateway } from "./support/gateway.js";
import { httpPeers } from "./support/peers.js";

let gw: TestGateway | undefined;
const peers = httpPeers();
afterEach(async () => {
  await gw?.close();
  await peers.closeAll();
  gw = undefined;
});
const receiver = peers.start;

const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { secret webhook { sid serviceSid url eventTypes enabled } } }`;
const DELIVERIES = `query($w: ID!, $status: WebhookDeliveryStatus) { webhookDeliveries(webhookSid: $w, status: $status) { nodes { eventSid eventType status attempts lastStatusCode lastError deliveredAt } } }`;

describe("webhooks", () => {
  it("a receiver that fails twice then succeeds gets each event signed, retried with backoff, and once per success", async () => {
    const clock = new ManualClock(Date.now());
    gw = await startGateway({ clock });
    // The receiver answers 500 to its first two requests, then 200 to everything.
    const hook = await receiver((_r, i) => ({ status: i < 2 ? 500 : 200 }));
    const created = await gw.gql(CREATE, { input: { serviceSid: gw.defaultServiceSid, url: `${hook.url}/hooks/verigate`, eventTypes: ["verification.*"] } });
    expect(created.errors).toBeUndefined();
    const { secret, webhook } = created.data!.createWebhook;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]{32}$/);
    expect(webhook).toMatchObject({ sid: expect.stringMatching(/^WH[0-9a-f]{32}$/), enabled: true, eventTypes: ["verification.*"] });

    const { sid, code } = await startAndReadCode(gw, { to: "+14155551001" });
    await gw.app.dispatcher.idle();
    expect(hook.requests).toHaveLength(1);
    // Not due again before its backoff (0.5–1 s), then again (1–2 s).
    await gw.app.dispatcher.idle();
    expect(hook.requests).toHaveLength(1);
    clock.advance(1000);
    await gw.app.dispatcher.idle();
    expect(hook.requests).toHaveLength(2);
    clock.advance(2000);
    await gw.app.dispatcher.idle();
    expect(hook.requests).toHaveLength(3);
    // Delivered: no more tries, however long we wait (within the verification's ttl, so it can be checked).
    clock.advance(300_000);
    await gw.app.dispatcher.idle();
    expect(hook.requests).toHaveLength(3);

    const ids = new Set(hook.requests.map((r) => r.headers["webhook-id"]));
    expect(ids.size).toBe(1);
    for (const request of hook.requests) {
      expect(request.path).toBe("/hooks/verigate");
      const event = verifyWebhook(secret, request.body, request.headers);
      expect(event).toMatchObject({ type: "verification.started", serviceSid: gw.defaultServiceSid, resourceSid: sid, data: { sid, status: "PENDING" } });
      expect(event.id).toBe(request.headers["webhook-id"]);
      expect(JSON.stringify(event)).not.toContain(code);
    }
    // A wrong secret, or a body changed in transit, fails verification.
    expect(() => verifyWebhook(`whsec_${Buffer.from("another secret of 24 bytes!").toString("base64")}`, hook.requests[2].body, hook.requests[2].headers)).toThrow();
    expect(() => verifyWebhook(secret, hook.requests[2].body.replace("PENDING", "APPROVED"), hook.requests[2].headers)).toThrow();

    // The approval: one request, one success. Delivery events are not subscribed to.
    const checked = await gw.gql(CHECK, { input: { serviceSid: gw.defaultServiceSid, verificationSid: sid, code } });
    expect(checked.data?.checkVerification.verification.status).toBe("APPROVED");
    await gw.app.dispatcher.idle();
    expect(hook.requests).toHaveLength(4);
    const types = hook.requests.map((r) => verifyWebhook(secret, r.body, r.headers).type);
    expect(types).toEqual(["verification.started", "verification.started", "verification.started", "verification.approved"]);
    const successes = hook.requests.slice(2).map((r) => r.headers["webhook-id"]);
    expect(new Set(successes).size).toBe(successes.length);

    const history = await gw.gql(DELIVERIES, { w: webhook.sid });
    expect(history.data?.webhookDeliveries.nodes).toEqual([
      expect.objectContaining({ eventType: "verification.approved", status: "DELIVERED", attempts: 1, lastStatusCode: 200, lastError: null }),
      expect.objectContaining({ eventType: "verification.started", status: "DELIVERED", attempts: 3, lastStatusCode: 200, lastError: null, deliveredAt: expect.any(String) }),
    ]);
    expect((await gw.gql(DELIVERIES, { w: webhook.sid, status: "FAILED" })).data?.webhookDeliveries.nodes).toEqual([]);
    // The secret was shown once: it is stored sealed and never logged.
    const [row] = await gw.sql<{ secret_sealed: string }>("select secret_sealed from webhooks where sid = ?", [webhook.sid]);
    expect(row.secret_sealed).not.toContain(secret.slice(6));
    expect(gw.logs()).not.toContain(secret.slice(6));
    expect(await gw.sql("select id from outbox")).toEqual([]);
  });

  it("SSRF guard (WEBHOOK_PRIVATE_NETWORKS=deny, production's default): internal addresses are refused at creation, and names resolving to one at delivery", async () => {
    const clock = new ManualClock(Date.now());
    gw = await startGateway({ clock, env: { WEBHOOK_PRIVATE_NETWORKS: "deny", WEBHOOK_MAX_TRIES: "1" } });
    const inside = await receiver(() => ({ status: 200 }));
    const port = new URL(inside.url).port;
    for (const url of [inside.url, `http://localhost:${port}/`, "http://169.254.169.254/latest/meta-data/", "http://[::1]:80/", "http://10.1.2.3/", "http://[::ffff:127.0.0.1]/"]) {
      const refused = await gw.gql(CREATE, { input: { serviceSid: gw.defaultServiceSid, url, eventTypes: ["*"] } });
      expect(refused.errors?.[0].extensions, url).toMatchObject({ code: "INVALID_PARAMETER", field: "url" });
    }
    // A name is checked when it resolves, inside the connection's own lookup (no rebinding window).
    const named = `http://${hostname()}:${port}/hook`;
    const hook = (await gw.gql(CREATE, { input: { serviceSid: gw.defaultServiceSid, url: named, eventTypes: ["verification.started"] } })).data!.createWebhook.webhook;
    await startAndReadCode(gw, { to: "+14155551009" });
    await gw.app.dispatcher.idle();
    expect(inside.requests).toHaveLength(0);
    const history = (await gw.gql(DELIVERIES, { w: hook.sid })).data?.webhookDeliveries.nodes;
    expect(history).toEqual([expect.objectContaining({ status: "FAILED", lastStatusCode: null })]);
    // This machine's own name resolves to a loopback or private address (/etc/hosts).
    expect(history[0].lastError).toMatch(/resolves to an internal address/);
  });

  it("gives up after WEBHOOK_MAX_TRIES with the reason; a disabled or deleted webhook receives nothing", async () => {
    const clock = new ManualClock(Date.now());
    gw = await startGateway({ clock, env: { WEBHOOK_MAX_TRIES: "2" } });
    const down = await receiver(() => ({ status: 503 }));
    const failing = (await gw.gql(CREATE, { input: { serviceSid: gw.defaultServiceSid, url: down.url, eventTypes: ["verification.started"] } })).data!.createWebhook.webhook;
    const quiet = await receiver(() => ({ status: 200 }));
    const disabled = (await gw.gql(CREATE, { input: { serviceSid: gw.defaultServiceSid, url: quiet.url, eventTypes: ["*"], enabled: false } })).data!.createWebhook.webhook;
    await startAndReadCode(gw, { to: "+14155551002" });
    clock.advance(2000);
    await gw.app.dispatcher.idle();
    expect(down.requests).toHaveLength(2);
    expect(quiet.requests).toHaveLength(0);
    const history = await gw.gql(DELIVERIES, { w: failing.sid });
    expect(history.data?.webhookDeliveries.nodes).toEqual([expect.objectContaining({ status: "FAILED", attempts: 2, lastStatusCode: 503, lastError: "answered 503" })]);

    // Enabled again, then deleted while a delivery waits for its retry: the delivery is CANCELED.
    const enabled = await gw.gql(`mutation($input: UpdateWebhookInput!) { updateWebhook(input: $input) { enabled eventTypes } }`, { input: { sid: disabled.sid, enabled: true, eventTypes: ["delivery.*"] } });
    expect(enabled.data?.updateWebhook).toEqual({ enabled: true, eventTypes: ["delivery.*"] });
    await gw.gql(`mutation($input: UpdateWebhookInput!) { updateWebhook(input: $input) { sid } }`, { input: { sid: failing.sid, eventTypes: ["verification.*"] } });
    await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to: "+14155551003", channel: "SMS" } });
    await gw.app.dispatcher.idle();
    expect(quiet.requests.map((r) => r.json.type)).toEqual(["delivery.sent"]);
    expect(down.requests).toHaveLength(3);
    const deleted = await gw.gql(`mutation($sid: ID!) { deleteWebhook(sid: $sid) { sid } }`, { sid: failing.sid });
    expect(deleted.data?.deleteWebhook.sid).toBe(failing.sid);
    clock.advance(10_000);
    await gw.app.dispatcher.idle();
    expect(down.requests).toHaveLength(3);
    // A deleted webhook's history goes with it from the API; in the store its waiting delivery is CANCELED.
    expect((await gw.gql(DELIVERIES, { w: failing.sid })).data?.webhookDeliveries.nodes).toEqual([]);
    const rows = await gw.sql<{ status: string }>("select status from webhook_deliveries where webhook_sid = ? order by seq", [failing.sid]);
    expect(rows.map((r) => r.status)).toEqual(["FAILED", "CANCELED"]);
    const list = await gw.gql(`query($s: ID!) { webhooks(serviceSid: $s) { nodes { sid } pageInfo { hasNextPage } } }`, { s: gw.defaultServiceSid });
    expect(list.data?.webhooks).toEqual({ nodes: [{ sid: disabled.sid }], pageInfo: { hasNextPage: false } });
  });

  it("bad input is refused with the field named and nothing written; other services' keys see nothing", async () => {
    gw = await startGateway();
    const bad = [
      ["url", { url: "ftp://example.com/hook", eventTypes: ["verification.*"] }],
      ["url", { url: "https://user:pass@example.com/hook", eventTypes: ["verification.*"] }],
      ["url", { url: "not a url", eventTypes: ["verification.*"] }],
      ["eventTypes", { url: "https://example.com/hook", eventTypes: [] }],
      ["eventTypes.0", { url: "https://example.com/hook", eventTypes: ["billing.*"] }],
      ["eventTypes.1", { url: "https://example.com/hook", eventTypes: ["verification.*", "verification."] }],
    ] as const;
    for (const [field, input] of bad) {
      const before = await gw.counts();
      const r = await gw.gql(CREATE, { input: { serviceSid: gw.defaultServiceSid, ...input } });
      expect(r.errors?.[0]?.extensions).toMatchObject({ code: "INVALID_PARAMETER", field });
      expect(await gw.counts()).toEqual(before);
    }
    const created = await gw.gql(CREATE, { input: { serviceSid: gw.defaultServiceSid, url: "https://example.com/hook", eventTypes: ["factor.*", "challenge.*"] } });
    const hookSid = created.data!.createWebhook.webhook.sid;
    const other = await gw.gql(`mutation { createService(input: { friendlyName: "Other" }) { sid } }`);
    const key = (await gw.gql(`mutation($s: ID!) { createApiKey(input: { serviceSid: $s }) { key } }`, { s: other.data!.createService.sid })).data!.createApiKey.key;
    expect((await gw.gql(`query($s: ID!) { webhooks(serviceSid: $s) { nodes { sid } } }`, { s: gw.defaultServiceSid }, key)).data?.webhooks.nodes).toEqual([]);
    expect((await gw.gql(DELIVERIES, { w: hookSid }, key)).data?.webhookDeliveries.nodes).toEqual([]);
    expect(errorCode(await gw.gql(`mutation($sid: ID!) { deleteWebhook(sid: $sid) { sid } }`, { sid: hookSid }, key))).toBe("NOT_FOUND");
    expect(errorCode(await gw.gql(`mutation($input: UpdateWebhookInput!) { updateWebhook(input: $input) { sid } }`, { input: { sid: hookSid, enabled: false } }, key))).toBe("NOT_FOUND");
    expect(errorCode(await gw.gql(CREATE, { input: { serviceSid: gw.defaultServiceSid, url: "https://example.com/x", eventTypes: ["*"] } }, key))).toBe("NOT_FOUND");
  });

  it("webhooks is a Relay connection: pages of `first` after a cursor, oldest first", async () => {
    gw = await startGateway();
    const sids: string[] = [];
    for (const path of ["a", "b", "c"]) {
      sids.push((await gw.gql(CREATE, { input: { serviceSid: gw.defaultServiceSid, url: `https://example.com/${path}`, eventTypes: ["*"] } })).data!.createWebhook.webhook.sid);
    }
    const PAGE = `query($s: ID!, $first: Int, $after: String) { webhooks(serviceSid: $s, first: $first, after: $after) { edges { cursor node { sid } } nodes { sid } pageInfo { hasNextPage endCursor } } }`;
    const first = (await gw.gql(PAGE, { s: gw.defaultServiceSid, first: 2 })).data?.webhooks;
    expect(first.nodes).toEqual([{ sid: sids[0] }, { sid: sids[1] }]);
    expect(first.pageInfo).toEqual({ hasNextPage: true, endCursor: first.edges[1].cursor });
    const second = (await gw.gql(PAGE, { s: gw.defaultServiceSid, first: 2, after: first.pageInfo.endCursor })).data?.webhooks;
    expect(second.nodes).toEqual([{ sid: sids[2] }]);
    expect(second.pageInfo.hasNextPage).toBe(false);
    expect((await gw.gql(PAGE, { s: gw.defaultServiceSid })).data?.webhooks.nodes).toHaveLength(3);
    expect((await gw.gql(PAGE, { s: gw.defaultServiceSid, first: 101 })).errors?.[0]?.extensions).toMatchObject({ code: "INVALID_PARAMETER", field: "first" });
    expect((await gw.gql(PAGE, { s: gw.defaultServiceSid, after: "nope" })).errors?.[0]?.extensions).toMatchObject({ code: "INVALID_PARAMETER", field: "after" });
  });
});
