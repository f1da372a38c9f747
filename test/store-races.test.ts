import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeviceClient } from "../src/client/device/kit.js";
import { newSid } from "../src/domain/ids.js";
import { type TestGateway, startGateway } from "./support/gateway.js";

// Writes that race with another writer on the same rows, played through the store itself (no courier
// on this instance: the test is the courier), on each store.
let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway({ env: { OUTBOX_RUNNER: "off" } });
});
afterAll(() => gw?.close());

describe("races between writers", () => {
  it("a retry written after the delivery was canceled (its webhook deleted mid-POST) leaves it CANCELED, with no job", async () => {
    const hook = await gw.gql(`mutation($s: ID!) { createWebhook(input: { serviceSid: $s, url: "http://127.0.0.1:9/hook", eventTypes: ["verification.approved"] }) { webhook { sid } } }`, {
      s: gw.defaultServiceSid,
    });
    const webhookSid = hook.data?.createWebhook.webhook.sid as string;
    const tested = await gw.gql(`mutation($sid: ID!) { testWebhook(sid: $sid) { id } }`, { sid: webhookSid });
    expect(tested.errors).toBeUndefined();
    const [delivery] = await gw.sql<{ seq: number; job: number }>(
      "select d.seq, o.id as job from webhook_deliveries d join outbox o on o.kind = 'webhook' and o.ref_sid = cast(d.seq as text) where d.webhook_sid = ?",
      [webhookSid],
    );
    // The courier has POSTed (the receiver answered 500) when the webhook is deleted…
    expect((await gw.gql(`mutation($sid: ID!) { deleteWebhook(sid: $sid) { sid } }`, { sid: webhookSid })).errors).toBeUndefined();
    // …and then writes its retry.
    const now = Date.now();
    await gw.app.store.recordWebhookAttempt({ jobId: Number(delivery.job), deliveryId: Number(delivery.seq), outcome: "RETRY", statusCode: 500, error: "answered 500", runAt: now + 1000, now });
    const [row] = await gw.sql<{ status: string }>("select status from webhook_deliveries where seq = ?", [delivery.seq]);
    expect(row.status).toBe("CANCELED");
    expect(await gw.sql("select id from outbox where id = ?", [delivery.job])).toEqual([]);
  });

  it("parallel requests to notify a push challenge again queue one notice", async () => {
    const access = await gw.gql(`mutation($input: CreateAccessTokenInput!) { createAccessToken(input: $input) { token } }`, {
      input: { serviceSid: gw.defaultServiceSid, identity: "racer", factorType: "PUSH", ttlSeconds: 120 },
    });
    const device = await DeviceClient.enroll({ url: gw.url, token: access.data!.createAccessToken.token, serviceSid: gw.defaultServiceSid, identity: "racer", friendlyName: "phone" });
    const created = await gw.gql(`mutation($input: CreateChallengeInput!) { createChallenge(input: $input) { challenge { sid } } }`, {
      input: { serviceSid: gw.defaultServiceSid, factorSid: device.factorSid, details: { message: "Sign in?" } },
    });
    expect(created.errors).toBeUndefined();
    const sid = created.data!.createChallenge.challenge.sid as string;
    await gw.sql("delete from outbox where ref_sid = ?", [sid]);
    const now = Date.now();
    const queued = await Promise.all(Array.from({ length: 12 }, () => gw.app.store.queueChallengeNotice(sid, now)));
    expect(queued.filter(Boolean)).toHaveLength(1);
    const jobs = await gw.sql<{ n: number }>("select count(*) as n from outbox where kind = 'push_notify' and ref_sid = ?", [sid]);
    expect(Number(jobs[0].n)).toBe(1);
  });
  it("a factor whose entity was deleted after it was ensured is not written (no factor outlives its entity)", async () => {
    const store = gw.app.store;
    const now = Date.now();
    const entity = await store.ensureEntity({ sid: newSid("YE"), serviceSid: gw.defaultServiceSid, identity: "gone-midway", userHandle: "handle-gone-midway" }, now);
    expect(await store.deleteEntity(gw.defaultServiceSid, "gone-midway", now)).toBe(true);
    const created = await store.createFactor({
      sid: newSid("YF"),
      serviceSid: gw.defaultServiceSid,
      entitySid: entity.sid,
      identity: "gone-midway",
      factorType: "TOTP",
      status: "UNVERIFIED",
      friendlyName: "late",
      dateCreated: now,
      dateUpdated: now,
      pendingChallenge: null,
      publicKey: null,
      config: null,
      secretSealed: null,
      metadata: null,
    });
    expect(created).toBeNull();
    expect(await gw.sql("select sid from factors where identity = ?", ["gone-midway"])).toEqual([]);
  });
});
