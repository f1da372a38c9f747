import { serverAudits } from "graphql-http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestGateway, startGateway } from "./support/gateway.js";

// graphql-http's GraphQL-over-HTTP audit against the running gateway: every audit passes, MUST, SHOULD and MAY.
let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => gw.close());

describe("GraphQL over HTTP (graphql-http's server audit)", () => {
  it("passes every audit", async () => {
    const audits = serverAudits({ url: `${gw.url}/graphql` });
    expect(audits.length).toBe(61);
    const failed: string[] = [];
    for (const audit of audits) {
      const result = await audit.fn();
      if (result.status !== "ok") failed.push(`${result.name} (${result.status}): ${result.reason}`);
    }
    expect(failed).toEqual([]);
  });
});
