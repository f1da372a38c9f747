import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestGateway, startGateway, subscribeWs } from "./support/gateway.js";

// serviceEvents(replay: n): the service's latest n events first (oldest first), then the live ones,
// each event once: the console's live traffic opens with them instead of an empty table.
let gw: TestGateway;
const START = `mutation($input: StartVerificationInput!) { startVerification(input: $input) { verification { sid } } }`;
const FOLLOW = `subscription($s: ID!, $n: Int) { serviceEvents(serviceSid: $s, replay: $n) { id type resourceSid } }`;
let phone = 0;
const start = async () => {
  const r = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to: `+1415555${String(3000 + phone++)}`, channel: "SMS" } });
  expect(r.errors).toBeUndefined();
};
const logged = async () => (await gw.sql<{ sid: string }>("select sid from events where service_sid = ? order by seq", [gw.defaultServiceSid])).map((r) => r.sid);
type Seen = { serviceEvents: { id: string } };

beforeAll(async () => {
  gw = await startGateway();
});
afterAll(() => gw?.close());

describe("serviceEvents with replay", () => {
  it("sends the latest events first, oldest first, then the live ones", async () => {
    for (let i = 0; i < 3; i++) await start();
    await gw.app.dispatcher.idle();
    const before = await logged();
    expect(before.length).toBeGreaterThan(4);
    const stream = subscribeWs<Seen>(gw.wsClient(), FOLLOW, { s: gw.defaultServiceSid, n: 4 });
    await stream.waitFor(4);
    expect(stream.values.map((v) => v.serviceEvents.id)).toEqual(before.slice(-4));
    await start();
    await gw.app.dispatcher.idle();
    const after = await logged();
    await stream.waitFor(4 + after.length - before.length);
    expect(stream.values.map((v) => v.serviceEvents.id)).toEqual([...before.slice(-4), ...after.slice(before.length)]);
    expect(stream.errors).toEqual([]);
  });

  it("misses and repeats nothing when it opens in the middle of traffic", async () => {
    const first = await logged();
    const busy = Promise.all(Array.from({ length: 12 }, () => start()));
    await new Promise((r) => setTimeout(r, 5));
    const stream = subscribeWs<Seen>(gw.wsClient(), FOLLOW, { s: gw.defaultServiceSid, n: 500 });
    await busy;
    await gw.app.dispatcher.idle();
    const all = await logged();
    await stream.waitFor(all.length);
    await new Promise((r) => setTimeout(r, 200)); // nothing more (no repeats) arrives
    const ids = stream.values.map((v) => v.serviceEvents.id);
    expect(new Set(ids).size).toBe(ids.length);
    // Live events arrive in the order they were published, which two commits may swap: compared as sets.
    expect([...ids].sort()).toEqual([...all].sort());
    expect(all.length).toBeGreaterThan(first.length);
    expect(stream.errors).toEqual([]);
  });

  it("refuses a replay outside 0–500 with INVALID_PARAMETER", async () => {
    for (const n of [-1, 501]) {
      const stream = subscribeWs(gw.wsClient(), FOLLOW, { s: gw.defaultServiceSid, n });
      await stream.done;
      expect(stream.errors[0]).toMatchObject({ extensions: { code: "INVALID_PARAMETER", field: "replay" } });
    }
  });
});
