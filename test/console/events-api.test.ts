import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY, CHECK, type TestGateway, errorCode, startAndReadCode, startGateway } from "../support/gateway.js";

let gw: TestGateway;

beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.close();
});

const EVENTS = /* GraphQL */ `
  query Events($r: ID!, $first: Int, $after: String) {
    events(resourceSid: $r, first: $first, after: $after) {
      nodes { id type serviceSid resourceSid occurredAt data }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

async function serviceWithKey(name: string) {
  const s = await gw.gql(`mutation($n: String!) { createService(input: { friendlyName: $n }) { sid } }`, { n: name });
  const sid = s.data!.createService.sid as string;
  const k = await gw.gql(`mutation($s: ID!) { createApiKey(input: { serviceSid: $s, name: "console" }) { key } }`, { s: sid });
  return { sid, key: k.data!.createApiKey.key as string };
}

describe("events(resourceSid): a resource's history over GraphQL", () => {
  it("tells a verification's life oldest first, paged, without its code", async () => {
    const own = await serviceWithKey("Events own");
    const { sid, code, clientToken } = await startAndReadCode(gw, { serviceSid: own.sid, to: "+14155550101" }, own.key);
    const wrong = code === "000000" ? "111111" : "000000";
    await gw.gql(CHECK, { input: { serviceSid: own.sid, verificationSid: sid, code: wrong } }, own.key);
    await gw.gql(CHECK, { input: { serviceSid: own.sid, verificationSid: sid, code } }, own.key);

    const all = await gw.gql(EVENTS, { r: sid, first: 100 }, own.key);
    expect(all.errors).toBeUndefined();
    const nodes = all.data!.events.nodes as { id: string; type: string; serviceSid: string; resourceSid: string; data: Record<string, unknown> }[];
    const types = nodes.map((e) => e.type);
    expect(types[0]).toBe("verification.started");
    expect(types).toContain("delivery.sent");
    expect(types.indexOf("verification.check_failed")).toBeGreaterThan(types.indexOf("verification.started"));
    expect(types.at(-1)).toBe("verification.approved");
    for (const e of nodes) {
      expect(e.serviceSid).toBe(own.sid);
      expect(e.resourceSid).toBe(sid);
      expect(e.id).toMatch(/^EV/);
    }
    expect(JSON.stringify(nodes)).not.toContain(code);
    expect(all.data!.events.pageInfo.hasNextPage).toBe(false);

    // Two at a time, the pages join up to the whole history.
    const paged: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 20; i++) {
      const page: any = await gw.gql(EVENTS, { r: sid, first: 2, after }, own.key);
      paged.push(...page.data.events.nodes.map((e: { id: string }) => e.id));
      if (!page.data.events.pageInfo.hasNextPage) break;
      after = page.data.events.pageInfo.endCursor;
    }
    expect(paged).toEqual(nodes.map((e) => e.id));

    // The admin sees the same; another service's key sees an empty page; the client token is refused.
    expect((await gw.gql(EVENTS, { r: sid }, ADMIN_KEY)).data!.events.nodes).toHaveLength(nodes.length);
    const other = await serviceWithKey("Events other");
    expect((await gw.gql(EVENTS, { r: sid }, other.key)).data!.events.nodes).toEqual([]);
    expect(errorCode(await gw.gql(EVENTS, { r: sid }, clientToken))).toBe("FORBIDDEN");
    expect(errorCode(await gw.gql(EVENTS, { r: sid }, null))).toBe("UNAUTHENTICATED");
  });

  it("answers INVALID_PARAMETER for a bad page size or cursor, and an empty page for an unknown sid", async () => {
    expect(errorCode(await gw.gql(EVENTS, { r: gw.defaultServiceSid, first: 0 }))).toBe("INVALID_PARAMETER");
    expect(errorCode(await gw.gql(EVENTS, { r: gw.defaultServiceSid, after: "nope" }))).toBe("INVALID_PARAMETER");
    expect((await gw.gql(EVENTS, { r: `VE${"0".repeat(32)}` })).data!.events).toEqual({ nodes: [], pageInfo: { hasNextPage: false, endCursor: null } });
  });
});
