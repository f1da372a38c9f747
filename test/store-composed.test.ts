import { afterEach, describe, expect, it } from "vitest";
import { newSid } from "../src/domain/ids.js";
import type { StartPlan } from "../src/store/port.js";
import { ServiceCache } from "../src/store/shared/store.js";
import { type TestGateway, startGateway } from "./support/gateway.js";

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

function plan(serviceSid: string): StartPlan {
  const now = Date.now();
  return {
    serviceSid,
    to: "+14155550199",
    channel: "SMS",
    attemptChannel: "SMS",
    attemptSid: newSid("VL"),
    now,
    sendWindowStart: now - 600_000,
    maxSendAttempts: 5,
    sna: null,
    resends: () => false,
    fresh: {
      sid: newSid("VE"),
      codeHash: "k:hash",
      codeSealed: "sealed",
      codeLength: 6,
      maxCheckAttempts: 5,
      amount: "€12.00",
      payee: "Acme",
      locale: "fr",
      customFriendlyName: "Shop",
      lookup: { carrier: { name: "Test", type: "mobile" } } as never,
      tags: { order: 7 },
      expiresAt: now + 600_000,
      country: "US",
      prefix: "+1415555",
      testMode: false,
    },
  };
}

describe("what a write answers is what it wrote", () => {
  // A start reads nothing back (it composes the verification from what it writes), and a delivery
  // composes the new version from the row it locked: both must answer, and publish, what a read finds.
  it("a start's and a delivery's verification and event data equal the rows read afterwards", async () => {
    gw = await startGateway();
    const { store } = gw.app;
    const first = plan(gw.defaultServiceSid);
    const started = await store.startVerification(first);
    expect(started.ok).toBe(true);
    if (!started.ok) return;
    expect(started.verification).toEqual(await store.getVerification(first.fresh.sid));
    expect(started.events[0].data).toEqual(started.verification);

    // A second start for the same recipient cancels the first (it does not resend: PSD2 differs).
    const second = { ...plan(gw.defaultServiceSid), fresh: { ...plan(gw.defaultServiceSid).fresh, amount: "€13.00" } };
    const again = await store.startVerification(second);
    expect(again.ok && again.events.map((e) => e.type)).toEqual(["verification.canceled", "verification.started"]);
    if (!again.ok) return;
    expect(again.verification).toEqual(await store.getVerification(second.fresh.sid));
    expect(again.events[1].data).toEqual(again.verification);

    // A start through the API is delivered by the dispatcher (dev outbox): the delivery's event
    // carries the verification as a read finds it.
    const answer = await gw.gql<{ startVerification: { verification: { sid: string } } }>(
      "mutation($i: StartVerificationInput!) { startVerification(input: $i) { verification { sid } } }",
      { i: { serviceSid: gw.defaultServiceSid, to: "+14155550177", channel: "SMS" } },
    );
    const sid = answer.data!.startVerification.verification.sid;
    let current = await store.getVerification(sid);
    for (let i = 0; i < 100 && current?.sendCodeAttempts[0].status === "QUEUED"; i++) {
      await new Promise((r) => setTimeout(r, 50));
      current = await store.getVerification(sid);
    }
    expect(current?.sendCodeAttempts[0].status).not.toBe("QUEUED");
    expect(current?.version).toBe(2);
    const events = await store.listEvents(sid);
    expect(events[0].data).toEqual({ ...current, version: 1, dateUpdated: events[0].occurredAt, sendCodeAttempts: [{ ...current!.sendCodeAttempts[0], status: "QUEUED", providerMessageId: null }] });
    expect(events.at(-1)?.data).toEqual(current);
  });
});

describe("the service cache", () => {
  it("a service changed elsewhere is read again once its service.updated event is heard", async () => {
    gw = await startGateway();
    const { store } = gw.app;
    const sid = gw.defaultServiceSid;
    const before = await store.getService(sid);
    // Another instance changes it (its event would come over Redis): this one still has its copy…
    await gw.sql("update services set friendly_name = ? where sid = ?", ["Changed elsewhere", sid]);
    expect((await store.getService(sid))?.friendlyName).toBe(before?.friendlyName);
    // …until the event is heard.
    store.heard([{ sid: "EV1", type: "service.updated", serviceSid: sid, resourceSid: sid, occurredAt: Date.now(), data: {} }]);
    expect((await store.getService(sid))?.friendlyName).toBe("Changed elsewhere");
  });

  it("a read that began before a change does not put its older copy back; entries expire", async () => {
    const cache = new ServiceCache(50);
    const service = { sid: "VA1" } as never;
    const generation = cache.generation;
    cache.forget("VA1"); // a change lands while the read is in flight
    cache.set("VA1", service, generation);
    expect(cache.get("VA1")).toBeUndefined();
    cache.set("VA1", service, cache.generation);
    expect(cache.get("VA1")).toBe(service);
    await new Promise((r) => setTimeout(r, 60));
    expect(cache.get("VA1")).toBeUndefined();
  });
});
