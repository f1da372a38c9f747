import { afterEach, describe, expect, it } from "vitest";
import { verifyWebhook } from "../../src/client/webhooks.js";
import { ManualClock } from "../../src/domain/clock.js";
import { type TestGateway, errorCode, startGateway } from "../support/gateway.js";
import { httpPeers } from "../support/peers.js";

// testWebhook and retryWebhookDelivery over GraphQL (what the console's Webhooks tab calls), with a real
// receiver on port 0 (WEBHOOK_PRIVATE_NETWORKS is "allow" outside production, so loopback is reachable).
let gw: TestGateway | undefined;
const peers = httpPeers();
afterEach(async () => {
  await gw?.close();
  await peers.closeAll();
  gw = undefined;
});

const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { secret webhook { sid } } }`;
const TEST = `mutation($sid: ID!) { testWebhook(sid: $sid) { id webhookSid eventSid eventType status attempts } }`;
const RETRY = `mutation($id: ID!) { retryWebhookDelivery(id: $id) { id eventSid status attempts lastStatusCode } }`;
const DELIVERIES = `query($w: ID!) { webhookDeliveries(webhookSid: $w) { nodes { id eventSid eventType status attempts lastStatusCode lastError deliveredAt } } }`;
const KEY = `mutation($s: ID!) { createApiKey(input: { serviceSid: $s, name: "console" }) { key } }`;
const SERVICE = `mutation { createService(input: { friendlyName: "Other" }) { sid } }`;

describe("webhook test-send and retry (GraphQL)", () => {
  it("testWebhook sends a signed webhook.test to that one webhook; a FAILED delivery is retried with the same event; scope and status are enforced", async () => {
    const clock = new ManualClock(Date.now());
    gw = await startGateway({ clock, env: { WEBHOOK_MAX_TRIES: "1" } });
    const service = gw.defaultServiceSid;
    // The receiver refuses its first request, then accepts everything.
    const hook = await peers.start((_r, i) => ({ status: i === 0 ? 500 : 200 }));
    const bystander = await peers.start(() => ({ status: 200 }));
    const created = (await gw.gql(CREATE, { input: { serviceSid: service, url: `${hook.url}/in`, eventTypes: ["verification.approved"] } })).data!.createWebhook;
    await gw.gql(CREATE, { input: { serviceSid: service, url: bystander.url, eventTypes: ["*"] } });

    const queued = await gw.gql(TEST, { sid: created.webhook.sid });
    expect(queued.errors).toBeUndefined();
    const delivery = queued.data!.testWebhook;
    expect(delivery).toMatchObject({ id: expect.stringMatching(/^\d+$/), webhookSid: created.webhook.sid, eventType: "webhook.test", status: "PENDING", attempts: 0 });
    await gw.app.dispatcher.idle();
    // Only this webhook got it (the "*" bystander did not), signed with its secret.
    expect(hook.requests).toHaveLength(1);
    expect(bystander.requests.map((r) => r.json.type)).not.toContain("webhook.test");
    const event = verifyWebhook(created.secret, hook.requests[0].body, hook.requests[0].headers);
    expect(event).toMatchObject({ type: "webhook.test", serviceSid: service, resourceSid: created.webhook.sid, data: { sid: created.webhook.sid, test: true } });
    let history = (await gw.gql(DELIVERIES, { w: created.webhook.sid })).data!.webhookDeliveries.nodes;
    expect(history).toEqual([expect.objectContaining({ id: delivery.id, eventSid: delivery.eventSid, status: "FAILED", attempts: 1, lastStatusCode: 500, lastError: "answered 500" })]);

    // A service key of another service: the webhook and the delivery do not exist for it.
    const other = (await gw.gql(SERVICE)).data!.createService.sid;
    const otherKey = (await gw.gql(KEY, { s: other })).data!.createApiKey.key;
    expect(errorCode(await gw.gql(TEST, { sid: created.webhook.sid }, otherKey))).toBe("NOT_FOUND");
    expect(errorCode(await gw.gql(RETRY, { id: delivery.id }, otherKey))).toBe("NOT_FOUND");
    expect(errorCode(await gw.gql(RETRY, { id: "999999" }))).toBe("NOT_FOUND");
    expect(errorCode(await gw.gql(RETRY, { id: "not-a-delivery" }))).toBe("NOT_FOUND");

    // Its own service's key retries it: PENDING again, then delivered with the same webhook-id.
    const ownKey = (await gw.gql(KEY, { s: service })).data!.createApiKey.key;
    const retried = await gw.gql(RETRY, { id: delivery.id }, ownKey);
    expect(retried.errors).toBeUndefined();
    expect(retried.data!.retryWebhookDelivery).toMatchObject({ id: delivery.id, eventSid: delivery.eventSid, status: "PENDING", attempts: 1 });
    await gw.app.dispatcher.idle();
    expect(hook.requests).toHaveLength(2);
    expect(hook.requests[1].headers["webhook-id"]).toBe(hook.requests[0].headers["webhook-id"]);
    history = (await gw.gql(DELIVERIES, { w: created.webhook.sid })).data!.webhookDeliveries.nodes;
    expect(history).toEqual([expect.objectContaining({ id: delivery.id, status: "DELIVERED", attempts: 2, lastStatusCode: 200, lastError: null, deliveredAt: expect.any(String) })]);

    // Only a FAILED delivery can be retried.
    const again = await gw.gql(RETRY, { id: delivery.id });
    expect(errorCode(again)).toBe("INVALID_PARAMETER");
    expect(again.errors?.[0].extensions?.field).toBe("id");
    expect(again.errors?.[0].message).toMatch(/only a FAILED delivery can be retried; this one is DELIVERED/);

    // A disabled webhook is not test-sent.
    await gw.gql(`mutation($sid: ID!) { updateWebhook(input: { sid: $sid, enabled: false }) { sid } }`, { sid: created.webhook.sid });
    const disabled = await gw.gql(TEST, { sid: created.webhook.sid });
    expect(errorCode(disabled)).toBe("INVALID_PARAMETER");
    expect(disabled.errors?.[0].extensions?.field).toBe("sid");
    expect(errorCode(await gw.gql(TEST, { sid: "WH00000000000000000000000000000000" }))).toBe("NOT_FOUND");
  });
});
