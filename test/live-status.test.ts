import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../src/domain/clock.js";
import { ADMIN_KEY, CHECK, START, type TestGateway, startAndReadCode, startGateway, subscribeSse, subscribeWs } from "./support/gateway.js";

const UPDATED = /* GraphQL */ `
  subscription Updated($sid: ID!) { verificationUpdated(sid: $sid) { sid status valid sendCodeAttempts { status } } }
`;
const SERVICE_EVENTS = /* GraphQL */ `
  subscription Events($serviceSid: ID!) { serviceEvents(serviceSid: $serviceSid) { id type resourceSid serviceSid occurredAt data } }
`;

let gw: TestGateway;
afterEach(async () => gw?.close());

const until = async (predicate: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe("live status", () => {
  it("start → check → APPROVED is seen by a graphql-ws subscriber and an SSE subscriber, and both streams complete", async () => {
    gw = await startGateway();
    const { sid, code } = await startAndReadCode(gw, { to: "+14155552671" });

    const ws = subscribeWs(gw.wsClient(), UPDATED, { sid });
    const sse = await subscribeSse(gw.url, UPDATED, { sid }, ADMIN_KEY);
    expect(sse.response.headers.get("content-type")).toContain("text/event-stream");
    await ws.waitFor(1);
    await sse.waitFor(() => sse.events.length >= 1);
    // Current state first.
    expect(ws.values[0].verificationUpdated).toMatchObject({ sid, status: "PENDING" });
    expect(sse.events[0].data.data.verificationUpdated).toMatchObject({ sid, status: "PENDING" });
    await until(() => gw.app.bus.listeners === 2);

    const checked = await gw.gql(CHECK, { input: { serviceSid: gw.defaultServiceSid, verificationSid: sid, code } });
    expect(checked.data?.checkVerification.verification).toMatchObject({ status: "APPROVED", valid: true });

    await ws.done;
    await sse.done;
    expect(ws.errors).toEqual([]);
    expect(ws.values.at(-1)?.verificationUpdated).toMatchObject({ status: "APPROVED", valid: true });
    const nexts = sse.events.filter((e) => e.event === "next");
    expect(nexts.at(-1)?.data.data.verificationUpdated).toMatchObject({ status: "APPROVED", valid: true });
    expect(sse.events.at(-1)?.event).toBe("complete");
    // No listener left behind once the final state completed the streams.
    await until(() => gw.app.bus.listeners === 0);
  });

  it("a final verification sends its state once and completes at once", async () => {
    gw = await startGateway();
    const { sid, code } = await startAndReadCode(gw, { to: "+14155552672" });
    await gw.gql(CHECK, { input: { serviceSid: gw.defaultServiceSid, verificationSid: sid, code } });
    const ws = subscribeWs(gw.wsClient(), UPDATED, { sid });
    await ws.done;
    expect(ws.values.map((v) => v.verificationUpdated.status)).toEqual(["APPROVED"]);
    expect(gw.app.bus.listeners).toBe(0);
  });

  it("subscribers that go away leave no listener behind", async () => {
    gw = await startGateway();
    const { sid } = await startAndReadCode(gw, { to: "+14155552673" });
    const clients = Array.from({ length: 5 }, () => gw.wsClient());
    const subs = clients.map((c) => subscribeWs(c, UPDATED, { sid }));
    await Promise.all(subs.map((s) => s.waitFor(1)));
    const sse = await subscribeSse(gw.url, UPDATED, { sid }, ADMIN_KEY);
    await sse.waitFor(() => sse.events.length >= 1);
    expect(gw.app.bus.listeners).toBe(6);
    await Promise.all(clients.map((c) => c.dispose()));
    sse.close();
    await until(() => gw.app.bus.listeners === 0);
  });

  it("every state change reaches the subscriber: resend and delivery are seen before approval", async () => {
    gw = await startGateway();
    const { sid, code } = await startAndReadCode(gw, { to: "+14155552674" });
    const ws = subscribeWs(gw.wsClient(), UPDATED, { sid });
    await ws.waitFor(1);
    await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to: "+14155552674", channel: "CALL" } });
    await gw.app.dispatcher.idle();
    await gw.gql(CHECK, { input: { serviceSid: gw.defaultServiceSid, to: "+14155552674", code } });
    await ws.done;
    const states = ws.values.map((v) => v.verificationUpdated);
    expect(states[0].sendCodeAttempts).toHaveLength(1);
    expect(states.some((s) => s.sendCodeAttempts.length === 2 && s.sendCodeAttempts[1].status === "SENT")).toBe(true);
    expect(states.at(-1)).toMatchObject({ status: "APPROVED" });
    // Versions only grow: no state is repeated.
    expect(new Set(states.map((s) => JSON.stringify(s))).size).toBe(states.length);
  });

  it("the sweeper expires a verification on an injected clock and subscribers see EXPIRED without anyone asking", async () => {
    const clock = new ManualClock(Date.now());
    gw = await startGateway({ clock });
    const { sid, code } = await startAndReadCode(gw, { to: "+14155552675" });
    const ws = subscribeWs(gw.wsClient(), UPDATED, { sid });
    await ws.waitFor(1);
    clock.advance(599_000);
    await gw.app.sweeper.sweep();
    expect(ws.values).toHaveLength(1);
    clock.advance(1_000);
    // No sweep() call here: the sweeper's own timer finds it.
    await ws.done;
    expect(ws.values.at(-1)?.verificationUpdated.status).toBe("EXPIRED");
    const late = await gw.gql(CHECK, { input: { serviceSid: gw.defaultServiceSid, verificationSid: sid, code } });
    expect(late.errors?.[0].extensions).toMatchObject({ code: "VERIFICATION_EXPIRED", twilioCode: 20404 });
  });

  it("a check after expiry but before any sweep answers VERIFICATION_EXPIRED and records the expiry", async () => {
    const clock = new ManualClock(Date.now());
    gw = await startGateway({ clock, env: { SWEEP_INTERVAL_MS: "3600000" } });
    const { sid, code } = await startAndReadCode(gw, { to: "+14155552676" });
    clock.advance(600_001);
    const late = await gw.gql(CHECK, { input: { serviceSid: gw.defaultServiceSid, verificationSid: sid, code } });
    expect(late.errors?.[0].extensions?.code).toBe("VERIFICATION_EXPIRED");
    const read = await gw.gql(`query($sid: ID!) { verification(sid: $sid) { status } }`, { sid });
    expect(read.data?.verification.status).toBe("EXPIRED");
  });

  it("serviceEvents streams every domain event of the service over graphql-ws", async () => {
    gw = await startGateway();
    const events = subscribeWs(gw.wsClient(), SERVICE_EVENTS, { serviceSid: gw.defaultServiceSid });
    await until(() => gw.app.bus.listeners === 1);
    const { sid, code } = await startAndReadCode(gw, { to: "+14155552677" });
    await gw.gql(CHECK, { input: { serviceSid: gw.defaultServiceSid, verificationSid: sid, code: code === "000000" ? "111111" : "000000" } });
    await gw.gql(CHECK, { input: { serviceSid: gw.defaultServiceSid, verificationSid: sid, code } });
    await events.waitFor(4);
    const types = events.values.map((v) => v.serviceEvents.type);
    expect(types).toEqual(["verification.started", "delivery.sent", "verification.check_failed", "verification.approved"]);
    const approved = events.values[3].serviceEvents;
    expect(approved).toMatchObject({ resourceSid: sid, serviceSid: gw.defaultServiceSid, data: { status: "APPROVED" } });
    expect(approved.id).toMatch(/^EV[0-9a-f]{32}$/);
  });

  it("serviceEvents also streams over SSE, and a service key of another service cannot listen", async () => {
    gw = await startGateway();
    const sse = await subscribeSse(gw.url, SERVICE_EVENTS, { serviceSid: gw.defaultServiceSid }, ADMIN_KEY);
    await until(() => gw.app.bus.listeners === 1);
    const { sid } = await startAndReadCode(gw, { to: "+14155552679" });
    await sse.waitFor(() => sse.events.filter((e) => e.event === "next").length >= 2);
    const types = sse.events.filter((e) => e.event === "next").map((e) => e.data.data.serviceEvents.type);
    expect(types).toEqual(["verification.started", "delivery.sent"]);
    expect(sse.events[0].data.data.serviceEvents.resourceSid).toBe(sid);
    sse.close();
    await until(() => gw.app.bus.listeners === 0);

    const other = await gw.gql(`mutation { createService(input: { friendlyName: "Other" }) { sid } }`);
    const key = await gw.gql(`mutation($s: ID!) { createApiKey(input: { serviceSid: $s }) { key } }`, { s: other.data?.createService.sid });
    const refused = subscribeWs(gw.wsClient(key.data?.createApiKey.key), SERVICE_EVENTS, { serviceSid: gw.defaultServiceSid });
    await refused.done;
    expect(JSON.stringify(refused.errors)).toContain("NOT_FOUND");
    expect(gw.app.bus.listeners).toBe(0);
  });

  it("events are stored with the change that made them", async () => {
    gw = await startGateway();
    const { sid, code } = await startAndReadCode(gw, { to: "+14155552678" });
    await gw.gql(CHECK, { input: { serviceSid: gw.defaultServiceSid, verificationSid: sid, code } });
    const stored = await gw.app.store.listEvents(sid);
    expect(stored.map((e) => e.type)).toEqual(["verification.started", "delivery.sent", "verification.approved"]);
    expect(stored[2].data).toMatchObject({ sid, status: "APPROVED" });
  });
});
